/* mask.c -- secrets masked in text: each occurrence, and the part of one at a cut, replaced by "***". */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "mask.h"

typedef struct mask_span {
	size_t lo, hi; /* s[lo..hi) is masked */
} mask_span;

typedef struct mask_spans {
	mask_span *v;
	size_t n, cap;
	bool failed;
} mask_spans;

static void mask_add(mask_spans *m, size_t lo, size_t hi)
{
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 8;
		mask_span *v = realloc(m->v, cap * sizeof *v);

		if (!v) {
			m->failed = true;
			return;
		}
		m->v = v;
		m->cap = cap;
	}
	m->v[m->n++] = (mask_span){ lo, hi };
}

/* Every occurrence of sec, overlapping ones as one span. */
static void mask_find(mask_spans *m, const char *s, size_t n, const char *sec, size_t len)
{
	const char *p = s, *end = s + n, *hit;
	size_t lo = 0, hi = 0;
	bool open = false;

	while ((size_t)(end - p) >= len && (hit = memmem(p, (size_t)(end - p), sec, len))) {
		size_t at = (size_t)(hit - s);

		if (open && at <= hi) {
			hi = at + len;
		} else {
			if (open)
				mask_add(m, lo, hi);
			lo = at;
			hi = at + len;
			open = true;
		}
		p = hit + 1;
	}
	if (open)
		mask_add(m, lo, hi);
}

/* How long the end of s is that sec begins with (shorter than sec: a
 * whole one is an occurrence). */
static size_t mask_tail(const char *s, size_t n, const char *sec, size_t len)
{
	size_t i = n >= len ? n - len + 1 : 0;
	const char *hit;

	/* The longest first: the earliest start. */
	for (; i < n && (hit = memchr(s + i, sec[0], n - i)); i = (size_t)(hit - s) + 1)
		if (memcmp(hit, sec, n - (size_t)(hit - s)) == 0)
			return n - (size_t)(hit - s);
	return 0;
}

/* How long the start of s is that sec ends with (shorter than sec). */
static size_t mask_head(const char *s, size_t n, const char *sec, size_t len)
{
	for (size_t k = len - 1 < n ? len - 1 : n; k > 0; k--)
		if (sec[len - k] == s[0] && memcmp(s, sec + len - k, k) == 0)
			return k;
	return 0;
}

static int mask_span_cmp(const void *a, const void *b)
{
	const mask_span *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

char *mask_text(const char *s, size_t n, const char *const *secrets, size_t n_secrets,
		unsigned flags, size_t *out_len)
{
	mask_spans m = { 0 };
	size_t i, k, at = 0, len = 0;
	char *out;

	for (i = 0; i < n_secrets; i++) {
		size_t slen = secrets[i] ? strlen(secrets[i]) : 0;

		if (!slen)
			continue;
		mask_find(&m, s, n, secrets[i], slen);
		if ((flags & ASSAY_MASK_CUT_START) && n && (k = mask_head(s, n, secrets[i], slen)))
			mask_add(&m, 0, k);
		if ((flags & ASSAY_MASK_CUT_END) && n && (k = mask_tail(s, n, secrets[i], slen)))
			mask_add(&m, n - k, n);
	}
	if (m.failed) {
		free(m.v);
		return NULL;
	}
	if (m.n > 1)
		qsort(m.v, m.n, sizeof *m.v, mask_span_cmp);
	/* Each merged span becomes "***", which may be longer than it. */
	out = malloc(n + 3 * m.n + 1);
	if (!out) {
		free(m.v);
		return NULL;
	}
	for (i = 0; i < m.n; i++) {
		size_t lo = m.v[i].lo, hi = m.v[i].hi;

		while (i + 1 < m.n && m.v[i + 1].lo <= hi) {
			if (m.v[i + 1].hi > hi)
				hi = m.v[i + 1].hi;
			i++;
		}
		if (lo < at)
			lo = at;
		memcpy(out + len, s + at, lo - at);
		len += lo - at;
		memcpy(out + len, "***", 3);
		len += 3;
		at = hi;
	}
	memcpy(out + len, s + at, n - at);
	len += n - at;
	out[len] = '\0';
	free(m.v);
	if (out_len)
		*out_len = len;
	return out;
}
