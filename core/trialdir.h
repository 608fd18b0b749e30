/* trialdir.h -- a trial's own directory, runs/<run-id>/<trial id escaped>/
 * in the state dir ({trial_dir}, $ASSAY_TRIAL_DIR): its name, escaped so
 * that any id is one safe file name; made when the trial's first attempt
 * starts, with params.json; metrics.jsonl ($ASSAY_METRICS) is the
 * program's to make, and a retry removes an earlier attempt's so that
 * attempts do not mix; result.json once the trial is final. */
#ifndef ASSAY_TRIALDIR_H
#define ASSAY_TRIALDIR_H

#include <stdbool.h>
#include <stddef.h>

#include "assay/plugin.h"
#include "plan.h"

/* An escaped name is cut past this many bytes (NAME_MAX is 255). */
#define TRIALDIR_NAME_MAX 200

/* id as one safe file name: bytes of A-Z a-z 0-9 and . _ - + = , @ [ ]
 * are kept, every other byte (and a leading '.' or '-') becomes %XX
 * (upper-case hex), so that no two ids give one name; "" becomes "%".
 * A name longer than TRIALDIR_NAME_MAX is cut (never inside a %XX) and
 * given '~' and 16 hex digits of the id's FNV-1a hash ('~' is escaped
 * elsewhere, so cut names stay apart from whole ones).  malloc'd, or
 * NULL when out of memory. */
char *trialdir_escape(const char *id);

/* Per plan node, the directory its trial would have under run_dir --
 * trials kept by keep (NULL: all) and not skipped; NULL for the other
 * nodes.  Named trialdir_escape(id), or for an id that holds one of the
 * plan's secrets, the escape of the masked id, '~' and the node's index: p->n_nodes pointers and their strings in one allocation, for
 * one free().  NULL when out of memory. */
char **trialdir_paths(const plan *p, const bool *keep, const char *run_dir);

/* Make dir ready for an attempt of trial n of p: when `made` is false,
 * dir is made (0700) with params.json -- {"id", "sweep", "params": {NAME:
 * value, a JSON number when its text is one, else a string}, "seed",
 * "point"}; when true (a retry), the last attempt's metrics.jsonl is
 * removed.  Two files made a trial, no fsync: a trial of `true` stays
 * cheap.
 * 0, or -1 with why in why[0 .. size). */
int trialdir_enter(const char *dir, const plan *p, const plan_node *n, bool made, char *why,
		   size_t size);

/* What result.json records of a final trial: the run's result, as the
 * runner hands it (this file knows nothing of the run). */
typedef struct trialdir_result {
	const char *id;
	assay_status status;
	const char *message; /* a SKIPPED one's: its skip reason */
	bool pruned;
	int64_t pruned_step;
	const assay_metric *metrics; /* the final ones */
	size_t n_metrics;
	unsigned attempts;
	double duration, start, end; /* seconds; wall clock */
	const char *const *secrets;  /* masked in the id (the plan's) */
	size_t n_secrets;
} trialdir_result;

/* dir's result.json: {"id", "status", "message", "pruned", "pruned_step"
 * (when pruned), "metrics": {NAME: value}, "attempts", "duration",
 * "start", "end"}.  0, or -1 with errno set. */
int trialdir_write_result(const char *dir, const trialdir_result *res);

/* 64-bit FNV-1a of s[0 .. n): the escape's suffix, the state dir's
 * per-config name. */
unsigned long long trialdir_hash(const char *s, size_t n);

/* Whether text is a number as JSON writes one (-?int frac? exp?). */
bool trialdir_json_number(const char *text);

#endif /* ASSAY_TRIALDIR_H */
