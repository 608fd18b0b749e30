/* http_expect.c -- a response against a node's expectations: status, headers, body text, regex, JSON; one line per failure. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem, REG_STARTEND */
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

static void sep(http_buf *fails)
{
	if (fails->len)
		http_buf_puts(fails, "; ");
}

static unsigned check_header(const http_header_expect *e, const char *headers, size_t hlen,
			     const http_masker *m, http_buf *fails)
{
	const char *v = NULL, *first = NULL;
	size_t vlen = 0, first_len = 0;

	while ((v = http_header_find(headers, hlen, e->name, v, &vlen))) {
		if (!first) {
			first = v;
			first_len = vlen;
		}
		if (memmem(v, vlen, e->value, strlen(e->value)) || !*e->value)
			return 0;
	}
	sep(fails);
	if (!first) {
		http_buf_printf(fails, "header %s missing", e->name);
		return 1;
	}
	http_buf_printf(fails, "header %s is ", e->name);
	if (http_header_sensitive(e->name))
		http_buf_puts(fails, "(not shown)");
	else
		http_quote_masked(fails, m, first, first_len, HTTP_BODY_SHOWN, 0);
	if (e->secret) {
		http_buf_puts(fails, ", expected it to contain the configured (secret) text");
	} else {
		http_buf_puts(fails, ", expected it to contain ");
		http_quote(fails, e->value, strlen(e->value), HTTP_BODY_SHOWN);
	}
	return 1;
}

static const char *cut_note(bool body_cut)
{
	return body_cut ? " (only its first 8 MiB were kept)" : "";
}

static unsigned check_json(const http_node *n, const char *body, size_t blen, bool body_cut,
			   const http_masker *m, http_buf *fails)
{
	const char *end = NULL;
	unsigned failed = 0;
	cJSON *root;

	if (body_cut) {
		sep(fails);
		http_buf_puts(fails, "body larger than 8 MiB: JSON not checked");
		return 1;
	}
	root = cJSON_ParseWithOpts(body ? body : "", &end, true);
	if (!root || (body && (size_t)(end - body) < blen)) {
		/* A NUL inside the body stops cJSON early: not JSON either. */
		size_t at = end && body ? (size_t)(end - body) : 0;

		sep(fails);
		if (blen == 0)
			http_buf_puts(fails, "body is empty, expected JSON");
		else if (at >= blen)
			http_buf_printf(fails, "body is not JSON (it ends early, at byte %zu)", blen);
		else {
			http_buf_printf(fails, "body is not JSON (error at byte %zu: ", at);
			http_quote_masked(fails, m, body + at, blen - at, 40,
					  at ? ASSAY_MASK_CUT_START : 0);
			http_buf_puts(fails, ")");
		}
		cJSON_Delete(root);
		return 1;
	}
	for (size_t i = 0; i < n->n_json; i++)
		failed += http_json_check_eval(&n->json[i], root, m, fails);
	cJSON_Delete(root);
	return failed;
}

unsigned http_expect_eval(const http_node *n, long status, const char *headers,
			  size_t headers_len, const char *body, size_t body_len,
			  bool body_cut, const http_masker *m, http_buf *fails)
{
	unsigned failed = 0;

	if (!http_status_match(n->status, n->n_status, status)) {
		sep(fails);
		http_buf_printf(fails, "status %ld, expected ", status);
		http_status_describe(n->status, n->n_status, fails);
		failed++;
	}
	for (size_t i = 0; i < n->n_hdr; i++)
		failed += check_header(&n->hdr[i], headers, headers_len, m, fails);
	if (n->body_contains &&
	    !(body && memmem(body, body_len, n->body_contains, strlen(n->body_contains)))) {
		sep(fails);
		if (n->body_contains_secret) {
			http_buf_printf(fails, "body does not contain the configured (secret) text%s",
					cut_note(body_cut));
		} else {
			http_buf_puts(fails, "body does not contain ");
			http_quote(fails, n->body_contains, strlen(n->body_contains), HTTP_BODY_SHOWN);
			http_buf_puts(fails, cut_note(body_cut));
		}
		failed++;
	}
	if (n->body_regex) {
		regmatch_t range[1] = { { 0, (regoff_t)body_len } };
		int rc;
#ifdef REG_STARTEND
		rc = regexec(&n->body_re, body ? body : "", 1, range, REG_STARTEND);
#else
		rc = regexec(&n->body_re, body ? body : "", 0, NULL, 0);
#endif
		if (rc != 0) {
			sep(fails);
			if (n->body_regex_secret)
				http_buf_printf(fails, "body does not match the configured (secret) pattern%s",
						cut_note(body_cut));
			else
				http_buf_printf(fails, "body does not match /%s/%s", n->body_regex,
						cut_note(body_cut));
			failed++;
		}
	}
	if (n->n_json)
		failed += check_json(n, body, body_len, body_cut, m, fails);
	return failed;
}
