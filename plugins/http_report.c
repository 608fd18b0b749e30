/* http_report.c -- a finished request judged: status, message, metrics, Retry-After; then the task completes. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "http.h"

static void metric(const assay_host *h, assay_task *task, const char *name, double value,
		   const char *unit, const char *warn, const char *crit, bool min0)
{
	assay_metric m = {
		.name = name, .value = value, .unit = unit, .warn = warn, .crit = crit,
		.min = 0, .flags = min0 ? ASSAY_METRIC_MIN : 0,
	};
	int rc = h->add_metric(task, &m);

	if (rc < 0)
		h->task_log(task, ASSAY_LOG_WARNING, "cannot add metric `%s`: %s", name,
			    h->strerror(rc));
}

static void metrics(const http_req *req, bool response)
{
	const assay_host *h = req->pl->host;
	const http_node *n = req->node;
	char warn[32], crit[32];

	if (n->warn_ms > 0)
		http_seconds(n->warn_ms, warn, sizeof warn);
	if (n->crit_ms > 0)
		http_seconds(n->crit_ms, crit, sizeof crit);
	metric(h, req->task, "time_total", req->t_total, "s", n->warn_ms > 0 ? warn : NULL,
	       n->crit_ms > 0 ? crit : NULL, true);
	metric(h, req->task, "time_queue", req->t_queue, "s", NULL, NULL, true);
	metric(h, req->task, "time_connect", req->t_connect, "s", NULL, NULL, true);
	metric(h, req->task, "time_tls", req->t_tls, "s", NULL, NULL, true);
	metric(h, req->task, "ttfb", req->t_ttfb, "s", NULL, NULL, true);
	metric(h, req->task, "size", req->size, "B", NULL, NULL, true);
	if (response)
		metric(h, req->task, "status", (double)req->status, "", NULL, NULL, false);
}

static const char *task_timeout(const http_req *req, char *buf, size_t size)
{
	http_seconds(req->pl->host->task_timeout_ms(req->task), buf, size);
	return buf;
}

/* A transfer curl gave up on: what went wrong, in the operator's terms. */
static void transport_failure(const http_req *req, http_buf *msg)
{
	const char *err = req->errbuf[0] ? req->errbuf : curl_easy_strerror((CURLcode)req->result);
	char secs[32];

	switch ((CURLcode)req->result) {
	case CURLE_OPERATION_TIMEDOUT:
		if (strncmp(err, "Operation timed out", 19) == 0)
			http_buf_printf(msg, "timed out after %s s", task_timeout(req, secs, sizeof secs));
		else
			http_buf_printf(msg, "timed out: %s", err);
		break;
	case CURLE_PEER_FAILED_VERIFICATION:
#if LIBCURL_VERSION_NUM < 0x073e00
	case CURLE_SSL_CACERT:
#endif
		http_buf_printf(msg, "TLS certificate not verified: %s (give the CA with ca_file, or set insecure = true)",
				err);
		break;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
		http_buf_printf(msg, "TLS failed: %s", err);
		break;
	case CURLE_TOO_MANY_REDIRECTS:
		http_buf_printf(msg, "too many redirects: %s", err);
		break;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
		http_buf_printf(msg, "cannot connect: %s", err);
		break;
	default:
		http_buf_printf(msg, "request failed: %s", err);
		break;
	}
}

/* What masks the server's text in a message: the run's secrets and the
 * credentials this request sends. */
static http_masker masker(const http_req *req)
{
	return (http_masker){
		.host = req->pl->host,
		.task = req->task,
		.own = { (const char *const *)req->node->redact, (const char *const *)req->redact },
		.n_own = { req->node->n_redact, req->n_redact },
	};
}

/* Honours the server's Retry-After on a 429 or 5xx (capped, so that a
 * server cannot hold the run for a day). */
static void retry_after(const http_req *req)
{
	const assay_host *h = req->pl->host;
	const char *v;
	size_t len;
	int64_t ms;

	if (req->status != 429 && req->status < 500)
		return;
	v = http_header_find(req->headers.data, req->headers.len, "Retry-After", NULL, &len);
	if (!v)
		return;
	ms = http_retry_after_ms(v, len, (int64_t)time(NULL));
	if (ms < 0) {
		http_masker mk = masker(req);
		http_buf shown = { 0 };

		http_quote_masked(&shown, &mk, v, len, 64, 0);
		h->task_log(req->task, ASSAY_LOG_INFO, "ignored Retry-After: %s (neither seconds nor an HTTP date)",
			    http_buf_str(&shown));
		http_buf_release(&shown);
		return;
	}
	if (ms > HTTP_RETRY_AFTER_CAP_MS) {
		h->task_log(req->task, ASSAY_LOG_INFO, "Retry-After of %lld s capped to %d s",
			    (long long)(ms / 1000), HTTP_RETRY_AFTER_CAP_MS / 1000);
		ms = HTTP_RETRY_AFTER_CAP_MS;
	}
	h->task_log(req->task, ASSAY_LOG_INFO, "the server asked to retry after %lld ms (Retry-After)",
		    (long long)ms);
	h->retry_after(req->task, ms);
}

/* Failures that no retry can mend: the certificate, the URL itself. */
static bool permanent_transport_failure(CURLcode rc)
{
	return rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE ||
	       rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL ||
	       rc == CURLE_SSL_CERTPROBLEM;
}

/* A response: the expectations, then the response time, then TLS. */
static assay_status judge(const http_req *req, http_buf *msg)
{
	const http_node *n = req->node;
	http_masker mk = masker(req);
	http_buf fails = { 0 };
	char t[32], lim[32];
	int64_t ms = (int64_t)(req->t_total * 1000 + 0.5);
	assay_status st = ASSAY_OK;
	unsigned failed;

	http_seconds(ms, t, sizeof t);
	http_buf_printf(msg, "HTTP %ld in %s s, %.0f B", req->status, t, req->size);
	failed = http_expect_eval(n, req->status, req->headers.data, req->headers.len,
				  req->body.data, req->body.len, req->body_total > req->body.len,
				  &mk, &fails);
	if (failed) {
		st = ASSAY_CRITICAL;
		http_buf_printf(msg, ": %s; body ", http_buf_str(&fails));
		/* Masked whole, then cut: a secret the cut would split is
		 * masked all the same. */
		http_quote_masked(msg, &mk, req->body.data ? req->body.data : "", req->body.len,
				  HTTP_BODY_SHOWN,
				  req->body_total > req->body.len ? ASSAY_MASK_CUT_END : 0);
	}
	http_buf_release(&fails);
	if (n->crit_ms > 0 && ms > n->crit_ms) {
		http_seconds(n->crit_ms, lim, sizeof lim);
		http_buf_printf(msg, "%sresponse time %s s > %s s (crit)", failed ? "; " : ": ", t, lim);
		st = ASSAY_CRITICAL;
	} else if (n->warn_ms > 0 && ms > n->warn_ms) {
		http_seconds(n->warn_ms, lim, sizeof lim);
		http_buf_printf(msg, "%sresponse time %s s > %s s (warn)", failed ? "; " : ": ", t, lim);
		st = req->pl->host->status_worse(st, ASSAY_WARNING);
	}
	return st;
}

void http_report(http_req *req)
{
	const assay_host *h = req->pl->host;
	const http_node *n = req->node;
	assay_task *task = req->task;
	assay_status st = ASSAY_CRITICAL;
	http_buf msg = { 0 };
	char secs[32];

	switch (req->outcome) {
	case HTTP_CIRCUIT_OPEN:
		http_buf_printf(&msg, "circuit open for %s after %u failures (no request sent)",
				req->host_key, req->breaker_after);
		h->no_retry(task); /* the circuit stays open for the run */
		break;
	case HTTP_CANCELLED:
		st = ASSAY_UNKNOWN;
		http_buf_puts(&msg, "cancelled");
		break;
	case HTTP_TIMED_OUT:
		http_buf_printf(&msg, "timed out after %s s", task_timeout(req, secs, sizeof secs));
		break;
	case HTTP_FAILED:
		st = ASSAY_UNKNOWN;
		http_buf_puts(&msg, req->failure ? req->failure : "out of memory");
		break;
	case HTTP_DONE:
		if (req->result != CURLE_OK) {
			transport_failure(req, &msg);
			metrics(req, false);
			if (permanent_transport_failure(req->result))
				h->no_retry(task);
			break;
		}
		st = judge(req, &msg);
		metrics(req, true);
		if (st == ASSAY_CRITICAL)
			retry_after(req);
		/* A client error answers the same the next time: retrying a 404
		 * only delays the verdict.  Timeouts and throttling may pass. */
		if (req->status >= 400 && req->status < 500 && req->status != 408 &&
		    req->status != 425 && req->status != 429)
			h->no_retry(task);
		break;
	default:
		st = ASSAY_UNKNOWN;
		http_buf_puts(&msg, "the request ended in an unknown state");
		break;
	}
	if (n->insecure && req->outcome == HTTP_DONE) {
		http_buf_puts(&msg, "; TLS was not verified (insecure = true)");
		st = h->status_worse(st, ASSAY_WARNING);
	}

	/* The host scrubs interpolated secrets; credentials written in the
	 * config in clear (Authorization, Cookie, URL userinfo) are ours. */
	http_masker mk = masker(req);
	char *clean = http_mask(&mk, http_buf_str(&msg), msg.len, 0, NULL);
	h->set_status(task, st);
	h->set_message(task, "%s", clean ? clean : "out of memory");
	if (clean)
		explicit_bzero(clean, strlen(clean));
	free(clean);
	http_buf_release(&msg);
	http_req_free(req);
	h->complete(task);
}
