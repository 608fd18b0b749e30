/* task_cache.h -- a run's tasks, recycled.  An execution takes a task when
 * its admission first needs one and gives it back when it is final, so a
 * run of a million nodes makes only as many tasks as are in flight at
 * once, and a worker running a chain reuses the one still in its cache. */
#ifndef ASSAY_TASK_CACHE_H
#define ASSAY_TASK_CACHE_H

#include "task.h"

typedef struct task_cache task_cache;

/* A cache for `workers` pool threads (each gets a free list of its own,
 * used without a lock) and any other thread (one shared, locked list).
 * Every task it makes is wired like `wiring` (reactor, done, spawn,
 * secrets, verbosity). */
int task_cache_new(task_cache **out, unsigned workers, const assay_task *wiring);

/* A created task, wired, not begun; NULL when out of memory.  `worker` is
 * the calling thread's pool index, or -1 when it is no worker. */
assay_task *task_cache_get(task_cache *c, int worker);

/* Give back a task its execution is done with (after task_end()). */
void task_cache_put(task_cache *c, int worker, assay_task *t);

/* Destroy every task the cache made, in use or not, and the cache. */
void task_cache_free(task_cache *c);

#endif /* ASSAY_TASK_CACHE_H */
