/* progress.h -- the live progress line of a run on a terminal: nodes done,
 * running and failed, and an ETA from the critical path of what remains,
 * redrawn on a reactor timer, with a block per sweep under way under it;
 * or, for a log, the same as plain lines now and then.  It learns the line
 * from the run's events, so a run without it pays nothing; the sweeps'
 * block it reads from the trial tracker (sweep.h). */
#ifndef ASSAY_PROGRESS_H
#define ASSAY_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "graph.h"
#include "reactor.h"
#include "run.h"
#include "sweep.h"

typedef struct progress progress;

/* --progress: what a run shows of itself while it runs. */
typedef enum progress_mode {
	PROGRESS_AUTO = 0,            /* the display on a terminal, else nothing */
	PROGRESS_PLAIN,               /* a line now and then on stderr, for logs */
	PROGRESS_NONE
} progress_mode;

/* --progress plain's period when none is given. */
#define PROGRESS_PLAIN_MS 30000

/* How often the line is redrawn. */
#define PROGRESS_PERIOD_MS 200

/* A display of the run of p's nodes (those of keep, or all when NULL) over
 * g, at most jobs executions at once, drawn on out; its sweeps' block as
 * the tracker t that follows the run sees them (NULL: no block, as for a
 * plan without a sweep).  NULL when out of memory.  p, g, keep and t must
 * outlive it. */
progress *progress_new(const plan *p, const graph *g, const bool *keep, sweeps *t,
		       unsigned jobs, FILE *out);

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

/* --progress plain: instead of redrawing, a line to out every
 * interval_ms, "assay: 00:04:10 [3/10 done, ...]", and one per sweep under
 * way, "assay: 00:04:10 lr 3 running, 12 done, 2 failed, 4 pruned, best
 * 0.962 lr[...], ETA 4m10s"; the first after an interval, nothing to
 * erase at the end.  Before progress_start(). */
void progress_set_plain(progress *pr, int64_t interval_ms);

/* The block drawn under the line at now_ns, without the terminal's
 * control codes or its width, to out, from the tracker: per sweep under
 * way (a trial of it started, not all are final) "lr  3 running · 12 done
 * · 2 failed · 4 pruned · best 0.962 lr[...] · ETA 4m10s" (failed, pruned
 * and skipped when not 0; best: the tracker's best point's mean by the
 * objective, and its best repeat), then its oldest running trials (3 at
 * most, then "... and N more running"), each "  id  step 12  0.913  1m05s"
 * (the latest intermediate value of the objective; the step part once it
 * reported one; the time it has run).  Each line ends in '\n'; ids are
 * escaped.  The ETAs are those of the last progress_format().  Returns
 * the lines. */
size_t progress_block(progress *pr, int64_t now_ns, FILE *out);

/* --progress plain's lines at now_ns, to out. */
void progress_plain(progress *pr, int64_t now_ns, FILE *out);

void progress_free(progress *pr);

#endif /* ASSAY_PROGRESS_H */
