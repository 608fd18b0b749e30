/* http_limit.c -- per-host state shared by all nodes: a token bucket for the rate limit, a circuit breaker, and the table of hosts. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

int64_t http_bucket_take(http_bucket *b, double rate, double burst, int64_t now_ns)
{
	if (rate <= 0)
		return 0;
	if (burst < 1)
		burst = 1;
	if (!b->started) {
		b->started = true;
		b->tokens = burst;
		b->last_ns = now_ns;
	}
	/* Refill for the time since the last take (never backwards: two
	 * threads may read the clock in one order and take in the other). */
	if (now_ns > b->last_ns) {
		b->tokens += (double)(now_ns - b->last_ns) / 1e9 * rate;
		if (b->tokens > burst)
			b->tokens = burst;
		b->last_ns = now_ns;
	}
	b->tokens -= 1;
	if (b->tokens >= 0)
		return 0;
	/* In debt: this taker's token arrives when the debt is paid. */
	return (int64_t)ceil(-b->tokens / rate * 1e9);
}

bool http_breaker_record(http_breaker *b, bool failed, unsigned threshold)
{
	if (!failed) {
		if (!b->opened_after)
			b->failures = 0;
		return false;
	}
	if (b->failures < UINT_MAX)
		b->failures++;
	if (b->opened_after || threshold == 0 || b->failures < threshold)
		return false;
	b->opened_after = b->failures;
	return true;
}

bool http_breaker_open(const http_breaker *b, unsigned threshold)
{
	if (threshold == 0)
		return false;
	/* Nodes may ask for different thresholds: each sees the count
	 * against its own, and once any opened it, it is open for all that
	 * use a breaker. */
	return b->opened_after || b->failures >= threshold;
}

/* FNV-1a: the keys are short and few; anything spreads them well enough. */
static size_t hash(const char *s)
{
	size_t h = (size_t)14695981039346656037ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * (size_t)1099511628211ull;
	return h;
}

static int grow(http_hosts *t)
{
	size_t n = t->n_slots ? t->n_slots * 2 : 16;
	http_hostent **slots = calloc(n, sizeof *slots);

	if (!slots)
		return ASSAY_ENOMEM;
	for (size_t i = 0; i < t->n_slots; i++) {
		http_hostent *e = t->slots[i], *next;

		for (; e; e = next) {
			next = e->next;
			e->next = slots[hash(e->key) & (n - 1)];
			slots[hash(e->key) & (n - 1)] = e;
		}
	}
	free(t->slots);
	t->slots = slots;
	t->n_slots = n;
	return 0;
}

http_hostent *http_hosts_get(http_hosts *t, const char *key)
{
	http_hostent *e;

	if (t->n_slots) {
		for (e = t->slots[hash(key) & (t->n_slots - 1)]; e; e = e->next)
			if (strcmp(e->key, key) == 0)
				return e;
	}
	if ((t->n + 1) * 2 > t->n_slots && grow(t) < 0)
		return NULL;
	e = calloc(1, sizeof *e);
	if (!e || !(e->key = strdup(key))) {
		free(e);
		return NULL;
	}
	size_t i = hash(key) & (t->n_slots - 1);
	e->next = t->slots[i];
	t->slots[i] = e;
	t->n++;
	return e;
}

void http_hosts_release(http_hosts *t)
{
	for (size_t i = 0; i < t->n_slots; i++) {
		http_hostent *e = t->slots[i], *next;

		for (; e; e = next) {
			next = e->next;
			free(e->key);
			free(e);
		}
	}
	free(t->slots);
	*t = (http_hosts){ 0 };
}
