/* trace.h -- `assay run --trace FILE`: where the time went, as a Chrome
 * trace event file (JSON object format) that Perfetto and chrome://tracing
 * load.  One complete event ("ph": "X") per attempt of every execution (a
 * node, or a validation's item) on a lane per job slot (process "jobs",
 * threads "slot 1" ...: the lowest slot free when the attempt starts, so
 * never more lanes than `jobs`); the waits for a resource (from the WAIT
 * to the START) and the retry backoffs (from a failed attempt's end to
 * the next attempt's start) on lanes of their own (process "waits",
 * threads "wait 1" ..., categories "wait" and "backoff").
 *
 * The trace follows the run's events (run.h) into a compact buffer under
 * one lock -- a few dozen bytes per attempt, no text -- and is written
 * after the run from the report, whose ids, items and messages are masked
 * already: no secret reaches the file. */
#ifndef ASSAY_TRACE_H
#define ASSAY_TRACE_H

#include <stddef.h>

#include "plan.h"
#include "report.h"
#include "run.h"

typedef struct trace trace;

/* Whether path can be written as a report would be (report.h), checked
 * before the run: 0, or -1 with why. */
int trace_check(const char *path, char *why, size_t size);

/* A trace of a run of p, its clock starting now.  NULL when out of
 * memory.  p must outlive it. */
trace *trace_new(const plan *p);

/* Follow r's events (before run_go()).  0 or ASSAY_ENOMEM. */
int trace_subscribe(trace *t, run *r);

/* Write the trace of the run (after run_go(), with rep the run's report)
 * to path atomically, as report_write() writes a report.  0, or -1 said
 * on stderr naming the path. */
int trace_write(trace *t, const report *rep, const char *path);

void trace_free(trace *t);

#endif /* ASSAY_TRACE_H */
