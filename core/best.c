/* best.c -- the best trial of each sweep, ranked as trials become final. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "best.h"

typedef struct best_slot {
	uint32_t node; /* PLAN_NONE: none yet */
	double value;
} best_slot;

struct best {
	const plan *p;
	pthread_mutex_t lock; /* trials of any sweep become final on any thread */
	best_slot *slots;     /* one per sweep */
};

bool best_wanted(const plan *p)
{
	size_t i;

	for (i = 0; i < p->n_sweeps; i++)
		if (p->sweeps[i].objective)
			return true;
	return false;
}

best *best_new(const plan *p)
{
	best *b = calloc(1, sizeof *b);
	size_t i;

	if (!b || !(b->slots = malloc((p->n_sweeps ? p->n_sweeps : 1) * sizeof *b->slots))) {
		free(b);
		return NULL;
	}
	b->p = p;
	pthread_mutex_init(&b->lock, NULL);
	for (i = 0; i < p->n_sweeps; i++)
		b->slots[i].node = PLAN_NONE;
	return b;
}

const assay_metric *best_reported(const run_result *res, const char *metric)
{
	size_t m = res->n_metrics;

	while (m-- > 0)
		if (strcmp(res->metrics[m].name, metric) == 0)
			return &res->metrics[m];
	return NULL;
}

static bool better(const plan_sweep *s, const best_slot *slot, uint32_t node, double value)
{
	if (slot->node == PLAN_NONE)
		return true;
	if (value == slot->value)
		return node < slot->node;
	return s->maximise ? value > slot->value : value < slot->value;
}

/* A trial without the metric does not compete (the run made it UNKNOWN),
 * nor one that failed, nor a value that is not a number. */
void best_event(const run_event *ev, void *arg)
{
	best *b = arg;
	const plan_node *n = &b->p->nodes[ev->node];
	const plan_sweep *s = plan_sweep_of(b->p, n);
	const assay_metric *m;
	best_slot *slot;

	if (ev->kind != RUN_EVENT_FINAL || !s || !s->objective ||
	    (ev->res->status != ASSAY_OK && ev->res->status != ASSAY_WARNING) ||
	    !(m = best_reported(ev->res, s->objective)) || isnan(m->value))
		return;
	slot = &b->slots[n->sweep];
	pthread_mutex_lock(&b->lock);
	if (better(s, slot, (uint32_t)ev->node, m->value)) {
		slot->node = (uint32_t)ev->node;
		slot->value = m->value;
	}
	pthread_mutex_unlock(&b->lock);
}

int best_subscribe(best *b, run *r)
{
	return run_subscribe(r, RUN_EVENT_FINAL, best_event, b);
}

uint32_t best_of(best *b, size_t s, double *value)
{
	uint32_t node;

	pthread_mutex_lock(&b->lock);
	node = b->slots[s].node;
	if (value)
		*value = b->slots[s].value;
	pthread_mutex_unlock(&b->lock);
	return node;
}

void best_free(best *b)
{
	if (!b)
		return;
	pthread_mutex_destroy(&b->lock);
	free(b->slots);
	free(b);
}
