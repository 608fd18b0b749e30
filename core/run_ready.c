/* run_ready.c -- readiness: a final node releases its successors, which
 * run once their last predecessor is final, or are skipped, saying why
 * (a gate, a dependency, run_if, the operator's `skip`, a stop); the
 * trials of a sweep with a max_parallel released together, in order; a
 * final trial's result.json. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run_int.h"
#include "trialdir.h"

/* Whether a gate's result keeps the other nodes from running: anything
 * but OK, or but OK and WARNING for `gate = "warning"`. */
static bool ready_gate_refuses(const run *r, size_t u)
{
	assay_status st = r->results[u].status;

	return st != ASSAY_OK && !(st == ASSAY_WARNING && r->p->nodes[u].gate_warning);
}

/* Whether a successor may have to be skipped for v's result: v failed, was
 * skipped (it did not succeed, whyever), or is a gate that refuses. */
static bool ready_blocks_successors(const run *r, size_t v)
{
	const run_result *res = &r->results[v];

	/* A trial of a sweep judged as a whole: its successors look at the
	 * sweep (sweep_pred), whatever the trial's own result. */
	if (r->o.sweep_ok && r->p->nodes[v].sweep != PLAN_NONE)
		return true;
	return res->status == ASSAY_SKIPPED || status_failed(res->status) ||
	       (r->p->nodes[v].gate && ready_gate_refuses(r, v));
}

/* "gate `g` is CRITICAL", "dependency `d` was skipped: no GPU here" (the
 * reason of a node skipped by its `skip`: what the operator should read). */
static char *ready_blocked_by(const run *r, size_t u, const char *what)
{
	const run_result *pr = &r->results[u];
	const plan_node *pu = &r->p->nodes[u];
	char *why;
	int rc;

	if (pr->status != ASSAY_SKIPPED)
		rc = asprintf(&why, "%s `%s` is %s", what, pu->id, status_name(pr->status));
	else if (pu->skip)
		rc = asprintf(&why, "%s `%s` was skipped: %s", what, pu->id, pu->skip);
	else
		rc = asprintf(&why, "%s `%s` was skipped", what, pu->id);
	return rc < 0 ? NULL : why;
}

/* Why node s will not run, given its finished predecessors, or NULL. */
static char *ready_skip_reason(run *r, size_t s, assay_status *cause)
{
	const graph *g = r->g;
	const plan_node *pn = &r->p->nodes[s];
	size_t k;
	bool any_failed = false;
	char *why = NULL;

	/* The operator's word comes first: it holds whatever happened. */
	if (pn->skip) {
		*cause = ASSAY_OK;
		return strdup(pn->skip);
	}
	if (pn->kind == ASSAY_KIND_TRIAL && (why = sweep_skip_reason(r, s, cause)))
		return why;
	if (atomic_load(&r->stopping)) {
		pthread_mutex_lock(&r->lock);
		*cause = r->stop_cause;
		why = strdup(r->stop_reason ? r->stop_reason : "the run was stopped");
		pthread_mutex_unlock(&r->lock);
		return why;
	}
	/* The common case, everything before it fine, costs no scan. */
	if (!atomic_load_explicit(&r->nodes[s].pred_failed, memory_order_relaxed)) {
		if (pn->run_if != RUN_IF_FAILURE)
			return NULL;
		*cause = ASSAY_OK; /* nothing failed: the skip is no failure */
		return strdup("run_if = \"failure\", and no dependency failed");
	}
	/* A gate that refuses skips everything else, whatever its run_if. */
	for (k = g->pred_at[s]; k < g->pred_at[s + 1]; k++) {
		size_t u = g->pred[k];

		if (r->p->nodes[u].gate && !pn->gate && ready_gate_refuses(r, u)) {
			*cause = result_effective(&r->results[u]);
			why = ready_blocked_by(r, u, "gate");
			return why ? why : strdup("a gate did not pass");
		}
	}
	/* "success" is every dependency's: one that was skipped, even by
	 * the operator, did not succeed. */
	for (k = g->pred_at[s]; k < g->pred_at[s + 1]; k++) {
		size_t u = g->pred[k], span = 1;
		const run_result *pr = &r->results[u];
		int judged = sweep_pred(r, s, k, &span, &why, cause);

		/* A sweep followed whole counts as one: its verdict. */
		if (judged >= 0) {
			k += span - 1;
			if (judged == 0)
				continue;
			any_failed = true;
			if (pn->run_if == RUN_IF_SUCCESS)
				return why ? why : strdup("a sweep did not succeed");
			free(why);
			why = NULL;
			continue;
		}
		any_failed |= status_failed(result_effective(pr));
		if (pn->run_if == RUN_IF_SUCCESS &&
		    (pr->status == ASSAY_SKIPPED || status_failed(pr->status))) {
			*cause = result_effective(pr);
			why = ready_blocked_by(r, u, "dependency");
			return why ? why : strdup("a dependency failed");
		}
	}
	if (pn->run_if == RUN_IF_FAILURE && !any_failed) {
		*cause = ASSAY_OK; /* nothing failed: the skip is no failure */
		return strdup("run_if = \"failure\", and no dependency failed");
	}
	return NULL;
}

/* fail_fast: v's failure stops the run. */
static void ready_fail_fast(run *r, size_t v)
{
	const run_result *res = &r->results[v];
	char reason[512];

	snprintf(reason, sizeof reason, "fail_fast: `%s` is %s", r->p->nodes[v].id,
		 status_name(res->status));
	pthread_mutex_lock(&r->lock);
	if (!r->stop_reason)
		r->stop_cause = res->status;
	pthread_mutex_unlock(&r->lock);
	run_stop(r, reason);
}

/* Push s on the work list of skipped nodes. */
static void ready_push(size_t **stack, size_t *depth, size_t *cap, size_t s)
{
	if (*depth == *cap) {
		size_t *grown = realloc(*stack, (*cap = *cap ? *cap * 2 : 16) * sizeof **stack);

		if (!grown)
			abort(); /* cannot even record a skip: nothing sane is left */
		*stack = grown;
	}
	(*stack)[(*depth)++] = s;
}

/* A trial that ran leaves its result.json in its directory, final
 * before anyone learns it is (a node after the sweep may read it).  A
 * failure is said, but changes nothing of the run. */
static void ready_trial_result(run *r, size_t v, const run_result *res)
{
	trialdir_result tr = {
		.id = r->p->nodes[v].id,
		.status = res->status,
		.message = res->status == ASSAY_SKIPPED && res->skip_reason ? res->skip_reason
									     : res->message,
		.pruned = res->pruned,
		.pruned_step = res->pruned_step,
		.metrics = res->metrics,
		.n_metrics = res->n_metrics,
		.attempts = res->attempts,
		.duration = res->duration,
		.start = res->start,
		.end = res->end,
		.secrets = (const char *const *)r->p->values.secrets,
		.n_secrets = r->p->values.n_secrets,
	};

	if (trialdir_write_result(res->trial_dir, &tr) < 0)
		fprintf(stderr, "assay: warning: trial dir %s: cannot write result.json: %s\n",
			res->trial_dir, strerror(errno));
}

/* Whether s, its predecessors final, runs; if not, it is SKIPPED, saying
 * why, and the caller makes it final. */
static bool ready_runs(run *r, size_t s)
{
	assay_status cause = ASSAY_UNKNOWN;
	char *why = ready_skip_reason(r, s, &cause);

	if (!why)
		return true;
	r->results[s].kept = true;
	r->results[s].status = ASSAY_SKIPPED;
	r->results[s].cause = cause;
	r->results[s].skip_reason = why;
	return false;
}

/* --- sweeps released in order ----------------------------------------------
 *
 * The trials of a sweep with a max_parallel must reach its limiter in
 * declaration order, so that with max_parallel = 1 they run in that
 * order and a pruning rule decides the same each time (the roots' are:
 * see launch_split()).  Released by their predecessors' ends, they would
 * not: each would be counted apart, by whichever thread ended its last
 * predecessor, and go to the pool.  So, where the kept trials wait for
 * the same nodes (all of a sweep share its `after`), the first of them,
 * the lead, alone counts them, for the others too; once all are final,
 * one job launches the trials one after another, as a roots job does.
 * The others' counters are never touched; pred_failed is the lead's. */

/* Whether the kept trials of sw wait for the same nodes as lead. */
static bool ready_same_preds(const run *r, const plan_sweep *sw, size_t lead)
{
	const graph *g = r->g;
	size_t n = run_n_preds(r, lead), s;

	for (s = lead + 1; s < sw->first + sw->n_trials; s++)
		if (run_is_kept(r, s) &&
		    (run_n_preds(r, s) != n ||
		     memcmp(&g->pred[g->pred_at[s]], &g->pred[g->pred_at[lead]],
			    n * sizeof *g->pred) != 0))
			return false;
	return true;
}

/* For run_new(): r->sweep_lead.  0 or ASSAY_ENOMEM. */
int ready_sweep_leads(run *r)
{
	const plan *p = r->p;
	size_t i, s;
	bool any = false;

	for (i = 0; i < p->n_sweeps && !any; i++)
		any = p->sweeps[i].max_parallel && p->sweeps[i].n_trials > 1;
	if (!any)
		return 0;
	if (!(r->sweep_lead = malloc(p->n_sweeps * sizeof *r->sweep_lead)))
		return ASSAY_ENOMEM;
	any = false;
	for (i = 0; i < p->n_sweeps; i++) {
		const plan_sweep *sw = &p->sweeps[i];

		r->sweep_lead[i] = PLAN_NONE;
		if (!sw->max_parallel)
			continue;
		for (s = sw->first; s < sw->first + sw->n_trials && !run_is_kept(r, s); s++)
			;
		/* Roots are launch_split()'s; one trial has no order. */
		if (s + 1 >= sw->first + sw->n_trials || run_n_preds(r, s) == 0 ||
		    !ready_same_preds(r, sw, s))
			continue;
		r->sweep_lead[i] = (uint32_t)s;
		any = true;
	}
	if (!any) {
		free(r->sweep_lead);
		r->sweep_lead = NULL;
	}
	return 0;
}

/* The trials of sweep sw from its lead on, their predecessors final:
 * each kept one skipped, or launched and queued at its limits, in order,
 * on this thread; their runs are the pool's. */
static void ready_sweep_launch(run *r, uint32_t sw, size_t lead)
{
	const plan_sweep *p_sw = &r->p->sweeps[sw];
	bool failed = atomic_load_explicit(&r->nodes[lead].pred_failed, memory_order_relaxed);
	size_t s;
	run_exec *e;

	for (s = lead; s < p_sw->first + p_sw->n_trials; s++) {
		if (!run_is_kept(r, s))
			continue;
		atomic_store_explicit(&r->nodes[s].pred_failed, failed, memory_order_relaxed);
		if (!ready_runs(r, s))
			ready_node_final(r, s);
		else if ((e = launch_node(r, s)))
			exec_enter_in_order(e);
	}
}

typedef struct sweep_job {
	pool_job job;
	run *run;
	uint32_t sweep;
	size_t lead;
} sweep_job;

static void ready_sweep_job(pool_job *job)
{
	sweep_job *j = (sweep_job *)job;
	run *r = j->run;
	uint32_t sw = j->sweep;
	size_t lead = j->lead;

	free(j);
	exec_worker.index = pool_worker_index(r->pool);
	ready_sweep_launch(r, sw, lead);
}

/* The lead's predecessors are final: its sweep's trials go to the pool
 * as one job (a pool thread, not the reactor's, launches them).  Out of
 * memory, or with no room in the pool, they are launched here. */
static void ready_sweep_release(run *r, uint32_t sw, size_t lead)
{
	sweep_job *j = malloc(sizeof *j);

	if (j) {
		j->job.fn = ready_sweep_job;
		j->run = r;
		j->sweep = sw;
		j->lead = lead;
		if (pool_submit(r->pool, &j->job) == 0)
			return;
		free(j);
	}
	ready_sweep_launch(r, sw, lead);
}

/* The sweep whose lead s is; PLAN_NONE when s is counted as any node.
 * Sets *follows when s is another of its kept trials, which its lead
 * counts for. */
static uint32_t ready_sweep_of(const run *r, size_t s, bool *follows)
{
	uint32_t sw = r->p->nodes[s].sweep;

	*follows = false;
	if (sw == PLAN_NONE || r->sweep_lead[sw] == PLAN_NONE)
		return PLAN_NONE;
	if (r->sweep_lead[sw] != s) {
		*follows = true;
		return PLAN_NONE;
	}
	return sw;
}

/* Successors skipped in turn are handled here too, with a work list
 * rather than recursion: a skipped chain of a million nodes must not
 * exhaust the stack.  The first successor to run continues on this
 * thread (see exec_schedule). */
void ready_node_final(run *r, size_t v)
{
	const graph *g = r->g;
	size_t *stack = NULL, depth = 0, cap = 0, k;
	bool continued = false;

	for (;;) {
		run_result *res = &r->results[v];
		bool failed, sink = true;

		if (r->o.fail_fast && res->ran && status_failed(res->status))
			ready_fail_fast(r, v);
		if (res->trial_dir)
			ready_trial_result(r, v, res);
		if (r->events & RUN_EVENT_FINAL)
			events_publish(r, RUN_EVENT_FINAL, v, SIZE_MAX, 0, 0, res);
		failed = ready_blocks_successors(r, v);
		for (k = g->succ_at[v]; k < g->succ_at[v + 1]; k++) {
			size_t s = g->succ[k];
			uint32_t sw = PLAN_NONE;
			bool follows = false;
			run_exec *e;

			if (!run_is_kept(r, s))
				continue;
			sink = false;
			if (r->sweep_lead && (sw = ready_sweep_of(r, s, &follows)) == PLAN_NONE &&
			    follows)
				continue; /* its lead counts for it */
			/* Before the count rises: whoever completes it sees it. */
			if (failed)
				atomic_store_explicit(&r->nodes[s].pred_failed, true,
						      memory_order_relaxed);
			if (atomic_fetch_add(&r->nodes[s].preds_done, 1) + 1 != run_n_preds(r, s))
				continue;
			if (sw != PLAN_NONE) {
				ready_sweep_release(r, sw, s);
			} else if (ready_runs(r, s)) {
				if ((e = launch_node(r, s)))
					exec_schedule(e, !continued);
				continued = true;
			} else {
				ready_push(&stack, &depth, &cap, s);
			}
		}
		/* Every node is done once every sink is: a node is final
		 * before any successor starts or is skipped. */
		if (sink && atomic_fetch_add(&r->sinks_done, 1) + 1 == r->sinks)
			run_signal_done(r);
		if (depth == 0)
			break;
		v = stack[--depth];
	}
	free(stack);
}
