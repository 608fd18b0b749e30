/* run_events.c -- the run's subscribers, and the events handed to them. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <stdlib.h>

#include "run_int.h"

int run_subscribe(run *r, unsigned kinds, run_event_fn fn, void *arg)
{
	run_subscriber *grown;

	if (!kinds || !fn)
		return ASSAY_EINVAL;
	if (r->went)
		return ASSAY_ESTATE;
	if (!(grown = realloc(r->subs, (r->n_subs + 1) * sizeof *grown)))
		return ASSAY_ENOMEM;
	r->subs = grown;
	r->subs[r->n_subs++] = (run_subscriber){ kinds, fn, arg };
	r->events |= kinds;
	return 0;
}

void events_publish(run *r, run_event_kind kind, size_t node, size_t item,
		    unsigned attempt, int64_t at_ns, const run_result *res)
{
	run_event ev = { .kind = kind, .node = node, .item = item, .attempt = attempt,
			 .at_ns = at_ns ? at_ns : task_now_ns(), .res = res };
	size_t i;

	for (i = 0; i < r->n_subs; i++)
		if (r->subs[i].kinds & kind)
			r->subs[i].fn(&ev, r->subs[i].arg);
}

void events_publish_wait(run *r, size_t node, size_t item, unsigned attempt,
			 const char *text)
{
	run_event ev = { .kind = RUN_EVENT_WAIT, .node = node, .item = item,
			 .attempt = attempt, .at_ns = task_now_ns(), .text = text };
	size_t i;

	for (i = 0; i < r->n_subs; i++)
		if (r->subs[i].kinds & RUN_EVENT_WAIT)
			r->subs[i].fn(&ev, r->subs[i].arg);
}

void events_publish_metric(run *r, size_t node, unsigned attempt, const char *name,
			   double value, int64_t step)
{
	run_event ev = { .kind = RUN_EVENT_METRIC, .node = node, .item = SIZE_MAX,
			 .attempt = attempt, .at_ns = task_now_ns(), .text = name,
			 .value = value, .step = step };
	size_t i;

	for (i = 0; i < r->n_subs; i++)
		if (r->subs[i].kinds & RUN_EVENT_METRIC)
			r->subs[i].fn(&ev, r->subs[i].arg);
}

void events_task_child(void *ctx, assay_task *t, pid_t pgid)
{
	run *r = ctx;
	run_exec *e = t->done_arg;
	run_event ev = { .kind = RUN_EVENT_CHILD, .attempt = t->attempt, .pid = pgid };
	size_t i;

	/* A run nobody follows this way costs one test. */
	if (!(r->events & RUN_EVENT_CHILD) || !e)
		return;
	ev.node = e->launch->index;
	ev.item = exec_item_index(e);
	ev.at_ns = task_now_ns();
	ev.since_ns = t->start_ns;
	for (i = 0; i < r->n_subs; i++)
		if (r->subs[i].kinds & RUN_EVENT_CHILD)
			r->subs[i].fn(&ev, r->subs[i].arg);
}

void events_release(run *r)
{
	free(r->subs);
	r->subs = NULL;
	r->n_subs = 0;
	r->events = 0;
}
