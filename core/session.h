/* session.h -- one run's life, in the order it happens: load the config,
 * find and load its plugins with their [plugins.NAME] tables, prepare,
 * build the graph, take the run lock and open the journal, run with its
 * subscribers, write the reports, release.  Every command of
 * assay(1) is a few of these steps; a test or a benchmark takes the ones it
 * needs, each on its own.
 *
 * The steps that read the file collect every error in s->d (all of a
 * file's errors are reported together) and return -1 when the next step
 * cannot follow. */
#ifndef ASSAY_SESSION_H
#define ASSAY_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "sweep.h"
#include "diag.h"
#include "graph.h"
#include "plan.h"
#include "progress.h"
#include "reactor.h"
#include "registry.h"
#include "run.h"
#include "signals.h"
#include "statedir.h"
#include "targets.h"

/* What the command line says; zero is the file's own settings. */
typedef struct session_options {
	bool allow_insecure;       /* --allow-insecure-plugins */
	bool allow_unset;          /* unset ${env:} variables are warnings */
	int verbosity;             /* -v: plugins' info (1) and debug (2) messages */
	unsigned jobs, workers;    /* 0: [runner]'s */
	bool fail_fast;            /* or [runner]'s */
	progress_mode progress;    /* --progress */
	int64_t progress_interval_ms; /* --progress plain's period; 0: 30 s */
	/* The run lock (lock.h): how long to wait for another run of the
	 * config to end (--lock-wait); 0: give up at once (exit 75). */
	int64_t lock_wait_ms;
	/* The journal (resume.h): continue the last interrupted run
	 * (--resume), or the last run's nodes not OK (--rerun-failed); say
	 * per node why it reruns or is reused (--explain). */
	bool resume, rerun_failed, explain;
	const char *trace_path;    /* --trace FILE: a Chrome trace of the run (trace.h) */
	char *const *argv;         /* the command line, for the journal's run record */
} session_options;

typedef struct run_lock run_lock;
typedef struct resume resume;
typedef struct trace trace;

typedef struct session {
	session_options o;
	diag d;
	plan p;
	registry reg;
	graph g;
	bool *keep;                /* --only's selection; NULL: every node */
	targets out;               /* the reports to write */
	reactor *re;               /* from the first run to session_release() */
	signal_watch sig;
	run *run;
	sweeps *sweeps;            /* the trial tracker, when the plan has sweeps */
	progress *progress;        /* on a terminal */
	/* A run of trials (session_start()): its place in the state dir,
	 * each trial's directory there, per plan node (trialdir.h). */
	statedir_run state;
	char **trial_dirs;         /* NULL: the run has no trials */
	const char *run_id;        /* the run's id ("20261207T225050Z-4f2a"), once it
				    * has a run dir (for assay_report.run_id); else NULL */
	bool state_failed;         /* session_start() failed on the state dir: a
				    * configuration error (exit 78) */
	run_lock *lock;            /* held from session_start() to session_release_plan() */
	bool lock_busy;            /* session_start() failed: another run holds it (exit 75) */
	resume *resume;            /* the journal, and what --resume reuses */
	trace *trace;              /* --trace */
	plan loader;               /* the plan the plugins were loaded from, kept
				    * by session_release_plan() until they unload */
	bool have_plan, have_registry, have_graph, have_loader;
} session;

void session_init(session *s, const session_options *o);

/* The plan of the file at path.  -1 when nothing can follow (the file
 * cannot be read, is not TOML, or memory ran out). */
int session_load(session *s, const char *path);

/* The plan of a document already parsed (path: the file it came from,
 * for messages and relative paths); doc must outlive the plan.  What a
 * benchmark times from the parsed text on.  -1 as session_load(). */
int session_load_doc(session *s, const toml_doc *doc, const char *path);

/* The registry with the host's reporters, the search path (searchpath.h)
 * and the plugins the plan loads, each with its [plugins.NAME] table.
 * Errors loading one are in s->d; -1 when there is no registry. */
int session_load_plugins(session *s);

/* Every plugin file on the search path (the plan's [plugins] path too,
 * when one was loaded), each loaded with the plan's [plugins.NAME] table
 * when there is one (after session_load_plugins() too: what it loaded
 * stays as it is): what `assay plugins` lists.  The number of files found, or -1 when there is no
 * registry or memory ran out.  Errors are in s->d. */
int session_load_every_plugin(session *s);

/* The plugins' prepare of every node (config.h's config_prepare()). */
void session_prepare(session *s);

/* The graph of a plan prepared without error.  0 or -1. */
int session_graph(session *s);

/* All of the above: the file at path loaded, prepared and graphed.  0, or
 * -1 with the errors in s->d. */
int session_open(session *s, const char *path);

/* --only: run the nodes named (node ids or group names) and what they
 * wait for, instead of any selection before.  0, or -1 with why in why. */
int session_select(session *s, char *const *names, size_t n, char *why, size_t why_size);

/* Also write the report in format (any reporter registered) to path
 * (borrowed; NULL: standard output), checked now, written by
 * session_report().  0, or -1 with why in why. */
int session_add_report(session *s, const char *format, const char *path,
		       char *why, size_t why_size);

/* `assay graph` and `run --dry-run`: the graph (of the selection, if
 * any) with the critical path from the nodes' declared estimates, as text
 * or Graphviz dot.  0 or ASSAY_ENOMEM. */
int session_print_graph(const session *s, bool dot, FILE *out);

/* Run the graph: the best-trial tracker and, on a terminal, the live line
 * subscribed; SIGINT, SIGTERM and SIGHUP stop it.  0 once it ran, or -1
 * when it could not start (said on stderr). */
int session_run(session *s);

/* session_run() in its two parts: the config's directory in the state dir
 * (statedir.h; state_failed set when it cannot be made), with the run's
 * directory when a trial is to run; the run lock (lock_busy set when
 * another run holds it); the journal; the run set up with its
 * subscribers; then run to the end, and the runs beyond [runner]
 * keep_runs removed.  0 or -1 as session_run(); session_go() only after
 * session_start() succeeded. */
int session_start(session *s);
int session_go(session *s);

/* `run --dry-run --explain` with --resume or --rerun-failed: why each
 * node would rerun or be reused, on stderr, from the journal as it is;
 * nothing killed, compacted or written but the config's directory and
 * its hash key.  0, or -1 said on stderr. */
int session_explain(session *s);

/* Write every report of the run; its exit status: the worst node's state
 * (0..3), UNKNOWN when a report could not be written. */
int session_report(session *s);

/* Release the run, the graph and the plan, keeping the plugins loaded: a
 * benchmark may load, prepare, graph and run another plan on them. */
void session_release_plan(session *s);

/* Release everything: the plan's part, then the plugins. */
void session_release(session *s);

/* The formats a run writes before any plugin adds its own, ", "-joined
 * into buf (cut to size).  buf. */
char *session_formats(char *buf, size_t size);

#endif /* ASSAY_SESSION_H */
