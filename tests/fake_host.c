/* fake_host.c -- the host table for plugin unit tests: the real host's values, option checks and chores, with a fake run (tasks, results) and a poll() reactor. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "diag.h"
#include "fake_host.h"
#include "host.h"
#include "mask.h"
#include "plan.h"
#include "status.h"
#include "template.h"
#include "toml.h"
#include "value.h"

/* core/registry.c's, without its header: that defines the host's
 * struct assay_plugin, and the fake has its own. */
extern const char *const registry_own_commands[];
const char *registry_check_file(const char *path, bool allow_insecure);

extern char **environ;

/* ---- small helpers ---------------------------------------------------------- */

typedef struct fake_buf {
	char *s;
	size_t len, cap;
} fake_buf;

static void fake_die(const char *what)
{
	fprintf(stderr, "fake_host: %s\n", what);
	abort();
}

static void *fake_alloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);
	if (!p)
		fake_die("out of memory");
	return p;
}

static char *fake_strdup(const char *s)
{
	char *d = strdup(s ? s : "");
	if (!d)
		fake_die("out of memory");
	return d;
}

ASSAY_PRINTF(2, 0)
static void fake_buf_vadd(fake_buf *b, const char *fmt, va_list ap)
{
	va_list copy;
	va_copy(copy, ap);
	int n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (n < 0)
		fake_die("bad format");
	if (b->len + (size_t)n + 1 > b->cap) {
		size_t cap = (b->len + (size_t)n + 1) * 2;
		char *s = realloc(b->s, cap);
		if (!s)
			fake_die("out of memory");
		b->s = s;
		b->cap = cap;
	}
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

ASSAY_PRINTF(2, 3)
static void fake_buf_add(fake_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fake_buf_vadd(b, fmt, ap);
	va_end(ap);
}

static const char *fake_buf_str(const fake_buf *b)
{
	return b->s ? b->s : "";
}

static int64_t fake_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static const char *const fake_levels[] = { "ERROR", "WARNING", "INFO", "DEBUG" };

static const char *fake_level(int level)
{
	return level >= 0 && level < 4 ? fake_levels[level] : "LEVEL?";
}
/* ---- the state ------------------------------------------------------------------ */

struct assay_plugin {
	int unused;
};

struct assay_task {
	char *id;
	unsigned kind;
	char **params;
	char *item;
	int64_t timeout_ms, deadline;
	const assay_node_type *type;
	void *state;
	void *data;   /* task_set_data */
	bool running; /* from run() to the end */
	bool in_run;  /* inside run(): a cancel waits until it returns */
	bool done, cancelled, cancel_called, timed_out;
	bool cancelling; /* the type's cancel is running on `canceller` */
	pthread_t canceller;
	int completions;
	assay_status status;
	char *message;
	char *details; /* NULL until set_details() */
	assay_metric *metrics;
	size_t n_metrics;
	fake_buf log;
	char **env; /* setenv: "NAME=value" */
	size_t n_env;
	char ***environs; /* every environ() answer, freed with the task */
	size_t n_environs;
	char **devices; /* task_add_device(), in order */
	size_t n_devices;
	char *wait_text; /* describe_wait()'s last answer in fake_acquire() */
	/* ABI 3.2 */
	char *dir;          /* task_dir(): a trial's, as a test set it */
	bool pruned;        /* task_pruned() */
	fake_step *steps;   /* report_step(), in order */
	size_t n_steps;
	char *prune_name;   /* fake_task_prune_at(): prune when this metric */
	int64_t prune_step; /* reaches this step */
	/* ABI 3.3 */
	pid_t children[8];  /* task_child(), in order (the first 8) */
	size_t n_children;
	assay_task *next;
};

struct assay_watch {
	int fd;
	unsigned events;
	assay_fd_cb cb;
	void *arg;
	bool dead;
	assay_watch *next;
};

struct assay_timer {
	int64_t due;
	assay_timer_cb cb;
	void *arg;
	bool dead;
	assay_timer *next;
};

typedef struct fake_child {
	pid_t pid;
	int pidfd; /* -1: poll waitpid every 10 ms */
	assay_child_cb cb;
	void *arg;
	bool dead;
	struct fake_child *next;
} fake_child;

typedef struct fake_job {
	void (*fn)(void *);
	void *arg;
	struct fake_job *next;
} fake_job;

/* A registered node or resource type. */
typedef struct fake_reg {
	bool node; /* else a resource type */
	const char *name;
	const void *type;
	void *data;
	void (*free_data)(void *);
} fake_reg;

/* One fake_parse() or fake_set_config() document, as the host reads it. */
typedef struct fake_doc {
	toml_doc *toml;
	value_tree tree;
	struct fake_doc *next;
} fake_doc;

static struct {
	assay_plugin plugin;
	bool declared;
	assay_plugin_info info;
	fake_reg regs[16]; /* node and resource types, as registered */
	size_t n_regs;
	const assay_command *commands[8]; /* register_command() */
	size_t n_commands;
	bool allow_insecure; /* what check_file() honours */
	unsigned releases; /* grants given back: a waiting acquire tries again */
	fake_buf plugin_log;
	diag errors; /* every document's config_error()s */
	fake_buf all_errors;
	fake_doc *docs;         /* newest first */
	const fake_doc *config; /* fake_set_config()'s: plugin_config() reads it */
	plan_node **nodes;
	size_t n_nodes;
	assay_task *tasks;
	assay_watch *watches;
	assay_timer *timers;
	fake_child *children;
	fake_job *jobs;
	int wake[2];    /* wakes poll() when another thread adds work */
	char *file;     /* the file of the documents parsed next; NULL: "test.toml" */
	char **secrets; /* what mask() masks: interpolated values, fake_add_secret() */
	size_t n_secrets;
} fk;

/* Recursive: host functions called with it held (fake_check_live inside
 * set_status, ...) take it again. */
static pthread_mutex_t fk_lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
#define FK_LOCK() pthread_mutex_lock(&fk_lock)
#define FK_UNLOCK() pthread_mutex_unlock(&fk_lock)
/* Signalled when a cancel() returns: complete() waits for one running on
 * another thread, as the host does. */
static pthread_cond_t fk_cond = PTHREAD_COND_INITIALIZER;

/* ---- registration ------------------------------------------------------------------ */

static int fake_declare(assay_plugin *plugin, const assay_plugin_info *info)
{
	(void)plugin;
	if (info->abi_version != ASSAY_ABI_VERSION) {
		fake_buf_add(&fk.plugin_log, "ERROR: built for ABI %d, this assay has ABI %d\n",
			     info->abi_version, ASSAY_ABI_VERSION);
		return ASSAY_EABI;
	}
	if (info->abi_minor > ASSAY_ABI_MINOR) {
		fake_buf_add(
			&fk.plugin_log, "ERROR: built for ABI %d.%u, this assay has ABI %d.%u\n",
			info->abi_version, info->abi_minor, ASSAY_ABI_VERSION, ASSAY_ABI_MINOR);
		return ASSAY_EABI;
	}
	fk.declared = true;
	fk.info = *info;
	return 0;
}

static const fake_reg *fake_find(bool node, const char *name)
{
	for (size_t i = 0; i < fk.n_regs; i++)
		if (fk.regs[i].node == node && strcmp(fk.regs[i].name, name) == 0)
			return &fk.regs[i];
	return NULL;
}

/* Adds r, with the host's refusals. */
static int fake_register(fake_reg r)
{
	if (!fk.declared)
		return ASSAY_ESTATE;
	if (!r.name)
		return ASSAY_EINVAL;
	if (fake_find(r.node, r.name))
		return ASSAY_EEXIST;
	if (fk.n_regs == sizeof fk.regs / sizeof *fk.regs)
		return ASSAY_ENOMEM;
	fk.regs[fk.n_regs++] = r;
	return 0;
}

static int fake_unregister(bool node, const char *name)
{
	const fake_reg *found = fake_find(node, name);
	fake_reg r;

	if (!found)
		return ASSAY_EINVAL;
	r = *found;
	fk.regs[found - fk.regs] = fk.regs[--fk.n_regs];
	if (r.free_data) /* last: it may free the type struct itself */
		r.free_data(r.data);
	return 0;
}

static int fake_register_node_type(assay_plugin *plugin, const assay_node_type *t)
{
	(void)plugin;
	if (!t->run || !t->prepare || !t->kinds)
		return ASSAY_EINVAL;
	return fake_register((fake_reg){ true, t->name, t, t->data, t->free_data });
}

static int fake_register_resource_type(assay_plugin *plugin, const assay_resource_type *t)
{
	(void)plugin;
	if (!t->prepare || !t->try_acquire || !t->release)
		return ASSAY_EINVAL;
	return fake_register((fake_reg){ false, t->name, t, t->data, t->free_data });
}

static int fake_unregister_node_type(assay_plugin *plugin, const char *name)
{
	(void)plugin;
	return fake_unregister(true, name);
}

static int fake_unregister_resource_type(assay_plugin *plugin, const char *name)
{
	(void)plugin;
	return fake_unregister(false, name);
}

/* The unit tests of a plugin's reporter call its write() themselves. */
static int fake_register_reporter(assay_plugin *p, const assay_reporter *r)
{
	(void)p;
	(void)r;
	return ASSAY_EINVAL;
}

static int fake_unregister_reporter(assay_plugin *p, const char *name)
{
	(void)p;
	(void)name;
	return ASSAY_EINVAL;
}

/* Commands: recorded, unique, never one of assay's own. */
static int fake_register_command(assay_plugin *p, const assay_command *c)
{
	(void)p;
	if (!fk.declared)
		return ASSAY_ESTATE;
	if (!c || !c->name || !*c->name || !c->main)
		return ASSAY_EINVAL;
	for (size_t i = 0; registry_own_commands[i]; i++)
		if (strcmp(registry_own_commands[i], c->name) == 0)
			return ASSAY_EEXIST;
	if (fake_command(c->name))
		return ASSAY_EEXIST;
	if (fk.n_commands == sizeof fk.commands / sizeof *fk.commands)
		return ASSAY_ENOMEM;
	fk.commands[fk.n_commands++] = c;
	return 0;
}

static int fake_unregister_command(assay_plugin *p, const char *name)
{
	(void)p;
	for (size_t i = 0; i < fk.n_commands; i++)
		if (strcmp(fk.commands[i]->name, name) == 0) {
			const assay_command *c = fk.commands[i];

			fk.commands[i] = fk.commands[--fk.n_commands];
			if (c->free_data)
				c->free_data(c->data);
			return 0;
		}
	return ASSAY_EINVAL;
}

const assay_command *fake_command(const char *name)
{
	for (size_t i = 0; i < fk.n_commands; i++)
		if (strcmp(fk.commands[i]->name, name) == 0)
			return fk.commands[i];
	return NULL;
}

/* The loader's own rule (core/registry.c). */
static const char *fake_check_file(const char *path)
{
	return registry_check_file(path, fk.allow_insecure);
}

void fake_set_allow_insecure(bool allow)
{
	fk.allow_insecure = allow;
}

/* [plugins.NAME] of fake_set_config()'s document, NAME the name the
 * plugin declared: as the host hands a plugin its table. */
static const assay_value *fake_plugin_config(assay_plugin *plugin)
{
	(void)plugin;
	if (!fk.config || !fk.declared)
		return NULL;
	return value_get(value_get(&fk.config->tree.root, "plugins"), fk.info.name);
}

ASSAY_PRINTF(3, 4)
static void fake_plugin_log_fn(assay_plugin *plugin, int level, const char *fmt, ...)
{
	va_list ap;
	(void)plugin;
	fake_buf_add(&fk.plugin_log, "%s: ", fake_level(level));
	va_start(ap, fmt);
	fake_buf_vadd(&fk.plugin_log, fmt, ap);
	va_end(ap);
	fake_buf_add(&fk.plugin_log, "\n");
}

/* ---- configuration values: the host's own ---------------------------------------- */

static fake_doc *fake_doc_parse(const char *toml)
{
	fake_doc *d = fake_alloc(sizeof *d);
	toml_error err;
	char *what;
	int rc;

	if (!(d->toml = toml_parse(toml, strlen(toml), &err))) {
		if (asprintf(&what, "%u:%u: %s", err.pos.line, err.pos.column, err.message) < 0)
			fake_die("out of memory");
		fake_die(what);
	}
	rc = value_tree_build(&d->tree, toml_doc_root(d->toml), fk.file ? fk.file : "test.toml",
			      &fk.errors);
	if (rc == ASSAY_ENOMEM)
		fake_die("out of memory");
	for (size_t i = 0; i < d->tree.n_secrets; i++)
		fake_add_secret(d->tree.secrets[i]);
	d->next = fk.docs;
	fk.docs = d;
	return d;
}

const assay_value *fake_parse(const char *toml)
{
	return &fake_doc_parse(toml)->tree.root;
}

void fake_set_config(const char *toml)
{
	fk.config = fake_doc_parse(toml);
}

void fake_set_file(const char *file)
{
	free(fk.file);
	fk.file = file ? fake_strdup(file) : NULL;
}

size_t fake_error_count(void)
{
	return diag_count(&fk.errors);
}

/* The diagnostics without the file each begins with. */
const char *fake_errors(void)
{
	fk.all_errors.len = 0;
	fake_buf_add(&fk.all_errors, "%s", ""); /* "" when there are none */
	for (size_t i = 0; i < fk.errors.n; i++) {
		const char *line = fk.errors.lines[i];

		for (const fake_doc *d = fk.docs; d; d = d->next) {
			size_t n = strlen(d->tree.file);

			if (strncmp(line, d->tree.file, n) == 0 && line[n] == ':') {
				line += n + 1;
				break;
			}
		}
		fake_buf_add(&fk.all_errors, "%s\n", line);
	}
	return fake_buf_str(&fk.all_errors);
}

/* ---- nodes and tasks ------------------------------------------------------------------ */

static char **fake_strv(const char *const *v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	char **d = fake_alloc((n + 1) * sizeof *d);
	for (size_t i = 0; i < n; i++)
		d[i] = fake_strdup(v[i]);
	return d;
}

static void fake_strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static const char *fake_param(char **params, const char *name)
{
	for (size_t i = 0; params && params[i] && params[i + 1]; i += 2)
		if (strcmp(params[i], name) == 0)
			return params[i + 1];
	return NULL;
}

/* A plan node as the host's prepare sees one, so that the host's own
 * node_param, check_template and check_shell_template read it. */
assay_node *fake_node(const char *id, unsigned kind, const char *const *params)
{
	plan_node *n = fake_alloc(sizeof *n);
	assay_param *p;
	size_t count = 0;

	while (params && params[2 * count] && params[2 * count + 1])
		count++;
	p = fake_alloc((count + 1) * sizeof *p);
	for (size_t i = 0; i < count; i++) {
		p[i].name = fake_strdup(params[2 * i]);
		p[i].value = fake_strdup(params[2 * i + 1]);
	}
	n->id = fake_strdup(id);
	n->kind = kind;
	n->params = p;
	n->n_params = count;
	plan_node **grown = realloc(fk.nodes, (fk.n_nodes + 1) * sizeof *grown);
	if (!grown)
		fake_die("out of memory");
	fk.nodes = grown;
	fk.nodes[fk.n_nodes++] = n;
	return (assay_node *)n;
}

assay_task *fake_task(const char *id, unsigned kind, const char *const *params, const char *item,
		      int64_t timeout_ms)
{
	assay_task *t = fake_alloc(sizeof *t);
	t->id = fake_strdup(id);
	t->kind = kind;
	t->params = fake_strv(params);
	t->item = item ? fake_strdup(item) : NULL;
	t->timeout_ms = timeout_ms;
	t->deadline = INT64_MAX;
	t->status = ASSAY_UNKNOWN;
	t->next = fk.tasks;
	fk.tasks = t;
	return t;
}

/* The plugin may not touch a task after complete(): record it if it does. */
static void fake_check_live(const assay_task *t, const char *fn)
{
	FK_LOCK();
	if (t->completions > 0)
		fake_buf_add(&((assay_task *)t)->log, "VIOLATION: %s after complete()\n", fn);
	FK_UNLOCK();
}

/* Calls the type's cancel if the task was cancelled, is pending (run has
 * returned) and it was not called yet, as the host does: unlocked, since
 * the plugin's cancel calls back into the host. */
static void fake_call_cancel(assay_task *t)
{
	FK_LOCK();
	bool call = t->cancelled && t->running && !t->in_run && !t->done && t->type->cancel &&
		    !t->cancel_called;
	if (call) {
		t->cancel_called = true;
		t->cancelling = true;
		t->canceller = pthread_self();
	}
	FK_UNLOCK();
	if (!call)
		return;
	t->type->cancel(t, t->state, t->type->data);
	FK_LOCK();
	t->cancelling = false;
	pthread_cond_broadcast(&fk_cond);
	FK_UNLOCK();
}

int fake_task_run(assay_task *t, const assay_node_type *type, void *state)
{
	FK_LOCK();
	t->type = type;
	t->state = state;
	t->running = true;
	t->in_run = true;
	if (t->timeout_ms >= 0)
		t->deadline = fake_now_ns() + t->timeout_ms * 1000000;
	FK_UNLOCK();
	int rc = type->run(t, state, type->data);
	FK_LOCK();
	t->in_run = false;
	if (rc == ASSAY_DONE) {
		t->running = false;
		t->done = true;
		if (t->completions)
			fake_buf_add(&t->log, "VIOLATION: run returned DONE after complete()\n");
	} else if (rc != ASSAY_PENDING) {
		fake_buf_add(&t->log, "VIOLATION: run returned %d\n", rc);
	}
	FK_UNLOCK();
	if (rc == ASSAY_PENDING)
		fake_call_cancel(t); /* cancelled while run() was running */
	return rc;
}

static const char *fake_task_id(const assay_task *t)
{
	fake_check_live(t, "task_id");
	return t->id;
}

static unsigned fake_task_kind(const assay_task *t)
{
	fake_check_live(t, "task_kind");
	return t->kind;
}

static const char *fake_task_param(const assay_task *t, const char *name)
{
	fake_check_live(t, "task_param");
	return fake_param(t->params, name);
}

static const char *fake_task_item(const assay_task *t)
{
	fake_check_live(t, "task_item");
	return t->item;
}

static unsigned fake_task_attempt(const assay_task *t)
{
	fake_check_live(t, "task_attempt");
	return 1;
}

static const char *fake_task_lookup(const char *name, void *arg)
{
	const assay_task *t = arg;

	return strcmp(name, "item") == 0 ? t->item : fake_param(t->params, name);
}

static int fake_setenv(assay_task *t, const char *name, const char *value);
static void fake_call_cancel(assay_task *t);

static int fake_template_setenv(const char *name, const char *value, void *arg)
{
	return fake_setenv(arg, name, value);
}

static char *fake_expand(const assay_task *t, const char *tmpl, int *err)
{
	fake_check_live(t, "expand");
	return template_expand(tmpl, false, fake_task_lookup, NULL, (void *)t, err);
}

static char *fake_expand_shell(assay_task *t, const char *script, int *err)
{
	fake_check_live(t, "expand_shell");
	return template_expand(script, true, fake_task_lookup, fake_template_setenv, t, err);
}

static void fake_task_set_data(assay_task *t, void *data)
{
	fake_check_live(t, "task_set_data");
	FK_LOCK();
	t->data = data;
	FK_UNLOCK();
}

static void *fake_task_data(const assay_task *t)
{
	fake_check_live(t, "task_data");
	FK_LOCK();
	void *data = t->data;
	FK_UNLOCK();
	return data;
}

static int64_t fake_task_timeout_ms(const assay_task *t)
{
	fake_check_live(t, "task_timeout_ms");
	return t->timeout_ms > 0 ? t->timeout_ms : 0;
}

static bool fake_task_timed_out_fn(const assay_task *t)
{
	fake_check_live(t, "task_timed_out");
	FK_LOCK();
	bool out = t->timed_out;
	FK_UNLOCK();
	return out;
}

static void fake_set_status(assay_task *t, assay_status status)
{
	fake_check_live(t, "set_status");
	FK_LOCK();
	t->status = status;
	FK_UNLOCK();
}

static int fake_task_add_device(assay_task *t, const char *id)
{
	char **grown;

	fake_check_live(t, "task_add_device");
	FK_LOCK();
	grown = realloc(t->devices, (t->n_devices + 1) * sizeof *grown);
	if (!grown)
		fake_die("out of memory");
	t->devices = grown;
	t->devices[t->n_devices++] = fake_strdup(id);
	FK_UNLOCK();
	return 0;
}

size_t fake_task_device_count(const assay_task *t)
{
	return t->n_devices;
}

const char *fake_task_device(const assay_task *t, size_t i)
{
	return i < t->n_devices ? t->devices[i] : NULL;
}

void fake_task_clear_devices(assay_task *t)
{
	FK_LOCK();
	for (size_t i = 0; i < t->n_devices; i++)
		free(t->devices[i]);
	free(t->devices);
	t->devices = NULL;
	t->n_devices = 0;
	FK_UNLOCK();
}

const char *fake_task_wait_text(const assay_task *t)
{
	return t->wait_text;
}

ASSAY_PRINTF(2, 3)
static void fake_set_message(assay_task *t, const char *fmt, ...)
{
	fake_buf b = { 0 };
	va_list ap;

	fake_check_live(t, "set_message");
	va_start(ap, fmt);
	fake_buf_vadd(&b, fmt, ap);
	va_end(ap);
	FK_LOCK();
	free(t->message);
	t->message = b.s ? b.s : fake_strdup("");
	FK_UNLOCK();
}

ASSAY_PRINTF(2, 3)
static void fake_set_details(assay_task *t, const char *fmt, ...)
{
	fake_buf b = { 0 };
	va_list ap;

	fake_check_live(t, "set_details");
	va_start(ap, fmt);
	fake_buf_vadd(&b, fmt, ap);
	va_end(ap);
	FK_LOCK();
	free(t->details);
	t->details = b.s ? b.s : fake_strdup("");
	FK_UNLOCK();
}

static int fake_add_metric(assay_task *t, const assay_metric *m)
{
	fake_check_live(t, "add_metric");
	if (!m->name)
		return ASSAY_EINVAL;
	FK_LOCK();
	assay_metric *ms = realloc(t->metrics, (t->n_metrics + 1) * sizeof *ms);
	if (!ms) {
		FK_UNLOCK();
		return ASSAY_ENOMEM;
	}
	t->metrics = ms;
	assay_metric *c = &t->metrics[t->n_metrics++];
	*c = *m;
	c->name = fake_strdup(m->name);
	c->unit = fake_strdup(m->unit ? m->unit : "");
	c->warn = m->warn ? fake_strdup(m->warn) : NULL;
	c->crit = m->crit ? fake_strdup(m->crit) : NULL;
	FK_UNLOCK();
	return 0;
}

/* As the host's: checked, recorded for a trial only, and the task pruned
 * on this thread when the test asked for it (the host may do so too). */
static int fake_report_step(assay_task *t, const char *name, double value, int64_t step)
{
	fake_check_live(t, "report_step");
	if (!name || !*name || value != value || step < 0)
		return ASSAY_EINVAL;
	if (t->kind != ASSAY_KIND_TRIAL)
		return 0;
	FK_LOCK();
	fake_step *steps = realloc(t->steps, (t->n_steps + 1) * sizeof *steps);
	if (!steps)
		fake_die("out of memory");
	t->steps = steps;
	t->steps[t->n_steps++] = (fake_step){ fake_strdup(name), value, step };
	bool prune = t->prune_name && strcmp(t->prune_name, name) == 0 && step >= t->prune_step &&
		     !t->cancelled;
	if (prune)
		t->cancelled = t->pruned = true;
	FK_UNLOCK();
	if (prune)
		fake_call_cancel(t);
	return 0;
}

static const char *fake_task_dir(const assay_task *t)
{
	fake_check_live(t, "task_dir");
	return t->kind == ASSAY_KIND_TRIAL ? t->dir : NULL;
}

static bool fake_task_pruned(const assay_task *t)
{
	fake_check_live(t, "task_pruned");
	FK_LOCK();
	bool pruned = t->pruned;
	FK_UNLOCK();
	return pruned;
}

/* The host's contract: a group leader's pid, while the task runs. */
static int fake_task_child(assay_task *t, pid_t pgid)
{
	fake_check_live(t, "task_child");
	if (pgid <= 1)
		return ASSAY_EINVAL;
	FK_LOCK();
	if (t->n_children < sizeof t->children / sizeof *t->children)
		t->children[t->n_children] = pgid;
	t->n_children++;
	FK_UNLOCK();
	return 0;
}

size_t fake_task_child_count(const assay_task *t)
{
	return t->n_children;
}

pid_t fake_task_child_pid(const assay_task *t, size_t i)
{
	return i < t->n_children && i < sizeof t->children / sizeof *t->children ? t->children[i]
										  : 0;
}

void fake_task_set_dir(assay_task *t, const char *dir)
{
	char *path;
	int fd;

	free(t->dir);
	t->dir = fake_strdup(dir);
	if (asprintf(&path, "%s/metrics.jsonl", dir) < 0)
		fake_die("out of memory");
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
		fake_die("cannot make metrics.jsonl");
	close(fd);
	if (fake_setenv(t, "ASSAY_TRIAL_DIR", dir) < 0 || fake_setenv(t, "ASSAY_METRICS", path) < 0)
		fake_die("setenv after environ()");
	free(path);
}

void fake_host_prune(assay_task *t)
{
	FK_LOCK();
	t->cancelled = t->pruned = true;
	FK_UNLOCK();
	fake_call_cancel(t);
}

void fake_task_prune_at(assay_task *t, const char *name, int64_t step)
{
	FK_LOCK();
	free(t->prune_name);
	t->prune_name = fake_strdup(name);
	t->prune_step = step;
	FK_UNLOCK();
}

size_t fake_task_step_count(const assay_task *t)
{
	return t->n_steps;
}

const fake_step *fake_task_step(const assay_task *t, size_t i)
{
	return i < t->n_steps ? &t->steps[i] : NULL;
}

bool fake_task_pruned_flag(const assay_task *t)
{
	return t->pruned;
}

ASSAY_PRINTF(3, 4)
static void fake_task_log_fn(assay_task *t, int level, const char *fmt, ...)
{
	va_list ap;

	fake_check_live(t, "task_log");
	FK_LOCK();
	fake_buf_add(&t->log, "%s: ", fake_level(level));
	va_start(ap, fmt);
	fake_buf_vadd(&t->log, fmt, ap);
	va_end(ap);
	fake_buf_add(&t->log, "\n");
	FK_UNLOCK();
}

/* As the host's: a name set again is replaced, and nothing changes once
 * environ() has been handed out. */
static int fake_setenv(assay_task *t, const char *name, const char *value)
{
	size_t len = strlen(name), i;
	char *entry;

	if (t->n_environs)
		return ASSAY_ESTATE;
	if (asprintf(&entry, "%s=%s", name, value) < 0)
		return ASSAY_ENOMEM;
	for (i = 0; i < t->n_env; i++)
		if (strncmp(t->env[i], name, len) == 0 && t->env[i][len] == '=') {
			free(t->env[i]);
			t->env[i] = entry;
			return 0;
		}
	char **env = realloc(t->env, (t->n_env + 1) * sizeof *env);
	if (!env) {
		free(entry);
		return ASSAY_ENOMEM;
	}
	t->env = env;
	t->env[t->n_env++] = entry;
	return 0;
}

static bool fake_env_replaced(const assay_task *t, const char *entry)
{
	size_t len = strcspn(entry, "=");
	for (size_t i = 0; i < t->n_env; i++)
		if (strncmp(t->env[i], entry, len) == 0 && t->env[i][len] == '=')
			return true;
	return false;
}

static char *const *fake_environ(assay_task *t)
{
	size_t n = 0, k = 0;

	fake_check_live(t, "environ");
	while (environ[n])
		n++;
	char **v = fake_alloc((n + t->n_env + 1) * sizeof *v);
	for (size_t i = 0; i < n; i++)
		if (!fake_env_replaced(t, environ[i]))
			v[k++] = environ[i];
	for (size_t i = 0; i < t->n_env; i++)
		v[k++] = t->env[i];
	char ***all = realloc(t->environs, (t->n_environs + 1) * sizeof *all);
	if (!all)
		fake_die("out of memory");
	t->environs = all;
	t->environs[t->n_environs++] = v;
	return v;
}

static int64_t fake_deadline_ns(const assay_task *t)
{
	fake_check_live(t, "deadline_ns");
	return t->deadline;
}

static bool fake_cancelled(const assay_task *t)
{
	fake_check_live(t, "cancelled");
	FK_LOCK();
	bool cancelled = t->cancelled;
	FK_UNLOCK();
	return cancelled;
}

static int fake_spawn(assay_task *t, void (*fn)(void *), void *arg)
{
	fake_job *j = fake_alloc(sizeof *j);
	(void)t;
	j->fn = fn;
	j->arg = arg;
	fake_job **tail = &fk.jobs;
	while (*tail)
		tail = &(*tail)->next;
	*tail = j;
	return 0;
}

static void fake_complete(assay_task *t)
{
	FK_LOCK();
	while (t->cancelling && !pthread_equal(t->canceller, pthread_self()))
		pthread_cond_wait(&fk_cond, &fk_lock);
	t->completions++;
	if (t->completions > 1)
		fake_buf_add(&t->log, "VIOLATION: complete() called %d times\n", t->completions);
	if (!t->running)
		fake_buf_add(&t->log, "VIOLATION: complete() for a task that is not pending\n");
	t->running = false;
	t->done = true;
	FK_UNLOCK();
}

/* ---- the reactor -------------------------------------------------------------------------- */

/* Host functions may come from another thread (a test that cancels from
 * one), so the lists are guarded; like a real reactor, the loop never
 * holds the lock while a callback runs, and wakes up from poll() when
 * another thread adds work. */

static void fake_wake(void)
{
	if (fk.wake[1] > 0 && write(fk.wake[1], "", 1) < 0 && errno != EAGAIN)
		fake_die("cannot wake the loop");
}

static int fake_fd_watch(int fd, unsigned events, assay_fd_cb cb, void *arg, assay_watch **out)
{
	assay_watch *w = fake_alloc(sizeof *w);
	w->fd = fd;
	w->events = events;
	w->cb = cb;
	w->arg = arg;
	FK_LOCK();
	w->next = fk.watches;
	fk.watches = w;
	if (out)
		*out = w;
	FK_UNLOCK();
	fake_wake();
	return 0;
}

static int fake_fd_modify(assay_watch *w, unsigned events)
{
	FK_LOCK();
	w->events = events;
	FK_UNLOCK();
	fake_wake();
	return 0;
}

static void fake_fd_unwatch(assay_watch *w)
{
	FK_LOCK();
	if (w->dead)
		fake_die("fd_unwatch of a watch already unwatched");
	w->dead = true;
	FK_UNLOCK();
}

static int fake_timer_start(uint64_t ms, assay_timer_cb cb, void *arg, assay_timer **out)
{
	assay_timer *t = fake_alloc(sizeof *t);
	t->due = fake_now_ns() + (int64_t)ms * 1000000;
	t->cb = cb;
	t->arg = arg;
	FK_LOCK();
	t->next = fk.timers;
	fk.timers = t;
	if (out)
		*out = t;
	FK_UNLOCK();
	fake_wake();
	return 0;
}

static void fake_timer_stop(assay_timer *t)
{
	FK_LOCK();
	if (t->dead)
		fake_die("timer_stop of a timer that fired or was stopped");
	t->dead = true;
	FK_UNLOCK();
}

static int fake_child_watch(pid_t pid, assay_child_cb cb, void *arg)
{
	fake_child *c = fake_alloc(sizeof *c);
	c->pid = pid;
#ifdef SYS_pidfd_open
	c->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
#else
	c->pidfd = -1;
#endif
	c->cb = cb;
	c->arg = arg;
	FK_LOCK();
	c->next = fk.children;
	fk.children = c;
	FK_UNLOCK();
	fake_wake();
	return 0;
}

/* Under the lock. */
static void fake_sweep(void)
{
	for (assay_watch **w = &fk.watches; *w;) {
		assay_watch *dead = *w;
		if (dead->dead) {
			*w = dead->next;
			free(dead);
		} else {
			w = &dead->next;
		}
	}
	for (assay_timer **t = &fk.timers; *t;) {
		assay_timer *dead = *t;
		if (dead->dead) {
			*t = dead->next;
			free(dead);
		} else {
			t = &dead->next;
		}
	}
	for (fake_child **c = &fk.children; *c;) {
		fake_child *dead = *c;
		if (dead->dead) {
			*c = dead->next;
			if (dead->pidfd >= 0)
				close(dead->pidfd);
			free(dead);
		} else {
			c = &dead->next;
		}
	}
}

static void fake_reap(fake_child *c)
{
	int status;

	FK_LOCK();
	bool dead = c->dead;
	FK_UNLOCK();
	if (dead || waitpid(c->pid, &status, WNOHANG) != c->pid)
		return;
	FK_LOCK();
	c->dead = true;
	FK_UNLOCK();
	c->cb(c->pid, status, c->arg);
}

/* The earliest due timer, marked fired (its handle is invalid once cb
 * runs), or NULL. */
static assay_timer *fake_due_timer(int64_t now)
{
	assay_timer *first = NULL;

	FK_LOCK();
	for (assay_timer *t = fk.timers; t; t = t->next)
		if (!t->dead && t->due <= now && (!first || t->due < first->due))
			first = t;
	if (first)
		first->dead = true;
	FK_UNLOCK();
	return first;
}

static assay_task *fake_overdue_task(int64_t now)
{
	assay_task *found = NULL;

	FK_LOCK();
	for (assay_task *t = fk.tasks; t && !found; t = t->next)
		if (t->running && !t->in_run && !t->cancelled && t->deadline <= now)
			found = t;
	if (found)
		found->timed_out = true;
	FK_UNLOCK();
	return found;
}

/* One turn: due timers, deadlines, queued jobs, then poll() until
 * until_ns at the latest and dispatch. */
static void fake_turn(int64_t until_ns)
{
	int64_t now = fake_now_ns(), wake = until_ns;
	bool polling_children = false, acted = false;
	assay_timer *timer;
	assay_task *late;

	if (fk.wake[0] <= 0 && pipe2(fk.wake, O_CLOEXEC | O_NONBLOCK) < 0)
		fake_die("cannot make the wake-up pipe");
	while ((timer = fake_due_timer(now))) {
		timer->cb(timer->arg);
		acted = true;
	}
	while ((late = fake_overdue_task(now))) {
		fake_host_cancel(late);
		acted = true;
	}
	while (fk.jobs) {
		fake_job *j = fk.jobs;
		fk.jobs = j->next;
		j->fn(j->arg);
		free(j);
		acted = true;
	}
	FK_LOCK();
	fake_sweep();
	FK_UNLOCK();
	if (acted) /* let the caller see what that changed before sleeping */
		return;

	FK_LOCK();
	size_t n = 1, i = 1;
	for (assay_watch *w = fk.watches; w; w = w->next)
		n++;
	for (fake_child *c = fk.children; c; c = c->next)
		n++;
	struct pollfd *pfd = fake_alloc(n * sizeof *pfd);
	void **who = fake_alloc(n * sizeof *who);
	bool *is_child = fake_alloc(n * sizeof *is_child);
	pfd[0].fd = fk.wake[0];
	pfd[0].events = POLLIN;
	for (assay_watch *w = fk.watches; w; w = w->next) {
		if (!w->events || w->dead)
			continue; /* paused: poll would still report POLLHUP */
		pfd[i].fd = w->fd;
		pfd[i].events = (short)(((w->events & ASSAY_READABLE) ? POLLIN : 0) |
					((w->events & ASSAY_WRITABLE) ? POLLOUT : 0));
		who[i++] = w;
	}
	for (fake_child *c = fk.children; c; c = c->next) {
		if (c->dead)
			continue;
		if (c->pidfd < 0) {
			polling_children = true;
			continue;
		}
		pfd[i].fd = c->pidfd;
		pfd[i].events = POLLIN;
		is_child[i] = true;
		who[i++] = c;
	}
	for (assay_timer *t = fk.timers; t; t = t->next)
		if (!t->dead && t->due < wake)
			wake = t->due;
	for (assay_task *t = fk.tasks; t; t = t->next)
		if (t->running && !t->cancelled && t->deadline < wake)
			wake = t->deadline;
	FK_UNLOCK();

	int64_t ms = wake > now ? (wake - now + 999999) / 1000000 : 0;
	if (polling_children && ms > 10)
		ms = 10;
	if (ms > 1000)
		ms = 1000;
	int r = poll(pfd, i, (int)ms);
	if (r > 0 && pfd[0].revents) {
		char drain[64];
		while (read(fk.wake[0], drain, sizeof drain) > 0)
			;
	}
	for (size_t k = 1; r > 0 && k < i; k++) {
		if (!pfd[k].revents)
			continue;
		if (is_child[k]) {
			fake_reap(who[k]);
			continue;
		}
		assay_watch *w = who[k];
		FK_LOCK();
		bool dead = w->dead || !w->events;
		FK_UNLOCK();
		if (dead)
			continue;
		unsigned ev =
			((pfd[k].revents & POLLIN) ? ASSAY_READABLE : 0) |
			((pfd[k].revents & POLLOUT) ? ASSAY_WRITABLE : 0) |
			((pfd[k].revents & (POLLHUP | POLLERR | POLLNVAL)) ? ASSAY_HANGUP : 0);
		w->cb(w->fd, ev, w->arg);
	}
	if (polling_children) {
		FK_LOCK();
		size_t nc = 0;
		for (fake_child *c = fk.children; c; c = c->next)
			nc++;
		fake_child **list = fake_alloc((nc + 1) * sizeof *list);
		nc = 0;
		for (fake_child *c = fk.children; c; c = c->next)
			if (c->pidfd < 0 && !c->dead)
				list[nc++] = c;
		FK_UNLOCK();
		for (size_t k = 0; k < nc; k++)
			fake_reap(list[k]);
		free(list);
	}
	free(pfd);
	free(who);
	free(is_child);
	FK_LOCK();
	fake_sweep();
	FK_UNLOCK();
}

bool fake_host_run_until_complete(assay_task *task, int64_t limit_ms)
{
	int64_t until = fake_now_ns() + limit_ms * 1000000;

	for (;;) {
		FK_LOCK();
		bool done = task->done;
		FK_UNLOCK();
		if (done)
			return true;
		if (fake_now_ns() >= until)
			return false;
		fake_turn(until);
	}
}

void fake_host_run_for(int64_t ms)
{
	int64_t until = fake_now_ns() + ms * 1000000;

	while (fake_now_ns() < until)
		fake_turn(until);
}

void fake_host_cancel(assay_task *t)
{
	FK_LOCK();
	t->cancelled = true;
	FK_UNLOCK();
	fake_call_cancel(t);
}

void fake_host_kill_children(void)
{
	FK_LOCK();
	for (fake_child *c = fk.children; c; c = c->next) {
		if (c->dead)
			continue;
		kill(-c->pid, SIGKILL);
		kill(c->pid, SIGKILL);
		waitpid(c->pid, NULL, 0);
		c->dead = true;
	}
	FK_UNLOCK();
}

size_t fake_host_pending(void)
{
	size_t n = 0;

	FK_LOCK();
	for (assay_watch *w = fk.watches; w; w = w->next)
		n += !w->dead;
	for (assay_timer *t = fk.timers; t; t = t->next)
		n += !t->dead;
	for (fake_child *c = fk.children; c; c = c->next)
		n += !c->dead;
	FK_UNLOCK();
	return n;
}

/* ---- results ------------------------------------------------------------------------------- */

int fake_task_completions(const assay_task *t)
{
	return t->completions;
}

bool fake_task_done(const assay_task *t)
{
	return t->done;
}

assay_status fake_task_status(const assay_task *t)
{
	return t->status;
}

const char *fake_task_message(const assay_task *t)
{
	return t->message ? t->message : "";
}

const char *fake_task_details(const assay_task *t)
{
	return t->details;
}

bool fake_task_timed_out(const assay_task *t)
{
	return t->timed_out;
}

size_t fake_task_metric_count(const assay_task *t)
{
	return t->n_metrics;
}

const assay_metric *fake_task_metric(const assay_task *t, size_t i)
{
	return i < t->n_metrics ? &t->metrics[i] : NULL;
}

const assay_metric *fake_task_find_metric(const assay_task *t, const char *name)
{
	for (size_t i = 0; i < t->n_metrics; i++)
		if (strcmp(t->metrics[i].name, name) == 0)
			return &t->metrics[i];
	return NULL;
}

const char *fake_task_log(const assay_task *t)
{
	return fake_buf_str(&t->log);
}

/* ---- resource types ------------------------------------------------------------------------ */

/* Wakes an acquire waiting for a grant of any type to come back. */
void fake_release(const assay_resource_type *type, void *grant)
{
	type->release(grant, type->data);
	FK_LOCK();
	fk.releases++;
	FK_UNLOCK();
}

/* One try, as the host's resource queue makes it: a message left from
 * before is dropped, so that one set during a refusal is the refusal's
 * reason (else the host names the code); a message set during a grant or
 * a "not now" is dropped too.  A refusal is the node's UNKNOWN. */
static int fake_try(assay_task *task, const assay_resource_type *type, void *req, void **grant,
		    uint32_t *retry_ms)
{
	int rc;

	FK_LOCK();
	free(task->message);
	task->message = NULL;
	FK_UNLOCK();
	rc = type->try_acquire(task, req, type->data, grant, retry_ms);
	FK_LOCK();
	if (rc < 0 && rc != ASSAY_EAGAIN) {
		task->status = ASSAY_UNKNOWN;
		if (!task->message) {
			fake_buf b = { 0 };

			fake_buf_add(&b, "cannot acquire resource `%s`: %s", type->name,
				     status_strerror(rc));
			task->message = b.s;
		}
	} else if (task->message) {
		free(task->message);
		task->message = NULL;
	}
	FK_UNLOCK();
	return rc;
}

/* "not now": what the progress line would say, as the host asks it. */
static void fake_describe_wait(assay_task *task, const assay_resource_type *type, void *req)
{
	char text[256] = "";

	if (!type->describe_wait)
		return;
	type->describe_wait(req, type->data, text, sizeof text);
	FK_LOCK();
	free(task->wait_text);
	task->wait_text = fake_strdup(text);
	FK_UNLOCK();
}

int fake_acquire(assay_task *task, const assay_resource_type *type, void *req, int64_t limit_ms,
		 void **grant, unsigned *tries)
{
	int64_t until = fake_now_ns() + limit_ms * 1000000;

	*tries = 0;
	for (;;) {
		uint32_t retry_ms = 0;
		int rc = fake_try(task, type, req, grant, &retry_ms);

		++*tries;
		if (rc != ASSAY_EAGAIN)
			return rc;
		fake_describe_wait(task, type, req);
		/* Asked again when a grant comes back, or after retry_ms. */
		int64_t again = retry_ms ? fake_now_ns() + (int64_t)retry_ms * 1000000 : until;
		FK_LOCK();
		unsigned releases = fk.releases;
		FK_UNLOCK();
		for (;;) {
			int64_t now = fake_now_ns();

			if (now >= until)
				return ASSAY_EAGAIN;
			FK_LOCK();
			bool released = fk.releases != releases;
			FK_UNLOCK();
			if (released || now >= again)
				break;
			fake_turn(again < until ? again : until);
		}
	}
}

/* ---- misc and the table ---------------------------------------------------------------------- */

void fake_add_secret(const char *secret)
{
	char **grown = realloc(fk.secrets, (fk.n_secrets + 1) * sizeof *grown);

	if (!grown || !(grown[fk.n_secrets] = strdup(secret)))
		fake_die("out of memory");
	fk.secrets = grown;
	fk.n_secrets++;
}

/* The host's own masking (core/mask.c), over the fake's secrets. */
static char *fake_mask(const assay_task *t, const char *s, size_t n, unsigned flags, size_t *len)
{
	(void)t;
	return mask_text(s, n, (const char *const *)fk.secrets, fk.n_secrets, flags, len);
}

/* What the host's mask_secrets() does: the run's secrets and the
 * plugin's, one list. */
static char *fake_mask_secrets(const assay_task *t, const char *s, size_t n,
			       const char *const *secrets, size_t n_secrets, unsigned flags,
			       size_t *len)
{
	size_t n_run = t ? fk.n_secrets : 0;
	const char **all = fake_alloc((n_run + n_secrets + 1) * sizeof *all);
	char *out;

	for (size_t i = 0; i < n_run; i++)
		all[i] = fk.secrets[i];
	for (size_t i = 0; i < n_secrets; i++)
		all[n_run + i] = secrets[i];
	out = mask_text(s, n, all, n_run + n_secrets, flags, len);
	free(all);
	return out;
}

/* The host's table, with the run's members -- registration, the task,
 * the reactor -- the fake's. */
static assay_host fake_table;

const assay_host *fake_host(void)
{
	assay_host *t = &fake_table;

	if (t->declare)
		return t;
	*t = *host_table();
	t->declare = fake_declare;
	t->register_node_type = fake_register_node_type;
	t->unregister_node_type = fake_unregister_node_type;
	t->register_resource_type = fake_register_resource_type;
	t->unregister_resource_type = fake_unregister_resource_type;
	t->register_reporter = fake_register_reporter;
	t->unregister_reporter = fake_unregister_reporter;
	t->plugin_config = fake_plugin_config;
	t->plugin_log = fake_plugin_log_fn;
	t->task_id = fake_task_id;
	t->task_kind = fake_task_kind;
	t->task_param = fake_task_param;
	t->task_item = fake_task_item;
	t->task_attempt = fake_task_attempt;
	t->task_set_data = fake_task_set_data;
	t->task_data = fake_task_data;
	t->task_timeout_ms = fake_task_timeout_ms;
	t->task_timed_out = fake_task_timed_out_fn;
	t->expand = fake_expand;
	t->expand_shell = fake_expand_shell;
	t->set_status = fake_set_status;
	t->set_message = fake_set_message;
	t->set_details = fake_set_details;
	t->add_metric = fake_add_metric;
	t->task_log = fake_task_log_fn;
	t->setenv = fake_setenv;
	t->environ = fake_environ;
	t->deadline_ns = fake_deadline_ns;
	t->cancelled = fake_cancelled;
	t->spawn = fake_spawn;
	t->complete = fake_complete;
	t->fd_watch = fake_fd_watch;
	t->fd_modify = fake_fd_modify;
	t->fd_unwatch = fake_fd_unwatch;
	t->timer_start = fake_timer_start;
	t->timer_stop = fake_timer_stop;
	t->child_watch = fake_child_watch;
	t->mask = fake_mask;
	t->mask_secrets = fake_mask_secrets;
	t->task_add_device = fake_task_add_device;
	t->check_file = fake_check_file;
	t->register_command = fake_register_command;
	t->unregister_command = fake_unregister_command;
	t->report_step = fake_report_step;
	t->task_dir = fake_task_dir;
	t->task_pruned = fake_task_pruned;
	t->task_child = fake_task_child;
	return t;
}

assay_plugin *fake_plugin(void)
{
	return &fk.plugin;
}

const assay_plugin_info *fake_plugin_info(void)
{
	return fk.declared ? &fk.info : NULL;
}

const assay_node_type *fake_node_type(const char *name)
{
	const fake_reg *r = fake_find(true, name);

	return r ? r->type : NULL;
}

const assay_resource_type *fake_resource_type(const char *name)
{
	const fake_reg *r = fake_find(false, name);

	return r ? r->type : NULL;
}

const char *fake_plugin_log(void)
{
	return fake_buf_str(&fk.plugin_log);
}

static void fake_task_free(assay_task *t)
{
	free(t->id);
	fake_strv_free(t->params);
	free(t->item);
	free(t->message);
	free(t->details);
	for (size_t i = 0; i < t->n_metrics; i++) {
		free((char *)t->metrics[i].name);
		free((char *)t->metrics[i].unit);
		free((char *)t->metrics[i].warn);
		free((char *)t->metrics[i].crit);
	}
	free(t->metrics);
	free(t->log.s);
	for (size_t i = 0; i < t->n_env; i++)
		free(t->env[i]);
	free(t->env);
	for (size_t i = 0; i < t->n_environs; i++)
		free(t->environs[i]);
	free(t->environs);
	for (size_t i = 0; i < t->n_devices; i++)
		free(t->devices[i]);
	free(t->devices);
	free(t->wait_text);
	free(t->dir);
	for (size_t i = 0; i < t->n_steps; i++)
		free((char *)t->steps[i].name);
	free(t->steps);
	free(t->prune_name);
	free(t);
}

static void fake_node_free(plan_node *n)
{
	for (size_t i = 0; i < n->n_params; i++) {
		free((char *)n->params[i].name);
		free((char *)n->params[i].value);
	}
	free((assay_param *)n->params);
	free(n->id);
	free(n);
}

void fake_host_reset(void)
{
	for (size_t i = 0; i < fk.n_secrets; i++)
		free(fk.secrets[i]);
	free(fk.secrets);
	while (fk.n_regs)
		fake_unregister(fk.regs[fk.n_regs - 1].node, fk.regs[fk.n_regs - 1].name);
	while (fk.n_commands)
		fake_unregister_command(NULL, fk.commands[fk.n_commands - 1]->name);
	for (assay_watch *w = fk.watches; w; w = w->next)
		w->dead = true;
	for (assay_timer *t = fk.timers; t; t = t->next)
		t->dead = true;
	fake_host_kill_children();
	FK_LOCK();
	fake_sweep();
	FK_UNLOCK();
	if (fk.wake[0] > 0) {
		close(fk.wake[0]);
		close(fk.wake[1]);
	}
	while (fk.jobs) {
		fake_job *j = fk.jobs;
		fk.jobs = j->next;
		free(j);
	}
	while (fk.docs) {
		fake_doc *d = fk.docs;
		fk.docs = d->next;
		value_tree_release(&d->tree);
		toml_doc_free(d->toml);
		free(d);
	}
	for (size_t i = 0; i < fk.n_nodes; i++)
		fake_node_free(fk.nodes[i]);
	free(fk.nodes);
	while (fk.tasks) {
		assay_task *t = fk.tasks;
		fk.tasks = t->next;
		fake_task_free(t);
	}
	diag_release(&fk.errors);
	free(fk.all_errors.s);
	free(fk.plugin_log.s);
	free(fk.file);
	memset(&fk, 0, sizeof fk);
}
