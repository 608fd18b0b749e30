/* journal.h -- the journal of a config's runs (DESIGN.md, "Resume"): an
 * append-only file in the config's directory of the state dir, written
 * only under the run lock, that says what each execution of a run did, so
 * that `assay run --resume` after a kill -9 reuses what finished.
 *
 * Durability: every record is checksummed and written with one write(2)
 * on an O_APPEND descriptor, so a kill -9 of assay loses at most the
 * record being written (what write(2) handed to the kernel survives the
 * process), and a torn or corrupt tail is dropped on load with a note.
 * Records from several threads at once never interleave.  Power loss is
 * what fdatasync guards against, as journal_sync says.
 *
 * Identity: an execution is named by its key (a node's, or one item's of a
 * validation: nodekey.h), never by its place in the plan, so that a
 * journal outlives edits of the file: a changed node has another key.
 *
 * One journal holds one chain of runs: a fresh run starts it afresh, each
 * --resume or --rerun-failed appends its run to it.  Compaction rewrites
 * it (a temporary file, then rename) keeping what a resume can still use
 * once it grows past a bound. */
#ifndef ASSAY_JOURNAL_H
#define ASSAY_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "run.h"

/* The format's version: a journal of another is ignored with a note. */
#define JOURNAL_VERSION 1

/* The journal's file name in the config's directory of the state dir. */
#define JOURNAL_FILE "journal"

/* [runner] journal_sync. */
typedef enum journal_sync {
	JOURNAL_SYNC_BATCH = 0, /* fdatasync at most every 100 ms while records
				 * come, at the end of each node, and at the end
				 * of the run -- never one per record (default) */
	JOURNAL_SYNC_RUN,       /* once, at the end of the run */
	JOURNAL_SYNC_NEVER      /* never: a kill -9 loses nothing, a power cut may */
} journal_sync;

/* An execution's key: 128 bits (nodekey.h makes them). */
typedef struct journal_key {
	uint64_t hi, lo;
} journal_key;

/* What a run record says of the run. */
typedef struct journal_run_info {
	const char *run_id;       /* "20261207T225050Z-4f2a" */
	const char *config_hash;  /* hex: which config this journal is of (its
				   * name and real path, as the state dir names it) */
	const char *version;      /* assay's, PACKAGE_VERSION */
	char *const *argv;        /* the command line, NULL-terminated */
	const char *boot_id;      /* /proc/sys/kernel/random/boot_id */
	double start;             /* wall clock, seconds since the epoch */
	const char *continues;    /* --resume/--rerun-failed: the run id it
				   * continues; NULL for a fresh run */
} journal_run_info;

typedef struct journal journal;

/* Open the journal at path for a run: fresh (a new, empty journal replaces
 * any there, atomically) or not (append to the one there; made when
 * missing), then write the run record.  Created with mode 0600.  The
 * caller holds the run lock.  0, or -1 with why ("journal
 * /var/lib/assay/x/journal: cannot open: Permission denied"). */
int journal_open(journal **out, const char *path, bool fresh, journal_sync sync,
		 const journal_run_info *run, char *why, size_t why_size);

/* The records of a run, in the order the run publishes them.  Any
 * thread, several at once; each is one write(2).  item: the item's index
 * in the validation, UINT32_MAX for a node (the key says which item it
 * is; the index is for messages).  0, or -1 when the write failed (the
 * journal then says so once on stderr and writes no more: the run goes
 * on, it cannot be resumed). */
int journal_start(journal *j, journal_key key, uint32_t item, unsigned attempt);
/* The attempt's process group, and when its leader started: field 22 of
 * /proc/PID/stat (clock ticks of the boot-time clock) lies in
 * [start_min, start_max], the clock read before and after the spawn.  A
 * window, not /proc's own figure: reading /proc/PID/stat for each of
 * 100,000 children cost a validation of `true` items 8% of its wall time,
 * and a pid handed to another process within the window of its spawn
 * would need the pid space to wrap within it. */
int journal_child(journal *j, journal_key key, uint32_t item, unsigned attempt, pid_t pgid,
		  uint64_t start_min, uint64_t start_max);
/* An attempt ended (res as it left the execution). */
int journal_end(journal *j, journal_key key, uint32_t item, unsigned attempt,
		const run_result *res);
/* An execution is final: a validation's item (item < UINT32_MAX) or a
 * node (its items are not repeated here).  What a resume reuses. */
int journal_final(journal *j, journal_key key, uint32_t item, const run_result *res);
/* The run ended (stopped: cut by a signal, fail_fast, a deadline). */
int journal_run_end(journal *j, double end, bool stopped);

/* A node is final: under JOURNAL_SYNC_BATCH, a sync soon (not on this
 * thread). */
void journal_node_done(journal *j);

/* Sync as the policy says, close, free.  0, or -1 when a write or the
 * sync failed (said on stderr). */
int journal_close(journal *j);

/* --- reading ------------------------------------------------------------- */

/* An execution that started and has no end in the journal: in flight when
 * the run was killed. */
typedef struct journal_orphan {
	journal_key key;
	uint32_t item;
	unsigned attempt;
	pid_t pgid;               /* 0 when no child record came */
	uint64_t start_min, start_max; /* its leader's start time lies within */
	const char *boot_id;      /* its run's */
	const char *run_id;
} journal_orphan;

/* One run of the chain, as its records tell. */
typedef struct journal_run {
	char *run_id, *config_hash, *version, *boot_id, *continues;
	char **argv;
	double start, end;        /* end 0: no run-end record (killed) */
	bool stopped;
} journal_run;

/* A journal as loaded: the runs of its chain, oldest first, and the last
 * final record of each key. */
typedef struct journal_view {
	journal_run *runs;
	size_t n_runs;
	journal_orphan *orphans;
	size_t n_orphans;
	size_t n_finals;
	void *finals;             /* journal.c's table of keys */
	size_t bytes_dropped;     /* a torn or corrupt tail (or record) dropped */
} journal_view;

/* Load the journal at path.  A missing file is an empty view.  A file of
 * another format version, or of another config than config_hash, is an
 * empty view and a note in note[0 .. note_size) ("journal: written by
 * assay 0.5.0 in format 2; not reused"); so is a torn or corrupt tail,
 * dropped ("journal: dropped a torn record of 37 bytes at the end").
 * 0, or -1 with why when it cannot be read (out of memory, EIO). */
int journal_load(journal_view *v, const char *path, const char *config_hash, char *note,
		 size_t note_size, char *why, size_t why_size);

/* The last final record of key: its result (strings owned by the view;
 * resumed_from the id of the run that wrote it), or NULL. */
const run_result *journal_find(const journal_view *v, journal_key key);

void journal_view_release(journal_view *v);

/* Rewrite the journal at path, when it is larger than `bound` bytes,
 * keeping only what a resume reads: the runs, the last final record of
 * each key, the orphans.  Atomic (temporary file, fsync, rename); under
 * the run lock.  1 when rewritten, 0 when small enough, -1 with why. */
int journal_compact(const char *path, const char *config_hash, uint64_t bound, char *why,
		    size_t why_size);

#endif /* ASSAY_JOURNAL_H */
