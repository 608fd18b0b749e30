/* run_ready.c -- readiness: a final node releases its successors, which
 * run once their last predecessor is final, or are skipped, saying why
 * (a gate, a dependency, run_if, the operator's `skip`, a stop); a
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
			assay_status cause = ASSAY_UNKNOWN;
			run_exec *e;
			char *why;

			if (!run_is_kept(r, s))
				continue;
			sink = false;
			/* Before the count rises: whoever completes it sees it. */
			if (failed)
				atomic_store_explicit(&r->nodes[s].pred_failed, true,
						      memory_order_relaxed);
			if (atomic_fetch_add(&r->nodes[s].preds_done, 1) + 1 != run_n_preds(r, s))
				continue;
			if (!(why = ready_skip_reason(r, s, &cause))) {
				if ((e = launch_node(r, s)))
					exec_schedule(e, !continued);
				continued = true;
				continue;
			}
			r->results[s].kept = true;
			r->results[s].status = ASSAY_SKIPPED;
			r->results[s].cause = cause;
			r->results[s].skip_reason = why;
			ready_push(&stack, &depth, &cap, s);
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
