/* http.h -- the http plugin's internal interface: the types its files share and the functions they offer each other. */
#ifndef ASSAY_HTTP_H
#define ASSAY_HTTP_H

#include <pthread.h>
#include <regex.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "assay/plugin.h"

struct curl_slist;

/* Nothing here is exported: the plugin is built with -fvisibility=hidden
 * and exports only assay_plugin_init. */

#define HTTP_BODY_SHOWN 200           /* bytes of a body quoted in a message */
#define HTTP_BODY_KEPT (8u << 20)     /* bytes of a body kept for expectations */
#define HTTP_HEADERS_KEPT (256u << 10) /* bytes of response headers kept */
#define HTTP_MAX_REDIRECTS 10
#define HTTP_RETRY_AFTER_CAP_MS 300000 /* 5 min, the host's backoff cap too */

/* ---- http_text.c: growable strings and the text of messages ---------- */

/* A NUL-terminated growable string.  {0} is an empty one.  After a failed
 * allocation it keeps what it had and `failed` stays set. */
typedef struct http_buf {
	char *data;
	size_t len, cap;
	bool failed;
} http_buf;

int http_buf_add(http_buf *b, const void *p, size_t n);
int http_buf_puts(http_buf *b, const char *s);
int http_buf_printf(http_buf *b, const char *fmt, ...) ASSAY_PRINTF(2, 3);
/* The string ("" when nothing was added; never NULL). */
const char *http_buf_str(const http_buf *b);
/* Hands the string over (malloc'd, NULL only on allocation failure) and
 * leaves b empty. */
char *http_buf_take(http_buf *b);
void http_buf_release(http_buf *b);

/* Appends s[0..n) quoted ("..."), with ", \ and non-printable bytes
 * escaped (\n, \t, \xNN; valid UTF-8 is kept), cut after about `max`
 * bytes of input on a character boundary with "..." after the quote. */
int http_quote(http_buf *b, const char *s, size_t n, size_t max);
/* Appends s percent-encoded for a query (RFC 3986 unreserved kept). */
int http_urlencode(http_buf *b, const char *s);
/* What masks the text a server sent before a message quotes it, and so
 * before any cut: the plugin's own credentials and every secret of the
 * run, in any case (host->mask_secrets). */
typedef struct http_masker {
	const assay_host *host;
	const assay_task *task;
	const char *const *own[2]; /* the node's and the request's credentials */
	size_t n_own[2];
} http_masker;

/* s[0..n) masked by m (which may be NULL: a copy, for the unit tests),
 * as host->mask_secrets() returns it. */
char *http_mask(const http_masker *m, const char *s, size_t n, unsigned flags, size_t *len);
/* http_quote() of s[0..n) masked by m, cut after `max` bytes of the
 * masked text: only the first 64 KiB of s are looked at (a longer s is
 * treated as cut there).  flags: which ends of s are cuts already. */
int http_quote_masked(http_buf *b, const http_masker *m, const char *s, size_t n, size_t max,
		      unsigned flags);
/* url with the userinfo of its authority ("user:pw@") as "***@": what may
 * be shown of a URL, even one that does not parse.  malloc'd, or NULL. */
char *http_url_without_userinfo(const char *url);
/* Standard base64 of s[0..n), malloc'd. */
char *http_base64(const char *s, size_t n);
/* "5", "1.5", "0.25": milliseconds as an operator writes seconds. */
void http_seconds(int64_t ms, char *buf, size_t size);

/* ---- http_headers.c: response headers, Retry-After ------------------- */

/* The value of the first `name` header (case-insensitive) in a raw block
 * of "Name: value\r\n" lines whose line starts after `after` (NULL: from
 * the start), trimmed; *len is its length.  NULL when there is none. */
const char *http_header_find(const char *block, size_t block_len, const char *name,
			     const char *after, size_t *len);
/* Retry-After (RFC 9110 10.2.3): delay-seconds or an HTTP-date, relative
 * to now_s (wall-clock seconds).  Returns the delay in ms (0 for a date in
 * the past), or -1 when the value is neither. */
int64_t http_retry_after_ms(const char *value, size_t len, int64_t now_s);
/* True for the header names whose values are credentials, whatever the
 * config says: Authorization, Proxy-Authorization, Cookie, and a
 * response's Set-Cookie.  Their values are never shown. */
bool http_header_sensitive(const char *name);
/* A header name is an RFC 9110 token. */
bool http_token(const char *s);

/* ---- http_status.c: expected status codes ---------------------------- */

typedef struct http_status_range {
	int lo, hi; /* inclusive */
} http_status_range;

/* "200", "2xx": fills *r, or returns false. */
bool http_status_parse(const char *s, http_status_range *r);
/* With n == 0, the default: 2xx and 3xx (a redirect not followed is an answer). */
bool http_status_match(const http_status_range *r, size_t n, long code);
/* "200", "200 or 204", "one of 200, 204 or 3xx", "2xx or 3xx". */
void http_status_describe(const http_status_range *r, size_t n, http_buf *out);

/* ---- http_json.c: JSON paths and assertions -------------------------- */

typedef struct http_json_step {
	char *key;    /* an object member, or NULL for an array index */
	size_t index;
} http_json_step;

enum http_json_type {
	HTTP_JT_NONE = 0, HTTP_JT_STRING, HTTP_JT_NUMBER, HTTP_JT_INTEGER,
	HTTP_JT_BOOLEAN, HTTP_JT_NULL, HTTP_JT_ARRAY, HTTP_JT_OBJECT
};

enum { HTTP_CMP_GT, HTTP_CMP_GE, HTTP_CMP_LT, HTTP_CMP_LE, HTTP_CMP_N };

/* One `json` entry: a path and what must hold there. */
typedef struct http_json_check {
	char *path;              /* as written, for messages */
	http_json_step *steps;
	size_t n_steps;
	int exists;              /* -1 not asked, 0 must be absent, 1 must exist */
	enum http_json_type type;
	bool has_cmp[HTTP_CMP_N];
	double cmp[HTTP_CMP_N];
	bool has_length;
	int64_t length;
	cJSON *equals;           /* owned; NULL when not asked */
	bool secret;             /* equals came from ${...}: never shown */
} http_json_check;

/* Parses "items[0].name", `a["dotted.key"]`, "$" (the root).  Returns 0,
 * ASSAY_ENOMEM, or ASSAY_EINVAL with *why saying what is wrong. */
int http_json_path_parse(const char *path, http_json_step **steps, size_t *n,
			 const char **why);
void http_json_steps_free(http_json_step *steps, size_t n);
/* The value at the path, or NULL with *why (if not NULL) describing the
 * first step that failed ("`items` has 2 elements"). */
const cJSON *http_json_walk(const cJSON *root, const http_json_step *steps, size_t n,
			    http_buf *why);
/* The type names of the config, "string" to "object" in the order of
 * enum http_json_type from HTTP_JT_STRING, NULL-terminated. */
extern const char *const http_json_type_names[];
/* "string", "number", ...; "" for HTTP_JT_NONE. */
const char *http_json_type_name(enum http_json_type t);
/* Appends one "json PATH: expected ..., got ..." per failed assertion to
 * fails (each preceded by "; " when fails is not empty), every value of
 * the document it shows masked by m.  Returns the number of failures. */
unsigned http_json_check_eval(const http_json_check *c, const cJSON *root,
			      const http_masker *m, http_buf *fails);
void http_json_check_release(http_json_check *c);

/* ---- http_limit.c: per-host token bucket and circuit breaker ---------- */

/* A token bucket of capacity `burst`, refilled at `rate` tokens per second.
 * A taker may run the bucket into debt: it then waits until its token
 * would have been there, so takers are served in order. */
typedef struct http_bucket {
	double tokens;
	int64_t last_ns;
	bool started;
} http_bucket;

/* Takes a token at now_ns; returns how long (ns) the taker must wait. */
int64_t http_bucket_take(http_bucket *b, double rate, double burst, int64_t now_ns);

/* The breaker of one host: `failures` consecutive failed requests open it
 * once they reach the taker's threshold; open, it stays open for the rest
 * of the process (no half-open probe: a run is short, and a probe that
 * succeeds by luck would only make the rest of the run flap). */
typedef struct http_breaker {
	unsigned failures;
	unsigned opened_after; /* the threshold that opened it; 0 while closed */
} http_breaker;

/* Records a request's outcome; returns true when this one opened it. */
bool http_breaker_record(http_breaker *b, bool failed, unsigned threshold);
/* Open for a taker with this threshold (0: the taker has no breaker)? */
bool http_breaker_open(const http_breaker *b, unsigned threshold);

typedef struct http_hostent {
	struct http_hostent *next;
	char *key; /* "https://example.com:443" */
	http_bucket bucket;
	http_breaker breaker;
	bool multiplexes; /* a response came over HTTP/2: requests may share a connection */
} http_hostent;

/* The hosts seen so far; {0} is an empty table. */
typedef struct http_hosts {
	http_hostent **slots;
	size_t n_slots, n;
} http_hosts;

/* The entry for key, created on first use; NULL when out of memory. */
http_hostent *http_hosts_get(http_hosts *t, const char *key);
void http_hosts_release(http_hosts *t);

/* ---- http_time.c: the server's response time ------------------------- */

int64_t http_now_ns(void); /* CLOCK_MONOTONIC */
/* Seconds a transfer waited in libcurl for a connection, from what
 * libcurl before 8.6 measures: total counts from the transfer's start,
 * ttfb from when it left the queue; its first byte came at first_byte_ns
 * and it ended at done_ns (http_now_ns() both, just after the end will
 * do; first_byte_ns 0: no response, nothing to tell). */
double http_queue_seconds(double total, double ttfb, int64_t first_byte_ns, int64_t done_ns);

/* ---- the node: what prepare builds (http_prepare*.c) ----------------- */

typedef struct http_header_expect {
	char *name;
	char *value; /* must appear in the header's value; "" = present */
	bool secret;
} http_header_expect;

typedef struct http_plugin http_plugin;

typedef struct http_node {
	const char *url;         /* the host's string, valid until the plan is freed */
	bool url_secret;         /* passed verbatim and never shown */
	bool url_expand;         /* has {placeholders} to expand per task */
	char *query;             /* "a=1&b=x%20y" to append, or NULL */
	bool query_secret;
	char *method;            /* "GET", "POST", ... */
	struct curl_slist *headers;
	char **redact;           /* credentials this node sends, never shown */
	size_t n_redact;
	char *body;              /* body or body_file's contents; NULL: none */
	size_t body_len;
	bool follow_redirects;
	int64_t connect_timeout_ms; /* 0: curl's default */
	char *ca_file, *client_cert, *client_key;
	bool insecure;

	http_status_range *status;
	size_t n_status;
	http_header_expect *hdr;
	size_t n_hdr;
	char *body_contains;
	bool body_contains_secret;
	regex_t body_re;
	char *body_regex;        /* NULL: no regex (and body_re unset) */
	bool body_regex_secret;
	http_json_check *json;
	size_t n_json;
	int64_t warn_ms, crit_ms; /* response_time; -1 when unset */

	double rate_limit;        /* requests per second per host; 0: none */
	unsigned circuit_breaker; /* failures that open it; 0: none */
} http_node;

/* http_prepare.c: the node type's prepare and release. */
int http_prepare(assay_node *node, const assay_value *opts, void *data, void **state);
void http_release(void *state, void *data);
/* http_prepare_expect.c: `expect` and `response_time` into n; returns the
 * number of errors reported, or ASSAY_ENOMEM. */
int http_prepare_expect(http_plugin *pl, const assay_value *expect, http_node *n);
int http_prepare_response_time(http_plugin *pl, const assay_value *v, http_node *n);
/* A TOML value as cJSON (for `equals`); NULL with an error reported. */
cJSON *http_value_to_json(http_plugin *pl, const assay_value *v, const char *what);
/* A `rate_limit` / `circuit_breaker` value, reported at v when bad. */
bool http_prepare_rate(http_plugin *pl, const assay_value *v, double *out);
bool http_prepare_breaker(http_plugin *pl, const assay_value *v, unsigned *out);

/* ---- one request (http_request.c, http_run.c, http_report.c) --------- */

enum http_outcome {
	HTTP_PENDING = 0,
	HTTP_DONE,          /* curl finished it: see result */
	HTTP_CIRCUIT_OPEN,  /* refused without a request */
	HTTP_CANCELLED,
	HTTP_TIMED_OUT,
	HTTP_FAILED         /* could not start: see failure */
};

enum http_req_state { HTTP_REQ_NEW, HTTP_REQ_WAIT_RATE, HTTP_REQ_ACTIVE, HTTP_REQ_FINISHED };

typedef struct http_req {
	http_plugin *pl;
	const http_node *node;
	assay_task *task;

	/* Under pl->lock: the inbox and cancel lists, and the cancel kind. */
	struct http_req *next;              /* inbox */
	struct http_req *cprev, *cnext;     /* cancel list */
	bool in_cancels;
	int cancel;                         /* 0, HTTP_CANCELLED or HTTP_TIMED_OUT */

	/* The reactor thread's, until the request is finished. */
	enum http_req_state state;
	bool abort_on_admit;
	assay_timer *rate_timer;
	http_hostent *hostent;

	void *easy;                         /* CURL * */
	char *url;                          /* as requested (may hold secrets) */
	char *shown;                        /* for logs: no userinfo, no secret query */
	char *host_key;                     /* scheme://host:port */
	char **redact;                      /* credentials from the URL, never shown */
	size_t n_redact;
	http_buf body, headers;
	size_t body_limit;                  /* bytes of the body kept */
	uint64_t body_total;
	char errbuf[256];                   /* CURL_ERROR_SIZE */

	/* http_now_ns() when the last status line came (0: none yet): for
	 * the time the transfer spent queued in libcurl. */
	int64_t first_byte_ns;

	/* The outcome, set once finished. */
	enum http_outcome outcome;
	int result;                         /* CURLcode */
	long status;
	double t_total;                     /* the server's: without t_queue */
	double t_queue, t_connect, t_tls, t_ttfb, size;
	unsigned breaker_after;             /* HTTP_CIRCUIT_OPEN: its threshold */
	char *failure;                      /* HTTP_FAILED: why */
} http_req;

/* http_request.c: a request for task (pool thread), with its curl handle
 * set up; NULL with *why (malloc'd or NULL for out of memory) when it
 * cannot be made. */
http_req *http_req_new(http_plugin *pl, const http_node *n, assay_task *task, char **why);
/* Reads what curl measured into req (reactor thread, after the transfer). */
void http_req_collect(http_req *req);
void http_req_free(http_req *req);
/* Whether an outcome counts against the host's circuit breaker. */
bool http_req_failed_for_breaker(const http_req *req);

/* http_report.c: sets the task's result from a finished request, then
 * frees it and completes the task.  Any thread. */
void http_report(http_req *req);
/* The expectations alone, without a host: appends every failure to fails
 * ("; "-separated), what the server sent masked by m, and returns the
 * number of failures. */
unsigned http_expect_eval(const http_node *n, long status, const char *headers,
			  size_t headers_len, const char *body, size_t body_len,
			  bool body_cut, const http_masker *m, http_buf *fails);

/* ---- http_multi.c: curl's multi socket API on the host's reactor ----- */

typedef struct http_multi {
	/* Guards the hand-off from pool threads and cancel() to the reactor:
	 * inbox, cancel list, kick_armed, and each request's cancel fields. */
	pthread_mutex_t lock;
	http_req *inbox, *inbox_tail;
	http_req *cancels;
	bool kick_armed;

	/* Guards the CURLM.  Only the reactor thread calls curl on it (and
	 * the main thread at unload, after the run), and it never calls into
	 * the host while holding this lock except for the reactor's own
	 * fd_watch/fd_modify/fd_unwatch and timer_start/timer_stop, which do
	 * not call back into the plugin.  Order: curl_lock before lock. */
	pthread_mutex_t curl_lock;
	void *multi;                        /* CURLM *, created on first use */
	assay_timer *timer;                 /* curl's timeout */
	struct http_sock *socks;            /* every socket record, live or not */
	struct http_sock *free_socks;       /* those curl no longer uses */
	http_hosts hosts;                   /* the reactor thread's */
} http_multi;

void http_multi_init(http_multi *m);
void http_multi_release(http_multi *m);
/* Pool thread: hands req to the reactor.  0, or a negative code (req is
 * then still the caller's). */
int http_multi_submit(http_plugin *pl, http_req *req);
/* Any thread: makes the task's request end soon (the node type's cancel). */
void http_cancel(assay_task *task, void *state, void *data);

/* ---- http_plugin.c ----------------------------------------------------- */

struct http_plugin {
	assay_node_type type;
	const assay_host *host;
	double rate_limit;        /* [plugins.http] defaults */
	unsigned circuit_breaker;
	bool have_http2;
	char user_agent[64];
	http_multi multi;
};

/* http_run.c: the node type's run. */
int http_run(assay_task *task, void *state, void *data);

#endif /* ASSAY_HTTP_H */
