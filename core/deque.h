/* deque.h -- Chase-Lev work-stealing deque with the C11 memory orderings
 * of Le, Pop, Cohen and Zappa Nardelli, "Correct and Efficient
 * Work-Stealing for Weak Memory Models" (PPoPP 2013).
 *
 * One owner thread pushes and takes at the bottom (LIFO, cache-warm);
 * any thread steals from the top (FIFO).  Items are opaque non-NULL
 * pointers.  The buffer grows by doubling; a buffer it outgrew is kept
 * until deque_release(), because a thief may still be reading it (the
 * total retired is less than the final size: no reclamation scheme is
 * needed for that bounded waste). */
#ifndef ASSAY_DEQUE_H
#define ASSAY_DEQUE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct deque_buffer deque_buffer;

typedef struct deque {
	_Alignas(64) atomic_int_fast64_t top;    /* thieves' end */
	_Alignas(64) atomic_int_fast64_t bottom; /* owner's end */
	_Alignas(64) _Atomic(deque_buffer *) buffer;
	deque_buffer *retired; /* outgrown buffers, owner-only */
} deque;

/* Returned by deque_steal() when it lost a race: the deque may still hold
 * items, so the thief may try again (or another victim). */
#define DEQUE_ABORT ((void *)(uintptr_t)1)

/* Set up with room for 2^log_size items before the first growth.
 * 0 or ASSAY_ENOMEM. */
int deque_init(deque *d, unsigned log_size);

/* Free every buffer.  No thread may use the deque any more. */
void deque_release(deque *d);

/* Owner only.  0, or ASSAY_ENOMEM when growing failed (item not pushed). */
int deque_push(deque *d, void *item);

/* Owner only: the most recently pushed item, or NULL when empty. */
void *deque_take(deque *d);

/* Any thread: the oldest item, NULL when empty, or DEQUE_ABORT. */
void *deque_steal(deque *d);

/* A snapshot, for idle heuristics only: may be stale at once. */
int64_t deque_size(const deque *d);

#endif /* ASSAY_DEQUE_H */
