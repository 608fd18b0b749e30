/* exec_metrics.c -- a trial's metrics: the table of last values both channels fill, the `name=value` / `name: value` lines of its stdout (Guild AI's output scalars), and what the details say of them. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strtod_l, strndup */
#endif

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "exec_metrics.h"

static bool exec_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static bool exec_digit(char c)
{
	return c >= '0' && c <= '9';
}

bool exec_metric_name_ok(const char *s, size_t len)
{
	if (len == 0 || len > EXEC_METRIC_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';

		if (!alpha && (i == 0 || !(exec_digit(c) || c == '.' || c == '/' || c == '-')))
			return false;
	}
	return true;
}

/* A number as a program prints one: [+-] digits [. digits] [e [+-] digits],
 * or nan, inf, infinity in any case (read, then kept from the pruner). */
static bool exec_number_ok(const char *s, size_t len)
{
	size_t i = 0, digits = 0;

	if (i < len && (s[i] == '+' || s[i] == '-'))
		i++;
	if ((len - i == 3 &&
	     (strncasecmp(s + i, "nan", 3) == 0 || strncasecmp(s + i, "inf", 3) == 0)) ||
	    (len - i == 8 && strncasecmp(s + i, "infinity", 8) == 0))
		return true;
	for (; i < len && exec_digit(s[i]); i++)
		digits++;
	if (i < len && s[i] == '.')
		for (i++; i < len && exec_digit(s[i]); i++)
			digits++;
	if (!digits)
		return false;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i == len || !exec_digit(s[i]))
			return false;
		while (i < len && exec_digit(s[i]))
			i++;
	}
	return i == len;
}

/* Splits a metric line into its name and its number: blanks, the name,
 * then `=` with blanks around it or `:` with blanks after it, the number,
 * blanks.  Anything else is the program's own output. */
static bool exec_metric_split(const char *s, size_t len, const char **name, size_t *nlen,
			      const char **num, size_t *numlen)
{
	size_t i = 0, start, end = len;

	while (i < len && exec_blank(s[i]))
		i++;
	start = i;
	while (i < len && !exec_blank(s[i]) && s[i] != '=' && s[i] != ':')
		i++;
	if (!exec_metric_name_ok(s + start, i - start))
		return false;
	*name = s + start;
	*nlen = i - start;
	while (i < len && exec_blank(s[i]) && s[i] != ':')
		i++;
	if (i == len || (s[i] != '=' && s[i] != ':') || (s[i] == ':' && i != start + *nlen))
		return false;
	for (i++; i < len && exec_blank(s[i]); i++)
		;
	while (end > i && exec_blank(s[end - 1]))
		end--;
	*num = s + i;
	*numlen = end - i;
	return exec_number_ok(*num, *numlen);
}

bool exec_metrics_is_line(const char *s, size_t len)
{
	const char *name, *num;
	size_t nlen, numlen;

	return exec_metric_split(s, len, &name, &nlen, &num, &numlen);
}

exec_metrics *exec_metrics_new(const exec_ctx *ctx, assay_task *task, const char *dir)
{
	exec_metrics *m = calloc(1, sizeof *m);

	if (!m)
		return NULL;
	m->host = ctx->host;
	m->task = task;
	m->c_locale = ctx->c_locale;
	m->step = -1;
	m->fd = -1;
	pthread_mutex_init(&m->lock, NULL);
	if (dir && asprintf(&m->path, "%s/metrics.jsonl", dir) < 0) {
		m->path = NULL;
		exec_metrics_free(m);
		return NULL;
	}
	return m;
}

void exec_metrics_free(exec_metrics *m)
{
	if (!m)
		return;
	exec_metrics_file_close(m);
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i].name);
	free(m->v);
	free(m->out_bad.first);
	free(m->file_bad.first);
	free(m->path);
	free(m->jline);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

/* Under m->lock: the metric named s[0..len), added when new and there is
 * room; NULL otherwise. */
static exec_mvalue *exec_metrics_find_locked(exec_metrics *m, const char *s, size_t len, bool add)
{
	for (size_t i = 0; i < m->n; i++)
		if (strlen(m->v[i].name) == len && memcmp(m->v[i].name, s, len) == 0)
			return &m->v[i];
	if (!add || m->n == EXEC_METRICS_MAX)
		return NULL;
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 8;
		exec_mvalue *v = realloc(m->v, cap * sizeof *v);
		if (!v)
			return NULL;
		m->v = v;
		m->cap = cap;
	}
	char *name = strndup(s, len);
	if (!name)
		return NULL;
	m->v[m->n] = (exec_mvalue){ .name = name, .step = -1 };
	return &m->v[m->n++];
}

void exec_metrics_put(exec_metrics *m, const char *name, size_t len, double value, int64_t step)
{
	char copy[EXEC_METRIC_NAME_MAX + 1];

	pthread_mutex_lock(&m->lock);
	exec_mvalue *v = exec_metrics_find_locked(m, name, len, true);
	if (v) {
		v->value = value;
		v->step = step;
	} else {
		m->dropped++;
	}
	pthread_mutex_unlock(&m->lock);
	/* The pruner and the live display take only numbers; a nan stays the
	 * metric's last value (see exec_metrics_add_final). */
	if (!v || step < 0 || !isfinite(value))
		return;
	memcpy(copy, name, len);
	copy[len] = '\0';
	int rc = m->host->report_step(m->task, copy, value, step);
	if (rc < 0)
		m->host->task_log(m->task, ASSAY_LOG_WARNING, "cannot report `%s` at step %lld: %s",
				  copy, (long long)step, m->host->strerror(rc));
}

void exec_metrics_bad(exec_metrics *m, exec_bad *bad, uint64_t line_no, const char *why,
		      const char *text, size_t len)
{
	size_t mlen = 0, cut;
	char *shown;

	if (bad->count++)
		return;
	/* Masked whole, then cut: a cut must not leave part of a secret. */
	shown = m->host->mask(m->task, text, len, 0, &mlen);
	if (!shown)
		return;
	cut = mlen > EXEC_EXCERPT ? EXEC_EXCERPT : mlen;
	while (cut < mlen && cut > 0 && ((unsigned char)shown[cut] & 0xC0) == 0x80)
		cut--; /* not inside a UTF-8 character */
	for (size_t i = 0; i < cut; i++)
		if ((unsigned char)shown[i] < 0x20)
			shown[i] = ' ';
	if (asprintf(&bad->first, "line %llu: %s: `%.*s%s`", (unsigned long long)line_no, why,
		     (int)cut, shown, cut < mlen ? "..." : "") < 0)
		bad->first = NULL;
	free(shown);
}

/* A step: a whole number from 0, as digits alone. */
static bool exec_step(const char *s, size_t len, int64_t *out)
{
	int64_t v = 0;

	if (len == 0 || len > 18)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!exec_digit(s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/* One whole line of stdout: a metric, a step, or the program's own. */
static void exec_metrics_stdout_line(exec_metrics *m, const char *s, size_t len)
{
	const char *name, *num;
	size_t nlen, numlen;
	char tmp[EXEC_METRIC_LINE_MAX + 1];

	m->line_no++;
	if (!exec_metric_split(s, len, &name, &nlen, &num, &numlen))
		return;
	if (nlen == 4 && memcmp(name, "step", 4) == 0) {
		if (!exec_step(num, numlen, &m->step))
			exec_metrics_bad(m, &m->out_bad, m->line_no,
					 "a step is a whole number from 0", s, len);
		return;
	}
	memcpy(tmp, num, numlen);
	tmp[numlen] = '\0';
	exec_metrics_put(m, name, nlen, strtod_l(tmp, NULL, m->c_locale), m->step);
}

void exec_metrics_stdout(exec_metrics *m, const char *buf, size_t n)
{
	while (n > 0) {
		const char *nl = memchr(buf, '\n', n);
		size_t take = nl ? (size_t)(nl - buf) : n;

		if (!m->line_long && m->line_len + take <= EXEC_METRIC_LINE_MAX) {
			memcpy(m->line + m->line_len, buf, take);
			m->line_len += take;
		} else {
			m->line_long = true; /* too long for a metric: the program's */
		}
		if (!nl)
			return;
		if (m->line_long)
			m->line_no++;
		else
			exec_metrics_stdout_line(m, m->line, m->line_len);
		m->line_len = 0;
		m->line_long = false;
		buf += take + 1;
		n -= take + 1;
	}
}

void exec_metrics_stdout_end(exec_metrics *m)
{
	if (m->line_len && !m->line_long)
		exec_metrics_stdout_line(m, m->line, m->line_len);
	m->line_len = 0;
	m->line_long = false;
}

void exec_metrics_perfdata_seen(void *arg, const char *name)
{
	exec_metrics *m = arg;

	pthread_mutex_lock(&m->lock);
	exec_mvalue *v = exec_metrics_find_locked(m, name, strlen(name), false);
	if (v)
		v->perfdata = true;
	pthread_mutex_unlock(&m->lock);
}

void exec_metrics_add_final(exec_metrics *m)
{
	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < m->n; i++) {
		const exec_mvalue *v = &m->v[i];
		assay_metric metric = { .name = v->name, .value = v->value };

		if (v->perfdata || !isfinite(v->value))
			continue;
		int rc = m->host->add_metric(m->task, &metric);
		if (rc < 0)
			m->host->task_log(m->task, ASSAY_LOG_WARNING, "cannot add metric `%s`: %s",
					  v->name, m->host->strerror(rc));
	}
	pthread_mutex_unlock(&m->lock);
}

/* Appends a sentence to *note (malloc'd, NULL for none yet). */
ASSAY_PRINTF(2, 3)
static void exec_note_add(char **note, const char *fmt, ...)
{
	char *line = NULL, *joined = NULL;
	va_list ap;

	va_start(ap, fmt);
	int rc = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (rc < 0)
		return;
	if (!*note) {
		*note = line;
		return;
	}
	if (asprintf(&joined, "%s\n%s", *note, line) >= 0) {
		free(*note);
		*note = joined;
	}
	free(line);
}

static void exec_note_bad(char **note, const exec_bad *bad, const char *what, const char *verb)
{
	if (!bad->count)
		return;
	exec_note_add(note, "%llu line%s of %s %s; the first, %s", (unsigned long long)bad->count,
		      bad->count == 1 ? "" : "s", what, verb,
		      bad->first ? bad->first : "(out of memory)");
}

char *exec_metrics_note(exec_metrics *m)
{
	char *note = NULL;

	exec_note_bad(&note, &m->out_bad, "stdout", "had a bad step");
	exec_note_bad(&note, &m->file_bad, "$ASSAY_METRICS", "could not be read");
	if (m->over)
		exec_note_add(&note,
			      "$ASSAY_METRICS is longer than %llu MiB: the rest was not read",
			      (unsigned long long)(EXEC_JSON_FILE_MAX >> 20));
	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < m->n; i++) {
		const exec_mvalue *v = &m->v[i];
		char at[40] = "";

		if (v->perfdata || isfinite(v->value))
			continue;
		if (v->step >= 0)
			snprintf(at, sizeof at, " (step %lld)", (long long)v->step);
		exec_note_add(&note,
			      "`%s` ended as %s%s: not a number, so not a metric of this trial",
			      v->name,
			      isnan(v->value) ? "nan"
			      : v->value > 0  ? "inf"
					      : "-inf",
			      at);
	}
	if (m->dropped)
		exec_note_add(&note,
			      "more than %d metrics: %llu values of the others were left out",
			      EXEC_METRICS_MAX, (unsigned long long)m->dropped);
	pthread_mutex_unlock(&m->lock);
	return note;
}
