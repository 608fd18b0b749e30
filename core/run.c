/* run.c -- executes a plan on the pool: readiness, skips, retries,
 * timeouts, group limits, jobs, resources, cancellation. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bigarray.h"
#include "host.h"
#include "run.h"
#include "task.h"
#include "task_cache.h"

typedef struct run_exec run_exec;
typedef struct run_node run_node;

/* A counting semaphore whose waiters are executions, served in order:
 * `jobs`, and each group's max_parallel.  A waiter holds no thread. */
typedef struct limiter {
	pthread_mutex_t lock;
	unsigned avail;
	run_exec *head, *tail;
} limiter;

/* The executions waiting for one resource type, in order. */
typedef struct res_queue {
	pthread_mutex_t lock;
	const assay_resource_type *type;
	run_exec *head, *tail;
	bool poll_armed;          /* a retry_ms timer is pending */
	run *run;
} res_queue;

enum exec_phase {
	EXEC_ACTIVE,      /* admitted, queued, running or final */
	EXEC_RETRY_WAIT   /* failed; a backoff timer will admit it again */
};

/* One execution: a node's attempts, or one validation item's.  Small:
 * the task that runs it is lent by the run's task cache only from the
 * admission step that first needs it to the end. */
struct run_exec {
	pool_job job;
	run_node *node;
	run_result *res;          /* where each attempt's outcome goes */
	run *run;
	const char *item;         /* validations: its item; else NULL */
	_Atomic(assay_task *) task;
	run_exec *next;           /* link in a limiter or resource queue */
	void **grants;            /* one per resource of the node */
	assay_timer *retry_timer;
	unsigned stage;           /* admission steps passed */
	atomic_int phase;
};

struct run_node {
	/* What a finishing predecessor reads, together: one cache line. */
	atomic_uint waiting;      /* predecessors not finished */
	atomic_bool pred_failed;  /* a predecessor ended CRITICAL/UNKNOWN/skipped so */
	bool kept;                /* selected by --only (or no --only) */
	bool sink;                /* no kept successor: the run ends when every sink has */
	unsigned char run_if;     /* the plan node's */
	unsigned n_limits, n_res;
	size_t n_execs;
	run_exec *execs;          /* &one, or a validation's items */
	limiter **limits;         /* its groups' max_parallel, outermost first */
	res_queue **resq;         /* one per resource of the plan node */
	atomic_size_t items_left; /* validations: items not finished */
	run_exec one;             /* a check's or trial's only execution */
};

struct run {
	const plan *p;
	const graph *g;
	run_options o;
	reactor *re;
	pool *pool;
	run_node *nodes;
	task_cache *tasks;
	run_result *results;
	size_t *roots;            /* the kept nodes without predecessors */
	size_t n_roots;
	limiter jobs;
	bool jobs_bound;          /* false when jobs >= every execution: no limiter */
	limiter *groups;          /* one per plan group (avail unused without max_parallel) */
	size_t *limited;          /* the groups with a max_parallel, in plan order */
	size_t n_limited;
	res_queue **resq;         /* one per resource type any node uses */
	size_t n_resq;

	pthread_mutex_t lock;     /* stop_reason, done, and the wait below */
	pthread_cond_t cond;
	char *stop_reason;
	assay_status stop_cause;
	size_t kept;
	size_t sinks;             /* kept nodes without a kept successor */
	bool done;
	pthread_mutex_t progress_lock;
	double start, end;
	double wall_offset;       /* wall clock minus monotonic, in seconds */

	/* Every admission reads `stopping`; every finished sink writes
	 * `sinks_done`: apart, so that the writes do not evict the reads.
	 * The progress counters are kept only when something shows them. */
	_Alignas(64) atomic_bool stopping;
	_Alignas(64) atomic_size_t sinks_done;
	atomic_size_t finished;
	_Alignas(64) atomic_size_t running;
	atomic_size_t failed;
};

/* The next execution to run on this worker once the current one is
 * handed off: a finished node runs its first ready successor itself,
 * without a trip through the deques.  Per thread, so no sharing. */
static _Thread_local run_exec *tl_next;
static _Thread_local bool tl_in_loop;

/* A continuation starts the instant its predecessor ended: the clock read
 * that ended one attempt serves as the next one's start (what happens in
 * between is this file's bookkeeping, a fraction of a microsecond, and
 * counts in the successor's duration).  tl_end_ns is the end of the
 * attempt whose done() runs on this thread now, tl_next_start_ns the
 * start of tl_next, tl_start_ns that of the execution being admitted. */
static _Thread_local int64_t tl_end_ns, tl_next_start_ns, tl_start_ns;

static void exec_admit(run_exec *e);
static void node_finished(run *r, size_t v);

static size_t node_index(const run *r, const run_node *n)
{
	return (size_t)(n - r->nodes);
}

static const plan_node *exec_plan_node(const run_exec *e)
{
	return &e->run->p->nodes[node_index(e->run, e->node)];
}

/* The execution's task (the one it has, or one from the cache); NULL when
 * out of memory. */
static assay_task *exec_task(run_exec *e)
{
	assay_task *t = atomic_load_explicit(&e->task, memory_order_relaxed);
	run *r = e->run;
	const plan_node *pn;

	if (t)
		return t;
	if (!(t = task_cache_get(r->tasks, pool_worker_index(r->pool))))
		return NULL;
	pn = exec_plan_node(e);
	task_begin(t, pn, e->item, pn->timeout_ms ? pn->timeout_ms : r->p->timeout_ms, e);
	/* Sequentially consistent, like run_stop()'s store of `stopping`
	 * and load of this pointer: of the two, one sees the other. */
	atomic_store(&e->task, t);
	return t;
}

/* The execution is final: its task goes back to the cache. */
static void exec_return_task(run_exec *e)
{
	assay_task *t = atomic_load_explicit(&e->task, memory_order_relaxed);

	if (!t)
		return;
	atomic_store_explicit(&e->task, NULL, memory_order_relaxed);
	task_end(t);
	task_cache_put(e->run->tasks, pool_worker_index(e->run->pool), t);
}

static double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool failed_status(assay_status s)
{
	return s == ASSAY_CRITICAL || s == ASSAY_UNKNOWN;
}

/* Severity as the monitoring-plugins rank states when they combine them
 * (max_state_alt): OK < UNKNOWN < WARNING < CRITICAL.  Numerically
 * UNKNOWN is 3, but a run with one CRITICAL node is CRITICAL. */
static int severity(assay_status s)
{
	static const int rank[] = { 0, 2, 3, 1 };

	return (unsigned)s <= ASSAY_UNKNOWN ? rank[s] : 1;
}

static assay_status worse(assay_status a, assay_status b)
{
	return severity(b) > severity(a) ? b : a;
}

/* A skipped node counts as the failure that caused it. */
static assay_status effective(const run_result *res)
{
	return res->status == ASSAY_SKIPPED ? res->cause : res->status;
}

static void exec_job(pool_job *job)
{
	run_exec *e = (run_exec *)job;
	bool outer = !tl_in_loop;

	tl_in_loop = true;
	tl_start_ns = 0;
	while (e) {
		exec_admit(e);
		e = tl_next;
		tl_next = NULL;
		tl_start_ns = tl_next_start_ns;
	}
	tl_start_ns = 0;
	tl_in_loop = !outer;
}

static void exec_schedule(run_exec *e, bool may_continue)
{
	if (may_continue && tl_in_loop && !tl_next) {
		const graph *g = e->run->g;
		size_t v = node_index(e->run, e->node);

		tl_next = e;
		/* Only after its only predecessor: another one may have read
		 * the clock later than this one, yet finished first. */
		tl_next_start_ns = g->pred_at[v + 1] - g->pred_at[v] == 1 ? tl_end_ns : 0;
		return;
	}
	if (pool_submit(e->run->pool, &e->job) < 0) {
		/* A deque could not grow: run it here rather than lose it. */
		exec_job(&e->job);
	}
}

/* --- limiters -------------------------------------------------------------- */

static void limiter_init(limiter *l, unsigned avail)
{
	pthread_mutex_init(&l->lock, NULL);
	l->avail = avail;
	l->head = l->tail = NULL;
}

static void enqueue(run_exec **head, run_exec **tail, run_exec *e)
{
	e->next = NULL;
	if (*tail)
		(*tail)->next = e;
	else
		*head = e;
	*tail = e;
}

static bool limiter_enter(limiter *l, run_exec *e)
{
	bool in;

	pthread_mutex_lock(&l->lock);
	in = l->avail > 0 && !l->head;
	if (in)
		l->avail--;
	else
		enqueue(&l->head, &l->tail, e);
	pthread_mutex_unlock(&l->lock);
	return in;
}

/* A leaving execution hands its slot straight to the first waiter. */
static void limiter_leave(limiter *l)
{
	run_exec *e;

	pthread_mutex_lock(&l->lock);
	e = l->head;
	if (e) {
		l->head = e->next;
		if (!l->head)
			l->tail = NULL;
	} else {
		l->avail++;
	}
	pthread_mutex_unlock(&l->lock);
	if (e) {
		e->stage++;
		exec_schedule(e, false);
	}
}

/* --- resources ------------------------------------------------------------- */

static int res_try(res_queue *q, run_exec *e, size_t i, uint32_t *retry_ms)
{
	assay_task *t = atomic_load_explicit(&e->task, memory_order_relaxed);

	return q->type->try_acquire(t, exec_plan_node(e)->resource_reqs[i], q->type->data,
				    &e->grants[i], retry_ms);
}

static void res_poll(res_queue *q);

static void res_poll_timer(void *arg)
{
	res_queue *q = arg;

	pthread_mutex_lock(&q->lock);
	q->poll_armed = false;
	pthread_mutex_unlock(&q->lock);
	res_poll(q);
}

/* Arm the retry_ms poll (called with q->lock held). */
static void res_arm(res_queue *q, uint32_t retry_ms)
{
	if (retry_ms && !q->poll_armed &&
	    reactor_timer_start(q->run->re, retry_ms, res_poll_timer, q, NULL) == 0)
		q->poll_armed = true;
}

static void exec_fail(run_exec *e, const char *resource, int rc);
static void exec_fail_message(run_exec *e, const char *msg);

/* Grant what can be granted to the waiters, in order. */
static void res_poll(res_queue *q)
{
	for (;;) {
		run_exec *e;
		uint32_t retry_ms = 0;
		size_t i;
		int rc;

		pthread_mutex_lock(&q->lock);
		e = q->head;
		if (!e) {
			pthread_mutex_unlock(&q->lock);
			return;
		}
		i = e->stage - e->node->n_limits;
		rc = res_try(q, e, i, &retry_ms);
		if (rc == ASSAY_EAGAIN) {
			res_arm(q, retry_ms);
			pthread_mutex_unlock(&q->lock);
			return;
		}
		q->head = e->next;
		if (!q->head)
			q->tail = NULL;
		pthread_mutex_unlock(&q->lock);
		if (rc == 0) {
			e->stage++;
			exec_schedule(e, false);
		} else {
			exec_fail(e, q->type->name, rc);
		}
	}
}

/* 1: acquired; 0: queued; negative: the request failed. */
static int res_enter(res_queue *q, run_exec *e, size_t i)
{
	uint32_t retry_ms = 0;
	int rc;

	pthread_mutex_lock(&q->lock);
	if (q->head) {
		enqueue(&q->head, &q->tail, e); /* first come, first served */
		pthread_mutex_unlock(&q->lock);
		return 0;
	}
	rc = res_try(q, e, i, &retry_ms);
	if (rc == ASSAY_EAGAIN) {
		enqueue(&q->head, &q->tail, e);
		res_arm(q, retry_ms);
		pthread_mutex_unlock(&q->lock);
		return 0;
	}
	pthread_mutex_unlock(&q->lock);
	return rc == 0 ? 1 : rc;
}

/* --- admission and start ------------------------------------------------- */

/* Give back every step passed so far (in reverse). */
static void exec_leave(run_exec *e)
{
	run_node *n = e->node;
	size_t n_res = n->n_res, stage = e->stage, i;

	if (stage > n->n_limits + n_res) {
		if (e->run->jobs_bound)
			limiter_leave(&e->run->jobs);
		stage = n->n_limits + n_res;
	}
	for (i = stage - n->n_limits; stage > n->n_limits && i-- > 0;) {
		res_queue *q = n->resq[i];

		q->type->release(e->grants[i], q->type->data);
		e->grants[i] = NULL;
		res_poll(q);
	}
	for (i = stage < n->n_limits ? stage : n->n_limits; i-- > 0;)
		limiter_leave(n->limits[i]);
	e->stage = 0;
}

static void exec_final(run_exec *e);

/* Stopped before it could start: keep an earlier attempt's failure, else
 * it is SKIPPED for the reason the run stopped. */
static void exec_abandon(run_exec *e)
{
	run *r = e->run;

	exec_leave(e);
	if (e->res->attempts == 0) {
		pthread_mutex_lock(&r->lock);
		e->res->status = ASSAY_SKIPPED;
		e->res->cause = r->stop_cause;
		e->res->skip_reason = strdup(r->stop_reason ? r->stop_reason : "the run was stopped");
		pthread_mutex_unlock(&r->lock);
	}
	exec_final(e);
}

/* The execution cannot start: UNKNOWN with msg, no retry. */
static void exec_fail_message(run_exec *e, const char *msg)
{
	exec_leave(e);
	free(e->res->message);
	e->res->message = msg ? strdup(msg) : NULL;
	e->res->status = ASSAY_UNKNOWN;
	e->res->attempts++;
	exec_final(e);
}

/* A resource type refused the request outright. */
static void exec_fail(run_exec *e, const char *resource, int rc)
{
	char *msg = NULL;

	if (asprintf(&msg, "cannot acquire resource `%s`: %s", resource, host_strerror(rc)) < 0)
		msg = NULL;
	exec_fail_message(e, msg ? msg : "cannot acquire a resource");
	free(msg);
}

static void exec_admit(run_exec *e)
{
	run *r = e->run;
	run_node *n = e->node;
	size_t n_res = n->n_res;
	int64_t start_ns;
	assay_task *t;

	for (;;) {
		size_t s = e->stage;
		int rc;

		if (atomic_load(&r->stopping)) {
			exec_abandon(e);
			return;
		}
		if (s < n->n_limits) {
			if (!limiter_enter(n->limits[s], e))
				return;
		} else if (s < n->n_limits + n_res) {
			if (!exec_task(e)) {
				exec_fail_message(e, "out of memory");
				return;
			}
			rc = res_enter(n->resq[s - n->n_limits], e, s - n->n_limits);
			if (rc == 0)
				return;
			if (rc < 0) {
				exec_fail(e, n->resq[s - n->n_limits]->type->name, rc);
				return;
			}
		} else if (s == n->n_limits + n_res) {
			if (r->jobs_bound && !limiter_enter(&r->jobs, e))
				return;
		} else {
			break;
		}
		e->stage++;
	}
	if (!(t = exec_task(e))) {
		exec_fail_message(e, "out of memory");
		return;
	}
	/* run_stop() sets `stopping`, then cancels the tasks executions
	 * hold: one of the two sees the other (exec_task()). */
	if (atomic_load(&r->stopping))
		task_cancel(t);
	/* Counters for the progress line only: no ordering needed. */
	if (r->o.progress)
		atomic_fetch_add_explicit(&r->running, 1, memory_order_relaxed);
	start_ns = tl_start_ns;
	tl_start_ns = 0;
	task_start(t, start_ns);
}

/* --- the end of an execution --------------------------------------------- */

static void retry_timer(void *arg)
{
	run_exec *e = arg;
	int expect = EXEC_RETRY_WAIT;

	if (atomic_compare_exchange_strong(&e->phase, &expect, EXEC_ACTIVE))
		exec_schedule(e, false);
}

/* Full jitter (AWS's "exponential backoff and jitter"): a uniformly random
 * delay below base * 2^(attempt-1), capped at 5 minutes, so that many
 * nodes failing together do not retry together. */
static uint64_t backoff_ms(const plan_node *pn, unsigned attempt, unsigned *seed)
{
	double cap = (double)pn->retry_delay_ms;
	unsigned k;

	for (k = 1; k < attempt && cap < 300000; k++)
		cap *= 2;
	if (cap > 300000)
		cap = 300000;
	return (uint64_t)(cap * ((double)rand_r(seed) / ((double)RAND_MAX + 1)));
}

static void move_result(run_exec *e, assay_task *t)
{
	run_result *res = e->res;

	free(res->message);
	free(res->details);
	task_metrics_free(res->metrics, res->n_metrics);
	/* Take the task's allocations: it is over, nobody else reads them. */
	res->status = (assay_status)atomic_load_explicit(&t->status, memory_order_relaxed);
	res->message = t->message;
	res->details = t->details;
	t->details = NULL;
	res->metrics = t->metrics;
	res->n_metrics = t->n_metrics;
	t->message = NULL;
	t->metrics = NULL;
	t->n_metrics = 0;
	res->attempts = t->attempt;
	if (t->attempt == 1 || res->start == 0)
		res->start = e->run->wall_offset + (double)t->start_ns * 1e-9;
	res->end = e->run->wall_offset + (double)t->end_ns * 1e-9;
	res->duration = (double)(t->end_ns - t->start_ns) * 1e-9;
	res->ran = true;
}

static void exec_done(assay_task *t, void *arg)
{
	run_exec *e = arg;
	run *r = e->run;
	const plan_node *pn = exec_plan_node(e);
	int rc;

	if (r->o.progress)
		atomic_fetch_sub_explicit(&r->running, 1, memory_order_relaxed);
	exec_leave(e);
	move_result(e, t);
	if (failed_status(e->res->status) && t->attempt <= pn->retries && !t->no_retry &&
	    !atomic_load(&r->stopping)) {
		unsigned seed = (unsigned)(uintptr_t)e ^ (unsigned)t->end_ns;
		uint64_t delay = backoff_ms(pn, t->attempt, &seed);

		if ((uint64_t)t->retry_after_ms > delay)
			delay = (uint64_t)t->retry_after_ms; /* the server asked for it */

		task_log(t, ASSAY_LOG_INFO, "attempt %u failed; retrying in %.3gs",
			       t->attempt, (double)delay / 1000);
		task_reset(t, t->attempt + 1);
		/* Under the run's lock, so that run_stop() sees either no
		 * retry pending or one whose timer handle is set. */
		pthread_mutex_lock(&r->lock);
		atomic_store(&e->phase, EXEC_RETRY_WAIT);
		rc = reactor_timer_start(r->re, delay, retry_timer, e, &e->retry_timer);
		pthread_mutex_unlock(&r->lock);
		if (rc < 0)
			retry_timer(e); /* no timer: retry at once */
		return;
	}
	tl_end_ns = t->end_ns;
	exec_final(e);
	tl_end_ns = 0;
}

static void summarise_items(run *r, size_t v);

static void exec_final(run_exec *e)
{
	run_node *n = e->node;
	run *r = e->run;
	size_t v = node_index(r, n);

	exec_return_task(e);
	if (r->p->nodes[v].kind == ASSAY_KIND_VALIDATION) {
		if (atomic_fetch_sub(&n->items_left, 1) != 1)
			return;
		summarise_items(r, v);
	}
	node_finished(r, v);
}

/* A validation's status is its worst item's; the message counts them and
 * names the first failure. */
static void summarise_items(run *r, size_t v)
{
	run_result *res = &r->results[v];
	size_t counts[5] = { 0 }, i, first_bad = SIZE_MAX;
	assay_status worst = ASSAY_OK;
	double start = 0, end = 0;
	char *msg = NULL;

	for (i = 0; i < res->n_items; i++) {
		const run_result *it = &res->items[i];
		assay_status s = effective(it);

		if (it->attempts > res->attempts)
			res->attempts = it->attempts;
		counts[it->status]++;
		worst = worse(worst, s);
		if (s != ASSAY_OK && s != ASSAY_WARNING && first_bad == SIZE_MAX)
			first_bad = i;
		if (it->ran && (start == 0 || it->start < start))
			start = it->start;
		if (it->end > end)
			end = it->end;
	}
	res->status = worst;
	res->ran = true;
	res->start = start;
	res->end = end;
	res->duration = end > start ? end - start : 0;
	if (first_bad != SIZE_MAX) {
		const run_result *it = &res->items[first_bad];

		if (asprintf(&msg, "%zu of %zu items failed; first: %s: %s",
			     res->n_items - counts[ASSAY_OK] - counts[ASSAY_WARNING], res->n_items,
			     r->p->nodes[v].items[first_bad],
			     it->status == ASSAY_SKIPPED ? it->skip_reason : it->message) < 0)
			msg = NULL;
	} else if (asprintf(&msg, "%zu item%s OK%s", res->n_items, res->n_items == 1 ? "" : "s",
			    counts[ASSAY_WARNING] ? " (some with warnings)" : "") < 0) {
		msg = NULL;
	}
	res->message = msg;
}

/* --- readiness ------------------------------------------------------------- */

/* Why node s will not run, given its finished predecessors, or NULL. */
static char *skip_reason(run *r, size_t s, assay_status *cause)
{
	const graph *g = r->g;
	const plan_node *pn = &r->p->nodes[s];
	size_t k;
	bool any_failed = false;
	char *why = NULL;

	if (atomic_load(&r->stopping)) {
		pthread_mutex_lock(&r->lock);
		*cause = r->stop_cause;
		why = strdup(r->stop_reason ? r->stop_reason : "the run was stopped");
		pthread_mutex_unlock(&r->lock);
		return why;
	}
	/* The common case, everything before it fine, costs no scan. */
	if (!atomic_load_explicit(&r->nodes[s].pred_failed, memory_order_relaxed)) {
		if (r->nodes[s].run_if != RUN_IF_FAILURE)
			return NULL;
		*cause = ASSAY_OK; /* nothing failed: the skip is no failure */
		return strdup("run_if = \"failure\", and no dependency failed");
	}
	/* A failed gate skips everything else, whatever its run_if. */
	for (k = g->pred_at[s]; k < g->pred_at[s + 1]; k++) {
		size_t u = g->pred[k];
		assay_status st = effective(&r->results[u]);

		if (r->p->nodes[u].gate && !pn->gate && failed_status(st)) {
			*cause = st;
			if (asprintf(&why, "gate `%s` is %s", r->p->nodes[u].id,
				     r->results[u].status == ASSAY_SKIPPED ? "SKIPPED"
									   : host_status_name(st)) < 0)
				why = NULL;
			return why ? why : strdup("a gate failed");
		}
	}
	for (k = g->pred_at[s]; k < g->pred_at[s + 1]; k++) {
		size_t u = g->pred[k];
		const run_result *pr = &r->results[u];

		if (!failed_status(effective(pr)))
			continue;
		any_failed = true;
		if (pn->run_if == RUN_IF_SUCCESS) {
			*cause = effective(pr);
			if (asprintf(&why, pr->status == ASSAY_SKIPPED ? "dependency `%s` was skipped"
								       : "dependency `%s` is %s",
				     r->p->nodes[u].id, host_status_name(pr->status)) < 0)
				why = NULL;
			return why ? why : strdup("a dependency failed");
		}
	}
	if (pn->run_if == RUN_IF_FAILURE && !any_failed) {
		*cause = ASSAY_OK; /* nothing failed: the skip is no failure */
		return strdup("run_if = \"failure\", and no dependency failed");
	}
	return NULL;
}

static void node_launch(run *r, size_t v, bool may_continue)
{
	run_node *n = &r->nodes[v];
	size_t i;

	r->results[v].ran = true;
	if (n->n_execs == 0) {
		/* A validation allowed to have no items. */
		r->results[v].status = ASSAY_OK;
		r->results[v].message = strdup("no items");
		node_finished(r, v);
		return;
	}
	for (i = 0; i < n->n_execs; i++)
		exec_schedule(&n->execs[i], may_continue && i == 0);
}

static void run_signal_done(run *r)
{
	pthread_mutex_lock(&r->lock);
	r->done = true;
	r->end = wall_now();
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

/* v is final: count it, and release its successors.  Successors skipped
 * in turn are handled here too, with a work list rather than recursion:
 * a skipped chain of a million nodes must not exhaust the stack. */
static void node_finished(run *r, size_t v)
{
	const graph *g = r->g;
	size_t *stack = NULL, depth = 0, cap = 0, k;
	bool continued = false;

	for (;;) {
		run_result *res = &r->results[v];

		if (res->ran && failed_status(res->status)) {
			atomic_fetch_add_explicit(&r->failed, 1, memory_order_relaxed);
			if (r->o.fail_fast) {
				char reason[512];

				snprintf(reason, sizeof reason, "fail_fast: `%s` is %s",
					 r->p->nodes[v].id, host_status_name(res->status));
				pthread_mutex_lock(&r->lock);
				if (!r->stop_reason)
					r->stop_cause = res->status;
				pthread_mutex_unlock(&r->lock);
				run_stop(r, reason);
			}
		}
		if (r->o.progress) {
			atomic_fetch_add_explicit(&r->finished, 1, memory_order_relaxed);
			pthread_mutex_lock(&r->progress_lock);
			r->o.progress(r, r->o.progress_arg);
			pthread_mutex_unlock(&r->progress_lock);
		}
		bool failed = failed_status(effective(res));

		for (k = g->succ_at[v]; k < g->succ_at[v + 1]; k++) {
			size_t s = g->succ[k];
			assay_status cause = ASSAY_UNKNOWN;
			char *why;

			if (!r->nodes[s].kept)
				continue;
			/* Before the count drops: whoever takes it to 0 sees it. */
			if (failed)
				atomic_store_explicit(&r->nodes[s].pred_failed, true, memory_order_relaxed);
			if (atomic_fetch_sub(&r->nodes[s].waiting, 1) != 1)
				continue;
			why = skip_reason(r, s, &cause);
			if (!why) {
				node_launch(r, s, !continued);
				continued = true;
				continue;
			}
			r->results[s].status = ASSAY_SKIPPED;
			r->results[s].cause = cause;
			r->results[s].skip_reason = why;
			if (depth == cap) {
				size_t *grown = realloc(stack, (cap = cap ? cap * 2 : 16) * sizeof *stack);

				if (!grown)
					abort(); /* cannot even record a skip: nothing sane is left */
				stack = grown;
			}
			stack[depth++] = s;
		}
		/* Every node is done once every sink is: a node is final
		 * before any successor starts or is skipped. */
		if (r->nodes[v].sink && atomic_fetch_add(&r->sinks_done, 1) + 1 == r->sinks)
			run_signal_done(r);
		if (depth == 0)
			break;
		v = stack[--depth];
	}
	free(stack);
}

/* --- the run ------------------------------------------------------------------ */

static void exec_init(run *r, run_exec *e, run_node *n, run_result *res, const char *item)
{
	e->job.fn = exec_job;
	e->node = n;
	e->res = res;
	e->run = r;
	e->item = item;
	atomic_init(&e->task, NULL);
	atomic_init(&e->phase, EXEC_ACTIVE);
}

typedef struct spawned {
	pool_job job;
	void (*fn)(void *);
	void *arg;
} spawned;

static void spawned_job(pool_job *job)
{
	spawned *s = (spawned *)job;
	void (*fn)(void *) = s->fn;
	void *arg = s->arg;

	free(s);
	fn(arg);
}

static int run_spawn(void *ctx, void (*fn)(void *), void *arg)
{
	run *r = ctx;
	spawned *s = malloc(sizeof *s);

	if (!s)
		return ASSAY_ENOMEM;
	s->job.fn = spawned_job;
	s->fn = fn;
	s->arg = arg;
	if (pool_submit(r->pool, &s->job) < 0) {
		free(s);
		return ASSAY_ENOMEM;
	}
	return 0;
}

static bool in_group(const char *id, const char *group)
{
	size_t len = strlen(group);

	return strncmp(id, group, len) == 0 && (id[len] == '.' || id[len] == '[');
}

/* The queue of a resource type, made when a node first needs it. */
static res_queue *res_queue_for(run *r, const assay_resource_type *type)
{
	res_queue **grown, *q;
	size_t k;

	for (k = 0; k < r->n_resq; k++)
		if (r->resq[k]->type == type)
			return r->resq[k];
	if (!(grown = realloc(r->resq, (r->n_resq + 1) * sizeof *grown)))
		return NULL;
	r->resq = grown;
	if (!(q = calloc(1, sizeof *q)))
		return NULL;
	pthread_mutex_init(&q->lock, NULL);
	q->type = type;
	q->run = r;
	r->resq[r->n_resq++] = q;
	return q;
}

static int run_node_init(run *r, size_t v)
{
	const plan *p = r->p;
	const plan_node *pn = &p->nodes[v];
	run_node *n = &r->nodes[v];
	run_result *res = &r->results[v];
	size_t i, k;

	n->n_res = (unsigned)pn->n_resources;
	n->run_if = (unsigned char)pn->run_if;
	atomic_init(&n->waiting, r->g->pred_at[v + 1] - r->g->pred_at[v]);
	atomic_init(&n->pred_failed, false);
	/* Groups were declared outer before inner: a consistent order, so
	 * limits taken one after another cannot deadlock.  Most nodes have
	 * no limit and no resource: nothing is allocated for them. */
	for (k = 0; k < r->n_limited; k++) {
		i = r->limited[k];
		if (in_group(pn->id, p->groups[i].name)) {
			if (!n->limits && !(n->limits = calloc(r->n_limited, sizeof *n->limits)))
				return ASSAY_ENOMEM;
			n->limits[n->n_limits++] = &r->groups[i];
		}
	}
	if (pn->n_resources && !(n->resq = calloc(pn->n_resources, sizeof *n->resq)))
		return ASSAY_ENOMEM;
	for (i = 0; i < pn->n_resources; i++)
		if (!(n->resq[i] = res_queue_for(r, pn->resource_types[i])))
			return ASSAY_ENOMEM;
	n->n_execs = pn->kind == ASSAY_KIND_VALIDATION ? pn->n_items : 1;
	if (pn->kind != ASSAY_KIND_VALIDATION)
		n->execs = &n->one;
	else if (n->n_execs && !(n->execs = calloc(n->n_execs, sizeof *n->execs)))
		return ASSAY_ENOMEM;
	if (pn->kind == ASSAY_KIND_VALIDATION) {
		res->items = calloc(pn->n_items ? pn->n_items : 1, sizeof *res->items);
		if (!res->items)
			return ASSAY_ENOMEM;
		res->n_items = pn->n_items;
		atomic_init(&n->items_left, pn->n_items);
	}
	for (i = 0; i < n->n_execs; i++) {
		run_exec *e = &n->execs[i];

		if (pn->n_resources && !(e->grants = calloc(pn->n_resources, sizeof *e->grants)))
			return ASSAY_ENOMEM;
		exec_init(r, e, n, res->items ? &res->items[i] : res,
			  res->items ? pn->items[i] : NULL);
		if (res->items)
			res->items[i].kept = true;
	}
	return 0;
}

int run_new(run **out, const plan *p, const graph *g, const run_options *o,
	    reactor *re)
{
	/* aligned_alloc: the struct's cache-line members need its alignment. */
	run *r = aligned_alloc(_Alignof(run), sizeof *r);
	size_t i, j, executions = 0;
	assay_task wiring = {
		.reactor = re,
		.done = exec_done,
		.spawn = run_spawn,
		.secrets = (const char *const *)p->values.secrets,
		.n_secrets = p->values.n_secrets,
		.verbosity = o->verbosity,
	};

	*out = r;
	if (!r)
		return ASSAY_ENOMEM;
	memset(r, 0, sizeof *r);
	r->p = p;
	r->g = g;
	r->o = *o;
	r->re = re;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
	pthread_mutex_init(&r->progress_lock, NULL);
	r->stop_cause = ASSAY_UNKNOWN;
	limiter_init(&r->jobs, o->jobs ? o->jobs : 1);
	r->nodes = bigarray_new(p->n_nodes, sizeof *r->nodes);
	r->results = bigarray_new(p->n_nodes, sizeof *r->results);
	r->groups = calloc(p->n_groups ? p->n_groups : 1, sizeof *r->groups);
	if (!r->nodes || !r->results || !r->groups)
		return ASSAY_ENOMEM;
	wiring.spawn_ctx = r;
	if (task_cache_new(&r->tasks, o->workers ? o->workers : 1, &wiring) < 0)
		return ASSAY_ENOMEM;
	r->limited = malloc((p->n_groups ? p->n_groups : 1) * sizeof *r->limited);
	if (!r->limited)
		return ASSAY_ENOMEM;
	for (i = 0; i < p->n_groups; i++) {
		limiter_init(&r->groups[i], p->groups[i].max_parallel);
		if (p->groups[i].max_parallel)
			r->limited[r->n_limited++] = i;
	}
	r->roots = malloc((p->n_nodes ? p->n_nodes : 1) * sizeof *r->roots);
	if (!r->roots)
		return ASSAY_ENOMEM;
	for (i = 0; i < p->n_nodes; i++) {
		bool kept = !o->keep || o->keep[i];
		run_node *n = &r->nodes[i];

		r->results[i].kept = n->kept = kept;
		if (run_node_init(r, i) < 0)
			return ASSAY_ENOMEM;
		if (!kept)
			continue;
		r->kept++;
		n->sink = true;
		for (j = g->succ_at[i]; j < g->succ_at[i + 1] && n->sink; j++)
			n->sink = o->keep && !o->keep[g->succ[j]];
		r->sinks += n->sink;
		executions += r->nodes[i].n_execs;
		if (g->pred_at[i + 1] == g->pred_at[i])
			r->roots[r->n_roots++] = i;
	}
	/* A limit that can never bind costs two lock round trips per
	 * execution for nothing. */
	r->jobs_bound = executions > r->jobs.avail;
	return 0;
}

int run_go(run *r)
{
	size_t i, n_jobs = 0, n_empty = 0, *empty;
	pool_job **jobs;
	int rc;

	r->start = wall_now();
	r->wall_offset = r->start - (double)task_now_ns() / 1e9;
	rc = pool_new(&r->pool, r->o.workers ? r->o.workers : 1);
	if (rc < 0)
		return rc;
	/* The roots' executions go to the pool in one batch (one lock, one
	 * round of wake-ups), all listed before any starts: once one runs, a
	 * worker may launch other nodes itself. */
	for (i = 0; i < r->n_roots; i++)
		n_jobs += r->nodes[r->roots[i]].n_execs;
	jobs = malloc((n_jobs ? n_jobs : 1) * sizeof *jobs);
	empty = malloc((r->n_roots ? r->n_roots : 1) * sizeof *empty);
	if (!jobs || !empty) {
		free(jobs);
		free(empty);
		pool_free(r->pool);
		r->pool = NULL;
		return ASSAY_ENOMEM;
	}
	n_jobs = 0;
	for (i = 0; i < r->n_roots; i++) {
		run_node *n = &r->nodes[r->roots[i]];
		size_t j;

		if (n->n_execs == 0) {
			empty[n_empty++] = r->roots[i]; /* finishes at once: after the batch */
			continue;
		}
		r->results[r->roots[i]].ran = true;
		for (j = 0; j < n->n_execs; j++)
			jobs[n_jobs++] = &n->execs[j].job;
	}
	if (r->kept == 0)
		run_signal_done(r);
	for (i = pool_submit_many(r->pool, jobs, n_jobs); i < n_jobs; i++)
		exec_job(jobs[i]); /* a deque could not grow: run it here */
	for (i = 0; i < n_empty; i++)
		node_launch(r, empty[i], false);
	free(jobs);
	free(empty);
	pthread_mutex_lock(&r->lock);
	while (!r->done)
		pthread_cond_wait(&r->cond, &r->lock);
	pthread_mutex_unlock(&r->lock);
	/* Every node is final: what still runs on the pool are the tails of
	 * the jobs that finished them. */
	pool_free(r->pool);
	r->pool = NULL;
	return 0;
}

static void drain_limiter(limiter *l)
{
	run_exec *e, *next;

	pthread_mutex_lock(&l->lock);
	e = l->head;
	l->head = l->tail = NULL;
	pthread_mutex_unlock(&l->lock);
	for (; e; e = next) {
		next = e->next;
		exec_schedule(e, false); /* admission sees `stopping` */
	}
}

void run_stop(run *r, const char *reason)
{
	size_t i, j;

	pthread_mutex_lock(&r->lock);
	if (!r->stop_reason)
		r->stop_reason = strdup(reason);
	pthread_mutex_unlock(&r->lock);
	if (atomic_exchange(&r->stopping, true))
		return;
	for (i = 0; i < r->p->n_nodes; i++)
		for (j = 0; j < r->nodes[i].n_execs; j++) {
			run_exec *e = &r->nodes[i].execs[j];
			int expect = EXEC_RETRY_WAIT;
			bool retrying;
			assay_task *t;

			pthread_mutex_lock(&r->lock);
			retrying = atomic_compare_exchange_strong(&e->phase, &expect, EXEC_ACTIVE);
			pthread_mutex_unlock(&r->lock);
			if (retrying) {
				/* Won against the timer: it may still fire, and then
				 * finds the phase moved on. */
				reactor_timer_stop(r->re, e->retry_timer);
				exec_schedule(e, false);
			} else if ((t = atomic_load(&e->task))) {
				/* Tasks are recycled, never freed before the run:
				 * if this execution ended meanwhile, the cancel
				 * reaches a task that is unused (and ignores it)
				 * or that started since (and is to be cancelled
				 * too: `stopping` is set). */
				task_cancel(t);
			}
		}
	/* Whoever waits for a slot or a resource will not get one now. */
	drain_limiter(&r->jobs);
	for (i = 0; i < r->p->n_groups; i++)
		drain_limiter(&r->groups[i]);
	for (i = 0; i < r->n_resq; i++) {
		res_queue *q = r->resq[i];
		run_exec *e, *next;

		pthread_mutex_lock(&q->lock);
		e = q->head;
		q->head = q->tail = NULL;
		pthread_mutex_unlock(&q->lock);
		for (; e; e = next) {
			next = e->next;
			exec_schedule(e, false);
		}
	}
}

const run_result *run_results(const run *r)
{
	return r->results;
}

void run_times(const run *r, double *start, double *end, bool *stopped)
{
	*start = r->start;
	*end = r->end;
	*stopped = atomic_load(&((run *)r)->stopping);
}

run_counts run_get_counts(const run *r)
{
	run *m = (run *)r;
	run_counts c = {
		.total = r->kept,
		.done = atomic_load(&m->finished),
		.running = atomic_load(&m->running),
		.failed = atomic_load(&m->failed),
	};

	return c;
}

static void result_release(run_result *res)
{
	size_t i;

	free(res->message);
	free(res->details);
	free(res->skip_reason);
	task_metrics_free(res->metrics, res->n_metrics);
	for (i = 0; i < res->n_items; i++)
		result_release(&res->items[i]);
	free(res->items);
}

void run_free(run *r)
{
	size_t i, j;

	if (!r)
		return;
	if (r->pool)
		pool_free(r->pool);
	for (i = 0; r->nodes && i < r->p->n_nodes; i++) {
		run_node *n = &r->nodes[i];

		for (j = 0; n->execs && j < n->n_execs; j++)
			free(n->execs[j].grants);
		if (n->execs != &n->one)
			free(n->execs);
		free(n->limits);
		free(n->resq);
	}
	for (i = 0; r->results && i < r->p->n_nodes; i++)
		result_release(&r->results[i]);
	for (i = 0; r->groups && i < r->p->n_groups; i++)
		pthread_mutex_destroy(&r->groups[i].lock);
	for (i = 0; i < r->n_resq; i++) {
		pthread_mutex_destroy(&r->resq[i]->lock);
		free(r->resq[i]);
	}
	pthread_mutex_destroy(&r->jobs.lock);
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->progress_lock);
	bigarray_free(r->nodes, r->p->n_nodes, sizeof *r->nodes);
	task_cache_free(r->tasks);
	bigarray_free(r->results, r->p->n_nodes, sizeof *r->results);
	free(r->groups);
	free(r->limited);
	free(r->roots);
	free(r->resq);
	free(r->stop_reason);
	free(r);
}

assay_status run_worst(const run_result *res, size_t n)
{
	assay_status worst = ASSAY_OK;
	size_t i;

	for (i = 0; i < n; i++)
		if (res[i].kept)
			worst = worse(worst, effective(&res[i]));
	return worst;
}
