/* limiter.h -- a counting semaphore whose waiters queue in order and hold
 * no thread: the run's `jobs`, and each group's max_parallel. */
#ifndef ASSAY_LIMITER_H
#define ASSAY_LIMITER_H

#include <pthread.h>
#include <stdbool.h>

#include "fifo.h"

typedef struct limiter {
	pthread_mutex_t lock;
	unsigned avail; /* slots free */
	fifo waiters;   /* in order of arrival */
	bool wanted;    /* a limiter_try() failed since the last limiter_leave() */
} limiter;

/* A limiter of `slots` slots, none taken. */
void limiter_init(limiter *l, unsigned slots);

/* Take a slot (true), or queue w behind the waiters (false) until
 * limiter_leave() hands it one.  A newcomer never overtakes a waiter. */
bool limiter_enter(limiter *l, fifo_link *w);

/* Take a slot if one is free now (true); never queues.  A failure is
 * remembered (see limiter_leave): the caller waits elsewhere -- a
 * resource queue -- and asks again when a slot frees. */
bool limiter_try(limiter *l);

/* Give a slot back: straight to the first waiter, which is returned (it
 * holds the slot now; the caller wakes it), or NULL when none waits.
 * With wanted not NULL: when a limiter_try() failed since the last such
 * leave, nothing is given back -- *wanted is set, and the caller still
 * holds the slot, to offer it to whoever tried (then leave again) --
 * else *wanted is false. */
fifo_link *limiter_leave(limiter *l, bool *wanted);

/* Take every waiter out, without a slot (a run that stops): their links,
 * first to last, chained as fifo_take_all() says. */
fifo_link *limiter_drain(limiter *l);

void limiter_release(limiter *l);

#endif /* ASSAY_LIMITER_H */
