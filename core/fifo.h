/* fifo.h -- one intrusive first-in first-out queue: the waiters of a
 * limiter or of a resource queue.  What waits embeds a fifo_link, so
 * queueing allocates nothing; the owner of the queue locks it. */
#ifndef ASSAY_FIFO_H
#define ASSAY_FIFO_H

#include <stdbool.h>
#include <stddef.h>

typedef struct fifo_link {
	struct fifo_link *next;
} fifo_link;

typedef struct fifo {
	fifo_link *head, *tail;
} fifo;

/* The `type` whose member `member` is the link at `link`. */
#define FIFO_ENTRY(link, type, member) ((type *)(void *)((char *)(link) - offsetof(type, member)))

static inline void fifo_init(fifo *q)
{
	q->head = q->tail = NULL;
}

static inline bool fifo_empty(const fifo *q)
{
	return !q->head;
}

/* The first link, left in the queue; NULL when it is empty. */
static inline fifo_link *fifo_first(const fifo *q)
{
	return q->head;
}

static inline void fifo_push(fifo *q, fifo_link *l)
{
	l->next = NULL;
	if (q->tail)
		q->tail->next = l;
	else
		q->head = l;
	q->tail = l;
}

/* The first link, taken out; NULL when the queue is empty. */
static inline fifo_link *fifo_pop(fifo *q)
{
	fifo_link *l = q->head;

	if (l && !(q->head = l->next))
		q->tail = NULL;
	return l;
}

/* Take l out of the queue, wherever it is (a waiter whose wait timed
 * out): true, or false when l is not in it.  A walk: queues are short. */
static inline bool fifo_remove(fifo *q, fifo_link *l)
{
	fifo_link **at = &q->head, *prev = NULL;

	for (; *at; prev = *at, at = &(*at)->next)
		if (*at == l) {
			*at = l->next;
			if (q->tail == l)
				q->tail = prev;
			return true;
		}
	return false;
}

/* Empty the queue: its links, first to last, chained through `next`.  A
 * walker reads a link's `next` before handing the link on, since whoever
 * gets it may queue it again. */
static inline fifo_link *fifo_take_all(fifo *q)
{
	fifo_link *l = q->head;

	q->head = q->tail = NULL;
	return l;
}

#endif /* ASSAY_FIFO_H */
