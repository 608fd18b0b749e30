/* run_items.c -- a validation's items: as many executions as may run at
 * once, each taking the next item when its own is final, so that 100,000
 * items cost a result each (zeroed memory, touched when the item ends)
 * and a few dozen executions; items an earlier run left done are reused
 * as they come up; the node's result sums them up once the last is
 * final. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run_int.h"

/* How many of v's items may run at once: its executions.  No more than
 * `jobs`, nor than the max_parallel of its groups, nor than its items. */
static size_t items_alive(const run *r, const plan_node *pn)
{
	uint32_t limits[PLAN_MAX_DEPTH + 1];
	size_t n = pn->n_items, jobs = r->o.jobs ? r->o.jobs : 1, k, n_limits;

	if (jobs < n)
		n = jobs;
	n_limits = r->p->n_limits ? plan_node_limits(r->p, pn, limits) : 0;
	for (k = 0; k < n_limits; k++)
		if (r->p->limits[limits[k]] < n)
			n = r->p->limits[limits[k]];
	return n ? n : 1;
}

/* Validation v's launch, with its executions and a result per item; NULL
 * when out of memory.  It is the run's until run_free(). */
run_launch *items_launch_new(run *r, size_t v)
{
	const plan_node *pn = &r->p->nodes[v];
	run_result *res = &r->results[v];
	size_t n = items_alive(r, pn), i;
	run_launch *l;

	if (!(l = calloc(1, sizeof *l + n * sizeof *l->execs)))
		return NULL;
	pthread_mutex_lock(&r->lock);
	l->next_alloc = r->allocated;
	r->allocated = l;
	pthread_mutex_unlock(&r->lock);
	/* calloc: pages the kernel zeroes only as items end. */
	if (!(res->items = calloc(pn->n_items, sizeof *res->items)))
		return NULL;
	res->n_items = pn->n_items;
	l->n_execs = n;
	atomic_store_explicit(&l->items_left, pn->n_items, memory_order_relaxed);
	atomic_store_explicit(&l->next_item, 0, memory_order_relaxed);
	for (i = 0; i < n; i++)
		exec_setup(r, &l->execs[i], l);
	return l;
}

/* A validation's status is its worst item's; the message counts them and
 * names the first failure. */
static void items_summarise(run *r, size_t v)
{
	run_result *res = &r->results[v];
	size_t counts[5] = { 0 }, i, first_bad = SIZE_MAX;
	assay_status worst = ASSAY_OK;
	double start = 0, end = 0;
	bool resumed = true, resumed_times = true;
	char *msg = NULL;

	for (i = 0; i < res->n_items && resumed_times; i++)
		resumed_times = res->items[i].resumed;
	for (i = 0; i < res->n_items; i++) {
		const run_result *it = &res->items[i];
		assay_status s = result_effective(it);

		if (!it->resumed)
			resumed = false;
		else if (!res->resumed_from)
			res->resumed_from = it->resumed_from;

		if (it->attempts > res->attempts)
			res->attempts = it->attempts;
		counts[it->status]++;
		worst = status_worse(worst, s);
		if (s != ASSAY_OK && s != ASSAY_WARNING && first_bad == SIZE_MAX)
			first_bad = i;
		/* The node's times are this run's: a resumed item's are
		 * the earlier run's (unless every item is resumed). */
		if (it->resumed != resumed_times)
			continue;
		if (it->ran && (start == 0 || it->start < start))
			start = it->start;
		if (it->end > end)
			end = it->end;
	}
	res->status = worst;
	res->ran = true;
	/* Reused as a whole only when no item ran here. */
	res->resumed = resumed;
	if (!resumed)
		res->resumed_from = NULL;
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

/* Item i of l is final with *res: published, counted; true when it was
 * the node's last (whose result is then summed up). */
static bool items_count(run *r, run_launch *l, size_t i, const run_result *res)
{
	if (r->events & RUN_EVENT_ITEM)
		events_publish(r, RUN_EVENT_ITEM, l->index, i, 0, 0, res);
	if (atomic_fetch_sub(&l->items_left, 1) != 1)
		return false;
	items_summarise(r, l->index);
	return true;
}

/* e takes the next item nobody took: true when it has one to run.
 * Items reused from an earlier run are final on the way; *ended is set
 * when the last of them was the node's last item (the caller ends the
 * node).  False with *ended false: no item is left to take, and e rests. */
static bool items_next(run_exec *e, bool *ended)
{
	run_launch *l = e->launch;
	run *r = e->run;
	const plan_node *pn = &r->p->nodes[l->index];
	run_result *items = r->results[l->index].items;

	*ended = false;
	for (;;) {
		size_t i = atomic_fetch_add_explicit(&l->next_item, 1, memory_order_relaxed);

		if (i >= pn->n_items)
			return false;
		if (r->o.resume && launch_resumed(r, l->index, i, &items[i])) {
			if ((*ended = items_count(r, l, i, &items[i])))
				return false;
			continue;
		}
		items[i].kept = true;
		e->res = &items[i];
		e->item = i;
		e->stage = 0;
		return true;
	}
}

/* The executions of launch l, each with its first item, to the pool but
 * the first, returned for the caller to run; NULL when there is none to
 * run (every item was reused: the node is final). */
run_exec *items_launch(run *r, run_launch *l)
{
	run_exec *first = NULL;
	bool ended = false;
	size_t i;

	for (i = 0; i < l->n_execs; i++) {
		run_exec *e = &l->execs[i];

		if (!items_next(e, &ended))
			break;
		if (!first)
			first = e;
		else
			exec_schedule(e, false);
	}
	if (ended) { /* then nothing ran: every item was reused */
		launch_end(r, l);
		ready_node_final(r, l->index);
	}
	return first;
}

bool items_final(run_exec *e)
{
	bool ended;

	if (items_count(e->run, e->launch, e->item, e->res))
		return true;
	/* Its slots are given back (attempt_end): it queues for them again,
	 * behind whoever waits, as a new execution would. */
	if (items_next(e, &ended))
		exec_schedule(e, true);
	return ended;
}

/* The launches of validations: each ended with its node (launch_end()
 * freed what it held). */
void items_release(run *r)
{
	run_launch *l, *next;

	for (l = r->allocated; l; l = next) {
		next = l->next_alloc;
		free(l);
	}
	r->allocated = NULL;
}
