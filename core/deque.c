/* deque.c -- the Chase-Lev work-stealing deque, with the C11 orderings of
 * Le, Pop, Cohen and Zappa Nardelli (PPoPP 2013, Fig. 1). */

#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "assay/plugin.h"
#include "deque.h"

/* ThreadSanitizer does not model fences, so it would take push's
 * release fence for nothing and report the item's contents as a race with
 * the thief that reads them.  Under it, that fence and the relaxed store it
 * orders become the release store they amount to.  The seq_cst fences only
 * order atomics against atomics, which TSan never reports, so they stay. */
#if defined(__SANITIZE_THREAD__)
#define DEQUE_TSAN 1
#if !defined(__clang__) && __GNUC__ >= 11
#pragma GCC diagnostic ignored "-Wtsan"
#endif
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define DEQUE_TSAN 1
#endif
#endif

struct deque_buffer {
	int_fast64_t size;     /* a power of two: index i lives at i & (size - 1) */
	deque_buffer *retired; /* the next older outgrown buffer */
	/* Atomic because a thief reads a slot while the owner may be
	 * overwriting it after wrapping around; its CAS then fails and the
	 * value it read is thrown away. */
	_Atomic(void *) items[];
};

static deque_buffer *deque_buffer_new(int_fast64_t size)
{
	deque_buffer *a;

	if ((uint_fast64_t)size > (SIZE_MAX - sizeof(*a)) / sizeof(a->items[0]))
		return NULL;
	a = malloc(sizeof(*a) + (size_t)size * sizeof(a->items[0]));
	if (!a)
		return NULL;
	a->size = size;
	a->retired = NULL;
	return a;
}

int deque_init(deque *d, unsigned log_size)
{
	deque_buffer *a;

	if (log_size > 62)
		return ASSAY_ENOMEM;
	a = deque_buffer_new((int_fast64_t)1 << log_size);
	if (!a)
		return ASSAY_ENOMEM;
	atomic_init(&d->top, 0);
	atomic_init(&d->bottom, 0);
	atomic_init(&d->buffer, a);
	d->retired = NULL;
	return 0;
}

void deque_release(deque *d)
{
	deque_buffer *a = atomic_load_explicit(&d->buffer, memory_order_relaxed);
	deque_buffer *next;

	free(a);
	for (a = d->retired; a; a = next) {
		next = a->retired;
		free(a);
	}
	atomic_store_explicit(&d->buffer, NULL, memory_order_relaxed);
	d->retired = NULL;
}

/* Double the buffer, copying the live items to the same indices.  The old
 * buffer is retired, not freed: a thief that loaded it before the switch
 * may still read a slot of it, and those slots never change again. */
static deque_buffer *deque_grow(deque *d, deque_buffer *old, int_fast64_t t, int_fast64_t b)
{
	deque_buffer *a;
	int_fast64_t i;

	if (old->size > INT_FAST64_MAX / 2)
		return NULL;
	a = deque_buffer_new(old->size * 2);
	if (!a)
		return NULL;
	for (i = t; i < b; i++) {
		void *x = atomic_load_explicit(&old->items[i & (old->size - 1)],
					       memory_order_relaxed);

		atomic_store_explicit(&a->items[i & (a->size - 1)], x, memory_order_relaxed);
	}
	old->retired = d->retired;
	d->retired = old;
	/* Release so that a thief which sees the new buffer also sees its
	 * size and the copied slots. */
	atomic_store_explicit(&d->buffer, a, memory_order_release);
	return a;
}

int deque_push(deque *d, void *item)
{
	int_fast64_t b = atomic_load_explicit(&d->bottom, memory_order_relaxed);
	int_fast64_t t = atomic_load_explicit(&d->top, memory_order_acquire);
	deque_buffer *a = atomic_load_explicit(&d->buffer, memory_order_relaxed);

	if (b - t > a->size - 1) {
		a = deque_grow(d, a, t, b);
		if (!a)
			return ASSAY_ENOMEM;
	}
	atomic_store_explicit(&a->items[b & (a->size - 1)], item, memory_order_relaxed);
#ifdef DEQUE_TSAN
	atomic_store_explicit(&d->bottom, b + 1, memory_order_release);
#else
	/* A thief that sees the new bottom must see the item (and whatever
	 * the pusher wrote into it). */
	atomic_thread_fence(memory_order_release);
	atomic_store_explicit(&d->bottom, b + 1, memory_order_relaxed);
#endif
	return 0;
}

void *deque_take(deque *d)
{
	int_fast64_t b = atomic_load_explicit(&d->bottom, memory_order_relaxed) - 1;
	deque_buffer *a = atomic_load_explicit(&d->buffer, memory_order_relaxed);
	int_fast64_t t;
	void *x;

	/* Claim the bottom slot before looking at top; the seq_cst fence
	 * pairs with the thieves' so that owner and thief cannot both miss
	 * each other's claim on the last item. */
	atomic_store_explicit(&d->bottom, b, memory_order_relaxed);
	atomic_thread_fence(memory_order_seq_cst);
	t = atomic_load_explicit(&d->top, memory_order_relaxed);
	if (t > b) {
		/* Empty: put bottom back where it was. */
		atomic_store_explicit(&d->bottom, b + 1, memory_order_relaxed);
		return NULL;
	}
	x = atomic_load_explicit(&a->items[b & (a->size - 1)], memory_order_relaxed);
	if (t == b) {
		/* The last item: thieves may be after it too, so it goes to
		 * whoever moves top first. */
		if (!atomic_compare_exchange_strong_explicit(
			    &d->top, &t, t + 1, memory_order_seq_cst, memory_order_relaxed))
			x = NULL;
		atomic_store_explicit(&d->bottom, b + 1, memory_order_relaxed);
	}
	return x;
}

void *deque_steal(deque *d)
{
	int_fast64_t t = atomic_load_explicit(&d->top, memory_order_acquire);
	int_fast64_t b;
	deque_buffer *a;
	void *x;

	atomic_thread_fence(memory_order_seq_cst);
	b = atomic_load_explicit(&d->bottom, memory_order_acquire);
	if (t >= b)
		return NULL;
	/* The paper's consume, as acquire: compilers promote consume to
	 * acquire anyway, and it pairs with deque_grow's release. */
	a = atomic_load_explicit(&d->buffer, memory_order_acquire);
	x = atomic_load_explicit(&a->items[t & (a->size - 1)], memory_order_relaxed);
	if (!atomic_compare_exchange_strong_explicit(&d->top, &t, t + 1, memory_order_seq_cst,
						     memory_order_relaxed))
		return DEQUE_ABORT;
	return x;
}

int64_t deque_size(const deque *d)
{
	int_fast64_t b = atomic_load_explicit(&d->bottom, memory_order_relaxed);
	int_fast64_t t = atomic_load_explicit(&d->top, memory_order_relaxed);

	return b > t ? (int64_t)(b - t) : 0;
}
