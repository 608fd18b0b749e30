/* progress.c -- the live progress line: counts kept from the run's events,
 * and an ETA from the critical path of what remains, redrawn on a reactor
 * timer with each sweep's block under it (progress_sweep.c, from the trial
 * tracker), or printed as lines now and then for a log (--progress
 * plain). */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "progress.h"
#include "progress_int.h"
#include "status.h"
#include "task.h"
#include "text.h"

static bool progress_kept(const progress *pr, size_t v)
{
	return !pr->keep || pr->keep[v];
}

/* Sort the nodes into classes: 0 for all, one per kind and type, one per
 * sweep (a matrix's trials share their table, and follow one another).
 * Returns how many, or 0 when out of memory. */
static size_t progress_classify(progress *pr)
{
	struct pair { unsigned kind; const assay_node_type *type; } *pairs = NULL, *grown;
	const assay_value *sweep_table = NULL;
	size_t n = 1, n_pairs = 0, i, k;

	for (i = 0; i < pr->p->n_nodes; i++) {
		const plan_node *pn = &pr->p->nodes[i];

		for (k = 0; k < n_pairs && (pairs[k].kind != pn->kind || pairs[k].type != pn->type); k++)
			;
		if (k == n_pairs) {
			if (!(grown = realloc(pairs, (n_pairs + 1) * sizeof *pairs))) {
				free(pairs);
				return 0;
			}
			pairs = grown;
			pairs[n_pairs++] = (struct pair){ pn->kind, pn->type };
		}
		pr->nodes[i].kind = (uint32_t)(1 + k);
		pr->nodes[i].sweep = NONE;
		if (pn->n_params) {
			if (pn->table != sweep_table)
				n++;
			sweep_table = pn->table;
			pr->nodes[i].sweep = (uint32_t)(n - 1); /* renumbered below */
		}
	}
	/* The kinds first, then the sweeps. */
	for (i = 0; i < pr->p->n_nodes; i++)
		if (pr->nodes[i].sweep != NONE)
			pr->nodes[i].sweep += (uint32_t)n_pairs;
	free(pairs);
	return n + n_pairs;
}

progress *progress_new(const plan *p, const graph *g, const bool *keep, sweeps *t,
		       unsigned jobs, FILE *out)
{
	progress *pr = calloc(1, sizeof *pr);
	size_t i, n_classes;

	if (!pr)
		return NULL;
	pr->p = p;
	pr->g = g;
	pr->keep = keep;
	pr->tracker = t;
	pr->jobs = jobs ? jobs : 1;
	pr->out = out;
	pthread_mutex_init(&pr->lock, NULL);
	pthread_mutex_init(&pr->wait_lock, NULL);
	pr->nodes = calloc(p->n_nodes ? p->n_nodes : 1, sizeof *pr->nodes);
	pr->finish = malloc((p->n_nodes ? p->n_nodes : 1) * sizeof *pr->finish);
	if (!pr->nodes || !pr->finish || !(n_classes = progress_classify(pr)) ||
	    !(pr->classes = calloc(n_classes, sizeof *pr->classes)) || progress_sweeps_new(pr) < 0) {
		progress_free(pr);
		return NULL;
	}
	for (i = 0; i < p->n_nodes; i++)
		pr->total += progress_kept(pr, i);
	return pr;
}

void progress_free(progress *pr)
{
	if (!pr)
		return;
	pthread_mutex_destroy(&pr->lock);
	pthread_mutex_destroy(&pr->wait_lock);
	progress_sweeps_free(pr);
	free(pr->nodes);
	free(pr->classes);
	free(pr->finish);
	free(pr);
}

/* --- events: any thread ------------------------------------------------- */

static void class_add(progress_class *c, uint64_t ns)
{
	atomic_fetch_add_explicit(&c->ns, ns, memory_order_relaxed);
	atomic_fetch_add_explicit(&c->n, 1, memory_order_release);
}

static void progress_final(progress *pr, const run_event *ev)
{
	progress_node *n = &pr->nodes[ev->node];
	int64_t start = atomic_load_explicit(&n->start_ns, memory_order_relaxed);
	assay_status s = ev->res->status;

	/* A validation's time is its items': it says nothing of a node's. */
	if (start && ev->res->ran && pr->p->nodes[ev->node].kind != ASSAY_KIND_VALIDATION) {
		uint64_t ns = ev->at_ns > start ? (uint64_t)(ev->at_ns - start) : 0;

		class_add(&pr->classes[0], ns);
		class_add(&pr->classes[n->kind], ns);
		if (n->sweep != NONE)
			class_add(&pr->classes[n->sweep], ns);
	}
	atomic_store_explicit(&n->final, true, memory_order_relaxed);
	if (start)
		atomic_fetch_sub_explicit(&pr->running, 1, memory_order_relaxed);
	if (ev->res->ran && status_failed(s))
		atomic_fetch_add_explicit(&pr->failed, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&pr->done, 1, memory_order_relaxed);
}

/* Node v no longer waits for a resource (it started, or is final). */
static void progress_unwait(progress *pr, progress_node *n)
{
	if (atomic_load_explicit(&n->waiting, memory_order_relaxed) &&
	    atomic_exchange_explicit(&n->waiting, false, memory_order_relaxed))
		atomic_fetch_sub_explicit(&pr->waiting, 1, memory_order_relaxed);
}

/* Kept by one lock: the text is the latest, whoever wrote it. */
static void progress_wait(progress *pr, progress_node *n, const char *text)
{
	if (!atomic_exchange_explicit(&n->waiting, true, memory_order_relaxed))
		atomic_fetch_add_explicit(&pr->waiting, 1, memory_order_relaxed);
	pthread_mutex_lock(&pr->wait_lock);
	snprintf(pr->wait_text, sizeof pr->wait_text, "%s", text ? text : "");
	pthread_mutex_unlock(&pr->wait_lock);
}

void progress_event(const run_event *ev, void *arg)
{
	progress *pr = arg;
	progress_node *n = &pr->nodes[ev->node];
	int64_t none = 0;
	bool started;

	switch (ev->kind) {
	case RUN_EVENT_START:
		progress_unwait(pr, n);
		/* The first attempt (or item) starts the node. */
		started = atomic_load_explicit(&n->start_ns, memory_order_relaxed) == 0 &&
			  atomic_compare_exchange_strong(&n->start_ns, &none, ev->at_ns ? ev->at_ns : 1);
		if (started)
			atomic_fetch_add_explicit(&pr->running, 1, memory_order_relaxed);
		break;
	case RUN_EVENT_ITEM:
		if (ev->res->ran)
			atomic_fetch_add_explicit(&n->items_ns, (uint64_t)(ev->res->duration * 1e9),
						  memory_order_relaxed);
		atomic_fetch_add_explicit(&n->items_done, 1, memory_order_release);
		break;
	case RUN_EVENT_FINAL:
		progress_unwait(pr, n);
		progress_final(pr, ev);
		break;
	case RUN_EVENT_WAIT:
		progress_wait(pr, n, ev->text);
		progress_sweeps_wait(pr, ev->node);
		break;
	case RUN_EVENT_METRIC: /* not subscribed: the tracker keeps them */
	case RUN_EVENT_ATTEMPT: /* not subscribed: a retry changes no count */
	case RUN_EVENT_CHILD: /* not subscribed: the journal's */
		break;
	}
}

int progress_subscribe(progress *pr, run *r)
{
	return run_subscribe(r, RUN_EVENT_START | RUN_EVENT_ITEM | RUN_EVENT_FINAL | RUN_EVENT_WAIT,
			     progress_event, pr);
}

/* --- the estimate: the reactor thread --------------------------------- */

/* Seconds per node of class c, or -1 before one finished. */
static double class_mean(const progress_class *c)
{
	unsigned n = atomic_load_explicit(&c->n, memory_order_acquire);

	return n ? (double)atomic_load_explicit(&c->ns, memory_order_relaxed) / n / 1e9 : -1;
}

/* How long node v (not a validation) takes: as its sweep's trials did, as
 * it declares, as nodes of its kind and type did, as any node did; -1
 * when nothing tells yet. */
static double progress_expect(const progress *pr, size_t v)
{
	const progress_node *n = &pr->nodes[v];
	double m;

	if (n->sweep != NONE && (m = class_mean(&pr->classes[n->sweep])) >= 0)
		return m;
	if (pr->p->nodes[v].estimate_s > 0)
		return pr->p->nodes[v].estimate_s;
	if ((m = class_mean(&pr->classes[n->kind])) >= 0)
		return m;
	return class_mean(&pr->classes[0]);
}

/* What is left of validation v: its items not final, each taking what the
 * finished ones took (or the declared estimate's share), in waves of as
 * many as run at once. */
static bool progress_left_items(const progress *pr, size_t v, double *own, double *work)
{
	const plan_node *pn = &pr->p->nodes[v];
	const progress_node *n = &pr->nodes[v];
	size_t done = atomic_load_explicit(&n->items_done, memory_order_acquire);
	size_t left = pn->n_items > done ? pn->n_items - done : 0;
	size_t wide = left < pr->jobs ? left : pr->jobs;
	double each;

	if (!left)
		return true;
	if (done)
		each = (double)atomic_load_explicit(&n->items_ns, memory_order_relaxed) / (double)done / 1e9;
	else if (pn->estimate_s > 0)
		each = pn->estimate_s / ceil((double)pn->n_items /
					     (double)(pn->n_items < pr->jobs ? pn->n_items : pr->jobs));
	else
		return false;
	*work = (double)left * each;
	*own = ceil((double)left / (double)wide) * each;
	return true;
}

/* What is left of node v at now_ns: the time until it ends (*own) and the
 * execution time it still needs (*work, more than *own for a validation's
 * items side by side).  False when nothing tells. */
bool progress_left(const progress *pr, size_t v, int64_t now_ns, double *own,
			  double *work)
{
	const progress_node *n = &pr->nodes[v];
	int64_t start = atomic_load_explicit(&n->start_ns, memory_order_relaxed);
	double e;

	*own = *work = 0;
	if (atomic_load_explicit(&n->final, memory_order_relaxed))
		return true;
	if (pr->p->nodes[v].kind == ASSAY_KIND_VALIDATION)
		return progress_left_items(pr, v, own, work);
	if ((e = progress_expect(pr, v)) < 0)
		return false;
	/* A running node has done part of it; one that overran is taken to
	 * end now. */
	if (start && now_ns > start)
		e -= (double)(now_ns - start) / 1e9;
	*own = *work = e > 0 ? e : 0;
	return true;
}

double progress_eta(progress *pr, int64_t now_ns)
{
	const graph *g = pr->g;
	double cp = 0, work = 0, own, w;
	size_t i, k;

	/* In dependency order: a node ends its own time after the last of
	 * what it waits for. */
	for (i = 0; i < g->n; i++) {
		uint32_t v = g->order[i];
		double start = 0;

		if (!progress_kept(pr, v))
			continue;
		if (!progress_left(pr, v, now_ns, &own, &w))
			return -1;
		for (k = g->pred_at[v]; k < g->pred_at[v + 1]; k++)
			if (progress_kept(pr, g->pred[k]) && pr->finish[g->pred[k]] > start)
				start = pr->finish[g->pred[k]];
		pr->finish[v] = start + own;
		if (pr->finish[v] > cp)
			cp = pr->finish[v];
		work += w;
	}
	w = work / pr->jobs;
	return cp > w ? cp : w;
}

/* The estimate walks the whole graph: on a large one it is redone only as
 * often as keeps it under a twentieth of the reactor thread's time, and
 * counts down in between. */
static double progress_eta_now(progress *pr, int64_t now_ns)
{
	double left;

	if (pr->eta_ns == 0 || now_ns - pr->eta_ns >= 20 * pr->cost_ns) {
		int64_t t0 = task_now_ns();

		pr->eta = progress_eta(pr, now_ns);
		progress_sweeps_eta(pr, now_ns);
		pr->eta_ns = now_ns;
		pr->cost_ns = task_now_ns() - t0;
		return pr->eta;
	}
	if (pr->eta < 0)
		return pr->eta;
	left = pr->eta - (double)(now_ns - pr->eta_ns) / 1e9;
	return left > 0 ? left : 0;
}

void progress_format_eta(double s, char *buf, size_t size)
{
	if (s < 0)
		snprintf(buf, size, "?");
	else if (s < 9.95)
		snprintf(buf, size, "%.1fs", s);
	else if (s < 59.5)
		snprintf(buf, size, "%.0fs", s);
	else if (s < 3599.5)
		snprintf(buf, size, "%dm%02ds", (int)(s + 0.5) / 60, (int)(s + 0.5) % 60);
	else
		snprintf(buf, size, "%dh%02dm", (int)(s / 3600), (int)fmod(s, 3600) / 60);
}

void progress_format(progress *pr, int64_t now_ns, char *buf, size_t size)
{
	char eta[32];
	size_t waiting = atomic_load_explicit(&pr->waiting, memory_order_relaxed);
	int n;

	progress_format_eta(progress_eta_now(pr, now_ns), eta, sizeof eta);
	n = snprintf(buf, size, "[%zu/%zu done, %zu running, %zu failed, ETA %s]",
		     atomic_load_explicit(&pr->done, memory_order_relaxed), pr->total,
		     atomic_load_explicit(&pr->running, memory_order_relaxed),
		     atomic_load_explicit(&pr->failed, memory_order_relaxed), eta);
	if (!waiting || n < 0 || (size_t)n >= size)
		return;
	pthread_mutex_lock(&pr->wait_lock);
	if (pr->wait_text[0])
		snprintf(buf + n, size - (size_t)n, " %zu waiting for %s", waiting, pr->wait_text);
	pthread_mutex_unlock(&pr->wait_lock);
}

/* --- drawing -------------------------------------------------------------- */

/* The terminal's columns, else $COLUMNS; SIZE_MAX when neither says (a
 * pty nobody sized): no cut then. */
static size_t progress_width(FILE *out)
{
	const char *env = getenv("COLUMNS");
	struct winsize ws;
	long n;

	if (ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	if (env && (n = strtol(env, NULL, 10)) > 0)
		return (size_t)n;
	return SIZE_MAX;
}

/* One line, escaped and cut short of the last column: a line that wraps
 * would throw off the count of lines to go back up. */
static void progress_put(progress *pr, const char *s, size_t len, size_t width)
{
	text_put(pr->out, s, len, width == SIZE_MAX ? SIZE_MAX : width > 1 ? width - 1 : 1);
}

/* The line, the block under it, and the cursor back at the line's end.
 * Under pr->lock. */
static void progress_draw(progress *pr)
{
	int64_t now = task_now_ns();
	size_t width = progress_width(pr->out), size = 0, n = 0;
	char line[360], *block = NULL;
	const char *at;
	FILE *f;

	if (pr->plain_ms) {
		progress_plain(pr, now, pr->out);
		fflush(pr->out);
		return;
	}
	progress_format(pr, now, line, sizeof line);
	fputs("\r\033[J", pr->out);
	progress_put(pr, line, strlen(line), width);
	if ((f = open_memstream(&block, &size))) {
		progress_block(pr, now, f);
		if (fclose(f) != 0)
			block = NULL;
	}
	for (at = block; at && *at; n++) {
		size_t len = strcspn(at, "\n");

		fputc('\n', pr->out);
		progress_put(pr, at, len, width);
		at += len + (at[len] == '\n');
	}
	free(block);
	if (n) {
		fprintf(pr->out, "\033[%zuA\r", n);
		progress_put(pr, line, strlen(line), width);
	}
	pr->drawn = n;
	fflush(pr->out);
}

static void progress_tick(void *arg)
{
	progress *pr = arg;

	pthread_mutex_lock(&pr->lock);
	if (!pr->stopped) {
		progress_draw(pr);
		if (reactor_timer_start(pr->re, pr->plain_ms ? pr->plain_ms : PROGRESS_PERIOD_MS,
					progress_tick, pr, &pr->timer) < 0)
			pr->timer = NULL;
	}
	pthread_mutex_unlock(&pr->lock);
}

void progress_set_plain(progress *pr, int64_t interval_ms)
{
	pr->plain_ms = interval_ms > 0 ? interval_ms : 1;
}

int progress_start(progress *pr, reactor *re)
{
	int rc;

	pthread_mutex_lock(&pr->lock);
	pr->re = re;
	pr->start_ns = task_now_ns();
	/* A log gets its first line after an interval: a short run, none. */
	if (!pr->plain_ms)
		progress_draw(pr);
	rc = reactor_timer_start(re, pr->plain_ms ? pr->plain_ms : PROGRESS_PERIOD_MS, progress_tick,
				 pr, &pr->timer);
	pthread_mutex_unlock(&pr->lock);
	return rc;
}

void progress_stop(progress *pr)
{
	assay_timer *t;

	pthread_mutex_lock(&pr->lock);
	if (!pr->re || pr->stopped) {
		pthread_mutex_unlock(&pr->lock);
		return;
	}
	pr->stopped = true;
	t = pr->timer;
	pthread_mutex_unlock(&pr->lock);
	/* Waits for a tick under way, which finds it stopped. */
	reactor_timer_stop(pr->re, t);
	if (pr->plain_ms)
		return; /* lines in a log stay */
	/* The line, and the block under it when one was drawn. */
	fprintf(pr->out, pr->drawn ? "\r\033[J" : "\r\033[K");
	fflush(pr->out);
}
