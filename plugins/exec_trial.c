/* exec_trial.c -- what a trial adds to an exec run: its metrics collector, the timer that tails $ASSAY_METRICS, its stdout and stderr kept in its trial dir.  Checks and validations never get here. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "exec_common.h"
#include "exec_log.h"
#include "exec_metrics.h"

/* $ASSAY_METRICS is read this long after the start, then this often: a
 * trial that is over at once (`true`) never costs a read, and a value
 * reaches the pruner a fifth of a second after it was written. */
#define EXEC_TAIL_FIRST_MS 50
#define EXEC_TAIL_MS 200

/* The reactor thread.  tail_busy keeps exec_finish() from freeing the
 * run under a read, should it run on another thread. */
static void exec_trial_tick(void *arg)
{
	exec_run *run = arg;
	const assay_host *h = run->ctx->host;

	pthread_mutex_lock(&run->lock);
	run->tail_timer = NULL;
	bool go = !run->finishing;
	run->tail_busy = go;
	pthread_mutex_unlock(&run->lock);
	if (!go)
		return;
	/* Unlocked: report_step may cancel the task from inside. */
	exec_metrics_file_read(run->metrics, false);
	pthread_mutex_lock(&run->lock);
	run->tail_busy = false;
	pthread_cond_broadcast(&run->tail_done);
	if (!run->finishing &&
	    h->timer_start(EXEC_TAIL_MS, exec_trial_tick, run, &run->tail_timer) < 0)
		run->tail_timer = NULL; /* read once more at the end all the same */
	pthread_mutex_unlock(&run->lock);
}

void exec_trial_start(exec_run *run)
{
	const assay_host *h = run->ctx->host;
	assay_task *task = run->task;

	if (h->task_kind(task) != ASSAY_KIND_TRIAL)
		return;
	const char *dir = h->task_dir(task);
	run->metrics = exec_metrics_new(run->ctx, task, dir);
	if (!run->metrics)
		h->task_log(task, ASSAY_LOG_WARNING,
			    "out of memory: the trial's metrics are not read");
	if (dir && run->node->log_limit > 0) {
		run->out.log = exec_log_open(h, task, dir, "stdout", run->node->log_limit);
		run->err.log = exec_log_open(h, task, dir, "stderr", run->node->log_limit);
	}
	if (!run->metrics || !run->metrics->path)
		return;
	pthread_mutex_lock(&run->lock);
	if (h->timer_start(EXEC_TAIL_FIRST_MS, exec_trial_tick, run, &run->tail_timer) < 0)
		run->tail_timer = NULL;
	pthread_mutex_unlock(&run->lock);
}

void exec_trial_feed(exec_run *run, exec_stream *s, const char *buf, size_t n)
{
	if (s->log)
		exec_log_write(s->log, buf, n);
	if (run->metrics && s == &run->out)
		exec_metrics_stdout(run->metrics, buf, n);
}

void exec_trial_wait(exec_run *run)
{
	pthread_mutex_lock(&run->lock);
	while (run->tail_busy)
		pthread_cond_wait(&run->tail_done, &run->lock);
	pthread_mutex_unlock(&run->lock);
}

void exec_trial_stop(exec_run *run)
{
	const assay_host *h = run->ctx->host;
	const char *dir = run->out.log || run->err.log ? h->task_dir(run->task) : NULL;

	if (run->metrics) {
		exec_metrics_stdout_end(run->metrics);
		exec_metrics_file_read(run->metrics, true);
		exec_metrics_file_close(run->metrics);
	}
	exec_log_close(run->out.log, "stdout", dir);
	exec_log_close(run->err.log, "stderr", dir);
	run->out.log = run->err.log = NULL;
}

void exec_trial_report(exec_run *run)
{
	if (run->metrics)
		exec_metrics_add_final(run->metrics);
}

char *exec_trial_note(exec_run *run)
{
	return run->metrics ? exec_metrics_note(run->metrics) : NULL;
}

void exec_trial_free(exec_run *run)
{
	exec_metrics_free(run->metrics);
	run->metrics = NULL;
}

void exec_trial_perfdata_seen(void *arg, const char *name)
{
	exec_run *run = arg;

	if (run->metrics)
		exec_metrics_perfdata_seen(run->metrics, name);
}

const char *exec_trial_first_line(const exec_run *run, int *len)
{
	const char *buf = run->out.buf;
	size_t n = run->out.len, start = 0;

	if (!run->metrics || !buf)
		return NULL;
	while (start < n) {
		const char *nl = memchr(buf + start, '\n', n - start);
		size_t end = nl ? (size_t)(nl - buf) : n, b = start, e = end;
		const char *bar = memchr(buf + start, '|', end - start);

		if (!exec_metrics_is_line(buf + start, end - start)) {
			if (bar)
				e = (size_t)(bar - buf);
			while (b < e && (buf[b] == ' ' || buf[b] == '\t' || buf[b] == '\r'))
				b++;
			while (e > b &&
			       (buf[e - 1] == ' ' || buf[e - 1] == '\t' || buf[e - 1] == '\r'))
				e--;
			if (e > b) {
				*len = e - b > INT32_MAX ? INT32_MAX : (int)(e - b);
				return buf + b;
			}
		}
		start = end + 1;
	}
	return NULL;
}

char *exec_trial_long_output(const exec_run *run, char *text)
{
	size_t at = 0, out = 0, len;

	if (!run->metrics || !text)
		return text;
	len = strlen(text);
	while (at < len) {
		const char *nl = memchr(text + at, '\n', len - at);
		size_t end = nl ? (size_t)(nl - text) : len;

		if (!exec_metrics_is_line(text + at, end - at)) {
			if (out)
				text[out++] = '\n';
			memmove(text + out, text + at, end - at);
			out += end - at;
		}
		at = end + 1;
	}
	text[out] = '\0';
	if (out == 0) {
		free(text);
		return NULL;
	}
	return text;
}
