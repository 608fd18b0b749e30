/* prune.c -- the median and ASHA pruning rules, as Optuna 3's
 * MedianPruner (PercentilePruner at 50, interval_steps 1, n_min_trials 1)
 * and SuccessiveHalvingPruner (min_early_stopping_rate 0,
 * bootstrap_count 0) decide: the same decisions on the same reports in
 * the same order, so that a sweep pruned here and the same study pruned
 * by Optuna spend the same trial-seconds. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "prune.h"

int prune_init(prune_table *t, const prune_settings *set, size_t n_trials)
{
	memset(t, 0, sizeof *t);
	t->set = *set;
	if (t->set.min_resource < 1)
		t->set.min_resource = 1;
	if (t->set.reduction_factor < 2)
		t->set.reduction_factor = 2;
	t->n_trials = n_trials;
	if (n_trials && !(t->trials = calloc(n_trials, sizeof *t->trials)))
		return ASSAY_ENOMEM;
	return 0;
}

void prune_release(prune_table *t)
{
	size_t i;

	for (i = 0; i < t->n_trials; i++) {
		free(t->trials[i].steps);
		free(t->trials[i].values);
	}
	for (i = 0; i < t->n_rungs; i++)
		free(t->rung_values[i]);
	free(t->trials);
	free(t->rung_values);
	free(t->rung_n);
	free(t->rung_cap);
	memset(t, 0, sizeof *t);
}

/* Where step is in tr's steps, or where it would go. */
static size_t prune_find(const prune_trial *tr, int64_t step)
{
	size_t lo = 0, hi = tr->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (tr->steps[mid] < step)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int prune_report(prune_table *t, size_t i, int64_t step, double value)
{
	prune_trial *tr = &t->trials[i];
	size_t at = prune_find(tr, step);

	if (at < tr->n && tr->steps[at] == step)
		return 0; /* Optuna ignores a step reported again */
	if (tr->n == tr->cap) {
		size_t cap = tr->cap ? tr->cap * 2 : 8;
		int64_t *steps = realloc(tr->steps, cap * sizeof *steps);
		double *values;

		if (!steps)
			return ASSAY_ENOMEM;
		tr->steps = steps;
		if (!(values = realloc(tr->values, cap * sizeof *values)))
			return ASSAY_ENOMEM;
		tr->values = values;
		tr->cap = cap;
	}
	/* Steps come in order nearly always: the move is empty. */
	memmove(&tr->steps[at + 1], &tr->steps[at], (tr->n - at) * sizeof *tr->steps);
	memmove(&tr->values[at + 1], &tr->values[at], (tr->n - at) * sizeof *tr->values);
	tr->steps[at] = step;
	tr->values[at] = value;
	tr->n++;
	return 0;
}

void prune_complete(prune_table *t, size_t i)
{
	if (!t->trials[i].completed) {
		t->trials[i].completed = true;
		t->n_completed++;
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* numpy 1.22+'s "linear": the virtual index (n - 1) q, and its _lerp,
 * which for a weight of 1/2 or more interpolates down from the upper
 * value (a last bit may differ otherwise, and decide a tie). */
double prune_percentile(double *v, size_t n, double q)
{
	double at = (double)(n - 1) * q / 100, lo_at = floor(at), g = at - lo_at;
	size_t lo = (size_t)lo_at, hi = lo + 1 < n ? lo + 1 : lo;
	double a, b, diff;

	qsort(v, n, sizeof *v, cmp_double);
	a = v[lo];
	b = v[hi];
	diff = b - a;
	return g >= 0.5 ? b - diff * (1 - g) : a + diff * g;
}

/* MedianPruner.prune(): the trial's best value so far against the median
 * of the completed trials' values at its last step. */
static bool prune_median(prune_table *t, size_t i, prune_why *why)
{
	const prune_trial *tr = &t->trials[i];
	double best, median, *at_step;
	int64_t step;
	size_t k, n = 0;

	if (t->n_completed == 0 || t->n_completed < t->set.startup_trials || tr->n == 0)
		return false;
	step = tr->steps[tr->n - 1];
	if (step < (int64_t)t->set.warmup_steps)
		return false;
	/* interval_steps 1: every step is the first of its interval. */
	best = tr->values[0];
	for (k = 1; k < tr->n; k++)
		if (t->set.maximise ? tr->values[k] > best : tr->values[k] < best)
			best = tr->values[k];
	if (!(at_step = malloc(t->n_completed * sizeof *at_step)))
		return false;
	for (k = 0; k < t->n_trials; k++) {
		const prune_trial *c = &t->trials[k];
		size_t j;

		if (c->completed && (j = prune_find(c, step)) < c->n && c->steps[j] == step)
			at_step[n++] = c->values[j];
	}
	if (n == 0) { /* no completed trial reported that step: no decision */
		free(at_step);
		return false;
	}
	/* 100 - 50 for a maximised objective: the same median. */
	median = prune_percentile(at_step, n, 50);
	free(at_step);
	*why = (prune_why){ .step = step, .value = best, .threshold = median, .n = n };
	return t->set.maximise ? best < median : best > median;
}

/* Record value at rung r; false when out of memory. */
static bool prune_rung_add(prune_table *t, unsigned r, double value)
{
	if (r >= t->n_rungs) {
		size_t n = (size_t)r + 1;
		double **rv = realloc(t->rung_values, n * sizeof *rv);
		size_t *rn, *rc;

		if (!rv)
			return false;
		t->rung_values = rv;
		if (!(rn = realloc(t->rung_n, n * sizeof *rn)))
			return false;
		t->rung_n = rn;
		if (!(rc = realloc(t->rung_cap, n * sizeof *rc)))
			return false;
		t->rung_cap = rc;
		for (; t->n_rungs < n; t->n_rungs++) {
			rv[t->n_rungs] = NULL;
			rn[t->n_rungs] = rc[t->n_rungs] = 0;
		}
	}
	if (t->rung_n[r] == t->rung_cap[r]) {
		size_t cap = t->rung_cap[r] ? t->rung_cap[r] * 2 : 16;
		double *grown = realloc(t->rung_values[r], cap * sizeof *grown);

		if (!grown)
			return false;
		t->rung_values[r] = grown;
		t->rung_cap[r] = cap;
	}
	t->rung_values[r][t->rung_n[r]++] = value;
	return true;
}

/* _is_trial_promotable_to_next_rung(): in the top 1/eta of the values
 * recorded at the rung, its own included -- or, with fewer than eta of
 * them, the best of them.  Counted rather than sorted: value is at least
 * the (idx + 1)-th best when at most idx values beat it. */
static bool prune_promotable(const prune_table *t, unsigned r, double value, double *cutoff)
{
	const double *v = t->rung_values[r];
	size_t n = t->rung_n[r], idx = n / t->set.reduction_factor, k, better = 0;
	double *sorted;

	idx = idx ? idx - 1 : 0;
	for (k = 0; k < n; k++)
		better += t->set.maximise ? v[k] > value : v[k] < value;
	if (better <= idx)
		return true;
	/* Pruned: the worst value that would have been promoted, for the
	 * reason. */
	*cutoff = NAN;
	if ((sorted = malloc(n * sizeof *sorted))) {
		memcpy(sorted, v, n * sizeof *sorted);
		qsort(sorted, n, sizeof *sorted, cmp_double);
		*cutoff = t->set.maximise ? sorted[n - 1 - idx] : sorted[idx];
		free(sorted);
	}
	return false;
}

/* SuccessiveHalvingPruner.prune(): at each rung the trial's last step
 * has reached (min_resource * eta^rung) and it has not recorded a value
 * at yet, it records its value at that last step and is promoted or
 * pruned. */
static bool prune_asha(prune_table *t, size_t i, prune_why *why)
{
	prune_trial *tr = &t->trials[i];
	int64_t step, rung_step = t->set.min_resource;
	double value;
	unsigned r;

	if (tr->n == 0)
		return false;
	step = tr->steps[tr->n - 1];
	value = tr->values[tr->n - 1];
	for (r = 0; r < tr->rungs; r++) {
		if (rung_step > INT64_MAX / t->set.reduction_factor)
			return false;
		rung_step *= t->set.reduction_factor;
	}
	for (;; r++) {
		double cutoff;

		if (step < rung_step)
			return false;
		if (!prune_rung_add(t, r, value))
			return false;
		tr->rungs = r + 1;
		if (!prune_promotable(t, r, value, &cutoff)) {
			*why = (prune_why){ .step = step, .value = value, .threshold = cutoff,
					    .n = t->rung_n[r], .rung = r };
			return true;
		}
		if (rung_step > INT64_MAX / t->set.reduction_factor)
			return false;
		rung_step *= t->set.reduction_factor;
	}
}

bool prune_decide(prune_table *t, size_t i, prune_why *why)
{
	switch (t->set.rule) {
	case PRUNE_MEDIAN:
		return prune_median(t, i, why);
	case PRUNE_ASHA:
		return prune_asha(t, i, why);
	default:
		return false;
	}
}
