/* progress_sweep.c -- the block of each sweep under the progress line,
 * and the lines of --progress plain: per sweep under way, its trials
 * running, done, failed, pruned and skipped, the best value so far and
 * its trial, and an ETA by the progress line's rule applied to the
 * sweep's remaining trials; under it the running trials, each with its
 * latest step and value.  The counts, the best and the running trials are
 * the trial tracker's (sweep.h), read as the reports read them: the block
 * shows what the tracker decides (a point with a pruned repeat is never
 * the best), and there is one ranking, not two that can disagree.  The
 * ETA is the line's, from the display's own estimate of each node. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <stdlib.h>
#include <string.h>

#include "progress_int.h"
#include "text.h"

/* Running trials shown under a sweep, the oldest first. */
#define RUNNING_SHOWN 3

int progress_sweeps_new(progress *pr)
{
	size_t s, n = pr->p->n_sweeps;

	if (!(pr->sweeps = calloc(n ? n : 1, sizeof *pr->sweeps)))
		return ASSAY_ENOMEM;
	for (s = 0; s < n; s++)
		atomic_init(&pr->sweeps[s].waited, false);
	return 0;
}

void progress_sweeps_free(progress *pr)
{
	free(pr->sweeps);
}

/* The tracker does not follow WAIT: what the run's resources allow is the
 * display's business. */
void progress_sweeps_wait(progress *pr, size_t v)
{
	uint32_t s = pr->p->nodes[v].sweep;

	if (s != PLAN_NONE && pr->sweeps)
		atomic_store_explicit(&pr->sweeps[s].waited, true, memory_order_relaxed);
}

/* --- the estimate: the reactor thread ----------------------------------- */

/* The progress line's rule on the sweep's trials not yet final: the
 * longest of them, or their work shared by as many as run at once -- the
 * jobs, the sweep's max_parallel, and, once a trial of it queued for a
 * resource (GPUs), the most the tracker saw running together. */
static double sweep_eta(progress *pr, size_t s, int64_t now_ns)
{
	const plan_sweep *ps = &pr->p->sweeps[s];
	double longest = 0, work = 0, own, w;
	size_t v, left = 0, wide = pr->jobs;
	sweep_view view;

	for (v = ps->first; v < ps->first + ps->n_trials; v++) {
		if ((pr->keep && !pr->keep[v]) ||
		    atomic_load_explicit(&pr->nodes[v].final, memory_order_relaxed))
			continue;
		if (!progress_left(pr, v, now_ns, &own, &w))
			return -1;
		left++;
		work += w;
		if (own > longest)
			longest = own;
	}
	if (!left)
		return 0;
	if (ps->max_parallel && ps->max_parallel < wide)
		wide = ps->max_parallel;
	if (atomic_load_explicit(&pr->sweeps[s].waited, memory_order_relaxed)) {
		sweeps_view(pr->tracker, s, &view);
		if (view.peak && view.peak < wide)
			wide = view.peak;
	}
	if (left < wide)
		wide = left;
	return longest > work / (double)wide ? longest : work / (double)wide;
}

void progress_sweeps_eta(progress *pr, int64_t now_ns)
{
	size_t s;

	for (s = 0; pr->tracker && s < pr->p->n_sweeps; s++)
		pr->sweeps[s].eta = sweep_eta(pr, s, now_ns);
}

/* --- the lines ------------------------------------------------------------ */

/* Whether sweep s is under way: a trial of it started, and not all of its
 * trials to run are final. */
static bool under_way(progress *pr, size_t s, const sweep_view *view)
{
	const plan_sweep *ps = &pr->p->sweeps[s];
	size_t kept = 0, v;

	if (!view->started)
		return false;
	for (v = ps->first; v < ps->first + ps->n_trials; v++)
		kept += !pr->keep || pr->keep[v];
	return view->ok + view->failed + view->pruned + view->skipped < kept;
}

static void put_id(FILE *f, const char *id)
{
	text_put(f, id, strlen(id), SIZE_MAX);
}

/* "lr  3 running · 12 done · 2 failed · 4 pruned · best 0.962 lr[...] ·
 * ETA 4m10s" (sep " · "); failed, pruned and skipped when not 0.  running:
 * as many as the trials listed under it, which were read apart from the
 * view. */
static void sweep_line(progress *pr, size_t s, const sweep_view *view, size_t running,
		       double eta, const char *gap, const char *sep, FILE *f)
{
	char left[32];

	put_id(f, pr->p->sweeps[s].id);
	fprintf(f, "%s%zu running%s%zu done", gap, running, sep, view->ok);
	if (view->failed)
		fprintf(f, "%s%zu failed", sep, view->failed);
	if (view->pruned)
		fprintf(f, "%s%zu pruned", sep, view->pruned);
	if (view->skipped)
		fprintf(f, "%s%zu skipped", sep, view->skipped);
	if (view->best != PLAN_NONE) {
		fprintf(f, "%sbest %g ", sep, view->best_value);
		put_id(f, pr->p->nodes[view->best].id);
	}
	progress_format_eta(eta, left, sizeof left);
	fprintf(f, "%sETA %s", sep, left);
}

/* The running trials the tracker listed, the oldest first, "  lr[x=1]
 * step 12  0.913  1m05s", and how many more run.  Returns the lines. */
static size_t running_lines(progress *pr, const sweep_running *r, size_t n, size_t running,
			    int64_t now_ns, FILE *f)
{
	size_t k;

	for (k = 0; k < n; k++) {
		char age[32];

		fputs("  ", f);
		put_id(f, pr->p->nodes[r[k].node].id);
		if (r[k].step >= 0)
			fprintf(f, "  step %lld  %g", (long long)r[k].step, r[k].value);
		progress_format_eta(now_ns > r[k].started_ns ? (double)(now_ns - r[k].started_ns) / 1e9
							       : 0,
				    age, sizeof age);
		fprintf(f, "  %s\n", age);
	}
	if (running > n) {
		fprintf(f, "  ... and %zu more running\n", running - n);
		return n + 1;
	}
	return n;
}

/* Sweep s's ETA at now_ns: as of the last estimate, counted down. */
static double eta_of(const progress *pr, size_t s, int64_t now_ns)
{
	double eta = pr->sweeps[s].eta;

	if (eta < 0 || !pr->eta_ns)
		return eta < 0 ? eta : 0;
	eta -= (double)(now_ns - pr->eta_ns) / 1e9;
	return eta > 0 ? eta : 0;
}

size_t progress_block(progress *pr, int64_t now_ns, FILE *out)
{
	size_t s, lines = 0;

	for (s = 0; pr->tracker && s < pr->p->n_sweeps; s++) {
		sweep_running r[RUNNING_SHOWN];
		sweep_view view;
		size_t running, n;

		sweeps_view(pr->tracker, s, &view);
		if (!under_way(pr, s, &view))
			continue;
		running = sweeps_running(pr->tracker, s, r, RUNNING_SHOWN);
		n = running < RUNNING_SHOWN ? running : RUNNING_SHOWN;
		sweep_line(pr, s, &view, running, eta_of(pr, s, now_ns), "  ", " \u00b7 ", out);
		fputc('\n', out);
		lines += 1 + running_lines(pr, r, n, running, now_ns, out);
	}
	return lines;
}

void progress_plain(progress *pr, int64_t now_ns, FILE *out)
{
	char line[360], stamp[32];
	int64_t secs = pr->start_ns && now_ns > pr->start_ns ? (now_ns - pr->start_ns) / 1000000000 : 0;
	size_t s;

	snprintf(stamp, sizeof stamp, "assay: %02lld:%02lld:%02lld ", (long long)(secs / 3600),
		 (long long)(secs / 60 % 60), (long long)(secs % 60));
	progress_format(pr, now_ns, line, sizeof line);
	fprintf(out, "%s", stamp);
	text_put(out, line, strlen(line), SIZE_MAX);
	fputc('\n', out);
	for (s = 0; pr->tracker && s < pr->p->n_sweeps; s++) {
		sweep_view view;

		sweeps_view(pr->tracker, s, &view);
		if (!under_way(pr, s, &view))
			continue;
		fputs(stamp, out);
		sweep_line(pr, s, &view, view.running, eta_of(pr, s, now_ns), " ", ", ", out);
		fputc('\n', out);
	}
}
