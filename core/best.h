/* best.h -- the best trial of each sweep, kept as the run goes: a
 * subscriber to the run's events that ranks each trial, once final, by
 * its sweep's objective.  The report reads it after the run; a live
 * display may read it during. */
#ifndef ASSAY_BEST_H
#define ASSAY_BEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plan.h"
#include "run.h"

typedef struct best best;

/* Whether some sweep of p has an objective: a run of a plan without one
 * needs no tracker. */
bool best_wanted(const plan *p);

/* A tracker of p's sweeps, none ranked yet; NULL when out of memory.
 * p must outlive it. */
best *best_new(const plan *p);

/* What res reported for metric: its last value (a value reported again
 * replaces the earlier one), or NULL.  What ranks a trial. */
const assay_metric *best_reported(const run_result *res, const char *metric);

/* Follow r's nodes as they end (before run_go()): a trial that is final
 * OK or WARNING with its objective metric, a number, competes with its
 * sweep's best so far: the better value wins, and of equal values the
 * trial declared first, so that the best does not depend on the order in
 * which trials finish.  0 or ASSAY_ENOMEM. */
int best_subscribe(best *b, run *r);

/* The subscriber best_subscribe() registers, for a test to feed events
 * by hand; arg is the tracker.  Any thread, concurrently. */
void best_event(const run_event *ev, void *arg);

/* The best trial of sweep s so far: its node index, or PLAN_NONE; its
 * objective value in *value (if value is not NULL).  Any thread. */
uint32_t best_of(best *b, size_t s, double *value);

void best_free(best *b);

#endif /* ASSAY_BEST_H */
