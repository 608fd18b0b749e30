/* run.h -- executes a plan on the pool: readiness, skips, retries,
 * timeouts, group limits, jobs, resources, cancellation. */
#ifndef ASSAY_RUN_H
#define ASSAY_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "assay/plugin.h"
#include "config.h"
#include "graph.h"
#include "pool.h"
#include "reactor.h"

typedef struct run run;
typedef struct run_result run_result;

/* What a run publishes as it goes, for those who watch it (the progress
 * line): a subscriber is called from any thread, several at once, and must
 * be quick and leave the run alone. */
typedef enum run_event_kind {
	RUN_EVENT_START,          /* an attempt of the node (of one of its items) starts */
	RUN_EVENT_ITEM,           /* one of a validation's items is final */
	RUN_EVENT_FINAL           /* the node is final: it ran, or it will not */
} run_event_kind;

typedef struct run_event {
	run_event_kind kind;
	size_t node;              /* its index in the plan */
	int64_t at_ns;            /* when, on task_now_ns()'s clock */
	const run_result *res;    /* ITEM: the item's; FINAL: the node's; START: NULL */
} run_event;

typedef struct run_options {
	unsigned jobs;            /* executions at once (nodes, validation items) */
	unsigned workers;         /* pool threads */
	bool fail_fast;           /* the first CRITICAL/UNKNOWN stops the run */
	const bool *keep;         /* --only: the nodes to run; NULL: all */
	int verbosity;            /* highest ASSAY_LOG_* level plugins print */
	/* The subscriber to the run's events, or NULL: a run without one
	 * publishes nothing (and pays nothing for it). */
	void (*on_event)(const run_event *ev, void *arg);
	void *event_arg;
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

/* Prepare a run of p (with its graph g): no thread starts yet.  The plan,
 * graph, options and reactor must outlive the run.  0 or ASSAY_ENOMEM. */
int run_new(run **out, const plan *p, const graph *g, const run_options *o,
	    reactor *re);

/* Start the pool and run to the end.  Blocks the calling (main) thread;
 * plugin code runs on the pool and the reactor.  0 or a negative code
 * when the pool could not start. */
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

void run_free(run *r);

/* The worst status of the kept nodes, ranked as the monitoring-plugins
 * combine states (OK < UNKNOWN < WARNING < CRITICAL), a SKIPPED node
 * counting as the failure that caused it: what the exit status says. */
assay_status run_worst(const run_result *res, size_t n);

#endif /* ASSAY_RUN_H */
