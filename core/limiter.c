/* limiter.c -- a counting semaphore whose waiters queue in order and hold
 * no thread. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include "limiter.h"

void limiter_init(limiter *l, unsigned slots)
{
	pthread_mutex_init(&l->lock, NULL);
	l->avail = slots;
	l->wanted = false;
	fifo_init(&l->waiters);
}

bool limiter_enter(limiter *l, fifo_link *w)
{
	bool in;

	pthread_mutex_lock(&l->lock);
	in = l->avail > 0 && fifo_empty(&l->waiters);
	if (in)
		l->avail--;
	else
		fifo_push(&l->waiters, w);
	pthread_mutex_unlock(&l->lock);
	return in;
}

/* A queued waiter is never overtaken: it holds the slot-to-be. */
bool limiter_try(limiter *l)
{
	bool in;

	pthread_mutex_lock(&l->lock);
	in = l->avail > 0 && fifo_empty(&l->waiters);
	if (in)
		l->avail--;
	else
		l->wanted = true;
	pthread_mutex_unlock(&l->lock);
	return in;
}

/* Handing the slot over rather than freeing it for whoever comes next is
 * what keeps the order: with `jobs` full, the next command starts the
 * moment a child exits, and it is the one that waited longest.  The
 * flag is read under the same lock as the try that set it: a try that
 * failed just before this leave is never missed. */
fifo_link *limiter_leave(limiter *l, bool *wanted)
{
	fifo_link *w = NULL;

	pthread_mutex_lock(&l->lock);
	if (wanted && l->wanted) {
		l->wanted = false;
		*wanted = true; /* the caller keeps the slot, to offer it */
	} else {
		if (wanted)
			*wanted = false;
		if (!(w = fifo_pop(&l->waiters)))
			l->avail++;
	}
	pthread_mutex_unlock(&l->lock);
	return w;
}

fifo_link *limiter_drain(limiter *l)
{
	fifo_link *w;

	pthread_mutex_lock(&l->lock);
	w = fifo_take_all(&l->waiters);
	pthread_mutex_unlock(&l->lock);
	return w;
}

void limiter_release(limiter *l)
{
	pthread_mutex_destroy(&l->lock);
}
