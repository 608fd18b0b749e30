/* run_sweep.c -- what the run does for the trial tracker (sweep.h): a
 * trial's intermediate values published (report_step), a trial pruned
 * (run_prune: cancelled if it runs, never started if it waits, SKIPPED
 * with cause OK and its metrics kept), a sweep closed (run_close_sweep:
 * its trials not started are SKIPPED), and the rule for a node after a
 * sweep (run_options.sweep_ok: the sweep succeeds as a whole).
 *
 * The marks are atomic pointers, set once: run_prune() is called from a
 * subscriber, inside report_step, inside a plugin's callback that may
 * hold the plugin's lock, so it takes no lock of the run and cancels
 * nothing itself -- the cancel is a pool job, where the plugin's cancel()
 * may take the plugin's lock in turn. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run_int.h"
#include "value.h"

struct sweep_mark {
	int64_t step;
	char reason[];
};

int sweep_alloc(run *r)
{
	const plan *p = r->p;

	if (!p->n_sweeps)
		return 0;
	/* calloc: zeroed pages, touched only for trials that are pruned. */
	if (!(r->pruned = calloc(p->n_nodes, sizeof *r->pruned)) ||
	    !(r->closed = calloc(p->n_sweeps, sizeof *r->closed)))
		return ASSAY_ENOMEM;
	return 0;
}

void sweep_release(run *r)
{
	size_t i;

	for (i = 0; r->pruned && i < r->p->n_nodes; i++)
		free(atomic_load(&r->pruned[i]));
	for (i = 0; r->closed && i < r->p->n_sweeps; i++)
		free(atomic_load(&r->closed[i]));
	free(r->pruned);
	free(r->closed);
	r->pruned = NULL;
	r->closed = NULL;
}

/* The task's hook (task.h): publish a trial's value to the subscribers.
 * A run nobody follows this way costs one test. */
int sweep_report_step(void *ctx, assay_task *t, const char *name, double value, int64_t step)
{
	run *r = ctx;
	run_exec *e = t->done_arg;

	if (!(r->events & RUN_EVENT_METRIC) || !e)
		return 0;
	events_publish_metric(r, e->launch->index, t->attempt, name, value, step);
	return 0;
}

/* --- run_prune ------------------------------------------------------------ */

typedef struct sweep_cancel {
	run *r;
	size_t node;
} sweep_cancel;

/* On the pool: cancel what runs of the node, if it still runs.  Launches
 * and tasks are recycled, never freed during the run: a stale pointer is
 * read where it stays valid, and task_prune() checks that the task still
 * runs this node's execution. */
static void sweep_cancel_job(void *arg)
{
	sweep_cancel *c = arg;
	run *r = c->r;
	size_t v = c->node;
	run_launch *l = atomic_load_explicit(&r->nodes[v].launch, memory_order_acquire);
	assay_task *t;

	free(c);
	if (!l || l->index != v || !l->recycled)
		return;
	if ((t = atomic_load(&l->execs[0].task)))
		task_prune(t, &r->p->nodes[v], &l->execs[0]);
}

void run_prune(run *r, size_t node, int64_t step, const char *reason)
{
	size_t len = strlen(reason);
	sweep_mark *m, *none = NULL;
	sweep_cancel *c;

	if (!r->pruned || node >= r->p->n_nodes || r->p->nodes[node].kind != ASSAY_KIND_TRIAL ||
	    atomic_load(&r->pruned[node]) || !(m = malloc(sizeof *m + len + 1)))
		return;
	m->step = step;
	memcpy(m->reason, reason, len + 1);
	if (!atomic_compare_exchange_strong(&r->pruned[node], &none, m)) {
		free(m); /* pruned already: the first reason stays */
		return;
	}
	/* Waiting, it meets the mark at its admission; running, it is
	 * cancelled from the pool.  Without a pool (before run_go(), or
	 * when out of memory) it runs to its end and ends pruned then. */
	if (!r->pool || !(c = malloc(sizeof *c)))
		return;
	c->r = r;
	c->node = node;
	if (run_spawn(r, sweep_cancel_job, c) < 0)
		free(c);
}

/* --- the marks, where the run meets them --------------------------------- */

static const sweep_mark *sweep_mark_of(run *r, size_t v)
{
	return r->pruned ? atomic_load_explicit(&r->pruned[v], memory_order_acquire) : NULL;
}

/* res is pruned by m: SKIPPED, not a failure, the reason as skip reason
 * and message; the metrics it reported stay. */
static void sweep_set_pruned(run_result *res, const sweep_mark *m)
{
	res->status = ASSAY_SKIPPED;
	res->cause = ASSAY_OK;
	res->pruned = true;
	res->pruned_step = m->step;
	free(res->skip_reason);
	res->skip_reason = strdup(m->reason);
	free(res->message);
	res->message = strdup(m->reason);
}

/* The attempt that just ended (its outcome in res) was pruned meanwhile:
 * whatever it says of itself -- cancelled, or finished before the
 * cancel reached it -- it ends pruned, and is not retried. */
bool sweep_attempt_pruned(run *r, size_t v, run_result *res)
{
	const sweep_mark *m = sweep_mark_of(r, v);

	if (!m)
		return false;
	sweep_set_pruned(res, m);
	return true;
}

/* Admission of a trial: pruned (in a retry's wait), or of a closed sweep
 * and not started yet, it ends here (final: false); else true.  Only
 * for a plan with sweeps. */
bool sweep_admits(run_exec *e)
{
	run *r = e->run;
	size_t v = e->launch->index;
	const plan_node *pn = &r->p->nodes[v];
	const sweep_mark *m = sweep_mark_of(r, v);
	const char *closed;

	if (m) {
		exec_leave(e);
		sweep_set_pruned(e->res, m);
	} else if (e->res->attempts == 0 && pn->sweep != PLAN_NONE &&
		   (closed = atomic_load_explicit(&r->closed[pn->sweep], memory_order_acquire))) {
		exec_leave(e);
		e->res->status = ASSAY_SKIPPED;
		e->res->cause = ASSAY_OK;
		free(e->res->skip_reason);
		e->res->skip_reason = strdup(closed);
	} else {
		return true;
	}
	/* launch_start() said it ran; it never started. */
	if (e->res->attempts == 0)
		e->res->ran = false;
	exec_final(e);
	return false;
}

/* A trial whose predecessors are final, about to launch: why it will not
 * (its sweep closed, or pruned before it started), or NULL. */
char *sweep_skip_reason(run *r, size_t v, assay_status *cause)
{
	const plan_node *pn = &r->p->nodes[v];
	const sweep_mark *m = sweep_mark_of(r, v);
	const char *closed;

	if (!r->closed || pn->sweep == PLAN_NONE)
		return NULL;
	if (m) {
		r->results[v].pruned = true;
		r->results[v].pruned_step = m->step;
		*cause = ASSAY_OK;
		return strdup(m->reason);
	}
	if ((closed = atomic_load_explicit(&r->closed[pn->sweep], memory_order_acquire))) {
		*cause = ASSAY_OK;
		return strdup(closed);
	}
	return NULL;
}

void run_close_sweep(run *r, size_t sweep, const char *reason)
{
	char *copy, *none = NULL;

	if (!r->closed || sweep >= r->p->n_sweeps ||
	    atomic_load(&r->closed[sweep]) || !(copy = strdup(reason)))
		return;
	/* Those waiting for a slot meet it when they get one: a running
	 * trial of the sweep, or another node, gives it up when it ends. */
	if (!atomic_compare_exchange_strong(&r->closed[sweep], &none, copy))
		free(copy);
}

/* --- a node after a sweep -------------------------------------------------- */

/* Node s's k-th predecessor: when it is the first trial of a sweep that
 * s follows whole (every trial of it a predecessor: the rows are sorted,
 * and a sweep's trials consecutive) and the options judge sweeps, the
 * sweep's verdict: 0 it succeeded, 1 it did not (*why and *cause say
 * so); *span is then its number of trials.  -1: the predecessor counts
 * alone, as any node. */
int sweep_pred(run *r, size_t s, size_t k, size_t *span, char **why, assay_status *cause)
{
	const graph *g = r->g;
	const plan_node *pu = &r->p->nodes[g->pred[k]];
	const plan_sweep *ps;
	char buf[512];
	size_t end = g->pred_at[s + 1];
	assay_status worst;

	if (!r->o.sweep_ok || pu->sweep == PLAN_NONE)
		return -1;
	ps = &r->p->sweeps[pu->sweep];
	if (g->pred[k] != ps->first || ps->n_trials == 0 || k + ps->n_trials > end ||
	    g->pred[k + ps->n_trials - 1] != ps->first + ps->n_trials - 1)
		return -1;
	*span = ps->n_trials;
	buf[0] = '\0';
	if (r->o.sweep_ok(r->o.sweep_arg, pu->sweep, buf, sizeof buf))
		return 0;
	/* No best trial is no success: the skip counts as UNKNOWN, or as
	 * the worst failure among the trials. */
	worst = run_worst(&r->results[ps->first], ps->n_trials);
	*cause = worst == ASSAY_OK ? ASSAY_UNKNOWN : worst;
	*why = strdup(*buf ? buf : "the sweep did not succeed");
	return 1;
}

/* --- {best.NAME} ------------------------------------------------------------ */

/* The task's hook (task.h): the value from the tracker, for a node after
 * one sweep; it runs after every trial of it is final. */
const char *sweep_best_lookup(void *ctx, const assay_task *t, const char *name)
{
	run *r = ctx;
	const plan_node *pn = t->node;

	if (!pn || pn->after_sweep == PLAN_NONE || !r->o.sweep_best)
		return NULL;
	return r->o.sweep_best(r->o.sweep_arg, pn->after_sweep, name);
}

/* The first {best.NAME} in s whose value the tracker lacks, copied to
 * name; false when there is none. */
static bool sweep_best_unknown(run *r, uint32_t sweep, const char *s, char *name, size_t size)
{
	while ((s = strstr(s, "{best."))) {
		size_t n = 0;

		s += 6;
		while ((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
		       (s[n] >= '0' && s[n] <= '9') || s[n] == '_')
			n++;
		if (n == 0 || n >= size || (s[n] != '}' && strncmp(s + n, ":raw}", 5) != 0))
			continue;
		memcpy(name, s, n);
		name[n] = '\0';
		if (!r->o.sweep_best(r->o.sweep_arg, sweep, name))
			return true;
	}
	return false;
}

/* The strings of v, at any depth, for sweep_best_unknown(). */
static bool sweep_value_unknown(run *r, uint32_t sweep, const assay_value *v, char *name,
				size_t size, int depth)
{
	size_t i, n;

	if (!v || depth > 32)
		return false;
	switch (value_type(v)) {
	case ASSAY_VALUE_STRING:
		return sweep_best_unknown(r, sweep, value_string(v), name, size);
	case ASSAY_VALUE_ARRAY:
	case ASSAY_VALUE_TABLE:
		for (i = 0, n = value_len(v); i < n; i++)
			if (sweep_value_unknown(r, sweep, value_at(v, i, NULL), name, size, depth + 1))
				return true;
		return false;
	default:
		return false;
	}
}

/* Node v, after one sweep, is about to launch: a {best.NAME} in its
 * table that the best trial lacks (a metric it did not report; no best
 * at all, when v runs anyway) makes it UNKNOWN with this message, rather
 * than a plugin's "cannot expand"; NULL when there is none. */
char *sweep_best_missing(run *r, size_t v)
{
	const plan_node *pn = &r->p->nodes[v];
	const plan_sweep *ps;
	char name[128], why[256], *msg;
	int rc;

	if (pn->after_sweep == PLAN_NONE || !r->o.sweep_best || !r->o.sweep_ok ||
	    !sweep_value_unknown(r, pn->after_sweep, pn->table, name, sizeof name, 0))
		return NULL;
	ps = &r->p->sweeps[pn->after_sweep];
	if (!r->o.sweep_ok(r->o.sweep_arg, pn->after_sweep, why, sizeof why))
		rc = asprintf(&msg, "{best.%s}: %s", name, why);
	else if (strcmp(name, "trial_dir") == 0)
		rc = asprintf(&msg, "{best.trial_dir}: the best trial of sweep `%s` has no directory",
			      ps->id);
	else
		rc = asprintf(&msg, "{best.%s}: the best trial of sweep `%s` reported no `%s`", name,
			      ps->id, name);
	return rc < 0 ? NULL : msg;
}
