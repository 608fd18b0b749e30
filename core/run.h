/* run.h -- executes a plan on the pool: readiness, skips, retries,
 * timeouts, group limits, jobs, resources, cancellation; publishes what
 * happens to its subscribers. */
#ifndef ASSAY_RUN_H
#define ASSAY_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "assay/plugin.h"
#include "config.h"
#include "graph.h"
#include "pool.h"
#include "reactor.h"

typedef struct run run;
typedef struct run_result run_result;

typedef struct run_options {
	unsigned jobs;            /* executions at once (nodes, validation items) */
	unsigned workers;         /* pool threads */
	bool fail_fast;           /* the first CRITICAL/UNKNOWN stops the run */
	const bool *keep;         /* --only: the nodes to run; NULL: all */
	int verbosity;            /* highest ASSAY_LOG_* level plugins print */
	/* Per plan node: a trial's directory (trialdir.h), made when its
	 * first attempt starts; NULL for other nodes.  NULL: no trial dirs. */
	const char *const *trial_dirs;
	/* Whether sweep s succeeded as a whole, for a node after it (the
	 * trial tracker's rule: it has a best trial); when not, why, in
	 * why[0 .. size).  Called once every trial of s is final.  NULL: a
	 * sweep's trials count one by one, as other nodes. */
	bool (*sweep_ok)(void *arg, size_t sweep, char *why, size_t size);
	/* {best.NAME} of sweep s once final, NAME a parameter, a metric or
	 * trial_dir: its text (valid until the arg is freed), or NULL. */
	const char *(*sweep_best)(void *arg, size_t sweep, const char *name);
	void *sweep_arg;
	/* --resume, --rerun-failed: whether execution `item` of node `node`
	 * (item SIZE_MAX: the node itself, a check or a trial or a whole
	 * validation) is reused from an earlier run instead of run.  When it
	 * is, *out is filled as that run left it (status, message, details,
	 * metrics, times, attempts; strings and arrays malloc'd, the run's to
	 * free; `resumed` set, `resumed_from` borrowed from resume_arg, which
	 * outlives the run) and it is final at once: no START, no ATTEMPT;
	 * its ITEM or FINAL is published with res->resumed set, so that a
	 * subscriber that writes results down (the journal) can tell.  Asked
	 * once per node as it becomes ready (not for a node skipped because
	 * of a dependency), then, for a validation not reused whole, once
	 * per item as its execution would be made.  Any thread, several at
	 * once.  NULL: everything runs. */
	bool (*resume)(void *arg, size_t node, size_t item, run_result *out);
	void *resume_arg;
} run_options;

/* The outcome of one execution: a node's last attempt or one item. */
typedef struct run_result {
	/* The small fields together: a million results are zeroed memory the
	 * run writes once, so every byte saved is a byte less to fault in. */
	assay_status status;
	assay_status cause;       /* SKIPPED: the status of the failure behind it */
	unsigned attempts;
	bool ran;                 /* false: skipped or not selected */
	bool kept;                /* selected by --only (or no --only) */
	char *message;
	char *details;            /* long output, or NULL */
	char *skip_reason;        /* SKIPPED only */
	assay_metric *metrics;
	size_t n_metrics;
	double start, end;        /* wall clock: the first attempt's start, the last's end */
	double duration;          /* seconds, from that start to that end */
	struct run_result *items; /* validations */
	size_t n_items;
	char **devices;           /* what the last attempt held (task_add_device),
				   * NULL-terminated; NULL when none */
	const char *trial_dir;    /* a trial's directory once it ran (run_options') */
	int64_t pruned_step;      /* when pruned: the step it was judged at */
	bool pruned;              /* its sweep pruned it: SKIPPED with cause OK */
	bool resumed;             /* reused from an earlier run (run_options.resume) */
	const char *resumed_from; /* then that run's id, borrowed */
} run_result;

/* One attempt of an execution that took more than one. */
typedef struct run_attempt {
	double start, end;        /* wall clock; 0 when it could not start */
	double duration;          /* seconds */
	assay_status status;
	char *message;
} run_attempt;

/* Every attempt of an execution that took more than one: node `node`, or
 * its item `item`.  Kept aside, so that one succeeding at once (nearly
 * all) costs nothing. */
typedef struct run_history {
	size_t node;
	size_t item;              /* SIZE_MAX: the node itself */
	run_attempt *attempts;
	size_t n;
	struct run_history *next;
} run_history;

/* --- events ----------------------------------------------------------------
 *
 * What a run publishes as it goes, for those who follow it (the progress
 * line, the best trial of each sweep; later the journal): each kind a
 * bit, so that a subscriber names the kinds it wants in one mask.
 *
 * Threads: a subscriber is called on the thread where the thing happened
 * -- a pool worker, the reactor thread, a plugin's own -- several at once
 * for different executions.  It must be quick, must not block, and must
 * leave the run alone but for run_stop().
 *
 * Order: for one execution, START of attempt k comes before its ATTEMPT,
 * and that before START of attempt k + 1; its last ATTEMPT before its
 * ITEM (an item) or the node's FINAL.  A validation's ITEMs all come
 * before its FINAL.  A node's FINAL comes before any event of a node that
 * depends on it (a successor starts or is skipped only after it), and
 * every kept node has exactly one FINAL, a skipped one too (without
 * START).  An execution that never started (stopped while waiting, or a
 * resource refused) has no START and no ATTEMPT.  All are published
 * before run_go() returns.
 *
 * Lifetime: `res` is the run's.  ATTEMPT's is valid during the call only
 * (a retry replaces it); ITEM's and FINAL's are final, valid until
 * run_free(). */
typedef enum run_event_kind {
	RUN_EVENT_START = 1u << 0,   /* an attempt starts (of the node, or of one of its items) */
	RUN_EVENT_ATTEMPT = 1u << 1, /* an attempt that started ended, before any retry */
	RUN_EVENT_ITEM = 1u << 2,    /* one of a validation's items is final */
	RUN_EVENT_FINAL = 1u << 3,   /* the node is final: it ran, or it will not */
	RUN_EVENT_WAIT = 1u << 4,    /* an execution queued for a resource: `text` says why */
	RUN_EVENT_METRIC = 1u << 5,  /* a trial reported an intermediate value (report_step):
				      * `text` is the metric, `value` and `step` what it was */
	RUN_EVENT_CHILD = 1u << 6    /* an attempt started process group `pid` (task_child),
				      * after its START and before its ATTEMPT */
} run_event_kind;

typedef struct run_event {
	run_event_kind kind;
	size_t node;              /* its index in the plan */
	size_t item;              /* a validation's item (START, ATTEMPT, ITEM): its index;
				   * else SIZE_MAX */
	unsigned attempt;         /* START, ATTEMPT: which, from 1; else 0 */
	int64_t at_ns;            /* when, on task_now_ns()'s clock */
	const run_result *res;    /* ATTEMPT: the execution's, as the attempt left it;
				   * ITEM: the item's; FINAL: the node's; START, WAIT: NULL */
	const char *text;         /* WAIT: what it waits for, as the resource type
				   * describes it ("2 GPUs with 8000 MB free: ..."),
				   * valid during the call; METRIC: the metric's name,
				   * valid during the call; else NULL */
	double value;             /* METRIC: the value */
	int64_t step;             /* METRIC: its step */
	pid_t pid;                /* CHILD: the process group (its leader's pid) */
	int64_t since_ns;         /* CHILD: when its attempt started (at_ns's clock):
				   * the leader started between then and at_ns */
} run_event;

typedef void (*run_event_fn)(const run_event *ev, void *arg);

/* Call fn(ev, arg) for every event of the kinds in `kinds` (RUN_EVENT_*
 * bits).  Before run_go(); any number of subscribers, called in the order
 * they subscribed.  A kind nobody asked for is not published: it costs
 * the run one test of a mask.  0, ASSAY_EINVAL (no kind, no fn),
 * ASSAY_ESTATE (the run went) or ASSAY_ENOMEM. */
int run_subscribe(run *r, unsigned kinds, run_event_fn fn, void *arg);

/* --- the run --------------------------------------------------------------- */

/* Prepare a run of p (with its graph g): no thread starts yet.  The plan,
 * graph, options and reactor must outlive the run.  0 or ASSAY_ENOMEM. */
int run_new(run **out, const plan *p, const graph *g, const run_options *o,
	    reactor *re);

/* Start the pool and run to the end.  Blocks the calling (main) thread;
 * plugin code runs on the pool and the reactor, which the run makes the
 * host's (what plugins reach through the host table) until run_free().
 * One run goes at a time.  0 or a negative code when the pool could not
 * start. */
int run_go(run *r);

/* Stop the run: running executions are cancelled (their children killed),
 * what has not started is SKIPPED with `reason`.  Any thread, any number
 * of times; not async-signal-safe (call it from a signalfd watch). */
void run_stop(run *r, const char *reason);

/* After run_go: one result per plan node, in plan order; owned by r. */
const run_result *run_results(const run *r);

/* After run_go: the histories of the executions retried, in no order;
 * owned by r. */
const run_history *run_histories(const run *r);

/* Wall-clock start and end of the run, and whether run_stop() cut it. */
void run_times(const run *r, double *start, double *end, bool *stopped);

/* Stop trial `node` because its sweep pruned it at `step`: running, it
 * is cancelled (task_pruned() says so to the plugin), waiting, it never
 * starts; either way it ends SKIPPED with cause OK, `pruned` set, reason
 * ("pruned at step 12: accuracy 0.61 < median 0.74 of 5 trials") as its
 * skip reason and message, and the metrics it reported kept.  Not
 * retried.  A node already final is left alone.  Any thread. */
void run_prune(run *r, size_t node, int64_t step, const char *reason);

/* No trial of sweep `sweep` starts from now on: those not started end
 * SKIPPED (cause OK) with reason ("target 0.995 reached by lr[...]",
 * "stopped after 5 consecutive failures"); running ones finish.  Any
 * thread, any number of times (the first reason stays). */
void run_close_sweep(run *r, size_t sweep, const char *reason);

/* Free the run.  One that went first waits for the reactor thread to
 * leave a callback it may still be in (a plugin's, which completed the
 * last task), then clears the host's reactor: plugin code that runs on
 * the reactor after that sees no run. */
void run_free(run *r);

/* The worst status of the kept nodes, ranked as the monitoring-plugins
 * combine states (OK < UNKNOWN < WARNING < CRITICAL), a SKIPPED node
 * counting as the failure that caused it: what the exit status says. */
assay_status run_worst(const run_result *res, size_t n);

#endif /* ASSAY_RUN_H */
