/* probe.c -- test-only plugin for the scheduler and the reports: a node
 * type whose status, duration, failures, items, message, details and
 * metrics are set by its options, reporting how many probes ran at once
 * and, for trials, intermediate values one step per tick (report_step);
 * and a `slot` resource with a configurable count. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "assay/plugin.h"

static const assay_host *host;
static atomic_int running, started_seq;

typedef struct probe {
	int status;                    /* status = 0..3 */
	int64_t sleep_ms;              /* sleep = "20ms": asynchronous, on a reactor timer */
	int64_t busy_ms;               /* busy = "20ms": synchronous, holding the pool thread,
					* as a type that computes in run() does */
	int fail_times;                /* fail_times = N: CRITICAL for the first N attempts */
	const assay_value *fail_items; /* fail_items = ["b"]: these items are CRITICAL */
	bool permanent;                /* permanent = true: failures ask for no retry */
	const char *message;           /* message = "text": instead of "status N" */
	const char *details;           /* details = "long\noutput" */
	const assay_value *metrics;    /* metrics = { acc = 0.9 }: reported on success */
	const assay_value *units;      /* units = { acc = "%" } */
	const assay_value *steps;      /* steps = [0.5, "0.{x}"]: `step_metric` at steps 0, 1, ...,
					* one per `sleep` (default 5ms), reported under the
					* plugin's lock; then the last as a final metric */
	const char *step_metric;       /* step_metric = "acc" (the default) */
	const char *log;               /* log = "path": a line "ID ITEM" appended per run,
					* so that a test counts the probes that ran */
	atomic_int attempts;           /* across items, for fail_times */
} probe;

/* A pending probe; listed so that cancel can find it by its task. */
typedef struct probe_run {
	assay_task *task;
	probe *p;
	assay_timer *timer;
	size_t step;                   /* steps reported so far */
	double last;                   /* the last of them */
	struct probe_run *next;
} probe_run;

/* The reactor's thread, learnt when a timer first fires there: a run can
 * then tell whether the host started it on that thread (metric
 * `on_reactor`), as it may for `probe_quick`. */
static _Atomic(pthread_t) reactor_thread;
static atomic_bool reactor_known;

static int on_reactor(void)
{
	return atomic_load(&reactor_known) &&
	       pthread_equal(pthread_self(), atomic_load(&reactor_thread));
}

static pthread_mutex_t runs_lock = PTHREAD_MUTEX_INITIALIZER;
static probe_run *runs;

/* Take r off the list; false if someone else already did (it ended). */
static bool probe_claim(assay_task *task, probe_run **out)
{
	probe_run **pp;

	pthread_mutex_lock(&runs_lock);
	for (pp = &runs; *pp && (*pp)->task != task; pp = &(*pp)->next)
		;
	*out = *pp;
	if (*pp)
		*pp = (*pp)->next;
	pthread_mutex_unlock(&runs_lock);
	return *out != NULL;
}

static const char *const probe_options[] = { "status",    "sleep",   "fail_times", "fail_items",
					     "permanent", "message", "details",    "metrics",
					     "units",     "steps",   "step_metric", "busy",
					     "log",       NULL };

static int probe_prepare(assay_node *node, const assay_value *opts, void *data, void **state)
{
	const assay_value *v;
	probe *p = calloc(1, sizeof *p);
	int64_t n;

	if (!p)
		return ASSAY_ENOMEM;
	if ((v = host->value_get(opts, "status")) && host->check_int(v, NULL, 0, 3, &n) < 0) {
		free(p);
		return ASSAY_EINVAL;
	}
	p->status = v ? (int)n : 0;
	if ((v = host->value_get(opts, "sleep")) &&
	    host->check_duration(v, NULL, 0, INT64_MAX, &p->sleep_ms) < 0) {
		free(p);
		return ASSAY_EINVAL;
	}
	if ((v = host->value_get(opts, "busy")) &&
	    host->check_duration(v, NULL, 0, INT64_MAX, &p->busy_ms) < 0) {
		free(p);
		return ASSAY_EINVAL;
	}
	if ((v = host->value_get(opts, "fail_times")) && host->value_int(v, &n) == 0)
		p->fail_times = (int)n;
	p->fail_items = host->value_get(opts, "fail_items");
	if ((v = host->value_get(opts, "permanent")))
		host->value_bool(v, &p->permanent);
	/* Checked as a template, to test the host's placeholders. */
	if ((v = host->value_get(opts, "message"))) {
		p->message = host->value_string(v);
		if (host->check_template(node, v, "message") < 0) {
			free(p);
			return ASSAY_EINVAL;
		}
	}
	if ((v = host->value_get(opts, "details")))
		p->details = host->value_string(v);
	p->metrics = host->value_get(opts, "metrics");
	p->units = host->value_get(opts, "units");
	p->steps = host->value_get(opts, "steps");
	p->step_metric = "acc";
	if ((v = host->value_get(opts, "step_metric")))
		p->step_metric = host->value_string(v);
	if ((v = host->value_get(opts, "log")))
		p->log = host->value_string(v);
	if (p->steps && p->sleep_ms == 0)
		p->sleep_ms = 5;
	*state = p;
	return 0;
}

static bool item_fails(const probe *p, const char *item)
{
	size_t i;

	for (i = 0; item && p->fail_items && i < host->value_len(p->fail_items); i++)
		if (strcmp(host->value_string(host->value_at(p->fail_items, i, NULL)), item) == 0)
			return true;
	return false;
}

/* metrics = { name = value }, each with its unit from units = { ... }; a
 * value may be a string such as "{x}", a trial's parameter. */
static void probe_metrics(assay_task *task, const probe *p)
{
	size_t i;

	for (i = 0; p->metrics && i < host->value_len(p->metrics); i++) {
		const char *name;
		const assay_value *v = host->value_at(p->metrics, i, &name), *u;
		assay_metric m = { .name = name };
		char *text;

		if (host->value_type(v) == ASSAY_VALUE_STRING &&
		    (text = host->expand(task, host->value_string(v), NULL))) {
			m.value = strtod(text, NULL);
			free(text);
		} else {
			host->value_float(v, &m.value);
		}
		if (p->units && (u = host->value_get(p->units, name)))
			m.unit = host->value_string(u);
		host->add_metric(task, &m);
	}
}

/* The result, and the end of "running". */
static void probe_finish(assay_task *task, probe *p, bool timed_out, const probe_run *r)
{
	int attempt = atomic_fetch_add(&p->attempts, 1);
	const char *item = host->task_item(task);

	atomic_fetch_sub(&running, 1);
	if (timed_out) {
		host->set_status(task, ASSAY_CRITICAL);
		host->set_message(task, "timed out");
	} else if (host->cancelled(task)) {
		host->set_status(task, ASSAY_UNKNOWN);
		host->set_message(task, host->task_pruned(task) ? "pruned" : "cancelled");
		if (r && r->step) { /* what it reported, kept */
			assay_metric m = { .name = p->step_metric, .value = r->last };

			host->add_metric(task, &m);
		}
	} else if (attempt < p->fail_times || item_fails(p, item)) {
		host->set_status(task, ASSAY_CRITICAL);
		host->set_message(task, "failing on purpose (attempt %u)",
				  host->task_attempt(task));
		if (p->permanent)
			host->no_retry(task);
	} else {
		host->set_status(task, (assay_status)p->status);
		if (p->message)
			host->set_message(task, "%s", p->message);
		else
			host->set_message(task, "status %d%s%s", p->status, item ? " for " : "",
					  item ? item : "");
		if (p->details)
			host->set_details(task, "%s", p->details);
		probe_metrics(task, p);
		if (r && r->step) {
			assay_metric m = { .name = p->step_metric, .value = r->last };

			host->add_metric(task, &m);
		}
	}
}

/* Step k's value: a number, or a string expanded ("0.{x}"). */
static double probe_step_value(assay_task *task, const probe *p, size_t k)
{
	const assay_value *v = host->value_at(p->steps, k, NULL);
	double d = 0;
	char *text;

	if (host->value_type(v) == ASSAY_VALUE_STRING &&
	    (text = host->expand(task, host->value_string(v), NULL))) {
		d = strtod(text, NULL);
		free(text);
	} else {
		host->value_float(v, &d);
	}
	return d;
}

static void probe_wake(void *arg);

/* One step of a probe with steps, reported under the plugin's lock (the
 * host must not cancel from inside it), and the next tick; false once
 * every step is reported: the probe ends. */
static bool probe_step(assay_task *task)
{
	probe_run *r;
	bool more = false;

	pthread_mutex_lock(&runs_lock);
	for (r = runs; r && r->task != task; r = r->next)
		;
	if (r && r->p->steps && r->step < host->value_len(r->p->steps)) {
		r->last = probe_step_value(task, r->p, r->step);
		host->report_step(task, r->p->step_metric, r->last, (int64_t)r->step);
		r->step++;
		more = host->timer_start((uint64_t)r->p->sleep_ms, probe_wake, task, &r->timer) == 0;
	}
	pthread_mutex_unlock(&runs_lock);
	return more;
}

static void probe_wake(void *arg)
{
	atomic_store(&reactor_thread, pthread_self());
	atomic_store(&reactor_known, true);
	assay_task *task = arg;
	probe_run *r;

	if (probe_step(task))
		return; /* another step follows */
	if (!probe_claim(task, &r))
		return; /* cancelled meanwhile */
	probe_finish(task, r->p, false, r);
	free(r);
	host->complete(task);
}

static int probe_run_fn(assay_task *task, void *state, void *data)
{
	probe *p = state;
	int now = atomic_fetch_add(&running, 1) + 1;
	assay_metric m = { .name = "concurrent", .value = now };
	assay_metric seq = { .name = "seq", .value = atomic_fetch_add(&started_seq, 1) };
	assay_metric here = { .name = "on_reactor", .value = on_reactor() };
	probe_run *r;

	host->add_metric(task, &m);
	host->add_metric(task, &seq);
	host->add_metric(task, &here);
	if (p->log) {
		const char *item = host->task_item(task);
		FILE *log = fopen(p->log, "a");

		if (log) {
			/* One write per line ("a"): lines of several threads
			 * do not mix. */
			setvbuf(log, NULL, _IOFBF, 4096);
			fprintf(log, "%s %s\n", host->task_id(task), item ? item : "-");
			fclose(log);
		}
	}
	if (p->busy_ms) {
		struct timespec ts = { (time_t)(p->busy_ms / 1000), (long)(p->busy_ms % 1000) * 1000000 };

		while (nanosleep(&ts, &ts) < 0)
			;
	}
	if (p->sleep_ms == 0) {
		probe_finish(task, p, false, NULL);
		return ASSAY_DONE;
	}
	if (!(r = calloc(1, sizeof *r)))
		return ASSAY_ENOMEM;
	r->task = task;
	r->p = p;
	pthread_mutex_lock(&runs_lock);
	r->next = runs;
	runs = r;
	/* Started under the lock: the timer cannot claim r before it is
	 * listed, and r->timer is set before anyone reads it. */
	host->timer_start((uint64_t)p->sleep_ms, probe_wake, task, &r->timer);
	pthread_mutex_unlock(&runs_lock);
	return ASSAY_PENDING;
}

static void probe_cancel(assay_task *task, void *state, void *data)
{
	struct timespec ts;
	probe_run *r;

	if (!probe_claim(task, &r))
		return; /* its timer is finishing it */
	host->timer_stop(r->timer);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	probe_finish(task, r->p,
		     (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec >= host->deadline_ns(task), r);
	free(r);
	host->complete(task);
}

static void probe_release(void *state, void *data)
{
	free(state);
}

static const assay_node_type probe_type = {
	.name = "probe",
	.kinds = ASSAY_KIND_CHECK | ASSAY_KIND_TRIAL | ASSAY_KIND_VALIDATION,
	.description = "a scripted node for scheduler tests",
	.options = probe_options,
	.prepare = probe_prepare,
	.run = probe_run_fn,
	.cancel = probe_cancel,
	.release = probe_release,
};

/* The same, declared to start only waiting work: the host may run it on
 * the reactor thread. */
static const assay_node_type probe_quick_type = {
	.name = "probe_quick",
	.kinds = ASSAY_KIND_CHECK,
	.description = "a scripted node for scheduler tests, ASSAY_TYPE_QUICK_RUN",
	.options = probe_options,
	.prepare = probe_prepare,
	.run = probe_run_fn,
	.cancel = probe_cancel,
	.release = probe_release,
	.flags = ASSAY_TYPE_QUICK_RUN,
};

/* `slot`: [plugins.probe] slots = N interchangeable slots (default 1). */
static atomic_int slots_free = 1;

static int slot_prepare(const assay_value *request, void *data, void **req)
{
	const assay_value *v = host->value_get(request, "slot");
	int64_t n = 1;

	if (v)
		host->value_int(v, &n);
	*req = (void *)(intptr_t)n;
	return 0;
}

static int slot_try_acquire(assay_task *task, void *req, void *data, void **grant,
			    uint32_t *retry_ms)
{
	int want = (int)(intptr_t)req, have = atomic_load(&slots_free);

	do {
		if (have < want)
			return ASSAY_EAGAIN;
	} while (!atomic_compare_exchange_weak(&slots_free, &have, have - want));
	*grant = req;
	return host->setenv(task, "PROBE_SLOT", "held");
}

static void slot_release(void *grant, void *data)
{
	atomic_fetch_add(&slots_free, (int)(intptr_t)grant);
}

static const assay_resource_type slot_type = {
	.name = "slot",
	.description = "interchangeable slots, [plugins.probe] slots = N",
	.prepare = slot_prepare,
	.try_acquire = slot_try_acquire,
	.release = slot_release,
};

ASSAY_EXPORT int assay_plugin_init(const assay_host *h, assay_plugin *plugin)
{
	static const assay_plugin_info info = { ASSAY_ABI_VERSION, "probe", "1.0",
						"scheduler test probe", ASSAY_ABI_MINOR };
	const assay_value *conf, *slots;
	int64_t n;
	int rc;

	host = h;
	if ((rc = h->declare(plugin, &info)) < 0)
		return rc;
	conf = h->plugin_config(plugin);
	if (conf && (slots = h->value_get(conf, "slots")) && h->value_int(slots, &n) == 0)
		atomic_store(&slots_free, (int)n);
	if ((rc = h->register_node_type(plugin, &probe_type)) < 0 ||
	    (rc = h->register_node_type(plugin, &probe_quick_type)) < 0)
		return rc;
	return h->register_resource_type(plugin, &slot_type);
}
