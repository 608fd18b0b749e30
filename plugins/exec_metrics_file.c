/* exec_metrics_file.c -- a trial's $ASSAY_METRICS: JSON lines the program appends ({"step": 3, "accuracy": 0.91}), tailed while it runs and read to the end once it exits. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec_metrics.h"

#define EXEC_STEP_MAX 9007199254740992.0 /* 2^53: past it a double skips integers */

void exec_metrics_file_close(exec_metrics *m)
{
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
}

/* Why obj cannot be read as metrics, or NULL; *step set from "step". */
static const char *exec_json_check(const cJSON *obj, int64_t *step, const char **bad_name)
{
	const cJSON *it;

	if (!cJSON_IsObject(obj))
		return "not a JSON object";
	cJSON_ArrayForEach(it, obj)
	{
		*bad_name = it->string;
		if (!it->string || !exec_metric_name_ok(it->string, strlen(it->string)))
			return "a member's name is not a metric name";
		if (!cJSON_IsNumber(it))
			return "a member is not a number";
		if (strcmp(it->string, "step") != 0)
			continue;
		double d = it->valuedouble;
		if (!(d >= 0 && d <= EXEC_STEP_MAX && d == floor(d)))
			return "a step is a whole number from 0";
		*step = (int64_t)d;
	}
	return NULL;
}

/* One whole line, m->jline[0..jlen): a bad line is taken not at all. */
static void exec_json_line(exec_metrics *m)
{
	const char *text = m->jline ? m->jline : "";
	size_t len = m->jlen, blank = 0;
	int64_t step = -1;
	const char *why = NULL, *bad_name = NULL;
	cJSON *obj = NULL;

	m->jline_no++;
	while (blank < len && (text[blank] == ' ' || text[blank] == '\t' || text[blank] == '\r'))
		blank++;
	if (blank == len && !m->jlong)
		return; /* an empty line says nothing */
	if (m->jlong) {
		why = "longer than 64 KiB";
	} else if (memchr(text, '\0', len) || !(obj = cJSON_ParseWithOpts(text, NULL, true))) {
		/* Python's json.dumps writes these for a float that is not finite. */
		why = strstr(text, "NaN") || strstr(text, "Infinity")
			      ? "not JSON (NaN and Infinity are not JSON numbers)"
			      : "not JSON";
	} else {
		why = exec_json_check(obj, &step, &bad_name);
	}
	if (why) {
		exec_metrics_bad(m, &m->file_bad, m->jline_no, why, text, len);
		cJSON_Delete(obj);
		return;
	}
	const cJSON *it;
	cJSON_ArrayForEach(it, obj) if (strcmp(it->string, "step") != 0)
		exec_metrics_put(m, it->string, strlen(it->string), it->valuedouble, step);
	cJSON_Delete(obj);
}

/* Bytes of the file, split into lines; the line buffer holds one line of
 * EXEC_JSON_LINE_MAX at most (and its NUL, for cJSON). */
static void exec_json_feed(exec_metrics *m, const char *buf, size_t n)
{
	while (n > 0) {
		const char *nl = memchr(buf, '\n', n);
		size_t take = nl ? (size_t)(nl - buf) : n;

		if (!m->jlong && m->jlen + take <= EXEC_JSON_LINE_MAX) {
			if (!m->jline && !(m->jline = malloc(EXEC_JSON_LINE_MAX + 1)))
				m->jlong = true; /* out of memory: counted as a bad line */
			else {
				memcpy(m->jline + m->jlen, buf, take);
				m->jlen += take;
				m->jline[m->jlen] = '\0';
			}
		} else {
			m->jlong = true;
		}
		if (!nl)
			return;
		exec_json_line(m);
		m->jlen = 0;
		m->jlong = false;
		buf += take + 1;
		n -= take + 1;
	}
}

void exec_metrics_file_read(exec_metrics *m, bool at_end)
{
	char buf[16384];
	size_t budget = at_end ? SIZE_MAX : EXEC_JSON_TICK_READ;

	if (!m->path || m->over)
		return;
	/* The program makes it with its first line (a retry starts without
	 * the last attempt's): until it does, try again next time. */
	if (m->fd < 0 && (m->fd = open(m->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0)
		return;
	while (budget > 0) {
		uint64_t room = EXEC_JSON_FILE_MAX - m->offset;
		size_t want = sizeof buf < budget ? sizeof buf : budget;
		struct stat st;

		if (room == 0) {
			m->over = fstat(m->fd, &st) == 0 && (uint64_t)st.st_size > m->offset;
			break;
		}
		if (want > room)
			want = (size_t)room;
		ssize_t got = pread(m->fd, buf, want, (off_t)m->offset);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		m->offset += (uint64_t)got;
		budget -= (size_t)got;
		exec_json_feed(m, buf, (size_t)got);
	}
	/* A last line without its newline; not one the size limit cut. */
	if (at_end && !m->over && (m->jlen || m->jlong)) {
		exec_json_line(m);
		m->jlen = 0;
		m->jlong = false;
	}
}
