/* exec_output.c -- what a command's output says: its status by convention, the message, the details, the metrics. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* sigabbrev_np */
#endif

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "exec_common.h"

static bool exec_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f' || c == '\0';
}

/* The first line of buf, up to a '|' when it may carry perfdata, trimmed;
 * NULL when blank. */
static const char *exec_first_line(const char *buf, size_t n, bool perf, int *len)
{
	size_t end = 0, start = 0;

	if (!buf)
		return NULL;
	while (end < n && buf[end] != '\n' && buf[end] != '\0' && !(perf && buf[end] == '|'))
		end++;
	while (start < end && exec_space(buf[start]))
		start++;
	while (end > start && exec_space(buf[end - 1]))
		end--;
	if (end == start)
		return NULL;
	*len = end - start > INT32_MAX ? INT32_MAX : (int)(end - start);
	return buf + start;
}

static void exec_describe_exit(int ws, char *buf, size_t size)
{
	if (WIFEXITED(ws)) {
		snprintf(buf, size, "exit status %d", WEXITSTATUS(ws));
		return;
	}
	int sig = WTERMSIG(ws);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
	const char *abbrev = sigabbrev_np(sig);
#else
	const char *abbrev = NULL;
#endif
	if (abbrev)
		snprintf(buf, size, "killed by signal SIG%s%s", abbrev,
			 WCOREDUMP(ws) ? " (core dumped)" : "");
	else
		snprintf(buf, size, "killed by signal %d%s", sig,
			 WCOREDUMP(ws) ? " (core dumped)" : "");
}

/* Any death by signal is UNKNOWN under both conventions: the command
 * never said how things are.  A plain command's other exits are
 * failures, CRITICAL: `false`, `grep` and a Python traceback exit 1, which
 * a monitoring plugin would mean as WARNING. */
static assay_status exec_status(const exec_node *n, int ws)
{
	if (!WIFEXITED(ws))
		return ASSAY_UNKNOWN;
	int code = WEXITSTATUS(ws);
	if (n->has_ok_exit)
		return n->ok_exit[code / 8] & (1u << (code % 8)) ? ASSAY_OK : ASSAY_CRITICAL;
	if (n->convention == EXEC_PLAIN)
		return code == 0 ? ASSAY_OK : ASSAY_CRITICAL;
	return code <= 3 ? (assay_status)code : ASSAY_UNKNOWN;
}

/* "5", "1.5", "0.25": the task's timeout in seconds, as an operator
 * writes it. */
static void exec_seconds(int64_t ms, char *buf, size_t size)
{
	if (ms % 1000 == 0) {
		snprintf(buf, size, "%lld", (long long)(ms / 1000));
		return;
	}
	snprintf(buf, size, "%lld.%03lld", (long long)(ms / 1000), (long long)(ms % 1000));
	for (char *p = buf + strlen(buf) - 1; *p == '0'; p--)
		*p = '\0';
}

/* What was captured, with the run's secrets masked before anything cuts
 * it (its first line, the log): a secret that output_limit cut short is
 * masked too.  Out of memory, nothing is kept rather than risk a part. */
static void exec_mask_stream(exec_run *run, exec_stream *s)
{
	const assay_host *h = run->ctx->host;
	size_t len = 0;
	char *shown;

	if (!s->len)
		return;
	shown = h->mask(run->task, s->buf, s->len, s->total > s->len ? ASSAY_MASK_CUT_END : 0, &len);
	free(s->buf);
	s->buf = shown;
	s->len = len;
	s->alloc = shown ? len + 1 : 0;
}

static void exec_log_stream(exec_run *run, const exec_stream *s)
{
	const assay_host *h = run->ctx->host;

	if (s->len)
		h->task_log(run->task, ASSAY_LOG_DEBUG, "%s:\n%.*s", s->name,
			    s->len > INT32_MAX ? INT32_MAX : (int)s->len, s->buf);
	if (s->total > run->node->output_limit)
		h->task_log(run->task, ASSAY_LOG_INFO, "%s: kept the first %zu of %llu bytes (output_limit)",
			    s->name, run->node->output_limit, (unsigned long long)s->total);
}

static bool exec_has_word(const char *s, int len)
{
	for (int i = 0; i < len; i++)
		if ((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z'))
			return true;
	return false;
}

/* The last line of buf with a letter or digit in it, trimmed: a Python
 * traceback's exception, below the frames and their ^^^ markers.  NULL
 * when there is none. */
static const char *exec_last_line(const char *buf, size_t n, int *len)
{
	size_t end = n;

	while (buf && end > 0) {
		size_t start = end;
		const char *line;

		while (start > 0 && buf[start - 1] != '\n')
			start--;
		line = exec_first_line(buf + start, end - start, false, len);
		if (line && exec_has_word(line, *len))
			return line;
		end = start ? start - 1 : 0;
	}
	return NULL;
}

/* The details: stdout's long output, then standard error under a
 * "stderr:" line -- where a failing program says why -- with its blank
 * edges trimmed and a note when output_limit cut it; for a trial, last,
 * what its metric channels had to say (bad lines). */
static void exec_set_details(exec_run *run, const char *long_output)
{
	const assay_host *h = run->ctx->host;
	const exec_stream *e = &run->err;
	size_t start = 0, end = e->len;
	char cut[96] = "", *note = exec_trial_note(run);

	if (note) {
		h->task_log(run->task, ASSAY_LOG_WARNING, "%s", note);
		char *joined = NULL;
		if (asprintf(&joined, "%s%s%s", long_output ? long_output : "",
			     long_output ? "\n" : "", note) >= 0) {
			free(note);
			note = joined;
			long_output = joined;
		}
	}

	while (start < end && (exec_space(e->buf[start]) || e->buf[start] == '\n'))
		start++;
	while (end > start && (exec_space(e->buf[end - 1]) || e->buf[end - 1] == '\n'))
		end--;
	if (e->total > e->len)
		snprintf(cut, sizeof cut, "\n[stderr: kept the first %zu of %llu bytes (output_limit)]",
			 e->len, (unsigned long long)e->total);
	if (end == start && !*cut) {
		if (long_output)
			h->set_details(run->task, "%s", long_output);
		free(note);
		return;
	}
	int len = end - start > INT32_MAX ? INT32_MAX : (int)(end - start);
	/* With output_limit = 0 nothing was kept: no buffer, only the note. */
	h->set_details(run->task, "%s%sstderr:\n%.*s%s", long_output ? long_output : "",
		       long_output ? "\n" : "", len, len ? e->buf + start : "", cut);
	free(note);
}

void exec_output_report(exec_run *run)
{
	const assay_host *h = run->ctx->host;
	assay_task *task = run->task;
	const char *line;
	char what[96];
	int len = 0;

	exec_mask_stream(run, &run->out);
	exec_mask_stream(run, &run->err);
	exec_log_stream(run, &run->out);
	exec_log_stream(run, &run->err);
	if (run->lingered && !run->failure)
		h->task_log(task, ASSAY_LOG_WARNING,
			    "output still open %d ms after the command exited: killed the rest of its process group",
			    EXEC_LINGER_MS);
	if (run->failure) {
		exec_trial_report(run);
		h->set_status(task, ASSAY_UNKNOWN);
		h->set_message(task, "%s", run->failure);
		return;
	}
	/* Stopped early, a trial keeps the metrics it reported; a pruned one
	 * is the host's to name (SKIPPED, pruned, and why). */
	if (run->cancel == EXEC_CANCELLED || run->cancel == EXEC_PRUNED) {
		exec_trial_report(run);
		h->set_status(task, ASSAY_UNKNOWN);
		h->set_message(task, run->cancel == EXEC_PRUNED ? "pruned" : "cancelled");
		if (run->metrics)
			exec_set_details(run, NULL);
		return;
	}
	bool timed_out = run->cancel == EXEC_TIMED_OUT;
	assay_status status = timed_out ? ASSAY_CRITICAL : exec_status(run->node, run->wstatus);
	line = run->metrics ? exec_trial_first_line(run, &len)
			    : exec_first_line(run->out.buf, run->out.len, true, &len);
	if (!line)
		line = status == ASSAY_OK ? exec_first_line(run->err.buf, run->err.len, false, &len)
					  : exec_last_line(run->err.buf, run->err.len, &len);

	h->set_status(task, status);
	if (timed_out) {
		exec_seconds(h->task_timeout_ms(task), what, sizeof what);
		if (line)
			h->set_message(task, "timed out after %s s: %.*s", what, len, line);
		else
			h->set_message(task, "timed out after %s s", what);
		exec_trial_report(run);
		exec_set_details(run, NULL);
		return;
	}
	exec_describe_exit(run->wstatus, what, sizeof what);
	if (!line)
		h->set_message(task, "%s", what);
	else if (WIFSIGNALED(run->wstatus))
		h->set_message(task, "%s: %.*s", what, len, line);
	else
		h->set_message(task, "%.*s", len, line);
	char *details = exec_perfdata_parse_seen(h, task, run->ctx->c_locale, run->out.buf,
						 run->out.len, exec_trial_perfdata_seen, run);
	details = exec_trial_long_output(run, details);
	exec_trial_report(run);
	exec_set_details(run, details);
	free(details);
}
