/* run_exec.c -- an execution's way to its start: the thread it runs on
 * (this one at once, as the continuation of the one it finished, or the
 * pool's), the admission steps (its groups' limits, then its resources,
 * the last of which comes with a jobs slot -- or, without resources, a
 * jobs slot alone), the task lent to it, giving the steps back, and its
 * end. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run_int.h"
#include "trialdir.h"

/* This thread's worker context (run_int.h says what it holds). */
_Thread_local run_worker exec_worker = { .index = -1 };

/* The execution's task (the one it has, or one from the recycler); NULL
 * when out of memory. */
static assay_task *exec_task(run_exec *e)
{
	assay_task *t = atomic_load_explicit(&e->task, memory_order_relaxed);
	run *r = e->run;
	const plan_node *pn;

	if (t)
		return t;
	if (!(t = recycler_get(r->tasks, exec_worker.index)))
		return NULL;
	pn = exec_plan_node(e);
	task_begin(t, pn, e->item != SIZE_MAX ? pn->items[e->item] : NULL,
		   pn->timeout_ms ? pn->timeout_ms : r->p->timeout_ms, e);
	/* Release: run_stop() may cancel it through this pointer. */
	atomic_store_explicit(&e->task, t, memory_order_release);
	return t;
}

/* The execution is final: its task goes back to the recycler. */
static void exec_return_task(run_exec *e)
{
	assay_task *t = atomic_load_explicit(&e->task, memory_order_relaxed);

	if (!t)
		return;
	atomic_store_explicit(&e->task, NULL, memory_order_relaxed);
	task_end(t);
	recycler_put(e->run->tasks, exec_worker.index, t);
}

/* w was handed a limiter's slot: it goes on from its next step, on this
 * thread if it may (see exec_schedule). */
static void exec_wake(fifo_link *w)
{
	run_exec *e;

	if (!w)
		return;
	e = FIFO_ENTRY(w, run_exec, wait);
	e->stage++;
	exec_schedule(e, true);
}

void exec_resume_all(fifo_link *w)
{
	fifo_link *next;

	for (; w; w = next) {
		next = w->next;
		exec_schedule(FIFO_ENTRY(w, run_exec, wait), false);
	}
}

/* The jobs slot the caller holds, which a resource queue's first waiter
 * wanted (limiter_try failed): offered to the queues, and given back as
 * exec_give_slot() says when none takes it. */
static void exec_offer_slot(run *r)
{
	for (;;) {
		bool wanted = false, in_hand = true;
		fifo_link *w;

		/* One that tried meanwhile sets the flag again, and is
		 * offered it on the next turn. */
		resq_offer_slot(r, &in_hand);
		if (!in_hand)
			return;
		w = limiter_leave(&r->jobs, &wanted);
		if (!wanted) {
			exec_wake(w);
			return;
		}
	}
}

/* Give a jobs slot back.  A resource queue whose first waiter wanted a
 * slot is offered it first (run_resq.c says why); else it goes to the
 * first execution waiting for a slot alone, or is free.  One lock round
 * trip when no queue wants it, as before there were queues. */
static inline void exec_give_slot_now(run *r)
{
	bool wanted = false;
	fifo_link *w = limiter_leave(&r->jobs, &wanted);

	if (!wanted)
		exec_wake(w);
	else
		exec_offer_slot(r);
}

void exec_give_slot(run *r)
{
	exec_give_slot_now(r);
}

/* A node with resources gives back its grants, then its slot -- first to
 * the waiters of the resources given back, which can start at once with
 * both, then as exec_give_slot() says. */
static void exec_leave_resources(run_exec *e, size_t held, bool in_hand)
{
	run_launch *n = e->launch;
	size_t i;

	for (i = held; i-- > 0;)
		resq_leave(n->resq[i], e, i);
	for (i = held; i-- > 0;)
		resq_released(n->resq[i], &in_hand);
	if (in_hand)
		exec_give_slot_now(e->run);
}

/* Give back every step passed so far (in reverse). */
void exec_leave(run_exec *e)
{
	run_launch *n = e->launch;
	size_t stage = e->stage, i;

	e->stage = 0;
	if (n->n_res) {
		size_t passed = stage > n->n_limits ? stage - n->n_limits : 0;

		exec_leave_resources(e, passed < n->n_res ? passed : n->n_res,
				     e->run->jobs_bound && passed >= n->n_res);
	} else if (stage > n->n_limits && e->run->jobs_bound) {
		exec_give_slot_now(e->run);
	}
	for (i = stage < n->n_limits ? stage : n->n_limits; i-- > 0;)
		exec_wake(limiter_leave(n->limits[i], NULL));
}

/* Stopped before it could start: keep an earlier attempt's failure, else
 * it is SKIPPED for the reason the run stopped. */
static void exec_abandon(run_exec *e)
{
	run *r = e->run;

	exec_leave(e);
	if (e->res->attempts == 0) {
		pthread_mutex_lock(&r->lock);
		e->res->status = ASSAY_SKIPPED;
		e->res->cause = r->stop_cause;
		e->res->skip_reason =
			strdup(r->stop_reason ? r->stop_reason : "the run was stopped");
		pthread_mutex_unlock(&r->lock);
	}
	exec_final(e);
}

/* The execution cannot start: UNKNOWN with msg, no retry. */
void exec_fail_message(run_exec *e, const char *msg)
{
	exec_leave(e);
	free(e->res->message);
	e->res->message = msg ? strdup(msg) : NULL;
	e->res->status = ASSAY_UNKNOWN;
	e->res->attempts++;
	/* This attempt never ran: it held nothing an earlier one did. */
	if (e->res->devices) {
		task_devices_free(e->res->devices);
		e->res->devices = NULL;
	}
	if (e->history)
		attempt_record(e, NULL);
	exec_final(e);
}

/* A resource type refused the request outright: the message it set
 * during try_acquire says why, else the code is named. */
void exec_fail_acquire(run_exec *e, const char *resource, int rc)
{
	assay_task *t = atomic_load_explicit(&e->task, memory_order_relaxed);
	char *msg = t ? task_take_message(t) : NULL;

	if (!msg && asprintf(&msg, "cannot acquire resource `%s`: %s", resource,
			     status_strerror(rc)) < 0)
		msg = NULL;
	exec_fail_message(e, msg ? msg : "cannot acquire a resource");
	free(msg);
}

/* Pass the steps from e->stage on, up to step `until` (SIZE_MAX: all);
 * false when e waits (it is queued, and goes on when a step is handed to
 * it) or is final. */
static bool exec_pass(run_exec *e, size_t until)
{
	run *r = e->run;
	run_launch *n = e->launch;
	size_t n_res = n->n_res;

	for (;;) {
		size_t s = e->stage;
		int rc;

		if (s >= until)
			return true;

		if (atomic_load(&r->stopping)) {
			exec_abandon(e);
			return false;
		}
		/* A pruned trial, or one of a closed sweep, starts no more. */
		if (r->closed && exec_plan_node(e)->kind == ASSAY_KIND_TRIAL && !sweep_admits(e))
			return false;
		if (s < n->n_limits) {
			if (!limiter_enter(n->limits[s], &e->wait))
				return false;
		} else if (s < n->n_limits + n_res) {
			if (!exec_task(e)) {
				exec_fail_message(e, "out of memory");
				return false;
			}
			/* The last one takes the jobs slot with it. */
			rc = resq_enter(n->resq[s - n->n_limits], e, s - n->n_limits);
			if (rc == 0)
				return false;
			if (rc < 0) {
				exec_fail_acquire(e, resq_name(n->resq[s - n->n_limits]), rc);
				return false;
			}
		} else if (s == n->n_limits && n_res == 0) {
			if (r->jobs_bound && !limiter_enter(&r->jobs, &e->wait))
				return false;
		} else {
			return true;
		}
		e->stage++;
	}
}

/* A trial's directory, ready before its plugin's run (trialdir.h): made
 * by the first attempt that gets this far, the last attempt's
 * metrics.jsonl removed by a retry; $ASSAY_TRIAL_DIR and $ASSAY_METRICS in the task's environment.
 * False when it could not be: the execution is then final, UNKNOWN with
 * the reason (no retry: the disk will say the same). */
static bool exec_trial_dir(run_exec *e, assay_task *t, const char *dir)
{
	char why[4200], metrics[4200];
	run_result *res = e->res;

	if (trialdir_enter(dir, e->run->p, exec_plan_node(e), res->trial_dir != NULL, why,
			   sizeof why) < 0) {
		exec_fail_message(e, why);
		return false;
	}
	res->trial_dir = dir;
	t->trial_dir = dir;
	snprintf(metrics, sizeof metrics, "%s/metrics.jsonl", dir);
	if (task_setenv(t, "ASSAY_TRIAL_DIR", dir) < 0 ||
	    task_setenv(t, "ASSAY_METRICS", metrics) < 0) {
		exec_fail_message(e, "out of memory");
		return false;
	}
	return true;
}

static void exec_admit(run_exec *e)
{
	run *r = e->run;
	int64_t start_ns;
	assay_task *t;

	if (!exec_pass(e, SIZE_MAX))
		return;
	if (!(t = exec_task(e))) {
		exec_fail_message(e, "out of memory");
		return;
	}
	if (r->o.trial_dirs && r->o.trial_dirs[e->launch->index] &&
	    !exec_trial_dir(e, t, r->o.trial_dirs[e->launch->index]))
		return;
	/* run_stop() sets `stopping`, then cancels the tasks executions
	 * hold.  Should this load miss it, run_stop() may miss the task too;
	 * then the run goes on as if it had started a moment earlier, and
	 * task_start() looks at `stopping` again before the task waits. */
	if (atomic_load_explicit(&r->stopping, memory_order_relaxed))
		task_cancel(t);
	start_ns = exec_worker.start_ns;
	exec_worker.start_ns = 0;
	if (r->events & RUN_EVENT_START)
		events_publish(r, RUN_EVENT_START, e->launch->index, exec_item_index(e), t->attempt,
			       start_ns, NULL);
	task_start(t, start_ns);
}

/* Run e on this thread now, then the continuations it leaves. */
void exec_run(run_exec *e)
{
	run_worker *w = &exec_worker;
	bool outer = !w->in_loop;

	w->index = pool_worker_index(e->run->pool);
	w->in_loop = true;
	w->start_ns = 0;
	while (e) {
		exec_admit(e);
		e = w->next;
		w->next = NULL;
		w->start_ns = w->next_start_ns;
	}
	w->start_ns = 0;
	w->in_loop = !outer;
}

static void exec_job(pool_job *job)
{
	exec_run((run_exec *)job);
}

/* e's limits (its groups' and its sweep's max_parallel) entered here and
 * now, the rest of it left to the pool: called for the trials of a sweep
 * in declaration order, they queue at the sweep's limit in that order,
 * yet max_parallel of them run at once even when their type computes in
 * run(), which exec_run() would do here, one after another. */
void exec_enter_in_order(run_exec *e)
{
	if (exec_pass(e, e->launch->n_limits) && pool_submit(e->run->pool, &e->job) < 0)
		exec_job(&e->job); /* a deque could not grow: run it here */
}

/* Run e on this thread or hand it to the pool.  A worker that finished a
 * node continues with e itself (may_continue; see run_worker).
 * So does the reactor thread, when a plugin completed there, but only for
 * a type that just starts waiting work (ASSAY_TYPE_QUICK_RUN): it starts
 * sooner than a pool thread could be woken for it, while anything else
 * would hold up every timer and socket.  Any other thread (a plugin's
 * own) hands e to the pool. */
void exec_schedule(run_exec *e, bool may_continue)
{
	run_worker *w = &exec_worker;

	if (may_continue && !w->next) {
		bool on_reactor = reactor_is_current(e->run->re);
		bool quick = on_reactor && (exec_plan_node(e)->type->flags & ASSAY_TYPE_QUICK_RUN);

		if (w->in_loop && (!on_reactor || quick)) {
			w->next = e;
			/* Only after its only predecessor: another one may have
			 * read the clock later than this one, yet finished first. */
			w->next_start_ns =
				run_n_preds(e->run, e->launch->index) == 1 ? w->end_ns : 0;
			return;
		}
		if (!w->in_loop && quick) {
			exec_run(e);
			return;
		}
	}
	if (pool_submit(e->run->pool, &e->job) < 0) {
		/* A deque could not grow: run it here rather than lose it. */
		exec_job(&e->job);
	}
}

void exec_setup(run *r, run_exec *e, run_launch *l)
{
	e->job.fn = exec_job;
	e->launch = l;
	e->run = r;
	e->item = SIZE_MAX;
	e->history = NULL;
	atomic_init(&e->task, NULL);
	atomic_init(&e->phase, EXEC_ACTIVE);
}

/* Final: the node is, unless it is a validation with items still to go. */
void exec_final(run_exec *e)
{
	run_launch *l = e->launch;
	run *r = e->run;
	size_t v = l->index;

	e->history = NULL; /* the run keeps it; the exec may be recycled */
	exec_return_task(e);
	if (!l->recycled && !items_final(e))
		return;
	launch_end(r, l);
	ready_node_final(r, v);
}
