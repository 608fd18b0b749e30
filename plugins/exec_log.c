/* exec_log.c -- a trial's stdout and stderr kept as files in its trial dir, capped by log_limit and masked of the run's secrets as they are written. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exec_log.h"

/* Text held back while it may be the start of a secret that the next
 * read completes; past this much it is written masked as a cut. */
#define EXEC_LOG_HOLD_MAX 65536

struct exec_log {
	const assay_host *host;
	assay_task *task;
	char *path;
	int fd;         /* -1 until the first byte to write: no output, no file */
	uint64_t limit, written, total;
	char *hold; /* raw bytes not written yet */
	size_t hlen, hcap;
	bool cut_start; /* hold follows a forced cut: a secret's end may lead it */
	bool full;      /* log_limit reached */
	int err;        /* the first write error */
};

exec_log *exec_log_open(const assay_host *h, assay_task *task, const char *dir, const char *name,
			uint64_t limit)
{
	exec_log *l = calloc(1, sizeof *l);

	if (!l || asprintf(&l->path, "%s/%s", dir, name) < 0) {
		free(l);
		return NULL;
	}
	/* An earlier attempt's file must not pass for this one's, even when
	 * this one writes nothing. */
	if (h->task_attempt(task) > 1 && unlink(l->path) < 0 && errno != ENOENT)
		h->task_log(task, ASSAY_LOG_WARNING, "cannot remove the last attempt's `%s`: %s",
			    l->path, strerror(errno));
	l->fd = -1;
	l->host = h;
	l->task = task;
	l->limit = limit;
	return l;
}

/* Writes masked text, up to the limit. */
static void exec_log_put(exec_log *l, const char *s, size_t n)
{
	if (l->full || l->err)
		return;
	if (n > l->limit - l->written) {
		n = (size_t)(l->limit - l->written);
		l->full = true;
	}
	/* Made with the first byte: a trial of `true` creates no file. */
	if (n > 0 && l->fd < 0 &&
	    (l->fd = open(l->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644)) < 0) {
		l->err = errno;
		return;
	}
	while (n > 0) {
		ssize_t w = write(l->fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			l->err = w < 0 ? errno : EIO;
			return;
		}
		s += w;
		n -= (size_t)w;
		l->written += (uint64_t)w;
	}
}

/* Masks hold[0..n) and writes it; false, writing nothing, when its end
 * may be the start of a secret (unless forced: then masked as a cut). */
static bool exec_log_flush(exec_log *l, size_t n, bool force)
{
	unsigned start = l->cut_start ? ASSAY_MASK_CUT_START : 0;
	size_t len1 = 0, len0 = 0;
	char *m1 = l->host->mask(l->task, l->hold, n, start | ASSAY_MASK_CUT_END, &len1);
	char *m0 = NULL;
	bool go = m1 != NULL;

	/* A secret's start masked at the end always ends in "***"; so does a
	 * whole secret there, which the second mask tells apart. */
	if (go && !force && len1 >= 3 && memcmp(m1 + len1 - 3, "***", 3) == 0) {
		m0 = l->host->mask(l->task, l->hold, n, start, &len0);
		go = m0 && len0 == len1 && memcmp(m0, m1, len0) == 0;
	}
	if (go) {
		exec_log_put(l, m1, len1);
		memmove(l->hold, l->hold + n, l->hlen - n);
		l->hlen -= n;
		l->cut_start = force;
	}
	free(m0);
	free(m1);
	return go;
}

void exec_log_write(exec_log *l, const char *buf, size_t n)
{
	l->total += n;
	if (l->full || l->err || n == 0)
		return;
	if (l->hlen + n > l->hcap) {
		size_t cap = l->hcap ? l->hcap : 4096;
		while (cap < l->hlen + n)
			cap *= 2;
		char *grown = realloc(l->hold, cap);
		if (!grown) {
			l->err = ENOMEM;
			return;
		}
		l->hold = grown;
		l->hcap = cap;
	}
	memcpy(l->hold + l->hlen, buf, n);
	l->hlen += n;
	if (exec_log_flush(l, l->hlen, false))
		return;
	/* Up to the last newline, then, if that end is safe. */
	for (size_t i = l->hlen; i > 0; i--)
		if (l->hold[i - 1] == '\n') {
			if (exec_log_flush(l, i, false))
				return;
			break;
		}
	if (l->hlen > EXEC_LOG_HOLD_MAX && !exec_log_flush(l, l->hlen, true))
		l->err = ENOMEM; /* no memory to mask it: write no more */
}

void exec_log_close(exec_log *l, const char *name, const char *dir)
{
	if (!l)
		return;
	/* The end of the output: nothing follows that could complete a secret. */
	if (l->hlen && !l->full && !l->err) {
		size_t len = 0;
		char *m = l->host->mask(l->task, l->hold, l->hlen,
					l->cut_start ? ASSAY_MASK_CUT_START : 0, &len);
		if (m)
			exec_log_put(l, m, len);
		free(m);
	}
	if (l->err)
		l->host->task_log(l->task, ASSAY_LOG_WARNING, "cannot write %s to `%s/%s`: %s",
				  name, dir, name, strerror(l->err));
	else if (l->full)
		l->host->task_log(l->task, ASSAY_LOG_INFO,
				  "%s: kept the first %llu of %llu bytes in `%s/%s` (log_limit)",
				  name, (unsigned long long)l->limit, (unsigned long long)l->total,
				  dir, name);
	if (l->fd >= 0)
		close(l->fd);
	free(l->path);
	free(l->hold);
	free(l);
}

bool exec_log_cut(const exec_log *l)
{
	return l && l->full;
}
