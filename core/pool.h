/* pool.h -- worker threads, each with a work-stealing deque: jobs pushed by
 * a worker go to its own deque, jobs from other threads to a shared
 * injection queue; an idle worker steals from random victims, spins
 * briefly, then parks, so an idle pool uses no CPU.
 *
 * Jobs are intrusive: the caller embeds a pool_job in its own structure,
 * so submitting allocates nothing. */
#ifndef ASSAY_POOL_H
#define ASSAY_POOL_H

#include <stdbool.h>
#include <stddef.h>

typedef struct pool pool;
typedef struct pool_job pool_job;

struct pool_job {
	void (*fn)(pool_job *job); /* runs on a worker thread */
	pool_job *next;            /* the injection queue's link; the pool's */
};

/* Start `workers` threads (>= 1).  0 or a negative ASSAY_E* code. */
int pool_new(pool **out, unsigned workers);

/* Queue job from any thread (a worker's own deque when called on a
 * worker, else the injection queue) and wake a parked worker if there is
 * one.  0, or ASSAY_ENOMEM when a deque could not grow (job not queued). */
int pool_submit(pool *p, pool_job *job);

/* Stop the threads (a running job finishes first) and free the pool.  The
 * caller knows its work is done -- it keeps its own count -- so the pool
 * needs no shared counter on its hot path; jobs still queued are dropped.
 * Not from a worker. */
void pool_free(pool *p);

/* The calling thread's worker index in p, or -1 if it is not one of p's. */
int pool_worker_index(const pool *p);

/* The number of worker threads. */
unsigned pool_workers(const pool *p);

#endif /* ASSAY_POOL_H */
