/* progress_sweep.c -- the block of each sweep under the progress line,
 * and the lines of --progress plain: per sweep under way, its trials
 * running, done, failed, pruned and skipped, the best value so far and
 * its trial, and an ETA by the progress line's rule applied to the
 * sweep's remaining trials; under it the running trials, each with its
 * latest step and value.  It learns all of it from the run's events, as
 * the line does, so that the display needs nothing of the trial tracker
 * and shows the same whether the sweep prunes or not. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "best.h"
#include "progress_int.h"
#include "status.h"
#include "text.h"

/* Running trials shown under a sweep, the oldest first. */
#define RUNNING_SHOWN 3

int progress_sweeps_new(progress *pr)
{
	const plan *p = pr->p;
	size_t s, n = 0;

	pr->sweeps = calloc(p->n_sweeps ? p->n_sweeps : 1, sizeof *pr->sweeps);
	if (!pr->sweeps)
		return ASSAY_ENOMEM;
	for (s = 0; s < p->n_sweeps; s++) {
		pthread_mutex_init(&pr->sweeps[s].lock, NULL);
		pr->sweeps[s].at = n;
		pr->sweeps[s].best = NONE;
		n += p->sweeps[s].n_trials;
	}
	if (!(pr->trials = calloc(n ? n : 1, sizeof *pr->trials)))
		return ASSAY_ENOMEM;
	while (n--)
		pr->trials[n].step = -1;
	return 0;
}

void progress_sweeps_free(progress *pr)
{
	size_t s;

	for (s = 0; pr->sweeps && s < pr->p->n_sweeps; s++)
		pthread_mutex_destroy(&pr->sweeps[s].lock);
	free(pr->sweeps);
	free(pr->trials);
}

static progress_trial *trial_of(progress *pr, const plan_sweep *ps, size_t s, size_t v)
{
	return &pr->trials[pr->sweeps[s].at + (v - ps->first)];
}

/* Whether a is better than b by the sweep's goal. */
static bool better(const plan_sweep *ps, double a, double b)
{
	return ps->maximise ? a > b : a < b;
}

/* The mean of the objective over the repeats of v's point final so far
 * (with repeat; else v's own), their span [*lo, *hi] and best repeat
 * (*top, NONE when none is final).  Under the lock. */
static double point_mean(progress *pr, size_t s, size_t v, size_t *lo, size_t *hi, uint32_t *top)
{
	const plan *p = pr->p;
	const plan_sweep *ps = &p->sweeps[s];
	size_t k, n = 0;
	double sum = 0;

	*lo = *hi = v;
	*top = NONE;
	/* The repeats of a point are consecutive. */
	while (ps->repeat > 1 && *lo > ps->first && p->nodes[*lo - 1].point == p->nodes[v].point)
		(*lo)--;
	while (ps->repeat > 1 && *hi + 1 < ps->first + ps->n_trials &&
	       p->nodes[*hi + 1].point == p->nodes[v].point)
		(*hi)++;
	for (k = *lo; k <= *hi; k++) {
		const progress_trial *t = trial_of(pr, ps, s, k);

		if (!t->has_final)
			continue;
		sum += t->final;
		n++;
		if (*top == NONE || better(ps, t->final, trial_of(pr, ps, s, *top)->final))
			*top = (uint32_t)k;
	}
	return n ? sum / (double)n : NAN;
}

/* Trial v's objective is final: its point's mean against the best so
 * far; of equal means the point declared first.  When the best point's
 * own mean worsens, another may now be better: every point is weighed
 * again (rare, and only then the whole sweep).  Under the lock. */
static void sweep_rank(progress *pr, size_t s, size_t v, double value)
{
	const plan_sweep *ps = &pr->p->sweeps[s];
	progress_sweep *sw = &pr->sweeps[s];
	size_t lo, hi, k;
	uint32_t top;
	double mean;

	trial_of(pr, ps, s, v)->final = value;
	trial_of(pr, ps, s, v)->has_final = true;
	mean = point_mean(pr, s, v, &lo, &hi, &top);
	if (sw->best == NONE || better(ps, mean, sw->best_value) ||
	    (mean == sw->best_value && lo < sw->best)) {
		sw->best = top;
		sw->best_value = mean;
		return;
	}
	if (sw->best < lo || sw->best > hi)
		return;
	sw->best = NONE;
	for (k = ps->first; k < ps->first + ps->n_trials; k = hi + 1) {
		mean = point_mean(pr, s, k, &lo, &hi, &top);
		if (top != NONE && (sw->best == NONE || better(ps, mean, sw->best_value))) {
			sw->best = top;
			sw->best_value = mean;
		}
	}
}

/* Trial v is final: counted, and ranked when it reported its objective. */
static void sweep_final(progress *pr, size_t s, size_t v, const run_result *res, bool started)
{
	const plan_sweep *ps = &pr->p->sweeps[s];
	progress_sweep *sw = &pr->sweeps[s];
	const assay_metric *m;

	if (started)
		sw->running--;
	if (res->pruned)
		sw->pruned++;
	else if (res->status == ASSAY_SKIPPED)
		sw->skipped++;
	else if (status_failed(res->status))
		sw->failed++;
	else
		sw->ok++;
	if (ps->objective && !res->pruned && res->status != ASSAY_SKIPPED &&
	    !status_failed(res->status) && (m = best_reported(res, ps->objective)) &&
	    isfinite(m->value))
		sweep_rank(pr, s, v, m->value);
}

void progress_sweeps_event(progress *pr, const run_event *ev, bool started)
{
	const plan_node *pn = &pr->p->nodes[ev->node];
	const plan_sweep *ps;
	progress_sweep *sw;

	if (pn->sweep == PLAN_NONE || !pr->sweeps)
		return;
	ps = &pr->p->sweeps[pn->sweep];
	sw = &pr->sweeps[pn->sweep];
	pthread_mutex_lock(&sw->lock);
	switch (ev->kind) {
	case RUN_EVENT_START:
		if (started) {
			sw->started++;
			if (++sw->running > sw->peak)
				sw->peak = sw->running;
		}
		break;
	case RUN_EVENT_FINAL:
		sweep_final(pr, pn->sweep, ev->node, ev->res, started);
		break;
	case RUN_EVENT_METRIC:
		/* The objective's, or, without one, whatever it reports. */
		if (!ps->objective || (ev->text && strcmp(ev->text, ps->objective) == 0)) {
			trial_of(pr, ps, pn->sweep, ev->node)->step = ev->step;
			trial_of(pr, ps, pn->sweep, ev->node)->value = ev->value;
		}
		break;
	case RUN_EVENT_WAIT:
		sw->waited = true;
		break;
	case RUN_EVENT_ATTEMPT:
	case RUN_EVENT_ITEM:
		break;
	}
	pthread_mutex_unlock(&sw->lock);
}

/* --- the estimate: the reactor thread ----------------------------------- */

/* The progress line's rule on the sweep's trials not yet final: the
 * longest of them, or their work shared by as many as run at once -- the
 * jobs, the sweep's max_parallel, and, once a trial of it queued for a
 * resource (GPUs), the most seen running together. */
static double sweep_eta(progress *pr, size_t s, int64_t now_ns)
{
	const plan_sweep *ps = &pr->p->sweeps[s];
	progress_sweep *sw = &pr->sweeps[s];
	double longest = 0, work = 0, own, w;
	size_t v, left = 0, wide = pr->jobs;

	for (v = ps->first; v < ps->first + ps->n_trials; v++) {
		if ((pr->keep && !pr->keep[v]) ||
		    atomic_load_explicit(&pr->nodes[v].final, memory_order_relaxed))
			continue;
		if (!progress_left(pr, v, now_ns, &own, &w))
			return -1;
		left++;
		work += w;
		if (own > longest)
			longest = own;
	}
	if (!left)
		return 0;
	if (ps->max_parallel && ps->max_parallel < wide)
		wide = ps->max_parallel;
	pthread_mutex_lock(&sw->lock);
	if (sw->waited && sw->peak && sw->peak < wide)
		wide = sw->peak;
	pthread_mutex_unlock(&sw->lock);
	if (left < wide)
		wide = left;
	return longest > work / (double)wide ? longest : work / (double)wide;
}

void progress_sweeps_eta(progress *pr, int64_t now_ns)
{
	size_t s;

	for (s = 0; pr->sweeps && s < pr->p->n_sweeps; s++)
		pr->sweeps[s].eta = sweep_eta(pr, s, now_ns);
}

/* --- the lines ------------------------------------------------------------ */

/* Whether sweep s is under way: a trial of it started, and not all of its
 * trials are final. */
static bool under_way(progress *pr, size_t s, const progress_sweep *sw)
{
	const plan_sweep *ps = &pr->p->sweeps[s];
	size_t kept = 0, v;

	if (!sw->started)
		return false;
	for (v = ps->first; v < ps->first + ps->n_trials; v++)
		kept += !pr->keep || pr->keep[v];
	return sw->ok + sw->failed + sw->pruned + sw->skipped < kept;
}

static void put_id(FILE *f, const char *id)
{
	text_put(f, id, strlen(id), SIZE_MAX);
}

/* "lr  3 running · 12 done · 2 failed · 4 pruned · best 0.962 lr[...] ·
 * ETA 4m10s" (sep " · "); failed, pruned and skipped when not 0.  A copy
 * of the sweep taken under its lock. */
static void sweep_line(progress *pr, size_t s, const progress_sweep *sw, double eta,
		       const char *gap, const char *sep, FILE *f)
{
	char left[32];

	put_id(f, pr->p->sweeps[s].id);
	fprintf(f, "%s%zu running%s%zu done", gap, sw->running, sep, sw->ok);
	if (sw->failed)
		fprintf(f, "%s%zu failed", sep, sw->failed);
	if (sw->pruned)
		fprintf(f, "%s%zu pruned", sep, sw->pruned);
	if (sw->skipped)
		fprintf(f, "%s%zu skipped", sep, sw->skipped);
	if (sw->best != NONE) {
		fprintf(f, "%sbest %g ", sep, sw->best_value);
		put_id(f, pr->p->nodes[sw->best].id);
	}
	progress_format_eta(eta, left, sizeof left);
	fprintf(f, "%sETA %s", sep, left);
}

/* Its running trials, the oldest first: "  lr[x=1]  step 12  0.913  1m05s". */
static size_t running_lines(progress *pr, size_t s, int64_t now_ns, FILE *f)
{
	const plan_sweep *ps = &pr->p->sweeps[s];
	uint32_t shown[RUNNING_SHOWN];
	int64_t start[RUNNING_SHOWN];
	size_t n = 0, more = 0, v, k, lines = 0;

	for (v = ps->first; v < ps->first + ps->n_trials; v++) {
		int64_t t = atomic_load_explicit(&pr->nodes[v].start_ns, memory_order_relaxed);

		if (!t || atomic_load_explicit(&pr->nodes[v].final, memory_order_relaxed))
			continue;
		if (n == RUNNING_SHOWN) {
			more++;
			continue;
		}
		shown[n] = (uint32_t)v;
		start[n++] = t;
	}
	/* Declaration order mostly is start order; the few shown sorted. */
	for (k = 1; k < n; k++)
		for (v = k; v > 0 && start[v] < start[v - 1]; v--) {
			int64_t ts = start[v];
			uint32_t tv = shown[v];

			start[v] = start[v - 1], shown[v] = shown[v - 1];
			start[v - 1] = ts, shown[v - 1] = tv;
		}
	for (k = 0; k < n; k++, lines++) {
		progress_trial t;
		char age[32];

		pthread_mutex_lock(&pr->sweeps[s].lock);
		t = *trial_of(pr, ps, s, shown[k]);
		pthread_mutex_unlock(&pr->sweeps[s].lock);
		fputs("  ", f);
		put_id(f, pr->p->nodes[shown[k]].id);
		if (t.step >= 0)
			fprintf(f, "  step %lld  %g", (long long)t.step, t.value);
		progress_format_eta(now_ns > start[k] ? (double)(now_ns - start[k]) / 1e9 : 0, age,
				    sizeof age);
		fprintf(f, "  %s\n", age);
	}
	if (more) {
		fprintf(f, "  ... and %zu more running\n", more);
		lines++;
	}
	return lines;
}

/* Sweep s's ETA at now_ns: as of the last estimate, counted down. */
static double eta_of(const progress *pr, size_t s, int64_t now_ns)
{
	double eta = pr->sweeps[s].eta;

	if (eta < 0 || !pr->eta_ns)
		return eta < 0 ? eta : 0;
	eta -= (double)(now_ns - pr->eta_ns) / 1e9;
	return eta > 0 ? eta : 0;
}

size_t progress_block(progress *pr, int64_t now_ns, FILE *out)
{
	size_t s, lines = 0;

	for (s = 0; pr->sweeps && s < pr->p->n_sweeps; s++) {
		progress_sweep sw;

		pthread_mutex_lock(&pr->sweeps[s].lock);
		sw = pr->sweeps[s];
		pthread_mutex_unlock(&pr->sweeps[s].lock);
		if (!under_way(pr, s, &sw))
			continue;
		sweep_line(pr, s, &sw, eta_of(pr, s, now_ns), "  ", " \u00b7 ", out);
		fputc('\n', out);
		lines += 1 + running_lines(pr, s, now_ns, out);
	}
	return lines;
}

void progress_plain(progress *pr, int64_t now_ns, FILE *out)
{
	char line[360], stamp[32];
	int64_t secs = pr->start_ns && now_ns > pr->start_ns ? (now_ns - pr->start_ns) / 1000000000 : 0;
	size_t s;

	snprintf(stamp, sizeof stamp, "assay: %02lld:%02lld:%02lld ", (long long)(secs / 3600),
		 (long long)(secs / 60 % 60), (long long)(secs % 60));
	progress_format(pr, now_ns, line, sizeof line);
	fprintf(out, "%s", stamp);
	text_put(out, line, strlen(line), SIZE_MAX);
	fputc('\n', out);
	for (s = 0; pr->sweeps && s < pr->p->n_sweeps; s++) {
		progress_sweep sw;

		pthread_mutex_lock(&pr->sweeps[s].lock);
		sw = pr->sweeps[s];
		pthread_mutex_unlock(&pr->sweeps[s].lock);
		if (!under_way(pr, s, &sw))
			continue;
		fputs(stamp, out);
		sweep_line(pr, s, &sw, eta_of(pr, s, now_ns), " ", ", ", out);
		fputc('\n', out);
	}
}
