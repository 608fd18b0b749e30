/* run_items.c -- a validation's items: one execution each, side by side,
 * and the node's result summing them up once the last is final. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run_int.h"

/* Validation v's launch, with an execution and a result per item; NULL
 * when out of memory.  It is the run's until run_free(). */
run_launch *items_launch_new(run *r, size_t v)
{
	const plan_node *pn = &r->p->nodes[v];
	run_result *res = &r->results[v];
	run_launch *l;
	size_t i;

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
	return l;
}

/* The executions of launch l's items: those reused from an earlier run
 * final at once, the others to the pool but the first, returned for the
 * caller to run (NULL when every item was reused: the node is final). */
run_exec *items_launch(run *r, run_launch *l)
{
	run_exec *first = NULL;
	size_t i;

	for (i = 0; i < l->n_execs; i++) {
		run_exec *e = &l->execs[i];

		if (launch_resumed(r, l->index, i, e->res))
			exec_final(e); /* the last one (all reused) ends the node */
		else if (!first)
			first = e;
		else
			exec_schedule(e, false);
	}
	return first;
}

/* A validation's status is its worst item's; the message counts them and
 * names the first failure. */
static void items_summarise(run *r, size_t v)
{
	run_result *res = &r->results[v];
	size_t counts[5] = { 0 }, i, first_bad = SIZE_MAX;
	assay_status worst = ASSAY_OK;
	double start = 0, end = 0;
	bool resumed = true;
	char *msg = NULL;

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

bool items_final(run_exec *e)
{
	run_launch *l = e->launch;
	run *r = e->run;

	if (r->events & RUN_EVENT_ITEM)
		events_publish(r, RUN_EVENT_ITEM, l->index, exec_item_index(e), 0, 0, e->res);
	if (atomic_fetch_sub(&l->items_left, 1) != 1)
		return false;
	items_summarise(r, l->index);
	return true;
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
