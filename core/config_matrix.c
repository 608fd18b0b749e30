/* config_matrix.c -- a sweep of trials: its matrix checked, its values
 * as text, and its objective.  The trials are config_expand.c's. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_read.h"
#include "option.h"

char *config_format_value(const assay_value *v)
{
	char buf[64];
	int64_t i;
	double f;
	bool b;
	int prec;

	switch (value_type(v)) {
	case ASSAY_VALUE_STRING:
		return strdup(value_string(v));
	case ASSAY_VALUE_INTEGER:
		value_int(v, &i);
		snprintf(buf, sizeof buf, "%lld", (long long)i);
		break;
	case ASSAY_VALUE_FLOAT:
		value_float(v, &f);
		for (prec = 1; prec <= 17; prec++) {
			snprintf(buf, sizeof buf, "%.*g", prec, f);
			if (strtod(buf, NULL) == f)
				break;
		}
		break;
	case ASSAY_VALUE_BOOLEAN:
		value_bool(v, &b);
		return strdup(b ? "true" : "false");
	default:
		return NULL;
	}
	return strdup(buf);
}

bool config_matrix_check(const assay_value *m, size_t *combinations)
{
	size_t i, j, total = 1;
	bool ok = true;

	if (!config_want(m, ASSAY_VALUE_TABLE, "a table of arrays (matrix = { lr = [0.1, 0.01] })"))
		return false;
	if (value_len(m) == 0) {
		value_error(m, "`matrix` is empty");
		return false;
	}
	for (i = 0; i < value_len(m); i++) {
		const assay_value *a = value_at(m, i, NULL);

		if (!config_valid_name(a)) {
			ok = false;
			continue;
		}
		if (value_type(a) != ASSAY_VALUE_ARRAY || value_len(a) == 0) {
			value_error(a, "matrix parameter `%s` must be a non-empty array", a->key);
			ok = false;
			continue;
		}
		for (j = 0; j < value_len(a); j++) {
			assay_value_type t = value_type(value_at(a, j, NULL));

			if (t == ASSAY_VALUE_TABLE || t == ASSAY_VALUE_ARRAY ||
			    t == ASSAY_VALUE_DATETIME) {
				value_error(value_at(a, j, NULL),
					    "matrix values must be strings, numbers or booleans, not %s",
					    value_type_name(value_at(a, j, NULL)));
				ok = false;
			}
		}
		if (total > PLAN_MAX_NODES / value_len(a))
			total = PLAN_MAX_NODES + 1;
		else
			total *= value_len(a);
	}
	if (ok && total > PLAN_MAX_NODES) {
		value_error(m, "`matrix` expands to more than %d trials", PLAN_MAX_NODES);
		ok = false;
	}
	*combinations = total;
	return ok;
}

bool config_matrix_objective(plan_sweep *s, const assay_value *o)
{
	const assay_value *metric, *goal, *target;
	size_t i;
	static const char *const keys[] = { "metric", "goal", "target" };

	if (!config_want(o, ASSAY_VALUE_TABLE, "a table (objective = { metric = \"accuracy\", goal = \"max\" })"))
		return false;
	for (i = 0; i < value_len(o); i++)
		if (!config_is_key(value_at(o, i, NULL)->key, keys, N(keys)))
			config_unknown_key(value_at(o, i, NULL), "`objective`", keys, N(keys), NULL, 0);
	metric = value_get(o, "metric");
	goal = value_get(o, "goal");
	if (!metric) {
		value_error(o, "`objective` needs `metric`");
		return false;
	}
	if (!config_want(metric, ASSAY_VALUE_STRING, "a string"))
		return false;
	s->objective = value_string(metric);
	s->maximise = true;
	if (goal) {
		static const char *const goals[] = { "max", "min" };
		int c = option_choice(goal, NULL, goals, N(goals));

		if (c < 0)
			return false;
		s->maximise = c == 0;
	}
	/* Once a trial reaches it, no new trial starts (sweep.c). */
	if ((target = value_get(o, "target"))) {
		if (value_float(target, &s->target) < 0 || !isfinite(s->target)) {
			value_error(target, "`target` must be a number, not %s",
				    value_type(target) == ASSAY_VALUE_FLOAT ? "a number that is not finite"
									    : value_type_name(target));
			return false;
		}
		s->has_target = true;
	}
	return true;
}
