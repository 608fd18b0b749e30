/* report.c -- build the assay_report of a run and write reports atomically. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "report.h"
#include "status.h"

/* What building a report keeps at hand: where plan node i went (at[i],
 * SIZE_MAX when not kept), and where group g's path is in rep->paths
 * (path_at[g] .. path_at[g + 1]). */
typedef struct builder {
	report *rep;
	const plan *p;
	const run_result *res;
	size_t *at;
	size_t *path_at;
	size_t n_objectives;
} builder;

/* Each group's enclosing groups, outermost first, itself last: what its
 * nodes' results point at. */
static int build_paths(builder *b)
{
	const plan *p = b->p;
	size_t g, k;
	uint32_t u;

	if (!(b->path_at = calloc(p->n_groups + 1, sizeof *b->path_at)))
		return ASSAY_ENOMEM;
	for (g = 0; g < p->n_groups; g++) {
		b->path_at[g + 1] = b->path_at[g];
		for (u = (uint32_t)g; u != PLAN_NONE; u = p->groups[u].parent)
			b->path_at[g + 1]++;
	}
	if (!(b->rep->paths = malloc((b->path_at[p->n_groups] + 1) * sizeof *b->rep->paths)))
		return ASSAY_ENOMEM;
	for (g = 0; g < p->n_groups; g++)
		for (k = b->path_at[g + 1], u = (uint32_t)g; u != PLAN_NONE; u = p->groups[u].parent)
			b->rep->paths[--k] = p->groups[u].name;
	return 0;
}

/* What a node and its items have alike: the outcome and the groups. */
static void fill(const builder *b, assay_result *out, const run_result *in, const plan_node *pn)
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
	out->resumed = in->resumed;
	out->resumed_from = in->resumed ? in->resumed_from : NULL;
	if (in->devices) {
		out->devices = (const char *const *)in->devices;
		while (in->devices[out->n_devices])
			out->n_devices++;
	}
	if (pn->group != PLAN_NONE) {
		out->group = b->p->groups[pn->group].name;
		out->groups = b->rep->paths + b->path_at[pn->group];
		out->n_groups = b->path_at[pn->group + 1] - b->path_at[pn->group];
	}
}

/* A trial's sweep, parameters and objective. */
static void fill_trial(builder *b, assay_result *out, const run_result *in, const plan_node *pn)
{
	const plan_sweep *s = plan_sweep_of(b->p, pn);
	const assay_metric *m;
	assay_objective *o;

	if (!s)
		return;
	out->sweep = s->id;
	out->params = pn->params;
	out->n_params = pn->n_params;
	out->pruned = in->pruned;
	out->pruned_step = in->pruned ? in->pruned_step : 0;
	out->trial_dir = in->trial_dir;
	out->seed = pn->seed;
	out->point = pn->point;
	if (!s->objective)
		return;
	o = &b->rep->objectives[b->n_objectives++];
	o->metric = s->objective;
	o->maximise = s->maximise;
	if ((m = best_reported(in, s->objective))) {
		o->reported = true;
		o->value = m->value;
		o->unit = m->unit ? m->unit : "";
	}
	out->objective = o;
}

/* Node i's result and its items': items[0 .. n) of rep->index, their
 * results at items_out. */
static void fill_node(builder *b, size_t i, assay_result *out, const assay_result **items,
		      assay_result *items_out)
{
	const plan_node *pn = &b->p->nodes[i];
	const run_result *in = &b->res[i];
	size_t j;

	out->id = pn->id;
	fill(b, out, in, pn);
	fill_trial(b, out, in, pn);
	out->items = items;
	out->n_items = in->n_items;
	for (j = 0; j < in->n_items; j++) {
		assay_result *item = &items_out[j];

		item->id = item->item = pn->items[j];
		fill(b, item, &in->items[j], pn);
		items[j] = item;
	}
}

/* Each retried execution's attempts, to its result's history. */
static int attach_histories(builder *b, const run *r)
{
	report *rep = b->rep;
	const run_history *h;
	size_t n = 0, k = 0, j;

	for (h = run_histories(r); h; h = h->next)
		n += h->n;
	rep->attempts = calloc(n ? n : 1, sizeof *rep->attempts);
	rep->histories = malloc((n ? n : 1) * sizeof *rep->histories);
	if (!rep->attempts || !rep->histories)
		return ASSAY_ENOMEM;
	for (h = run_histories(r); h; h = h->next) {
		assay_result *res;
		size_t at = b->at[h->node];

		if (at == SIZE_MAX)
			continue;
		res = &rep->results[at];
		if (h->item != SIZE_MAX) {
			if (h->item >= res->n_items)
				continue;
			/* index[i] is &results[i], for items as for nodes. */
			res = &rep->results[(size_t)(res->items - rep->index) + h->item];
		}
		res->history = rep->histories + k;
		res->n_history = h->n;
		for (j = 0; j < h->n; j++, k++) {
			assay_attempt *a = &rep->attempts[k];

			a->number = (unsigned)j + 1;
			a->status = h->attempts[j].status;
			a->message = h->attempts[j].message ? h->attempts[j].message : "";
			a->start = h->attempts[j].start;
			a->end = h->attempts[j].end;
			a->duration = h->attempts[j].duration;
			rep->histories[k] = a;
		}
	}
	return 0;
}

/* Sweep s's trials counted from their results, as the report shows them:
 * a pruned trial is pruned (not skipped), WARNING is ok. */
static void count_sweep(const builder *b, size_t s, assay_sweep *out)
{
	const plan_sweep *ps = &b->p->sweeps[s];
	uint32_t i;

	for (i = ps->first; i < ps->first + ps->n_trials; i++) {
		const run_result *res = &b->res[i];

		if (!res->kept)
			continue;
		out->trials++;
		if (res->pruned)
			out->pruned++;
		else if (res->status == ASSAY_SKIPPED)
			out->skipped++;
		else if (status_failed(res->status))
			out->failed++;
		else
			out->ok++;
	}
}

/* The best point's parameters, without {seed} when the sweep repeats its
 * points (the seed tells repeats apart, not points), at *next. */
static void best_params(builder *b, const plan_sweep *ps, const plan_node *top,
			assay_sweep *out, size_t *next)
{
	size_t j;

	out->params = b->rep->sweep_params + *next;
	for (j = 0; j < top->n_params; j++)
		if (ps->repeat <= 1 || strcmp(top->params[j].name, "seed") != 0)
			b->rep->sweep_params[(*next)++] = top->params[j];
	out->n_params = (size_t)(b->rep->sweep_params + *next - out->params);
}

/* Each sweep as the tracker left it, its best trial marked: one that the
 * report keeps and that its sweep did not prune. */
static int build_sweeps(builder *b, sweeps *t)
{
	const plan *p = b->p;
	report *rep = b->rep;
	sweep_view *views = calloc(p->n_sweeps ? p->n_sweeps : 1, sizeof *views);
	size_t s, n_params = 0, next = 0;

	rep->sweeps = calloc(p->n_sweeps ? p->n_sweeps : 1, sizeof *rep->sweeps);
	rep->sweep_index = malloc((p->n_sweeps ? p->n_sweeps : 1) * sizeof *rep->sweep_index);
	rep->stopped = calloc(p->n_sweeps ? p->n_sweeps : 1, sizeof *rep->stopped);
	if (!views || !rep->sweeps || !rep->sweep_index || !rep->stopped) {
		free(views);
		return ASSAY_ENOMEM;
	}
	for (s = 0; s < p->n_sweeps; s++) {
		views[s].best = PLAN_NONE;
		if (t) {
			sweeps_view(t, s, &views[s]);
			sweeps_stopped(t, s, rep->stopped[s], sizeof rep->stopped[s]);
		}
		if (views[s].best >= p->n_nodes || b->at[views[s].best] == SIZE_MAX ||
		    b->res[views[s].best].pruned)
			views[s].best = PLAN_NONE;
		else
			n_params += p->nodes[views[s].best].n_params;
	}
	if (!(rep->sweep_params = calloc(n_params ? n_params : 1, sizeof *rep->sweep_params))) {
		free(views);
		return ASSAY_ENOMEM;
	}
	for (s = 0; s < p->n_sweeps; s++) {
		assay_sweep *out = &rep->sweeps[s];
		const plan_sweep *ps = &p->sweeps[s];

		out->id = ps->id;
		out->metric = ps->objective;
		out->maximise = ps->maximise;
		out->stopped = rep->stopped[s][0] ? rep->stopped[s] : NULL;
		count_sweep(b, s, out);
		rep->sweep_index[s] = out;
		if (views[s].best == PLAN_NONE)
			continue;
		rep->results[b->at[views[s].best]].best = true;
		out->best = p->nodes[views[s].best].id;
		out->value = views[s].best_value;
		out->spread = views[s].repeats > 1 ? views[s].spread : 0;
		out->repeats = views[s].repeats ? views[s].repeats : 1;
		best_params(b, ps, &p->nodes[views[s].best], out, &next);
	}
	rep->r.sweeps = rep->sweep_index;
	rep->r.n_sweeps = p->n_sweeps;
	free(views);
	return 0;
}

/* The kept nodes and items, and the trials with an objective, counted
 * and allocated for. */
static int allocate(builder *b, size_t *n_out, size_t *n_items_out)
{
	const plan *p = b->p;
	size_t i, n = 0, n_items = 0, n_obj = 0;

	for (i = 0; i < p->n_nodes; i++)
		if (b->res[i].kept) {
			const plan_sweep *s = plan_sweep_of(p, &p->nodes[i]);

			n++;
			n_items += b->res[i].n_items;
			n_obj += s && s->objective;
		}
	b->rep->results = calloc(n + n_items ? n + n_items : 1, sizeof *b->rep->results);
	b->rep->index = malloc((n + n_items ? n + n_items : 1) * sizeof *b->rep->index);
	b->rep->objectives = calloc(n_obj ? n_obj : 1, sizeof *b->rep->objectives);
	b->at = malloc((p->n_nodes ? p->n_nodes : 1) * sizeof *b->at);
	if (!b->rep->results || !b->rep->index || !b->rep->objectives || !b->at)
		return ASSAY_ENOMEM;
	*n_out = n;
	*n_items_out = n_items;
	return build_paths(b);
}

/* The critical path by the run's own durations (seconds, per plan node):
 * its length, and the ids of its nodes that took time, first to last (a
 * chain's topological order is its own).  0 or ASSAY_ENOMEM. */
static int critical_path(builder *b, const graph *g, const double *seconds)
{
	report *rep = b->rep;
	bool *on_path = calloc(g->n ? g->n : 1, sizeof *on_path);
	size_t i, n = 0;

	if (!on_path)
		return ASSAY_ENOMEM;
	rep->r.critical_path = graph_critical_path(g, seconds, NULL, on_path);
	/* Not the nodes on it that took no time: skipped, or not selected. */
	for (i = 0; i < g->n; i++)
		n += on_path[i] = on_path[i] && b->at[i] != SIZE_MAX && seconds[i] > 0;
	if (rep->r.critical_path > 0 && n && !(rep->critical = malloc(n * sizeof *rep->critical))) {
		free(on_path);
		return ASSAY_ENOMEM;
	}
	for (i = 0; rep->critical && i < g->n; i++) {
		uint32_t v = g->order[i];

		if (on_path[v])
			rep->critical[rep->r.n_critical++] = rep->results[b->at[v]].id;
	}
	rep->r.critical = rep->critical;
	free(on_path);
	return 0;
}

int report_build(report *rep, const plan *p, const graph *g, const run *r, sweeps *tracker,
		 const char *run_id)
{
	builder b = { rep, p, run_results(r), NULL, NULL, 0 };
	size_t i, n, n_items, k = 0, it;
	double *seconds = calloc(p->n_nodes ? p->n_nodes : 1, sizeof *seconds);
	bool stopped;
	int rc;

	memset(rep, 0, sizeof *rep);
	if (!seconds || (rc = allocate(&b, &n, &n_items)) < 0) {
		rc = ASSAY_ENOMEM;
		goto out;
	}
	for (i = 0, it = n; i < p->n_nodes; i++) {
		b.at[i] = SIZE_MAX;
		if (!b.res[i].kept)
			continue;
		b.at[i] = k;
		rep->index[k] = &rep->results[k];
		fill_node(&b, i, &rep->results[k++], &rep->index[it], &rep->results[it]);
		it += b.res[i].n_items;
		rep->r.counts[b.res[i].status]++;
		/* A result reused from an earlier run took none of this one. */
		seconds[i] = b.res[i].resumed ? 0 : b.res[i].duration;
	}
	rep->r.config_path = p->path;
	rep->r.assay_version = PACKAGE_VERSION;
	rep->r.results = rep->index;
	rep->r.n_results = n;
	rep->r.run_id = run_id;
	if ((rc = build_sweeps(&b, tracker)) < 0 || (rc = attach_histories(&b, r)) < 0 ||
	    (rc = report_mask(rep, p, it)) < 0)
		goto out;
	rep->r.worst = run_worst(b.res, p->n_nodes);
	run_times(r, &rep->r.start, &rep->r.end, &stopped);
	rep->r.interrupted = stopped;
	rep->r.wall = rep->r.end > rep->r.start ? rep->r.end - rep->r.start : 0;
	rc = critical_path(&b, g, seconds);
out:
	free(b.at);
	free(b.path_at);
	free(seconds);
	return rc;
}

void report_release(report *rep)
{
	free(rep->results);
	free(rep->index);
	free(rep->paths);
	free(rep->objectives);
	free(rep->attempts);
	free(rep->histories);
	free(rep->sweeps);
	free(rep->sweep_index);
	free(rep->sweep_params);
	free(rep->stopped);
	free(rep->critical);
	while (rep->n_owned)
		free(rep->owned[--rep->n_owned]);
	free(rep->owned);
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
