/* recycler.c -- fixed-size objects recycled through per-worker lists. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "assay/plugin.h"
#include "bigarray.h"
#include "recycler.h"

/* Objects are made in blocks, the first of this many; each block holds
 * twice as many as the one before, up to BLOCK_MAX bytes, so that a run
 * with a million nodes in flight at once makes a few blocks on huge pages
 * (bigarray.h) rather than 30,000 small ones faulted in page by page. */
#define PER_BLOCK 32
#define BLOCK_MAX ((size_t)4 << 20)

/* Each object sits in a slot behind the link that chains it while it is
 * free, so the object's own bytes stay untouched in a list. */
typedef struct slot {
	struct slot *next;
	_Alignas(max_align_t) unsigned char obj[];
} slot;

typedef struct block {
	struct block *next;
	size_t n;                       /* slots */
	_Alignas(max_align_t) unsigned char slots[];
} block;

/* A worker's list, on a cache line of its own: only its worker uses it. */
typedef struct worker_list {
	_Alignas(64) slot *head;
} worker_list;

struct recycler {
	size_t slot_size;
	void (*make)(void *, void *);
	void (*destroy)(void *, void *);
	void *arg;
	worker_list *lists;

	/* Objects given back by other threads (the reactor's, when a plugin
	 * completes from a callback), and the blocks made, under `lock`. */
	pthread_mutex_t lock;
	slot *shared;
	block *blocks;
	size_t per_block;               /* the next block's slots */
};

int recycler_new(recycler **out, unsigned workers, size_t size, void (*make)(void *obj, void *arg),
		 void (*destroy)(void *obj, void *arg), void *arg)
{
	recycler *c = calloc(1, sizeof *c);
	size_t align = _Alignof(max_align_t);

	*out = c;
	if (!c)
		return ASSAY_ENOMEM;
	c->slot_size = (sizeof(slot) + size + align - 1) / align * align;
	c->per_block = PER_BLOCK;
	c->make = make;
	c->destroy = destroy;
	c->arg = arg;
	c->lists = aligned_alloc(_Alignof(worker_list), (workers ? workers : 1) * sizeof *c->lists);
	if (!c->lists) {
		free(c);
		*out = NULL;
		return ASSAY_ENOMEM;
	}
	for (unsigned i = 0; i < workers; i++)
		c->lists[i].head = NULL;
	pthread_mutex_init(&c->lock, NULL);
	return 0;
}

static slot *slot_at(const recycler *c, block *b, size_t i)
{
	return (slot *)(b->slots + i * c->slot_size);
}

/* Called with c->lock held: a new block of objects on the shared list. */
static bool make_block(recycler *c)
{
	block *b = bigarray_new(1, sizeof *b + c->per_block * c->slot_size);
	size_t i;

	if (!b)
		return false;
	b->n = c->per_block;
	if (2 * c->per_block * c->slot_size <= BLOCK_MAX)
		c->per_block *= 2;
	for (i = 0; i < b->n; i++) {
		slot *s = slot_at(c, b, i);

		if (c->make)
			c->make(s->obj, c->arg);
		s->next = c->shared;
		c->shared = s;
	}
	b->next = c->blocks;
	c->blocks = b;
	return true;
}

void *recycler_get(recycler *c, int worker)
{
	slot *s;

	if (worker >= 0 && (s = c->lists[worker].head)) {
		c->lists[worker].head = s->next;
		return s->obj;
	}
	pthread_mutex_lock(&c->lock);
	if (!c->shared && !make_block(c)) {
		pthread_mutex_unlock(&c->lock);
		return NULL;
	}
	s = c->shared;
	if (worker >= 0) {
		/* A worker takes the whole list: one lock for many objects. */
		c->lists[worker].head = s->next;
		c->shared = NULL;
	} else {
		c->shared = s->next;
	}
	pthread_mutex_unlock(&c->lock);
	return s->obj;
}

void recycler_put(recycler *c, int worker, void *obj)
{
	slot *s = (slot *)((unsigned char *)obj - offsetof(slot, obj));

	if (worker >= 0) {
		s->next = c->lists[worker].head;
		c->lists[worker].head = s;
		return;
	}
	pthread_mutex_lock(&c->lock);
	s->next = c->shared;
	c->shared = s;
	pthread_mutex_unlock(&c->lock);
}

void recycler_free(recycler *c)
{
	block *b, *next;
	size_t i;

	if (!c)
		return;
	for (b = c->blocks; b; b = next) {
		next = b->next;
		for (i = 0; c->destroy && i < b->n; i++)
			c->destroy(slot_at(c, b, i)->obj, c->arg);
		bigarray_free(b, 1, sizeof *b + b->n * c->slot_size);
	}
	pthread_mutex_destroy(&c->lock);
	free(c->lists);
	free(c);
}
