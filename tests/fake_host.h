/* fake_host.h -- the host table for plugin unit tests: the real host's config values and chores, a fake run (tasks, results, resources) and a poll() reactor. */
#ifndef FAKE_HOST_H
#define FAKE_HOST_H

#include <stdbool.h>
#include <stdint.h>

#include "assay/plugin.h"

/* The test thread is the "pool" and, inside fake_host_run_until_complete(),
 * the reactor thread too.  Another thread may call fake_host_cancel() and
 * so the plugin's cancel, and the reactor functions and result setters it
 * reaches are guarded; callbacks run without the fake's lock held, as with
 * the real reactor.  The host table has no context argument, so the fake
 * keeps one process-wide state; fake_host_reset() frees all of it (and
 * calls the plugin's free_data). */

const assay_host *fake_host(void);
assay_plugin *fake_plugin(void);
void fake_host_reset(void);

/* What the plugin registered; NULL if nothing under that name. */
const assay_plugin_info *fake_plugin_info(void);
const assay_node_type *fake_node_type(const char *name);
const assay_resource_type *fake_resource_type(const char *name);
/* A command the plugin registered (register_command), or NULL. */
const assay_command *fake_command(const char *name);
/* plugin_log lines, "LEVEL: text\n" each. */
const char *fake_plugin_log(void);
/* A command the plugin registered (register_command: unique, not one of
 * assay's own), or NULL; fake_host_reset() calls its free_data. */
const assay_command *fake_command(const char *name);
/* check_file() is the loader's own rule; this is its
 * --allow-insecure-plugins (false after a reset). */
void fake_set_allow_insecure(bool allow);

/* -- configuration values: the host's own (core/toml.c, core/value.c) ---- */

/* Parses a TOML document as the host reads a config: ${env:NAME} and
 * ${file:PATH} interpolated (a secret one marked secret and masked from
 * then on), every value at its file:line:column.  Aborts the test on a
 * syntax error.  The tree lives until fake_host_reset(). */
const assay_value *fake_parse(const char *toml);

/* A whole config: plugin_config() answers its [plugins.NAME] table, NAME
 * the name the plugin declared (NULL without one).  Set before the
 * plugin's init. */
void fake_set_config(const char *toml);

/* A secret mask() masks besides the interpolated ones. */
void fake_add_secret(const char *secret);

/* The file the documents parsed next are read from ("test.toml" until
 * set; NULL sets that again): what value_pos() names and config_path()
 * is relative to. */
void fake_set_file(const char *file);

/* config_error() calls since the last reset, as the host reports them
 * but without the file: "line:col: message", one a line, in the order
 * reported ("" if none). */
size_t fake_error_count(void);
const char *fake_errors(void);

/* -- nodes and tasks ----------------------------------------------------- */

/* A node for a type's prepare, read by the host's own node functions.
 * params: name, value, name, value, ..., NULL (may be NULL itself). */
assay_node *fake_node(const char *id, unsigned kind, const char *const *params);
/* timeout_ms < 0: no deadline (task_timeout_ms() answers 0).  The
 * deadline starts at fake_task_run(). */
assay_task *fake_task(const char *id, unsigned kind, const char *const *params, const char *item,
		      int64_t timeout_ms);
/* Calls type->run and remembers type and state for cancel.  Returns what
 * run returned.  As with the host, a cancel that comes while run is
 * running is passed to the type's cancel once run has returned PENDING. */
int fake_task_run(assay_task *task, const assay_node_type *type, void *state);

/* -- the reactor ----------------------------------------------------------- */

/* Runs the poll() loop until task completed (true) or limit_ms passed
 * (false).  A task whose deadline passes is cancelled, as the host does,
 * with task_timed_out() true. */
bool fake_host_run_until_complete(assay_task *task, int64_t limit_ms);
/* Runs the loop for ms whatever happens (to catch late callbacks). */
void fake_host_run_for(int64_t ms);
/* Sets cancelled and calls the type's cancel (once), as on SIGINT.  Any
 * thread.  complete() from another thread waits for a cancel that is
 * running, as the host's does. */
void fake_host_cancel(assay_task *task);
/* SIGKILLs the process group of every watched child and reaps it, so that
 * a failing test (Check skips teardown then) leaves nothing running. */
void fake_host_kill_children(void);
/* fd watches, timers and child watches still registered. */
size_t fake_host_pending(void);

/* -- resource types ----------------------------------------------------- */

/* Acquires req, prepared by type, for task as the host's resource queue
 * does: try_acquire now and, while it answers ASSAY_EAGAIN, again when a
 * grant comes back through fake_release() or after the retry_ms it asked
 * for, turning the reactor meanwhile.  Returns try_acquire's last answer
 * (ASSAY_EAGAIN when limit_ms passed first), *grant set on 0, and how
 * many times it asked in *tries.  As the host: a message set during a
 * refusal (negative, not EAGAIN) is the task's message, status UNKNOWN;
 * without one the message is "cannot acquire resource `NAME`: <the
 * code's text>"; one set during a grant or a "not now" is dropped.
 * After each "not now" describe_wait (when the type has one) is asked,
 * its text kept for fake_task_wait_text(). */
int fake_acquire(assay_task *task, const assay_resource_type *type, void *req, int64_t limit_ms,
		 void **grant, unsigned *tries);
/* Gives grant back through type's release, waking a waiting acquire. */
void fake_release(const assay_resource_type *type, void *grant);

/* -- results ----------------------------------------------------------------- */

int fake_task_completions(const assay_task *task);
bool fake_task_done(const assay_task *task); /* run returned DONE or complete() came */
assay_status fake_task_status(const assay_task *task);
const char *fake_task_message(const assay_task *task); /* "" if never set */
const char *fake_task_details(const assay_task *task); /* NULL if never set */
bool fake_task_timed_out(const assay_task *task);      /* cancelled by its deadline */
size_t fake_task_metric_count(const assay_task *task);
const assay_metric *fake_task_metric(const assay_task *task, size_t i);
const assay_metric *fake_task_find_metric(const assay_task *task, const char *name);
/* The i-th device task_add_device() recorded for the task, or NULL. */
const char *fake_task_device(const assay_task *task, size_t i);
/* task_log lines, "LEVEL: text\n" each (LEVEL: ERROR WARNING INFO DEBUG). */
const char *fake_task_log(const assay_task *task);
/* task_add_device() calls, in order: the count, the i-th (NULL past the
 * end); clear them as the host does when an attempt starts. */
size_t fake_task_device_count(const assay_task *task);
const char *fake_task_device(const assay_task *task, size_t i);
void fake_task_clear_devices(assay_task *task);
/* describe_wait's answer at fake_acquire()'s last "not now", or NULL. */
const char *fake_task_wait_text(const assay_task *task);

/* -- trials (ABI 3.2) ------------------------------------------------------- */

/* task_dir() of a trial (NULL for other kinds, as the host's), made by
 * the test; set before fake_task_run(): like the host, the fake makes
 * dir/metrics.jsonl empty and sets $ASSAY_TRIAL_DIR and $ASSAY_METRICS. */
void fake_task_set_dir(assay_task *task, const char *dir);
/* Cancels the task as its sweep's pruner does: task_pruned() true. */
void fake_host_prune(assay_task *task);
/* Prunes the task from inside report_step(), on the plugin's thread, when
 * it reports `name` at `step` or later. */
void fake_task_prune_at(assay_task *task, const char *name, int64_t step);
bool fake_task_pruned_flag(const assay_task *task);
/* report_step() calls of a trial, in order (other kinds record none). */
typedef struct fake_step {
	const char *name;
	double value;
	int64_t step;
} fake_step;
size_t fake_task_step_count(const assay_task *task);
const fake_step *fake_task_step(const assay_task *task, size_t i);

/* -- resume (ABI 3.3) ------------------------------------------------------ */

/* task_child() calls of a task: how many, and the i-th's process group
 * (0 past the end; the first 8 are kept). */
size_t fake_task_child_count(const assay_task *task);
pid_t fake_task_child_pid(const assay_task *task, size_t i);

#endif /* FAKE_HOST_H */
