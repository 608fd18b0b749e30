/* run.c -- executes a plan on the pool: the run's life from run_new() to
 * run_free(), its end, and run_stop().  What happens in between is in
 * the run_*.c files (see run_int.h). */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bigarray.h"
#include "host.h"
#include "run_int.h"

static double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
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

int run_spawn(void *ctx, void (*fn)(void *), void *arg)
{
	run *r = ctx;
	spawned *s = malloc(sizeof *s);
	bool counted;
	int rc = 0;

	if (!s)
		return ASSAY_ENOMEM;
	s->job.fn = spawned_job;
	s->fn = fn;
	s->arg = arg;
	counted = run_enter(r);
	if (pool_submit(r->pool, &s->job) < 0) {
		free(s);
		rc = ASSAY_ENOMEM;
	}
	run_leave(r, counted);
	return rc;
}

/* The recycler's constructor and destructor of tasks, wired to run arg. */
static void task_make(void *obj, void *arg)
{
	run *r = arg;
	assay_task *t = obj;

	task_create(t);
	t->reactor = r->re;
	t->done = attempt_done;
	t->spawn = run_spawn;
	t->spawn_ctx = r;
	t->report_step = sweep_report_step;
	t->best_lookup = sweep_best_lookup;
	t->child = events_task_child;
	t->secrets = (const char *const *)r->p->values.secrets;
	t->n_secrets = r->p->values.n_secrets;
	t->verbosity = r->o.verbosity;
	t->stopping = &r->stopping;
}

static void task_unmake(void *obj, void *arg)
{
	task_destroy(obj);
}

/* From the graph alone, not the plan: the roots, and the sinks (kept
 * nodes without a kept successor: the run is over once every sink is). */
static void run_find_ends(run *r)
{
	const graph *g = r->g;
	size_t i, j;

	for (i = 0; i < r->p->n_nodes; i++) {
		bool sink = true;

		if (!run_is_kept(r, i))
			continue;
		r->kept++;
		for (j = g->succ_at[i]; j < g->succ_at[i + 1] && sink; j++)
			sink = !run_is_kept(r, g->succ[j]);
		r->sinks += sink;
		if (g->pred_at[i + 1] == g->pred_at[i])
			r->roots[r->n_roots++] = i;
	}
}

int run_new(run **out, const plan *p, const graph *g, const run_options *o, reactor *re)
{
	/* aligned_alloc: the struct's cache-line members need its alignment. */
	run *r = aligned_alloc(_Alignof(run), sizeof *r);
	unsigned workers = o->workers ? o->workers : 1;
	size_t i;

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
	r->limits = calloc(p->n_limits ? p->n_limits : 1, sizeof *r->limits);
	r->roots = malloc((p->n_nodes ? p->n_nodes : 1) * sizeof *r->roots);
	if (!r->nodes || !r->results || !r->limits || !r->roots || sweep_alloc(r) < 0)
		return ASSAY_ENOMEM;
	if (recycler_new(&r->tasks, workers, sizeof(assay_task), task_make, task_unmake, r) < 0 ||
	    recycler_new(&r->launches, workers, sizeof(run_launch) + sizeof(run_exec), launch_make,
			 NULL, r) < 0 ||
	    launch_roots_recycler(&r->root_jobs, workers) < 0)
		return ASSAY_ENOMEM;
	for (i = 0; i < p->n_limits; i++)
		limiter_init(&r->limits[i], p->limits[i]);
	run_find_ends(r);
	if (ready_sweep_leads(r) < 0)
		return ASSAY_ENOMEM;
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

void run_signal_done(run *r)
{
	pthread_mutex_lock(&r->lock);
	r->done = true;
	r->end = wall_now();
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

int run_go(run *r)
{
	int rc;

	r->start = wall_now();
	r->wall_offset = r->start - (double)task_now_ns() / 1e9;
	rc = pool_new(&r->pool, r->o.workers ? r->o.workers : 1);
	if (rc < 0)
		return rc;
	/* Before any plugin code runs; cleared by run_free(). */
	host_set_reactor(r->re);
	r->went = true;
	if (r->kept == 0) {
		run_signal_done(r);
	} else {
		if (launch_roots(r) < 0) {
			pool_free(r->pool);
			r->pool = NULL;
			return ASSAY_ENOMEM;
		}
		r->prefault.fn = prefault_job_fn;
		pool_submit(r->pool, &r->prefault); /* or not: it only saves time */
	}
	pthread_mutex_lock(&r->lock);
	while (!r->done)
		pthread_cond_wait(&r->cond, &r->lock);
	pthread_mutex_unlock(&r->lock);
	/* Every node is final: what still runs on the pool are the tails of
	 * the jobs that finished them, and elsewhere those of the callers
	 * that queued them (a few instructions). */
	while (atomic_load_explicit(&r->foreign, memory_order_acquire))
		sched_yield();
	pool_free(r->pool);
	r->pool = NULL;
	return 0;
}

/* Cancel what runs of launch l, and admit what waits for a retry (it
 * meets the stop). */
static void run_stop_launch(run *r, run_launch *l)
{
	size_t j;

	for (j = 0; j < l->n_execs; j++) {
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
			 * meanwhile, the cancel reaches a task that is unused
			 * (and ignores it) or that started since (and is to be
			 * cancelled too: `stopping` is set). */
			task_cancel(t);
		}
	}
}

void run_stop(run *r, const char *reason)
{
	bool counted = run_enter(r);
	size_t i;

	pthread_mutex_lock(&r->lock);
	if (!r->stop_reason)
		r->stop_reason = strdup(reason);
	pthread_mutex_unlock(&r->lock);
	if (atomic_exchange(&r->stopping, true)) {
		run_leave(r, counted);
		return;
	}
	/* Pairs with task_start()'s: see there. */
	atomic_thread_fence(memory_order_seq_cst);
	for (i = 0; i < r->p->n_nodes; i++) {
		/* Launches are recycled, never freed before the run: one that
		 * ended meanwhile is read only where it stays valid. */
		run_launch *l = atomic_load_explicit(&r->nodes[i].launch, memory_order_acquire);

		if (l)
			run_stop_launch(r, l);
	}
	/* Whoever waits for a slot or a resource will not get one now. */
	exec_resume_all(limiter_drain(&r->jobs));
	for (i = 0; i < r->p->n_limits; i++)
		exec_resume_all(limiter_drain(&r->limits[i]));
	resq_drain_all(r);
	run_leave(r, counted);
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
	if (res->devices)
		task_devices_free(res->devices);
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

static void run_reactor_passed(void *arg)
{
	run *r = arg;

	pthread_mutex_lock(&r->lock);
	r->went = false;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

/* Take the reactor back from the plugins.  Its callbacks run one at a
 * time: once a timer set now has fired, the callback that completed the
 * last task (and may have gone on to stop a timer or unwatch an fd
 * through the host table) has returned. */
static void run_leave_reactor(run *r)
{
	if (reactor_timer_start(r->re, 0, run_reactor_passed, r, NULL) == 0) {
		pthread_mutex_lock(&r->lock);
		while (r->went)
			pthread_cond_wait(&r->cond, &r->lock);
		pthread_mutex_unlock(&r->lock);
	}
	host_set_reactor(NULL);
}

void run_free(run *r)
{
	size_t i;

	if (!r)
		return;
	if (r->went)
		run_leave_reactor(r);
	histories_free(r->histories);
	if (r->pool)
		pool_free(r->pool);
	items_release(r);
	for (i = 0; r->results && i < r->p->n_nodes; i++)
		result_release(&r->results[i]);
	for (i = 0; r->limits && i < r->p->n_limits; i++)
		limiter_release(&r->limits[i]);
	resq_release_all(r);
	sweep_release(r);
	events_release(r);
	limiter_release(&r->jobs);
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->cond);
	bigarray_free(r->nodes, r->p->n_nodes, sizeof *r->nodes);
	recycler_free(r->tasks);
	recycler_free(r->launches);
	recycler_free(r->root_jobs);
	bigarray_free(r->results, r->p->n_nodes, sizeof *r->results);
	free(r->limits);
	free(r->roots);
	free(r->sweep_lead);
	free(r->stop_reason);
	free(r);
}

assay_status run_worst(const run_result *res, size_t n)
{
	assay_status worst = ASSAY_OK;
	size_t i;

	for (i = 0; i < n; i++)
		if (res[i].kept)
			worst = status_worse(worst, result_effective(&res[i]));
	return worst;
}
