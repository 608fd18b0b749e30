/* host.c -- the host table: what plugins call, forwarded to the registry,
 * the configuration values, the task and the reactor. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"
#include "host.h"
#include "mask.h"
#include "option.h"
#include "registry.h"
#include "status.h"
#include "suggest.h"
#include "task.h"
#include "template.h"
#include "value.h"

/* The reactor of the run in progress.  Part of the registry's state in
 * spirit: set by the main thread before any plugin code can run on other
 * threads, cleared after they all stopped. */
static _Atomic(reactor *) host_reactor;

void host_set_reactor(reactor *r)
{
	atomic_store(&host_reactor, r);
}

/* --- registration ---------------------------------------------------------- */

static int h_register_node_type(assay_plugin *p, const assay_node_type *t)
{
	if (!t || !t->name || !t->run || !t->prepare || !t->kinds)
		return ASSAY_EINVAL;
	return registry_register(p, REG_NODE, t->name, t);
}

static int h_unregister_node_type(assay_plugin *p, const char *name)
{
	return registry_unregister(p, REG_NODE, name);
}

static int h_register_resource_type(assay_plugin *p, const assay_resource_type *t)
{
	if (!t || !t->name || !t->prepare || !t->try_acquire || !t->release)
		return ASSAY_EINVAL;
	return registry_register(p, REG_RESOURCE, t->name, t);
}

static int h_unregister_resource_type(assay_plugin *p, const char *name)
{
	return registry_unregister(p, REG_RESOURCE, name);
}

static int h_register_command(assay_plugin *p, const assay_command *c)
{
	if (!c || !c->name || !*c->name || !c->main)
		return ASSAY_EINVAL;
	return registry_register(p, REG_COMMAND, c->name, c);
}

static int h_unregister_command(assay_plugin *p, const char *name)
{
	return registry_unregister(p, REG_COMMAND, name);
}

static int h_register_reporter(assay_plugin *p, const assay_reporter *rep)
{
	if (!rep || !rep->name || !rep->write)
		return ASSAY_EINVAL;
	return registry_register(p, REG_REPORTER, rep->name, rep);
}

static int h_unregister_reporter(assay_plugin *p, const char *name)
{
	return registry_unregister(p, REG_REPORTER, name);
}

static const assay_value *h_plugin_config(assay_plugin *p)
{
	return p->config;
}

static void h_plugin_log(assay_plugin *p, int level, const char *fmt, ...)
{
	char *raw, *clean;
	va_list ap;

	if (level < 0 || level > p->reg->verbosity)
		return;
	va_start(ap, fmt);
	if (vasprintf(&raw, fmt, ap) < 0)
		raw = NULL;
	va_end(ap);
	if (!raw)
		return;
	clean = diag_scrub(raw, p->reg->diag->secrets, p->reg->diag->n_secrets);
	fprintf(stderr, "assay: %s: plugin %s: %s\n", status_level_name(level),
		p->name ? p->name : p->path, clean ? clean : "(out of memory)");
	free(raw);
	free(clean);
}

/* --- nodes and tasks ------------------------------------------------------- */

static const char *h_node_id(const assay_node *n)
{
	return ((const plan_node *)n)->id;
}

static unsigned h_node_kind(const assay_node *n)
{
	return ((const plan_node *)n)->kind;
}

static const char *h_node_param(const assay_node *n, const char *name)
{
	return plan_node_param((const plan_node *)n, name);
}

/* The placeholders a trial has besides its parameters (which come first:
 * a sweep axis named `seed` is what {seed} gives): {trial_dir}, {seed}.  With
 * no task (a node being checked), any non-NULL answer says it exists.
 * NULL for another name or kind. */
static const char *h_trial_lookup(const plan_node *n, const assay_task *t, const char *name)
{
	if (n->kind != ASSAY_KIND_TRIAL)
		return NULL;
	if (strcmp(name, "trial_dir") == 0)
		return t ? t->trial_dir : "";
	if (strcmp(name, "seed") == 0)
		return t ? t->seed_text : "";
	return NULL;
}

/* {best.NAME} in a node after one sweep: a parameter of its trials,
 * trial_dir, or else a metric (known once the sweep has run: a metric
 * the best did not report makes the node UNKNOWN then). */
static const char *h_best_check(const plan_node *n, const char *name)
{
	const char *v;

	if (!n->after_trial)
		return NULL;
	return (v = plan_node_param(n->after_trial, name)) ? v : "";
}

/* What a placeholder may name in node n: {best.NAME} after a sweep, its
 * parameters, {item} in a validation, and h_trial_lookup()'s (any
 * non-NULL answer: the value is not known yet). */
static const char *h_node_lookup(const char *name, void *arg)
{
	const plan_node *n = arg;
	const char *v;

	if (strcmp(name, "item") == 0)
		return n->kind == ASSAY_KIND_VALIDATION ? "" : NULL;
	if (strncmp(name, "best.", 5) == 0)
		return h_best_check(n, name + 5);
	if ((v = plan_node_param(n, name)) || (v = h_trial_lookup(n, NULL, name)))
		return v;
	return n->params_unknown ? "" : NULL;
}

static int h_check(assay_node *node, const assay_value *v, const char *what, bool shell)
{
	const plan_node *n = (const plan_node *)node;
	const char *s = value_string(v);
	char *msg;
	int rc;

	if (!s)
		return 0;
	rc = template_check(s, shell, n->kind, h_node_lookup, (void *)n, &msg);
	if (rc < 0) {
		value_error(v, "`%s`: %s", what, msg ? msg : "out of memory");
		free(msg);
	}
	return rc;
}

static int h_check_template(assay_node *node, const assay_value *v, const char *what)
{
	return h_check(node, v, what, false);
}

static int h_check_shell_template(assay_node *node, const assay_value *v, const char *what)
{
	return h_check(node, v, what, true);
}

static const char *h_task_id(const assay_task *t)
{
	return t->node->id;
}

static unsigned h_task_kind(const assay_task *t)
{
	return t->node->kind;
}

static const char *h_task_param(const assay_task *t, const char *name)
{
	return plan_node_param(t->node, name);
}

static const char *h_task_item(const assay_task *t)
{
	return t->item;
}

static const char *h_task_lookup(const char *name, void *arg)
{
	const assay_task *t = arg;
	const char *v;

	if (strncmp(name, "best.", 5) == 0)
		return t->best_lookup ? t->best_lookup(t->spawn_ctx, t, name + 5) : NULL;
	if (strcmp(name, "item") == 0)
		return t->item;
	if ((v = plan_node_param(t->node, name)))
		return v;
	return h_trial_lookup(t->node, t, name);
}

static int h_task_setenv(const char *name, const char *value, void *arg)
{
	return task_setenv(arg, name, value);
}

static char *h_expand(const assay_task *t, const char *tmpl, int *err)
{
	return template_expand(tmpl, false, h_task_lookup, NULL, (void *)t, err);
}

static char *h_expand_shell(assay_task *t, const char *script, int *err)
{
	return template_expand(script, true, h_task_lookup, h_task_setenv, t, err);
}

static unsigned h_task_attempt(const assay_task *t)
{
	return t->attempt;
}

static void h_task_set_data(assay_task *t, void *data)
{
	t->plugin_data = data;
}

static void *h_task_data(const assay_task *t)
{
	return t->plugin_data;
}

static int64_t h_task_timeout_ms(const assay_task *t)
{
	return t->timeout_ms;
}

static bool h_task_timed_out(const assay_task *t)
{
	bool out;

	pthread_mutex_lock(&((assay_task *)t)->lock);
	out = t->timed_out;
	pthread_mutex_unlock(&((assay_task *)t)->lock);
	return out;
}

static void h_retry_after(assay_task *t, int64_t ms)
{
	pthread_mutex_lock(&t->lock);
	t->retry_after_ms = ms > 0 ? ms : 0;
	pthread_mutex_unlock(&t->lock);
}

static void h_no_retry(assay_task *t)
{
	pthread_mutex_lock(&t->lock);
	t->no_retry = true;
	pthread_mutex_unlock(&t->lock);
}

static void h_set_message(assay_task *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	task_set_messagev(t, fmt, ap);
	va_end(ap);
}

static int64_t h_deadline_ns(const assay_task *t)
{
	return t->deadline_ns;
}

static bool h_cancelled(const assay_task *t)
{
	return atomic_load(&((assay_task *)t)->cancelled);
}

static int h_spawn(assay_task *t, void (*fn)(void *), void *arg)
{
	if (!t->spawn)
		return ASSAY_ESTATE;
	return t->spawn(t->spawn_ctx, fn, arg);
}

/* --- the host's chores ------------------------------------------------------- */

static char *h_mask_secrets(const assay_task *t, const char *s, size_t n,
			    const char *const *secrets, size_t n_secrets, unsigned flags, size_t *len)
{
	size_t n_run = t ? t->n_secrets : 0;
	const char **all;
	char *out;

	if (!n_run || !n_secrets)
		return n_run ? mask_text(s, n, t->secrets, n_run, flags, len)
			     : mask_text(s, n, secrets, n_secrets, flags, len);
	/* One list, so that overlapping secrets of both are one span. */
	if (!(all = malloc((n_run + n_secrets) * sizeof *all)))
		return NULL;
	memcpy(all, t->secrets, n_run * sizeof *all);
	memcpy(all + n_run, secrets, n_secrets * sizeof *all);
	out = mask_text(s, n, all, n_run + n_secrets, flags, len);
	free(all);
	return out;
}

static size_t h_count(const char *const *words)
{
	size_t n = 0;

	while (words && words[n])
		n++;
	return n;
}

static const char *h_suggest(const char *word, const char *const *candidates)
{
	return suggest_word(word, candidates, h_count(candidates));
}

static int h_check_choice(const assay_value *v, const char *what, const char *const *choices)
{
	return option_choice(v, what, choices, h_count(choices));
}

static int h_check_key(const assay_value *v, const char *where, const char *const *known)
{
	return option_key(v, where, known, h_count(known));
}

/* --- reactor ---------------------------------------------------------------- */

static int h_fd_watch(int fd, unsigned events, assay_fd_cb cb, void *arg,
		      assay_watch **out)
{
	reactor *r = atomic_load(&host_reactor);

	return r ? reactor_fd_watch(r, fd, events, cb, arg, out) : ASSAY_ESTATE;
}

static int h_fd_modify(assay_watch *w, unsigned events)
{
	reactor *r = atomic_load(&host_reactor);

	return r ? reactor_fd_modify(r, w, events) : ASSAY_ESTATE;
}

static void h_fd_unwatch(assay_watch *w)
{
	reactor *r = atomic_load(&host_reactor);

	if (r)
		reactor_fd_unwatch(r, w);
}

static int h_timer_start(uint64_t ms, assay_timer_cb cb, void *arg,
			 assay_timer **out)
{
	reactor *r = atomic_load(&host_reactor);

	return r ? reactor_timer_start(r, ms, cb, arg, out) : ASSAY_ESTATE;
}

static void h_timer_stop(assay_timer *t)
{
	reactor *r = atomic_load(&host_reactor);

	if (r)
		reactor_timer_stop(r, t);
}

static int h_child_watch(pid_t pid, assay_child_cb cb, void *arg)
{
	reactor *r = atomic_load(&host_reactor);

	return r ? reactor_child_watch(r, pid, cb, arg) : ASSAY_ESTATE;
}

/* A trial's intermediate value, to the run (which publishes it to the
 * trial tracker); other kinds report nothing. */
static int h_report_step(assay_task *t, const char *name, double value, int64_t step)
{
	if (!t || !name || !*name || isnan(value) || step < 0)
		return ASSAY_EINVAL;
	if (!t->node || t->node->kind != ASSAY_KIND_TRIAL || !t->report_step)
		return 0;
	return t->report_step(t->spawn_ctx, t, name, value, step);
}

static const char *h_task_dir(const assay_task *t)
{
	return t->trial_dir;
}

static bool h_task_pruned(const assay_task *t)
{
	return atomic_load(&((assay_task *)t)->pruned);
}

/* An attempt's process group, to the run (which publishes it to the
 * journal, which records it for --resume to kill after a kill -9). */
static int h_task_child(assay_task *t, pid_t pgid)
{
	if (!t || pgid <= 1)
		return ASSAY_EINVAL;
	if (t->child)
		t->child(t->spawn_ctx, t, pgid);
	return 0;
}

static const assay_host host = {
	.abi_version = ASSAY_ABI_VERSION,
	.declare = registry_declare,
	.abi_minor = ASSAY_ABI_MINOR,

	.register_node_type = h_register_node_type,
	.unregister_node_type = h_unregister_node_type,
	.register_resource_type = h_register_resource_type,
	.unregister_resource_type = h_unregister_resource_type,
	.register_reporter = h_register_reporter,
	.unregister_reporter = h_unregister_reporter,
	.plugin_config = h_plugin_config,
	.plugin_log = h_plugin_log,

	.value_type = value_type,
	.value_type_name = value_type_name,
	.value_pos = value_pos,
	.value_key = value_key,
	.value_string = value_string,
	.value_secret = value_secret,
	.value_int = value_int,
	.value_float = value_float,
	.value_bool = value_bool,
	.value_duration_ms = value_duration_ms,
	.value_len = value_len,
	.value_at = value_at,
	.value_get = value_get,
	.config_error = value_error,

	.node_id = h_node_id,
	.node_kind = h_node_kind,
	.node_param = h_node_param,
	.check_template = h_check_template,

	.task_id = h_task_id,
	.task_kind = h_task_kind,
	.task_param = h_task_param,
	.task_item = h_task_item,
	.task_attempt = h_task_attempt,
	.task_set_data = h_task_set_data,
	.task_data = h_task_data,
	.task_timeout_ms = h_task_timeout_ms,
	.task_timed_out = h_task_timed_out,
	.expand = h_expand,
	.set_status = task_set_status,
	.set_message = h_set_message,
	.set_details = task_set_details,
	.retry_after = h_retry_after,
	.no_retry = h_no_retry,
	.add_metric = task_add_metric,
	.task_log = task_log,
	.setenv = task_setenv,
	.environ = task_environ,
	.deadline_ns = h_deadline_ns,
	.cancelled = h_cancelled,
	.spawn = h_spawn,
	.complete = task_complete,

	.fd_watch = h_fd_watch,
	.fd_modify = h_fd_modify,
	.fd_unwatch = h_fd_unwatch,
	.timer_start = h_timer_start,
	.timer_stop = h_timer_stop,
	.child_watch = h_child_watch,

	.strerror = status_strerror,
	.status_name = status_name,

	.check_shell_template = h_check_shell_template,
	.expand_shell = h_expand_shell,
	.mask = task_mask,

	.mask_secrets = h_mask_secrets,
	.suggest = h_suggest,
	.status_worse = status_worse,
	.check_duration = option_duration,
	.check_int = option_int,
	.check_choice = h_check_choice,
	.check_key = h_check_key,
	.config_path = value_path,

	.task_add_device = task_add_device,
	.check_file = registry_check_file_current,
	.register_command = h_register_command,
	.unregister_command = h_unregister_command,

	.report_step = h_report_step,
	.task_dir = h_task_dir,
	.task_pruned = h_task_pruned,
	.task_child = h_task_child,
};

const assay_host *host_table(void)
{
	return &host;
}
