/* run_int.h -- what the run's files share: the run, its nodes, launches
 * and executions, the per-thread worker context, and the calls from one
 * of its files into another.  Nothing outside core/run*.c includes it.
 *
 * The files: run.c (the run's life, stop), run_exec.c (an execution:
 * the thread it runs on, its admission, its end), run_attempt.c (an
 * attempt's end: result, retry, history), run_launch.c (a node's launch,
 * the roots), run_items.c (a validation's items), run_ready.c (readiness
 * and skips), run_resq.c (resource queues) and run_events.c
 * (subscribers).  Functions of run_X.c start with X_. */
#ifndef ASSAY_RUN_INT_H
#define ASSAY_RUN_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fifo.h"
#include "limiter.h"
#include "recycler.h"
#include "run.h"
#include "status.h"
#include "task.h"

typedef struct run_exec run_exec;
typedef struct run_node run_node;
typedef struct run_launch run_launch;
typedef struct resq resq;
typedef struct sweep_mark sweep_mark;

enum exec_phase {
	EXEC_ACTIVE,      /* admitted, queued, running or final */
	EXEC_RETRY_WAIT   /* failed; a backoff timer will admit it again */
};

/* One execution: a node's attempts, or one validation item's.  The task
 * that runs it is lent by the run's recycler only from the admission step
 * that first needs it to the end. */
struct run_exec {
	pool_job job;
	run_launch *launch;
	run *run;
	run_result *res;          /* where each attempt's outcome goes */
	size_t item;              /* validations: its item's index; else SIZE_MAX */
	_Atomic(assay_task *) task;
	fifo_link wait;           /* in a limiter's or a resource queue's waiters */
	void **grants;            /* one per resource of the node, or NULL */
	assay_timer *retry_timer;
	assay_timer *wait_timer;  /* bounds a wait in a resource queue; under its lock */
	run_history *history;     /* once retried: its attempts so far */
	unsigned stage;           /* admission steps passed */
	atomic_int phase;
};

/* A node from the moment it is ready until it is final: its executions
 * and what they share.  A node of one execution gets one lent by
 * r->launches, so that a run holds only as many as are in flight; their
 * `recycled`, `n_execs` and execs[0]'s job.fn, launch and run are set
 * once, when the recycler makes it, so that run_stop() may read them
 * through a stale pointer.  A validation's is allocated for it and freed
 * with the run: as many executions as may run at once (run_items.c),
 * each taking the next item when its own is final. */
struct run_launch {
	size_t index;             /* the node's */
	limiter **limits;         /* its groups' and sweep's max_parallel, outermost first, or NULL */
	resq **resq;              /* one per resource of the plan node, or NULL */
	unsigned n_limits, n_res;
	atomic_size_t items_left; /* a validation's items not final yet */
	atomic_size_t next_item;  /* ... and the first no execution took yet */
	bool recycled;
	size_t n_execs;
	run_launch *next_alloc;   /* the run's list of allocated ones */
	run_exec execs[];
};

/* Per node, only what its predecessors update: the array is zeroed memory
 * that nothing touches before the node's first predecessor finishes (a
 * million-node run sets up in no time), and its lines are few. */
struct run_node {
	atomic_uint preds_done;   /* predecessors final: ready when all are */
	atomic_bool pred_failed;  /* one ended CRITICAL/UNKNOWN/skipped so */
	_Atomic(run_launch *) launch; /* from its launch until it is final */
};

/* A run_subscribe() call. */
typedef struct run_subscriber {
	unsigned kinds;
	run_event_fn fn;
	void *arg;
} run_subscriber;

struct run {
	const plan *p;
	const graph *g;
	run_options o;
	reactor *re;
	pool *pool;
	unsigned events;          /* the kinds some subscriber asked for */
	run_subscriber *subs;
	size_t n_subs;
	run_node *nodes;
	recycler *tasks;
	recycler *launches;       /* for nodes of one execution */
	recycler *root_jobs;
	run_launch *allocated;    /* the others, under `lock` */
	run_result *results;
	size_t *roots;            /* the kept nodes without predecessors */
	size_t n_roots;
	pool_job prefault;        /* see prefault_job_fn */
	limiter jobs;
	bool jobs_bound;          /* false when jobs >= every execution: no limiter */
	bool went;                /* run_go() made r->re the host's (until run_free()) */
	limiter *limits;          /* one per plan limit: a group's or a sweep's max_parallel */
	pthread_mutex_t resq_lock; /* the list below grows as nodes launch */
	resq **resq;              /* one per resource type a launched node used */
	size_t n_resq;
	/* The plan has sweeps (run_sweep.c): per node, run_prune()'s mark;
	 * per sweep, run_close_sweep()'s reason.  NULL without sweeps. */
	_Atomic(sweep_mark *) *pruned;
	_Atomic(char *) *closed;
	/* Per sweep released in order (run_ready.c: one with a max_parallel
	 * whose kept trials wait for the same nodes): its first kept trial,
	 * the one that counts its predecessors; PLAN_NONE for the others.
	 * NULL when no sweep is so: the other nodes pay one test. */
	uint32_t *sweep_lead;

	pthread_mutex_t lock;     /* stop_reason, done, histories, and the wait below */
	pthread_cond_t cond;
	char *stop_reason;
	run_history *histories;
	assay_status stop_cause;
	size_t kept;
	size_t sinks;             /* kept nodes without a kept successor */
	bool done;
	double start, end;
	double wall_offset;       /* wall clock minus monotonic, in seconds */

	/* Every admission reads `stopping`; every finished sink writes
	 * `sinks_done`; a thread not of the pool entering or leaving the
	 * run writes `foreign`: apart, so that the writes do not evict the
	 * reads. */
	_Alignas(64) atomic_bool stopping;
	_Alignas(64) atomic_size_t sinks_done;
	_Alignas(64) atomic_uint foreign; /* see run_enter() */
};

/* What a thread knows while it runs executions: one per thread (a pool
 * worker, the reactor, a plugin's own), read and written by that thread
 * alone, so nothing in it is shared or locked.
 *
 * The continuation: a finished node runs its first ready successor on
 * the same thread, without a trip through the deques.  `next` is that
 * successor, set while the thread is inside exec_run()'s loop
 * (`in_loop`), which runs it once the current execution is handed off.
 *
 * The clock hand-off: a continuation starts the instant its predecessor
 * ended, the clock read that ended one attempt serving as the next one's
 * start (what happens in between is the run's bookkeeping, a fraction of
 * a microsecond, and counts in the successor's duration).  `end_ns` is
 * the end of the attempt whose task's done() runs on this thread now,
 * `next_start_ns` the start of `next`, `start_ns` that of the execution
 * being admitted; 0 where there is none (the clock is read then).
 *
 * `index` is the thread's in the run's pool, for the recyclers' lists:
 * set as jobs start; -1 (the shared list) on any other thread, and on a
 * worker before its first job -- never another pool's index, since
 * workers live and die with their run's pool. */
typedef struct run_worker {
	run_exec *next;
	bool in_loop;
	int index;
	int64_t end_ns, next_start_ns, start_ns;
} run_worker;

/* This thread's. */
extern _Thread_local run_worker exec_worker;

/* A thread not of the pool (the reactor's, a plugin's) enters the run's
 * code: a task's done(), a timer, a spawn, a stop.  It may queue the job
 * that ends the run and still be on its way out (inside pool_submit())
 * when the run is over: run_go() frees the pool, and returns, only once
 * no such thread is inside.  The pool's own workers are not counted:
 * pool_free() joins them.  Returns whether it counted. */
static inline bool run_enter(run *r)
{
	if (exec_worker.index >= 0)
		return false;
	atomic_fetch_add_explicit(&r->foreign, 1, memory_order_relaxed);
	return true;
}

/* Leave, after the last access to the run; `counted` is run_enter()'s. */
static inline void run_leave(run *r, bool counted)
{
	if (counted)
		atomic_fetch_sub_explicit(&r->foreign, 1, memory_order_release);
}

static inline const plan_node *exec_plan_node(const run_exec *e)
{
	return &e->run->p->nodes[e->launch->index];
}

/* The index of e's item in its validation, or SIZE_MAX for a node's own
 * execution. */
static inline size_t exec_item_index(const run_exec *e)
{
	return e->item;
}

static inline bool run_is_kept(const run *r, size_t v)
{
	return !r->o.keep || r->o.keep[v];
}

static inline size_t run_n_preds(const run *r, size_t v)
{
	return r->g->pred_at[v + 1] - r->g->pred_at[v];
}

/* A skipped node counts as the failure that caused it. */
static inline assay_status result_effective(const run_result *res)
{
	return res->status == ASSAY_SKIPPED ? res->cause : res->status;
}

/* run.c */
void run_signal_done(run *r);
/* fn(arg) on the pool (ctx: the run): the tasks' spawn().  0 or ASSAY_ENOMEM. */
int run_spawn(void *ctx, void (*fn)(void *), void *arg);

/* run_exec.c: run e on this thread now, then the continuations it
 * leaves; or schedule it (on this thread when may_continue allows). */
void exec_run(run_exec *e);
void exec_schedule(run_exec *e, bool may_continue);
/* e's limits entered now, in the caller's order; the rest on the pool
 * (a limited sweep's trials, launched in declaration order). */
void exec_enter_in_order(run_exec *e);
void exec_setup(run *r, run_exec *e, run_launch *l);
void exec_leave(run_exec *e);
/* The waiters of a drained queue (a stop): each goes on, and its
 * admission sees the stop. */
void exec_resume_all(fifo_link *w);
void exec_fail_acquire(run_exec *e, const char *resource, int rc);
/* Give a jobs slot back (see run_resq.c, "Slot and devices together"). */
void exec_give_slot(run *r);
void exec_fail_message(run_exec *e, const char *msg);
void exec_final(run_exec *e);

/* run_attempt.c: the tasks' done(), and the history of a retried one. */
void attempt_done(assay_task *t, void *arg);
void attempt_record(run_exec *e, const assay_task *t);

/* run_launch.c */
void launch_make(void *obj, void *arg);
bool launch_resumed(run *r, size_t v, size_t item, run_result *res);
run_exec *launch_node(run *r, size_t v);
void launch_end(run *r, run_launch *l);
int launch_roots_recycler(recycler **out, unsigned workers);
int launch_roots(run *r);

/* run_items.c: a validation's launch, its executions started (the first
 * returned, NULL when the node ended at once); an item's end, its
 * execution going on with the next item (true: the node's last) */
run_launch *items_launch_new(run *r, size_t v);
run_exec *items_launch(run *r, run_launch *l);
bool items_final(run_exec *e);
void items_release(run *r);

/* run_ready.c: v is final: count it, and launch or skip its successors;
 * the sweeps whose trials it releases in order, found. */
void ready_node_final(run *r, size_t v);
int ready_sweep_leads(run *r);

/* run_sweep.c: a trial's pruning and its sweep's closing, as the run
 * applies them; a node after a sweep. */
int sweep_alloc(run *r);
void sweep_release(run *r);
bool sweep_admits(run_exec *e);
bool sweep_attempt_pruned(run *r, size_t v, run_result *res);
char *sweep_skip_reason(run *r, size_t v, assay_status *cause);
int sweep_pred(run *r, size_t s, size_t k, size_t *span, char **why, assay_status *cause);
int sweep_report_step(void *ctx, assay_task *t, const char *name, double value, int64_t step);
const char *sweep_best_lookup(void *ctx, const assay_task *t, const char *name);
char *sweep_best_missing(run *r, size_t v);

/* run_resq.c */
resq *resq_for(run *r, const assay_resource_type *type);
int resq_enter(resq *q, run_exec *e, size_t i);
void resq_leave(resq *q, run_exec *e, size_t i);
void resq_released(resq *q, bool *slot_in_hand);
void resq_offer_slot(run *r, bool *slot_in_hand);
const char *resq_name(const resq *q);
void resq_drain_all(run *r);
void resq_release_all(run *r);

/* run_events.c: for a kind in r->events only (the caller tests it: a
 * kind nobody asked for costs that test).  at_ns 0: now. */
void events_publish(run *r, run_event_kind kind, size_t node, size_t item,
		    unsigned attempt, int64_t at_ns, const run_result *res);
void events_publish_wait(run *r, size_t node, size_t item, unsigned attempt,
			 const char *text);
void events_publish_metric(run *r, size_t node, unsigned attempt, const char *name,
			   double value, int64_t step);
/* The tasks' child hook (task.h): CHILD, when someone follows. */
void events_task_child(void *ctx, assay_task *t, pid_t pgid);
void events_release(run *r);

#endif /* ASSAY_RUN_INT_H */
