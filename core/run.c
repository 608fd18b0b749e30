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
#include "diag.h"
#include "run.h"
#include "status.h"
#include "suggest.h"
#include "task.h"
#include "recycler.h"

typedef struct run_exec run_exec;
typedef struct run_node run_node;
typedef struct run_launch run_launch;

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

/* One execution: a node's attempts, or one validation item's.  The task
 * that runs it is lent by the run's recycler only from the admission step
 * that first needs it to the end. */
struct run_exec {
	pool_job job;
	run_launch *launch;
	run *run;
	run_result *res;          /* where each attempt's outcome goes */
	const char *item;         /* validations: its item; else NULL */
	_Atomic(assay_task *) task;
	run_exec *next;           /* link in a limiter or resource queue */
	void **grants;            /* one per resource of the node, or NULL */
	assay_timer *retry_timer;
	run_history *history;     /* once retried: its attempts so far */
	unsigned stage;           /* admission steps passed */
	atomic_int phase;
};

/* A node from the moment it is ready until it is final: its executions
 * and what they share.  A node of one execution gets one lent by
 * r->launches, so that a run holds only as many as are in flight; their
 * `recycled`, `n_execs` and execs[0]'s job.fn, launch and run are set
 * once, when the recycler makes it, so that run_stop() may read them
 * through a stale pointer.  A validation's is allocated for it (one
 * execution per item) and freed with the run. */
struct run_launch {
	size_t index;             /* the node's */
	limiter **limits;         /* its groups' max_parallel, outermost first, or NULL */
	res_queue **resq;         /* one per resource of the plan node, or NULL */
	unsigned n_limits, n_res;
	atomic_size_t items_left; /* a validation's executions not final yet */
	bool recycled;
	size_t n_execs;
	run_launch *next_alloc;   /* the run's list of allocated ones */
	run_exec execs[];
};

/* Per node, only what its predecessors update: the array is zeroed memory
 * that nothing touches before the node's first predecessor finishes (a
 * million-node run sets up in no time), and its lines are few. */
struct run_node {
	atomic_uint preds_done;   /* predecessors final: ready when all are */
	atomic_bool pred_failed;  /* one ended CRITICAL/UNKNOWN/skipped so */
	_Atomic(run_launch *) launch; /* from its launch until it is final */
};

struct run {
	const plan *p;
	const graph *g;
	run_options o;
	reactor *re;
	pool *pool;
	run_node *nodes;
	recycler *tasks;
	recycler *launches;       /* for nodes of one execution */
	recycler *root_jobs;
	run_launch *allocated;    /* the others, under `lock` */
	run_result *results;
	size_t *roots;            /* the kept nodes without predecessors */
	size_t n_roots;
	pool_job prefault;        /* see prefault_job_fn */
	limiter jobs;
	bool jobs_bound;          /* false when jobs >= every execution: no limiter */
	limiter *groups;          /* one per plan group (avail unused without max_parallel) */
	size_t *limited;          /* the groups with a max_parallel, in plan order */
	size_t n_limited;
	pthread_mutex_t resq_lock; /* the list below grows as nodes launch */
	res_queue **resq;         /* one per resource type a launched node used */
	size_t n_resq;

	pthread_mutex_t lock;     /* stop_reason, done, histories, and the wait below */
	pthread_cond_t cond;
	char *stop_reason;
	run_history *histories;
	assay_status stop_cause;
	size_t kept;
	size_t sinks;             /* kept nodes without a kept successor */
	bool done;
	double start, end;
	double wall_offset;       /* wall clock minus monotonic, in seconds */

	/* Every admission reads `stopping`; every finished sink writes
	 * `sinks_done`: apart, so that the writes do not evict the reads. */
	_Alignas(64) atomic_bool stopping;
	_Alignas(64) atomic_size_t sinks_done;
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

/* This thread's index in the run's pool, for the recyclers' lists: set by
 * the jobs as they start; -1 (the shared list) on any other thread, and
 * on a worker before its first job -- never another pool's index, since
 * workers live and die with their run's pool. */
static _Thread_local int tl_worker = -1;

static void exec_admit(run_exec *e);
static void node_finished(run *r, size_t v);

/* Callers test r->o.on_event first: a run nobody watches pays a branch. */
static void run_publish(run *r, run_event_kind kind, size_t v, int64_t at_ns,
			const run_result *res)
{
	run_event ev = { kind, v, at_ns ? at_ns : task_now_ns(), res };

	r->o.on_event(&ev, r->o.event_arg);
}

static const plan_node *exec_plan_node(const run_exec *e)
{
	return &e->run->p->nodes[e->launch->index];
}

static bool is_kept(const run *r, size_t v)
{
	return !r->o.keep || r->o.keep[v];
}

static size_t n_preds(const run *r, size_t v)
{
	return r->g->pred_at[v + 1] - r->g->pred_at[v];
}

/* The execution's task (the one it has, or one from the recycler); NULL when
 * out of memory. */
static assay_task *exec_task(run_exec *e)
{
	assay_task *t = atomic_load_explicit(&e->task, memory_order_relaxed);
	run *r = e->run;
	const plan_node *pn;

	if (t)
		return t;
	if (!(t = recycler_get(r->tasks, tl_worker)))
		return NULL;
	pn = exec_plan_node(e);
	task_begin(t, pn, e->item, pn->timeout_ms ? pn->timeout_ms : r->p->timeout_ms, e);
	/* Release: run_stop() may cancel it through this pointer. */
	atomic_store_explicit(&e->task, t, memory_order_release);
	return t;
}

/* The execution is final: its task goes back to the recycler. */
static void exec_return_task(run_exec *e)
{
	assay_task *t = atomic_load_explicit(&e->task, memory_order_relaxed);

	if (!t)
		return;
	atomic_store_explicit(&e->task, NULL, memory_order_relaxed);
	task_end(t);
	recycler_put(e->run->tasks, tl_worker, t);
}

static double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A skipped node counts as the failure that caused it. */
static assay_status effective(const run_result *res)
{
	return res->status == ASSAY_SKIPPED ? res->cause : res->status;
}

/* Run e here, then the continuations it leaves in tl_next. */
static void exec_run(run_exec *e)
{
	bool outer = !tl_in_loop;

	tl_worker = pool_worker_index(e->run->pool);
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

static void exec_job(pool_job *job)
{
	exec_run((run_exec *)job);
}

/* Run e on this thread or hand it to the pool.  A worker that finished
 * a node continues with e itself (may_continue; see tl_next).  So does
 * the reactor thread, when a plugin completed there, but only for a type
 * that just starts waiting work (ASSAY_TYPE_QUICK_RUN): it starts sooner
 * than a pool thread could be woken for it, while anything else would
 * hold up every timer and socket.  Any other thread (a plugin's own) hands
 * e to the pool. */
static void exec_schedule(run_exec *e, bool may_continue)
{
	if (may_continue && !tl_next) {
		bool on_reactor = reactor_is_current(e->run->re);
		bool quick = on_reactor && (exec_plan_node(e)->type->flags & ASSAY_TYPE_QUICK_RUN);

		if (tl_in_loop && (!on_reactor || quick)) {
			tl_next = e;
			/* Only after its only predecessor: another one may have
			 * read the clock later than this one, yet finished first. */
			tl_next_start_ns = n_preds(e->run, e->launch->index) == 1 ? tl_end_ns : 0;
			return;
		}
		if (!tl_in_loop && quick) {
			exec_run(e);
			return;
		}
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

/* A leaving execution hands its slot straight to the first waiter, which
 * may go on on this thread (see exec_schedule): with `jobs` full, that
 * is how the next command starts the moment a child exits. */
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
		exec_schedule(e, true);
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
		i = e->stage - e->launch->n_limits;
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
	run_launch *n = e->launch;
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

static void exec_record(run_exec *e, const assay_task *t);

/* The execution cannot start: UNKNOWN with msg, no retry. */
static void exec_fail_message(run_exec *e, const char *msg)
{
	exec_leave(e);
	free(e->res->message);
	e->res->message = msg ? strdup(msg) : NULL;
	e->res->status = ASSAY_UNKNOWN;
	e->res->attempts++;
	if (e->history)
		exec_record(e, NULL);
	exec_final(e);
}

/* A resource type refused the request outright. */
static void exec_fail(run_exec *e, const char *resource, int rc)
{
	char *msg = NULL;

	if (asprintf(&msg, "cannot acquire resource `%s`: %s", resource, status_strerror(rc)) < 0)
		msg = NULL;
	exec_fail_message(e, msg ? msg : "cannot acquire a resource");
	free(msg);
}

static void exec_admit(run_exec *e)
{
	run *r = e->run;
	run_launch *n = e->launch;
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
	 * hold.  Should this load miss it, run_stop() may miss the task too;
	 * then the run goes on as if it had started a moment earlier, and
	 * task_start() looks at `stopping` again before the task waits. */
	if (atomic_load_explicit(&r->stopping, memory_order_relaxed))
		task_cancel(t);
	start_ns = tl_start_ns;
	tl_start_ns = 0;
	if (r->o.on_event)
		run_publish(r, RUN_EVENT_START, n->index, start_ns, NULL);
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
	double wall_offset = e->run->wall_offset;

	if (res->attempts) { /* an earlier attempt's, replaced */
		free(res->message);
		free(res->details);
		task_metrics_free(res->metrics, res->n_metrics);
	}
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
	res->end = wall_offset + (double)t->end_ns * 1e-9;
	/* A retried execution took from its first start to its last end:
	 * the waits between attempts are time it cost. */
	if (t->attempt == 1 || res->start == 0) {
		res->start = wall_offset + (double)t->start_ns * 1e-9;
		res->duration = (double)(t->end_ns - t->start_ns) * 1e-9;
	} else {
		res->duration = res->end - res->start;
	}
	res->ran = true;
}

/* Append the attempt that just ended (t; NULL for one that could not
 * start) to e's history, made on its first retry. */
static void exec_record(run_exec *e, const assay_task *t)
{
	run *r = e->run;
	run_history *h = e->history;
	run_attempt *a;

	if (!h) {
		if (!(h = calloc(1, sizeof *h)))
			return; /* the report lacks the details, not the result */
		h->node = e->launch->index;
		h->item = e->item ? (size_t)(e - e->launch->execs) : SIZE_MAX;
		pthread_mutex_lock(&r->lock);
		h->next = r->histories;
		r->histories = h;
		pthread_mutex_unlock(&r->lock);
		e->history = h;
	}
	if (!(a = realloc(h->attempts, (h->n + 1) * sizeof *a)))
		return;
	h->attempts = a;
	a = &a[h->n++];
	memset(a, 0, sizeof *a);
	if (t) {
		a->start = r->wall_offset + (double)t->start_ns * 1e-9;
		a->end = r->wall_offset + (double)t->end_ns * 1e-9;
		a->duration = (double)(t->end_ns - t->start_ns) * 1e-9;
	}
	a->status = e->res->status;
	a->message = strdup(e->res->message ? e->res->message : "");
}

/* A trial that finished without its objective metric cannot be ranked,
 * and a misspelt metric must not pass for success: UNKNOWN, saying what
 * was reported instead.  The trial's own message goes first in its
 * details.  True when it was missing. */
static bool objective_missing(const run *r, run_result *res, const char *metric)
{
	const char **names;
	const char *hint = NULL;
	char *msg = NULL, *details = NULL, *scrubbed;
	size_t i;

	if (res->status != ASSAY_OK && res->status != ASSAY_WARNING)
		return false;
	for (i = 0; i < res->n_metrics; i++)
		if (strcmp(res->metrics[i].name, metric) == 0)
			return false;
	if ((names = malloc((res->n_metrics + 1) * sizeof *names))) {
		for (i = 0; i < res->n_metrics; i++)
			names[i] = res->metrics[i].name;
		hint = suggest_word(metric, names, res->n_metrics);
	}
	if (asprintf(&msg, "no `%s` reported%s%s%s", metric, hint ? " (did you mean `" : "",
		     hint ? hint : "", hint ? "`?)" : res->n_metrics ? "" : " (no metrics at all)") < 0)
		msg = NULL;
	free(names);
	if (res->message && *res->message &&
	    asprintf(&details, "%s%s%s", res->message, res->details ? "\n" : "",
		     res->details ? res->details : "") >= 0) {
		free(res->details);
		res->details = details;
	}
	/* The metric's name is the config's, which may hold a secret. */
	scrubbed = msg ? diag_scrub(msg, (const char *const *)r->p->values.secrets,
				    r->p->values.n_secrets) : NULL;
	free(msg);
	free(res->message);
	res->message = scrubbed ? scrubbed : strdup("the objective metric was not reported");
	res->status = ASSAY_UNKNOWN;
	return true;
}

static void exec_done(assay_task *t, void *arg)
{
	run_exec *e = arg;
	run *r = e->run;
	const plan_node *pn = exec_plan_node(e);
	bool no_retry = t->no_retry;
	int rc;

	exec_leave(e);
	move_result(e, t);
	/* The same command would report the same: no retry. */
	if (pn->kind == ASSAY_KIND_TRIAL && pn->objective_metric &&
	    objective_missing(r, e->res, pn->objective_metric))
		no_retry = true;
	if (status_failed(e->res->status) && t->attempt <= pn->retries && !no_retry &&
	    !atomic_load(&r->stopping)) {
		unsigned seed = (unsigned)(uintptr_t)e ^ (unsigned)t->end_ns;
		uint64_t delay = backoff_ms(pn, t->attempt, &seed);

		if ((uint64_t)t->retry_after_ms > delay)
			delay = (uint64_t)t->retry_after_ms; /* the server asked for it */

		task_log(t, ASSAY_LOG_INFO, "attempt %u failed; retrying in %.3gs",
			       t->attempt, (double)delay / 1000);
		exec_record(e, t);
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
	if (e->history)
		exec_record(e, t);
	tl_end_ns = t->end_ns;
	exec_final(e);
	tl_end_ns = 0;
}

static void summarise_items(run *r, size_t v);

/* The node is final: its launch is done with (but for a stale pointer in
 * run_stop(), which reads only what stays valid). */
static void launch_end(run *r, run_launch *l)
{
	size_t i;

	atomic_store_explicit(&r->nodes[l->index].launch, NULL, memory_order_relaxed);
	if (l->n_res) {
		for (i = 0; i < l->n_execs; i++) {
			free(l->execs[i].grants);
			l->execs[i].grants = NULL;
		}
		free(l->resq);
		l->resq = NULL;
		l->n_res = 0;
	}
	if (l->limits) {
		free(l->limits);
		l->limits = NULL;
		l->n_limits = 0;
	}
	if (l->recycled)
		recycler_put(r->launches, tl_worker, l);
}

static void exec_final(run_exec *e)
{
	run_launch *l = e->launch;
	run *r = e->run;
	size_t v = l->index;

	e->history = NULL; /* the run keeps it; the exec may be recycled */
	exec_return_task(e);
	if (!l->recycled) { /* a validation: final with its last item */
		if (r->o.on_event)
			run_publish(r, RUN_EVENT_ITEM, v, 0, e->res);
		if (atomic_fetch_sub(&l->items_left, 1) != 1)
			return;
		summarise_items(r, v);
	}
	launch_end(r, l);
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
		worst = status_worse(worst, s);
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

/* Whether a gate's result keeps the other nodes from running: anything
 * but OK, or but OK and WARNING for `gate = "warning"`. */
static bool gate_refuses(const run *r, size_t u)
{
	assay_status st = r->results[u].status;

	return st != ASSAY_OK && !(st == ASSAY_WARNING && r->p->nodes[u].gate_warning);
}

/* Whether a successor may have to be skipped for v's result: v failed, was
 * skipped (it did not succeed, whyever), or is a gate that refuses. */
static bool blocks_successors(const run *r, size_t v)
{
	const run_result *res = &r->results[v];

	return res->status == ASSAY_SKIPPED || status_failed(res->status) ||
	       (r->p->nodes[v].gate && gate_refuses(r, v));
}

/* "gate `g` is CRITICAL", "dependency `d` was skipped: no GPU here" (the
 * reason of a node skipped by its `skip`: what the operator should read). */
static char *blocked_by(const run *r, size_t u, const char *what)
{
	const run_result *pr = &r->results[u];
	const plan_node *pu = &r->p->nodes[u];
	char *why;
	int rc;

	if (pr->status != ASSAY_SKIPPED)
		rc = asprintf(&why, "%s `%s` is %s", what, pu->id, status_name(pr->status));
	else if (pu->skip)
		rc = asprintf(&why, "%s `%s` was skipped: %s", what, pu->id, pu->skip);
	else
		rc = asprintf(&why, "%s `%s` was skipped", what, pu->id);
	return rc < 0 ? NULL : why;
}

/* Why node s will not run, given its finished predecessors, or NULL. */
static char *skip_reason(run *r, size_t s, assay_status *cause)
{
	const graph *g = r->g;
	const plan_node *pn = &r->p->nodes[s];
	size_t k;
	bool any_failed = false;
	char *why = NULL;

	/* The operator's word comes first: it holds whatever happened. */
	if (pn->skip) {
		*cause = ASSAY_OK;
		return strdup(pn->skip);
	}
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
	/* A gate that refuses skips everything else, whatever its run_if. */
	for (k = g->pred_at[s]; k < g->pred_at[s + 1]; k++) {
		size_t u = g->pred[k];

		if (r->p->nodes[u].gate && !pn->gate && gate_refuses(r, u)) {
			*cause = effective(&r->results[u]);
			why = blocked_by(r, u, "gate");
			return why ? why : strdup("a gate did not pass");
		}
	}
	/* "success" is every dependency's: one that was skipped, even by
	 * the operator, did not succeed. */
	for (k = g->pred_at[s]; k < g->pred_at[s + 1]; k++) {
		size_t u = g->pred[k];
		const run_result *pr = &r->results[u];

		any_failed |= status_failed(effective(pr));
		if (pn->run_if == RUN_IF_SUCCESS &&
		    (pr->status == ASSAY_SKIPPED || status_failed(pr->status))) {
			*cause = effective(pr);
			why = blocked_by(r, u, "dependency");
			return why ? why : strdup("a dependency failed");
		}
	}
	if (pn->run_if == RUN_IF_FAILURE && !any_failed) {
		*cause = ASSAY_OK; /* nothing failed: the skip is no failure */
		return strdup("run_if = \"failure\", and no dependency failed");
	}
	return NULL;
}

static void exec_setup(run *r, run_exec *e, run_launch *l)
{
	e->job.fn = exec_job;
	e->launch = l;
	e->run = r;
	e->history = NULL;
	atomic_init(&e->task, NULL);
	atomic_init(&e->phase, EXEC_ACTIVE);
}

/* The recycler's constructor of launches of one execution. */
static void launch_make(void *obj, void *arg)
{
	run_launch *l = obj;

	l->recycled = true;
	l->n_execs = 1;
	exec_setup(arg, &l->execs[0], l);
}

static bool in_group(const char *id, const char *group)
{
	size_t len = strlen(group);

	return strncmp(id, group, len) == 0 && (id[len] == '.' || id[len] == '[');
}

static res_queue *res_queue_for(run *r, const assay_resource_type *type);

/* Node v's launch, set up; NULL when out of memory. */
static run_launch *launch_new(run *r, size_t v)
{
	const plan_node *pn = &r->p->nodes[v];
	run_result *res = &r->results[v];
	run_launch *l;
	size_t i, k;

	if (pn->kind != ASSAY_KIND_VALIDATION) {
		if (!(l = recycler_get(r->launches, tl_worker)))
			return NULL;
		l->execs[0].res = res;
		l->execs[0].stage = 0;
	} else {
		if (!(l = calloc(1, sizeof *l + pn->n_items * sizeof *l->execs)))
			return NULL;
		pthread_mutex_lock(&r->lock);
		l->next_alloc = r->allocated;
		r->allocated = l;
		pthread_mutex_unlock(&r->lock);
		if (!(res->items = calloc(pn->n_items, sizeof *res->items)))
			return NULL;
		res->n_items = pn->n_items;
		l->n_execs = pn->n_items;
		atomic_store_explicit(&l->items_left, l->n_execs, memory_order_relaxed);
		for (i = 0; i < pn->n_items; i++) {
			exec_setup(r, &l->execs[i], l);
			l->execs[i].res = &res->items[i];
			l->execs[i].item = pn->items[i];
			res->items[i].kept = true;
		}
	}
	l->index = v;
	/* Groups were declared outer before inner: a consistent order, so
	 * limits taken one after another cannot deadlock.  Most nodes have
	 * no limit and no resource: nothing is allocated for them. */
	for (k = 0; k < r->n_limited; k++) {
		i = r->limited[k];
		if (!in_group(pn->id, r->p->groups[i].name))
			continue;
		if (!l->limits && !(l->limits = calloc(r->n_limited, sizeof *l->limits)))
			goto nomem;
		l->limits[l->n_limits++] = &r->groups[i];
	}
	if (pn->n_resources) {
		l->n_res = (unsigned)pn->n_resources;
		if (!(l->resq = calloc(pn->n_resources, sizeof *l->resq)))
			goto nomem;
		for (i = 0; i < pn->n_resources; i++)
			if (!(l->resq[i] = res_queue_for(r, pn->resource_types[i])))
				goto nomem;
		for (i = 0; i < l->n_execs; i++)
			if (!(l->execs[i].grants = calloc(pn->n_resources, sizeof(void *))))
				goto nomem;
	}
	return l;
nomem:
	launch_end(r, l);
	return NULL;
}

/* Node v will run: its launch, published for run_stop(); or NULL when
 * the node is settled already (a validation without items is OK; no
 * memory, UNKNOWN), and the caller is to call node_finished(). */
static run_launch *node_start(run *r, size_t v)
{
	const plan_node *pn = &r->p->nodes[v];
	run_result *res = &r->results[v];
	run_launch *l;

	res->kept = true;
	if (pn->skip) { /* a root: the others meet their `skip` in skip_reason() */
		res->status = ASSAY_SKIPPED;
		res->cause = ASSAY_OK;
		res->skip_reason = strdup(pn->skip);
		return NULL;
	}
	res->ran = true;
	if (pn->kind == ASSAY_KIND_VALIDATION && pn->n_items == 0) {
		res->status = ASSAY_OK;
		res->message = strdup("no items");
		return NULL;
	}
	if (!(l = launch_new(r, v))) {
		free(res->items);
		res->items = NULL;
		res->n_items = 0;
		res->status = ASSAY_UNKNOWN;
		res->message = strdup("out of memory");
		return NULL;
	}
	atomic_store_explicit(&r->nodes[v].launch, l, memory_order_release);
	return l;
}

/* Launch node v: its first execution is returned for the caller to run,
 * the others go to the pool; NULL when the node settled at once (and is
 * finished). */
static run_exec *node_launch_first(run *r, size_t v)
{
	run_launch *l = node_start(r, v);
	size_t i, n;

	if (!l) {
		node_finished(r, v);
		return NULL;
	}
	for (i = 1, n = l->n_execs; i < n; i++)
		exec_schedule(&l->execs[i], false);
	return &l->execs[0];
}

static void node_launch(run *r, size_t v, bool may_continue)
{
	run_exec *e = node_launch_first(r, v);

	if (e)
		exec_schedule(e, may_continue);
}

/* A range of the roots, launched by the worker that takes it: it hands
 * halves to the pool (for idle workers to steal) until one root is left,
 * which it runs.  So a million roots are launched in parallel, as the
 * workers get to them, not one by one before anything starts. */
typedef struct roots_job {
	pool_job job;
	run *run;
	size_t from, to;          /* indexes into run->roots */
} roots_job;

static void roots_job_fn(pool_job *job)
{
	roots_job *j = (roots_job *)job;
	run *r = j->run;
	size_t from = j->from, to = j->to;
	int w = tl_worker = pool_worker_index(r->pool);
	run_exec *e;

	while (to - from > 1) {
		roots_job *half = recycler_get(r->root_jobs, w);
		size_t mid = from + (to - from) / 2;

		if (!half)
			break; /* no memory: launch the rest here */
		half->job.fn = roots_job_fn;
		half->run = r;
		half->from = mid;
		half->to = to;
		if (pool_submit(r->pool, &half->job) < 0) {
			recycler_put(r->root_jobs, w, half);
			break;
		}
		to = mid;
	}
	recycler_put(r->root_jobs, w, j);
	for (; from < to; from++)
		if ((e = node_launch_first(r, r->roots[from])))
			exec_run(e);
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

		if (res->ran && status_failed(res->status)) {
			if (r->o.fail_fast) {
				char reason[512];

				snprintf(reason, sizeof reason, "fail_fast: `%s` is %s",
					 r->p->nodes[v].id, status_name(res->status));
				pthread_mutex_lock(&r->lock);
				if (!r->stop_reason)
					r->stop_cause = res->status;
				pthread_mutex_unlock(&r->lock);
				run_stop(r, reason);
			}
		}
		if (r->o.on_event)
			run_publish(r, RUN_EVENT_FINAL, v, 0, res);
		bool failed = blocks_successors(r, v), sink = true;

		for (k = g->succ_at[v]; k < g->succ_at[v + 1]; k++) {
			size_t s = g->succ[k];
			assay_status cause = ASSAY_UNKNOWN;
			char *why;

			if (!is_kept(r, s))
				continue;
			sink = false;
			/* Before the count rises: whoever completes it sees it. */
			if (failed)
				atomic_store_explicit(&r->nodes[s].pred_failed, true, memory_order_relaxed);
			if (atomic_fetch_add(&r->nodes[s].preds_done, 1) + 1 != n_preds(r, s))
				continue;
			why = skip_reason(r, s, &cause);
			if (!why) {
				node_launch(r, s, !continued);
				continued = true;
				continue;
			}
			r->results[s].kept = true;
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
		if (sink && atomic_fetch_add(&r->sinks_done, 1) + 1 == r->sinks)
			run_signal_done(r);
		if (depth == 0)
			break;
		v = stack[--depth];
	}
	free(stack);
}

/* --- the run ------------------------------------------------------------------ */

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

/* The recycler's constructor and destructor of tasks, wired to run arg. */
static void task_make(void *obj, void *arg)
{
	run *r = arg;
	assay_task *t = obj;

	task_create(t);
	t->reactor = r->re;
	t->done = exec_done;
	t->spawn = run_spawn;
	t->spawn_ctx = r;
	t->secrets = (const char *const *)r->p->values.secrets;
	t->n_secrets = r->p->values.n_secrets;
	t->verbosity = r->o.verbosity;
	t->stopping = &r->stopping;
}

static void task_unmake(void *obj, void *arg)
{
	task_destroy(obj);
}

/* The queue of a resource type, made when a node first needs it. */
static res_queue *res_queue_for(run *r, const assay_resource_type *type)
{
	res_queue **grown, *q = NULL;
	size_t k;

	pthread_mutex_lock(&r->resq_lock);
	for (k = 0; k < r->n_resq && !q; k++)
		if (r->resq[k]->type == type)
			q = r->resq[k];
	if (!q && (grown = realloc(r->resq, (r->n_resq + 1) * sizeof *grown))) {
		r->resq = grown;
		if ((q = calloc(1, sizeof *q))) {
			pthread_mutex_init(&q->lock, NULL);
			q->type = type;
			q->run = r;
			r->resq[r->n_resq++] = q;
		}
	}
	pthread_mutex_unlock(&r->resq_lock);
	return q;
}

int run_new(run **out, const plan *p, const graph *g, const run_options *o,
	    reactor *re)
{
	/* aligned_alloc: the struct's cache-line members need its alignment. */
	run *r = aligned_alloc(_Alignof(run), sizeof *r);
	unsigned workers = o->workers ? o->workers : 1;
	size_t i, j;

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
	pthread_mutex_init(&r->resq_lock, NULL);
	r->stop_cause = ASSAY_UNKNOWN;
	limiter_init(&r->jobs, o->jobs ? o->jobs : 1);
	/* Zeroed and left so: nodes and results are first written when
	 * the run reaches them. */
	r->nodes = bigarray_new(p->n_nodes, sizeof *r->nodes);
	r->results = bigarray_new(p->n_nodes, sizeof *r->results);
	r->groups = calloc(p->n_groups ? p->n_groups : 1, sizeof *r->groups);
	r->limited = malloc((p->n_groups ? p->n_groups : 1) * sizeof *r->limited);
	r->roots = malloc((p->n_nodes ? p->n_nodes : 1) * sizeof *r->roots);
	if (!r->nodes || !r->results || !r->groups || !r->limited || !r->roots)
		return ASSAY_ENOMEM;
	if (recycler_new(&r->tasks, workers, sizeof(assay_task), task_make, task_unmake, r) < 0 ||
	    recycler_new(&r->launches, workers, sizeof(run_launch) + sizeof(run_exec),
			 launch_make, NULL, r) < 0 ||
	    recycler_new(&r->root_jobs, workers, sizeof(roots_job), NULL, NULL, NULL) < 0)
		return ASSAY_ENOMEM;
	for (i = 0; i < p->n_groups; i++) {
		limiter_init(&r->groups[i], p->groups[i].max_parallel);
		if (p->groups[i].max_parallel)
			r->limited[r->n_limited++] = i;
	}
	/* From the graph alone, not the plan: the roots, and the sinks
	 * (kept nodes without a kept successor: the run is over once
	 * every sink is). */
	for (i = 0; i < p->n_nodes; i++) {
		bool sink = true;

		if (!is_kept(r, i))
			continue;
		r->kept++;
		for (j = g->succ_at[i]; j < g->succ_at[i + 1] && sink; j++)
			sink = !is_kept(r, g->succ[j]);
		r->sinks += sink;
		if (g->pred_at[i + 1] == g->pred_at[i])
			r->roots[r->n_roots++] = i;
	}
	/* A limit that can never bind costs two lock round trips per
	 * execution for nothing. */
	r->jobs_bound = p->n_executions > r->jobs.avail;
	return 0;
}

/* The results are zeroed memory the run writes as it reaches each node,
 * and the first write to each page costs a fault and the kernel's zeroing
 * of it -- more than the scheduling of the nodes on it.  This job does
 * that ahead, in order, a huge page at a time, on whichever worker has
 * nothing else to do (in a chain, the other one), so that the nodes on
 * the critical path find their pages ready.  It is work the run would do
 * anyway; it stops when the run is over. */
#define PREFAULT_STEP ((size_t)2 << 20)

static void prefault_job_fn(pool_job *job)
{
	run *r = (run *)((char *)job - offsetof(run, prefault));
	size_t at = 0;

	while (atomic_load_explicit(&r->sinks_done, memory_order_relaxed) < r->sinks &&
	       !atomic_load_explicit(&r->stopping, memory_order_relaxed)) {
		size_t done = bigarray_prefault(r->results, r->p->n_nodes, sizeof *r->results, at,
						PREFAULT_STEP);

		if (!done)
			break;
		at += done;
	}
}

int run_go(run *r)
{
	roots_job *j;
	int rc;

	r->start = wall_now();
	r->wall_offset = r->start - (double)task_now_ns() / 1e9;
	rc = pool_new(&r->pool, r->o.workers ? r->o.workers : 1);
	if (rc < 0)
		return rc;
	if (r->kept == 0) {
		run_signal_done(r);
	} else {
		if (!(j = recycler_get(r->root_jobs, -1))) {
			pool_free(r->pool);
			r->pool = NULL;
			return ASSAY_ENOMEM;
		}
		j->job.fn = roots_job_fn;
		j->run = r;
		j->from = 0;
		j->to = r->n_roots;
		if (pool_submit(r->pool, &j->job) < 0)
			roots_job_fn(&j->job); /* no room in the pool: launch here */
		r->prefault.fn = prefault_job_fn;
		pool_submit(r->pool, &r->prefault); /* or not: it only saves time */
	}
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
	size_t i, j, n_resq;

	pthread_mutex_lock(&r->lock);
	if (!r->stop_reason)
		r->stop_reason = strdup(reason);
	pthread_mutex_unlock(&r->lock);
	if (atomic_exchange(&r->stopping, true))
		return;
	/* Pairs with task_start()'s: see there. */
	atomic_thread_fence(memory_order_seq_cst);
	for (i = 0; i < r->p->n_nodes; i++) {
		/* Launches are recycled, never freed before the run: one that
		 * ended meanwhile is read only where it stays valid. */
		run_launch *l = atomic_load_explicit(&r->nodes[i].launch, memory_order_acquire);

		for (j = 0; l && j < l->n_execs; j++) {
			run_exec *e = &l->execs[j];
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
				/* Tasks are recycled too: if this execution ended
				 * meanwhile, the cancel reaches a task that is
				 * unused (and ignores it) or that started since
				 * (and is to be cancelled too: `stopping` is set). */
				task_cancel(t);
			}
		}
	}
	/* Whoever waits for a slot or a resource will not get one now. */
	drain_limiter(&r->jobs);
	for (i = 0; i < r->p->n_groups; i++)
		drain_limiter(&r->groups[i]);
	pthread_mutex_lock(&r->resq_lock);
	n_resq = r->n_resq;
	pthread_mutex_unlock(&r->resq_lock);
	for (i = 0; i < n_resq; i++) {
		res_queue *q;
		run_exec *e, *next;

		pthread_mutex_lock(&r->resq_lock);
		q = r->resq[i]; /* the array may move as it grows */
		pthread_mutex_unlock(&r->resq_lock);
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

const run_history *run_histories(const run *r)
{
	return r->histories;
}

void run_times(const run *r, double *start, double *end, bool *stopped)
{
	*start = r->start;
	*end = r->end;
	*stopped = atomic_load(&((run *)r)->stopping);
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

static void histories_free(run_history *h)
{
	run_history *next;
	size_t i;

	for (; h; h = next) {
		next = h->next;
		for (i = 0; i < h->n; i++)
			free(h->attempts[i].message);
		free(h->attempts);
		free(h);
	}
}

void run_free(run *r)
{
	run_launch *l, *next;
	size_t i;

	if (!r)
		return;
	histories_free(r->histories);
	if (r->pool)
		pool_free(r->pool);
	/* Every launch ended with its node (launch_end freed what it held);
	 * the allocated ones are freed now. */
	for (l = r->allocated; l; l = next) {
		next = l->next_alloc;
		free(l);
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
	pthread_mutex_destroy(&r->resq_lock);
	bigarray_free(r->nodes, r->p->n_nodes, sizeof *r->nodes);
	recycler_free(r->tasks);
	recycler_free(r->launches);
	recycler_free(r->root_jobs);
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
			worst = status_worse(worst, effective(&res[i]));
	return worst;
}
