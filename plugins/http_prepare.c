/* http_prepare.c -- the http node's request options checked at load time, into the state its runs share. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "http.h"

#define HTTP_BODY_FILE_MAX (64 << 20)

/* ---- small helpers ------------------------------------------------------ */

static const char *shown(const assay_host *h, const assay_value *v)
{
	return h->value_secret(v) ? "(secret)" : h->value_string(v);
}

/* A string option: NULL (with the error reported) when v is something else. */
static const char *want_string(const assay_host *h, const assay_value *v, const char *what)
{
	if (h->value_type(v) != ASSAY_VALUE_STRING) {
		h->config_error(v, "`%s` must be a string, not %s", what, h->value_type_name(v));
		return NULL;
	}
	return h->value_string(v);
}

static int want_bool(const assay_host *h, const assay_value *v, const char *what, bool *out)
{
	if (!v)
		return 0;
	if (h->value_type(v) != ASSAY_VALUE_BOOLEAN || h->value_bool(v, out) < 0) {
		h->config_error(v, "`%s` must be true or false, not %s", what, h->value_type_name(v));
		return 1;
	}
	return 0;
}

static int want_duration(const assay_host *h, const assay_value *v, int64_t *out)
{
	return v && h->check_duration(v, NULL, 1, INT64_MAX, out) < 0;
}

/* A readable file option: the resolved path (malloc'd) in *out. */
static int want_file(const assay_host *h, const assay_value *v, const char *what, char **out)
{
	const char *s;

	if (!v)
		return 0;
	if (!(s = want_string(h, v, what)))
		return 1;
	if (!*s) {
		h->config_error(v, "`%s` must not be empty", what);
		return 1;
	}
	if (!(*out = h->config_path(v, s)))
		return ASSAY_ENOMEM;
	if (access(*out, R_OK) < 0) {
		h->config_error(v, "`%s`: cannot read \"%s\": %s", what,
				h->value_secret(v) ? "(secret)" : *out, strerror(errno));
		return 1;
	}
	return 0;
}

static int add_redact(http_node *n, const char *s, size_t len)
{
	char **grown;

	if (len == 0)
		return 0;
	grown = realloc(n->redact, (n->n_redact + 1) * sizeof *grown);
	if (!grown)
		return ASSAY_ENOMEM;
	n->redact = grown;
	if (!(grown[n->n_redact] = strndup(s, len)))
		return ASSAY_ENOMEM;
	n->n_redact++;
	return 0;
}

/* ---- url ------------------------------------------------------------------ */

/* The url is a template for host->expand(); the host checks its
 * placeholders now, so that a bad one is a config error at its position.
 * *has is set when expanding changes the text. */
static int check_template(const assay_host *h, assay_node *node, const assay_value *v,
			  bool *has)
{
	int changes = h->check_template(node, v, "url");

	*has = changes > 0;
	return changes < 0;
}

/* Only an http or https URL that curl can parse.  The URL is quoted in
 * the error, but never with a password in it. */
static int check_url(const assay_host *h, const assay_value *v, const char *url)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *safe;
	CURLUcode uc;
	int errors = 0;

	if (!u)
		return ASSAY_ENOMEM;
	safe = h->value_secret(v) ? strdup("(secret)") : http_url_without_userinfo(url);
	if (!safe) {
		curl_url_cleanup(u);
		return ASSAY_ENOMEM;
	}
	uc = curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME);
	if (uc != CURLUE_OK) {
#if LIBCURL_VERSION_NUM >= 0x075000
		const char *why = curl_url_strerror(uc);
#else
		const char *why = "malformed";
#endif
		h->config_error(v, "`url`: \"%s\" is not a valid URL: %s (write it as http://host/path or https://host/path)",
				safe, why);
		errors++;
	} else if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
		   (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0)) {
		h->config_error(v, "`url`: \"%s\" is not an http:// or https:// URL", safe);
		errors++;
	}
	free(safe);
	curl_free(scheme);
	curl_url_cleanup(u);
	return errors;
}

static int prepare_url(const assay_host *h, assay_node *node, const assay_value *opts,
		       http_node *n)
{
	const assay_value *v = h->value_get(opts, "url");
	const char *url;

	if (!v) {
		h->config_error(opts, "`url` is missing: the address to request, such as url = \"https://example.com/health\"");
		return 1;
	}
	if (!(url = want_string(h, v, "url")))
		return 1;
	if (!*url) {
		h->config_error(v, "`url` must not be empty");
		return 1;
	}
	n->url = url;
	n->url_secret = h->value_secret(v);
	if (!n->url_secret) {
		bool has = false;

		if (check_template(h, node, v, &has))
			return 1;
		n->url_expand = has;
		if (has)
			return 0; /* checked once expanded, at run time */
	}
	return check_url(h, v, url);
}

/* ---- method, headers, query, body -------------------------------------- */

static int prepare_method(const assay_host *h, const assay_value *v, http_node *n)
{
	const char *s = "GET";

	if (v && !(s = want_string(h, v, "method")))
		return 1;
	if (!http_token(s)) {
		h->config_error(v, "`method`: \"%s\" is not an HTTP method (GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS)",
				shown(h, v));
		return 1;
	}
	if (!(n->method = strdup(s)))
		return ASSAY_ENOMEM;
	/* Methods are case-sensitive and every registered one is upper case:
	 * "get" is a typo for GET, not a method of its own. */
	for (char *p = n->method; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	return 0;
}

/* For Authorization = "Bearer abc", both the value and "abc". */
static int redact_credential(http_node *n, const char *value)
{
	const char *sp = strchr(value, ' ');
	int rc = add_redact(n, value, strlen(value));

	while (rc == 0 && sp && *sp == ' ')
		sp++;
	if (rc == 0 && sp && strlen(sp) >= 4)
		rc = add_redact(n, sp, strlen(sp));
	return rc;
}

static int prepare_headers(http_plugin *pl, const assay_value *v, http_node *n)
{
	const assay_host *h = pl->host;
	bool user_agent = false, expect = false;
	int errors = 0;

	if (v && h->value_type(v) != ASSAY_VALUE_TABLE) {
		h->config_error(v, "`headers` must be a table of strings, such as headers = { Accept = \"application/json\" }, not %s",
				h->value_type_name(v));
		return 1;
	}
	for (size_t i = 0; v && i < h->value_len(v); i++) {
		const char *name = NULL, *value;
		const assay_value *e = h->value_at(v, i, &name);
		char what[300];
		char *line;

		snprintf(what, sizeof what, "headers.%s", name);
		if (!http_token(name)) {
			h->config_error(e, "`headers`: \"%s\" is not a valid header name", name);
			errors++;
			continue;
		}
		if (!(value = want_string(h, e, what))) {
			errors++;
			continue;
		}
		if (strpbrk(value, "\r\n")) {
			h->config_error(e, "`%s` must not contain a line break", what);
			errors++;
			continue;
		}
		user_agent = user_agent || strcasecmp(name, "User-Agent") == 0;
		expect = expect || strcasecmp(name, "Expect") == 0;
		if ((http_header_sensitive(name) || h->value_secret(e)) &&
		    redact_credential(n, value) < 0)
			return ASSAY_ENOMEM;
		/* curl sends "Name;" as a header with an empty value ("Name:"
		 * would remove it). */
		if (asprintf(&line, *value ? "%s: %s" : "%s;", name, value) < 0)
			return ASSAY_ENOMEM;
		struct curl_slist *l = curl_slist_append(n->headers, line);
		free(line);
		if (!l)
			return ASSAY_ENOMEM;
		n->headers = l;
	}
	if (errors)
		return errors;
	if (!user_agent) {
		char line[96];
		snprintf(line, sizeof line, "User-Agent: %s", pl->user_agent);
		struct curl_slist *l = curl_slist_append(n->headers, line);
		if (!l)
			return ASSAY_ENOMEM;
		n->headers = l;
	}
	/* A check wants the answer, not a 100 Continue round trip first. */
	if (!expect) {
		struct curl_slist *l = curl_slist_append(n->headers, "Expect:");
		if (!l)
			return ASSAY_ENOMEM;
		n->headers = l;
	}
	return 0;
}

static int prepare_query(const assay_host *h, const assay_value *v, http_node *n)
{
	http_buf q = { 0 };
	int errors = 0;

	if (!v)
		return 0;
	if (h->value_type(v) != ASSAY_VALUE_TABLE) {
		h->config_error(v, "`query` must be a table, such as query = { page = 2, q = \"text\" }, not %s",
				h->value_type_name(v));
		return 1;
	}
	for (size_t i = 0; i < h->value_len(v); i++) {
		const char *name = NULL;
		const assay_value *e = h->value_at(v, i, &name);
		char num[64];
		const char *text = NULL;
		int64_t iv;
		double dv;
		bool bv;

		switch (h->value_type(e)) {
		case ASSAY_VALUE_STRING:
			text = h->value_string(e);
			n->query_secret = n->query_secret || h->value_secret(e);
			break;
		case ASSAY_VALUE_INTEGER:
			h->value_int(e, &iv);
			snprintf(num, sizeof num, "%lld", (long long)iv);
			text = num;
			break;
		case ASSAY_VALUE_FLOAT:
			h->value_float(e, &dv);
			snprintf(num, sizeof num, "%.17g", dv);
			text = num;
			break;
		case ASSAY_VALUE_BOOLEAN:
			h->value_bool(e, &bv);
			text = bv ? "true" : "false";
			break;
		default:
			h->config_error(e, "`query.%s` must be a string, number or boolean, not %s", name,
					h->value_type_name(e));
			errors++;
			continue;
		}
		if (q.len)
			http_buf_puts(&q, "&");
		http_urlencode(&q, name);
		http_buf_puts(&q, "=");
		size_t at = q.len;
		http_urlencode(&q, text);
		/* The host scrubs the secret as written; an echoing server
		 * would show it encoded. */
		if (h->value_type(e) == ASSAY_VALUE_STRING && h->value_secret(e) && !q.failed &&
		    strcmp(q.data + at, text) != 0 && add_redact(n, q.data + at, q.len - at) < 0) {
			http_buf_release(&q);
			return ASSAY_ENOMEM;
		}
	}
	if (q.failed) {
		http_buf_release(&q);
		return ASSAY_ENOMEM;
	}
	n->query = q.len ? http_buf_take(&q) : NULL;
	http_buf_release(&q);
	return errors;
}

static int read_file(const char *path, char **out, size_t *len, int *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	http_buf b = { 0 };
	char chunk[65536];
	ssize_t got;

	if (fd < 0) {
		*err = errno;
		return -1;
	}
	while ((got = read(fd, chunk, sizeof chunk)) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 || b.len + (size_t)got > HTTP_BODY_FILE_MAX) {
			*err = got < 0 ? errno : EFBIG;
			close(fd);
			http_buf_release(&b);
			return -1;
		}
		http_buf_add(&b, chunk, (size_t)got);
	}
	close(fd);
	http_buf_add(&b, "", 0);
	if (b.failed) {
		*err = ENOMEM;
		http_buf_release(&b);
		return -1;
	}
	*len = b.len;
	*out = http_buf_take(&b);
	return 0;
}

static int prepare_body(const assay_host *h, const assay_value *opts, http_node *n)
{
	const assay_value *body = h->value_get(opts, "body");
	const assay_value *file = h->value_get(opts, "body_file");
	const char *s;
	int err;

	if (body && file) {
		h->config_error(file, "set `body` or `body_file`, not both");
		return 1;
	}
	if (body) {
		if (!(s = want_string(h, body, "body")))
			return 1;
		n->body_len = strlen(s);
		return (n->body = strdup(s)) ? 0 : ASSAY_ENOMEM;
	}
	if (!file)
		return 0;
	if (!(s = want_string(h, file, "body_file")))
		return 1;
	if (!*s) {
		h->config_error(file, "`body_file` must not be empty");
		return 1;
	}
	char *path = h->config_path(file, s);
	if (!path)
		return ASSAY_ENOMEM;
	if (read_file(path, &n->body, &n->body_len, &err) < 0) {
		h->config_error(file, "`body_file`: cannot read \"%s\": %s",
				h->value_secret(file) ? "(secret)" : path,
				err == EFBIG ? "larger than 64 MiB" : strerror(err));
		free(path);
		return err == ENOMEM ? ASSAY_ENOMEM : 1;
	}
	free(path);
	return 0;
}

/* ---- rate limit and circuit breaker (also [plugins.http]) ---------------- */

bool http_prepare_rate(http_plugin *pl, const assay_value *v, double *out)
{
	const assay_host *h = pl->host;
	assay_value_type t = h->value_type(v);

	if ((t != ASSAY_VALUE_INTEGER && t != ASSAY_VALUE_FLOAT) || h->value_float(v, out) < 0) {
		h->config_error(v, "`rate_limit` must be a number of requests per second per host (such as 10 or 0.5), not %s",
				h->value_type_name(v));
		return false;
	}
	if (!(*out >= 0) || *out > 1e6) {
		h->config_error(v, "`rate_limit` is %g: it must be 0 (no limit) to 1000000 requests per second", *out);
		return false;
	}
	return true;
}

bool http_prepare_breaker(http_plugin *pl, const assay_value *v, unsigned *out)
{
	int64_t k;

	if (pl->host->check_int(v, NULL, 0, 1000000, &k) < 0)
		return false;
	*out = (unsigned)k;
	return true;
}

/* ---- the node --------------------------------------------------------------- */

void http_release(void *state, void *data)
{
	http_node *n = state;

	(void)data;
	if (!n)
		return;
	free(n->query);
	free(n->method);
	curl_slist_free_all(n->headers);
	for (size_t i = 0; i < n->n_redact; i++) {
		explicit_bzero(n->redact[i], strlen(n->redact[i]));
		free(n->redact[i]);
	}
	free(n->redact);
	if (n->body)
		explicit_bzero(n->body, n->body_len);
	free(n->body);
	free(n->ca_file);
	free(n->client_cert);
	free(n->client_key);
	free(n->status);
	for (size_t i = 0; i < n->n_hdr; i++) {
		free(n->hdr[i].name);
		free(n->hdr[i].value);
	}
	free(n->hdr);
	free(n->body_contains);
	if (n->body_regex) {
		regfree(&n->body_re);
		free(n->body_regex);
	}
	for (size_t i = 0; i < n->n_json; i++)
		http_json_check_release(&n->json[i]);
	free(n->json);
	free(n);
}

/* Adds a step's result: errors reported, or a negative code that stops. */
#define STEP(expr)                          \
	do {                                \
		int step_rc_ = (expr);      \
		if (step_rc_ < 0) {         \
			rc = step_rc_;      \
			goto fail;          \
		}                           \
		errors += step_rc_;         \
	} while (0)

int http_prepare(assay_node *node, const assay_value *opts, void *data, void **state)
{
	http_plugin *pl = data;
	const assay_host *h = pl->host;
	const assay_value *v;
	http_node *n = calloc(1, sizeof *n);
	int errors = 0, rc = ASSAY_EINVAL;

	if (!n)
		return ASSAY_ENOMEM;
	n->warn_ms = n->crit_ms = -1;
	n->rate_limit = pl->rate_limit;
	n->circuit_breaker = pl->circuit_breaker;

	/* Every step reports its own errors and the next still runs: the
	 * operator sees every bad option at once. */
	STEP(prepare_url(h, node, opts, n));
	STEP(prepare_method(h, h->value_get(opts, "method"), n));
	STEP(prepare_headers(pl, h->value_get(opts, "headers"), n));
	STEP(prepare_query(h, h->value_get(opts, "query"), n));
	STEP(prepare_body(h, opts, n));
	STEP(want_bool(h, h->value_get(opts, "follow_redirects"), "follow_redirects",
		       &n->follow_redirects));
	STEP(want_duration(h, h->value_get(opts, "connect_timeout"), &n->connect_timeout_ms));
	STEP(want_file(h, h->value_get(opts, "ca_file"), "ca_file", &n->ca_file));
	STEP(want_file(h, h->value_get(opts, "client_cert"), "client_cert", &n->client_cert));
	STEP(want_file(h, h->value_get(opts, "client_key"), "client_key", &n->client_key));
	if (n->client_key && !n->client_cert) {
		h->config_error(h->value_get(opts, "client_key"),
				"`client_key` needs `client_cert`: the certificate the key belongs to");
		errors++;
	}
	STEP(want_bool(h, h->value_get(opts, "insecure"), "insecure", &n->insecure));
	STEP(http_prepare_expect(pl, h->value_get(opts, "expect"), n));
	STEP(http_prepare_response_time(pl, h->value_get(opts, "response_time"), n));
	if ((v = h->value_get(opts, "rate_limit")) && !http_prepare_rate(pl, v, &n->rate_limit))
		errors++;
	if ((v = h->value_get(opts, "circuit_breaker")) &&
	    !http_prepare_breaker(pl, v, &n->circuit_breaker))
		errors++;
	if (errors == 0) {
		*state = n;
		return 0;
	}
	rc = ASSAY_EINVAL;
fail:
	http_release(n, data);
	*state = NULL;
	return rc;
}
