/* exec_metrics.h -- a trial's metrics as its program reports them, from
 * its stdout lines (exec_metrics.c) and the JSON lines of $ASSAY_METRICS
 * (exec_metrics_file.c): each value with a step handed to the host at
 * once (report_step, for pruning and the live display), the last value
 * of each metric kept for the end (add_metric).
 *
 * Internal to libexec-common.  The stdout lines come from the reactor
 * thread, the file from a reactor timer and, at the end, from whichever
 * thread finishes the run; a lock guards the table they share, and is
 * never held while the host is called (report_step may cancel the task
 * from inside, which takes the run's lock). */
#ifndef EXEC_METRICS_H
#define EXEC_METRICS_H

#include <locale.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exec_common.h"

#define EXEC_METRIC_NAME_MAX 128                /* bytes of a metric's name */
#define EXEC_METRICS_MAX 1024                   /* distinct metrics kept per trial */
#define EXEC_METRIC_LINE_MAX 512                /* a longer stdout line is the program's own */
#define EXEC_JSON_LINE_MAX 65536                /* a longer line of $ASSAY_METRICS is a bad line */
#define EXEC_JSON_FILE_MAX ((uint64_t)64 << 20) /* bytes of $ASSAY_METRICS read */
#define EXEC_JSON_TICK_READ ((size_t)1 << 20)   /* bytes read per tick while it runs */
#define EXEC_EXCERPT 60                         /* bytes of a bad line quoted in the details */

/* One metric: its last value, and the step that came with it (-1: none). */
typedef struct exec_mvalue {
	char *name;
	double value;
	int64_t step;
	bool perfdata; /* the first line's perfdata named it: that one stands */
} exec_mvalue;

/* Bad lines of one channel: how many, and the first one, described. */
typedef struct exec_bad {
	uint64_t count;
	char *first; /* "line 4: not JSON: {\"loss\": 0.3" (masked), or NULL */
} exec_bad;

struct exec_metrics {
	const assay_host *host;
	assay_task *task;
	locale_t c_locale;

	pthread_mutex_t lock; /* guards v, n, cap, dropped */
	exec_mvalue *v;       /* in the order first seen */
	size_t n, cap;
	uint64_t dropped; /* values of metrics past EXEC_METRICS_MAX */

	/* stdout: the line being read, the step the last `step` line set */
	char line[EXEC_METRIC_LINE_MAX];
	size_t line_len;
	bool line_long; /* the current line is over EXEC_METRIC_LINE_MAX */
	uint64_t line_no;
	int64_t step;
	exec_bad out_bad;

	/* $ASSAY_METRICS (exec_metrics_file.c) */
	char *path;      /* NULL: no file channel */
	int fd;          /* -1 until it could be opened */
	uint64_t offset; /* bytes read */
	char *jline;     /* the line being read, up to EXEC_JSON_LINE_MAX */
	size_t jlen;
	bool jlong;
	uint64_t jline_no;
	bool over; /* stopped at EXEC_JSON_FILE_MAX */
	exec_bad file_bad;
};

/* A trial's collector: the file channel reads dir/metrics.jsonl (dir
 * NULL: none).  NULL when out of memory. */
exec_metrics *exec_metrics_new(const exec_ctx *ctx, assay_task *task, const char *dir);
void exec_metrics_free(exec_metrics *m);

/* stdout as it arrives, and its last line without a newline at the end. */
void exec_metrics_stdout(exec_metrics *m, const char *buf, size_t n);
void exec_metrics_stdout_end(exec_metrics *m);

/* For exec_perfdata_parse_seen: the first line's perfdata named it. */
void exec_metrics_perfdata_seen(void *arg, const char *name);

/* At the end: each metric's last value added with add_metric, in the
 * order first seen, but for those perfdata named and those whose last
 * value is not a finite number. */
void exec_metrics_add_final(exec_metrics *m);

/* What the details say of the channels: bad lines, non-finite last
 * values, what a limit left out.  malloc'd, or NULL when all was well. */
char *exec_metrics_note(exec_metrics *m);

/* Whether s[0..len) is a metric line, `name=value` or `name: value`. */
bool exec_metrics_is_line(const char *s, size_t len);

/* A metric's name: [A-Za-z_][A-Za-z0-9_./-]*, at most EXEC_METRIC_NAME_MAX. */
bool exec_metric_name_ok(const char *s, size_t len);

/* Records value as the last of name and, with a step (>= 0) and a finite
 * value, hands it to report_step.  Any thread, without m->lock. */
void exec_metrics_put(exec_metrics *m, const char *name, size_t len, double value, int64_t step);

/* Counts a bad line of a channel, keeping the first's description: the
 * line masked of the run's secrets, then cut to EXEC_EXCERPT bytes. */
void exec_metrics_bad(exec_metrics *m, exec_bad *bad, uint64_t line_no, const char *why,
		      const char *text, size_t len);

/* exec_metrics_file.c: reads what was appended to $ASSAY_METRICS since
 * the last call, each complete line; at_end also a last line without its
 * newline, and with no bound per call. */
void exec_metrics_file_read(exec_metrics *m, bool at_end);
void exec_metrics_file_close(exec_metrics *m);

#endif /* EXEC_METRICS_H */
