/* report.c -- build the assay_report of a run and write reports atomically. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "report.h"
#include "status.h"

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

/* The last value reported for metric, or NULL: a value reported again
 * replaces the earlier one. */
static const assay_metric *find_metric(const run_result *res, const char *metric)
{
	size_t m = res->n_metrics;

	while (m-- > 0)
		if (strcmp(res->metrics[m].name, metric) == 0)
			return &res->metrics[m];
	return NULL;
}

/* The best trial of each sweep -- the trials one [trial.X] table declares:
 * its matrix, or the trial alone -- by the objective it declares.  Those
 * that did not end OK or WARNING do not compete (the run made a trial
 * without the metric UNKNOWN), nor does a value that is not a number. */
static void mark_best(report *rep, const plan *p, const run_result *res,
		      const size_t *at)
{
	size_t i, j, end;

	for (i = 0; i < p->n_nodes; i = end) {
		const plan_node *pn = &p->nodes[i];
		const assay_metric *best_m = NULL;
		size_t best = SIZE_MAX;

		for (end = i + 1; end < p->n_nodes && p->nodes[end].table == pn->table; end++)
			;
		if (pn->kind != ASSAY_KIND_TRIAL || !pn->objective_metric)
			continue;
		for (j = i; j < end; j++) {
			const assay_metric *m;

			if (at[j] == SIZE_MAX || (res[j].status != ASSAY_OK && res[j].status != ASSAY_WARNING) ||
			    !(m = find_metric(&res[j], pn->objective_metric)) || isnan(m->value))
				continue;
			if (!best_m || (pn->objective_max ? m->value > best_m->value
							  : m->value < best_m->value)) {
				best = j;
				best_m = m;
			}
		}
		if (best != SIZE_MAX) {
			rep->results[at[best]].best = true;
			rep->extras[at[best]].objective = best_m;
		}
	}
}

/* Each retried execution's attempts, to its result's extras. */
static void attach_histories(report *rep, const run *r, const size_t *at)
{
	const run_history *h;

	for (h = run_histories(r); h; h = h->next) {
		report_extra *x;
		size_t k = at[h->node];

		if (k == SIZE_MAX)
			continue;
		if (h->item == SIZE_MAX)
			x = &rep->extras[k];
		else if (h->item < rep->results[k].n_items)
			x = &rep->extras[rep->r.n_results +
					 (size_t)(rep->results[k].items - rep->items) + h->item];
		else
			continue;
		x->attempts = h->attempts;
		x->n_attempts = h->n;
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
	rep->extras = calloc(n + n_items ? n + n_items : 1, sizeof *rep->extras);
	at = malloc((p->n_nodes ? p->n_nodes : 1) * sizeof *at);
	seconds = calloc(p->n_nodes ? p->n_nodes : 1, sizeof *seconds);
	if (!rep->results || !rep->items || !rep->extras || !at || !seconds) {
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
	rep->r.config_path = p->path;
	rep->r.results = rep->results;
	rep->r.n_results = n;
	rep->n_items = n_items;
	mark_best(rep, p, res, at);
	attach_histories(rep, r, at);
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
	free(rep->extras);
	memset(rep, 0, sizeof *rep);
}

const report_extra *report_extra_of(const assay_report *r, const assay_result *res)
{
	const report *rep = (const report *)((const char *)r - offsetof(report, r));

	if (!rep->extras)
		return NULL;
	if (res >= rep->results && res < rep->results + r->n_results)
		return &rep->extras[res - rep->results];
	if (res >= rep->items && res < rep->items + rep->n_items)
		return &rep->extras[r->n_results + (size_t)(res - rep->items)];
	return NULL;
}

int report_exit_status(const report *rep)
{
	int worst = (int)rep->r.worst;

	/* An interrupted run did not verify everything: never "OK". */
	if (rep->r.interrupted && worst == ASSAY_OK)
		return ASSAY_UNKNOWN;
	return worst;
}

/* Where a report to a path goes. */
typedef struct target {
	char *file;               /* path, its symbolic links followed (malloc'd) */
	bool in_place;            /* written into, not replaced */
	mode_t mode;              /* the permissions of the file replaced */
} target;

/* Whether path lies on procfs, where /proc/self/fd/N and its kin are
 * links to open descriptors (a pipe has no name to follow). */
static bool on_procfs(const char *path)
{
	struct statfs sf;

	return statfs(path, &sf) == 0 && sf.f_type == PROC_SUPER_MAGIC;
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	return slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
}

/* Follow path's links, as open(2) would, to what a report is written to.
 * 0, or -1 with the reason in why. */
static int target_find(const char *path, target *t, char *why, size_t why_size)
{
	struct stat st;
	unsigned hops;
	char *dir;

	memset(t, 0, sizeof *t);
	t->mode = 0644; /* a report is for monitoring to read */
	if (!(t->file = strdup(path)))
		goto nomem;
	for (hops = 0;; hops++) {
		char link[PATH_MAX], *next;
		ssize_t n;

		if (lstat(t->file, &st) < 0) {
			if (errno != ENOENT) {
				snprintf(why, why_size, "%s", strerror(errno));
				return -1;
			}
			return 0; /* a new file */
		}
		if (!S_ISLNK(st.st_mode))
			break;
		if (!(dir = dir_of(t->file)))
			goto nomem;
		/* /proc/self/fd/1, /dev/stdout, /dev/fd/3: what the descriptor
		 * is open on, written through it. */
		if (on_procfs(dir)) {
			free(dir);
			if (stat(t->file, &st) < 0) {
				snprintf(why, why_size, "%s", strerror(errno));
				return -1;
			}
			t->in_place = true;
			break;
		}
		if (hops == 40 || (n = readlink(t->file, link, sizeof link - 1)) < 0) {
			snprintf(why, why_size, "%s", strerror(hops == 40 ? ELOOP : errno));
			free(dir);
			return -1;
		}
		link[n] = '\0';
		if (link[0] == '/')
			next = strdup(link);
		else if (asprintf(&next, "%s/%s", dir, link) < 0)
			next = NULL;
		free(dir);
		if (!next)
			goto nomem;
		free(t->file);
		t->file = next;
	}
	if (S_ISDIR(st.st_mode)) {
		snprintf(why, why_size, "%s", strerror(EISDIR));
		return -1;
	}
	t->mode = st.st_mode & 07777;
	if (!S_ISREG(st.st_mode))
		t->in_place = true;
	else if ((dir = dir_of(t->file))) {
		t->in_place = t->in_place || on_procfs(dir); /* no temporary file there */
		free(dir);
	}
	return 0;
nomem:
	snprintf(why, why_size, "%s", strerror(ENOMEM));
	return -1;
}

int report_check_target(const char *path, char *why, size_t why_size)
{
	target t;
	char *dir = NULL;
	int rc = -1;

	if (target_find(path, &t, why, why_size) < 0)
		goto out;
	if (t.in_place) {
		if (access(t.file, W_OK) < 0)
			snprintf(why, why_size, "cannot write to %s: %s", t.file, strerror(errno));
		else
			rc = 0;
	} else if (!(dir = dir_of(t.file))) {
		snprintf(why, why_size, "%s", strerror(ENOMEM));
	} else if (access(dir, W_OK | X_OK) < 0) {
		snprintf(why, why_size, "cannot create files in %s: %s", dir, strerror(errno));
	} else {
		rc = 0;
	}
out:
	free(dir);
	free(t.file);
	return rc;
}

/* Run the reporter on fd (closed here); 0 or the reporter's code, or
 * ASSAY_ESYS with errno set. */
static int write_fd(const assay_reporter *reporter, const report *rep, int fd, bool sync)
{
	FILE *f = fdopen(fd, "w");
	int rc, err = 0;

	if (!f) {
		err = errno;
		close(fd);
		errno = err;
		return ASSAY_ESYS;
	}
	rc = reporter->write(f, &rep->r, reporter->data);
	if (fflush(f) != 0 || (sync && fsync(fd) != 0)) {
		err = errno;
		rc = rc ? rc : ASSAY_ESYS;
	}
	if (fclose(f) != 0 && !err) {
		err = errno;
		rc = rc ? rc : ASSAY_ESYS;
	}
	errno = err;
	return rc;
}

/* A temporary file beside the real one, renamed over it when complete. */
static int write_replace(const assay_reporter *reporter, const report *rep, const target *t)
{
	char *tmp;
	int rc, fd, err;

	if (asprintf(&tmp, "%s.tmp.XXXXXX", t->file) < 0)
		return ASSAY_ENOMEM;
	if ((fd = mkstemp(tmp)) < 0) {
		free(tmp);
		return ASSAY_ESYS;
	}
	/* mkstemp makes 0600: keep what the file had, else 0644. */
	fchmod(fd, t->mode);
	rc = write_fd(reporter, rep, fd, true);
	if (rc == 0 && rename(tmp, t->file) != 0)
		rc = ASSAY_ESYS;
	if (rc != 0) {
		err = errno;
		unlink(tmp);
		errno = err;
	}
	free(tmp);
	return rc;
}

/* Into a device, a FIFO, a descriptor: appended to, like a shell's >>,
 * so that /dev/stdout after the report on standard output adds to it. */
static int write_in_place(const assay_reporter *reporter, const report *rep, const target *t)
{
	int fd = open(t->file, O_WRONLY | O_APPEND | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return ASSAY_ESYS;
	return write_fd(reporter, rep, fd, false);
}

int report_write(const assay_reporter *reporter, const report *rep,
		 const char *path)
{
	char why[PATH_MAX + 64];
	target t;
	int rc;

	if (strcmp(path, "-") == 0) {
		rc = reporter->write(stdout, &rep->r, reporter->data);
		if (fflush(stdout) != 0 && rc == 0)
			rc = ASSAY_ESYS;
		return rc;
	}
	if (target_find(path, &t, why, sizeof why) < 0) {
		fprintf(stderr, "assay: cannot write the %s report to %s: %s\n", reporter->name, path,
			why);
		free(t.file);
		return ASSAY_ESYS;
	}
	rc = t.in_place ? write_in_place(reporter, rep, &t) : write_replace(reporter, rep, &t);
	if (rc != 0)
		fprintf(stderr, "assay: cannot write the %s report to %s: %s\n", reporter->name,
			path, rc == ASSAY_ESYS ? strerror(errno) : status_strerror(rc));
	free(t.file);
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
