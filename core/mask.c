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

/* a[0..n) and b[0..n) are the same text; with any_case, whatever the
 * case of their ASCII letters (what a server that echoes %2f for %2F
 * shows).  Bytes, not strings: NULs compare as any other byte. */
static bool mask_eq(const char *a, const char *b, size_t n, bool any_case)
{
	if (!any_case)
		return memcmp(a, b, n) == 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];

		if (x != y && !(x >= 'A' && x <= 'Z' && x + 32 == y) &&
		    !(y >= 'A' && y <= 'Z' && y + 32 == x))
			return false;
	}
	return true;
}

/* The first occurrence of sec in [p, end), or NULL. */
static const char *mask_search(const char *p, const char *end, const char *sec, size_t len,
			       bool any_case)
{
	if (!any_case)
		return memmem(p, (size_t)(end - p), sec, len);
	for (; (size_t)(end - p) >= len; p++)
		if (mask_eq(p, sec, len, true))
			return p;
	return NULL;
}

/* Every occurrence of sec, overlapping ones as one span. */
static void mask_find(mask_spans *m, const char *s, size_t n, const char *sec, size_t len,
		      bool any_case)
{
	const char *p = s, *end = s + n, *hit;
	size_t lo = 0, hi = 0;
	bool open = false;

	while ((size_t)(end - p) >= len && (hit = mask_search(p, end, sec, len, any_case))) {
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
static size_t mask_tail(const char *s, size_t n, const char *sec, size_t len, bool any_case)
{
	/* The longest first: the earliest start. */
	for (size_t i = n >= len ? n - len + 1 : 0; i < n; i++)
		if (mask_eq(s + i, sec, n - i, any_case))
			return n - i;
	return 0;
}

/* How long the start of s is that sec ends with (shorter than sec). */
static size_t mask_head(const char *s, size_t n, const char *sec, size_t len, bool any_case)
{
	for (size_t k = len - 1 < n ? len - 1 : n; k > 0; k--)
		if (mask_eq(s, sec + len - k, k, any_case))
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
	bool any_case = flags & ASSAY_MASK_ANY_CASE;
	char *out;

	for (i = 0; i < n_secrets; i++) {
		size_t slen = secrets[i] ? strlen(secrets[i]) : 0;

		if (!slen)
			continue;
		mask_find(&m, s, n, secrets[i], slen, any_case);
		if ((flags & ASSAY_MASK_CUT_START) && n &&
		    (k = mask_head(s, n, secrets[i], slen, any_case)))
			mask_add(&m, 0, k);
		if ((flags & ASSAY_MASK_CUT_END) && n &&
		    (k = mask_tail(s, n, secrets[i], slen, any_case)))
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
