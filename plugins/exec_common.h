/* exec_common.h -- running a command the exec way, for every plugin that
 * runs one: its options, its child, and what its output says.
 *
 * Plugins cannot link each other, so this is a convenience library
 * (libexec-common.la, hidden visibility) linked into each: exec, and a
 * node type that takes exec's options plus its own (Slurm's).  A node
 * type built on it reads:
 *
 *     prepare:  exec_node_prepare(ctx, node, opts, &n)
 *     run:      exec_spawn_start(ctx, n, task, exec_output_report)
 *     cancel:   exec_spawn_cancel(ctx, task)
 *     release:  exec_node_free(n)
 *
 * The functions that take a task run on any thread; the others, on the
 * main thread (init, prepare). */
#ifndef EXEC_COMMON_H
#define EXEC_COMMON_H

#include <locale.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "assay/plugin.h"

/* ---- exec_config.c: the options, checked at load time ---------------- */

/* The option keys exec_node_prepare() reads, for a node type's
 * `options`: { EXEC_OPTION_KEYS, "slurm", NULL }. */
#define EXEC_OPTION_KEYS "command", "shell", "env", "cwd", "ok_exit", "output_limit", \
	"kill_grace", "convention", "log_limit"

/* What an exit status means: the `convention` option. */
typedef enum exec_convention {
	EXEC_PLAIN,      /* 0 (or an ok_exit code) is OK, anything else CRITICAL */
	EXEC_MONITORING  /* the monitoring-plugins': 0..3 are OK..UNKNOWN */
} exec_convention;

/* What every function here reads: the plugin's, made at init. */
typedef struct exec_ctx {
	const assay_host *host;
	locale_t c_locale;          /* perfdata numbers are C-locale whatever ours is */
	exec_convention convention; /* [plugins.NAME] convention: the nodes' default */
} exec_ctx;

/* A string of the node that is expanded per task, as host->expand() takes
 * it.  A secret one (it came through ${env:...}) is passed verbatim:
 * expanding it could turn a brace in a password into a placeholder, and
 * its text must not reach a message. */
typedef struct exec_tmpl {
	char *text; /* ours */
	bool secret;
	bool script; /* the script of shell = true: expanded for /bin/sh */
} exec_tmpl;

typedef struct exec_env {
	const char *name;
	exec_tmpl value;
} exec_env;

/* A prepared node: its options, shared by all its tasks. */
typedef struct exec_node {
	exec_tmpl *argv; /* argc elements; with shell: /bin/sh -c first */
	size_t argc;
	exec_env *env;
	size_t n_env;
	exec_tmpl cwd;          /* text NULL: the host's directory */
	const assay_value *cwd_at; /* where cwd is written: what it is relative to */
	exec_convention convention;
	uint8_t ok_exit[32]; /* a bit per exit code */
	bool has_ok_exit;    /* plain, with these codes OK rather than just 0 */
	size_t output_limit;
	int64_t kill_grace_ms;
	uint64_t log_limit; /* a trial's files `stdout`, `stderr`: bytes kept in each */
} exec_node;

/* Sets up ctx for host (the C locale, the plain convention): 0 or
 * ASSAY_ENOMEM.  exec_ctx_release() in either case. */
int exec_ctx_init(exec_ctx *ctx, const assay_host *host);
void exec_ctx_release(exec_ctx *ctx);

/* Reads the plugin's table (host->plugin_config(), may be NULL), whose
 * only option is `convention`, the nodes' default; `where` names it in
 * messages ("[plugins.exec]").  Returns the number of errors reported. */
int exec_ctx_read_config(exec_ctx *ctx, const assay_value *cfg, const char *where);

/* Checks the EXEC_OPTION_KEYS of opts, a node's table, reporting every
 * bad one, and builds *out (the caller's, freed with exec_node_free()).
 * 0, ASSAY_EINVAL after reporting, or ASSAY_ENOMEM. */
int exec_node_prepare(const exec_ctx *ctx, assay_node *node, const assay_value *opts,
		      exec_node **out);
void exec_node_free(exec_node *n);

/* ---- exec_spawn.c: one attempt's child ------------------------------- */

typedef struct exec_log exec_log;
typedef struct exec_metrics exec_metrics;

/* An output stream of the child, captured up to output_limit bytes. */
typedef struct exec_stream {
	struct exec_run *run;
	const char *name; /* "stdout" */
	int fd;           /* our read end; -1 once closed */
	assay_watch *watch;
	char *buf; /* the first output_limit bytes, NUL-terminated */
	size_t len, alloc;
	uint64_t total; /* every byte read, kept or not */
	bool eof;
	exec_log *log; /* a trial's file of this stream in its trial dir, or NULL */
} exec_stream;

enum { EXEC_NOT_CANCELLED, EXEC_TIMED_OUT, EXEC_CANCELLED, EXEC_PRUNED };

/* Once the child has exited and its output is read, the report
 * callback turns this into the task's result; it must not complete the
 * task (the caller does, then frees run). */
typedef struct exec_run exec_run;
typedef void (*exec_report_fn)(exec_run *run);

/* One attempt: the task's data (host->task_set_data), for cancel to find. */
struct exec_run {
	const exec_ctx *ctx;
	const exec_node *node;
	assay_task *task;
	exec_report_fn report;
	pid_t pid;            /* also the process group's id */
	exec_stream out, err; /* read only on the reactor thread */
	char *scratch;        /* where bytes over output_limit go to be counted */

	/* Under lock: what the reactor callbacks and cancel() share.  The
	 * report reads them after the last callback, without it. */
	pthread_mutex_t lock;
	bool exited;
	int wstatus;
	bool finishing; /* claimed by the one caller that completes the task */
	bool lingered;  /* the pipes were closed before end of file */
	bool cancel_seen;
	int cancel;     /* EXEC_* */
	char *failure;  /* an UNKNOWN message that overrides the exit status */
	assay_timer *kill_timer, *linger_timer;

	/* A trial's (exec_trial.c); NULL and unused for other kinds. */
	exec_metrics *metrics;
	assay_timer *tail_timer; /* under lock: the next read of $ASSAY_METRICS */
	bool tail_busy;          /* under lock: a read of it is under way */
	pthread_cond_t tail_done; /* signalled when it is over */
};

/* The monitoring-plugins convention waits for the plugin, not for what it
 * left in the background: once the child has exited, whatever still holds
 * its stdout or stderr gets this long before its process group is killed
 * and the pipes are closed, so a stray `sleep 1000 &` cannot hang the task. */
#define EXEC_LINGER_MS 100

/* The node type's run: starts n's command for task in its own process
 * group, with its output on pipes the reactor watches.  ASSAY_PENDING,
 * after which report(run) and host->complete() follow once the child is
 * reaped and its output read; or ASSAY_DONE with the task's result set
 * (UNKNOWN: why the command could not start). */
int exec_spawn_start(const exec_ctx *ctx, const exec_node *n, assay_task *task,
		     exec_report_fn report);

/* The node type's cancel: SIGTERM to the process group, SIGKILL after
 * the node's kill_grace. */
void exec_spawn_cancel(const exec_ctx *ctx, assay_task *task);

/* ---- exec_trial.c: what a trial adds to a run --------------------------- */

/* For a trial only (else they do nothing): its metrics from stdout lines
 * and $ASSAY_METRICS, its output kept in its trial dir.  start, before
 * the child is watched: sets up run->metrics, the files and the timer
 * that tails $ASSAY_METRICS.  feed: the bytes s just read (the reactor
 * thread).  stop, once the child is reaped and its pipes closed, before
 * the report: the timer stopped, the files and the lines read to the
 * end.  report: the final metrics added (exec_output_report calls it);
 * note: what the details say of bad metric lines and cut files, or
 * NULL.  free: with the run. */
void exec_trial_start(exec_run *run);
void exec_trial_feed(exec_run *run, exec_stream *s, const char *buf, size_t n);
void exec_trial_stop(exec_run *run);
/* In exec_finish(), after the timer is stopped: waits for a read of
 * $ASSAY_METRICS under way on another thread (the reactor's, when the
 * run ends on the thread that started it). */
void exec_trial_wait(exec_run *run);
void exec_trial_report(exec_run *run);
/* For exec_perfdata_parse_seen (arg: the run): a trial's perfdata item of
 * that name stands rather than its metric lines'. */
void exec_trial_perfdata_seen(void *arg, const char *name);
/* A trial's message: the first line of stdout that is not a metric line
 * (nor blank), up to a '|'; NULL when there is none or for other kinds. */
const char *exec_trial_first_line(const exec_run *run, int *len);
/* A trial's long output less its metric lines (they are its metrics, and
 * the whole output is in its trial dir): text (malloc'd) edited in place,
 * or freed and NULL when nothing is left.  Other kinds: text as it is. */
char *exec_trial_long_output(const exec_run *run, char *text);
char *exec_trial_note(exec_run *run);
void exec_trial_free(exec_run *run);

/* ---- exec_output.c: what the output says ------------------------------ */

/* The exec_report_fn of exec: the status by the node's convention (or a
 * timeout), the message from the first line of stdout (else of stderr),
 * the details from the long output and stderr, the metrics from
 * perfdata; the streams masked of the run's secrets before any of it is
 * cut. */
void exec_output_report(exec_run *run);

/* ---- exec_perfdata.c: monitoring-plugins output --------------------- */

/* Reads the standard output of a monitoring plugin, buf[0..len):
 *
 *     TEXT | PERFDATA
 *     LONG TEXT
 *     LONG TEXT | PERFDATA
 *     PERFDATA
 *
 * Adds every well-formed perfdata item to task as a metric, in output
 * order, and logs each malformed one (the first few by name) as a warning
 * before skipping it.  Numbers are read in c_locale whatever the process's
 * locale is.  Returns the long output -- the lines after the first, less
 * their perfdata, trimmed -- malloc'd, or NULL when there is none (or no
 * memory for it). */
char *exec_perfdata_parse(const assay_host *host, assay_task *task, locale_t c_locale,
			  const char *buf, size_t len);

/* The same, calling seen(arg, name) for each metric it added (a trial's
 * perfdata wins over its metric lines of the same name). */
char *exec_perfdata_parse_seen(const assay_host *host, assay_task *task, locale_t c_locale,
			       const char *buf, size_t len,
			       void (*seen)(void *arg, const char *name), void *arg);

#endif /* EXEC_COMMON_H */
