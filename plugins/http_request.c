/* http_request.c -- one request: its URL, its curl easy handle set up from the node, and what curl measured. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "http.h"

_Static_assert(sizeof ((http_req *)0)->errbuf >= CURL_ERROR_SIZE, "errbuf too small for curl");

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	http_req *req = arg;
	size_t n = size * nmemb;
	size_t room = req->body.len < req->body_limit ? req->body_limit - req->body.len : 0;

	/* Past the limit the body is counted, not kept: a check must not
	 * hold a download in memory. */
	http_buf_add(&req->body, p, n < room ? n : room);
	req->body_total += n;
	return n;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *arg)
{
	http_req *req = arg;
	size_t n = size * nmemb;

	/* A status line starts a response (after a redirect or a 100
	 * Continue): keep only the last response's headers. */
	if (n >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		req->headers.len = 0;
		req->first_byte_ns = http_now_ns();
	}
	if (req->headers.len + n <= HTTP_HEADERS_KEPT)
		http_buf_add(&req->headers, p, n);
	return n;
}

static int add_redact(http_req *req, const char *s)
{
	char **grown;

	if (!s || !*s)
		return 0;
	grown = realloc(req->redact, (req->n_redact + 1) * sizeof *grown);
	if (!grown)
		return ASSAY_ENOMEM;
	req->redact = grown;
	if (!(grown[req->n_redact] = strdup(s)))
		return ASSAY_ENOMEM;
	req->n_redact++;
	return 0;
}

/* user:password in the URL is sent as Basic credentials: its parts, and
 * their base64 (what an echoing server would show), are never shown. */
static int redact_userinfo(http_req *req, CURLU *u)
{
	char *user = NULL, *pass = NULL, *both = NULL, *b64 = NULL;
	int rc = 0;

	curl_url_get(u, CURLUPART_USER, &user, 0);
	curl_url_get(u, CURLUPART_PASSWORD, &pass, 0);
	if (pass) {
		char *du = NULL, *dp = NULL;

		curl_url_get(u, CURLUPART_USER, &du, CURLU_URLDECODE);
		curl_url_get(u, CURLUPART_PASSWORD, &dp, CURLU_URLDECODE);
		if (asprintf(&both, "%s:%s", du ? du : "", dp ? dp : "") < 0)
			both = NULL;
		b64 = both ? http_base64(both, strlen(both)) : NULL;
		if (!both || !b64)
			rc = ASSAY_ENOMEM;
		if (!rc)
			rc = add_redact(req, both);
		if (!rc)
			rc = add_redact(req, b64);
		if (!rc && strlen(pass) >= 4)
			rc = add_redact(req, pass);
		if (!rc && dp && strlen(dp) >= 4)
			rc = add_redact(req, dp);
		curl_free(du);
		curl_free(dp);
	}
	if (!rc && user && strlen(user) >= 4 && pass)
		rc = add_redact(req, user);
	curl_free(user);
	curl_free(pass);
	free(both);
	free(b64);
	return rc;
}

/* The final URL, the host key, the URL as logs show it.  NULL or a
 * message (malloc'd; NULL for out of memory via *nomem). */
static char *req_url(http_req *req, const char *text, bool secret, bool *nomem)
{
	const http_node *n = req->node;
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *why = NULL;
	CURLUcode uc;

	*nomem = !u;
	if (!u)
		return NULL;
	uc = curl_url_set(u, CURLUPART_URL, text, CURLU_NON_SUPPORT_SCHEME);
	if (uc != CURLUE_OK || curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0)) {
#if LIBCURL_VERSION_NUM >= 0x075000
		const char *what = uc != CURLUE_OK ? curl_url_strerror(uc) : NULL;
#else
		const char *what = uc != CURLUE_OK ? "malformed" : NULL;
#endif
		/* Quoted, but never with a password in it. */
		char *safe = secret ? NULL : http_url_without_userinfo(text);

		if (asprintf(&why, "`url` %s%s%sis not %s%s", safe ? "\"" : "", safe ? safe : "",
			     safe ? "\" " : "", what ? "a valid URL: " : "an http:// or https:// URL",
			     what ? what : "") < 0)
			*nomem = true;
		free(safe);
		goto out;
	}
	if (n->query && curl_url_set(u, CURLUPART_QUERY, n->query, CURLU_APPENDQUERY) != CURLUE_OK) {
		*nomem = true;
		goto out;
	}
	if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
		if (asprintf(&why, "`url` has no host") < 0)
			*nomem = true;
		goto out;
	}
	for (char *p = host; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	char *full = NULL;
	if (curl_url_get(u, CURLUPART_URL, &full, 0) != CURLUE_OK ||
	    !(req->url = strdup(full)) ||
	    asprintf(&req->host_key, "%s://%s:%s", scheme, host, port) < 0 ||
	    redact_userinfo(req, u) < 0) {
		curl_free(full);
		*nomem = true;
		goto out;
	}
	curl_free(full);
	/* What a log may show: no credentials, no query or path that came
	 * from a secret. */
	curl_url_set(u, CURLUPART_USER, NULL, 0);
	curl_url_set(u, CURLUPART_PASSWORD, NULL, 0);
	curl_url_set(u, CURLUPART_OPTIONS, NULL, 0);
	curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0);
	if (secret || n->query_secret)
		curl_url_set(u, CURLUPART_QUERY, NULL, 0);
	if (secret)
		curl_url_set(u, CURLUPART_PATH, "/...", 0);
	if (curl_url_get(u, CURLUPART_URL, &full, 0) != CURLUE_OK || !(req->shown = strdup(full)))
		*nomem = true;
	curl_free(full);
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return why;
}

static bool setup_easy(http_req *req)
{
	const http_node *n = req->node;
	const http_plugin *pl = req->pl;
	CURL *e = curl_easy_init();
	CURLcode rc = CURLE_OK;

	if (!e)
		return false;
	req->easy = e;
#define SET(opt, val) \
	do { if (rc == CURLE_OK) rc = curl_easy_setopt(e, opt, val); } while (0)
	SET(CURLOPT_URL, req->url);
	SET(CURLOPT_PRIVATE, (void *)req);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_ERRORBUFFER, req->errbuf);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, (void *)req);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_HEADERDATA, (void *)req);
	SET(CURLOPT_HTTPHEADER, n->headers);
	SET(CURLOPT_ACCEPT_ENCODING, ""); /* whatever this libcurl decodes */
#if LIBCURL_VERSION_NUM >= 0x075500
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
	SET(CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	SET(CURLOPT_FOLLOWLOCATION, n->follow_redirects ? 1L : 0L);
	SET(CURLOPT_MAXREDIRS, (long)HTTP_MAX_REDIRECTS);
	if (n->connect_timeout_ms > 0)
		SET(CURLOPT_CONNECTTIMEOUT_MS, (long)n->connect_timeout_ms);
	/* Verified unless the node says insecure = true, explicitly. */
	SET(CURLOPT_SSL_VERIFYPEER, n->insecure ? 0L : 1L);
	SET(CURLOPT_SSL_VERIFYHOST, n->insecure ? 0L : 2L);
	if (n->ca_file)
		SET(CURLOPT_CAINFO, n->ca_file);
	if (n->client_cert)
		SET(CURLOPT_SSLCERT, n->client_cert);
	if (n->client_key)
		SET(CURLOPT_SSLKEY, n->client_key);
	if (strcmp(n->method, "HEAD") == 0) {
		SET(CURLOPT_NOBODY, 1L);
	} else if (n->body) {
		SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)n->body_len);
		SET(CURLOPT_POSTFIELDS, n->body);
		if (strcmp(n->method, "POST") != 0)
			SET(CURLOPT_CUSTOMREQUEST, n->method);
	} else if (strcmp(n->method, "GET") != 0) {
		SET(CURLOPT_CUSTOMREQUEST, n->method);
	}
	if (rc != CURLE_OK)
		return false;
	/* Optional: h2 over TLS when this libcurl has it (whether to wait
	 * for a connection to share is decided at admission, per host).
	 * Proxies come from the environment, as curl does by default. */
	if (pl->have_http2)
		curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
#undef SET
	return true;
}

http_req *http_req_new(http_plugin *pl, const http_node *n, assay_task *task, char **why)
{
	const assay_host *h = pl->host;
	http_req *req = calloc(1, sizeof *req);
	char *text = NULL;
	bool nomem = false;
	int err = 0;

	*why = NULL;
	if (!req)
		return NULL;
	req->pl = pl;
	req->node = n;
	req->task = task;
	req->cancel = 0;
	req->state = HTTP_REQ_NEW;
	/* Without expectations on it, the body is kept only to be quoted. */
	req->body_limit = n->body_contains || n->body_regex || n->n_json ? HTTP_BODY_KEPT
									  : HTTP_BODY_SHOWN + 4;
	text = n->url_expand ? h->expand(task, n->url, &err) : strdup(n->url);
	if (!text) {
		if (err && err != ASSAY_ENOMEM &&
		    asprintf(why, "cannot expand `url`: %s", h->strerror(err)) < 0)
			*why = NULL;
		goto fail;
	}
	*why = req_url(req, text, n->url_secret, &nomem);
	if (*why || nomem)
		goto fail;
	if (!setup_easy(req)) {
		*why = strdup("cannot set up the request (curl_easy_init or an option failed)");
		goto fail;
	}
	free(text);
	return req;
fail:
	if (text)
		explicit_bzero(text, strlen(text));
	free(text);
	http_req_free(req);
	return NULL;
}

void http_req_collect(http_req *req)
{
	CURL *e = req->easy;
	curl_off_t us = 0, size = 0;

	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &req->status);
	if (curl_easy_getinfo(e, CURLINFO_TOTAL_TIME_T, &us) == CURLE_OK)
		req->t_total = (double)us / 1e6;
	if (curl_easy_getinfo(e, CURLINFO_CONNECT_TIME_T, &us) == CURLE_OK)
		req->t_connect = (double)us / 1e6;
	if (curl_easy_getinfo(e, CURLINFO_APPCONNECT_TIME_T, &us) == CURLE_OK)
		req->t_tls = (double)us / 1e6;
	if (curl_easy_getinfo(e, CURLINFO_STARTTRANSFER_TIME_T, &us) == CURLE_OK)
		req->t_ttfb = (double)us / 1e6;
	if (curl_easy_getinfo(e, CURLINFO_SIZE_DOWNLOAD_T, &size) == CURLE_OK)
		req->size = (double)size;
	/* A transfer that waited for a connection to share has that wait in
	 * its total: the response time shown and judged is the server's. */
#if LIBCURL_VERSION_NUM >= 0x080600
	if (curl_easy_getinfo(e, CURLINFO_QUEUE_TIME_T, &us) == CURLE_OK)
		req->t_queue = (double)us / 1e6;
#else
	req->t_queue = http_queue_seconds(req->t_total, req->t_ttfb, req->first_byte_ns, http_now_ns());
#endif
	if (req->t_queue > req->t_total)
		req->t_queue = req->t_total;
	/* To the microsecond libcurl counts in, without the subtraction's noise. */
	req->t_queue = (double)(int64_t)(req->t_queue * 1e6 + 0.5) / 1e6;
	req->t_total = (double)(int64_t)((req->t_total - req->t_queue) * 1e6 + 0.5) / 1e6;
}

bool http_req_failed_for_breaker(const http_req *req)
{
	switch (req->outcome) {
	case HTTP_TIMED_OUT:
		return true;
	case HTTP_DONE:
		return req->result != CURLE_OK || req->status >= 500;
	default:
		return false;
	}
}

void http_req_free(http_req *req)
{
	if (!req)
		return;
	if (req->easy)
		curl_easy_cleanup(req->easy);
	if (req->url)
		explicit_bzero(req->url, strlen(req->url));
	free(req->url);
	free(req->shown);
	free(req->host_key);
	http_buf_release(&req->body);
	http_buf_release(&req->headers);
	for (size_t i = 0; i < req->n_redact; i++) {
		explicit_bzero(req->redact[i], strlen(req->redact[i]));
		free(req->redact[i]);
	}
	free(req->redact);
	free(req->failure);
	free(req);
}
