/* run_attempt.c -- the end of an attempt: its outcome into the result, a
 * trial's objective checked, a retry after an exponential backoff with
 * jitter, the history of an execution that took several. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "run_int.h"
#include "suggest.h"

/* The attempt's outcome into e's result, taking the task's allocations:
 * it is over, nobody else reads them. */
static void attempt_take_result(run_exec *e, assay_task *t)
{
	run_result *res = e->res;
	double wall_offset = e->run->wall_offset;

	if (res->attempts) { /* an earlier attempt's, replaced */
		free(res->message);
		free(res->details);
		task_metrics_free(res->metrics, res->n_metrics);
		if (res->devices) {
			task_devices_free(res->devices);
			res->devices = NULL;
		}
	}
	res->status = (assay_status)atomic_load_explicit(&t->status, memory_order_relaxed);
	res->message = t->message;
	res->details = t->details;
	t->details = NULL;
	res->metrics = t->metrics;
	res->n_metrics = t->n_metrics;
	t->message = NULL;
	t->metrics = NULL;
	t->n_metrics = 0;
	res->attempts = t->attempt;
	if (t->devices)
		res->devices = task_take_devices(t);
	res->end = wall_offset + (double)t->end_ns * 1e-9;
	/* A retried execution took from its first start to its last end:
	 * the waits between attempts are time it cost. */
	if (t->attempt == 1 || res->start == 0) {
		res->start = wall_offset + (double)t->start_ns * 1e-9;
		res->duration = (double)(t->end_ns - t->start_ns) * 1e-9;
	} else {
		res->duration = res->end - res->start;
	}
	res->ran = true;
}

/* A trial that finished without its objective metric cannot be ranked,
 * and a misspelt metric must not pass for success: UNKNOWN, saying what
 * was reported instead.  The trial's own message goes first in its
 * details.  True when it was missing. */
static bool attempt_objective_missing(const run *r, run_result *res, const char *metric)
{
	const char **names;
	const char *hint = NULL;
	char *msg = NULL, *details = NULL, *scrubbed;
	size_t i;

	if (res->status != ASSAY_OK && res->status != ASSAY_WARNING)
		return false;
	for (i = 0; i < res->n_metrics; i++)
		if (strcmp(res->metrics[i].name, metric) == 0)
			return false;
	if ((names = malloc((res->n_metrics + 1) * sizeof *names))) {
		for (i = 0; i < res->n_metrics; i++)
			names[i] = res->metrics[i].name;
		hint = suggest_word(metric, names, res->n_metrics);
	}
	if (asprintf(&msg, "no `%s` reported%s%s%s", metric, hint ? " (did you mean `" : "",
		     hint ? hint : "", hint ? "`?)" : res->n_metrics ? "" : " (no metrics at all)") < 0)
		msg = NULL;
	free(names);
	if (res->message && *res->message &&
	    asprintf(&details, "%s%s%s", res->message, res->details ? "\n" : "",
		     res->details ? res->details : "") >= 0) {
		free(res->details);
		res->details = details;
	}
	/* The metric's name is the config's, which may hold a secret. */
	scrubbed = msg ? diag_scrub(msg, (const char *const *)r->p->values.secrets,
				    r->p->values.n_secrets) : NULL;
	free(msg);
	free(res->message);
	res->message = scrubbed ? scrubbed : strdup("the objective metric was not reported");
	res->status = ASSAY_UNKNOWN;
	return true;
}

/* Full jitter (AWS's "exponential backoff and jitter"): a uniformly random
 * delay below base * 2^(attempt-1), capped at 5 minutes, so that many
 * nodes failing together do not retry together. */
static uint64_t attempt_backoff_ms(const plan_node *pn, unsigned attempt, unsigned *seed)
{
	double cap = (double)pn->retry_delay_ms;
	unsigned k;

	for (k = 1; k < attempt && cap < 300000; k++)
		cap *= 2;
	if (cap > 300000)
		cap = 300000;
	return (uint64_t)(cap * ((double)rand_r(seed) / ((double)RAND_MAX + 1)));
}

static void attempt_retry_timer(void *arg)
{
	run_exec *e = arg;
	run *r = e->run;
	int expect = EXEC_RETRY_WAIT;
	bool counted = run_enter(r);

	if (atomic_compare_exchange_strong(&e->phase, &expect, EXEC_ACTIVE))
		exec_schedule(e, false);
	run_leave(r, counted);
}

/* Admit e again after the backoff (or the wait the plugin asked for). */
static void attempt_retry(run_exec *e, assay_task *t)
{
	run *r = e->run;
	unsigned seed = (unsigned)(uintptr_t)e ^ (unsigned)t->end_ns;
	uint64_t delay = attempt_backoff_ms(exec_plan_node(e), t->attempt, &seed);
	int rc;

	if ((uint64_t)t->retry_after_ms > delay)
		delay = (uint64_t)t->retry_after_ms; /* the server asked for it */
	task_log(t, ASSAY_LOG_INFO, "attempt %u failed; retrying in %.3gs",
		 t->attempt, (double)delay / 1000);
	attempt_record(e, t);
	task_reset(t, t->attempt + 1);
	/* Under the run's lock, so that run_stop() sees either no retry
	 * pending or one whose timer handle is set. */
	pthread_mutex_lock(&r->lock);
	atomic_store(&e->phase, EXEC_RETRY_WAIT);
	rc = reactor_timer_start(r->re, delay, attempt_retry_timer, e, &e->retry_timer);
	pthread_mutex_unlock(&r->lock);
	if (rc < 0)
		attempt_retry_timer(e); /* no timer: retry at once */
}

/* The attempt is over: retry, or the execution is final. */
static void attempt_end(run_exec *e, assay_task *t)
{
	run *r = e->run;
	const plan_node *pn = exec_plan_node(e);
	/* The kind first: it shares the node's first cache line, the sweep
	 * does not. */
	const plan_sweep *sweep = pn->kind == ASSAY_KIND_TRIAL ? plan_sweep_of(r->p, pn) : NULL;
	bool no_retry = t->no_retry;

	attempt_take_result(e, t);
	/* Pruned, it is neither retried nor judged on its objective; else
	 * the same command would report the same: no retry either. */
	if (sweep && sweep_attempt_pruned(r, e->launch->index, e->res))
		no_retry = true;
	else if (sweep && sweep->objective &&
		 attempt_objective_missing(r, e->res, sweep->objective))
		no_retry = true;
	if (r->events & RUN_EVENT_ATTEMPT)
		events_publish(r, RUN_EVENT_ATTEMPT, e->launch->index, exec_item_index(e), t->attempt,
			       t->end_ns, e->res);
	/* The slots go back once the subscribers have seen the attempt: a
	 * trial that reaches its sweep's target closes the sweep before
	 * the next trial can take its place. */
	exec_leave(e);
	if (status_failed(e->res->status) && t->attempt <= pn->retries && !no_retry &&
	    !atomic_load(&r->stopping)) {
		attempt_retry(e, t);
		return;
	}
	if (e->history)
		attempt_record(e, t);
	exec_worker.end_ns = t->end_ns;
	exec_final(e);
	exec_worker.end_ns = 0;
}

void attempt_done(assay_task *t, void *arg)
{
	run_exec *e = arg;
	run *r = e->run;
	bool counted = run_enter(r);

	attempt_end(e, t);
	run_leave(r, counted);
}

/* The history is made on the first retry: an execution that succeeds at
 * once, nearly all, costs nothing. */
void attempt_record(run_exec *e, const assay_task *t)
{
	run *r = e->run;
	run_history *h = e->history;
	run_attempt *a;

	if (!h) {
		if (!(h = calloc(1, sizeof *h)))
			return; /* the report lacks the details, not the result */
		h->node = e->launch->index;
		h->item = exec_item_index(e);
		pthread_mutex_lock(&r->lock);
		h->next = r->histories;
		r->histories = h;
		pthread_mutex_unlock(&r->lock);
		e->history = h;
	}
	if (!(a = realloc(h->attempts, (h->n + 1) * sizeof *a)))
		return;
	h->attempts = a;
	a = &a[h->n++];
	memset(a, 0, sizeof *a);
	if (t) {
		a->start = r->wall_offset + (double)t->start_ns * 1e-9;
		a->end = r->wall_offset + (double)t->end_ns * 1e-9;
		a->duration = (double)(t->end_ns - t->start_ns) * 1e-9;
	}
	a->status = e->res->status;
	a->message = strdup(e->res->message ? e->res->message : "");
}
