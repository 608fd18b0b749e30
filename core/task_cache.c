/* task_cache.c -- a run's tasks, recycled through per-worker free lists. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "task_cache.h"

/* Tasks are made this many at a time: a few KiB, one malloc. */
#define TASKS_PER_BLOCK 32

typedef struct task_block {
	struct task_block *next;
	assay_task tasks[TASKS_PER_BLOCK];
} task_block;

/* A worker's list, on a cache line of its own: only its worker uses it. */
typedef struct worker_list {
	_Alignas(64) assay_task *head;
} worker_list;

struct task_cache {
	assay_task wiring;
	unsigned workers;
	worker_list *lists;

	/* Tasks given back by other threads (the reactor's, when a plugin
	 * completes from a callback), and the blocks made, under `lock`. */
	pthread_mutex_t lock;
	assay_task *shared;
	task_block *blocks;
};

int task_cache_new(task_cache **out, unsigned workers, const assay_task *wiring)
{
	task_cache *c = calloc(1, sizeof *c);

	*out = c;
	if (!c)
		return ASSAY_ENOMEM;
	c->wiring = *wiring;
	c->workers = workers;
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

/* Called with c->lock held: a new block of tasks on the shared list. */
static bool make_block(task_cache *c)
{
	task_block *b = malloc(sizeof *b);
	size_t i;

	if (!b)
		return false;
	for (i = 0; i < TASKS_PER_BLOCK; i++) {
		assay_task *t = &b->tasks[i];

		task_create(t);
		t->reactor = c->wiring.reactor;
		t->done = c->wiring.done;
		t->spawn = c->wiring.spawn;
		t->spawn_ctx = c->wiring.spawn_ctx;
		t->secrets = c->wiring.secrets;
		t->n_secrets = c->wiring.n_secrets;
		t->verbosity = c->wiring.verbosity;
		t->cache_next = c->shared;
		c->shared = t;
	}
	b->next = c->blocks;
	c->blocks = b;
	return true;
}

assay_task *task_cache_get(task_cache *c, int worker)
{
	assay_task *t;

	if (worker >= 0 && (t = c->lists[worker].head)) {
		c->lists[worker].head = t->cache_next;
		return t;
	}
	pthread_mutex_lock(&c->lock);
	if (!c->shared && !make_block(c)) {
		pthread_mutex_unlock(&c->lock);
		return NULL;
	}
	t = c->shared;
	if (worker >= 0) {
		/* A worker takes the whole list: one lock for many tasks. */
		c->lists[worker].head = t->cache_next;
		c->shared = NULL;
	} else {
		c->shared = t->cache_next;
	}
	pthread_mutex_unlock(&c->lock);
	return t;
}

void task_cache_put(task_cache *c, int worker, assay_task *t)
{
	if (worker >= 0) {
		t->cache_next = c->lists[worker].head;
		c->lists[worker].head = t;
		return;
	}
	pthread_mutex_lock(&c->lock);
	t->cache_next = c->shared;
	c->shared = t;
	pthread_mutex_unlock(&c->lock);
}

void task_cache_free(task_cache *c)
{
	task_block *b, *next;
	size_t i;

	if (!c)
		return;
	for (b = c->blocks; b; b = next) {
		next = b->next;
		for (i = 0; i < TASKS_PER_BLOCK; i++)
			task_destroy(&b->tasks[i]);
		free(b);
	}
	pthread_mutex_destroy(&c->lock);
	free(c->lists);
	free(c);
}
