/* trials_list.c -- the sweeps as --dry-run lists them, so that a
 * search's points can be read before any GPU hour is spent:
 *
 *   trial lr: 40 trials = 20 points x 2 repeats (random search, seed 7, capped by max_trials)
 *     lr[lr=3.16e-4,bs=64,seed=0]: lr=0.00031622776601683794 bs=64 seed=0
 *
 * A sweep of 100,000 trials shows its first TRIALS_LIST_SHOWN and says
 * how many more (-v lists them all). */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <stdlib.h>
#include <string.h>

#include "mask.h"
#include "trials_list.h"

static const char *plural(size_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* Points before the cap: samples x grid (or the grid alone). */
static size_t trials_uncapped(const plan_sweep *s)
{
	size_t grid = 1, i;

	for (i = 0; s->matrix && i < value_len(s->matrix); i++)
		grid *= value_len(value_at(s->matrix, i, NULL));
	return grid * (s->random ? s->samples : 1);
}

static void trials_header(const plan_sweep *s, size_t kept, FILE *out)
{
	bool capped = s->n_points < trials_uncapped(s);
	const char *how = s->random ? "random search" : s->matrix ? "grid search" : NULL;

	fprintf(out, "trial %s: %u %s = %zu %s", s->id, s->n_trials,
		plural(s->n_trials, "trial", "trials"), s->n_points,
		plural(s->n_points, "point", "points"));
	if (s->repeat > 1)
		fprintf(out, " x %u repeats", s->repeat);
	if (how || capped) {
		fprintf(out, " (%s", how ? how : "");
		if (s->random)
			fprintf(out, ", seed %llu", (unsigned long long)s->seed);
		if (capped)
			fprintf(out, "%scapped by max_trials", how ? ", " : "");
		fputc(')', out);
	}
	if (kept < s->n_trials)
		fprintf(out, "; --only runs %zu of them", kept);
	fputc('\n', out);
}

/* A trial's id and full values; a value that holds a secret masked (the
 * id already is). */
static void trials_line(const plan *p, const plan_node *n, bool seed, FILE *out)
{
	size_t j;

	fprintf(out, "  %s:", n->id);
	for (j = 0; j < n->n_params; j++) {
		const char *v = n->params[j].value;
		char *masked = p->values.n_secrets
				       ? mask_text(v, strlen(v), (const char *const *)p->values.secrets,
						   p->values.n_secrets, 0, NULL)
				       : NULL;

		fprintf(out, " %s=%s", n->params[j].name,
			masked ? masked : p->values.n_secrets ? "***" : v);
		free(masked);
	}
	if (seed)
		fprintf(out, " seed=%u", n->seed);
	fputc('\n', out);
}

static void trials_sweep(const plan *p, const plan_sweep *s, const bool *keep, bool all,
			 FILE *out)
{
	size_t i, kept = 0, shown = 0;

	for (i = s->first; i < s->first + s->n_trials; i++)
		kept += !keep || keep[i];
	if (kept == 0)
		return;
	trials_header(s, kept, out);
	for (i = s->first; i < s->first + s->n_trials; i++) {
		if (keep && !keep[i])
			continue;
		if (!all && shown == TRIALS_LIST_SHOWN) {
			fprintf(out, "  ... and %zu more (-v lists them all)\n", kept - shown);
			break;
		}
		trials_line(p, &p->nodes[i], s->repeat > 1, out);
		shown++;
	}
}

void trials_print(const plan *p, const bool *keep, bool all, FILE *out)
{
	size_t i;

	for (i = 0; i < p->n_sweeps; i++)
		if (plan_sweep_expands(&p->sweeps[i]))
			trials_sweep(p, &p->sweeps[i], keep, all, out);
}
