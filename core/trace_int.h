/* trace_int.h -- what trace.c (following the run) and trace_write.c
 * (the file) share: the spans recorded and the lanes they lie on.
 * Nothing outside core/trace*.c includes it. */
#ifndef ASSAY_TRACE_INT_H
#define ASSAY_TRACE_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "plan.h"
#include "run.h"
#include "trace.h"

/* What a span is: an attempt on a job slot, or time between attempts. */
enum trace_span_kind {
	SPAN_RUN,      /* an attempt, from its START to its ATTEMPT */
	SPAN_WAIT,     /* queued for a resource, from its WAIT to its START */
	SPAN_BACKOFF   /* a failed attempt's end to the retry's START */
};

#define TRACE_NONE UINT32_MAX

/* One event of the file, in 40 bytes: a 100,000-item validation is 4 MB
 * (its messages are the report's, read when the file is written). */
typedef struct trace_span {
	int64_t start_ns, end_ns; /* from the trace's start */
	uint32_t node;
	uint32_t item;            /* TRACE_NONE: the node itself */
	uint32_t lane;            /* from 0, in its kind's lanes */
	uint32_t attempt;         /* RUN: its number; WAIT: the one that waits;
				   * BACKOFF: the one it leads to */
	uint32_t text;            /* WAIT: what for, in texts[]; else TRACE_NONE */
	uint8_t kind;             /* enum trace_span_kind */
	uint8_t status;           /* RUN: the attempt's; BACKOFF: the failed one's;
				   * WAIT: ASSAY_OK, or the final state of an
				   * execution that never started */
} trace_span;

#define TRACE_BLOCK_SPANS 2048

typedef struct trace_block {
	struct trace_block *next;
	size_t n;
	trace_span spans[TRACE_BLOCK_SPANS];
} trace_block;

/* Lanes of one kind: each free or busy, and when its last span ended. */
typedef struct trace_lanes {
	uint64_t *busy;           /* a bit per lane */
	int64_t *last_end;
	size_t n, cap;            /* lanes used so far, and room */
	size_t low;               /* no lane below it is free */
} trace_lanes;

struct trace {
	const plan *p;
	run *run;
	int64_t t0_ns;            /* task_now_ns() at trace_new() */
	double t0_wall;           /* the same moment, seconds since the epoch */
	pthread_mutex_t lock;     /* everything below */
	trace_block *first, *last;
	size_t n_spans;
	trace_lanes slots, waits;
	struct trace_open *open;  /* the executions with a span open, hashed */
	size_t open_cap, n_open;
	char **texts;             /* what waits wait for, as the run said it */
	size_t n_texts, cap_texts;
	arena strings;
	bool failed;              /* memory ran out: the file says nothing */
};

/* The run's events into spans: what trace_subscribe() subscribes, and
 * what the unit tests call. */
void trace_event(const run_event *ev, void *arg);

#endif /* ASSAY_TRACE_INT_H */
