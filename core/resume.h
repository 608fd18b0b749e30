/* resume.h -- a run's journal and what `assay run --resume` and
 * --rerun-failed reuse from the runs before it (DESIGN.md, "Resume").
 *
 * Before the run, under the run lock: every execution's key (nodekey.h),
 * the journal loaded, what an earlier run left running killed (only a
 * process group whose leader is still the process it started, on this
 * boot), each node judged -- reused, or rerun and why (--explain says
 * it) -- and the journal opened, afresh or continuing the last run.
 * During it: each execution's start, process group and end journaled as
 * the run publishes them, and run_options.resume answering what is
 * reused.  After it: the run's end.
 *
 * What is reused: a node or item whose key has a final result in the
 * journal's chain that ended OK or WARNING (--rerun-failed: OK only),
 * not older than [runner] resume_max_age, and none of whose dependencies
 * reruns.  Everything else reruns, in-flight executions included. */
#ifndef ASSAY_RESUME_H
#define ASSAY_RESUME_H

#include <stdbool.h>
#include <stdio.h>

#include "graph.h"
#include "plan.h"
#include "run.h"

typedef enum resume_mode {
	RESUME_NONE = 0,          /* a fresh run: nothing reused */
	RESUME_CONTINUE,          /* --resume: the last run, if it was interrupted */
	RESUME_FAILED             /* --rerun-failed: what the last run did not get OK */
} resume_mode;

typedef struct resume_options {
	const plan *p;
	const graph *g;
	const bool *keep;         /* --only; NULL: every node */
	const char *config_dir;   /* the config's directory in the state dir */
	const char *run_id;
	char *const *argv;        /* the command line, for the run record */
	resume_mode mode;
	bool explain;             /* say per node why it reruns or is reused */
	bool preview;             /* --dry-run: judge only; kill, compact, write nothing */
	FILE *err;                /* where notes go: stderr */
} resume_options;

typedef struct resume resume;

/* All that comes before the run (above); the journal written from now
 * on (o->preview: only the judging, and --explain's lines).  0, or -1
 * said on o->err (the journal cannot be written, the key cannot be read
 * or made, memory): the run does not start, as with a state dir that
 * cannot be written. */
int resume_open(resume **out, const resume_options *o);

/* run_options.resume and its arg, for run_new(). */
void resume_set_options(resume *r, run_options *ro);

/* The journal's subscriber.  0 or ASSAY_ENOMEM. */
int resume_subscribe(resume *r, run *rn);

/* After run_go(): the run's end record. */
void resume_end(resume *r, const run *rn);

/* Close the journal (synced as journal_sync says) and free.  NULL is
 * fine.  After run_free(): the run's results borrow the reused runs' ids. */
void resume_free(resume *r);

#endif /* ASSAY_RESUME_H */
