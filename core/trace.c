/* trace.c -- the trace follows the run: each execution's open span (an
 * attempt on its slot, a wait, a backoff) until it ends, then the span
 * into the buffer, on the lane it took. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "status.h"
#include "task.h"
#include "trace_int.h"

/* An execution with a span open: its attempt on a slot, or the time it
 * spends waiting (a resource, a backoff). */
typedef struct trace_open {
	uint64_t key; /* node << 32 | item, + 1: 0 is a free entry */
	int64_t slot_start, wait_start;
	uint32_t slot, wait; /* lanes, or TRACE_NONE */
	uint32_t attempt, text;
	uint8_t wait_kind, wait_status;
} trace_open;

/* --- lanes ---------------------------------------------------------------- */

/* How many free lanes a span looks at for one its start does not
 * overlap (a start taken a moment before the last span there ended). */
#define LANE_PROBES 8

static bool lanes_grow(trace_lanes *l)
{
	size_t cap = l->cap ? 2 * l->cap : 64;
	uint64_t *busy = realloc(l->busy, cap / 64 * sizeof *busy);
	int64_t *last;

	if (!busy)
		return false;
	l->busy = busy;
	if (!(last = realloc(l->last_end, cap * sizeof *last)))
		return false;
	memset(busy + l->cap / 64, 0, (cap - l->cap) / 64 * sizeof *busy);
	l->last_end = last;
	l->cap = cap;
	return true;
}

/* The lowest free lane whose last span ended by *start (of the first
 * LANE_PROBES free ones; else the lowest, *start moved to where its last
 * span ended), made busy; TRACE_NONE when out of memory. */
static uint32_t lanes_take(trace_lanes *l, int64_t *start)
{
	size_t i, first = SIZE_MAX, found = SIZE_MAX, probes = 0;

	for (i = l->low; i < l->n && probes < LANE_PROBES; i++) {
		if (l->busy[i / 64] == UINT64_MAX) {
			i |= 63; /* a word of busy lanes */
			continue;
		}
		if (l->busy[i / 64] & (UINT64_C(1) << (i % 64)))
			continue;
		if (first == SIZE_MAX)
			first = i;
		probes++;
		if (l->last_end[i] <= *start) {
			found = i;
			break;
		}
	}
	if (found == SIZE_MAX && first != SIZE_MAX) {
		found = first;
		*start = l->last_end[first];
	} else if (found == SIZE_MAX) {
		if (l->n == l->cap && !lanes_grow(l))
			return TRACE_NONE;
		found = l->n++;
		l->last_end[found] = 0;
	}
	l->low = first != SIZE_MAX && first != found ? first : found + 1;
	l->busy[found / 64] |= UINT64_C(1) << (found % 64);
	return (uint32_t)found;
}

/* Lane free again; end: where its span ended, or -1 when it holds none
 * (a backoff that led to no retry). */
static void lanes_put(trace_lanes *l, uint32_t lane, int64_t end)
{
	l->busy[lane / 64] &= ~(UINT64_C(1) << (lane % 64));
	if (end >= 0)
		l->last_end[lane] = end;
	if (lane < l->low)
		l->low = lane;
}

/* --- the executions with a span open ---------------------------------------- */

static size_t open_slot(const trace *t, uint64_t key)
{
	uint64_t h = key * UINT64_C(0x9e3779b97f4a7c15);

	return (size_t)(h >> 32) & (t->open_cap - 1);
}

static bool open_grow(trace *t)
{
	size_t old_cap = t->open_cap, i;
	trace_open *old = t->open;

	t->open_cap = old_cap ? 2 * old_cap : 256;
	if (!(t->open = calloc(t->open_cap, sizeof *t->open))) {
		t->open = old;
		t->open_cap = old_cap;
		return false;
	}
	for (i = 0; i < old_cap; i++) {
		size_t k;

		if (!old[i].key)
			continue;
		for (k = open_slot(t, old[i].key); t->open[k].key; k = (k + 1) & (t->open_cap - 1))
			;
		t->open[k] = old[i];
	}
	free(old);
	return true;
}

/* The open entry of (node, item), made when `make` (NULL when there is
 * none, or no memory for it). */
static trace_open *open_get(trace *t, size_t node, size_t item, bool make)
{
	uint64_t key =
		((uint64_t)node << 32 | (uint32_t)(item == SIZE_MAX ? TRACE_NONE : item)) + 1;
	size_t k;

	if (make && 2 * (t->n_open + 1) > t->open_cap && !open_grow(t))
		return NULL;
	if (!t->open_cap)
		return NULL;
	for (k = open_slot(t, key); t->open[k].key; k = (k + 1) & (t->open_cap - 1))
		if (t->open[k].key == key)
			return &t->open[k];
	if (!make)
		return NULL;
	t->n_open++;
	t->open[k] = (trace_open){
		.key = key, .slot = TRACE_NONE, .wait = TRACE_NONE, .text = TRACE_NONE
	};
	return &t->open[k];
}

/* Remove o, moving back the entries after it that its place would hide
 * (linear probing's deletion, no tombstones). */
static void open_drop(trace *t, trace_open *o)
{
	size_t mask = t->open_cap - 1, hole = (size_t)(o - t->open), k = hole;

	for (;;) {
		size_t home;

		k = (k + 1) & mask;
		if (!t->open[k].key)
			break;
		home = open_slot(t, t->open[k].key);
		/* It moves to the hole unless its home lies in (hole, k]. */
		if (hole < k ? home <= hole || home > k : home <= hole && home > k) {
			t->open[hole] = t->open[k];
			hole = k;
		}
	}
	t->open[hole].key = 0;
	t->n_open--;
}

/* --- spans ------------------------------------------------------------------ */

static void trace_add(trace *t, const trace_open *o, uint8_t kind, int64_t start, int64_t end,
		      uint32_t lane, uint8_t status)
{
	trace_block *b = t->last;
	trace_span *s;

	if (!b || b->n == TRACE_BLOCK_SPANS) {
		if (!(b = malloc(sizeof *b))) {
			t->failed = true;
			return;
		}
		b->next = NULL;
		b->n = 0;
		if (t->last)
			t->last->next = b;
		else
			t->first = b;
		t->last = b;
	}
	s = &b->spans[b->n++];
	t->n_spans++;
	*s = (trace_span){
		.start_ns = start,
		.end_ns = end > start ? end : start,
		.node = (uint32_t)((o->key - 1) >> 32),
		.item = (uint32_t)(o->key - 1),
		.lane = lane,
		.attempt = o->attempt,
		.text = kind == SPAN_WAIT ? o->text : TRACE_NONE,
		.kind = kind,
		.status = status,
	};
}

/* o's wait or backoff, if one is open, ended at `at` (at < 0: it led to
 * nothing, and leaves no span). */
static void trace_close_wait(trace *t, trace_open *o, int64_t at, uint8_t status)
{
	if (o->wait == TRACE_NONE)
		return;
	if (at >= 0)
		trace_add(t, o, o->wait_kind, o->wait_start, at, o->wait,
			  o->wait_kind == SPAN_BACKOFF ? o->wait_status : status);
	lanes_put(&t->waits, o->wait, at < 0 ? -1 : at > o->wait_start ? at : o->wait_start);
	o->wait = TRACE_NONE;
}

static void trace_open_wait(trace *t, trace_open *o, uint8_t kind, int64_t at)
{
	o->wait_start = at;
	o->wait_kind = kind;
	if ((o->wait = lanes_take(&t->waits, &o->wait_start)) == TRACE_NONE)
		t->failed = true;
}

/* What for, kept until the file is written: once for a run of waits
 * that say the same (items queued for one resource). */
static uint32_t trace_text(trace *t, const char *text)
{
	char *copy;

	if (!text || t->n_texts >= TRACE_NONE)
		return TRACE_NONE;
	if (t->n_texts && strcmp(t->texts[t->n_texts - 1], text) == 0)
		return (uint32_t)(t->n_texts - 1);
	if (t->n_texts == t->cap_texts) {
		size_t cap = t->cap_texts ? 2 * t->cap_texts : 16;
		char **grown = realloc(t->texts, cap * sizeof *grown);

		if (!grown)
			return TRACE_NONE;
		t->texts = grown;
		t->cap_texts = cap;
	}
	if (!(copy = arena_strndup(&t->strings, text, strlen(text))))
		return TRACE_NONE;
	t->texts[t->n_texts] = copy;
	return (uint32_t)t->n_texts++;
}

static void trace_event_locked(trace *t, const run_event *ev, int64_t at)
{
	bool starts = ev->kind == RUN_EVENT_START || ev->kind == RUN_EVENT_WAIT;
	trace_open *o = open_get(t, ev->node, ev->item, starts);

	if (!o) {
		t->failed |= starts;
		return;
	}
	switch (ev->kind) {
	case RUN_EVENT_WAIT:
		trace_close_wait(t, o, at, ASSAY_OK); /* the backoff before it, or a first wait */
		o->attempt = ev->attempt;
		o->text = trace_text(t, ev->text);
		trace_open_wait(t, o, SPAN_WAIT, at);
		return;
	case RUN_EVENT_START:
		trace_close_wait(t, o, at, ASSAY_OK);
		o->attempt = ev->attempt;
		o->slot_start = at;
		if ((o->slot = lanes_take(&t->slots, &o->slot_start)) == TRACE_NONE)
			t->failed = true;
		return;
	case RUN_EVENT_ATTEMPT:
		if (o->slot == TRACE_NONE)
			return;
		trace_add(t, o, SPAN_RUN, o->slot_start, at, o->slot, (uint8_t)ev->res->status);
		lanes_put(&t->slots, o->slot, at > o->slot_start ? at : o->slot_start);
		o->slot = TRACE_NONE;
		/* A retry may follow (the run alone knows): the backoff is
		 * open until its START, dropped at the execution's end. */
		if (status_failed(ev->res->status)) {
			o->wait_status = (uint8_t)ev->res->status;
			o->attempt = ev->attempt + 1;
			trace_open_wait(t, o, SPAN_BACKOFF, at);
			return;
		}
		break;
	default: /* ITEM, FINAL: the execution is over */
		if (o->wait != TRACE_NONE)
			trace_close_wait(t, o, o->wait_kind == SPAN_WAIT ? at : -1,
					 (uint8_t)ev->res->status);
		break;
	}
	open_drop(t, o);
}

void trace_event(const run_event *ev, void *arg)
{
	trace *t = arg;
	int64_t at = ev->at_ns > t->t0_ns ? ev->at_ns - t->t0_ns : 0;

	pthread_mutex_lock(&t->lock);
	trace_event_locked(t, ev, at);
	pthread_mutex_unlock(&t->lock);
}

trace *trace_new(const plan *p)
{
	trace *t = calloc(1, sizeof *t);
	struct timespec now;

	if (!t)
		return NULL;
	t->p = p;
	t->t0_ns = task_now_ns();
	clock_gettime(CLOCK_REALTIME, &now);
	t->t0_wall = (double)now.tv_sec + (double)now.tv_nsec * 1e-9;
	pthread_mutex_init(&t->lock, NULL);
	return t;
}

int trace_subscribe(trace *t, run *r)
{
	t->run = r;
	return run_subscribe(r,
			     RUN_EVENT_START | RUN_EVENT_ATTEMPT | RUN_EVENT_WAIT | RUN_EVENT_ITEM |
				     RUN_EVENT_FINAL,
			     trace_event, t);
}

void trace_free(trace *t)
{
	trace_block *b, *next;

	if (!t)
		return;
	for (b = t->first; b; b = next) {
		next = b->next;
		free(b);
	}
	free(t->slots.busy);
	free(t->slots.last_end);
	free(t->waits.busy);
	free(t->waits.last_end);
	free(t->open);
	free(t->texts);
	arena_release(&t->strings);
	pthread_mutex_destroy(&t->lock);
	free(t);
}
