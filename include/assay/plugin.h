/* assay/plugin.h -- the plugin ABI: what a plugin registers with assay and
 * the table of host functions it may call.  The one public header.
 *
 * A plugin is a shared object that exports exactly one symbol,
 *
 *     int assay_plugin_init(const assay_host *host, assay_plugin *plugin);
 *
 * (libtool: -module -avoid-version -export-symbols-regex '^assay_plugin_init$').
 * It never links against the host: everything it needs from assay comes
 * through `host`, so a test can hand it a fake table.
 *
 * The first thing init does is declare itself with host->declare(), which
 * checks the ABI version; then it registers node types, resource types and
 * reporters.  init returns 0, or a negative ASSAY_E* code after reporting
 * why with host->plugin_log(); the host then unregisters everything the
 * plugin registered and refuses to run.
 *
 * Return-value rule, stated once: functions returning int return 0 (or a
 * documented non-negative value) on success and a negative ASSAY_E* code on
 * failure; host->strerror() names any code.
 *
 * Threads: init and every prepare run on the main thread before anything
 * runs.  run, cancel, and all reactor callbacks run on other threads, several
 * at once; a plugin guards its own shared state.  Host functions are
 * thread-safe unless marked "main thread only".
 *
 * Ownership is written beside each function.  Strings passed to the host are
 * copied unless stated otherwise; strings the host returns stay valid for
 * the lifetime stated there and are never freed by the plugin.
 */
#ifndef ASSAY_PLUGIN_H
#define ASSAY_PLUGIN_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ASSAY_ABI_VERSION is bumped on an incompatible change to this header.
 * The layout of assay_plugin_info's first member and of assay_host's first
 * two members never changes, so that any host can refuse any plugin by
 * name.  ASSAY_ABI_MINOR is bumped when a version grows compatibly: a
 * struct gains a member at its end, the host table a function at its end
 * (see "How the ABI grows" in assay-plugin(3)). */
#define ASSAY_ABI_VERSION 3
#define ASSAY_ABI_MINOR 3

#if defined(__GNUC__)
#define ASSAY_PRINTF(f, a) __attribute__((format(printf, f, a)))
/* For assay_plugin_init in a plugin built with -fvisibility=hidden. */
#define ASSAY_EXPORT __attribute__((visibility("default")))
#else
#define ASSAY_PRINTF(f, a)
#define ASSAY_EXPORT
#endif

/* ---- error codes ------------------------------------------------------ */

enum {
	ASSAY_ENOMEM = -1,   /* out of memory */
	ASSAY_EINVAL = -2,   /* invalid argument or option */
	ASSAY_EEXIST = -3,   /* a type of that name is already registered */
	ASSAY_EABI = -4,     /* plugin and host speak different ABI versions */
	ASSAY_ESTATE = -5,   /* called at the wrong time (e.g. register after init) */
	ASSAY_EAGAIN = -6,   /* try_acquire: not now, ask again later */
	ASSAY_ENEVER = -7,   /* a resource request no machine here could satisfy */
	ASSAY_ESYS = -8,     /* a system call failed; errno says which */
	ASSAY_ECANCELED = -9 /* the task was cancelled */
};

/* ---- results ------------------------------------------------------------ */

/* The monitoring-plugins states, in order of severity, and their exit
 * codes.  SKIPPED is the host's: a plugin never sets it. */
typedef enum assay_status {
	ASSAY_OK = 0,
	ASSAY_WARNING = 1,
	ASSAY_CRITICAL = 2,
	ASSAY_UNKNOWN = 3,
	ASSAY_SKIPPED = 4
} assay_status;

/* The kinds of node a type can serve (a bit set). */
enum {
	ASSAY_KIND_CHECK = 1u << 0,
	ASSAY_KIND_TRIAL = 1u << 1,
	ASSAY_KIND_VALIDATION = 1u << 2
};

/* Which of assay_metric's optional fields are set. */
enum {
	ASSAY_METRIC_MIN = 1u << 0,
	ASSAY_METRIC_MAX = 1u << 1
};

/* One measurement: a perfdata item, a Prometheus sample, a trial's score. */
typedef struct assay_metric {
	const char *name;  /* required: "time", "accuracy", "/var" */
	double value;
	const char *unit;  /* "", "s", "ms", "us", "%", "B", "KB", "MB", "GB", "TB", "c"; NULL = "" */
	const char *warn;  /* threshold as a monitoring-plugins range ("10", "@5:10", "~:3"); NULL = none */
	const char *crit;  /* likewise */
	double min, max;   /* meaningful when flags has ASSAY_METRIC_MIN / _MAX */
	unsigned flags;
} assay_metric;

/* ---- opaque handles ----------------------------------------------------- */

typedef struct assay_plugin assay_plugin; /* the plugin being initialised */
typedef struct assay_value assay_value;   /* a configuration value (file:line:col) */
typedef struct assay_node assay_node;     /* a declared node, during prepare */
typedef struct assay_task assay_task;     /* one execution: a node's attempt or one item */
typedef struct assay_watch assay_watch;   /* a file descriptor watched by the reactor */
typedef struct assay_timer assay_timer;   /* a reactor timer */

/* ---- what a plugin registers ------------------------------------------ */

/* What assay_plugin_init declares first.  abi_version must stay the first
 * member forever. */
typedef struct assay_plugin_info {
	int abi_version;         /* ASSAY_ABI_VERSION as the plugin was built */
	const char *name;        /* "exec"; should match the file name */
	const char *version;     /* "1.0.0" */
	const char *description; /* one line for `assay plugins` */
	/* ABI 3.0 */
	unsigned abi_minor;      /* ASSAY_ABI_MINOR as the plugin was built */
} assay_plugin_info;

/* run's return values. */
enum {
	ASSAY_DONE = 0,   /* the result is set; the task is over */
	ASSAY_PENDING = 1 /* work was handed to the reactor; host->complete() follows */
};

/* A node type: what `type = "exec"` in a node table names.  The host keeps
 * the pointer (the struct is normally static const in the plugin) until the
 * plugin is unregistered; `data` is passed back to every callback and freed
 * with free_data (may be NULL) at unregistration. */
typedef struct assay_node_type {
	const char *name;        /* the `type` value; unique across plugins */
	unsigned kinds;          /* ASSAY_KIND_* bits this type serves */
	const char *description; /* one line for `assay plugins` */
	/* The option keys this type understands, NULL-terminated.  Any other
	 * key in a node table (besides the host's own: type, after, gate, ...)
	 * is an error with a "did you mean" suggestion from this list. */
	const char *const *options;

	/* Main thread, at load time, once per node (once per trial of a
	 * matrix; once for a validation, whatever its items).  Checks every
	 * option, reporting each bad one with host->config_error() at its
	 * value, and builds the per-node state the runs share.  Returns 0 with
	 * *state set (may be NULL) or a negative code; a run never starts on a
	 * config where any prepare failed.  The state is owned by the plugin
	 * and freed by release(). */
	int (*prepare)(assay_node *node, const assay_value *options, void *data,
		       void **state);

	/* A pool thread, once per attempt (and per item for a validation);
	 * the reactor thread too for a type with ASSAY_TYPE_QUICK_RUN.
	 * Either sets the result and returns ASSAY_DONE, or hands its waiting
	 * to the reactor (child_watch, fd_watch, timer_start) and returns
	 * ASSAY_PENDING; exactly one host->complete(task) must then follow,
	 * from any thread -- it may even come before run has returned (the
	 * host finishes the task once run returns).  Never blocks a pool
	 * thread on I/O or children.  The deadline only interrupts pending
	 * work: a synchronous run checks deadline_ns() itself. */
	int (*run)(assay_task *task, void *state, void *data);

	/* Any thread, at most once per pending task (after run returned
	 * ASSAY_PENDING, before complete), when it is cancelled: its deadline
	 * passed (task_timed_out() says so), SIGINT, fail_fast.  Must make the
	 * task complete soon, e.g. by killing its child; complete() still
	 * follows, possibly from inside cancel.  task_data() finds what run
	 * started.  May be NULL for a type whose run always returns
	 * ASSAY_DONE quickly. */
	void (*cancel)(assay_task *task, void *state, void *data);

	/* Main thread, when the plan is freed, for every prepared node whose
	 * state is not NULL. */
	void (*release)(void *state, void *data);

	void *data;
	void (*free_data)(void *data);

	unsigned flags;          /* ASSAY_TYPE_* bits */
} assay_node_type;

/* The type's run only starts waiting work -- spawns a child, sends a
 * request -- and returns within microseconds, never blocking and never
 * computing at length.  The host may then call it on the reactor thread:
 * a node whose predecessor's waiting just ended there starts at once,
 * instead of after a pool thread has been woken for it (tens of
 * microseconds, more in a virtual machine). */
#define ASSAY_TYPE_QUICK_RUN 1u

/* A resource type: what a node's `resources = { gpu = 1 }` asks for.  The
 * type named `gpu` receives every key of that table that is `gpu` or starts
 * with `gpu_` (gpu_memory_mb, ...).  Requests wait FIFO; a waiting node
 * holds no thread. */
typedef struct assay_resource_type {
	const char *name;
	const char *description;

	/* Main thread, at load time, per requesting node.  `request` is the
	 * node's resources table (read only the keys above).  Reports bad
	 * values with config_error; a request no machine here could ever meet
	 * returns ASSAY_ENEVER after config_error says why.  *req (owned by the
	 * plugin, freed by release_request) is what try_acquire gets. */
	int (*prepare)(const assay_value *request, void *data, void **req);

	/* Any thread, must not block.  0: acquired, *grant set (the plugin may
	 * call host->setenv(task, ...) now, e.g. CUDA_VISIBLE_DEVICES).
	 * ASSAY_EAGAIN: not now; the host asks again when a grant of this type
	 * is released, or after *retry_ms if the plugin sets it (for holders
	 * outside this process).  Other negative codes fail the node
	 * (UNKNOWN, not retried): a message set with host->set_message()
	 * during this call says why ("no GPU here: ..."), else the host
	 * names the code. */
	int (*try_acquire)(assay_task *task, void *req, void *data, void **grant,
			   uint32_t *retry_ms);

	/* Any thread: give back what try_acquire granted.  Called on every
	 * path: success, failure, timeout, cancellation. */
	void (*release)(void *grant, void *data);

	void (*release_request)(void *req, void *data);
	void *data;
	void (*free_data)(void *data);

	/* ABI 3.1 (read only from a plugin built for 3.1 or later) */

	/* Any thread, must not block: why the request waits, for the
	 * progress line and a wait that times out ("2 GPUs with 8000 MB
	 * free: 3 of 4 leased by this run, 1 by pid 4242"), written to buf
	 * (NUL-terminated, cut to size).  May be NULL. */
	void (*describe_wait)(void *req, void *data, char *buf, size_t size);
} assay_resource_type;

/* A subcommand a plugin provides: `assay NAME [FILE] [ARG]...` (ABI 3.1,
 * host->register_command).  The host loads the plugins of FILE (the
 * default configuration when no FILE is given) with their [plugins.NAME]
 * tables, then calls main. */
typedef struct assay_command {
	const char *name;        /* "gpus"; unique across plugins and assay's own */
	const char *usage;       /* what follows the name: "[FILE] [--format json]" */
	const char *description; /* one line for `assay help` and `assay plugins` */
	/* Main thread.  argv[0] is the name; the FILE argument, when given
	 * (the first argument, if it does not start with '-'), is taken out.
	 * Writes to out (stdout), errors to stderr; returns the exit status
	 * (64 for a usage error, as assay's own commands). */
	int (*main)(int argc, char **argv, FILE *out, void *data);
	void *data;
	void (*free_data)(void *data);
} assay_command;

/* A trial's parameter: a matrix key and its value, as text ("0.01"). */
typedef struct assay_param {
	const char *name;
	const char *value;
} assay_param;

/* A trial's objective: the metric its sweep is ranked by. */
typedef struct assay_objective {
	const char *metric;      /* "accuracy" */
	bool maximise;           /* goal = "max" (else "min") */
	const char *unit;        /* when reported: the metric's unit ("" for none) */
	bool reported;           /* the trial reported the metric: value is its last */
	double value;
} assay_objective;

/* One attempt of an execution that took more than one. */
typedef struct assay_attempt {
	unsigned number;         /* 1 for the first */
	assay_status status;
	const char *message;     /* never NULL */
	double start, end;       /* wall-clock seconds since the epoch; 0 if it never started */
	double duration;         /* seconds */
} assay_attempt;

/* What a reporter sees of one node (or of one validation item), in
 * declaration order.  The host hands these out as arrays of pointers, so
 * that the struct can grow at its end within an ABI version. */
typedef struct assay_result {
	const char *id;          /* "gcp.buckets", "lr[lr=0.1,bs=32]"; an item's text */
	unsigned kind;           /* one ASSAY_KIND_* bit */
	const char *type;        /* node type name */
	assay_status status;
	const char *message;     /* first line of output or the plugin's message; never NULL */
	const char *details;     /* long output (later lines), or NULL */
	const char *skip_reason; /* SKIPPED only: names the dependency; else NULL */
	const assay_metric *metrics;
	size_t n_metrics;
	unsigned attempts;       /* 0 when it never ran; a validation: its items' most */
	double start, end;       /* wall-clock seconds since the epoch; 0 if it never ran */
	double duration;         /* seconds: from the first attempt's start to the
				  * last one's end (monotonic clock); a validation's
				  * from its first item's start to its last item's end */
	const struct assay_result *const *items; /* validation items, in item order */
	size_t n_items;
	bool best;               /* the best trial of its sweep by the objective */

	/* ABI 3.0 */
	const char *group;       /* the innermost enclosing group ("gcp.eu"), or
				  * NULL at the top level; an item's is its node's */
	const char *const *groups; /* every enclosing group, outermost first
				    * ("gcp", "gcp.eu") */
	size_t n_groups;
	const char *sweep;       /* a trial's [trial.X] table id ("lr"), also for a
				  * trial without a matrix; NULL for other kinds */
	const assay_param *params; /* a trial's parameters, in matrix key order */
	size_t n_params;
	const assay_objective *objective; /* a trial's, or NULL when its sweep has none */
	const assay_attempt *const *history; /* every attempt, when there was more than one */
	size_t n_history;
	const char *item;        /* a validation item's text; NULL for a node */

	/* ABI 3.1 */
	const char *const *devices; /* what its last attempt held, as resource
				     * types recorded them (GPU UUIDs), in grant order */
	size_t n_devices;

	/* ABI 3.2 */
	bool pruned;             /* a trial its sweep's pruner stopped: status is
				  * SKIPPED (JUnit's skipped), skip_reason says
				  * why ("pruned at step 12: ..."), the metrics it
				  * reported are kept; never the best, never a failure */
	int64_t pruned_step;     /* when pruned: the step it was judged at */
	const char *trial_dir;   /* a trial's directory ({trial_dir}), when it ran; else NULL */
	unsigned seed;           /* a trial's repeat index ({seed}): 0 .. repeat - 1 */
	unsigned point;          /* a trial's point in its sweep (the repeats of
				  * one point share it); 0 for other kinds */

	/* ABI 3.3 */
	bool resumed;            /* not run by this run: `assay run --resume` or
				  * --rerun-failed reused the result an earlier run
				  * of this config journaled (its times are that
				  * run's); for a validation, true when every item was */
	const char *resumed_from; /* then the id of the run that produced it
				   * ("20261207T225050Z-4f2a"); else NULL */
} assay_result;

/* One sweep (a [trial.X] table) as the run left it (ABI 3.2). */
typedef struct assay_sweep {
	const char *id;          /* "lr" */
	const char *metric;      /* the objective's metric, or NULL without one */
	bool maximise;
	const char *best;        /* the best trial's id (the best repeat of the
				  * best point), or NULL when none qualified */
	const assay_param *params; /* the best point's parameters (no {seed}) */
	size_t n_params;
	double value;            /* the best point's objective: the mean over its
				  * repeats that reported it */
	double spread;           /* their standard deviation (0 for one) */
	unsigned repeats;        /* how many of them reported it */
	size_t trials;           /* trials planned (after max_trials) */
	size_t ok, failed, pruned, skipped; /* failed: CRITICAL or UNKNOWN
				  * (WARNING counts as ok) */
	const char *stopped;     /* why it stopped launching trials ("target 0.995
				  * reached by lr[...]", "stopped after 5
				  * consecutive failures"), or NULL */
} assay_sweep;

/* What a reporter gets: the whole run, after it ended. */
typedef struct assay_report {
	const char *config_path;
	const assay_result *const *results; /* declaration order */
	size_t n_results;
	size_t counts[5];             /* nodes per assay_status */
	assay_status worst;           /* the worst node, states ranked as the
				       * monitoring-plugins combine them:
				       * OK < UNKNOWN < WARNING < CRITICAL */
	double start, end;            /* wall-clock seconds since the epoch */
	double wall;                  /* seconds */
	double critical_path;         /* seconds, from the run's own durations */
	bool interrupted;             /* SIGINT/SIGTERM or fail_fast cut the run short */

	/* ABI 3.0 */
	const char *assay_version;    /* "0.4.0": the host's */

	/* ABI 3.2 */
	const assay_sweep *const *sweeps; /* every sweep, in file order */
	size_t n_sweeps;
	const char *run_id;           /* "20261207T225050Z-4f2a": names runs/<run-id>/ */

	/* ABI 3.3 */
	const char *const *critical;  /* the nodes of the critical path (by the
				       * run's own durations), first to last, as
				       * results[]' ids; NULL when nothing ran */
	size_t n_critical;
} assay_report;

/* An output format: `--format NAME` or `--report NAME:PATH`. */
typedef struct assay_reporter {
	const char *name;        /* "json", "junit", ... */
	const char *description;
	/* Main thread, after the run.  Writes the report to `out`, which the
	 * host owns: for a PATH it is a temporary file renamed over PATH only
	 * when write returns 0, so readers never see a partial report. */
	int (*write)(FILE *out, const assay_report *report, void *data);
	void *data;
	void (*free_data)(void *data);
} assay_reporter;

/* ---- reactor callbacks ---------------------------------------------------- */

/* Events for fd_watch (the epoll bits they map to). */
enum {
	ASSAY_READABLE = 1u << 0,
	ASSAY_WRITABLE = 1u << 1,
	ASSAY_HANGUP = 1u << 2 /* reported, never requested */
};

/* All three run on the reactor thread, one at a time and without any host
 * lock held (so they may call any host function): they must not block and
 * should be short; heavier work goes to the pool with host->spawn().  fd
 * watches are level-triggered: a readable fd is reported until drained. */
typedef void (*assay_fd_cb)(int fd, unsigned events, void *arg);
typedef void (*assay_timer_cb)(void *arg);
/* `status` is the waitpid() status of the reaped child. */
typedef void (*assay_child_cb)(pid_t pid, int status, void *arg);

/* ---- log levels ------------------------------------------------------- */

enum {
	ASSAY_LOG_ERROR = 0,
	ASSAY_LOG_WARNING = 1,
	ASSAY_LOG_INFO = 2,
	ASSAY_LOG_DEBUG = 3
};

/* Value types, as host->value_type() answers. */
typedef enum assay_value_type {
	ASSAY_VALUE_TABLE = 1,
	ASSAY_VALUE_ARRAY,
	ASSAY_VALUE_STRING,
	ASSAY_VALUE_INTEGER,
	ASSAY_VALUE_FLOAT,
	ASSAY_VALUE_BOOLEAN,
	ASSAY_VALUE_DATETIME
} assay_value_type;

/* ---- the host table ----------------------------------------------------- */

typedef struct assay_host {
	/* Frozen: these two members keep their place in every ABI version. */
	int abi_version;
	/* Must be the plugin's first call.  Returns ASSAY_EABI (and the host
	 * reports "built for ABI X, this assay has ABI Y", or "ABI 3.2 ...
	 * ABI 3.1") when info's abi_version differs from the host's, or its
	 * abi_minor is greater than the host's; init must then return it.  So
	 * a plugin never meets a host older than the one it was built for,
	 * and never needs to read abi_minor below. */
	int (*declare)(assay_plugin *plugin, const assay_plugin_info *info);
	unsigned abi_minor;       /* ASSAY_ABI_MINOR as the host was built */

	/* -- registration: main thread only, during init ---------------------- */

	/* The type struct must outlive the registration (static const).
	 * ASSAY_EEXIST when another plugin has the name (the host's message
	 * names both files).  Each register has its unregister; whatever is
	 * still registered when init fails or the plugin unloads is
	 * unregistered by the host, which also calls free_data. */
	int (*register_node_type)(assay_plugin *plugin, const assay_node_type *type);
	int (*unregister_node_type)(assay_plugin *plugin, const char *name);
	int (*register_resource_type)(assay_plugin *plugin, const assay_resource_type *type);
	int (*unregister_resource_type)(assay_plugin *plugin, const char *name);
	int (*register_reporter)(assay_plugin *plugin, const assay_reporter *reporter);
	int (*unregister_reporter)(assay_plugin *plugin, const char *name);

	/* The [plugins.NAME] table of the configuration, or NULL if there is
	 * none.  Valid until the plugin is unloaded. */
	const assay_value *(*plugin_config)(assay_plugin *plugin);
	void (*plugin_log)(assay_plugin *plugin, int level, const char *fmt, ...)
		ASSAY_PRINTF(3, 4);

	/* -- configuration values: read-only, valid until the plan is freed -- */

	assay_value_type (*value_type)(const assay_value *v);
	/* "string", "integer", "table", ... for messages. */
	const char *(*value_type_name)(const assay_value *v);
	/* Where v was written: file, 1-based line and column (any may be NULL). */
	void (*value_pos)(const assay_value *v, const char **file, unsigned *line,
			  unsigned *column);
	/* The key v is stored under in its table, or NULL (array element). */
	const char *(*value_key)(const assay_value *v);
	/* A string after ${env:...}/${file:...} interpolation, or NULL if v is
	 * not a string.  Valid until the plan is freed. */
	const char *(*value_string)(const assay_value *v);
	/* True when any part of the string came from a secret interpolation
	 * (${env:...} or ${file:...}, not their public- forms): such text
	 * must never be written to a message, log or metric (the host also
	 * masks every known secret in all output as a second line of
	 * defence). */
	bool (*value_secret)(const assay_value *v);
	/* 0, or ASSAY_EINVAL on a type mismatch (*out untouched). */
	int (*value_int)(const assay_value *v, int64_t *out);
	int (*value_float)(const assay_value *v, double *out); /* integers too */
	int (*value_bool)(const assay_value *v, bool *out);
	/* A duration: a string such as "1.5s", "200ms", "2m", "1h", "1h30m",
	 * "1d", or a number of seconds.  0 or ASSAY_EINVAL. */
	int (*value_duration_ms)(const assay_value *v, int64_t *out);
	/* Elements of an array, or entries of a table in document order. */
	size_t (*value_len)(const assay_value *v);
	/* The i-th element/entry (NULL when out of range); for a table, *key
	 * (if key is not NULL) is its key. */
	const assay_value *(*value_at)(const assay_value *v, size_t i, const char **key);
	/* The entry under key in a table, or NULL. */
	const assay_value *(*value_get)(const assay_value *table, const char *key);
	/* Report an error at v's position ("file:line:col: `key` ...").  The
	 * config is then invalid; loading goes on to report the other errors.
	 * Main thread only (init, prepare). */
	void (*config_error)(const assay_value *v, const char *fmt, ...)
		ASSAY_PRINTF(2, 3);

	/* -- the node being prepared: main thread only ------------------------ */

	const char *(*node_id)(const assay_node *node);
	unsigned (*node_kind)(const assay_node *node); /* one ASSAY_KIND_* bit */
	/* A trial's matrix parameter by name, as text ("0.01"), or NULL. */
	const char *(*node_param)(const assay_node *node, const char *name);
	/* Check the string v, which run will hand to expand(), by expand()'s
	 * own rules: each {NAME} (or {NAME:raw}) must be a parameter of this
	 * node, {item} needs a validation.  A bad placeholder is reported with
	 * config_error at v, naming the option `what`.  Returns -1 after
	 * reporting, else how many places expanding would change ({NAME},
	 * {{, }}): 0 means the string can be used as it is. */
	int (*check_template)(assay_node *node, const assay_value *v, const char *what);

	/* -- the running task: any thread, until complete() ------------------- */

	const char *(*task_id)(const assay_task *task);
	unsigned (*task_kind)(const assay_task *task);
	/* A trial's parameter, or NULL. */
	const char *(*task_param)(const assay_task *task, const char *name);
	/* A validation item ("solvers/a.py"), or NULL for other kinds. */
	const char *(*task_item)(const assay_task *task);
	/* 1 for the first attempt, 2 for the first retry, ... */
	unsigned (*task_attempt)(const assay_task *task);
	/* The plugin's own data for this attempt (what run started, for
	 * cancel to find); NULL until set, cleared for every attempt.  A plain
	 * pointer: the plugin guards what it points to.  The plugin owns it
	 * and may free it right after its complete() call returns:
	 * complete() waits for a cancel running on another thread. */
	void (*task_set_data)(assay_task *task, void *data);
	void *(*task_data)(const assay_task *task);
	/* This execution's timeout in ms (0: none), and whether it is being
	 * cancelled because that deadline passed (rather than SIGINT or
	 * fail_fast): "timed out after 5 s" versus "cancelled". */
	int64_t (*task_timeout_ms)(const assay_task *task);
	bool (*task_timed_out)(const assay_task *task);
	/* Replace {name} with the task's parameter, {item} with its item and
	 * {{ / }} with literal braces ({name:raw} is {name}: the text is
	 * pasted as it is either way).  Returns a malloc'd string the caller
	 * free()s, or NULL with *err (if not NULL) set: ASSAY_EINVAL for an
	 * unknown {name}, ASSAY_ENOMEM.  For a script a shell will parse,
	 * use expand_shell. */
	char *(*expand)(const assay_task *task, const char *template, int *err);

	/* The result: status (default UNKNOWN until set), a message (printf;
	 * a later call replaces it; secrets are scrubbed), metrics (copied). */
	void (*set_status)(assay_task *task, assay_status status);
	void (*set_message)(assay_task *task, const char *fmt, ...) ASSAY_PRINTF(2, 3);
	/* Long output: what follows the message (the monitoring-plugins' lines
	 * after the first; JUnit's system-out).  Replaces earlier details. */
	void (*set_details)(assay_task *task, const char *fmt, ...) ASSAY_PRINTF(2, 3);
	/* If this attempt fails and the node has retries left, the next
	 * attempt starts no sooner than ms after this one ends (a server's
	 * Retry-After); the host's own backoff applies when it is longer. */
	void (*retry_after)(assay_task *task, int64_t ms);
	/* This attempt's failure is permanent (a 404, a certificate that
	 * does not verify, a failed assertion): no retry, whatever the
	 * node's `retries`. */
	void (*no_retry)(assay_task *task);
	int (*add_metric)(assay_task *task, const assay_metric *metric);
	void (*task_log)(assay_task *task, int level, const char *fmt, ...)
		ASSAY_PRINTF(3, 4);

	/* Environment for what the task starts: setenv adds or replaces a
	 * variable (copied); environ returns the process environment with
	 * those applied, NULL-terminated, valid until complete(). */
	int (*setenv)(assay_task *task, const char *name, const char *value);
	char *const *(*environ)(assay_task *task);

	/* CLOCK_MONOTONIC nanoseconds by which the task must be done (INT64_MAX
	 * when it has no timeout), and whether it has been cancelled. */
	int64_t (*deadline_ns)(const assay_task *task);
	bool (*cancelled)(const assay_task *task);

	/* Run fn(arg) on the pool; the task is not over until complete().
	 * 0, ASSAY_ENOMEM, or ASSAY_ESTATE outside a run. */
	int (*spawn)(assay_task *task, void (*fn)(void *arg), void *arg);

	/* End a task whose run returned ASSAY_PENDING.  Exactly once, from any
	 * thread; the task must not be touched afterwards. */
	void (*complete)(assay_task *task);

	/* -- the reactor: any thread ---------------------------------------- */

	/* Watch fd for ASSAY_READABLE/WRITABLE; cb runs on the reactor thread.
	 * One watch per fd.  The fd stays the caller's: unwatch before closing it.  fd_modify
	 * changes the events (0 pauses).  fd_unwatch returns after any running
	 * callback for it finished, unless called from that callback. */
	int (*fd_watch)(int fd, unsigned events, assay_fd_cb cb, void *arg,
			assay_watch **out);
	int (*fd_modify)(assay_watch *watch, unsigned events);
	void (*fd_unwatch)(assay_watch *watch);

	/* One-shot timer after ms milliseconds (out may be NULL).  The handle
	 * may be passed to timer_stop at any time, from any thread, even after
	 * the timer fired: stopping a pending timer means cb never runs;
	 * stopping one that fired is a no-op that waits for a cb still
	 * running, unless called from that cb. */
	int (*timer_start)(uint64_t ms, assay_timer_cb cb, void *arg,
			   assay_timer **out);
	void (*timer_stop)(assay_timer *timer);

	/* Reap pid (a child of this process) without holding a thread: cb runs
	 * on the reactor thread with its wait status (-1 if something else
	 * reaped it).  The host reaps it; the plugin must not waitpid() it.
	 * fd_watch, timer_start and child_watch answer ASSAY_ESTATE outside a
	 * run (during init and prepare). */
	int (*child_watch)(pid_t pid, assay_child_cb cb, void *arg);

	/* -- misc ---------------------------------------------------------- */

	const char *(*strerror)(int code);
	const char *(*status_name)(assay_status status); /* "OK", "WARNING", ... */

	/* -- ABI 3 --------------------------------------------------------- */

	/* check_template for a script that /bin/sh will parse (what
	 * expand_shell takes): also an error is a placeholder the shell
	 * would never expand (in a here-document whose delimiter is
	 * quoted), unless it is {NAME:raw}.  Main thread only. */
	int (*check_shell_template)(assay_node *node, const assay_value *v, const char *what);
	/* expand for a /bin/sh script: a placeholder's value is never
	 * pasted into the script, where the shell would parse it as code
	 * (an item named `x$(reboot).py`).  Each {NAME} becomes a reference
	 * to the environment variable ASSAY_PARAM_NAME, and {item} to
	 * ASSAY_ITEM, quoted for where it stands -- "${ASSAY_ITEM}" bare,
	 * '"${ASSAY_ITEM}"' inside single quotes, ${ASSAY_ITEM} inside
	 * double quotes or $(( )) -- and the variable is set for the task with
	 * setenv(), so call it before environ().  {NAME:raw} pastes the
	 * text, for a value that is meant to be shell code.  Returns as
	 * expand does; *err may also be what setenv returned. */
	char *(*expand_shell)(assay_task *task, const char *script, int *err);

	/* Mask before cutting.  s[0..n) with every secret of the run (each
	 * text a secret interpolation gave) replaced by "***": malloc'd, for
	 * the caller to free(), NUL-terminated, its length in *len (if len is
	 * not NULL; s may hold NUL bytes); NULL when out of memory.
	 * The host masks all a plugin hands it (messages, details, logs,
	 * metrics), but it cannot recognise a secret that a cut has split: a
	 * plugin that shortens text it did not write -- a capture limit, the
	 * first line of an output, 200 bytes of a body -- masks the whole text
	 * first, then cuts what this returns.  flags (ASSAY_MASK_*) say which
	 * ends of s are already cuts of a longer text that is gone; at such
	 * an end the part of a secret that may be there is masked too.  Any
	 * thread. */
	char *(*mask)(const assay_task *task, const char *s, size_t n, unsigned flags,
		      size_t *len);

	/* -- ABI 3: the host's chores, so that plugins share its rules ------ */

	/* mask() with the plugin's own secrets as well: each of the
	 * n_secrets strings (a credential written in the clear in the
	 * config, a password from a URL) is masked together with every
	 * secret of the run -- or alone when task is NULL -- by the same
	 * rule, in one pass.  Returns and flags as mask().  Any thread. */
	char *(*mask_secrets)(const assay_task *task, const char *s, size_t n,
			      const char *const *secrets, size_t n_secrets, unsigned flags,
			      size_t *len);
	/* "did you mean": the word of the NULL-terminated candidates that
	 * word is a likely typo of, or NULL.  The host's own rule, for a
	 * plugin's messages to suggest as the host's do.  Any thread. */
	const char *(*suggest)(const char *word, const char *const *candidates);
	/* The more severe of two states as the monitoring-plugins combine
	 * them: OK < UNKNOWN < WARNING < CRITICAL (so a check that failed and
	 * also warns stays CRITICAL).  Any thread. */
	assay_status (*status_worse)(assay_status a, assay_status b);

	/* Option checks, with the words the host uses for its own options.
	 * Each checks v, the value of the option `what` (NULL: v's key; for
	 * a nested one say where it is: "expect.status"), and returns 0, or
	 * ASSAY_EINVAL after reporting at v what is wrong and what would be
	 * right.  Main thread only (init, prepare). */

	/* A duration (value_duration_ms) of min_ms to max_ms (INT64_MAX:
	 * no upper bound) into *out.  min_ms 1: "longer than 0". */
	int (*check_duration)(const assay_value *v, const char *what, int64_t min_ms,
			      int64_t max_ms, int64_t *out);
	/* An integer from min to max into *out. */
	int (*check_int)(const assay_value *v, const char *what, int64_t min, int64_t max,
			 int64_t *out);
	/* A string among the NULL-terminated choices: returns its index
	 * (0, 1, ...), or ASSAY_EINVAL naming them, with "did you mean" for a
	 * near miss. */
	int (*check_choice)(const assay_value *v, const char *what, const char *const *choices);
	/* The key of v, an entry of a table, is among the NULL-terminated
	 * known keys; else ASSAY_EINVAL after reporting it, at the key, as
	 * unknown in `where` ("[plugins.NAME]", "`expect`"), with "did you
	 * mean".  The host checks a node table's own keys against the type's
	 * `options`; this is for the tables nested in them and for
	 * [plugins.NAME]. */
	int (*check_key)(const assay_value *v, const char *where, const char *const *known);

	/* path, written at v, as every path of a config is read: relative
	 * to the directory of the file v was written in, unless absolute.
	 * malloc'd, for the caller to free(); NULL when out of memory.  Any
	 * thread, until the plan is freed. */
	char *(*config_path)(const assay_value *v, const char *path);

	/* -- ABI 3.1 ------------------------------------------------------- */

	/* From try_acquire: the task's attempt holds the device `id` (a GPU's
	 * UUID), recorded for its result (assay_result.devices: the last
	 * attempt's).  Any thread.  0 or ASSAY_ENOMEM. */
	int (*task_add_device)(assay_task *task, const char *id);
	/* The plugin loader's rules for a file a plugin will load or run
	 * ([plugins.gpu] nvml_library): NULL when it may be used, else why
	 * not ("it is world-writable"), a static string.  Honours
	 * --allow-insecure-plugins.  Main thread only. */
	const char *(*check_file)(const char *path);
	/* A subcommand (see assay_command); the struct must outlive the
	 * registration.  Main thread only, during init; ASSAY_EEXIST as
	 * register_node_type. */
	int (*register_command)(assay_plugin *plugin, const assay_command *command);
	int (*unregister_command)(assay_plugin *plugin, const char *name);

	/* -- ABI 3.2: trials ------------------------------------------------- */

	/* A trial's intermediate value of metric `name` at `step` (>= 0), as
	 * the program reports it while it runs (a `step: N` line, a JSON line
	 * of $ASSAY_METRICS with "step"): what drives its sweep's pruning and
	 * the live display.  The sweep may prune the trial on it: the type's
	 * cancel() follows (task_pruned() then says why), on this thread or
	 * another.  Final values still go through add_metric (the last value
	 * of each metric).  For other kinds it does nothing.  Any thread.  0,
	 * ASSAY_EINVAL (no name, a value that is not a number, a negative
	 * step) or ASSAY_ENOMEM. */
	int (*report_step)(assay_task *task, const char *name, double value, int64_t step);
	/* A trial's own directory ({trial_dir}, runs/<run-id>/<trial-id>/ in
	 * the state dir), made before run() with params.json in it; the
	 * plugin may keep the program's stdout and stderr there (files
	 * `stdout`, `stderr`).  $ASSAY_TRIAL_DIR names it and $ASSAY_METRICS
	 * its metrics.jsonl in the task's environ().  NULL for other kinds.
	 * Any thread, until complete(). */
	const char *(*task_dir)(const assay_task *task);
	/* Whether the task is cancelled because its sweep pruned it (rather
	 * than a timeout, SIGINT or fail_fast): the plugin stops the program
	 * as it would on a timeout and keeps what it reported. */
	bool (*task_pruned)(const assay_task *task);

	/* -- ABI 3.3: resume ------------------------------------------------- */

	/* The attempt started process group `pgid` (its leader's pid: the
	 * plugin made the child a group leader) and it runs now.  The host
	 * journals it with the leader's start time, so that `assay run
	 * --resume` after a kill -9 of assay kills what is left of it first
	 * -- only when the machine has not rebooted and the leader's start
	 * time still matches: a reused pid is never killed.  A plugin that
	 * starts processes calls it right after the spawn, before waiting.
	 * Any thread.  0 or ASSAY_EINVAL (pgid <= 1). */
	int (*task_child)(assay_task *task, pid_t pgid);
} assay_host;

/* host->mask() flags: s starts in the middle of a longer text (its start
 * that a secret ends with is masked), or stops in the middle of one (its
 * end that a secret begins with is masked: a capture limit's cut); and
 * a secret matches whatever the case of its ASCII letters (a server may
 * echo %2f for the %2F it was sent). */
enum {
	ASSAY_MASK_CUT_START = 1u << 0,
	ASSAY_MASK_CUT_END = 1u << 1,
	ASSAY_MASK_ANY_CASE = 1u << 2
};

/* What every plugin exports (and nothing else).  Called once per process:
 * a plugin may keep `host` in a static variable for its callbacks; the
 * table stays valid until the plugin is unloaded, after its last
 * free_data. */
ASSAY_EXPORT int assay_plugin_init(const assay_host *host, assay_plugin *plugin);

#ifdef __cplusplus
}
#endif

#endif /* ASSAY_PLUGIN_H */
