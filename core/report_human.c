/* report_human.c -- the default report: one line per node in declaration
 * order, failing validation items under their node, then a summary. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host.h"
#include "report.h"

/* Failing items shown under a validation before "... and N more". */
#define ITEMS_SHOWN 10

static const char *const colours[] = {
	"\033[32m", /* OK: green */
	"\033[33m", /* WARNING: yellow */
	"\033[31m", /* CRITICAL: red */
	"\033[35m", /* UNKNOWN: magenta */
	"\033[2m",  /* SKIPPED: dim */
};

static void status_word(FILE *out, assay_status s, bool colour)
{
	if (colour)
		fprintf(out, "%s%-8s\033[0m", colours[s], host_status_name(s));
	else
		fprintf(out, "%-8s", host_status_name(s));
}

/* The message on one line: a multi-line message shows its first line. */
static void one_line(FILE *out, const char *msg)
{
	size_t len = strcspn(msg, "\n");

	fprintf(out, "%.*s", (int)len, msg);
}

static size_t id_width(const assay_report *r)
{
	size_t i, w = 0;

	for (i = 0; i < r->n_results; i++)
		if (strlen(r->results[i].id) > w)
			w = strlen(r->results[i].id);
	return w > 48 ? 48 : w;
}

static void best_metric(FILE *out, const assay_result *res)
{
	size_t i;

	/* The objective is not in the result: show the metrics themselves. */
	fprintf(out, " [best");
	for (i = 0; i < res->n_metrics && i < 3; i++)
		fprintf(out, " %s=%g", res->metrics[i].name, res->metrics[i].value);
	fprintf(out, "]");
}

static int human_write(FILE *out, const assay_report *r, void *data)
{
	bool colour = isatty(fileno(out)) && !getenv("NO_COLOR");
	size_t w = id_width(r), i, j;
	int s;

	for (i = 0; i < r->n_results; i++) {
		const assay_result *res = &r->results[i];
		size_t shown = 0, bad = 0;

		status_word(out, res->status, colour);
		fprintf(out, "  %-*s  ", (int)w, res->id);
		one_line(out, res->message);
		if (res->best)
			best_metric(out, res);
		if (res->status != ASSAY_SKIPPED)
			fprintf(out, " (%.2fs%s)", res->duration,
				res->attempts > 1 ? ", after retries" : "");
		fputc('\n', out);
		for (j = 0; j < res->n_items; j++) {
			const assay_result *item = &res->items[j];

			if (item->status == ASSAY_OK)
				continue;
			if (shown++ < ITEMS_SHOWN) {
				fprintf(out, "  ");
				status_word(out, item->status, colour);
				fprintf(out, "  %s: ", item->id);
				one_line(out, item->message);
				fputc('\n', out);
			} else {
				bad++;
			}
		}
		if (bad)
			fprintf(out, "  ... and %zu more item%s not OK\n", bad, bad == 1 ? "" : "s");
	}
	fprintf(out, "%zu node%s:", r->n_results, r->n_results == 1 ? "" : "s");
	for (s = 0, j = 0; s <= ASSAY_SKIPPED; s++)
		if (r->counts[s])
			fprintf(out, "%s %zu %s", j++ ? "," : "", r->counts[s],
				host_status_name((assay_status)s));
	fprintf(out, " in %.2fs (critical path %.2fs)%s\n", r->wall, r->critical_path,
		r->interrupted ? "; the run was stopped before the end" : "");
	return ferror(out) ? ASSAY_ESYS : 0;
}

const assay_reporter report_human = {
	.name = "human",
	.description = "one line per node, then a summary (the default)",
	.write = human_write,
};
