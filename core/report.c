/* report.c -- build the assay_report of a run and write reports atomically. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report.h"

static void fill(assay_result *out, const run_result *in, const plan_node *pn)
{
	out->kind = pn->kind;
	out->type = pn->type_name;
	out->status = in->status;
	out->message = in->status == ASSAY_SKIPPED ? (in->skip_reason ? in->skip_reason : "")
						   : (in->message ? in->message : "");
	out->skip_reason = in->status == ASSAY_SKIPPED ? out->message : NULL;
	out->details = in->status == ASSAY_SKIPPED ? NULL : in->details;
	out->metrics = in->metrics;
	out->n_metrics = in->n_metrics;
	out->attempts = in->attempts;
	out->start = in->start;
	out->end = in->end;
	out->duration = in->duration;
}

/* The trial of each matrix whose objective metric is best.  Trials without
 * the metric, or that did not succeed, do not compete. */
static void mark_best(report *rep, const plan *p, const run_result *res,
		      const size_t *at)
{
	size_t i, j;

	for (i = 0; i < p->n_nodes; i++) {
		const plan_node *pn = &p->nodes[i];
		size_t best = SIZE_MAX;
		double best_v = 0;

		if (!pn->objective_metric || at[i] == SIZE_MAX ||
		    (i > 0 && p->nodes[i - 1].params && p->nodes[i - 1].group &&
		     strcmp(p->nodes[i - 1].group, pn->group) == 0))
			continue; /* one pass per matrix, from its first trial */
		for (j = i; j < p->n_nodes && p->nodes[j].group &&
			    strcmp(p->nodes[j].group, pn->group) == 0; j++) {
			size_t m;

			if (at[j] == SIZE_MAX || (res[j].status != ASSAY_OK && res[j].status != ASSAY_WARNING))
				continue;
			for (m = 0; m < res[j].n_metrics; m++) {
				double v = res[j].metrics[m].value;

				if (strcmp(res[j].metrics[m].name, pn->objective_metric) != 0)
					continue;
				if (best == SIZE_MAX || (pn->objective_max ? v > best_v : v < best_v)) {
					best = j;
					best_v = v;
				}
			}
		}
		if (best != SIZE_MAX)
			rep->results[at[best]].best = true;
	}
}

int report_build(report *rep, const plan *p, const graph *g, const run *r)
{
	const run_result *res = run_results(r);
	size_t i, j, n = 0, n_items = 0, k = 0, it = 0, *at;
	double *seconds;
	bool stopped;

	memset(rep, 0, sizeof *rep);
	for (i = 0; i < p->n_nodes; i++)
		if (res[i].kept) {
			n++;
			n_items += res[i].n_items;
		}
	rep->results = calloc(n ? n : 1, sizeof *rep->results);
	rep->items = calloc(n_items ? n_items : 1, sizeof *rep->items);
	at = malloc((p->n_nodes ? p->n_nodes : 1) * sizeof *at);
	seconds = calloc(p->n_nodes ? p->n_nodes : 1, sizeof *seconds);
	if (!rep->results || !rep->items || !at || !seconds) {
		free(at);
		free(seconds);
		return ASSAY_ENOMEM;
	}
	for (i = 0; i < p->n_nodes; i++) {
		assay_result *out;

		at[i] = SIZE_MAX;
		if (!res[i].kept)
			continue;
		at[i] = k;
		out = &rep->results[k++];
		out->id = p->nodes[i].id;
		fill(out, &res[i], &p->nodes[i]);
		out->items = &rep->items[it];
		out->n_items = res[i].n_items;
		for (j = 0; j < res[i].n_items; j++) {
			assay_result *item = &rep->items[it++];

			item->id = p->nodes[i].items[j];
			fill(item, &res[i].items[j], &p->nodes[i]);
		}
		rep->r.counts[res[i].status]++;
		seconds[i] = res[i].duration;
	}
	mark_best(rep, p, res, at);
	rep->r.config_path = p->path;
	rep->r.results = rep->results;
	rep->r.n_results = n;
	rep->r.worst = run_worst(res, p->n_nodes);
	run_times(r, &rep->r.start, &rep->r.end, &stopped);
	rep->r.interrupted = stopped;
	rep->r.wall = rep->r.end > rep->r.start ? rep->r.end - rep->r.start : 0;
	rep->r.critical_path = graph_critical_path(g, seconds, NULL, NULL);
	free(at);
	free(seconds);
	return 0;
}

void report_release(report *rep)
{
	free(rep->results);
	free(rep->items);
	memset(rep, 0, sizeof *rep);
}

int report_exit_status(const report *rep)
{
	int worst = (int)rep->r.worst;

	/* An interrupted run did not verify everything: never "OK". */
	if (rep->r.interrupted && worst == ASSAY_OK)
		return ASSAY_UNKNOWN;
	return worst;
}

int report_write(const assay_reporter *reporter, const report *rep,
		 const char *path)
{
	char *tmp;
	FILE *f;
	int rc, fd;

	if (strcmp(path, "-") == 0) {
		rc = reporter->write(stdout, &rep->r, reporter->data);
		if (fflush(stdout) != 0 && rc == 0)
			rc = ASSAY_ESYS;
		return rc;
	}
	if (asprintf(&tmp, "%s.tmp.XXXXXX", path) < 0)
		return ASSAY_ENOMEM;
	fd = mkstemp(tmp);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		fprintf(stderr, "assay: cannot write the %s report to %s: %s\n", reporter->name,
			path, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		free(tmp);
		return ASSAY_ESYS;
	}
	/* mkstemp makes 0600; a report is for monitoring to read. */
	fchmod(fd, 0644);
	rc = reporter->write(f, &rep->r, reporter->data);
	if (fflush(f) != 0 || fsync(fd) != 0)
		rc = rc ? rc : ASSAY_ESYS;
	if (fclose(f) != 0)
		rc = rc ? rc : ASSAY_ESYS;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = ASSAY_ESYS;
	if (rc != 0) {
		fprintf(stderr, "assay: cannot write the %s report to %s: %s\n", reporter->name,
			path, rc == ASSAY_ESYS ? strerror(errno) : "the reporter failed");
		unlink(tmp);
	}
	free(tmp);
	return rc;
}

const assay_reporter *report_builtin(const char *name)
{
	if (strcmp(name, "human") == 0)
		return &report_human;
	if (strcmp(name, "json") == 0)
		return &report_json;
	return NULL;
}
