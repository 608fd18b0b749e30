/* http_multi.c -- curl's multi socket API driven by the host's reactor: hand-off, admission (circuit breaker, rate limit), sockets, timers, cancellation. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "http.h"

/*
 * Who does what.  run() (a pool thread) builds the request and its easy
 * handle, puts it on the inbox and "kicks" the reactor with a 0 ms timer.
 * Everything else happens on the reactor thread, one callback at a time:
 * the kick drains the inbox, admits each request (circuit breaker, then
 * rate limit: a request that must wait gets a reactor timer, no thread),
 * adds it to the one CURLM; curl's sockets and timeout become fd watches
 * and a timer, whose callbacks call curl_multi_socket_action; a finished
 * transfer is handed to the pool (host->spawn) to be judged and completed.
 * cancel() (any thread) only flags the request and kicks: the reactor
 * takes it out of curl.
 *
 * So curl is only ever called on the reactor thread (and at unload), and
 * the per-host tables need no lock.  Locks: curl_lock around every use of
 * the CURLM, then `lock` for the hand-off lists, never the other way; no
 * host call that can re-enter the plugin (complete, spawn) is made with
 * either held.
 */

/* What curl's socket callback keeps per socket.  Never freed before
 * unload, only recycled: main clears the host's reactor (making fd_unwatch
 * a no-op) before it stops the reactor thread, so a watch that outlives
 * its socket by a few instructions must still find valid memory. */
typedef struct http_sock {
	struct http_sock *all;  /* m->socks: every one, for the unload */
	struct http_sock *free; /* m->free_socks */
	http_plugin *pl;
	assay_watch *watch;
} http_sock;

static void on_kick(void *arg);

/* Under m->lock: whether the caller must start the kick timer. */
static bool want_kick_locked(http_multi *m)
{
	if (m->kick_armed)
		return false;
	m->kick_armed = true;
	return true;
}

static int kick(http_plugin *pl)
{
	int rc = pl->host->timer_start(0, on_kick, pl, NULL);

	if (rc < 0) {
		pthread_mutex_lock(&pl->multi.lock);
		pl->multi.kick_armed = false;
		pthread_mutex_unlock(&pl->multi.lock);
	}
	return rc;
}

/* ---- finishing -------------------------------------------------------------- */

/* A list of finished requests, built under curl_lock and handed to the
 * pool after it is released (through `next`, free once off the inbox). */
typedef struct done_list {
	http_req *head;
} done_list;

static void done_push(done_list *d, http_req *req, enum http_outcome outcome)
{
	req->outcome = outcome;
	req->state = HTTP_REQ_FINISHED;
	req->next = d->head;
	d->head = req;
}

static void report_job(void *arg)
{
	http_report(arg);
}

/* No lock held.  After the unlink below, cancel() no longer finds the
 * request, so only the report touches it. */
static void finish_all(http_plugin *pl, done_list *d)
{
	http_multi *m = &pl->multi;
	http_req *req, *next;

	for (req = d->head; req; req = next) {
		next = req->next;
		pthread_mutex_lock(&m->lock);
		if (req->in_cancels) {
			if (req->cprev)
				req->cprev->cnext = req->cnext;
			else
				m->cancels = req->cnext;
			if (req->cnext)
				req->cnext->cprev = req->cprev;
			req->in_cancels = false;
		}
		pl->host->task_set_data(req->task, NULL);
		pthread_mutex_unlock(&m->lock);
		/* Judging a body (JSON, regex) is work: not on the reactor. */
		if (pl->host->spawn(req->task, report_job, req) < 0)
			http_report(req);
	}
	d->head = NULL;
}

/* ---- curl's callbacks (reactor thread, curl_lock held) ---------------------- */

static void on_fd(int fd, unsigned events, void *arg);
static void on_curl_timer(void *arg);

static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	http_plugin *pl = userp;
	http_multi *m = &pl->multi;
	const assay_host *h = pl->host;
	http_sock *sock = socketp;
	unsigned events = 0;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (!sock)
			return 0;
		if (sock->watch)
			h->fd_unwatch(sock->watch);
		sock->watch = NULL;
		sock->free = m->free_socks;
		m->free_socks = sock;
		curl_multi_assign(m->multi, s, NULL);
		return 0;
	}
	if (what & CURL_POLL_IN)
		events |= ASSAY_READABLE;
	if (what & CURL_POLL_OUT)
		events |= ASSAY_WRITABLE;
	if (sock) {
		if (sock->watch)
			h->fd_modify(sock->watch, events);
		return 0;
	}
	if ((sock = m->free_socks)) {
		m->free_socks = sock->free;
	} else {
		if (!(sock = calloc(1, sizeof *sock)))
			return -1;
		sock->pl = pl;
		sock->all = m->socks;
		m->socks = sock;
	}
	if (h->fd_watch(s, events, on_fd, sock, &sock->watch) < 0) {
		sock->watch = NULL;
		sock->free = m->free_socks;
		m->free_socks = sock;
		return -1;
	}
	curl_multi_assign(m->multi, s, sock);
	return 0;
}

static int on_timer_change(CURLM *multi, long timeout_ms, void *userp)
{
	http_plugin *pl = userp;
	http_multi *m = &pl->multi;

	(void)multi;
	/* On the reactor thread, stopping a timer never waits for it. */
	if (m->timer) {
		pl->host->timer_stop(m->timer);
		m->timer = NULL;
	}
	if (timeout_ms < 0)
		return 0;
	return pl->host->timer_start((uint64_t)timeout_ms, on_curl_timer, pl, &m->timer) < 0 ? -1 : 0;
}

/* The transfers curl has finished, into d. */
static void read_done(http_plugin *pl, done_list *d)
{
	http_multi *m = &pl->multi;
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(m->multi, &left))) {
		http_req *req = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&req);
		req->result = msg->data.result;
		curl_multi_remove_handle(m->multi, msg->easy_handle);
		http_req_collect(req);
		req->outcome = HTTP_DONE;
		if (req->hostent) {
			long version = 0;

			http_breaker_record(&req->hostent->breaker, http_req_failed_for_breaker(req),
					    req->node->circuit_breaker);
			if (curl_easy_getinfo(msg->easy_handle, CURLINFO_HTTP_VERSION, &version) == CURLE_OK &&
			    version == CURL_HTTP_VERSION_2_0)
				req->hostent->multiplexes = true;
		}
		done_push(d, req, HTTP_DONE);
	}
}

static void socket_action(http_plugin *pl, curl_socket_t fd, int flags, done_list *d)
{
	int running;

	curl_multi_socket_action(pl->multi.multi, fd, flags, &running);
	read_done(pl, d);
}

static void on_fd(int fd, unsigned events, void *arg)
{
	http_sock *sock = arg;
	http_plugin *pl = sock->pl;
	int flags = 0;
	done_list d = { 0 };

	if (events & ASSAY_READABLE)
		flags |= CURL_CSELECT_IN;
	if (events & ASSAY_WRITABLE)
		flags |= CURL_CSELECT_OUT;
	if (events & ASSAY_HANGUP)
		flags |= CURL_CSELECT_ERR;
	pthread_mutex_lock(&pl->multi.curl_lock);
	socket_action(pl, fd, flags, &d);
	pthread_mutex_unlock(&pl->multi.curl_lock);
	finish_all(pl, &d);
}

static void on_curl_timer(void *arg)
{
	http_plugin *pl = arg;
	done_list d = { 0 };

	pthread_mutex_lock(&pl->multi.curl_lock);
	pl->multi.timer = NULL; /* fired: its handle is stale */
	socket_action(pl, CURL_SOCKET_TIMEOUT, 0, &d);
	pthread_mutex_unlock(&pl->multi.curl_lock);
	finish_all(pl, &d);
}

/* ---- admission (reactor thread, curl_lock held) ------------------------------ */

static bool ensure_multi(http_plugin *pl)
{
	http_multi *m = &pl->multi;

	if (m->multi)
		return true;
	if (!(m->multi = curl_multi_init()))
		return false;
	curl_multi_setopt(m->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(m->multi, CURLMOPT_SOCKETDATA, pl);
	curl_multi_setopt(m->multi, CURLMOPT_TIMERFUNCTION, on_timer_change);
	curl_multi_setopt(m->multi, CURLMOPT_TIMERDATA, pl);
	/* Checks of one https host share its connections over HTTP/2. */
	curl_multi_setopt(m->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	return true;
}

static void start(http_plugin *pl, http_req *req, done_list *d)
{
	const assay_host *h = pl->host;
	int64_t deadline = h->deadline_ns(req->task);
	CURLMcode mc;

	/* The request's total timeout is what is left of the task's: the
	 * host's deadline and curl's then agree, whatever a rate limit took. */
	if (deadline != INT64_MAX) {
		int64_t left_ms = (deadline - http_now_ns()) / 1000000;

		curl_easy_setopt(req->easy, CURLOPT_TIMEOUT_MS, (long)(left_ms > 1 ? left_ms : 1));
	}
	/* Waiting for a connection to share (PIPEWAIT) only where sharing is
	 * known to work: a host that answered over HTTP/2.  Elsewhere libcurl
	 * cannot know before the first response whether the server will
	 * multiplex, keep the connection alive or close it, and each request
	 * would wait for the one before (an HTTP/1.0 server, or HTTP/1.1 with
	 * Connection: close, would serve one check at a time): every request
	 * gets a connection of its own, or an idle one to reuse. */
	curl_easy_setopt(req->easy, CURLOPT_PIPEWAIT,
			 req->hostent && req->hostent->multiplexes ? 1L : 0L);
	mc = curl_multi_add_handle(pl->multi.multi, req->easy);
	if (mc != CURLM_OK) {
		if (asprintf(&req->failure, "cannot start the request: %s", curl_multi_strerror(mc)) < 0)
			req->failure = NULL;
		done_push(d, req, HTTP_FAILED);
		return;
	}
	req->state = HTTP_REQ_ACTIVE;
}

static bool circuit_open(http_req *req, done_list *d)
{
	const http_breaker *b = req->hostent ? &req->hostent->breaker : NULL;

	if (!b || !http_breaker_open(b, req->node->circuit_breaker))
		return false;
	req->breaker_after = b->opened_after ? b->opened_after : b->failures;
	done_push(d, req, HTTP_CIRCUIT_OPEN);
	return true;
}

static void on_rate(void *arg)
{
	http_req *req = arg;
	http_plugin *pl = req->pl;
	done_list d = { 0 };

	pthread_mutex_lock(&pl->multi.curl_lock);
	req->rate_timer = NULL;
	/* The breaker may have opened while it waited. */
	if (!circuit_open(req, &d))
		start(pl, req, &d);
	pthread_mutex_unlock(&pl->multi.curl_lock);
	finish_all(pl, &d);
}

static void admit(http_plugin *pl, http_req *req, done_list *d)
{
	const http_node *n = req->node;
	int64_t wait_ns;

	if (req->abort_on_admit) {
		done_push(d, req, (enum http_outcome)req->cancel);
		return;
	}
	/* No entry (out of memory) just means no limit for this one. */
	req->hostent = http_hosts_get(&pl->multi.hosts, req->host_key);
	if (circuit_open(req, d))
		return;
	wait_ns = req->hostent ? http_bucket_take(&req->hostent->bucket, n->rate_limit, 1, http_now_ns())
			       : 0;
	if (wait_ns > 0) {
		req->state = HTTP_REQ_WAIT_RATE;
		if (pl->host->timer_start((uint64_t)((wait_ns + 999999) / 1000000), on_rate, req,
					  &req->rate_timer) == 0)
			return;
		req->rate_timer = NULL; /* no timer: better early than never */
	}
	start(pl, req, d);
}

static void abort_req(http_plugin *pl, http_req *req, done_list *d)
{
	enum http_outcome why = (enum http_outcome)req->cancel;

	switch (req->state) {
	case HTTP_REQ_NEW: /* still on an inbox a later kick drains */
		req->abort_on_admit = true;
		return;
	case HTTP_REQ_WAIT_RATE:
		pl->host->timer_stop(req->rate_timer);
		req->rate_timer = NULL;
		break;
	case HTTP_REQ_ACTIVE:
		curl_multi_remove_handle(pl->multi.multi, req->easy);
		http_req_collect(req);
		break;
	default:
		return;
	}
	if (why == HTTP_TIMED_OUT && req->hostent)
		http_breaker_record(&req->hostent->breaker, true, req->node->circuit_breaker);
	done_push(d, req, why);
}

static void on_kick(void *arg)
{
	http_plugin *pl = arg;
	http_multi *m = &pl->multi;
	done_list d = { 0 };
	http_req *batch, *req, *next;

	pthread_mutex_lock(&m->curl_lock);
	pthread_mutex_lock(&m->lock);
	batch = m->inbox;
	m->inbox = m->inbox_tail = NULL;
	m->kick_armed = false;
	pthread_mutex_unlock(&m->lock);

	bool ok = ensure_multi(pl);
	for (req = batch; req; req = next) {
		next = req->next;
		req->next = NULL;
		if (ok) {
			admit(pl, req, &d);
		} else {
			req->failure = strdup("cannot create the curl multi handle");
			done_push(&d, req, HTTP_FAILED);
		}
	}
	/* One at a time: finishing a request unlinks it from this list. */
	for (;;) {
		pthread_mutex_lock(&m->lock);
		req = m->cancels;
		if (req) {
			m->cancels = req->cnext;
			if (m->cancels)
				m->cancels->cprev = NULL;
			req->in_cancels = false;
			req->cprev = req->cnext = NULL;
		}
		pthread_mutex_unlock(&m->lock);
		if (!req)
			break;
		abort_req(pl, req, &d);
	}
	pthread_mutex_unlock(&m->curl_lock);
	finish_all(pl, &d);
}

/* ---- the pool's and cancel()'s side ----------------------------------------- */

int http_multi_submit(http_plugin *pl, http_req *req)
{
	http_multi *m = &pl->multi;
	bool arm;
	int rc;

	pthread_mutex_lock(&m->lock);
	req->next = NULL;
	if (m->inbox_tail)
		m->inbox_tail->next = req;
	else
		m->inbox = req;
	m->inbox_tail = req;
	arm = want_kick_locked(m);
	pthread_mutex_unlock(&m->lock);
	if (!arm || (rc = kick(pl)) == 0)
		return 0;

	/* No kick: take req back if no drain has taken it yet.  The others
	 * wait for the next kick (another run, or a cancel). */
	pthread_mutex_lock(&m->lock);
	http_req **pp = &m->inbox, *prev = NULL;
	while (*pp && *pp != req) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	bool found = *pp == req;
	if (found) {
		*pp = req->next;
		if (m->inbox_tail == req)
			m->inbox_tail = prev;
	}
	pthread_mutex_unlock(&m->lock);
	return found ? rc : 0;
}

void http_cancel(assay_task *task, void *state, void *data)
{
	http_plugin *pl = data;
	http_multi *m = &pl->multi;
	const assay_host *h = pl->host;
	bool arm = false;

	(void)state;
	pthread_mutex_lock(&m->lock);
	/* NULL once the request finished: its report is on its way. */
	http_req *req = h->task_data(task);
	if (req && !req->cancel && !req->in_cancels) {
		req->cancel = h->task_timed_out(task) ? HTTP_TIMED_OUT : HTTP_CANCELLED;
		req->in_cancels = true;
		req->cprev = NULL;
		req->cnext = m->cancels;
		if (m->cancels)
			m->cancels->cprev = req;
		m->cancels = req;
		arm = want_kick_locked(m);
	}
	pthread_mutex_unlock(&m->lock);
	if (arm)
		kick(pl);
}

/* ---- life -------------------------------------------------------------------- */

void http_multi_init(http_multi *m)
{
	memset(m, 0, sizeof *m);
	pthread_mutex_init(&m->lock, NULL);
	pthread_mutex_init(&m->curl_lock, NULL);
}

/* At unload, after the run: the reactor is gone, so the host's unwatch
 * and timer_stop calls curl's cleanup makes are no-ops. */
void http_multi_release(http_multi *m)
{
	pthread_mutex_lock(&m->curl_lock);
	if (m->multi)
		curl_multi_cleanup(m->multi);
	m->multi = NULL;
	while (m->socks) {
		http_sock *s = m->socks;

		m->socks = s->all;
		free(s);
	}
	m->free_socks = NULL;
	http_hosts_release(&m->hosts);
	pthread_mutex_unlock(&m->curl_lock);
	pthread_mutex_destroy(&m->lock);
	pthread_mutex_destroy(&m->curl_lock);
}
