/* report.h -- from a finished run to reports: the assay_report that every
 * reporter (built-in or plugin) reads, written to stdout or atomically to
 * a file. */
#ifndef ASSAY_REPORT_H
#define ASSAY_REPORT_H

#include <stdio.h>

#include "assay/plugin.h"
#include "config.h"
#include "graph.h"
#include "run.h"

typedef struct report {
	assay_report r;              /* what reporters see */
	assay_result *results;       /* r.results, owned */
	assay_result *items;         /* every validation item, owned */
} report;

/* Build the report of a finished run: kept nodes in declaration order,
 * the best trial of each matrix by its objective, the critical path from
 * the run's own durations.  0 or ASSAY_ENOMEM; report_release() always. */
int report_build(report *rep, const plan *p, const graph *g, const run *r);
void report_release(report *rep);

/* Write with `rep` to path ("-" is stdout).  A file is written to a
 * temporary name in its directory and renamed over path only when the
 * reporter succeeded, so readers never see a partial report.  0, or a
 * negative code after printing why to stderr. */
int report_write(const assay_reporter *reporter, const report *rep,
		 const char *path);

/* The built-in reporters: "human" and "json". */
const assay_reporter *report_builtin(const char *name);
extern const assay_reporter report_human;
extern const assay_reporter report_json;

/* The exit status of a run: the worst node's state (0..3); a stopped run
 * is never 0. */
int report_exit_status(const report *rep);

#endif /* ASSAY_REPORT_H */
