/* config_search.c -- how a [trial.X] table chooses its trials: `space`
 * (sampled axes) and `search` (grid or random), `repeat`, the caps
 * `max_trials` and `max_failures`, and `prune`.  Checked here, each
 * error at its file:line:column; config_expand.c turns them into trials,
 * and the run (sweep.c, prune.c) acts on the caps and the rule. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "config_read.h"
#include "option.h"

/* The seed of a random search that names none: fixed, so that a file
 * without one still gives the same points, and ids, on every run. */
#define SEARCH_DEFAULT_SEED 0

static const char *const form_keys[] = { "uniform", "loguniform", "int", "choice", "log" };
static const char *const search_keys[] = { "method", "samples", "seed" };
static const char *const median_keys[] = { "rule", "warmup_steps", "startup_trials" };
static const char *const asha_keys[] = { "rule", "min_resource", "reduction_factor" };

/* A pair of finite numbers [lo, hi] into *lo, *hi. */
static bool read_bounds(const assay_value *v, const char *form, double *lo, double *hi)
{
	const assay_value *a, *b;

	if (value_type(v) != ASSAY_VALUE_ARRAY || value_len(v) != 2) {
		value_error(v, "`%s` must be [low, high], two numbers", form);
		return false;
	}
	a = value_at(v, 0, NULL);
	b = value_at(v, 1, NULL);
	if (value_float(a, lo) < 0 || !isfinite(*lo)) {
		value_error(a, "`%s` bounds must be finite numbers", form);
		return false;
	}
	if (value_float(b, hi) < 0 || !isfinite(*hi)) {
		value_error(b, "`%s` bounds must be finite numbers", form);
		return false;
	}
	return true;
}

static bool check_float_axis(space_axis *x, const assay_value *v)
{
	if (!read_bounds(v, x->form == AXIS_UNIFORM ? "uniform" : "loguniform", &x->lo, &x->hi))
		return false;
	if (x->form == AXIS_LOGUNIFORM && x->lo <= 0) {
		value_error(v, "`loguniform` bounds must be greater than 0, not %g", x->lo);
		return false;
	}
	if (x->lo >= x->hi) {
		value_error(v, "`%s` bounds must be ordered, low < high: [%g, %g]",
			    x->form == AXIS_UNIFORM ? "uniform" : "loguniform", x->lo, x->hi);
		return false;
	}
	return true;
}

static bool check_int_axis(space_axis *x, const assay_value *v)
{
	size_t i;

	if (value_type(v) != ASSAY_VALUE_ARRAY || value_len(v) != 2) {
		value_error(v, "`int` must be [low, high], two integers");
		return false;
	}
	for (i = 0; i < 2; i++) {
		const assay_value *e = value_at(v, i, NULL);

		if (value_type(e) != ASSAY_VALUE_INTEGER) {
			value_error(e, "`int` bounds must be integers, not %s", value_type_name(e));
			return false;
		}
	}
	value_int(value_at(v, 0, NULL), &x->ilo);
	value_int(value_at(v, 1, NULL), &x->ihi);
	if (x->ilo > x->ihi) {
		value_error(v, "`int` bounds must be ordered, low <= high: [%lld, %lld]",
			    (long long)x->ilo, (long long)x->ihi);
		return false;
	}
	if (x->log && x->ilo < 1) {
		value_error(v, "`int` with `log = true` needs bounds of at least 1, not %lld",
			    (long long)x->ilo);
		return false;
	}
	return true;
}

static bool check_choice_axis(space_axis *x, const assay_value *v)
{
	size_t i;

	if (value_type(v) != ASSAY_VALUE_ARRAY || value_len(v) == 0) {
		value_error(v, "`choice` must be a non-empty array");
		return false;
	}
	for (i = 0; i < value_len(v); i++) {
		const assay_value *e = value_at(v, i, NULL);
		assay_value_type t = value_type(e);

		if (t == ASSAY_VALUE_TABLE || t == ASSAY_VALUE_ARRAY || t == ASSAY_VALUE_DATETIME) {
			value_error(e, "`choice` values must be strings, numbers or booleans, not %s",
				    value_type_name(e));
			return false;
		}
	}
	x->choices = v;
	return true;
}

/* The form of one axis: exactly one of uniform, loguniform, int, choice,
 * and `log` with int only. */
static bool check_axis(space_axis *x, const assay_value *a)
{
	const assay_value *form = NULL, *log = NULL;
	size_t i, forms = 0;
	bool ok = true;

	x->name = a->key;
	if (!config_valid_name(a))
		return false;
	if (value_type(a) != ASSAY_VALUE_TABLE) {
		value_error(a, "space axis `%s` must be a table: { uniform = [0.0, 0.5] }, { loguniform = [1e-5, 1e-1] }, { int = [1, 8] } or { choice = [\"adam\", \"sgd\"] }",
			    a->key);
		return false;
	}
	for (i = 0; i < value_len(a); i++) {
		const assay_value *v = value_at(a, i, NULL);

		if (!config_is_key(v->key, form_keys, N(form_keys))) {
			config_unknown_key(v, "a space axis", form_keys, N(form_keys), NULL, 0);
			ok = false;
		} else if (strcmp(v->key, "log") == 0) {
			log = v;
		} else if (forms++ == 0) {
			form = v;
		} else {
			value_key_error(v, "space axis `%s` has both `%s` and `%s`: give one", a->key,
					form->key, v->key);
			ok = false;
		}
	}
	if (!ok)
		return false;
	if (!form) {
		value_error(a, "space axis `%s` needs one of `uniform`, `loguniform`, `int` or `choice`", a->key);
		return false;
	}
	x->form = strcmp(form->key, "uniform") == 0 ? AXIS_UNIFORM
		: strcmp(form->key, "loguniform") == 0 ? AXIS_LOGUNIFORM
		: strcmp(form->key, "int") == 0 ? AXIS_INT : AXIS_CHOICE;
	if (log && x->form != AXIS_INT) {
		value_key_error(log, "`log` is for `int` axes%s", x->form == AXIS_UNIFORM ? ": use `loguniform` for floats" : "");
		return false;
	}
	if (log && (!config_want(log, ASSAY_VALUE_BOOLEAN, "true or false") || value_bool(log, &x->log) < 0))
		return false;
	if (x->form == AXIS_INT)
		return check_int_axis(x, form);
	if (x->form == AXIS_CHOICE)
		return check_choice_axis(x, form);
	return check_float_axis(x, form);
}

/* `space`: its axes into spec.  Whether every axis is good. */
static bool load_space(search_spec *spec, const assay_value *sp)
{
	size_t i;
	bool ok = true;

	if (!config_want(sp, ASSAY_VALUE_TABLE, "a table of axes (space = { lr = { loguniform = [1e-5, 1e-1] } })"))
		return false;
	if (value_len(sp) == 0) {
		value_error(sp, "`space` is empty");
		return false;
	}
	if (!(spec->axes = calloc(value_len(sp), sizeof *spec->axes))) {
		spec->enomem = true;
		return false;
	}
	for (i = 0; i < value_len(sp); i++)
		ok = check_axis(&spec->axes[i], value_at(sp, i, NULL)) && ok;
	if (ok)
		spec->n_axes = value_len(sp);
	return ok;
}

/* `search = { method, samples, seed }` into s. */
static bool load_search(plan_sweep *s, const assay_value *v)
{
	static const char *const methods[] = { "grid", "random" };
	const assay_value *method, *samples, *seed;
	bool ok = true;
	int64_t n;
	size_t i;

	if (!config_want(v, ASSAY_VALUE_TABLE, "a table (search = { method = \"random\", samples = 20 })"))
		return false;
	for (i = 0; i < value_len(v); i++)
		if (!config_is_key(value_at(v, i, NULL)->key, search_keys, N(search_keys))) {
			config_unknown_key(value_at(v, i, NULL), "`search`", search_keys, N(search_keys), NULL, 0);
			ok = false;
		}
	method = value_get(v, "method");
	samples = value_get(v, "samples");
	seed = value_get(v, "seed");
	if (method) {
		int c = option_choice(method, NULL, methods, N(methods));

		if (c < 0)
			return false;
		s->random = c == 1;
	}
	if (!s->random && (samples || seed)) {
		value_key_error(samples ? samples : seed, "`%s` is for a random search: add method = \"random\"",
				samples ? "samples" : "seed");
		return false;
	}
	if (s->random && !samples) {
		value_error(v, "a random search needs `samples`, the number of points to draw");
		return false;
	}
	if (samples && option_int(samples, NULL, 1, PLAN_MAX_NODES, &n) == 0)
		s->samples = (unsigned)n;
	else if (samples)
		ok = false;
	if (seed && option_int(seed, NULL, 0, INT64_MAX, &n) == 0)
		s->seed = (uint64_t)n;
	else if (seed)
		ok = false;
	return ok;
}

/* One setting of a prune rule, e, into s: each an integer from its
 * least sensible value (a reduction factor below 2 halves nothing). */
static bool prune_setting(plan_sweep *s, const assay_value *e)
{
	bool zero_ok = strcmp(e->key, "warmup_steps") == 0 || strcmp(e->key, "startup_trials") == 0;
	int64_t n;

	if (option_int(e, NULL, zero_ok ? 0 : strcmp(e->key, "min_resource") == 0 ? 1 : 2,
		       INT32_MAX, &n) < 0)
		return false;
	if (strcmp(e->key, "warmup_steps") == 0)
		s->warmup_steps = (unsigned)n;
	else if (strcmp(e->key, "startup_trials") == 0)
		s->startup_trials = (unsigned)n;
	else if (strcmp(e->key, "min_resource") == 0)
		s->min_resource = n;
	else
		s->reduction_factor = (unsigned)n;
	return true;
}

/* `prune = { rule = "median" | "asha", ... }` into s, with Optuna's and
 * Ray Tune's defaults. */
static bool load_prune(plan_sweep *s, const assay_value *v)
{
	static const char *const rules[] = { "median", "asha" };
	const assay_value *rule;
	const char *const *keys, *const *others;
	bool ok = true;
	size_t i;
	int c;

	if (!config_want(v, ASSAY_VALUE_TABLE, "a table (prune = { rule = \"median\" })"))
		return false;
	if (!(rule = value_get(v, "rule"))) {
		value_error(v, "`prune` needs `rule`: \"median\" or \"asha\"");
		return false;
	}
	if ((c = option_choice(rule, NULL, rules, N(rules))) < 0)
		return false;
	keys = c == 0 ? median_keys : asha_keys;
	others = c == 0 ? asha_keys : median_keys;
	s->warmup_steps = 0;
	s->startup_trials = 5;
	s->min_resource = 1;
	s->reduction_factor = 4;
	for (i = 0; i < value_len(v); i++) {
		const assay_value *e = value_at(v, i, NULL);

		if (e == rule)
			continue;
		if (config_is_key(e->key, keys, N(median_keys))) {
			ok = prune_setting(s, e) && ok;
			continue;
		}
		if (config_is_key(e->key, others, N(median_keys)))
			value_key_error(e, "`%s` is for rule = \"%s\", and this rule is \"%s\"",
					e->key, rules[!c], rules[c]);
		else
			config_unknown_key(e, c == 0 ? "`prune` with rule = \"median\""
						     : "`prune` with rule = \"asha\"", keys, N(median_keys), NULL, 0);
		ok = false;
	}
	if (ok)
		s->prune = c == 0 ? PRUNE_MEDIAN : PRUNE_ASHA;
	return ok;
}

/* An axis named `seed` is {seed} itself; `repeat` sets {seed} too. */
static void check_seed_axis(const plan_sweep *s, const assay_value *axes)
{
	const assay_value *a = axes ? value_get(axes, "seed") : NULL;

	if (a && s->repeat > 1)
		value_key_error(a, "an axis named `seed` is {seed} itself, and `repeat` = %u sets {seed} to 0 .. %u: drop one",
				s->repeat, s->repeat - 1);
}

/* A parameter is either sampled or on the grid: both would give the
 * trial two values of one name. */
static bool check_both_axes(const plan_sweep *s, const assay_value *space)
{
	size_t i;
	bool ok = true;

	for (i = 0; s->matrix && i < value_len(space); i++) {
		const assay_value *a = value_at(space, i, NULL);

		if (value_get(s->matrix, a->key)) {
			value_key_error(a, "`%s` is both a space axis and a matrix parameter: give it once",
					a->key);
			ok = false;
		}
	}
	return ok;
}

/* `space`, `search`, `repeat`: what makes trials.  Whether space is
 * good and asked for by a random search (spec's axes set then). */
static void load_trials(plan_sweep *s, const assay_value *t, search_spec *spec)
{
	const assay_value *space = value_get(t, "space"), *search = value_get(t, "search");
	const assay_value *repeat = value_get(t, "repeat");
	bool search_ok = !search || load_search(s, search);
	bool space_ok = !space || (load_space(spec, space) && check_both_axes(s, space));

	if (repeat && !config_get_uint(repeat, 1, PLAN_MAX_NODES, &s->repeat))
		s->repeat = 1;
	check_seed_axis(s, s->matrix);
	check_seed_axis(s, space);
	if (space && search_ok && !s->random) {
		value_key_error(space, "`space` is sampled by a random search: add search = { method = \"random\", samples = N }%s",
				search ? " (this search is a grid)" : "");
		space_ok = false;
	}
	if (search_ok && s->random && !space) {
		value_key_error(search, "a random search samples `space`, and `%s` has none: add space = { NAME = { uniform = [LOW, HIGH] } }",
				s->id);
		s->random = false;
	}
	if (space && space_ok && search_ok) {
		s->space = space;
	} else {
		s->random = false;
		free(spec->axes);
		spec->axes = NULL;
		spec->n_axes = 0;
	}
}

/* `max_trials`, `max_failures` and `prune`; prune ranks trials, so it
 * needs the objective they are ranked by. */
static void load_caps(plan_sweep *s, const assay_value *t, unsigned *max_trials)
{
	const assay_value *v;

	if ((v = value_get(t, "max_trials")))
		config_get_uint(v, 1, PLAN_MAX_NODES, max_trials);
	if ((v = value_get(t, "max_failures")))
		config_get_uint(v, 1, PLAN_MAX_NODES, &s->max_failures);
	if ((v = value_get(t, "prune"))) {
		if (!value_get(t, "objective"))
			value_key_error(v, "`prune` compares the trials' `objective` metric: add objective = { metric = \"NAME\", goal = \"max\" }");
		else
			load_prune(s, v);
	}
}

/* The points and trials of the sweep, capped: whole points, the first
 * max_trials / repeat of them.  Whether they are few enough to make. */
static bool count_trials(plan_sweep *s, const assay_value *t, size_t grid, unsigned max_trials)
{
	uint64_t points = (uint64_t)grid * (s->random ? s->samples : 1);

	if (max_trials && max_trials < s->repeat) {
		value_error(value_get(t, "max_trials"),
			    "`max_trials` = %u keeps no point: each point runs `repeat` = %u times, and the cap keeps whole points",
			    max_trials, s->repeat);
		return false;
	}
	if (max_trials) {
		s->max_trials = max_trials;
		if (points > max_trials / s->repeat)
			points = max_trials / s->repeat;
	}
	if (points * s->repeat > PLAN_MAX_NODES) {
		value_key_error(t, "`%s` expands to more than %d trials (add `max_trials` to cap it)",
				s->id, PLAN_MAX_NODES);
		return false;
	}
	s->n_points = (size_t)points;
	return true;
}

bool config_search_load(plan_sweep *s, const assay_value *t, size_t grid, search_spec *spec)
{
	unsigned max_trials = 0;

	memset(spec, 0, sizeof *spec);
	s->repeat = 1;
	s->seed = SEARCH_DEFAULT_SEED;
	s->n_points = 1;
	load_trials(s, t, spec);
	load_caps(s, t, &max_trials);
	if (!s->matrix && !s->space && s->repeat == 1)
		return false; /* a trial alone */
	if (!s->matrix)
		grid = 1;
	spec->grid = grid;
	if (count_trials(s, t, grid, max_trials))
		return true;
	/* Too many: the trial stands alone, so that nothing follows from
	 * the error reported. */
	free(spec->axes);
	memset(spec, 0, sizeof *spec);
	s->matrix = NULL;
	s->space = NULL;
	s->random = false;
	s->repeat = 1;
	s->n_points = 1;
	return false;
}

void config_search_free(search_spec *spec)
{
	free(spec->axes);
	memset(spec, 0, sizeof *spec);
}
