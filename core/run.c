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

#include "host.h"
#include "run.h"
#include "task.h"

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
	EXEC_ADMIT,       /* passing limits and resources, or queued */
	EXEC_RUNNING,     /* its task started */
	EXEC_RETRY_WAIT,  /* failed; a backoff timer will admit it again */
	EXEC_FINAL
};

/* One execution: a node's attempts, or one validation item's. */
struct run_exec {
	pool_job job;
	assay_task task;
	run_node *node;
	run_result *res;          /* where each attempt's outcome goes */
	run *run;
	unsigned stage;           /* admission steps passed */
	atomic_int phase;
	run_exec *next;           /* link in a limiter or resource queue */
	void **grants;            /* one per resource of the node */
	assay_timer *retry_timer;
};

struct run_node {
	size_t index;
	atomic_uint waiting;      /* predecessors not finished */
	atomic_size_t items_left; /* validations: items not finished */
	run_exec *execs;
	size_t n_execs;
	limiter **limits;         /* its groups' max_parallel, outermost first */
	size_t n_limits;
	res_queue **resq;         /* one per resource of the plan node */
	size_t n_res;
	atomic_bool pred_failed;  /* a predecessor ended CRITICAL/UNKNOWN/skipped so */
};

struct run {
	const plan *p;
	const graph *g;
	run_options o;
	reactor *re;
	pool *pool;
	run_node *nodes;
	void **blocks;            /* the execution arrays, handed out by exec_alloc */
	size_t n_blocks, cap_blocks;
	run_exec *block_next;     /* free room in the newest block */
	size_t block_left;
	run_result *results;
	limiter jobs;
	bool jobs_bound;          /* false when jobs >= every execution: no limiter */
	limiter *groups;          /* one per plan group (avail unused without max_parallel) */
	res_queue *resq;
	size_t n_resq;

	pthread_mutex_t lock;     /* stop_reason, done, and the wait below */
	pthread_cond_t cond;
	char *stop_reason;
	assay_status stop_cause;
	size_t kept;
	bool done;
	pthread_mutex_t progress_lock;
	double start, end;
	double wall_offset;       /* wall clock minus monotonic, in seconds */

	/* Every admission reads `stopping`; every finished node writes
	 * `finished`: apart, so that the writes do not evict the reads.  The
	 * progress counters are kept only when something shows them. */
	_Alignas(64) atomic_bool stopping;
	_Alignas(64) atomic_size_t finished;
	_Alignas(64) atomic_size_t running;
	atomic_size_t failed;
};

/* The next execution to run on this worker once the current one is
 * handed off: a finished node runs its first ready successor itself,
 * without a trip through the deques.  Per thread, so no sharing. */
static _Thread_local run_exec *tl_next;
static _Thread_local bool tl_in_loop;

static void exec_admit(run_exec *e);
static void node_finished(run *r, size_t v);

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
	while (e) {
		exec_admit(e);
		e = tl_next;
		tl_next = NULL;
	}
	tl_in_loop = !outer;
}

static void exec_schedule(run_exec *e, bool may_continue)
{
	if (may_continue && tl_in_loop && !tl_next) {
		tl_next = e;
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
	const plan_node *pn = &e->run->p->nodes[e->node->index];

	return q->type->try_acquire(&e->task, pn->resource_reqs[i], q->type->data,
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

/* A resource type refused the request outright: UNKNOWN, no retry. */
static void exec_fail(run_exec *e, const char *resource, int rc)
{
	char *msg = NULL;

	exec_leave(e);
	free(e->res->message);
	if (asprintf(&msg, "cannot acquire resource `%s`: %s", resource, host_strerror(rc)) < 0)
		msg = NULL;
	e->res->message = msg;
	e->res->status = ASSAY_UNKNOWN;
	e->res->attempts++;
	exec_final(e);
}

static void exec_admit(run_exec *e)
{
	run *r = e->run;
	run_node *n = e->node;
	size_t n_res = n->n_res;

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
	atomic_store(&e->phase, EXEC_RUNNING);
	/* run_stop() sets `stopping` then looks for RUNNING executions: one
	 * of the two sees the other (both sequentially consistent). */
	if (atomic_load(&r->stopping))
		task_cancel(&e->task);
	/* Counters for the progress line only: no ordering needed. */
	if (r->o.progress)
		atomic_fetch_add_explicit(&r->running, 1, memory_order_relaxed);
	task_start(&e->task);
}

/* --- the end of an execution --------------------------------------------- */

static void retry_timer(void *arg)
{
	run_exec *e = arg;
	int expect = EXEC_RETRY_WAIT;

	if (atomic_compare_exchange_strong(&e->phase, &expect, EXEC_ADMIT))
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

static void move_result(run_exec *e)
{
	assay_task *t = &e->task;
	run_result *res = e->res;

	free(res->message);
	free(res->details);
	task_metrics_free(res->metrics, res->n_metrics);
	/* Take the task's allocations: it is over, nobody else reads them. */
	res->status = t->status;
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
		res->start = e->run->wall_offset + (double)t->start_ns / 1e9;
	res->end = e->run->wall_offset + (double)t->end_ns / 1e9;
	res->duration = (double)(t->end_ns - t->start_ns) / 1e9;
	res->ran = true;
}

static void exec_done(assay_task *t, void *arg)
{
	run_exec *e = arg;
	run *r = e->run;
	const plan_node *pn = &r->p->nodes[e->node->index];
	int rc;

	if (r->o.progress)
		atomic_fetch_sub_explicit(&r->running, 1, memory_order_relaxed);
	exec_leave(e);
	move_result(e);
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
	exec_final(e);
}

static void summarise_items(run *r, size_t v);

static void exec_final(run_exec *e)
{
	run_node *n = e->node;
	run *r = e->run;

	atomic_store(&e->phase, EXEC_FINAL);
	if (r->p->nodes[n->index].kind == ASSAY_KIND_VALIDATION) {
		if (atomic_fetch_sub(&n->items_left, 1) != 1)
			return;
		summarise_items(r, n->index);
	}
	node_finished(r, n->index);
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
		if (pn->run_if != RUN_IF_FAILURE)
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
			pthread_mutex_lock(&r->progress_lock);
			r->o.progress(r, r->o.progress_arg);
			pthread_mutex_unlock(&r->progress_lock);
		}
		bool failed = failed_status(effective(res));

		for (k = g->succ_at[v]; k < g->succ_at[v + 1]; k++) {
			size_t s = g->succ[k];
			assay_status cause = ASSAY_UNKNOWN;
			char *why;

			if (!r->results[s].kept)
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
		if (atomic_fetch_add(&r->finished, 1) + 1 == r->kept)
			run_signal_done(r);
		if (depth == 0)
			break;
		v = stack[--depth];
	}
	free(stack);
}

/* --- the run ------------------------------------------------------------------ */

static void exec_init(run *r, run_exec *e, run_node *n, run_result *res,
		      const char *item, int64_t timeout_ms)
{
	const plan_node *pn = &r->p->nodes[n->index];

	e->job.fn = exec_job;
	e->node = n;
	e->res = res;
	e->run = r;
	atomic_init(&e->phase, EXEC_ADMIT);
	task_init(&e->task, pn, item, 1, r->re, timeout_ms);
	e->task.done = exec_done;
	e->task.done_arg = e;
	e->task.secrets = (const char *const *)r->p->values.secrets;
	e->task.n_secrets = r->p->values.n_secrets;
	e->task.verbosity = r->o.verbosity;
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

/* Executions come from blocks of about 64 KiB: a few allocations for a
 * million nodes, each small enough for malloc to keep and reuse rather
 * than map and unmap (a fresh mapping faults in every page again).  A
 * node's executions are contiguous; a large validation gets its own. */
#define EXEC_BLOCK (65536 / sizeof(run_exec))

static run_exec *exec_alloc(run *r, size_t n)
{
	run_exec *block;
	size_t size = n > EXEC_BLOCK ? n : EXEC_BLOCK;

	if (n <= r->block_left) {
		block = r->block_next;
		r->block_next += n;
		r->block_left -= n;
		return block;
	}
	if (r->n_blocks == r->cap_blocks) {
		size_t cap = r->cap_blocks ? r->cap_blocks * 2 : 16;
		void **grown = realloc(r->blocks, cap * sizeof *grown);

		if (!grown)
			return NULL;
		r->blocks = grown;
		r->cap_blocks = cap;
	}
	if (!(block = calloc(size, sizeof *block)))
		return NULL;
	r->blocks[r->n_blocks++] = block;
	if (size > n) {
		r->block_next = block + n;
		r->block_left = size - n;
	}
	return block;
}

static int run_node_init(run *r, size_t v)
{
	const plan *p = r->p;
	const plan_node *pn = &p->nodes[v];
	run_node *n = &r->nodes[v];
	run_result *res = &r->results[v];
	int64_t timeout = pn->timeout_ms ? pn->timeout_ms : p->timeout_ms;
	size_t i, k;

	n->index = v;
	n->n_res = pn->n_resources;
	atomic_init(&n->waiting, r->g->pred_at[v + 1] - r->g->pred_at[v]);
	atomic_init(&n->pred_failed, false);
	/* Groups were declared outer before inner: a consistent order, so
	 * limits taken one after another cannot deadlock.  Most nodes have
	 * no limit and no resource: nothing is allocated for them. */
	for (i = 0; i < p->n_groups; i++)
		if (p->groups[i].max_parallel && in_group(pn->id, p->groups[i].name)) {
			if (!n->limits && !(n->limits = calloc(p->n_groups, sizeof *n->limits)))
				return ASSAY_ENOMEM;
			n->limits[n->n_limits++] = &r->groups[i];
		}
	if (pn->n_resources && !(n->resq = calloc(pn->n_resources, sizeof *n->resq)))
		return ASSAY_ENOMEM;
	for (i = 0; i < pn->n_resources; i++)
		for (k = 0; k < r->n_resq; k++)
			if (r->resq[k].type == pn->resource_types[i])
				n->resq[i] = &r->resq[k];
	n->n_execs = pn->kind == ASSAY_KIND_VALIDATION ? pn->n_items : 1;
	if (n->n_execs && !(n->execs = exec_alloc(r, n->n_execs)))
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
			  res->items ? pn->items[i] : NULL, timeout);
		e->task.spawn = run_spawn;
		e->task.spawn_ctx = r;
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
	size_t i, j, k, executions = 0;

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
	r->nodes = calloc(p->n_nodes ? p->n_nodes : 1, sizeof *r->nodes);
	r->results = calloc(p->n_nodes ? p->n_nodes : 1, sizeof *r->results);
	r->groups = calloc(p->n_groups ? p->n_groups : 1, sizeof *r->groups);
	if (!r->nodes || !r->results || !r->groups)
		return ASSAY_ENOMEM;
	for (i = 0; i < p->n_groups; i++)
		limiter_init(&r->groups[i], p->groups[i].max_parallel);
	/* One queue per resource type any node uses. */
	for (i = 0; i < p->n_nodes; i++)
		r->n_resq += p->nodes[i].n_resources;
	r->resq = calloc(r->n_resq ? r->n_resq : 1, sizeof *r->resq);
	if (!r->resq)
		return ASSAY_ENOMEM;
	r->n_resq = 0;
	for (i = 0; i < p->n_nodes; i++)
		for (j = 0; j < p->nodes[i].n_resources; j++) {
			for (k = 0; k < r->n_resq && r->resq[k].type != p->nodes[i].resource_types[j]; k++)
				;
			if (k == r->n_resq) {
				pthread_mutex_init(&r->resq[k].lock, NULL);
				r->resq[k].type = p->nodes[i].resource_types[j];
				r->resq[k].run = r;
				r->n_resq++;
			}
		}
	for (i = 0; i < p->n_nodes; i++) {
		r->results[i].kept = !o->keep || o->keep[i];
		r->kept += r->results[i].kept;
		if (run_node_init(r, i) < 0)
			return ASSAY_ENOMEM;
		if (r->results[i].kept)
			executions += r->nodes[i].n_execs;
	}
	/* A limit that can never bind costs two lock round trips per
	 * execution for nothing. */
	r->jobs_bound = executions > r->jobs.avail;
	return 0;
}

int run_go(run *r)
{
	size_t i, n_roots = 0, n_empty = 0, *empty;
	pool_job **roots;
	int rc;

	r->start = wall_now();
	r->wall_offset = r->start - (double)task_now_ns() / 1e9;
	rc = pool_new(&r->pool, r->o.workers ? r->o.workers : 1);
	if (rc < 0)
		return rc;
	/* The roots are picked before any starts: once one runs, a worker
	 * may bring other nodes' counts to 0 and launch them itself.  Their
	 * executions go to the pool in one batch: one lock, one wake-up. */
	for (i = 0; i < r->p->n_nodes; i++)
		if (r->results[i].kept && atomic_load(&r->nodes[i].waiting) == 0)
			n_roots += r->nodes[i].n_execs ? r->nodes[i].n_execs : 1;
	roots = malloc((n_roots ? n_roots : 1) * sizeof *roots);
	empty = malloc((r->p->n_nodes ? r->p->n_nodes : 1) * sizeof *empty);
	if (!roots || !empty) {
		free(roots);
		free(empty);
		pool_free(r->pool);
		r->pool = NULL;
		return ASSAY_ENOMEM;
	}
	n_roots = 0;
	for (i = 0; i < r->p->n_nodes; i++) {
		run_node *n = &r->nodes[i];
		size_t j;

		if (!r->results[i].kept || atomic_load(&n->waiting) != 0)
			continue;
		if (n->n_execs == 0) {
			empty[n_empty++] = i; /* finishes at once: after the batch */
			continue;
		}
		r->results[i].ran = true;
		for (j = 0; j < n->n_execs; j++)
			roots[n_roots++] = &n->execs[j].job;
	}
	if (r->kept == 0)
		run_signal_done(r);
	for (i = pool_submit_many(r->pool, roots, n_roots); i < n_roots; i++)
		exec_job(roots[i]); /* a deque could not grow: run it here */
	for (i = 0; i < n_empty; i++)
		node_launch(r, empty[i], false);
	free(roots);
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

			if (atomic_load(&e->phase) == EXEC_RUNNING) {
				task_cancel(&e->task);
				continue;
			}
			pthread_mutex_lock(&r->lock);
			retrying = atomic_compare_exchange_strong(&e->phase, &expect, EXEC_ADMIT);
			pthread_mutex_unlock(&r->lock);
			if (retrying) {
				/* Won against the timer: it may still fire, and then
				 * finds the phase moved on. */
				reactor_timer_stop(r->re, e->retry_timer);
				exec_schedule(e, false);
			}
		}
	/* Whoever waits for a slot or a resource will not get one now. */
	drain_limiter(&r->jobs);
	for (i = 0; i < r->p->n_groups; i++)
		drain_limiter(&r->groups[i]);
	for (i = 0; i < r->n_resq; i++) {
		res_queue *q = &r->resq[i];
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

		for (j = 0; n->execs && j < n->n_execs; j++) {
			if (n->execs[j].task.node)
				task_release(&n->execs[j].task);
			free(n->execs[j].grants);
		}
		free(n->limits);
		free(n->resq);
	}
	for (i = 0; r->results && i < r->p->n_nodes; i++)
		result_release(&r->results[i]);
	for (i = 0; r->groups && i < r->p->n_groups; i++)
		pthread_mutex_destroy(&r->groups[i].lock);
	for (i = 0; i < r->n_resq; i++)
		pthread_mutex_destroy(&r->resq[i].lock);
	pthread_mutex_destroy(&r->jobs.lock);
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->progress_lock);
	free(r->nodes);
	for (i = 0; i < r->n_blocks; i++)
		free(r->blocks[i]);
	free(r->blocks);
	free(r->results);
	free(r->groups);
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
