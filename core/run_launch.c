/* run_launch.c -- launching a node that is ready: its launch (the limits
 * and resource queues its executions pass), its first execution run here
 * and the others handed to the pool; and the roots, launched in parallel. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <stdlib.h>
#include <string.h>

#include "run_int.h"

/* The recycler's constructor of launches of one execution. */
void launch_make(void *obj, void *arg)
{
	run_launch *l = obj;

	l->recycled = true;
	l->n_execs = 1;
	exec_setup(arg, &l->execs[0], l);
}

/* The max_parallel of the groups and the sweep node pn is in, outermost
 * first, as for every node: limits taken one after another cannot
 * deadlock.  Most nodes have no limit: nothing is allocated for them.
 * False when out of memory. */
static bool launch_limits(run *r, run_launch *l, const plan_node *pn)
{
	uint32_t limits[PLAN_MAX_DEPTH + 1];
	size_t k, n;

	if (!r->p->n_limits || !(n = plan_node_limits(r->p, pn, limits)))
		return true;
	if (!(l->limits = calloc(n, sizeof *l->limits)))
		return false;
	for (k = 0; k < n; k++)
		l->limits[l->n_limits++] = &r->limits[limits[k]];
	return true;
}

/* The queues of pn's resources, and a grant slot per execution and
 * resource.  False when out of memory. */
static bool launch_resources(run *r, run_launch *l, const plan_node *pn)
{
	size_t i;

	l->n_res = (unsigned)pn->n_resources;
	if (!(l->resq = calloc(pn->n_resources, sizeof *l->resq)))
		return false;
	for (i = 0; i < pn->n_resources; i++)
		if (!(l->resq[i] = resq_for(r, pn->resource_types[i])))
			return false;
	for (i = 0; i < l->n_execs; i++)
		if (!(l->execs[i].grants = calloc(pn->n_resources, sizeof(void *))))
			return false;
	return true;
}

/* Node v's launch, set up; NULL when out of memory. */
static run_launch *launch_new(run *r, size_t v)
{
	const plan_node *pn = &r->p->nodes[v];
	run_launch *l;

	if (pn->kind != ASSAY_KIND_VALIDATION) {
		if (!(l = recycler_get(r->launches, exec_worker.index)))
			return NULL;
		l->execs[0].res = &r->results[v];
		l->execs[0].stage = 0;
	} else if (!(l = items_launch_new(r, v))) {
		return NULL;
	}
	l->index = v;
	if (!launch_limits(r, l, pn) || (pn->n_resources && !launch_resources(r, l, pn))) {
		launch_end(r, l);
		return NULL;
	}
	return l;
}

/* The node is final: its launch is done with (but for a stale pointer in
 * run_stop(), which reads only what stays valid). */
void launch_end(run *r, run_launch *l)
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
		recycler_put(r->launches, exec_worker.index, l);
}

/* Whether execution `item` of node v (SIZE_MAX: the node itself) is
 * reused from an earlier run (run_options.resume, which the caller
 * checked is set): then *res is as that run left it, final.  The
 * callback fills a result of its own, so that one that answers no
 * leaves nothing behind. */
bool launch_resumed(run *r, size_t v, size_t item, run_result *res)
{
	run_result got = { 0 };

	if (!r->o.resume(r->o.resume_arg, v, item, &got))
		return false;
	*res = got;
	res->ran = true;
	res->kept = true;
	res->resumed = true;
	return true;
}

/* Node v will run: its launch, published for run_stop(); or NULL when
 * the node is settled already (reused from an earlier run; a validation
 * without items is OK; no memory, UNKNOWN), and the caller is to call
 * ready_node_final(). */
static run_launch *launch_start(run *r, size_t v)
{
	const plan_node *pn = &r->p->nodes[v];
	run_result *res = &r->results[v];
	run_launch *l;

	res->kept = true;
	if (pn->skip) { /* a root: the others meet their `skip` in run_ready.c */
		res->status = ASSAY_SKIPPED;
		res->cause = ASSAY_OK;
		res->skip_reason = strdup(pn->skip);
		return NULL;
	}
	res->ran = true;
	if (r->o.resume && launch_resumed(r, v, SIZE_MAX, res))
		return NULL;
	/* After a sweep: a {best.NAME} the best trial lacks, named. */
	if (pn->after_sweep != PLAN_NONE && (res->message = sweep_best_missing(r, v))) {
		res->status = ASSAY_UNKNOWN;
		return NULL;
	}
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

/* Launch node v: its first execution is returned for the caller to run
 * or schedule, the others go to the pool; NULL when the node settled at
 * once (and is final). */
run_exec *launch_node(run *r, size_t v)
{
	run_launch *l = launch_start(r, v);

	if (!l) {
		ready_node_final(r, v);
		return NULL;
	}
	if (!l->recycled)
		return items_launch(r, l);
	return &l->execs[0];
}

/* A range of the roots, launched by the worker that takes it: it hands
 * halves to the pool (for idle workers to steal) until one root is left,
 * which it runs.  So a million roots are launched in parallel, as the
 * workers get to them, not one by one before anything starts. */
typedef struct roots_job {
	pool_job job;
	run *run;
	size_t from, to; /* indexes into run->roots */
} roots_job;

/* Where to split roots[from .. to) near mid: not inside a sweep with a
 * max_parallel, whose trials then reach its limit in declaration order,
 * one worker queuing them there one after another (exec_enter_in_order:
 * their runs go to the pool) -- with max_parallel = 1
 * they run in that order, and a pruning rule decides the same each
 * time (such a sweep after other nodes: ready_sweep_release()).  from
 * or to when the range is one such sweep. */
static size_t launch_split(const run *r, size_t from, size_t mid, size_t to)
{
	const plan *p = r->p;
	uint32_t s = p->nodes[r->roots[mid]].sweep;
	size_t lo = mid, hi = mid;

	if (s == PLAN_NONE || !p->sweeps[s].max_parallel)
		return mid;
	while (lo > from && p->nodes[r->roots[lo - 1]].sweep == s)
		lo--;
	while (hi < to && p->nodes[r->roots[hi]].sweep == s)
		hi++;
	if (lo > from)
		return lo;
	return hi;
}

static void launch_roots_job(pool_job *job)
{
	roots_job *j = (roots_job *)job;
	run *r = j->run;
	size_t from = j->from, to = j->to;
	int w = exec_worker.index = pool_worker_index(r->pool);
	run_exec *e;

	while (to - from > 1) {
		size_t mid = launch_split(r, from, from + (to - from) / 2, to);
		roots_job *half;

		if (mid == to)
			break; /* one sweep with a limit: launched here, in order */
		if (!(half = recycler_get(r->root_jobs, w)))
			break; /* no memory: launch the rest here */
		half->job.fn = launch_roots_job;
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
	for (; from < to; from++) {
		/* A plan without trials reads no more of its nodes than before. */
		uint32_t s = r->p->n_sweeps ? r->p->nodes[r->roots[from]].sweep : PLAN_NONE;

		if (!(e = launch_node(r, r->roots[from])))
			continue;
		if (s != PLAN_NONE && r->p->sweeps[s].max_parallel)
			exec_enter_in_order(e);
		else
			exec_run(e);
	}
}

/* The recycler of the roots' jobs, for run_new(). */
int launch_roots_recycler(recycler **out, unsigned workers)
{
	return recycler_new(out, workers, sizeof(roots_job), NULL, NULL, NULL);
}

/* From the main thread, the pool started: the first job, of all roots. */
int launch_roots(run *r)
{
	roots_job *j = recycler_get(r->root_jobs, -1);

	if (!j)
		return ASSAY_ENOMEM;
	j->job.fn = launch_roots_job;
	j->run = r;
	j->from = 0;
	j->to = r->n_roots;
	if (pool_submit(r->pool, &j->job) < 0)
		launch_roots_job(&j->job); /* no room in the pool: launch here */
	return 0;
}
