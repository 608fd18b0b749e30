/* prune.h -- the rules that stop a sweep's trials early on their
 * intermediate values: Optuna's MedianPruner and its
 * SuccessiveHalvingPruner (asynchronous successive halving), decision for
 * decision.  Pure functions over one sweep's table of reported values, so
 * that the tests can check every decision against numbers computed from
 * Optuna's rules; the trial tracker (sweep.c) owns the table and its lock. */
#ifndef ASSAY_PRUNE_H
#define ASSAY_PRUNE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plan.h"

/* A rule and its settings (a plan_sweep's, or a test's). */
typedef struct prune_settings {
	prune_rule rule;
	bool maximise;
	unsigned warmup_steps;      /* median: a step below this is never judged */
	unsigned startup_trials;    /* median: completed trials before any is pruned */
	int64_t min_resource;       /* asha: the first rung's step (< 1: 1) */
	unsigned reduction_factor;  /* asha: eta (< 2: 2) */
} prune_settings;

/* One trial's intermediate values, sorted by step, each step once. */
typedef struct prune_trial {
	int64_t *steps;
	double *values;
	size_t n, cap;
	unsigned rungs;             /* asha: rungs it recorded a value at */
	bool completed;             /* ended OK or WARNING, not pruned */
} prune_trial;

/* One sweep's table. */
typedef struct prune_table {
	prune_settings set;
	prune_trial *trials;        /* one per trial of the sweep */
	size_t n_trials;
	size_t n_completed;
	double **rung_values;       /* asha: the values recorded at each rung */
	size_t *rung_n, *rung_cap;
	size_t n_rungs;
} prune_table;

/* What a decision compared, for the reason the trial is given. */
typedef struct prune_why {
	int64_t step;               /* the trial's last step */
	double value;               /* median: its best value so far; asha: its value */
	double threshold;           /* the median, or the worst value promoted */
	size_t n;                   /* the trials the threshold is over */
	unsigned rung;              /* asha: the rung it was judged at */
} prune_why;

/* A table for n_trials trials; 0 or ASSAY_ENOMEM. */
int prune_init(prune_table *t, const prune_settings *set, size_t n_trials);
void prune_release(prune_table *t);

/* Trial i reported value at step: recorded unless it reported that step
 * before (as Optuna, which keeps the first).  0 or ASSAY_ENOMEM. */
int prune_report(prune_table *t, size_t i, int64_t step, double value);

/* Whether trial i is to be pruned now, judged on what it reported so
 * far (call it after each prune_report() of it, as Optuna's
 * should_prune() after each report()).  ASHA records the trial's value
 * at each rung it reaches (so call it once per report).  When it prunes,
 * *why says on what.  ASSAY_ENOMEM as false. */
bool prune_decide(prune_table *t, size_t i, prune_why *why);

/* Trial i ended OK or WARNING without being pruned: its values count in
 * the median from now on. */
void prune_complete(prune_table *t, size_t i);

/* numpy's percentile (method "linear") of v[0 .. n), n > 0, which it
 * sorts: what Optuna's median is. */
double prune_percentile(double *v, size_t n, double q);

#endif /* ASSAY_PRUNE_H */
