/* recycler.h -- fixed-size objects a run lends and takes back: per-worker
 * free lists, so that a worker running a chain of nodes reuses the same,
 * cache-hot objects, and a run of a million nodes makes only as many as
 * are in flight at once.  Objects are freed only with the recycler: a
 * stale pointer to one given back stays safe to read (run_stop() relies
 * on it). */
#ifndef ASSAY_RECYCLER_H
#define ASSAY_RECYCLER_H

#include <stddef.h>

typedef struct recycler recycler;

/* A recycler of `size`-byte objects for `workers` pool threads (each with
 * a list used without a lock) and any other thread (one shared, locked
 * list).  make(obj, arg) sets up each new object once (its memory is
 * zeroed); destroy(obj, arg) tears each down in recycler_free(); either
 * may be NULL. */
int recycler_new(recycler **out, unsigned workers, size_t size, void (*make)(void *obj, void *arg),
		 void (*destroy)(void *obj, void *arg), void *arg);

/* An object, made or given back before; NULL when out of memory.
 * `worker` is the calling thread's pool index, or -1. */
void *recycler_get(recycler *c, int worker);

/* Give an object back. */
void recycler_put(recycler *c, int worker, void *obj);

/* Destroy every object made, lent out or not, and the recycler. */
void recycler_free(recycler *c);

#endif /* ASSAY_RECYCLER_H */
