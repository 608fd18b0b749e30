/* run_resq.c -- the run's resource queues, one per resource type: first
 * come, first served; a type that answers "not now" is asked again when a
 * holder releases, or after the retry_ms it named.  A waiter holds no
 * thread, and no jobs slot: an execution's last resource is granted
 * together with its slot (see "Slot and devices together" below), so a
 * node holds a device only while it runs.  A wait is bounded by the
 * node's timeout. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run_int.h"

struct resq {
	pthread_mutex_t lock;
	const assay_resource_type *type;
	fifo waiters;
	bool poll_armed;         /* a retry_ms timer is pending */
	assay_timer *poll_timer; /* the last one armed */
	run *run;
};

/* Slot and devices together.  The last resource step of an execution
 * takes its `jobs` slot too: a non-queuing limiter_try() right before
 * that step's try_acquire, so that waiting for a device never holds a
 * slot and waiting for a slot never holds a device.  No free slot, or
 * "not now": the execution waits in this queue holding neither (but the
 * grants of its earlier resource steps, if it has several).  The slot
 * that a failed limiter_try() wanted is offered to the queues when one
 * frees: exec_give_slot() (run_exec.c) offers it to them before the
 * executions waiting for a slot alone, which get it when no queue's
 * first waiter can use it.  So a free device never idles for lack of a
 * slot, and since a waiter takes a slot only together with its device,
 * executions with resources hold at most as many slots as devices: the
 * others keep running what needs none. */

/* Whether e's request i is its last, which takes the jobs slot with it. */
static bool resq_needs_slot(const run_exec *e, size_t i)
{
	return e->run->jobs_bound && i + 1 == e->launch->n_res;
}

/* Ask the type for e's request i.  A message the type sets during a
 * refusal says why (assay_resource_type.try_acquire); one set during a
 * grant or a "not now" says nothing of the node, and is dropped.  Only
 * the thread admitting e touches its task until it starts. */
static int resq_try(resq *q, run_exec *e, size_t i, uint32_t *retry_ms)
{
	assay_task *t = atomic_load_explicit(&e->task, memory_order_relaxed);
	int rc = q->type->try_acquire(t, exec_plan_node(e)->resource_reqs[i], q->type->data,
				      &e->grants[i], retry_ms);

	if (t->message && (rc == 0 || rc == ASSAY_EAGAIN))
		task_clear_message(t);
	return rc;
}

/* Why e waits in q, as the type tells it (a 3.0 type cannot: its struct
 * was copied without describe_wait by the registry), into buf. */
static const char *resq_describe(const resq *q, const run_exec *e, char *buf, size_t size)
{
	size_t i = e->stage - e->launch->n_limits;

	buf[0] = '\0';
	if (q->type->describe_wait)
		q->type->describe_wait(exec_plan_node(e)->resource_reqs[i], q->type->data, buf, size);
	if (!buf[0])
		snprintf(buf, size, "`%s`", q->type->name);
	return buf;
}

/* e has just queued in q: tell who follows the run (q->lock held), the
 * type's reason, or `slot_only`: its device was free, a jobs slot not. */
static void resq_publish_wait(resq *q, run_exec *e, bool slot_only)
{
	run *r = q->run;
	char text[256];
	assay_task *t;

	if (!(r->events & RUN_EVENT_WAIT))
		return;
	t = atomic_load_explicit(&e->task, memory_order_relaxed);
	if (slot_only)
		snprintf(text, sizeof text, "a place in `jobs` (for `%s`)", q->type->name);
	events_publish_wait(r, e->launch->index, exec_item_index(e), t->attempt,
			    slot_only ? text : resq_describe(q, e, text, sizeof text));
}

static void resq_poll(resq *q, bool *slot_in_hand);

static void resq_poll_timer(void *arg)
{
	resq *q = arg;
	run *r = q->run;
	bool counted = run_enter(r);

	pthread_mutex_lock(&q->lock);
	q->poll_armed = false;
	pthread_mutex_unlock(&q->lock);
	resq_poll(q, NULL);
	run_leave(r, counted);
}

/* Arm the retry_ms poll (called with q->lock held). */
static void resq_arm(resq *q, uint32_t retry_ms)
{
	if (retry_ms && !q->poll_armed &&
	    reactor_timer_start(q->run->re, retry_ms, resq_poll_timer, q, &q->poll_timer) == 0)
		q->poll_armed = true;
}

/* The node's timeout passed while e waited in a queue: UNKNOWN, saying
 * for what, not retried -- unless e left the queue meanwhile (granted,
 * or drained by a stop), when whoever took it out waits for this
 * callback before e moves on. */
static void resq_wait_timer(void *arg)
{
	run_exec *e = arg;
	run *r = e->run;
	bool counted = run_enter(r), found;
	resq *q = e->launch->resq[e->stage - e->launch->n_limits];
	assay_task *t = atomic_load_explicit(&e->task, memory_order_relaxed);
	char text[256], *msg = NULL;

	pthread_mutex_lock(&q->lock);
	if ((found = fifo_remove(&q->waiters, &e->wait)))
		e->wait_timer = NULL;
	pthread_mutex_unlock(&q->lock);
	if (found) {
		if (asprintf(&msg, "waited %g s for `%s`: %s", (double)t->timeout_ms / 1000,
			     q->type->name, resq_describe(q, e, text, sizeof text)) < 0)
			msg = NULL;
		exec_fail_message(e, msg ? msg : "timed out waiting for a resource");
		free(msg);
	}
	run_leave(r, counted);
}

/* Queue e (called with q->lock held), its wait bounded by its timeout. */
static void resq_queue(resq *q, run_exec *e)
{
	assay_task *t = atomic_load_explicit(&e->task, memory_order_relaxed);

	fifo_push(&q->waiters, &e->wait);
	e->wait_timer = NULL;
	if (t->timeout_ms > 0)
		reactor_timer_start(q->run->re, (uint64_t)t->timeout_ms, resq_wait_timer, e,
				    &e->wait_timer);
}

/* e left the queue (taken out under q->lock, whose wait_timer was read
 * then): its timeout must not fire on it, nor be firing, once it moves
 * on. */
static void resq_unqueued(resq *q, assay_timer *wait_timer)
{
	if (wait_timer)
		reactor_timer_stop(q->run->re, wait_timer);
}

/* The end of one poll step: e was taken out with answer rc (0: granted,
 * else refused), holding the slot it took for it (`took`). */
static void resq_granted(resq *q, run_exec *e, int rc, bool took, assay_timer *wait_timer)
{
	resq_unqueued(q, wait_timer);
	if (rc == 0) {
		e->stage++;
		exec_schedule(e, false);
		return;
	}
	if (took)
		exec_give_slot(q->run);
	exec_fail_acquire(e, q->type->name, rc);
}

/* Grant what can be granted to the waiters, in order.  slot_in_hand
 * (may be NULL): the caller holds a jobs slot it offers to the first
 * waiter that needs one; false once taken. */
static void resq_poll(resq *q, bool *slot_in_hand)
{
	for (;;) {
		run_exec *e;
		uint32_t retry_ms = 0;
		assay_timer *wait_timer;
		bool took = false, hand = false;
		size_t i;
		int rc;

		pthread_mutex_lock(&q->lock);
		/* Stopping: run_stop() drains the waiters; none starts now. */
		if (fifo_empty(&q->waiters) || atomic_load(&q->run->stopping)) {
			pthread_mutex_unlock(&q->lock);
			return;
		}
		e = FIFO_ENTRY(fifo_first(&q->waiters), run_exec, wait);
		i = e->stage - e->launch->n_limits;
		if (resq_needs_slot(e, i)) {
			hand = slot_in_hand && *slot_in_hand;
			if (!hand && !(took = limiter_try(&q->run->jobs))) {
				pthread_mutex_unlock(&q->lock); /* a freed slot polls again */
				return;
			}
		}
		rc = resq_try(q, e, i, &retry_ms);
		if (rc == ASSAY_EAGAIN) {
			resq_arm(q, retry_ms);
			pthread_mutex_unlock(&q->lock);
			if (took)
				exec_give_slot(q->run);
			return;
		}
		fifo_pop(&q->waiters);
		wait_timer = e->wait_timer;
		pthread_mutex_unlock(&q->lock);
		if (rc == 0 && hand)
			*slot_in_hand = false;
		resq_granted(q, e, rc, took, wait_timer);
	}
}

/* 1: acquired (with the jobs slot, for the last request); 0: queued;
 * negative: the request failed.  The wait is published under the lock:
 * once it is released, e's wait may time out and e be gone. */
int resq_enter(resq *q, run_exec *e, size_t i)
{
	uint32_t retry_ms = 0;
	bool took = false;
	int rc;

	pthread_mutex_lock(&q->lock);
	if (!fifo_empty(&q->waiters) ||
	    (resq_needs_slot(e, i) && !(took = limiter_try(&q->run->jobs)))) {
		resq_queue(q, e); /* first come, first served */
		resq_publish_wait(q, e, fifo_first(&q->waiters) == &e->wait);
		pthread_mutex_unlock(&q->lock);
		return 0;
	}
	rc = resq_try(q, e, i, &retry_ms);
	if (rc == ASSAY_EAGAIN) {
		resq_queue(q, e);
		resq_arm(q, retry_ms);
		resq_publish_wait(q, e, false);
		pthread_mutex_unlock(&q->lock);
		if (took)
			exec_give_slot(q->run);
		return 0;
	}
	pthread_mutex_unlock(&q->lock);
	if (rc < 0 && took)
		exec_give_slot(q->run);
	return rc == 0 ? 1 : rc;
}

/* e gives its grant of request i back; the caller polls the queue. */
void resq_leave(resq *q, run_exec *e, size_t i)
{
	q->type->release(e->grants[i], q->type->data);
	e->grants[i] = NULL;
}

/* A grant of q's type was given back: the waiters may have it now, and
 * the slot in hand (see resq_poll) with it. */
void resq_released(resq *q, bool *slot_in_hand)
{
	resq_poll(q, slot_in_hand);
}

/* Offer a jobs slot the caller holds to every queue's first waiters. */
void resq_offer_slot(run *r, bool *slot_in_hand)
{
	size_t i, n_resq;

	pthread_mutex_lock(&r->resq_lock);
	n_resq = r->n_resq;
	pthread_mutex_unlock(&r->resq_lock);
	for (i = 0; i < n_resq; i++) {
		resq *q;

		pthread_mutex_lock(&r->resq_lock);
		q = r->resq[i]; /* the array may move as it grows */
		pthread_mutex_unlock(&r->resq_lock);
		resq_poll(q, slot_in_hand);
	}
}

const char *resq_name(const resq *q)
{
	return q->type->name;
}

/* The queue of a resource type, made when a node first needs it. */
resq *resq_for(run *r, const assay_resource_type *type)
{
	resq **grown, *q = NULL;
	size_t k;

	pthread_mutex_lock(&r->resq_lock);
	for (k = 0; k < r->n_resq && !q; k++)
		if (r->resq[k]->type == type)
			q = r->resq[k];
	if (!q && (grown = realloc(r->resq, (r->n_resq + 1) * sizeof *grown))) {
		r->resq = grown;
		if ((q = calloc(1, sizeof *q))) {
			pthread_mutex_init(&q->lock, NULL);
			fifo_init(&q->waiters);
			q->type = type;
			q->run = r;
			r->resq[r->n_resq++] = q;
		}
	}
	pthread_mutex_unlock(&r->resq_lock);
	return q;
}

/* Every waiter of q taken out, their wait timers stopped, and resumed:
 * each sees the stop. */
static void resq_drain(resq *q)
{
	fifo_link *w, *next, *first;

	pthread_mutex_lock(&q->lock);
	first = fifo_take_all(&q->waiters);
	pthread_mutex_unlock(&q->lock);
	for (w = first; w; w = w->next) {
		run_exec *e = FIFO_ENTRY(w, run_exec, wait);

		resq_unqueued(q, e->wait_timer);
		e->wait_timer = NULL;
	}
	for (w = first; w; w = next) {
		next = w->next;
		exec_schedule(FIFO_ENTRY(w, run_exec, wait), false);
	}
}

/* The run stops: whoever waits for a resource will not get one now; it
 * goes on, and its admission sees the stop. */
void resq_drain_all(run *r)
{
	size_t i, n_resq;

	pthread_mutex_lock(&r->resq_lock);
	n_resq = r->n_resq;
	pthread_mutex_unlock(&r->resq_lock);
	for (i = 0; i < n_resq; i++) {
		resq *q;

		pthread_mutex_lock(&r->resq_lock);
		q = r->resq[i];
		pthread_mutex_unlock(&r->resq_lock);
		resq_drain(q);
	}
}

/* A poll may still be pending (a stop left nobody waiting): it must not
 * fire on a freed queue. */
void resq_release_all(run *r)
{
	size_t i;

	for (i = 0; i < r->n_resq; i++) {
		resq *q = r->resq[i];
		assay_timer *t;

		pthread_mutex_lock(&q->lock);
		t = q->poll_timer;
		pthread_mutex_unlock(&q->lock);
		if (t)
			reactor_timer_stop(r->re, t);
		pthread_mutex_destroy(&q->lock);
		free(q);
	}
	free(r->resq);
	pthread_mutex_destroy(&r->resq_lock);
}
