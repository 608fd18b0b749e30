/* trace_write.c -- the trace as a Chrome trace event file, written once
 * the run is over: the lanes named, then a complete event per span with
 * its node, item, attempt, status and message (the report's, masked). */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mask.h"
#include "status.h"
#include "text.h"
#include "trace_int.h"

/* The process ids of the two kinds of lanes. */
#define PID_SLOTS 1
#define PID_WAITS 2

/* What the writer reads beside the spans. */
typedef struct trace_out {
	FILE *f;
	const trace *t;
	const assay_report *r;
	const assay_result **at; /* per plan node: its result in the report, or NULL */
} trace_out;

/* s as a JSON string: valid UTF-8 (U+FFFD for what is not), quotes,
 * backslashes and control characters escaped. */
static void put_string(FILE *f, const char *s)
{
	size_t len = s ? strlen(s) : 0;

	fputc('"', f);
	while (len) {
		uint32_t cp;
		size_t n = text_decode(s, len, &cp);

		if (cp == TEXT_INVALID)
			fputs("\\ufffd", f);
		else if (cp == '"' || cp == '\\')
			fprintf(f, "\\%c", (char)cp);
		else if (cp < 0x20 || cp == 0x7f)
			fprintf(f, "\\u%04x", (unsigned)cp);
		else
			fwrite(s, 1, n, f);
		s += n;
		len -= n;
	}
	fputc('"', f);
}

/* The lanes' names, for the viewers' left column. */
static void put_lanes(FILE *f, unsigned pid, const char *process, const char *lane, size_t n)
{
	size_t i;

	fprintf(f,
		"{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":%u,\"tid\":0,"
		"\"args\":{\"name\":\"%s\"}},\n",
		pid, process);
	fprintf(f,
		"{\"name\":\"process_sort_index\",\"ph\":\"M\",\"pid\":%u,\"tid\":0,"
		"\"args\":{\"sort_index\":%u}},\n",
		pid, pid);
	for (i = 0; i < n; i++) {
		fprintf(f,
			"{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":%u,\"tid\":%zu,"
			"\"args\":{\"name\":\"%s %zu\"}},\n",
			pid, i + 1, lane, i + 1);
		fprintf(f,
			"{\"name\":\"thread_sort_index\",\"ph\":\"M\",\"pid\":%u,\"tid\":%zu,"
			"\"args\":{\"sort_index\":%zu}},\n",
			pid, i + 1, i + 1);
	}
}

/* The result of s's execution in the report (its node's, or its item's),
 * or NULL. */
static const assay_result *span_result(const trace_out *o, const trace_span *s)
{
	const assay_result *res = o->at[s->node];

	if (!res || s->item == TRACE_NONE)
		return res;
	return s->item < res->n_items ? res->items[s->item] : NULL;
}

/* What attempt k said: its entry in the history, or the result's own
 * message for an execution of one attempt (or its last). */
static const char *attempt_message(const assay_result *res, uint32_t k)
{
	if (res->n_history && k >= 1 && k <= res->n_history)
		return res->history[k - 1]->message;
	return res->message;
}

/* What a wait waited for, masked as the report's texts are. */
static void put_wait_text(const trace_out *o, const trace_span *s)
{
	const plan *p = o->t->p;
	const char *text = s->text != TRACE_NONE ? o->t->texts[s->text] : NULL;
	char *masked;

	if (!text)
		return;
	masked = mask_text(text, strlen(text), (const char *const *)p->values.secrets,
			   p->values.n_secrets, 0, NULL);
	fputs(",\"for\":", o->f);
	put_string(o->f, masked ? masked : "***");
	free(masked);
}

static const char *span_category(const trace_out *o, const trace_span *s)
{
	if (s->kind == SPAN_WAIT)
		return "wait";
	if (s->kind == SPAN_BACKOFF)
		return "backoff";
	return status_kind_name(o->t->p->nodes[s->node].kind);
}

static void put_span(const trace_out *o, const trace_span *s)
{
	const assay_result *res = span_result(o, s);
	const char *node = o->at[s->node] ? o->at[s->node]->id : "";
	FILE *f = o->f;

	if (!res)
		return; /* not in the report: not kept, never run */
	fputs("{\"name\":", f);
	put_string(f, res->id);
	fprintf(f,
		",\"cat\":\"%s\",\"ph\":\"X\",\"ts\":%.3f,\"dur\":%.3f,\"pid\":%d,\"tid\":%u,"
		"\"args\":{\"node\":",
		span_category(o, s), (double)s->start_ns / 1e3,
		(double)(s->end_ns - s->start_ns) / 1e3,
		s->kind == SPAN_RUN ? PID_SLOTS : PID_WAITS, s->lane + 1);
	put_string(f, node);
	if (s->item != TRACE_NONE) {
		fputs(",\"item\":", f);
		put_string(f, res->item ? res->item : res->id);
	}
	fprintf(f, ",\"attempt\":%u,\"status\":\"%s\"", s->attempt,
		status_name((assay_status)s->status));
	if (s->kind == SPAN_RUN) {
		fputs(",\"message\":", f);
		put_string(f, attempt_message(res, s->attempt));
	} else if (s->kind == SPAN_WAIT) {
		put_wait_text(o, s);
	}
	fputs("}},\n", f);
}

/* The run as a whole, in "otherData": what a reader of the file alone
 * needs to know what it shows. */
static void put_totals(const trace_out *o, size_t counts[3])
{
	const assay_report *r = o->r;
	FILE *f = o->f;

	fputs("],\n\"displayTimeUnit\":\"ms\",\n\"otherData\":{\"config\":", f);
	put_string(f, r->config_path);
	if (r->run_id) {
		fputs(",\"run_id\":", f);
		put_string(f, r->run_id);
	}
	fputs(",\"assay_version\":", f);
	put_string(f, r->assay_version);
	fprintf(f,
		",\"wall_seconds\":%.6f,\"critical_path_seconds\":%.6f,\"attempts\":%zu,"
		"\"waits\":%zu,\"backoffs\":%zu,\"slots\":%zu,\"wait_lanes\":%zu,"
		"\"interrupted\":%s}}\n",
		r->wall, r->critical_path, counts[SPAN_RUN], counts[SPAN_WAIT],
		counts[SPAN_BACKOFF], o->t->slots.n, o->t->waits.n,
		r->interrupted ? "true" : "false");
}

static int trace_json(FILE *f, const assay_report *r, void *data)
{
	trace_out *o = data;
	const trace_block *b;
	size_t i, counts[3] = { 0 };
	double end = r->end > o->t->t0_wall ? r->end - o->t->t0_wall : 0;

	o->f = f;
	fputs("{\"traceEvents\":[\n", f);
	put_lanes(f, PID_SLOTS, "jobs", "slot", o->t->slots.n);
	put_lanes(f, PID_WAITS, "waits", "wait", o->t->waits.n);
	for (b = o->t->first; b; b = b->next)
		for (i = 0; i < b->n; i++) {
			put_span(o, &b->spans[i]);
			counts[b->spans[i].kind]++;
		}
	/* JSON has no trailing comma: the array ends with an event that
	 * says where the run ended. */
	fprintf(f,
		"{\"name\":\"run end\",\"ph\":\"i\",\"s\":\"g\",\"pid\":%d,\"tid\":0,\"ts\":%.3f}\n",
		PID_SLOTS, end * 1e6);
	put_totals(o, counts);
	return ferror(f) ? ASSAY_ESYS : 0;
}

int trace_check(const char *path, char *why, size_t size)
{
	return report_check_target(path, why, size);
}

int trace_write(trace *t, const report *rep, const char *path)
{
	const run_result *res = run_results(t->run);
	trace_out o = { .t = t, .r = &rep->r };
	assay_reporter writer = { .name = "trace", .write = trace_json, .data = &o };
	size_t i, k = 0;
	int rc;

	if (t->failed) {
		fprintf(stderr, "assay: cannot write the trace to %s: out of memory\n", path);
		return -1;
	}
	if (!(o.at = calloc(t->p->n_nodes ? t->p->n_nodes : 1, sizeof *o.at))) {
		fprintf(stderr, "assay: cannot write the trace to %s: out of memory\n", path);
		return -1;
	}
	/* The report holds the kept nodes in plan order. */
	for (i = 0; i < t->p->n_nodes && k < rep->r.n_results; i++)
		if (res[i].kept)
			o.at[i] = rep->r.results[k++];
	rc = report_write(&writer, rep, path);
	free(o.at);
	return rc == 0 ? 0 : -1;
}
