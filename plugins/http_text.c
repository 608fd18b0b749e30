/* http_text.c -- the http plugin's text: growable strings, quoting, URL encoding, masking what a server sent. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"

int http_buf_add(http_buf *b, const void *p, size_t n)
{
	if (b->failed)
		return ASSAY_ENOMEM;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		char *grown;

		while (cap < b->len + n + 1)
			cap *= 2;
		grown = realloc(b->data, cap);
		if (!grown) {
			b->failed = true;
			return ASSAY_ENOMEM;
		}
		b->data = grown;
		b->cap = cap;
	}
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int http_buf_puts(http_buf *b, const char *s)
{
	return http_buf_add(b, s, strlen(s));
}

int http_buf_printf(http_buf *b, const char *fmt, ...)
{
	char small[256], *big;
	va_list ap;
	int n, rc;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0)
		return ASSAY_EINVAL;
	if ((size_t)n < sizeof small)
		return http_buf_add(b, small, (size_t)n);
	big = malloc((size_t)n + 1);
	if (!big) {
		b->failed = true;
		return ASSAY_ENOMEM;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	rc = http_buf_add(b, big, (size_t)n);
	free(big);
	return rc;
}

const char *http_buf_str(const http_buf *b)
{
	return b->data ? b->data : "";
}

char *http_buf_take(http_buf *b)
{
	char *s = b->failed ? NULL : b->data ? b->data : strdup("");

	if (b->failed)
		free(b->data);
	*b = (http_buf){ 0 };
	return s;
}

void http_buf_release(http_buf *b)
{
	free(b->data);
	*b = (http_buf){ 0 };
}

/* Length of the valid UTF-8 sequence at s (of at most n bytes), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned min;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, min = 0x80;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, min = 0x800;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, min = 0x10000;
	else
		return 0;
	if (len > n)
		return 0;
	unsigned cp = s[0] & (0x3f >> (len - 1));
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

int http_quote(http_buf *b, const char *s, size_t n, size_t max)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	http_buf_add(b, "\"", 1);
	while (i < n && i < max) {
		unsigned char c = u[i];
		size_t len;

		if (c == '"' || c == '\\') {
			char esc[2] = { '\\', (char)c };
			http_buf_add(b, esc, 2);
			i++;
		} else if (c == '\n') {
			http_buf_add(b, "\\n", 2);
			i++;
		} else if (c == '\r') {
			http_buf_add(b, "\\r", 2);
			i++;
		} else if (c == '\t') {
			http_buf_add(b, "\\t", 2);
			i++;
		} else if (c >= 0x20 && c < 0x7f) {
			http_buf_add(b, &u[i], 1);
			i++;
		} else if (c >= 0x80 && (len = utf8_len(u + i, n - i)) > 0) {
			http_buf_add(b, &u[i], len);
			i += len;
		} else {
			http_buf_printf(b, "\\x%02x", c);
			i++;
		}
	}
	http_buf_add(b, "\"", 1);
	if (i < n)
		http_buf_add(b, "...", 3);
	return b->failed ? ASSAY_ENOMEM : 0;
}

int http_urlencode(http_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		unsigned char c = *p;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			http_buf_add(b, p, 1);
		} else {
			char esc[3] = { '%', hex[c >> 4], hex[c & 15] };
			http_buf_add(b, esc, 3);
		}
	}
	return b->failed ? ASSAY_ENOMEM : 0;
}

char *http_mask(const http_masker *m, const char *s, size_t n, unsigned flags, size_t *len)
{
	const char **own;
	size_t k = 0;
	char *out;

	if (!m) {
		if ((out = malloc(n + 1))) {
			memcpy(out, s, n);
			out[n] = '\0';
			if (len)
				*len = n;
		}
		return out;
	}
	if (!(own = malloc((m->n_own[0] + m->n_own[1] + 1) * sizeof *own)))
		return NULL;
	for (int i = 0; i < 2; i++)
		for (size_t j = 0; j < m->n_own[i]; j++)
			own[k++] = m->own[i][j];
	/* In any case: a server may echo %2f for the %2F it was sent. */
	out = m->host->mask_secrets(m->task, s, n, own, k, flags | ASSAY_MASK_ANY_CASE, len);
	free(own);
	return out;
}

int http_quote_masked(http_buf *b, const http_masker *m, const char *s, size_t n, size_t max,
		      unsigned flags)
{
	/* Masking a cut end is conservative, so a window of s is as safe as
	 * all of it, and a quote shows little of either. */
	const size_t window = 64u << 10;
	size_t len;
	char *shown;
	int rc;

	if (n > window) {
		n = window;
		flags |= ASSAY_MASK_CUT_END;
	}
	if (!(shown = http_mask(m, s, n, flags, &len))) {
		b->failed = true;
		return ASSAY_ENOMEM;
	}
	rc = http_quote(b, shown, len, max);
	/* A cut end was not quoted whole: say so even when the mask left
	 * less than max bytes. */
	if (rc == 0 && (flags & ASSAY_MASK_CUT_END) && len <= max)
		rc = http_buf_add(b, "...", 3);
	free(shown);
	return rc;
}

char *http_base64(const char *s, size_t n)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *u = (const unsigned char *)s;
	char *out = malloc((n + 2) / 3 * 4 + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)u[i] << 16;

		if (i + 1 < n)
			v |= (unsigned)u[i + 1] << 8;
		if (i + 2 < n)
			v |= u[i + 2];
		*o++ = tab[v >> 18 & 63];
		*o++ = tab[v >> 12 & 63];
		*o++ = i + 1 < n ? tab[v >> 6 & 63] : '=';
		*o++ = i + 2 < n ? tab[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

void http_seconds(int64_t ms, char *buf, size_t size)
{
	double s = ms < 0 ? 0 : (double)ms / 1000;

	snprintf(buf, size, "%.3f", s);
	char *p = buf + strlen(buf) - 1;
	while (*p == '0')
		*p-- = '\0';
	if (*p == '.')
		*p = '\0';
}

char *http_url_without_userinfo(const char *url)
{
	const char *start = strstr(url, "://"), *end, *at;
	char *out;

	start = start ? start + 3 : url;
	end = start + strcspn(start, "/?#");
	at = memrchr(start, '@', (size_t)(end - start));
	if (!at)
		return strdup(url);
	if (asprintf(&out, "%.*s***%s", (int)(start - url), url, at) < 0)
		return NULL;
	return out;
}
