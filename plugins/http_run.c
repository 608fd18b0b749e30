/* http_run.c -- the http node type's run: build the request on the pool thread, hand it to the reactor, hold no thread while it waits. */
#include <stdlib.h>

#include "http.h"

static int unknown(const assay_host *h, assay_task *task, const char *msg)
{
	h->set_status(task, ASSAY_UNKNOWN);
	h->set_message(task, "%s", msg ? msg : "out of memory");
	return ASSAY_DONE;
}

int http_run(assay_task *task, void *state, void *data)
{
	http_plugin *pl = data;
	const assay_host *h = pl->host;
	const http_node *n = state;
	char *why = NULL;
	http_req *req;
	int rc;

	if (h->cancelled(task))
		return unknown(h, task, "cancelled");
	req = http_req_new(pl, n, task, &why);
	if (!req) {
		/* A URL that does not expand or parse will not the next time
		 * either; out of memory (no why) might pass. */
		if (why)
			h->no_retry(task);
		unknown(h, task, why);
		free(why);
		return ASSAY_DONE;
	}
	h->task_log(task, ASSAY_LOG_DEBUG, "%s %s", n->method, req->shown);
	/* Before the hand-off: cancel() finds it from then on, and the
	 * reactor clears it (under the hand-off lock) once it is done. */
	h->task_set_data(task, req);
	rc = http_multi_submit(pl, req);
	if (rc < 0) {
		h->task_set_data(task, NULL);
		http_req_free(req);
		h->set_status(task, ASSAY_UNKNOWN);
		h->set_message(task, "cannot hand the request to the reactor: %s", h->strerror(rc));
		return ASSAY_DONE;
	}
	/* req may be finished, even freed, by now: not ours any more. */
	return ASSAY_PENDING;
}
