/* config_read.h -- what the files of config_load() share: reading values
 * with the host's wording (types, ranges, durations, names, unknown keys
 * with a suggestion), and the parts of loading, one file each.  Private
 * to core/config*.c. */
#ifndef ASSAY_CONFIG_READ_H
#define ASSAY_CONFIG_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plan.h"

#define N(a) (sizeof(a) / sizeof *(a))

/* Keys the host reads in every node table; a type's own options come on
 * top (config_node.c). */
extern const char *const config_node_keys[];
extern const size_t config_n_node_keys;

/* "unknown key `x` in where (did you mean `y`?)", the suggestion from
 * known and more. */
void config_unknown_key(const assay_value *v, const char *where,
			const char *const *known, size_t n_known,
			const char *const *more, size_t n_more);

bool config_is_key(const char *key, const char *const *keys, size_t n);

/* Whether v is of type t; else an error saying it must be `what`. */
bool config_want(const assay_value *v, assay_value_type t, const char *what);

/* An integer in [min, max], into *out. */
bool config_get_uint(const assay_value *v, int64_t min, int64_t max, unsigned *out);

/* A duration (0 only when zero_ok), into *out in ms. */
bool config_get_duration(const assay_value *v, bool zero_ok, int64_t *out);

/* An array of non-empty strings; with single_ok, one string too. */
bool config_string_array(const assay_value *v, bool single_ok);

/* A node, group or matrix parameter name: letters, digits, '_', '-'. */
bool config_valid_name(const assay_value *v);

/* Grow *array (of *cap elements of size) to hold n + 1: doubling, so
 * that a million nodes or items cost O(n) copies, not O(n^2).  0 or
 * ASSAY_ENOMEM. */
int config_grow(void *array, size_t *cap, size_t n, size_t size);

/* --- the parts of loading ------------------------------------------------ */

/* A table under check/trial/validation: its nodes and groups, in group
 * (PLAN_NONE at the top), depth levels down (config_tree.c). */
int config_tree_load(plan *p, unsigned kind, uint32_t group, const assay_value *t,
		     unsigned depth);

/* Room for the nodes of root's node tables, before config_tree_load()
 * reads them: the array is sized once rather than grown by doubling
 * (config_tree.c).  0 or ASSAY_ENOMEM. */
int config_tree_reserve(plan *p, const assay_value *root);

/* A new zeroed node at the end of p's, or NULL when out of memory or
 * past PLAN_MAX_NODES (config_tree.c). */
plan_node *config_tree_new_node(plan *p);

/* The host's own options of node n's table; a trial's sweep-wide ones
 * (objective, max_parallel) into sweep (config_node.c). */
void config_node_options(plan_node *n, plan_sweep *sweep);

/* A matrix's check: each parameter a non-empty array of plain values,
 * at most PLAN_MAX_NODES combinations, *combinations set
 * (config_matrix.c). */
bool config_matrix_check(const assay_value *m, size_t *combinations);

/* `objective`, with its `target`, into the sweep (config_matrix.c). */
bool config_matrix_objective(plan_sweep *s, const assay_value *o);

/* A matrix or choice value as it appears in ids and {param}: the
 * shortest text that reads back as the same value; malloc'd, NULL when
 * out of memory or not a plain value (config_matrix.c). */
char *config_format_value(const assay_value *v);

/* One axis of a `space`, checked. */
typedef enum axis_form { AXIS_UNIFORM, AXIS_LOGUNIFORM, AXIS_INT, AXIS_CHOICE } axis_form;

typedef struct space_axis {
	const char *name;
	axis_form form;
	double lo, hi;                 /* uniform, loguniform: [lo, hi) */
	int64_t ilo, ihi;              /* int: [ilo, ihi] */
	bool log;                      /* int: loguniform */
	const assay_value *choices;    /* choice */
} space_axis;

/* What config_search_load() read for config_search_expand(). */
typedef struct search_spec {
	space_axis *axes;              /* a random search's space, in key order */
	size_t n_axes;
	size_t grid;                   /* the matrix's combinations (1: none) */
	bool enomem;
} search_spec;

/* A trial table's search: `space`, `search`, `repeat`, `max_trials`,
 * `max_failures`, `prune` into s (its matrix, checked, already set), the
 * space's axes into spec; grid is the matrix's combinations.  Whether
 * the table is a sweep of trials to expand (a matrix, a space or a
 * repeat); config_search_free(spec) either way (config_search.c). */
bool config_search_load(plan_sweep *s, const assay_value *t, size_t grid, search_spec *spec);
void config_search_free(search_spec *spec);

/* The sweep's trials: its points (samples x grid, capped) each repeat
 * times, nodes copied from proto with their parameters, ids, point and
 * seed (config_expand.c).  0, ASSAY_ENOMEM, or ASSAY_EINVAL past
 * PLAN_MAX_NODES. */
int config_search_expand(plan *p, uint32_t sweep, const plan_node *proto, const search_spec *spec);

/* A validation's `items` table, into n (config_items.c). */
int config_items_load(plan *p, plan_node *n, const assay_value *t);

#endif /* ASSAY_CONFIG_READ_H */
