/* config_matrix.c -- a sweep of trials: its matrix checked and expanded
 * into trials with their parameters and ids, and its objective. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_read.h"
#include "option.h"

/* A matrix value as it appears in ids and {param}: the shortest text that
 * reads back as the same value. */
static char *format_param(const assay_value *v)
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
	const assay_value *metric, *goal;
	size_t i;
	static const char *const keys[] = { "metric", "goal" };

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
	return true;
}

/* Every value of the matrix as text, once: the trials' parameters point
 * at them.  0 or ASSAY_ENOMEM. */
static int format_values(plan_sweep *s)
{
	size_t i, j, n = 0;

	for (i = 0; i < value_len(s->matrix); i++)
		n += value_len(value_at(s->matrix, i, NULL));
	if (!(s->values = calloc(n, sizeof *s->values)))
		return ASSAY_ENOMEM;
	for (i = 0; i < value_len(s->matrix); i++) {
		const assay_value *a = value_at(s->matrix, i, NULL);

		for (j = 0; j < value_len(a); j++)
			if (!(s->values[s->n_values++] = format_param(value_at(a, j, NULL))))
				return ASSAY_ENOMEM;
	}
	return 0;
}

/* Row c of the sweep's parameters: the last parameter varies fastest,
 * like nested loops written in the order of the keys. */
static void fill_row(plan_sweep *s, size_t c)
{
	assay_param *row = s->params + c * s->n_params;
	size_t j, rest = c, at = s->n_values;

	for (j = s->n_params; j-- > 0;) {
		const assay_value *a = value_at(s->matrix, j, NULL);
		size_t len = value_len(a);

		at -= len;
		row[j].name = a->key;
		row[j].value = s->values[at + rest % len];
		rest /= len;
	}
}

/* "lr[lr=0.1,bs=32]", in p's arena; NULL when out of memory. */
static char *trial_id(plan *p, const char *base, const assay_param *row, size_t np)
{
	size_t len = strlen(base) + 3, j;
	char *id, *at;

	for (j = 0; j < np; j++)
		len += strlen(row[j].name) + strlen(row[j].value) + 2;
	if (!(id = arena_alloc(&p->mem, len)))
		return NULL;
	at = id + sprintf(id, "%s[", base);
	for (j = 0; j < np; j++)
		at += sprintf(at, "%s%s=%s", j ? "," : "", row[j].name, row[j].value);
	strcpy(at, "]");
	return id;
}

int config_matrix_expand(plan *p, uint32_t sweep, const plan_node *proto, size_t combinations)
{
	plan_sweep *s = &p->sweeps[sweep];
	size_t c;

	s->n_params = value_len(s->matrix);
	if (format_values(s) < 0 ||
	    !(s->params = calloc(combinations * s->n_params, sizeof *s->params)))
		return ASSAY_ENOMEM;
	for (c = 0; c < combinations; c++) {
		plan_node *n = config_tree_new_node(p);

		if (!n)
			return p->n_nodes >= PLAN_MAX_NODES ? ASSAY_EINVAL : ASSAY_ENOMEM;
		fill_row(s, c);
		*n = *proto;
		n->sweep = sweep;
		n->params = s->params + c * s->n_params;
		n->n_params = s->n_params;
		n->items = NULL;
		n->n_items = 0;
		if (!(n->id = trial_id(p, s->id, n->params, n->n_params)))
			return ASSAY_ENOMEM;
	}
	return 0;
}
