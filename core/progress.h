/* progress.h -- the live progress line of a run on a terminal: nodes done,
 * running and failed, and an ETA from the critical path of what remains,
 * redrawn on a reactor timer.  It learns everything from the run's events,
 * so a run without it pays nothing. */
#ifndef ASSAY_PROGRESS_H
#define ASSAY_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "graph.h"
#include "reactor.h"
#include "run.h"

typedef struct progress progress;

/* How often the line is redrawn. */
#define PROGRESS_PERIOD_MS 200

/* A display of the run of p's nodes (those of keep, or all when NULL) over
 * g, at most jobs executions at once, drawn on out.  NULL when out of
 * memory.  p, g and keep must outlive it. */
progress *progress_new(const plan *p, const graph *g, const bool *keep, unsigned jobs, FILE *out);

/* Follow r's events (before run_go()).  0 or a negative ASSAY_E* code. */
int progress_subscribe(progress *pr, run *r);

/* What progress_subscribe() subscribes; arg is the progress.  Any thread,
 * concurrently. */
void progress_event(const run_event *ev, void *arg);

/* Draw the line now and then every PROGRESS_PERIOD_MS on re's thread,
 * until progress_stop().  0 or a negative ASSAY_E* code. */
int progress_start(progress *pr, reactor *re);

/* Stop redrawing and erase the line (a second call does nothing).  Not
 * from re's thread. */
void progress_stop(progress *pr);

/* The seconds left at now_ns (task_now_ns()'s clock), as the line shows
 * them: the longer of the critical path of what remains and the work that
 * remains shared by `jobs`; negative when some node has no estimate yet. */
double progress_eta(progress *pr, int64_t now_ns);

/* The line as drawn at now_ns, without the terminal's control codes:
 * "[3/10 done, 2 running, 0 failed, ETA 4.5s]", followed, while nodes wait
 * for a resource, by " 2 waiting for <the last wait's reason>".  At most
 * size bytes. */
void progress_format(progress *pr, int64_t now_ns, char *buf, size_t size);

void progress_free(progress *pr);

#endif /* ASSAY_PROGRESS_H */
