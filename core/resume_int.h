/* resume_int.h -- what the files of the resume unit share: the journal's
 * state for one run and the verdict on each node (resume.h). */
#ifndef ASSAY_RESUME_INT_H
#define ASSAY_RESUME_INT_H

#include <stdint.h>

#include "journal.h"
#include "nodekey.h"
#include "resume.h"

/* Past this size a journal continued by --resume is compacted first. */
#define RESUME_COMPACT_BYTES (64u << 20)

/* How long what an earlier run left running gets between SIGTERM and
 * SIGKILL. */
#define RESUME_KILL_GRACE_MS 2000

/* The file beside the journal that keeps the last run's node keys by id,
 * for --explain to say what changed (resume_nodes.c). */
#define RESUME_NODES_FILE "nodes"

typedef enum resume_verdict {
	RESUME_RUN = 0,           /* runs: everything in it */
	RESUME_REUSE,             /* reused whole */
	RESUME_ITEMS              /* a validation: its items are judged one by one */
} resume_verdict;

/* The last run's nodes, as resume_nodes.c read them back. */
typedef struct resume_prev_node {
	char *id;
	journal_key key;
	nodekey_part *parts;      /* names malloc'd */
	size_t n_parts;
} resume_prev_node;

typedef struct resume_prev {
	resume_prev_node *nodes;  /* sorted by id */
	size_t n;
} resume_prev;

struct resume {
	resume_options o;
	nodekeys keys;
	journal_view view;
	bool have_view;
	journal *j;
	char *journal_path;
	resume_mode mode;         /* o.mode, or RESUME_NONE when there is nothing to resume */
	const journal_run *last;  /* the run continued; NULL when none */
	uint8_t *verdict;         /* per plan node, a resume_verdict */
	const journal_orphan **orphans; /* the view's, sorted by key */
	size_t n_orphans;
	resume_prev prev;
	char boot_id[64];
	double now;
};

/* resume_judge.c: each kept node's verdict, with --explain's lines on
 * o.err.  0 or ASSAY_ENOMEM. */
int resume_judge(resume *r);

/* Whether res (a final result in the journal) may be reused, and why or
 * why not in why[0 .. size) (NULL: not said, for the items' many). */
bool resume_usable(const resume *r, const run_result *res, char *why, size_t size);

/* The execution of key that was in flight when its run ended, or NULL. */
const journal_orphan *resume_in_flight(const resume *r, journal_key key);

/* resume_orphans.c: kill what the journal says was left running, when it
 * is still the process it was (same boot, started within the journaled
 * window). */
void resume_kill_orphans(resume *r);

/* The start time of process pid (field 22 of /proc/PID/stat, in clock
 * ticks since boot) and its process group; 0 when it cannot be read. */
uint64_t resume_proc_start(pid_t pid, pid_t *pgrp);

/* resume_nodes.c: the last run's node keys (RESUME_NODES_FILE), read (a
 * missing or damaged file, or memory running out, is fewer or none:
 * --explain then says less), and this run's written for the next (0, or
 * -1 with why). */
void resume_nodes_read(resume_prev *prev, const char *config_dir);
int resume_nodes_write(const resume *r, char *why, size_t size);
const resume_prev_node *resume_nodes_find(const resume_prev *prev, const char *id);
void resume_nodes_release(resume_prev *prev);

/* resume_events.c: run_options.resume and the journal's subscriber. */
bool resume_reuse(void *arg, size_t node, size_t item, run_result *out);
void resume_on_event(const run_event *ev, void *arg);

#endif /* ASSAY_RESUME_INT_H */
