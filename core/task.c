/* task.c -- one execution of a node: result, environment, deadline, end. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "diag.h"
#include "mask.h"
#include "status.h"
#include "task.h"

extern char **environ;

int64_t task_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void task_create(assay_task *t)
{
	memset(t, 0, sizeof *t);
	atomic_init(&t->phase, TASK_DONE);
	atomic_init(&t->cancelled, false);
	atomic_init(&t->status, -1);
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->cond, NULL);
}

/* Everything but the wiring and the result; under the lock, or before
 * the task is shared. */
static void task_ready(assay_task *t, unsigned attempt)
{
	t->attempt = attempt;
	t->deadline_ns = INT64_MAX;
	atomic_store_explicit(&t->phase, TASK_READY, memory_order_relaxed);
	t->completed_in_run = t->cancel_called = t->timed_out = false;
	t->done_deferred = false;
	t->timer_armed = t->timer_fired = false;
	t->timer = NULL;
	atomic_store_explicit(&t->status, -1, memory_order_relaxed);
	t->start_ns = t->end_ns = 0;
}

void task_begin(assay_task *t, const plan_node *node, const char *item,
		int64_t timeout_ms, void *done_arg)
{
	t->node = node;
	t->item = item;
	t->timeout_ms = timeout_ms;
	t->done_arg = done_arg;
	t->trial_dir = NULL;
	if (node->kind == ASSAY_KIND_TRIAL)
		snprintf(t->seed_text, sizeof t->seed_text, "%u", node->seed);
	atomic_store_explicit(&t->cancelled, false, memory_order_relaxed);
	atomic_store_explicit(&t->pruned, false, memory_order_relaxed);
	task_ready(t, 1);
}

static void metric_release(assay_metric *m)
{
	free((char *)m->name);
	free((char *)m->unit);
	free((char *)m->warn);
	free((char *)m->crit);
}

void task_metrics_free(assay_metric *metrics, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		metric_release(&metrics[i]);
	free(metrics);
}

static void task_free_result(assay_task *t)
{
	size_t i;

	t->plugin_data = NULL;
	t->retry_after_ms = 0;
	t->no_retry = false;
	/* Most attempts leave nothing here: no call for that. */
	if (t->message) {
		free(t->message);
		t->message = NULL;
	}
	if (t->details) {
		free(t->details);
		t->details = NULL;
	}
	if (t->metrics) {
		task_metrics_free(t->metrics, t->n_metrics);
		t->metrics = NULL;
		t->n_metrics = 0;
	}
	if (t->env) {
		for (i = 0; i < t->n_env; i++)
			free(t->env[i]);
		free(t->env);
		t->env = NULL;
		t->n_env = 0;
	}
	if (t->environ_built) {
		free(t->environ_built);
		t->environ_built = NULL;
	}
	if (t->devices) {
		task_devices_free(t->devices);
		t->devices = NULL;
		t->n_devices = 0;
	}
}

void task_reset(assay_task *t, unsigned attempt)
{
	pthread_mutex_lock(&t->lock);
	task_free_result(t);
	task_ready(t, attempt);
	pthread_mutex_unlock(&t->lock);
}

void task_end(assay_task *t)
{
	task_free_result(t);
}

/* The end of an attempt: called with the lock held and phase about to
 * become DONE; unlocks.  t->done is the last thing that touches the task
 * (after it, the runner may reuse or free it), so when the plugin completes
 * from inside its own cancel, done waits until that cancel has returned. */
static void task_finish_locked(assay_task *t)
{
	bool stop_timer, defer;

	atomic_store_explicit(&t->phase, TASK_DONE, memory_order_relaxed);
	/* A cancel() running on another thread may still use the plugin's
	 * per-task state: wait for it, unless it is this very thread. */
	while (t->cancelling && !pthread_equal(t->canceller, pthread_self()))
		pthread_cond_wait(&t->cond, &t->lock);
	defer = t->cancelling;
	t->done_deferred = defer;
	stop_timer = t->timer_armed && !t->timer_fired;
	if (atomic_load_explicit(&t->status, memory_order_relaxed) < 0) {
		atomic_store_explicit(&t->status, ASSAY_UNKNOWN, memory_order_relaxed);
		if (!t->message)
			t->message = strdup(t->timed_out ? "timed out"
					    : atomic_load(&t->cancelled) ? "cancelled"
					    : "the plugin reported no status");
	}
	t->end_ns = task_now_ns();
	pthread_mutex_unlock(&t->lock);
	/* Timer handles stay valid after firing: stopping one whose callback
	 * started meanwhile just waits for it, and it sees DONE. */
	if (stop_timer)
		reactor_timer_stop(t->reactor, t->timer);
	if (!defer && t->done)
		t->done(t, t->done_arg);
}

/* The end of a run that returned without ASSAY_PENDING.  No lock: the task
 * was never pending, so no cancel() is running and no timer is armed, and
 * whoever looks at the phase meanwhile (a cancel, the plugin's complete())
 * leaves a task that is not pending alone. */
static void task_finish_sync(assay_task *t, int rc)
{
	if (atomic_load_explicit(&t->status, memory_order_relaxed) < 0) {
		atomic_store_explicit(&t->status, ASSAY_UNKNOWN, memory_order_relaxed);
		if (rc != ASSAY_DONE) {
			free(t->message);
			t->message = strdup("the plugin's run failed without a result");
		} else if (!t->message) {
			t->message = strdup(atomic_load(&t->cancelled) ? "cancelled"
					    : "the plugin reported no status");
		}
	}
	t->end_ns = task_now_ns();
	atomic_store_explicit(&t->phase, TASK_DONE, memory_order_relaxed);
	if (t->done)
		t->done(t, t->done_arg);
}

/* Call the type's cancel once, outside the lock (it may complete the task
 * on this very thread).  Called with the lock held; unlocks. */
static void task_cancel_locked(assay_task *t)
{
	const assay_node_type *type;
	bool deferred;

	/* The phase first: only a pending task is sure to be this
	 * execution's (a recycled one may be being begun right now). */
	if (atomic_load_explicit(&t->phase, memory_order_relaxed) != TASK_PENDING ||
	    t->cancel_called || !(type = t->node->type)->cancel) {
		pthread_mutex_unlock(&t->lock);
		return;
	}
	t->cancel_called = true;
	t->cancelling = true;
	t->canceller = pthread_self();
	pthread_mutex_unlock(&t->lock);
	type->cancel(t, t->node->state, type->data);
	pthread_mutex_lock(&t->lock);
	t->cancelling = false;
	deferred = t->done_deferred;
	t->done_deferred = false;
	pthread_cond_broadcast(&t->cond);
	pthread_mutex_unlock(&t->lock);
	if (deferred && t->done)
		t->done(t, t->done_arg); /* the plugin completed inside cancel */
}

void task_cancel(assay_task *t)
{
	pthread_mutex_lock(&t->lock);
	atomic_store(&t->cancelled, true);
	task_cancel_locked(t);
}

void task_prune(assay_task *t, const plan_node *node, const void *done_arg)
{
	pthread_mutex_lock(&t->lock);
	if (t->node != node || t->done_arg != done_arg ||
	    atomic_load_explicit(&t->phase, memory_order_relaxed) == TASK_DONE) {
		pthread_mutex_unlock(&t->lock);
		return;
	}
	atomic_store(&t->pruned, true);
	atomic_store(&t->cancelled, true);
	/* Not pending yet (run() is running): task_start() cancels it
	 * once run() returns, seeing `cancelled`. */
	task_cancel_locked(t);
}

static void task_deadline(void *arg)
{
	assay_task *t = arg;

	pthread_mutex_lock(&t->lock);
	t->timer_fired = true;
	if (atomic_load_explicit(&t->phase, memory_order_relaxed) != TASK_PENDING) {
		pthread_mutex_unlock(&t->lock);
		return;
	}
	t->timed_out = true;
	atomic_store(&t->cancelled, true);
	task_cancel_locked(t);
}

void task_start(assay_task *t, int64_t start_ns)
{
	const assay_node_type *type = t->node->type;
	int rc;

	/* No lock: nothing else reads these before run() has started. */
	t->start_ns = start_ns ? start_ns : task_now_ns();
	if (t->timeout_ms > 0)
		t->deadline_ns = t->start_ns + t->timeout_ms * 1000000;

	rc = type->run(t, t->node->state, type->data);

	if (rc != ASSAY_PENDING) {
		task_finish_sync(t, rc);
		return;
	}
	pthread_mutex_lock(&t->lock);
	if (t->completed_in_run) {
		task_finish_locked(t);
		return;
	}
	atomic_store_explicit(&t->phase, TASK_PENDING, memory_order_relaxed);
	/* Pairs with the runner's fence between setting *stopping and
	 * looking for tasks to cancel: either it finds this one (and its
	 * cancel, under the lock, comes after this and sees it pending), or
	 * this sees *stopping.  Only here: a run that returns ASSAY_DONE
	 * needs no cancel, so the common case pays no fence. */
	atomic_thread_fence(memory_order_seq_cst);
	if (t->stopping && atomic_load_explicit(t->stopping, memory_order_relaxed))
		atomic_store(&t->cancelled, true);
	if (atomic_load(&t->cancelled)) {
		task_cancel_locked(t); /* cancelled while run() was running */
		return;
	}
	/* Only waiting work gets a timer: a run that finished synchronously
	 * costs the reactor nothing. */
	if (t->timeout_ms > 0) {
		int64_t left = t->deadline_ns - task_now_ns();

		t->timer_armed = reactor_timer_start(t->reactor, left > 0 ? (uint64_t)(left + 999999) / 1000000 : 0,
						     task_deadline, t, &t->timer) == 0;
	}
	pthread_mutex_unlock(&t->lock);
}

void task_complete(assay_task *t)
{
	int phase;

	pthread_mutex_lock(&t->lock);
	phase = atomic_load_explicit(&t->phase, memory_order_relaxed);
	if (phase == TASK_READY) {
		/* task_start finishes it once run() returns. */
		t->completed_in_run = true;
		pthread_mutex_unlock(&t->lock);
		return;
	}
	if (phase != TASK_PENDING) {
		pthread_mutex_unlock(&t->lock); /* a second complete(): ignored */
		return;
	}
	task_finish_locked(t);
}

void task_destroy(assay_task *t)
{
	task_free_result(t);
	pthread_mutex_destroy(&t->lock);
	pthread_cond_destroy(&t->cond);
	memset(t, 0, sizeof *t);
}

void task_set_status(assay_task *t, assay_status s)
{
	if ((unsigned)s > ASSAY_UNKNOWN)
		s = ASSAY_UNKNOWN; /* SKIPPED and anything else are the host's */
	atomic_store_explicit(&t->status, (int)s, memory_order_relaxed);
}

/* A plugin's printf, with every secret of the plan scrubbed; NULL when
 * out of memory. */
static char *task_format(const assay_task *t, const char *fmt, va_list ap)
{
	char *raw, *clean;

	if (vasprintf(&raw, fmt, ap) < 0)
		return NULL;
	clean = diag_scrub(raw, t->secrets, t->n_secrets);
	free(raw);
	return clean;
}

char *task_mask(const assay_task *t, const char *s, size_t n, unsigned flags, size_t *len)
{
	return mask_text(s, n, t->secrets, t->n_secrets, flags, len);
}

/* Format, scrub and store into *field under the lock. */
static void task_set_textv(assay_task *t, char **field, const char *fmt, va_list ap)
{
	char *clean = task_format(t, fmt, ap);

	if (!clean)
		return;
	pthread_mutex_lock(&t->lock);
	free(*field);
	*field = clean;
	pthread_mutex_unlock(&t->lock);
}

void task_set_messagev(assay_task *t, const char *fmt, va_list ap)
{
	task_set_textv(t, &t->message, fmt, ap);
}

void task_clear_message(assay_task *t)
{
	free(task_take_message(t));
}

char *task_take_message(assay_task *t)
{
	char *msg;

	pthread_mutex_lock(&t->lock);
	msg = t->message;
	t->message = NULL;
	pthread_mutex_unlock(&t->lock);
	return msg;
}

/* NULL-terminated, so that the result keeps one pointer. */
int task_add_device(assay_task *t, const char *id)
{
	char **grown, *copy = strdup(id ? id : "");
	int rc = 0;

	if (!copy)
		return ASSAY_ENOMEM;
	pthread_mutex_lock(&t->lock);
	if ((grown = realloc(t->devices, (t->n_devices + 2) * sizeof *grown))) {
		t->devices = grown;
		grown[t->n_devices++] = copy;
		grown[t->n_devices] = NULL;
	} else {
		free(copy);
		rc = ASSAY_ENOMEM;
	}
	pthread_mutex_unlock(&t->lock);
	return rc;
}

char **task_take_devices(assay_task *t)
{
	char **devices;

	pthread_mutex_lock(&t->lock);
	devices = t->devices;
	t->devices = NULL;
	t->n_devices = 0;
	pthread_mutex_unlock(&t->lock);
	return devices;
}

void task_devices_free(char **devices)
{
	size_t i;

	for (i = 0; devices && devices[i]; i++)
		free(devices[i]);
	free(devices);
}

void task_set_details(assay_task *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	task_set_textv(t, &t->details, fmt, ap);
	va_end(ap);
}

static char *dup_scrubbed(const assay_task *t, const char *s, bool *fail)
{
	char *out;

	if (!s)
		return NULL;
	out = diag_scrub(s, t->secrets, t->n_secrets);
	if (!out)
		*fail = true;
	return out;
}

int task_add_metric(assay_task *t, const assay_metric *m)
{
	assay_metric copy = *m, *grown;
	bool fail = false;

	if (!m->name || !*m->name)
		return ASSAY_EINVAL;
	copy.name = dup_scrubbed(t, m->name, &fail);
	copy.unit = dup_scrubbed(t, m->unit ? m->unit : "", &fail);
	copy.warn = dup_scrubbed(t, m->warn, &fail);
	copy.crit = dup_scrubbed(t, m->crit, &fail);
	pthread_mutex_lock(&t->lock);
	grown = fail ? NULL : realloc(t->metrics, (t->n_metrics + 1) * sizeof *grown);
	if (grown) {
		t->metrics = grown;
		t->metrics[t->n_metrics++] = copy;
	}
	pthread_mutex_unlock(&t->lock);
	if (!grown) {
		metric_release(&copy);
		return ASSAY_ENOMEM;
	}
	return 0;
}

int task_setenv(assay_task *t, const char *name, const char *value)
{
	size_t i, len = strlen(name);
	char *entry, **grown;

	if (!len || strchr(name, '='))
		return ASSAY_EINVAL;
	if (asprintf(&entry, "%s=%s", name, value) < 0)
		return ASSAY_ENOMEM;
	pthread_mutex_lock(&t->lock);
	if (t->environ_built) {
		/* environ() has been handed out: changing it now would change
		 * what a running plugin is reading. */
		pthread_mutex_unlock(&t->lock);
		free(entry);
		return ASSAY_ESTATE;
	}
	for (i = 0; i < t->n_env; i++)
		if (strncmp(t->env[i], name, len) == 0 && t->env[i][len] == '=') {
			free(t->env[i]);
			t->env[i] = entry;
			pthread_mutex_unlock(&t->lock);
			return 0;
		}
	grown = realloc(t->env, (t->n_env + 1) * sizeof *grown);
	if (!grown) {
		pthread_mutex_unlock(&t->lock);
		free(entry);
		return ASSAY_ENOMEM;
	}
	t->env = grown;
	t->env[t->n_env++] = entry;
	pthread_mutex_unlock(&t->lock);
	return 0;
}

char *const *task_environ(assay_task *t)
{
	size_t n = 0, i, j, k = 0;
	char **out;

	pthread_mutex_lock(&t->lock);
	if (t->environ_built) {
		pthread_mutex_unlock(&t->lock);
		return t->environ_built;
	}
	while (environ[n])
		n++;
	out = malloc((n + t->n_env + 1) * sizeof *out);
	if (out) {
		for (i = 0; i < n; i++) {
			size_t len = strcspn(environ[i], "=");
			bool replaced = false;

			for (j = 0; j < t->n_env && !replaced; j++)
				replaced = strncmp(t->env[j], environ[i], len) == 0 &&
					   t->env[j][len] == '=';
			if (!replaced)
				out[k++] = environ[i];
		}
		for (j = 0; j < t->n_env; j++)
			out[k++] = t->env[j];
		out[k] = NULL;
		t->environ_built = out;
	}
	pthread_mutex_unlock(&t->lock);
	return out;
}

void task_logv(const assay_task *t, int level, const char *fmt, va_list ap)
{
	char *clean;

	if (level > t->verbosity || level < 0 || !(clean = task_format(t, fmt, ap)))
		return;
	/* One fprintf per line, so lines of concurrent tasks never mix. */
	fprintf(stderr, "assay: %s: %s%s%s: %s\n", status_level_name(level), t->node->id,
		t->item ? " " : "", t->item ? t->item : "", clean);
	free(clean);
}

void task_log(assay_task *t, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	task_logv(t, level, fmt, ap);
	va_end(ap);
}
