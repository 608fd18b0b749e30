/* task.h -- one execution of a node: an attempt, or one validation item.
 * Holds what the plugin reports through the host table, enforces the
 * deadline, and tells the runner when it is over. */
#ifndef ASSAY_TASK_H
#define ASSAY_TASK_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "assay/plugin.h"
#include "plan.h"
#include "reactor.h"

typedef void (*task_done_fn)(assay_task *task, void *arg);
typedef int (*task_spawn_fn)(void *ctx, void (*fn)(void *arg), void *arg);
/* report_step's way to the run (spawn_ctx is ctx): a trial's value. */
typedef int (*task_step_fn)(void *ctx, assay_task *task, const char *name, double value,
			    int64_t step);
/* {best.NAME}'s value for the task (spawn_ctx is ctx), or NULL. */
typedef const char *(*task_best_fn)(void *ctx, const assay_task *task, const char *name);
/* task_child's way to the run (spawn_ctx is ctx): the attempt started
 * process group pgid. */
typedef void (*task_child_fn)(void *ctx, assay_task *task, pid_t pgid);

enum task_phase { TASK_READY, TASK_PENDING, TASK_DONE };

struct assay_task {
	/* The wiring: the same for every task of a run, set once when the
	 * task is made (run.c, through its recycler), kept while recycled. */
	reactor *reactor;
	task_done_fn done;          /* who learns of the end */
	task_spawn_fn spawn;        /* how sub-tasks reach the pool */
	void *spawn_ctx;
	task_step_fn report_step;   /* NULL: intermediate values go nowhere */
	task_best_fn best_lookup;   /* NULL: {best.NAME} is unknown */
	task_child_fn child;        /* NULL: process groups go nowhere */
	const char *const *secrets; /* scrubbed from messages and logs */
	size_t n_secrets;
	int verbosity;              /* highest ASSAY_LOG_* level printed */
	const atomic_bool *stopping; /* the runner's stop flag, or NULL */

	/* This execution: set by task_begin(). */
	const plan_node *node;
	const char *item;           /* validations; owned by the plan */
	unsigned attempt;           /* 1-based */
	int64_t timeout_ms;         /* 0: none */
	int64_t deadline_ns;        /* CLOCK_MONOTONIC; INT64_MAX: none */
	void *done_arg;
	/* A trial's: its directory (trialdir.h), set by the runner before
	 * run(), else NULL; its {seed} as text. */
	const char *trial_dir;
	char seed_text[12];

	pthread_mutex_t lock;       /* everything below: plugins report from any thread */
	pthread_cond_t cond;
	/* TASK_READY from task_begin() until run() returns: a cancel then
	 * only marks the task, and acts once run() returns ASSAY_PENDING.
	 * Atomic: a run that returns ASSAY_DONE ends without the lock. */
	atomic_int phase;
	bool completed_in_run;      /* complete() came before run() returned */
	atomic_bool cancelled;
	atomic_bool pruned;         /* the cancel is its sweep's pruning (task_prune) */
	bool cancel_called;         /* the type's cancel() ran or runs */
	bool cancelling;            /* ... and is running now, on `canceller` */
	pthread_t canceller;
	bool done_deferred;         /* completed inside cancel: done runs after it */
	bool timed_out;             /* the cancel came from the deadline */
	bool timer_armed, timer_fired;
	assay_timer *timer;

	/* An assay_status, or -1 while the plugin has set none.  Atomic
	 * rather than locked: the one report every run makes costs no lock. */
	atomic_int status;
	char *message;
	char *details;              /* long output */
	void *plugin_data;          /* task_set_data() */
	int64_t retry_after_ms;     /* the plugin's floor for the next backoff */
	bool no_retry;              /* the plugin says retrying cannot help */
	assay_metric *metrics;
	size_t n_metrics;
	char **env;                 /* "NAME=value" set by the plugin or resources */
	size_t n_env;
	char **environ_built;       /* the merged environment, built once */
	char **devices;             /* task_add_device(): NULL-terminated, or NULL */
	size_t n_devices;

	/* Monotonic only: one clock read at each end of an attempt (the
	 * runner turns them into wall-clock time with one offset per run). */
	int64_t start_ns, end_ns;
};

/* Make t's lock (zeroed memory, once in its life); the wiring is the
 * caller's to fill. */
void task_create(assay_task *t);

/* Ready a created task for an execution's first attempt.  Under the lock:
 * a task_cancel() meant for the task's previous execution may still be
 * reaching it (it then marks this one, which only happens while the run
 * is stopping, when this execution is to be cancelled too). */
void task_begin(assay_task *t, const plan_node *node, const char *item,
		int64_t timeout_ms, void *done_arg);

/* Make a finished task ready for another attempt: the result and the
 * environment are cleared, the rest is kept, so task_cancel() stays safe
 * to call at any time. */
void task_reset(assay_task *t, unsigned attempt);

/* After done(): free what the attempt left (message, metrics,
 * environment), so the task can be begun again. */
void task_end(assay_task *t);

/* Start it: call the type's run on this thread; when run hands its waiting
 * to the reactor (ASSAY_PENDING), arm the deadline.  When run returns
 * ASSAY_DONE, or later when the plugin calls complete(), the task is
 * finished and t->done(t, arg) is called, exactly once, from whichever
 * thread finished it -- never before run() has returned.  A synchronous
 * run is not interrupted: it sees its deadline through deadline_ns().
 * start_ns is when it starts (task_now_ns()), when the caller has just
 * read the clock, or 0 to read it here. */
void task_start(assay_task *t, int64_t start_ns);

/* Cancel: from any thread, any number of times, at any point of the
 * task's life.  The type's cancel runs at most once, only while the task
 * is pending; a task cancelled before its run returned is cancelled as
 * soon as it returns ASSAY_PENDING. */
void task_cancel(assay_task *t);

/* Cancel t because its sweep pruned it -- only if t still runs node's
 * execution done_arg (tasks are recycled: a stale pointer may reach one
 * that runs something else now, which is left alone).  task_pruned()
 * then answers true.  Any thread not inside the plugin's own lock. */
void task_prune(assay_task *t, const plan_node *node, const void *done_arg);

/* The host table's complete(). */
void task_complete(assay_task *t);

/* Free what the task holds (message, metrics, environment, lock). */
void task_destroy(assay_task *t);

/* Host-table helpers, exposed for host.c. */
void task_set_status(assay_task *t, assay_status s);
void task_set_messagev(assay_task *t, const char *fmt, va_list ap) ASSAY_PRINTF(2, 0);
void task_set_details(assay_task *t, const char *fmt, ...) ASSAY_PRINTF(2, 3);
int task_add_metric(assay_task *t, const assay_metric *m);
/* The message set so far, taken (the caller frees it), or NULL; and
 * dropped. */
char *task_take_message(assay_task *t);
void task_clear_message(assay_task *t);
/* The host table's task_add_device(): id copied.  0 or ASSAY_ENOMEM. */
int task_add_device(assay_task *t, const char *id);
/* The attempt's devices, NULL-terminated, taken (free them with
 * task_devices_free()), or NULL when it holds none. */
char **task_take_devices(assay_task *t);
void task_devices_free(char **devices);
/* The host table's mask(): s[0..n) with the run's secrets masked. */
char *task_mask(const assay_task *t, const char *s, size_t n, unsigned flags, size_t *len);
int task_setenv(assay_task *t, const char *name, const char *value);
char *const *task_environ(assay_task *t);
void task_logv(const assay_task *t, int level, const char *fmt, va_list ap) ASSAY_PRINTF(3, 0);
void task_log(assay_task *t, int level, const char *fmt, ...) ASSAY_PRINTF(3, 4);

int64_t task_now_ns(void);

/* Free n metrics copied by task_add_metric(), and the array. */
void task_metrics_free(assay_metric *metrics, size_t n);

#endif /* ASSAY_TASK_H */
