/* pool.c -- worker threads, each with a work-stealing deque; an idle worker
 * steals, spins briefly, then parks on a condition variable. */

#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "assay/plugin.h"
#include "deque.h"
#include "pool.h"

/* GCC warns that TSan does not model fences; the two here order atomics
 * against atomics only (a lost wakeup is no data race), so TSan misses
 * nothing by ignoring them. */
#if defined(__SANITIZE_THREAD__) && !defined(__clang__) && __GNUC__ >= 11
#pragma GCC diagnostic ignored "-Wtsan"
#endif

#define DEQUE_LOG_SIZE 8 /* 256 jobs before a worker's deque first grows */
#define SPIN_ROUNDS 16   /* looks for work before parking... */
#define SPIN_PAUSES 32   /* ...with this many pauses between looks */

struct worker {
	deque dq; /* first, so its alignment keeps neighbours' lines apart */
	pool *pool;
	pthread_t thread;
	uint64_t rng; /* xorshift64 state for picking victims */
	unsigned index;
};

struct pool {
	/* Read by everyone, written only by pool_new and pool_free. */
	struct worker *workers;
	unsigned nworkers;
	atomic_bool stop;

	/* How many workers are parked or about to park.  Every submit reads
	 * it, so it gets a line of its own that only parking writes. */
	_Alignas(64) atomic_uint sleepers;

	_Alignas(64) pthread_mutex_t park_lock;
	pthread_cond_t park_cond;
	unsigned wakeups; /* signals not yet consumed by a parked worker */

	/* Jobs from threads that are not workers, FIFO. */
	_Alignas(64) pthread_mutex_t inject_lock;
	pool_job *inject_head, *inject_tail;
	atomic_size_t inject_len; /* a hint for looking without locking */
};

/* The worker the calling thread is, if any: how pool_submit finds the deque
 * it may push to (only its owner may) without a lookup. */
static _Thread_local struct worker *self;

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#else
	sched_yield();
#endif
}

static uint64_t xorshift64(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *state = x;
}

static void inject_push(pool *p, pool_job *job)
{
	size_t len;

	job->next = NULL;
	pthread_mutex_lock(&p->inject_lock);
	if (p->inject_tail)
		p->inject_tail->next = job;
	else
		p->inject_head = job;
	p->inject_tail = job;
	/* Written under the lock only, so no read-modify-write is needed. */
	len = atomic_load_explicit(&p->inject_len, memory_order_relaxed);
	atomic_store_explicit(&p->inject_len, len + 1, memory_order_relaxed);
	pthread_mutex_unlock(&p->inject_lock);
}

/* *more is set when the queue still holds jobs after this one. */
static pool_job *inject_pop(pool *p, bool *more)
{
	pool_job *job;
	size_t len;

	/* Idle workers poll this; the unlocked look keeps them off the lock
	 * while the queue is empty, which is nearly always. */
	if (!atomic_load_explicit(&p->inject_len, memory_order_relaxed))
		return NULL;
	pthread_mutex_lock(&p->inject_lock);
	job = p->inject_head;
	if (job) {
		p->inject_head = job->next;
		if (!p->inject_head)
			p->inject_tail = NULL;
		len = atomic_load_explicit(&p->inject_len, memory_order_relaxed) - 1;
		atomic_store_explicit(&p->inject_len, len, memory_order_relaxed);
		*more = len > 0;
	}
	pthread_mutex_unlock(&p->inject_lock);
	return job;
}

/* Wake a parked worker, if any, for a job just made visible (one per new
 * job is enough).  The seq_cst fence pairs with the one in worker_park:
 * either this load sees the worker's announcement, or the worker's
 * re-check sees the job -- a wakeup cannot be lost. */
static void pool_wake(pool *p)
{
	atomic_thread_fence(memory_order_seq_cst);
	if (!atomic_load_explicit(&p->sleepers, memory_order_relaxed))
		return;
	pthread_mutex_lock(&p->park_lock);
	/* Under park_lock every announced sleeper is in pthread_cond_wait,
	 * so this never hands out more signals than there are sleepers. */
	if (p->wakeups < atomic_load_explicit(&p->sleepers, memory_order_relaxed)) {
		p->wakeups++;
		pthread_cond_signal(&p->park_cond);
	}
	pthread_mutex_unlock(&p->park_lock);
}

/* One sweep over the other workers from a random start, so thieves spread
 * over victims instead of all hitting worker 0. */
static pool_job *worker_steal(struct worker *w)
{
	pool *p = w->pool;
	unsigned n = p->nworkers, start, i;
	struct worker *v;
	void *job;

	if (n < 2)
		return NULL;
	start = (unsigned)(xorshift64(&w->rng) % n);
	for (i = 0; i < n; i++) {
		v = &p->workers[(start + i) % n];
		if (v == w)
			continue;
		/* An abort means another thread won that item, not that the
		 * victim is empty. */
		do
			job = deque_steal(&v->dq);
		while (job == DEQUE_ABORT);
		if (job) {
			/* The victim had a backlog: more idle workers may
			 * help. */
			if (deque_size(&v->dq) > 0)
				pool_wake(p);
			return job;
		}
	}
	return NULL;
}

static pool_job *worker_find(struct worker *w)
{
	pool_job *job;
	bool more = false;

	job = deque_take(&w->dq);
	if (job)
		return job;
	job = inject_pop(w->pool, &more);
	if (job) {
		if (more)
			pool_wake(w->pool);
		return job;
	}
	return worker_steal(w);
}

/* Work often turns up within microseconds (a finished job's successor on
 * another worker), and parking and waking cost more than that. */
static pool_job *worker_spin(struct worker *w)
{
	pool_job *job;
	int round, i;

	for (round = 0; round < SPIN_ROUNDS; round++) {
		for (i = 0; i < SPIN_PAUSES; i++)
			cpu_relax();
		if (atomic_load_explicit(&w->pool->stop, memory_order_relaxed))
			return NULL;
		job = worker_find(w);
		if (job)
			return job;
	}
	return NULL;
}

static bool pool_has_work(pool *p)
{
	unsigned i;

	if (atomic_load_explicit(&p->inject_len, memory_order_relaxed))
		return true;
	for (i = 0; i < p->nworkers; i++)
		if (deque_size(&p->workers[i].dq) > 0)
			return true;
	return false;
}

/* Announce, re-check, then sleep -- the other half of pool_wake.  The whole
 * of it holds park_lock, so a waker that saw the announcement cannot signal
 * before this thread waits. */
static void worker_park(struct worker *w)
{
	pool *p = w->pool;

	pthread_mutex_lock(&p->park_lock);
	atomic_fetch_add_explicit(&p->sleepers, 1, memory_order_seq_cst);
	atomic_thread_fence(memory_order_seq_cst);
	if (!pool_has_work(p) && !atomic_load_explicit(&p->stop, memory_order_relaxed)) {
		while (!p->wakeups && !atomic_load_explicit(&p->stop, memory_order_relaxed))
			pthread_cond_wait(&p->park_cond, &p->park_lock);
		if (p->wakeups)
			p->wakeups--;
	}
	atomic_fetch_sub_explicit(&p->sleepers, 1, memory_order_relaxed);
	pthread_mutex_unlock(&p->park_lock);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	pool *p = w->pool;
	pool_job *job;

	self = w;
	/* Checked between jobs, so pool_free waits for a running job only,
	 * never for a backlog. */
	while (!atomic_load_explicit(&p->stop, memory_order_relaxed)) {
		job = worker_find(w);
		if (!job)
			job = worker_spin(w);
		if (job)
			job->fn(job); /* job may be freed by now */
		else
			worker_park(w);
	}
	return NULL;
}

int pool_submit(pool *p, pool_job *job)
{
	struct worker *w = self;

	if (w && w->pool == p) {
		if (deque_push(&w->dq, job) != 0)
			return ASSAY_ENOMEM;
	} else {
		inject_push(p, job);
	}
	pool_wake(p);
	return 0;
}

int pool_worker_index(const pool *p)
{
	return self && self->pool == p ? (int)self->index : -1;
}

unsigned pool_workers(const pool *p)
{
	return p->nworkers;
}

static void pool_release_sync(pool *p)
{
	pthread_cond_destroy(&p->park_cond);
	pthread_mutex_destroy(&p->inject_lock);
	pthread_mutex_destroy(&p->park_lock);
}

/* Stops and joins the first `started` workers and frees everything;
 * pool_free and pool_new's error path share it. */
static void pool_teardown(pool *p, unsigned started)
{
	unsigned i;

	atomic_store_explicit(&p->stop, true, memory_order_seq_cst);
	pthread_mutex_lock(&p->park_lock);
	pthread_cond_broadcast(&p->park_cond);
	pthread_mutex_unlock(&p->park_lock);
	for (i = 0; i < started; i++)
		pthread_join(p->workers[i].thread, NULL);
	for (i = 0; i < p->nworkers; i++)
		deque_release(&p->workers[i].dq);
	pool_release_sync(p);
	free(p->workers);
	free(p);
}

void pool_free(pool *p)
{
	if (!p)
		return;
	assert(pool_worker_index(p) < 0); /* a worker cannot join itself */
	pool_teardown(p, p->nworkers);
}

/* 0 or an errno value. */
static int pool_init_sync(pool *p)
{
	int rc;

	rc = pthread_mutex_init(&p->park_lock, NULL);
	if (rc)
		return rc;
	rc = pthread_mutex_init(&p->inject_lock, NULL);
	if (rc)
		goto park_lock;
	rc = pthread_cond_init(&p->park_cond, NULL);
	if (rc)
		goto inject_lock;
	return 0;
inject_lock:
	pthread_mutex_destroy(&p->inject_lock);
park_lock:
	pthread_mutex_destroy(&p->park_lock);
	return rc;
}

int pool_new(pool **out, unsigned workers)
{
	sigset_t all, old;
	pool *p;
	unsigned i;
	int rc;

	*out = NULL;
	/* Indices are ints, and the array's size must fit a size_t. */
	if (!workers || workers > INT_MAX / sizeof(struct worker))
		return ASSAY_EINVAL;
	p = aligned_alloc(_Alignof(pool), sizeof(*p));
	if (!p)
		return ASSAY_ENOMEM;
	p->workers = aligned_alloc(_Alignof(struct worker), workers * sizeof(struct worker));
	if (!p->workers) {
		free(p);
		return ASSAY_ENOMEM;
	}
	p->nworkers = workers;
	atomic_init(&p->stop, false);
	atomic_init(&p->sleepers, 0);
	atomic_init(&p->inject_len, 0);
	p->wakeups = 0;
	p->inject_head = p->inject_tail = NULL;
	rc = pool_init_sync(p);
	if (rc) {
		free(p->workers);
		free(p);
		errno = rc;
		return ASSAY_ESYS;
	}
	for (i = 0; i < workers; i++) {
		struct worker *w = &p->workers[i];

		w->pool = p;
		w->index = i;
		w->rng = 0x9e3779b97f4a7c15ull * (i + 1); /* never 0 */
		if (deque_init(&w->dq, DEQUE_LOG_SIZE) < 0) {
			while (i--)
				deque_release(&p->workers[i].dq);
			pool_release_sync(p);
			free(p->workers);
			free(p);
			return ASSAY_ENOMEM;
		}
	}
	/* Signals go to the threads that wait for them (main, the reactor),
	 * never to a worker in the middle of a job: workers inherit a mask
	 * that blocks them all. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (i = 0; i < workers; i++) {
		rc = pthread_create(&p->workers[i].thread, NULL, worker_main, &p->workers[i]);
		if (rc)
			break;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (i < workers) {
		pool_teardown(p, i);
		errno = rc;
		return ASSAY_ESYS;
	}
	*out = p;
	return 0;
}
