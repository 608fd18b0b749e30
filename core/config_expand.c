/* config_expand.c -- a sweep's trials: its points (each sample of the
 * space crossed with each row of the matrix grid, capped), each repeated,
 * as nodes with their parameters, point, seed and ids.  Ids are short
 * (a sampled float to 3 significant digits) and readable; an index keeps
 * them unique when shortening makes two points look alike. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_read.h"
#include "mask.h"
#include "sample.h"

/* What expansion works with: the sweep and each point's id text. */
typedef struct expansion {
	plan_sweep *s;
	const search_spec *spec;
	size_t grid_values;            /* the first values: the matrix's */
	char **shorts;                 /* per sample and axis: the id's text, or NULL
					* when it is the full value */
	char **bodies;                 /* per point: "lr=3.16e-4,bs=64" */
	bool *collides;                /* per point: another has the same body */
	const char *const *secrets;    /* the plan's: masked in the ids */
	size_t n_secrets;
} expansion;

/* The shortest text of f that reads back as f: a parameter's full value. */
static char *full_float(double f)
{
	char buf[32];
	int prec;

	for (prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof buf, "%.*g", prec, f);
		if (strtod(buf, NULL) == f)
			break;
	}
	return strdup(buf);
}

/* "e-05" as "e-5", "e+03" as "e3". */
static void short_exponent(char *buf)
{
	char *e = strchr(buf, 'e'), *digits;

	if (!e)
		return;
	digits = e + 1;
	if (*digits == '+')
		memmove(digits, digits + 1, strlen(digits));
	else if (*digits == '-')
		digits++;
	while (digits[0] == '0' && digits[1])
		memmove(digits, digits + 1, strlen(digits));
}

/* f to 3 significant digits, for an id: 0.000316 is "3.16e-4", 0.0316
 * stays "0.0316", 12345 is "1.23e4"; trailing zeros dropped. */
static char *short_float(double f)
{
	char buf[32], *e, *end;

	if (f != 0 && fabs(f) < 1e-3) {
		snprintf(buf, sizeof buf, "%.2e", f);
		/* "1.00e-04": the mantissa's trailing zeros, and a bare point. */
		e = strchr(buf, 'e');
		for (end = e; end[-1] == '0'; end--)
			;
		if (end[-1] == '.')
			end--;
		memmove(end, e, strlen(e) + 1);
	} else {
		snprintf(buf, sizeof buf, "%.3g", f);
	}
	short_exponent(buf);
	return strdup(buf);
}

/* The value of axis x for sample i: its own stream, from the seed, the
 * sample's number and the axis's name, so that adding a sample or an
 * axis changes no other value.  The full text; *shortened the id's when
 * it differs. */
static char *draw(const plan_sweep *s, const space_axis *x, size_t i, char **shortened)
{
	sample_rng r;
	char buf[32];
	double f;

	sample_seed(&r, sample_mix(sample_mix(s->seed + sample_hash(x->name)) + i));
	*shortened = NULL;
	switch (x->form) {
	case AXIS_INT:
		snprintf(buf, sizeof buf, "%lld", (long long)(x->log ? sample_int_log(&r, x->ilo, x->ihi)
								     : sample_int(&r, x->ilo, x->ihi)));
		return strdup(buf);
	case AXIS_CHOICE:
		return config_format_value(value_at(x->choices,
			(size_t)sample_int(&r, 0, (int64_t)value_len(x->choices) - 1), NULL));
	default:
		f = x->form == AXIS_UNIFORM ? sample_uniform(&r, x->lo, x->hi)
					    : sample_loguniform(&r, x->lo, x->hi);
		if (!(*shortened = short_float(f)))
			return NULL;
		return full_float(f);
	}
}

/* Every value as text, once: the matrix's, then each sample's (as many
 * samples as the points kept use).  0 or ASSAY_ENOMEM. */
static int make_values(expansion *e)
{
	plan_sweep *s = e->s;
	size_t i, j, n = 0, samples = s->random ? (s->n_points + e->spec->grid - 1) / e->spec->grid : 0;
	size_t n_axes = e->spec->n_axes;

	for (i = 0; s->matrix && i < value_len(s->matrix); i++)
		n += value_len(value_at(s->matrix, i, NULL));
	e->grid_values = n;
	n += samples * n_axes;
	if (!(s->values = calloc(n ? n : 1, sizeof *s->values)) ||
	    !(e->shorts = calloc(samples * n_axes + 1, sizeof *e->shorts)))
		return ASSAY_ENOMEM;
	for (i = 0; s->matrix && i < value_len(s->matrix); i++) {
		const assay_value *a = value_at(s->matrix, i, NULL);

		for (j = 0; j < value_len(a); j++)
			if (!(s->values[s->n_values++] = config_format_value(value_at(a, j, NULL))))
				return ASSAY_ENOMEM;
	}
	for (i = 0; i < samples; i++)
		for (j = 0; j < n_axes; j++) {
			char **shortened = &e->shorts[i * n_axes + j];

			if (!(s->values[s->n_values++] = draw(s, &e->spec->axes[j], i, shortened)))
				return ASSAY_ENOMEM;
		}
	return 0;
}

/* Point pt's row: the space's axes (sample pt / grid), then the matrix's
 * (row pt % grid, its last key varying fastest, like nested loops
 * written in the order of the keys). */
static void fill_row(const expansion *e, size_t pt, assay_param *row)
{
	const plan_sweep *s = e->s;
	size_t n_axes = e->spec->n_axes, sample = pt / e->spec->grid, rest = pt % e->spec->grid;
	size_t j, at = e->grid_values;

	for (j = 0; j < n_axes; j++) {
		row[j].name = e->spec->axes[j].name;
		row[j].value = s->values[e->grid_values + sample * n_axes + j];
	}
	for (j = s->n_params; j-- > n_axes;) {
		const assay_value *a = value_at(s->matrix, j - n_axes, NULL);
		size_t len = value_len(a);

		at -= len;
		row[j].name = a->key;
		row[j].value = s->values[at + rest % len];
		rest /= len;
	}
}

/* "lr=3.16e-4,bs=64": point pt's row as its id shows it.  A value that
 * holds a secret (a matrix value from ${env:...}) shows masked: an id is
 * printed everywhere -- logs, the graph, --dry-run, every report, the
 * trial dir's name -- while the full value goes to the command alone.
 * Two such points then look alike, and get their numbers.  NULL when out
 * of memory. */
static char *make_body(const expansion *e, size_t pt, const assay_param *row)
{
	size_t n_axes = e->spec->n_axes, sample = pt / e->spec->grid, len = 1, j;
	char *body = NULL, *at, **masked = calloc(e->s->n_params + 1, sizeof *masked);
	const char *shown;

	if (!masked)
		return NULL;
	for (j = 0; j < e->s->n_params; j++) {
		const char *sh = j < n_axes ? e->shorts[sample * n_axes + j] : NULL;

		shown = sh ? sh : row[j].value;
		if (e->n_secrets && !(masked[j] = mask_text(shown, strlen(shown), e->secrets,
							      e->n_secrets, 0, NULL)))
			goto out;
		len += strlen(row[j].name) + strlen(masked[j] ? masked[j] : shown) + 2;
	}
	if (!(body = malloc(len)))
		goto out;
	*body = '\0';
	for (j = 0, at = body; j < e->s->n_params; j++) {
		const char *sh = j < n_axes ? e->shorts[sample * n_axes + j] : NULL;

		shown = masked[j] ? masked[j] : sh ? sh : row[j].value;
		at += sprintf(at, "%s%s=%s", j ? "," : "", row[j].name, shown);
	}
out:
	for (j = 0; j < e->s->n_params; j++)
		free(masked[j]);
	free(masked);
	return body;
}

typedef struct point_body {
	const char *body;
	size_t point;
} point_body;

static int cmp_body(const void *a, const void *b)
{
	const point_body *x = a, *y = b;
	int c = strcmp(x->body, y->body);

	return c ? c : (x->point > y->point) - (x->point < y->point);
}

/* Which points' bodies another point shares: sorted, equal neighbours.
 * 0 or ASSAY_ENOMEM. */
static int find_collisions(expansion *e)
{
	size_t n = e->s->n_points, i;
	point_body *order = malloc((n ? n : 1) * sizeof *order);

	if (!order || !(e->collides = calloc(n ? n : 1, sizeof *e->collides))) {
		free(order);
		return ASSAY_ENOMEM;
	}
	for (i = 0; i < n; i++)
		order[i] = (point_body){ e->bodies[i], i };
	qsort(order, n, sizeof *order, cmp_body);
	for (i = 1; i < n; i++)
		if (strcmp(order[i - 1].body, order[i].body) == 0)
			e->collides[order[i - 1].point] = e->collides[order[i].point] = true;
	free(order);
	return 0;
}

/* "lr[lr=3.16e-4,bs=64]", with ",#K" (the point's number from 1) when
 * another point looks the same, and ",seed=K" with a repeat; in p's
 * arena, NULL when out of memory. */
static char *trial_id(plan *p, const expansion *e, size_t pt, unsigned seed)
{
	const char *body = e->bodies[pt];
	size_t len = strlen(e->s->id) + strlen(body) + 64;
	char *id = arena_alloc(&p->mem, len), *at;

	if (!id)
		return NULL;
	at = id + sprintf(id, "%s[%s", e->s->id, body);
	if (e->collides[pt])
		at += sprintf(at, ",#%zu", pt + 1);
	if (e->s->repeat > 1)
		at += sprintf(at, "%sseed=%u", *body ? "," : "", seed);
	strcpy(at, "]");
	return id;
}

/* A `seed` axis is {seed} itself: its integer value, when it has one. */
static unsigned seed_of(const assay_param *row, size_t n)
{
	size_t j;
	char *end;
	unsigned long v;

	for (j = 0; j < n; j++)
		if (strcmp(row[j].name, "seed") == 0 && row[j].value[0] >= '0' && row[j].value[0] <= '9') {
			v = strtoul(row[j].value, &end, 10);
			return *end || v > UINT32_MAX ? 0 : (unsigned)v;
		}
	return 0;
}

/* Every point's row and body, the collisions among the bodies.  0 or
 * ASSAY_ENOMEM. */
static int make_points(expansion *e, assay_param *rows)
{
	size_t pt;

	if (!(e->bodies = calloc(e->s->n_points ? e->s->n_points : 1, sizeof *e->bodies)))
		return ASSAY_ENOMEM;
	for (pt = 0; pt < e->s->n_points; pt++) {
		fill_row(e, pt, rows + pt * e->s->repeat * e->s->n_params);
		if (!(e->bodies[pt] = make_body(e, pt, rows + pt * e->s->repeat * e->s->n_params)))
			return ASSAY_ENOMEM;
	}
	return find_collisions(e);
}

/* The nodes: each point repeat times, in a row. */
static int make_trials(plan *p, uint32_t sweep, const plan_node *proto, expansion *e)
{
	plan_sweep *s = e->s;
	size_t pt, np = s->n_params;
	unsigned k;

	for (pt = 0; pt < s->n_points; pt++)
		for (k = 0; k < s->repeat; k++) {
			assay_param *row = s->params + (pt * s->repeat + k) * np;
			plan_node *n = config_tree_new_node(p);

			if (!n)
				return p->n_nodes >= PLAN_MAX_NODES ? ASSAY_EINVAL : ASSAY_ENOMEM;
			if (k > 0)
				memcpy(row, row - np, np * sizeof *row);
			*n = *proto;
			n->sweep = sweep;
			n->params = row;
			n->n_params = np;
			n->point = (uint32_t)pt;
			n->seed = s->repeat > 1 ? k : seed_of(row, np);
			n->items = NULL;
			n->items_text = NULL;
			n->n_items = 0;
			if (!(n->id = trial_id(p, e, pt, k)))
				return ASSAY_ENOMEM;
		}
	return 0;
}

static void expansion_free(expansion *e)
{
	size_t i, samples = e->s->random ? (e->s->n_points + e->spec->grid - 1) / e->spec->grid : 0;

	for (i = 0; e->shorts && i < samples * e->spec->n_axes; i++)
		free(e->shorts[i]);
	free(e->shorts);
	for (i = 0; e->bodies && i < e->s->n_points; i++)
		free(e->bodies[i]);
	free(e->bodies);
	free(e->collides);
}

int config_search_expand(plan *p, uint32_t sweep, const plan_node *proto, const search_spec *spec)
{
	expansion e = { .s = &p->sweeps[sweep], .spec = spec,
			.secrets = (const char *const *)p->values.secrets,
			.n_secrets = p->values.n_secrets };
	plan_sweep *s = e.s;
	size_t n_trials = s->n_points * s->repeat;
	int rc;

	s->n_params = spec->n_axes + (s->matrix ? value_len(s->matrix) : 0);
	if ((rc = make_values(&e)) < 0 ||
	    !(s->params = calloc(n_trials * s->n_params + 1, sizeof *s->params)))
		rc = ASSAY_ENOMEM;
	if (rc == 0 && (rc = make_points(&e, s->params)) == 0)
		rc = make_trials(p, sweep, proto, &e);
	expansion_free(&e);
	return rc;
}
