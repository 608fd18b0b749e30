/* run_resq.c -- the run's resource queues, one per resource type: first
 * come, first served; a type that answers "not now" is asked again when a
 * holder releases, or after the retry_ms it named.  A waiter holds no
 * thread. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <stdlib.h>

#include "run_int.h"

struct resq {
	pthread_mutex_t lock;
	const assay_resource_type *type;
	fifo waiters;
	bool poll_armed;         /* a retry_ms timer is pending */
	assay_timer *poll_timer; /* the last one armed */
	run *run;
};

/* Ask the type for e's request i. */
static int resq_try(resq *q, run_exec *e, size_t i, uint32_t *retry_ms)
{
	assay_task *t = atomic_load_explicit(&e->task, memory_order_relaxed);

	return q->type->try_acquire(t, exec_plan_node(e)->resource_reqs[i], q->type->data,
				    &e->grants[i], retry_ms);
}

static void resq_poll(resq *q);

static void resq_poll_timer(void *arg)
{
	resq *q = arg;
	run *r = q->run;
	bool counted = run_enter(r);

	pthread_mutex_lock(&q->lock);
	q->poll_armed = false;
	pthread_mutex_unlock(&q->lock);
	resq_poll(q);
	run_leave(r, counted);
}

/* Arm the retry_ms poll (called with q->lock held). */
static void resq_arm(resq *q, uint32_t retry_ms)
{
	if (retry_ms && !q->poll_armed &&
	    reactor_timer_start(q->run->re, retry_ms, resq_poll_timer, q, &q->poll_timer) == 0)
		q->poll_armed = true;
}

/* Grant what can be granted to the waiters, in order. */
static void resq_poll(resq *q)
{
	for (;;) {
		run_exec *e;
		uint32_t retry_ms = 0;
		size_t i;
		int rc;

		pthread_mutex_lock(&q->lock);
		if (fifo_empty(&q->waiters)) {
			pthread_mutex_unlock(&q->lock);
			return;
		}
		e = FIFO_ENTRY(fifo_first(&q->waiters), run_exec, wait);
		i = e->stage - e->launch->n_limits;
		rc = resq_try(q, e, i, &retry_ms);
		if (rc == ASSAY_EAGAIN) {
			resq_arm(q, retry_ms);
			pthread_mutex_unlock(&q->lock);
			return;
		}
		fifo_pop(&q->waiters);
		pthread_mutex_unlock(&q->lock);
		if (rc == 0) {
			e->stage++;
			exec_schedule(e, false);
		} else {
			exec_fail(e, q->type->name, rc);
		}
	}
}

/* 1: acquired; 0: queued; negative: the request failed. */
int resq_enter(resq *q, run_exec *e, size_t i)
{
	uint32_t retry_ms = 0;
	int rc;

	pthread_mutex_lock(&q->lock);
	if (!fifo_empty(&q->waiters)) {
		fifo_push(&q->waiters, &e->wait); /* first come, first served */
		pthread_mutex_unlock(&q->lock);
		return 0;
	}
	rc = resq_try(q, e, i, &retry_ms);
	if (rc == ASSAY_EAGAIN) {
		fifo_push(&q->waiters, &e->wait);
		resq_arm(q, retry_ms);
		pthread_mutex_unlock(&q->lock);
		return 0;
	}
	pthread_mutex_unlock(&q->lock);
	return rc == 0 ? 1 : rc;
}

/* e gives its grant of request i back: the waiters may have it now. */
void resq_leave(resq *q, run_exec *e, size_t i)
{
	q->type->release(e->grants[i], q->type->data);
	e->grants[i] = NULL;
	resq_poll(q);
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

/* The run stops: whoever waits for a resource will not get one now; it
 * goes on, and its admission sees the stop. */
void resq_drain_all(run *r)
{
	size_t i, n_resq;

	pthread_mutex_lock(&r->resq_lock);
	n_resq = r->n_resq;
	pthread_mutex_unlock(&r->resq_lock);
	for (i = 0; i < n_resq; i++) {
		fifo_link *w;
		resq *q;

		pthread_mutex_lock(&r->resq_lock);
		q = r->resq[i]; /* the array may move as it grows */
		pthread_mutex_unlock(&r->resq_lock);
		pthread_mutex_lock(&q->lock);
		w = fifo_take_all(&q->waiters);
		pthread_mutex_unlock(&q->lock);
		exec_resume_all(w);
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
