/* resume_events.c -- the run's side of the journal: run_options.resume
 * answering what is reused, and the subscriber that journals each
 * execution as the run publishes it.  Both are called on the pool's and
 * the reactor's threads, several at once: they only read what
 * resume_open() built, and the journal serialises its own writes. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "resume_int.h"
#include "status.h"

static char *resume_dup(const char *s, bool *failed)
{
	char *d;

	if (!s)
		return NULL;
	if (!(d = strdup(s)))
		*failed = true;
	return d;
}

static void resume_free_result(run_result *r)
{
	size_t i;

	free(r->message);
	free(r->details);
	free(r->skip_reason);
	for (i = 0; i < r->n_metrics; i++) {
		free((char *)r->metrics[i].name);
		free((char *)r->metrics[i].unit);
		free((char *)r->metrics[i].warn);
		free((char *)r->metrics[i].crit);
	}
	free(r->metrics);
	for (i = 0; r->devices && r->devices[i]; i++)
		free(r->devices[i]);
	free(r->devices);
	memset(r, 0, sizeof *r);
}

/* out = a copy of in, as run_options.resume hands it to the run: strings
 * and arrays malloc'd, resumed_from borrowed from the journal's view.
 * false when memory ran out (the execution then runs). */
static bool resume_copy(run_result *out, const run_result *in)
{
	bool failed = false;
	size_t i, n = 0;

	memset(out, 0, sizeof *out);
	out->status = in->status;
	out->cause = in->cause;
	out->attempts = in->attempts;
	out->ran = in->ran;
	out->kept = true;
	out->start = in->start;
	out->end = in->end;
	out->duration = in->duration;
	out->trial_dir = in->trial_dir;
	out->message = resume_dup(in->message, &failed);
	out->details = resume_dup(in->details, &failed);
	out->skip_reason = resume_dup(in->skip_reason, &failed);
	if (in->n_metrics && !(out->metrics = calloc(in->n_metrics, sizeof *out->metrics)))
		failed = true;
	for (i = 0; out->metrics && i < in->n_metrics; i++, out->n_metrics++) {
		out->metrics[i] = in->metrics[i];
		out->metrics[i].name = resume_dup(in->metrics[i].name, &failed);
		out->metrics[i].unit = resume_dup(in->metrics[i].unit, &failed);
		out->metrics[i].warn = resume_dup(in->metrics[i].warn, &failed);
		out->metrics[i].crit = resume_dup(in->metrics[i].crit, &failed);
	}
	while (in->devices && in->devices[n])
		n++;
	if (n && !(out->devices = calloc(n + 1, sizeof *out->devices)))
		failed = true;
	for (i = 0; out->devices && i < n; i++)
		out->devices[i] = resume_dup(in->devices[i], &failed);
	out->resumed = true;
	out->resumed_from = in->resumed_from;
	if (failed)
		resume_free_result(out);
	return !failed;
}

bool resume_reuse(void *arg, size_t node, size_t item, run_result *out)
{
	const resume *r = arg;
	const run_result *res;

	if (node >= r->o.p->n_nodes || r->verdict[node] == RESUME_RUN)
		return false;
	if (item == SIZE_MAX) {
		/* A validation is reused item by item: its node's result is
		 * made from its items' as in any run. */
		if (r->o.p->nodes[node].kind == ASSAY_KIND_VALIDATION)
			return false;
		res = journal_find(&r->view, r->keys.nodes[node]);
	} else {
		if (item >= r->o.p->nodes[node].n_items)
			return false;
		res = journal_find(&r->view, nodekeys_item(&r->keys, node, item));
		if (res && !resume_usable(r, res, NULL, 0))
			return false;
	}
	return res && resume_copy(out, res);
}

/* The key of the execution an event is about. */
static journal_key resume_event_key(const resume *r, const run_event *ev, uint32_t *item)
{
	if (ev->item == SIZE_MAX || ev->kind == RUN_EVENT_FINAL) {
		*item = UINT32_MAX;
		return r->keys.nodes[ev->node];
	}
	*item = (uint32_t)ev->item;
	return nodekeys_item(&r->keys, ev->node, ev->item);
}

/* When a child's leader started, as /proc/PID/stat will say it (clock
 * ticks of the boot-time clock, rounded down): between its attempt's start
 * and the event, both on the monotonic clock, which runs behind the
 * boot-time one by the time suspended.  Two clock reads, no system call
 * (journal.h says why not /proc). */
static void resume_child_window(const run_event *ev, uint64_t *min, uint64_t *max)
{
	long hz = sysconf(_SC_CLK_TCK); /* from the auxiliary vector: no system call */
	int64_t behind, tick = 1000000000 / (hz > 0 ? hz : 100);
	struct timespec boot, mono;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_BOOTTIME, &boot);
	behind = (int64_t)(boot.tv_sec - mono.tv_sec) * 1000000000 + (boot.tv_nsec - mono.tv_nsec);
	/* A tick more each way: the two clocks were read a moment apart. */
	*min = (uint64_t)((ev->since_ns + behind) / tick);
	*min -= *min > 0;
	*max = (uint64_t)((ev->at_ns + behind) / tick) + 1;
}

void resume_on_event(const run_event *ev, void *arg)
{
	resume *r = arg;
	const plan_node *pn = &r->o.p->nodes[ev->node];
	uint32_t item;
	journal_key key = resume_event_key(r, ev, &item);
	uint64_t start_min, start_max;

	switch (ev->kind) {
	case RUN_EVENT_START:
		journal_start(r->j, key, item, ev->attempt);
		break;
	case RUN_EVENT_CHILD:
		resume_child_window(ev, &start_min, &start_max);
		journal_child(r->j, key, item, ev->attempt, ev->pid, start_min, start_max);
		break;
	case RUN_EVENT_ATTEMPT:
		/* An attempt that a retry follows ends here; the last one's
		 * end is its final record (ITEM or FINAL), one write fewer
		 * per execution. */
		if (status_failed(ev->res->status) && ev->attempt <= pn->retries)
			journal_end(r->j, key, item, ev->attempt, ev->res);
		break;
	case RUN_EVENT_ITEM:
		if (!ev->res->resumed)
			journal_final(r->j, key, item, ev->res);
		break;
	case RUN_EVENT_FINAL:
		if (!ev->res->resumed)
			journal_final(r->j, key, UINT32_MAX, ev->res);
		journal_node_done(r->j);
		break;
	default:
		break;
	}
}
