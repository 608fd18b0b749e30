/* statedir.h -- the state dir (DESIGN.md, "Resume"): where it is, the
 * directory of one config inside it, a run's directory under its runs/
 * with the run's id, and the retention of old runs (keep_runs).
 *
 * The journal, the run lock and the last result live in the config's
 * directory beside runs/; every run makes it. */
#ifndef ASSAY_STATEDIR_H
#define ASSAY_STATEDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

/* [runner] keep_runs when the file does not say. */
#define STATEDIR_KEEP_RUNS 20

/* A run id: "20261207T225050Z-4f2a", 21 characters. */
#define STATEDIR_RUN_ID_SIZE 22

/* The state dir: `setting` ([runner] state_dir, already made absolute
 * against the config file's directory) when set; else $STATE_DIRECTORY
 * (its first entry: systemd may list several, colon-separated); else
 * /var/lib/assay for euid 0; else $XDG_STATE_HOME/assay (when absolute,
 * as the XDG spec wants); else $HOME/.local/state/assay.  Empty variables
 * count as unset.  malloc'd; NULL with why in why[0 .. size) when there
 * is none (no HOME) or memory ran out. */
char *statedir_base(const char *setting, uid_t euid, char *why, size_t size);

/* The name of a config's own directory in the state dir: its file name
 * without ".toml", '-', and 16 hex digits of a 64-bit FNV-1a hash of its
 * real path (the path as given when it has none), so that two files of
 * one name in different places keep apart.  The name part is escaped as
 * trialdir_escape() does.  malloc'd, or NULL when out of memory. */
char *statedir_config_name(const char *config_path);

/* path made with its missing parents, each with mode 0700, and checked
 * to be a directory this process may write in.  0, or -1 with why
 * ("state dir /x: cannot create: Permission denied"). */
int statedir_make(const char *path, char *why, size_t size);

/* A run id for `now` (UTC) and a 16-bit suffix, into buf.  Runs use the
 * millisecond times 64 plus 6 random bits as the suffix: ids sort by
 * start time to the millisecond. */
void statedir_format_run_id(char buf[STATEDIR_RUN_ID_SIZE], time_t now, unsigned random16);

/* Whether name is a run id as statedir_format_run_id() writes them: what
 * retention may remove, and nothing else. */
bool statedir_is_run_id(const char *name);

/* One run's place in the state dir. */
typedef struct statedir_run {
	char *base;       /* the state dir */
	char *config_dir; /* base/<statedir_config_name()> */
	char *run_id;
	char *run_dir; /* config_dir/runs/<run_id>, or NULL (a run without trials) */
} statedir_run;

/* Resolve the state dir (statedir_base()), make the config's directory
 * (where the run lock and the journal are) and draw the run's id; with
 * with_run_dir (a run of trials), also runs/ and the run's directory
 * there (mkdir fails on a name that exists: another id is drawn; without,
 * run_dir is NULL).  0, or -1 with why. */
int statedir_open_run(statedir_run *r, const char *setting, const char *config_path,
		      bool with_run_dir, char *why, size_t size);

void statedir_release(statedir_run *r);

/* Remove the oldest run directories of config_dir/runs beyond the keep
 * newest (run ids sort by time), never `current` (which counts as one of
 * them), never a name that is not a run id; keep 0 removes nothing.  What
 * cannot be removed is said on warn as a warning.  The number removed. */
size_t statedir_prune_runs(const char *config_dir, unsigned keep, const char *current, FILE *warn);

#endif /* ASSAY_STATEDIR_H */
