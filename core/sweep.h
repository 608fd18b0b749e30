/* sweep.h -- the trial tracker: follows a run's trials through its events
 * and steers their sweeps.  Per sweep it keeps the counts (running, ok,
 * failed, pruned, skipped), each running trial's latest step and value,
 * the observed durations, and the best point by the objective (the mean
 * over its repeats, with their spread); it prunes trials by the sweep's
 * rule (prune.h), closes the sweep when the objective's target is reached
 * or after max_failures consecutive failures (run_close_sweep()), and
 * judges for a node after the sweep whether the sweep succeeded (it has a
 * best trial).  The live display and the reports read it. */
#ifndef ASSAY_SWEEP_H
#define ASSAY_SWEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plan.h"
#include "run.h"

typedef struct sweeps sweeps;

/* A tracker of p's sweeps (p must outlive it); NULL when out of memory. */
sweeps *sweeps_new(const plan *p);

/* Set o->sweep_ok and o->sweep_arg to the tracker's judgement: call it
 * on the options before run_new(). */
void sweeps_judge(sweeps *t, run_options *o);

/* Follow r, which runs t's plan (before run_go()): subscribe to its
 * events, prune and close its sweeps through it.  0 or ASSAY_ENOMEM. */
int sweeps_subscribe(sweeps *t, run *r);

/* One sweep as it stands: any thread, during the run or after. */
typedef struct sweep_view {
	size_t planned;           /* its trials (after max_trials) */
	size_t started;           /* trials that started (their first attempt) */
	size_t running, ok, failed, pruned, skipped;
	size_t peak;              /* the most trials seen running at once */
	uint32_t best;            /* the best trial's node (the best repeat of the
				   * best point), or PLAN_NONE */
	double best_value;        /* the best point's mean */
	double spread;            /* standard deviation over its repeats */
	unsigned repeats;         /* how many repeats of it reported */
	double mean_s;            /* mean duration of its finished trials, seconds;
				   * 0 before the first */
	bool stopped;             /* run_close_sweep() was called on it */
} sweep_view;

void sweeps_view(sweeps *t, size_t sweep, sweep_view *out);

/* Why sweep s stopped launching, copied to buf (empty when it did not). */
void sweeps_stopped(sweeps *t, size_t sweep, char *buf, size_t size);

/* A running trial of a sweep with the latest intermediate value of the
 * objective it reported (any metric's, without an objective), for the
 * live display. */
typedef struct sweep_running {
	uint32_t node;
	int64_t step;             /* -1: none reported yet */
	double value;
	int64_t started_ns;       /* on task_now_ns()'s clock */
} sweep_running;

/* Up to max of sweep s's running trials to out, oldest first (of equal
 * starts the first declared); how many run, more than max when some were
 * left out (one look: the display's count matches the trials it lists);
 * 0 when out of memory. */
size_t sweeps_running(sweeps *t, size_t sweep, sweep_running *out, size_t max);

/* The best trial's final value of metric (the mean over the best point's
 * repeats that reported it), for {best.METRIC}: false when there is no
 * best or it did not report the metric.  After the sweep is final, and
 * before run_free() (it reads the run's results). */
bool sweeps_best_metric(sweeps *t, size_t sweep, const char *metric, double *out);

void sweeps_free(sweeps *t);

/* What the tracker does to the run, and the subscriber that does it:
 * sweeps_subscribe() sets run_prune() and run_close_sweep() on the run;
 * a test sets its own and feeds events by hand to sweeps_event() (arg:
 * the tracker).  Neither action is called with the tracker's lock held. */
typedef struct sweep_actions {
	void (*prune)(void *arg, size_t node, int64_t step, const char *reason);
	void (*close)(void *arg, size_t sweep, const char *reason);
	void *arg;
} sweep_actions;

void sweeps_set_actions(sweeps *t, const sweep_actions *a);
void sweeps_event(const run_event *ev, void *arg);

/* The judgement sweeps_judge() sets as run_options.sweep_ok. */
bool sweeps_ok(void *arg, size_t sweep, char *why, size_t size);

/* The best trial of sweep s (as sweep_view.best) and the values of its
 * point's repeats' params: the node, or PLAN_NONE. */
uint32_t sweeps_best(sweeps *t, size_t sweep);

/* {best.NAME} of sweep s (run_options.sweep_best; arg the tracker): a
 * parameter of the best trial, trial_dir, or the mean of a metric over
 * the best point's repeats (the shortest text that reads back as it);
 * NULL when there is no best or it lacks NAME.  Valid until
 * sweeps_free(). */
const char *sweeps_best_text(void *arg, size_t sweep, const char *name);

#endif /* ASSAY_SWEEP_H */
