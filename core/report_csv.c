/* report_csv.c -- the csv report, for a spreadsheet or pandas: one row
 * per node in declaration order (a validation is one row; its items are
 * in the json report), and for trials a column per parameter and per
 * final metric, so that a sweep reads as a results table.
 *
 * RFC 4180: a header row, CRLF after every row, a field quoted when it
 * holds a comma, a quote, CR or LF (quotes doubled); texts are valid
 * UTF-8.  A text cell that a spreadsheet would take for a formula (it
 * starts with = + - @, a tab or CR, and is not a number) is prefixed with
 * a single quote, as OWASP advises: a command's output must not run as a
 * formula in whoever opens the file. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builtin.h"
#include "status.h"
#include "text.h"

/* The columns after the fixed ones: names in first-seen order. */
typedef struct names {
	const char **v;
	size_t n, cap;
} names;

static int names_add(names *ns, const char *name)
{
	size_t i;

	for (i = 0; i < ns->n; i++)
		if (strcmp(ns->v[i], name) == 0)
			return 0;
	if (ns->n == ns->cap) {
		const char **grown = realloc(ns->v, (ns->cap = ns->cap ? ns->cap * 2 : 8) * sizeof *grown);

		if (!grown)
			return ASSAY_ENOMEM;
		ns->v = grown;
	}
	ns->v[ns->n++] = name;
	return 0;
}

/* Whether s, whole, is a number (strtod's: "-0.5", "1e-3", "-inf"). */
static bool is_number(const char *s)
{
	char *end;

	if (!*s)
		return false;
	(void)strtod(s, &end);
	return *end == '\0';
}

/* One field: valid UTF-8, defused when a spreadsheet would evaluate it,
 * quoted when RFC 4180 says so. */
static void put_field(FILE *out, const char *s)
{
	char *valid = text_utf8(s ? s : "");
	const char *t = valid ? valid : "";
	bool formula = t[0] && strchr("=+-@\t\r", t[0]) && !is_number(t);

	if (!formula && !t[strcspn(t, ",\"\r\n")]) {
		fputs(t, out);
	} else {
		fputc('"', out);
		if (formula)
			fputc('\'', out);
		for (; *t; t++) {
			if (*t == '"')
				fputc('"', out);
			fputc(*t, out);
		}
		fputc('"', out);
	}
	free(valid);
}

/* A number as short as reads back the same; empty for NaN and the
 * infinities, which spreadsheets do not read. */
static void put_number(FILE *out, double v)
{
	char buf[40];

	if (!isfinite(v))
		return;
	snprintf(buf, sizeof buf, "%.15g", v);
	if (strtod(buf, NULL) != v)
		snprintf(buf, sizeof buf, "%.17g", v);
	fputs(buf, out);
}

static const char *param_of(const assay_result *res, const char *name)
{
	size_t i;

	for (i = 0; i < res->n_params; i++)
		if (strcmp(res->params[i].name, name) == 0)
			return res->params[i].value;
	return NULL;
}

/* The last value of the metric: a value reported again replaces it. */
static const assay_metric *metric_of(const assay_result *res, const char *name)
{
	size_t i = res->n_metrics;

	while (i--)
		if (strcmp(res->metrics[i].name, name) == 0)
			return &res->metrics[i];
	return NULL;
}

static void put_header(FILE *out, const names *params, const names *metrics)
{
	char *col;
	size_t i;

	fputs("id,kind,sweep,status,message,duration,attempts,best,seed,resumed_from", out);
	for (i = 0; i < params->n + metrics->n; i++) {
		bool is_param = i < params->n;

		if (asprintf(&col, "%s.%s", is_param ? "param" : "metric",
			     is_param ? params->v[i] : metrics->v[i - params->n]) < 0)
			continue;
		fputc(',', out);
		put_field(out, col);
		free(col);
	}
	fputs("\r\n", out);
}

/* The fixed columns of one node. */
static void put_fixed(FILE *out, const assay_result *res)
{
	bool trial = res->kind == ASSAY_KIND_TRIAL;
	bool ran = res->status != ASSAY_SKIPPED || res->pruned;

	put_field(out, res->id);
	fprintf(out, ",%s,", status_kind_name(res->kind));
	put_field(out, res->sweep);
	fprintf(out, ",%s,", res->pruned ? "PRUNED" : status_name(res->status));
	put_field(out, res->message);
	fputc(',', out);
	if (ran)
		fprintf(out, "%.3f", res->duration);
	fprintf(out, ",%u,", res->attempts);
	if (trial)
		fprintf(out, "%s,%u", res->best ? "true" : "false", res->seed);
	else
		fputc(',', out);
	fputc(',', out);
	if (res->resumed && res->resumed_from)
		put_field(out, res->resumed_from);
}

static void put_row(FILE *out, const assay_result *res, const names *params,
		    const names *metrics)
{
	bool trial = res->kind == ASSAY_KIND_TRIAL;
	const assay_metric *m;
	size_t i;

	put_fixed(out, res);
	for (i = 0; i < params->n; i++) {
		const char *v = trial ? param_of(res, params->v[i]) : NULL;

		fputc(',', out);
		if (v)
			put_field(out, v);
	}
	for (i = 0; i < metrics->n; i++) {
		fputc(',', out);
		if (trial && (m = metric_of(res, metrics->v[i])))
			put_number(out, m->value);
	}
	fputs("\r\n", out);
}

static int csv_write(FILE *out, const assay_report *r, void *data)
{
	names params = { 0 }, metrics = { 0 };
	size_t i, j;
	int rc = 0;

	(void)data;
	for (i = 0; i < r->n_results && rc == 0; i++) {
		const assay_result *res = r->results[i];

		if (res->kind != ASSAY_KIND_TRIAL)
			continue;
		for (j = 0; j < res->n_params && rc == 0; j++)
			rc = names_add(&params, res->params[j].name);
		for (j = 0; j < res->n_metrics && rc == 0; j++)
			rc = names_add(&metrics, res->metrics[j].name);
	}
	if (rc == 0) {
		put_header(out, &params, &metrics);
		for (i = 0; i < r->n_results; i++)
			put_row(out, r->results[i], &params, &metrics);
		rc = ferror(out) ? ASSAY_ESYS : 0;
	}
	free(params.v);
	free(metrics.v);
	return rc;
}

const assay_reporter report_csv = {
	.name = "csv",
	.description = "one row per node; for trials a column per parameter and final metric",
	.write = csv_write,
};
