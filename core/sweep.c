/* sweep.c -- the trial tracker (sweep.h): a subscriber to the run's
 * events that keeps each sweep's counts, running trials, durations and
 * best point, prunes trials by the sweep's rule (prune.c), and closes a
 * sweep once its target is reached or after max_failures consecutive
 * failures.  One lock over it all: trials report a few values a second
 * at most, and the decisions need the whole sweep's table at once. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "best.h"
#include "prune.h"
#include "sweep.h"

typedef struct trial_state {
	const run_result *res;    /* once final (valid until run_free()) */
	int64_t started_ns;
	int64_t step;             /* the objective's latest, -1: none */
	double value;
	bool running, final, pruning;
} trial_state;

/* The repeats of one point: the mean and spread of their objective
 * (Welford's), and the best of them. */
typedef struct point_state {
	unsigned n;
	double mean, m2;
	uint32_t best;            /* its best repeat's node, or PLAN_NONE */
	double best_value;
	bool out;                 /* a repeat was pruned: never the best */
} point_state;

/* A {best.METRIC}'s text, made once and kept with the tracker. */
typedef struct best_text {
	struct best_text *next;
	char *text;
	char name[];
} best_text;

typedef struct sweep_state {
	trial_state *trials;      /* one per trial of the sweep */
	point_state *points;      /* one per point */
	size_t n_points;
	prune_table prune;
	bool pruning;             /* a rule and an objective */
	size_t started, running, ok, failed, pruned, skipped;
	size_t peak;              /* the most running at once */
	unsigned consecutive;     /* failures in a row */
	double total_s;
	size_t n_timed;
	uint32_t best_point;      /* PLAN_NONE: none */
	char *stopped;
	best_text *texts;
} sweep_state;

struct sweeps {
	const plan *p;
	pthread_mutex_t lock;
	sweep_state *s;
	sweep_actions act;
};

/* A trial's point: the plan's, or each trial its own where the plan
 * numbers no points. */
static size_t sweep_point(const plan_sweep *ps, const plan_node *n, size_t node)
{
	if (ps->n_points && n->point < ps->n_points)
		return n->point;
	return node - ps->first;
}

static size_t sweep_n_points(const plan_sweep *ps)
{
	return ps->n_points ? ps->n_points : ps->n_trials;
}

static int sweep_init(sweep_state *st, const plan_sweep *ps)
{
	size_t k;

	st->best_point = PLAN_NONE;
	st->n_points = sweep_n_points(ps);
	if (!(st->trials = calloc(ps->n_trials ? ps->n_trials : 1, sizeof *st->trials)) ||
	    !(st->points = calloc(st->n_points ? st->n_points : 1, sizeof *st->points)))
		return ASSAY_ENOMEM;
	for (k = 0; k < ps->n_trials; k++)
		st->trials[k].step = -1;
	for (k = 0; k < st->n_points; k++)
		st->points[k].best = PLAN_NONE;
	if (ps->prune != PRUNE_NONE && ps->objective) {
		prune_settings set = { .rule = ps->prune, .maximise = ps->maximise,
				       .warmup_steps = ps->warmup_steps,
				       .startup_trials = ps->startup_trials,
				       .min_resource = ps->min_resource,
				       .reduction_factor = ps->reduction_factor };

		st->pruning = true;
		if (prune_init(&st->prune, &set, ps->n_trials) < 0)
			return ASSAY_ENOMEM;
	}
	return 0;
}

sweeps *sweeps_new(const plan *p)
{
	sweeps *t = calloc(1, sizeof *t);
	size_t i;

	if (!t)
		return NULL;
	t->p = p;
	pthread_mutex_init(&t->lock, NULL);
	if (!(t->s = calloc(p->n_sweeps ? p->n_sweeps : 1, sizeof *t->s))) {
		sweeps_free(t);
		return NULL;
	}
	for (i = 0; i < p->n_sweeps; i++)
		if (sweep_init(&t->s[i], &p->sweeps[i]) < 0) {
			sweeps_free(t);
			return NULL;
		}
	return t;
}

void sweeps_free(sweeps *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; t->s && i < t->p->n_sweeps; i++) {
		free(t->s[i].trials);
		free(t->s[i].points);
		if (t->s[i].pruning)
			prune_release(&t->s[i].prune);
		free(t->s[i].stopped);
		while (t->s[i].texts) {
			best_text *next = t->s[i].texts->next;

			free(t->s[i].texts->text);
			free(t->s[i].texts);
			t->s[i].texts = next;
		}
	}
	free(t->s);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

void sweeps_set_actions(sweeps *t, const sweep_actions *a)
{
	t->act = *a;
}

/* --- the best ---------------------------------------------------------- */

static bool sweep_beats(const plan_sweep *ps, double a, double b)
{
	return ps->maximise ? a > b : a < b;
}

/* Whether point a is better than point b (PLAN_NONE: none): the higher
 * (lower) mean; of equal means, the earlier point. */
static bool point_better(const plan_sweep *ps, const sweep_state *st, size_t a, uint32_t b)
{
	const point_state *pa = &st->points[a], *pb;

	if (pa->out || pa->n == 0)
		return false;
	if (b == PLAN_NONE)
		return true;
	pb = &st->points[b];
	if (pa->mean == pb->mean)
		return a < b;
	return sweep_beats(ps, pa->mean, pb->mean);
}

/* Point k changed: the best point is it, or stays, or -- when k was the
 * best and got worse -- is searched for again. */
static void sweep_rank(const plan_sweep *ps, sweep_state *st, size_t k)
{
	size_t i;

	if (st->best_point == k) {
		st->best_point = PLAN_NONE;
		for (i = 0; i < st->n_points; i++)
			if (point_better(ps, st, i, st->best_point))
				st->best_point = (uint32_t)i;
	} else if (point_better(ps, st, k, st->best_point)) {
		st->best_point = (uint32_t)k;
	}
}

/* A trial that ended OK or WARNING with its objective: one more repeat
 * of its point. */
static void point_add(const plan_sweep *ps, point_state *pt, uint32_t node, double v)
{
	double d = v - pt->mean;

	pt->n++;
	pt->mean += d / pt->n;
	pt->m2 += d * (v - pt->mean);
	if (pt->best == PLAN_NONE || sweep_beats(ps, v, pt->best_value) ||
	    (v == pt->best_value && node < pt->best)) {
		pt->best = node;
		pt->best_value = v;
	}
}

/* --- the events ---------------------------------------------------------- */

/* What the tracker decided under its lock, done after it. */
typedef struct sweep_todo {
	bool prune, close;
	int64_t step;
	char reason[256];
} sweep_todo;

static void sweep_start(sweep_state *st, trial_state *tr, const run_event *ev)
{
	if (tr->running || tr->final)
		return;
	tr->running = true;
	tr->started_ns = ev->at_ns;
	st->started++;
	if (++st->running > st->peak)
		st->peak = st->running;
}

static void sweep_metric(const plan_sweep *ps, sweep_state *st, size_t k,
			 const run_event *ev, sweep_todo *todo)
{
	trial_state *tr = &st->trials[k];
	prune_why why;

	/* The objective's; without one, whatever the trial reports, for the
	 * display (nothing to judge then). */
	if (tr->final || (ps->objective && (!ev->text || strcmp(ev->text, ps->objective) != 0)))
		return;
	if (ev->step >= tr->step) {
		tr->step = ev->step;
		tr->value = ev->value;
	}
	/* A pruned trial's last reports, on its way out, decide nothing. */
	if (!st->pruning || tr->pruning)
		return;
	if (prune_report(&st->prune, k, ev->step, ev->value) < 0 ||
	    !prune_decide(&st->prune, k, &why))
		return;
	tr->pruning = true;
	todo->prune = true;
	todo->step = why.step;
	if (ps->prune == PRUNE_MEDIAN)
		snprintf(todo->reason, sizeof todo->reason,
			 "pruned at step %lld: %s %g %s median %g of %zu trials",
			 (long long)why.step, ps->objective, why.value, ps->maximise ? "<" : ">",
			 why.threshold, why.n);
	else
		snprintf(todo->reason, sizeof todo->reason,
			 "pruned at step %lld: %s %g %s %g, the worst of the top 1/%u of %zu trials "
			 "at rung %u",
			 (long long)why.step, ps->objective, why.value, ps->maximise ? "<" : ">",
			 why.threshold, st->prune.set.reduction_factor, why.n, why.rung);
}

/* Close the sweep (once) with the reason in todo. */
static void sweep_close(sweep_state *st, sweep_todo *todo)
{
	if (st->stopped)
		return;
	st->stopped = strdup(todo->reason);
	todo->close = true;
}

/* The objective's final value of a trial that counts, or NAN. */
static double sweep_objective(const plan_sweep *ps, const run_result *res)
{
	const assay_metric *m;

	if (!ps->objective || !res->ran || res->pruned ||
	    (res->status != ASSAY_OK && res->status != ASSAY_WARNING) ||
	    !(m = best_reported(res, ps->objective)))
		return NAN;
	return m->value;
}

/* Counts, and failures in a row. */
static void sweep_count(const plan_sweep *ps, sweep_state *st, size_t k, const run_result *res,
			sweep_todo *todo)
{
	if (res->ran) {
		st->total_s += res->duration;
		st->n_timed++;
	}
	if (res->pruned) {
		st->pruned++;
	} else if (res->status == ASSAY_SKIPPED) {
		st->skipped++;
	} else if (res->status == ASSAY_OK || res->status == ASSAY_WARNING) {
		st->ok++;
		st->consecutive = 0;
		if (st->pruning)
			prune_complete(&st->prune, k);
	} else {
		st->failed++;
		if (ps->max_failures && ++st->consecutive >= ps->max_failures) {
			snprintf(todo->reason, sizeof todo->reason,
				 "stopped after %u consecutive failures", st->consecutive);
			sweep_close(st, todo);
		}
	}
}

/* Trial `node` (the k-th of sweep ps) is final: counted, its objective
 * into its point, the target checked. */
static void sweep_final(sweeps *t, const plan_sweep *ps, sweep_state *st, size_t k,
			size_t node, const run_result *res, sweep_todo *todo)
{
	const plan_node *pn = &t->p->nodes[node];
	trial_state *tr = &st->trials[k];
	size_t pt = sweep_point(ps, pn, node);
	double v;

	if (tr->final)
		return;
	tr->final = true;
	tr->res = res;
	if (tr->running) {
		tr->running = false;
		st->running--;
	}
	sweep_count(ps, st, k, res, todo);
	if (res->pruned) {
		st->points[pt].out = true;
		sweep_rank(ps, st, pt);
		return;
	}
	if (isnan(v = sweep_objective(ps, res)))
		return;
	point_add(ps, &st->points[pt], (uint32_t)node, v);
	sweep_rank(ps, st, pt);
	if (ps->has_target && !sweep_beats(ps, ps->target, v) && !st->stopped) {
		snprintf(todo->reason, sizeof todo->reason, "target %g reached by %s", ps->target,
			 pn->id);
		sweep_close(st, todo);
	}
}

/* Whether an attempt is its trial's last: it succeeded, or failed with
 * no retry left, or was pruned.  (A plugin's no_retry is not seen here:
 * that trial is counted at FINAL.)  Its result is the run's then, final
 * and valid until run_free(). */
static bool sweep_last_attempt(const plan_node *pn, const run_event *ev)
{
	const run_result *res = ev->res;

	return res->pruned || res->status == ASSAY_OK || res->status == ASSAY_WARNING ||
	       ev->attempt > pn->retries;
}

void sweeps_event(const run_event *ev, void *arg)
{
	sweeps *t = arg;
	const plan_node *pn = &t->p->nodes[ev->node];
	const plan_sweep *ps = plan_sweep_of(t->p, pn);
	sweep_todo todo = { 0 };
	sweep_state *st;
	size_t k;

	if (!ps || ev->item != SIZE_MAX)
		return;
	st = &t->s[pn->sweep];
	k = ev->node - ps->first;
	pthread_mutex_lock(&t->lock);
	switch (ev->kind) {
	case RUN_EVENT_START:
		sweep_start(st, &st->trials[k], ev);
		break;
	case RUN_EVENT_METRIC:
		sweep_metric(ps, st, k, ev, &todo);
		break;
	case RUN_EVENT_ATTEMPT:
		/* The last attempt, seen before its slot goes to the next
		 * trial: the target and the failures close the sweep in
		 * time.  One that may be retried waits for FINAL. */
		if (sweep_last_attempt(pn, ev))
			sweep_final(t, ps, st, k, ev->node, ev->res, &todo);
		break;
	case RUN_EVENT_FINAL:
		sweep_final(t, ps, st, k, ev->node, ev->res, &todo);
		break;
	default:
		break;
	}
	pthread_mutex_unlock(&t->lock);
	/* Outside the lock: the run may publish events of its own in turn. */
	if (todo.prune && t->act.prune)
		t->act.prune(t->act.arg, ev->node, todo.step, todo.reason);
	if (todo.close && t->act.close)
		t->act.close(t->act.arg, pn->sweep, todo.reason);
}

/* --- the run --------------------------------------------------------------- */

static void sweeps_run_prune(void *arg, size_t node, int64_t step, const char *reason)
{
	run_prune(arg, node, step, reason);
}

static void sweeps_run_close(void *arg, size_t sweep, const char *reason)
{
	run_close_sweep(arg, sweep, reason);
}

int sweeps_subscribe(sweeps *t, run *r)
{
	t->act = (sweep_actions){ sweeps_run_prune, sweeps_run_close, r };
	return run_subscribe(r, RUN_EVENT_START | RUN_EVENT_METRIC | RUN_EVENT_ATTEMPT | RUN_EVENT_FINAL,
			     sweeps_event, t);
}

/* "3 failed, 5 pruned, 2 skipped": what there was instead of a success. */
static void sweep_tally(const sweep_state *st, char *buf, size_t size)
{
	const char *sep = "";
	size_t at = 0;

	buf[0] = '\0';
#define TALLY(n, what) \
	if ((n) && at < size) { \
		at += (size_t)snprintf(buf + at, size - at, "%s%zu " what, sep, (size_t)(n)); \
		sep = ", "; \
	}
	TALLY(st->failed, "failed")
	TALLY(st->pruned, "pruned")
	TALLY(st->skipped, "skipped")
#undef TALLY
	if (!*buf)
		snprintf(buf, size, "no trial ran");
}

bool sweeps_ok(void *arg, size_t sweep, char *why, size_t size)
{
	sweeps *t = arg;
	const plan_sweep *ps = &t->p->sweeps[sweep];
	const sweep_state *st = &t->s[sweep];
	char tally[128];
	bool ok;

	pthread_mutex_lock(&t->lock);
	if (ps->objective)
		ok = st->best_point != PLAN_NONE;
	else
		ok = st->ok == ps->n_trials;
	if (!ok) {
		sweep_tally(st, tally, sizeof tally);
		if (ps->objective)
			snprintf(why, size, "sweep `%s` has no best trial: %s", ps->id, tally);
		else
			snprintf(why, size, "sweep `%s` did not succeed: %s", ps->id, tally);
	}
	pthread_mutex_unlock(&t->lock);
	return ok;
}

void sweeps_judge(sweeps *t, run_options *o)
{
	o->sweep_ok = sweeps_ok;
	o->sweep_best = sweeps_best_text;
	o->sweep_arg = t;
}

/* --- what the display and the reports read ------------------------------- */

uint32_t sweeps_best(sweeps *t, size_t sweep)
{
	const sweep_state *st = &t->s[sweep];
	uint32_t node;

	pthread_mutex_lock(&t->lock);
	node = st->best_point == PLAN_NONE ? PLAN_NONE : st->points[st->best_point].best;
	pthread_mutex_unlock(&t->lock);
	return node;
}

void sweeps_view(sweeps *t, size_t sweep, sweep_view *out)
{
	const sweep_state *st = &t->s[sweep];

	memset(out, 0, sizeof *out);
	pthread_mutex_lock(&t->lock);
	out->planned = t->p->sweeps[sweep].n_trials;
	out->started = st->started;
	out->running = st->running;
	out->peak = st->peak;
	out->ok = st->ok;
	out->failed = st->failed;
	out->pruned = st->pruned;
	out->skipped = st->skipped;
	out->best = PLAN_NONE;
	if (st->best_point != PLAN_NONE) {
		const point_state *pt = &st->points[st->best_point];

		out->best = pt->best;
		out->best_value = pt->mean;
		/* The sample standard deviation (n - 1): 0 for one repeat. */
		out->spread = pt->n > 1 ? sqrt(pt->m2 / (pt->n - 1)) : 0;
		out->repeats = pt->n;
	}
	out->mean_s = st->n_timed ? st->total_s / (double)st->n_timed : 0;
	out->stopped = st->stopped != NULL;
	pthread_mutex_unlock(&t->lock);
}

void sweeps_stopped(sweeps *t, size_t sweep, char *buf, size_t size)
{
	if (!size)
		return;
	pthread_mutex_lock(&t->lock);
	snprintf(buf, size, "%s", t->s[sweep].stopped ? t->s[sweep].stopped : "");
	pthread_mutex_unlock(&t->lock);
}

static int running_cmp(const void *a, const void *b)
{
	const sweep_running *x = a, *y = b;

	if (x->started_ns != y->started_ns)
		return x->started_ns < y->started_ns ? -1 : 1;
	return x->node < y->node ? -1 : x->node > y->node;
}

size_t sweeps_running(sweeps *t, size_t sweep, sweep_running *out, size_t max)
{
	const plan_sweep *ps = &t->p->sweeps[sweep];
	const sweep_state *st = &t->s[sweep];
	sweep_running *all;
	size_t k, n = 0, running;

	pthread_mutex_lock(&t->lock);
	running = st->running;
	if (!max || !running || !(all = malloc(running * sizeof *all))) {
		pthread_mutex_unlock(&t->lock);
		return max && running ? 0 : running; /* 0: out of memory */
	}
	for (k = 0; k < ps->n_trials && n < running; k++) {
		const trial_state *tr = &st->trials[k];

		if (tr->running)
			all[n++] = (sweep_running){ .node = ps->first + (uint32_t)k, .step = tr->step,
						    .value = tr->value,
						    .started_ns = tr->started_ns };
	}
	pthread_mutex_unlock(&t->lock);
	qsort(all, n, sizeof *all, running_cmp);
	memcpy(out, all, (n < max ? n : max) * sizeof *out);
	free(all);
	return running;
}

/* The shortest text that reads back as v. */
static void best_format(double v, char *buf, size_t size)
{
	int prec;

	for (prec = 15; prec <= 17; prec++) {
		snprintf(buf, size, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

const char *sweeps_best_text(void *arg, size_t sweep, const char *name)
{
	sweeps *t = arg;
	sweep_state *st = &t->s[sweep];
	const plan_node *bn;
	const char *v = NULL;
	best_text *bt;
	uint32_t node = sweeps_best(t, sweep);
	char buf[64];
	double m;

	if (node == PLAN_NONE)
		return NULL;
	bn = &t->p->nodes[node];
	if (strcmp(name, "trial_dir") == 0) {
		pthread_mutex_lock(&t->lock);
		v = st->trials[node - t->p->sweeps[sweep].first].res->trial_dir;
		pthread_mutex_unlock(&t->lock);
		return v;
	}
	if ((v = plan_node_param(bn, name)))
		return v;
	if (!sweeps_best_metric(t, sweep, name, &m))
		return NULL;
	best_format(m, buf, sizeof buf);
	pthread_mutex_lock(&t->lock);
	for (bt = st->texts; bt && strcmp(bt->name, name) != 0; bt = bt->next)
		;
	if (!bt && (bt = malloc(sizeof *bt + strlen(name) + 1))) {
		strcpy(bt->name, name);
		bt->text = strdup(buf);
		bt->next = st->texts;
		st->texts = bt;
	}
	v = bt ? bt->text : NULL;
	pthread_mutex_unlock(&t->lock);
	return v;
}

/* The mean of metric over the best point's repeats that count (ended OK
 * or WARNING, not pruned) and reported it. */
bool sweeps_best_metric(sweeps *t, size_t sweep, const char *metric, double *out)
{
	const plan_sweep *ps = &t->p->sweeps[sweep];
	const sweep_state *st = &t->s[sweep];
	double sum = 0;
	size_t k, n = 0;

	pthread_mutex_lock(&t->lock);
	if (st->best_point == PLAN_NONE) {
		pthread_mutex_unlock(&t->lock);
		return false;
	}
	for (k = 0; k < ps->n_trials; k++) {
		const trial_state *tr = &st->trials[k];
		size_t node = ps->first + k;
		const assay_metric *m;

		if (sweep_point(ps, &t->p->nodes[node], node) != st->best_point || !tr->res ||
		    tr->res->pruned ||
		    (tr->res->status != ASSAY_OK && tr->res->status != ASSAY_WARNING) ||
		    !(m = best_reported(tr->res, metric)) || isnan(m->value))
			continue;
		sum += m->value;
		n++;
	}
	pthread_mutex_unlock(&t->lock);
	if (n)
		*out = sum / (double)n;
	return n > 0;
}
