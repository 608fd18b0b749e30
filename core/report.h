/* report.h -- from a finished run to reports: the assay_report that every
 * reporter (built-in or plugin) reads, written to stdout or atomically to
 * a file. */
#ifndef ASSAY_REPORT_H
#define ASSAY_REPORT_H

#include <stdio.h>

#include "assay/plugin.h"
#include "best.h"
#include "graph.h"
#include "plan.h"
#include "run.h"
#include "sweep.h"

typedef struct report {
	assay_report r;              /* what reporters see */
	/* What r points into, owned: */
	assay_result *results;       /* the nodes', then every validation item's */
	const assay_result **index;  /* r.results, then each validation's items */
	const char **paths;          /* each group's enclosing groups, outermost first */
	assay_objective *objectives; /* the trials' of sweeps with an objective */
	assay_attempt *attempts;     /* every attempt of the executions retried */
	const assay_attempt **histories;
	assay_sweep *sweeps;         /* one per plan sweep */
	const assay_sweep **sweep_index; /* r.sweeps */
	assay_param *sweep_params;   /* the best points' parameters, without seed */
	char (*stopped)[160];        /* each sweep's reason to stop, or "" */
	const char **critical;       /* r.critical */
	void **owned;                /* what report_mask() made */
	size_t n_owned, cap_owned;
} report;

/* Build the report of a finished run: kept nodes in declaration order
 * with their groups, sweeps, parameters, objectives and histories, each
 * sweep's standing and best trial from t (NULL: none is marked), the
 * critical path from the run's own durations, run_id (NULL: none) as
 * the run's.  0 or ASSAY_ENOMEM; report_release() always.  p, r, t's
 * tracker and run_id must outlive the report. */
int report_build(report *rep, const plan *p, const graph *g, const run *r, sweeps *t,
		 const char *run_id);
void report_release(report *rep);

/* report_mask.c: the plan's secrets masked in the first n_results
 * results (ids, items, parameters, messages, skip reasons) and in the
 * sweeps (best, parameters, why they stopped).  0 or ASSAY_ENOMEM. */
int report_mask(report *rep, const plan *p, size_t n_results);

/* Write with `rep` to path ("-" is stdout).  Symbolic links are followed
 * to the file they lead to.  A regular file (or a new one) is written to a
 * temporary name in that file's directory, flushed to disk and renamed
 * over it only when the reporter succeeded, so readers never see a partial
 * report; it keeps the permissions of the file it replaces (else 0644).
 * What is not a regular file -- a device, a FIFO, a descriptor under
 * /proc such as /proc/self/fd/1 or /dev/stdout -- is written into, never
 * replaced, in append mode.  A directory is an error.  0, or a negative
 * code after printing why to stderr. */
int report_write(const assay_reporter *reporter, const report *rep,
		 const char *path);

/* Whether report_write() could write to path, by the rules above, without
 * writing anything: for a file to be replaced, a file can be created in
 * its directory; for one written in place, it is writable.  0, or -1 with
 * the reason in why. */
int report_check_target(const char *path, char *why, size_t why_size);

/* The exit status of a run: the worst node's state (0..3); a stopped run
 * is never 0. */
int report_exit_status(const report *rep);

#endif /* ASSAY_REPORT_H */
