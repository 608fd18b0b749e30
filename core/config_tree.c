/* config_tree.c -- the tables under check, trial and validation: groups
 * (tables without `type`, nested) and nodes, and the sweep of each trial
 * table. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bigarray.h"
#include "config_read.h"
#include "status.h"

static const char *const group_keys[] = { "max_parallel", "description" };

/* Room for cap nodes in all: the array is a bigarray (zeroed, on huge
 * pages when large), so it is moved, not realloc()ed. */
static int reserve_nodes(plan *p, size_t cap)
{
	plan_node *nodes;

	if (cap <= p->cap_nodes)
		return 0;
	if (!(nodes = bigarray_new(cap, sizeof *nodes)))
		return ASSAY_ENOMEM;
	if (p->n_nodes)
		memcpy(nodes, p->nodes, p->n_nodes * sizeof *nodes);
	bigarray_free(p->nodes, p->cap_nodes, sizeof *nodes);
	p->nodes = nodes;
	p->cap_nodes = cap;
	return 0;
}

plan_node *config_tree_new_node(plan *p)
{
	if (p->n_nodes >= PLAN_MAX_NODES ||
	    (p->n_nodes == p->cap_nodes &&
	     reserve_nodes(p, p->cap_nodes ? 2 * p->cap_nodes : 16) < 0))
		return NULL;
	return &p->nodes[p->n_nodes++];
}

/* The node tables under t, at most PLAN_MAX_NODES: a matrix counts as one,
 * as the file has not been checked yet. */
static size_t count_nodes(const assay_value *t, unsigned depth)
{
	size_t i, n = 0;

	for (i = 0; i < value_len(t) && n < PLAN_MAX_NODES; i++) {
		const assay_value *v = value_at(t, i, NULL);

		if (value_type(v) != ASSAY_VALUE_TABLE)
			continue;
		if (value_get(v, "type"))
			n++;
		else if (depth < PLAN_MAX_DEPTH)
			n += count_nodes(v, depth + 1);
	}
	return n;
}

int config_tree_reserve(plan *p, const assay_value *root)
{
	static const char *const kinds[] = { "check", "trial", "validation" };
	size_t i, n = 0;

	for (i = 0; i < N(kinds); i++) {
		const assay_value *t = value_get(root, kinds[i]);

		if (t && value_type(t) == ASSAY_VALUE_TABLE)
			n += count_nodes(t, 0);
	}
	return reserve_nodes(p, n < PLAN_MAX_NODES ? n : PLAN_MAX_NODES);
}

/* A group named id inside parent; its index, or PLAN_NONE when out of
 * memory. */
static uint32_t add_group(plan *p, char *id, uint32_t parent, const assay_value *table)
{
	plan_group *g;

	if (config_grow(&p->groups, &p->cap_groups, p->n_groups, sizeof *p->groups) < 0)
		return PLAN_NONE;
	g = &p->groups[p->n_groups];
	memset(g, 0, sizeof *g);
	g->name = id;
	g->parent = parent;
	g->table = table;
	return (uint32_t)p->n_groups++;
}

/* The sweep of a trial table: its index, or PLAN_NONE when out of memory. */
static uint32_t add_sweep(plan *p, const plan_sweep *s)
{
	if (config_grow(&p->sweeps, &p->cap_sweeps, p->n_sweeps, sizeof *p->sweeps) < 0)
		return PLAN_NONE;
	p->sweeps[p->n_sweeps] = *s;
	p->sweeps[p->n_sweeps].groups_before = (uint32_t)p->n_groups;
	return (uint32_t)p->n_sweeps++;
}

/* "group.name", in p's arena; NULL when out of memory. */
static char *join_id(plan *p, uint32_t group, const char *name)
{
	size_t len = strlen(name), at;
	char *id;

	if (group == PLAN_NONE)
		return arena_strndup(&p->mem, name, len);
	at = strlen(p->groups[group].name) + 1;
	if (!(id = arena_alloc(&p->mem, at + len + 1)))
		return NULL;
	memcpy(id, p->groups[group].name, at - 1);
	id[at - 1] = '.';
	memcpy(id + at, name, len + 1);
	return id;
}

/* The node of a table without a matrix, taking over proto's memory. */
static int add_single(plan *p, plan_node *proto, plan_sweep *sweep)
{
	plan_node *n = config_tree_new_node(p);

	if (!n)
		return p->n_nodes >= PLAN_MAX_NODES ? ASSAY_EINVAL : ASSAY_ENOMEM;
	*n = *proto;
	memset(proto, 0, sizeof *proto);
	if (n->kind != ASSAY_KIND_TRIAL)
		return 0;
	sweep->id = n->id; /* a trial alone is named by its id */
	sweep->table = n->table;
	return (n->sweep = add_sweep(p, sweep)) == PLAN_NONE ? ASSAY_ENOMEM : 0;
}

/* The trials of a table with a matrix, a space or a repeat: the sweep,
 * then its trials. */
static int add_trials(plan *p, const plan_node *proto, plan_sweep *sweep,
		      const search_spec *spec)
{
	uint32_t s;

	sweep->table = proto->table;
	sweep->id = proto->id;
	if ((s = add_sweep(p, sweep)) == PLAN_NONE)
		return ASSAY_ENOMEM;
	return config_search_expand(p, s, proto, spec);
}

/* One node table: a node, or a sweep of trials. */
static int load_node(plan *p, unsigned kind, uint32_t group, const assay_value *t)
{
	const assay_value *matrix = kind == ASSAY_KIND_TRIAL ? value_get(t, "matrix") : NULL;
	const assay_value *items = value_get(t, "items");
	plan_sweep sweep = { .first = 0 };
	search_spec spec = { .axes = NULL };
	size_t combos = 1, errors;
	bool expand = false;
	plan_node proto;
	int rc = 0;

	memset(&proto, 0, sizeof proto);
	proto.kind = kind;
	proto.table = t;
	proto.group = group;
	proto.sweep = PLAN_NONE;
	if (!(proto.id = join_id(p, group, t->key)))
		return ASSAY_ENOMEM;
	config_node_options(&proto, kind == ASSAY_KIND_TRIAL ? &sweep : NULL);
	errors = diag_count(p->values.diag);
	if (matrix && !config_matrix_check(matrix, &combos))
		matrix = NULL;
	if (kind == ASSAY_KIND_TRIAL) {
		sweep.id = proto.id;
		sweep.matrix = matrix;
		expand = config_search_load(&sweep, t, combos, &spec);
		if (spec.enomem)
			rc = ASSAY_ENOMEM;
		/* A sweep whose axes are wrong stands as one trial without
		 * them: its plugin's options are still checked, but a {NAME}
		 * of a broken axis is not another error. */
		proto.params_unknown = diag_count(p->values.diag) != errors;
	}
	if (kind == ASSAY_KIND_VALIDATION) {
		if (!items)
			value_error(t, "validation `%s` needs `items` (a glob, a list or a file)", proto.id);
		else if (config_want(items, ASSAY_VALUE_TABLE, "a table (items = { glob = \"*.py\" })"))
			rc = config_items_load(p, &proto, items);
	}
	if (rc == 0)
		rc = expand ? add_trials(p, &proto, &sweep, &spec) : add_single(p, &proto, &sweep);
	config_search_free(&spec);
	if (rc == ASSAY_EINVAL)
		value_key_error(t, "`%s` would make more than %d nodes in all", proto.id ? proto.id : t->key,
				 PLAN_MAX_NODES);
	free(proto.items);
	free(proto.items_text);
	return rc;
}

/* A key of a group table that is not a table. */
static void group_key(plan *p, uint32_t group, const char *key, const assay_value *v)
{
	const char *name = p->groups[group].name;

	if (strcmp(key, "max_parallel") == 0)
		config_get_uint(v, 1, 1000000, &p->groups[group].max_parallel);
	else if (strcmp(key, "description") == 0)
		config_want(v, ASSAY_VALUE_STRING, "a string");
	else if (config_is_key(key, config_node_keys, config_n_node_keys))
		value_key_error(v, "`%s` in group `%s`: a group is a table without `type`; add `type` to make `%s` a node",
				 key, name, name);
	else
		config_unknown_key(v, "a group", group_keys, N(group_keys), NULL, 0);
}

/* A table under check/trial/validation: a node if it has `type`, else a
 * group whose tables are nodes or groups in turn. */
int config_tree_load(plan *p, unsigned kind, uint32_t group, const assay_value *t,
		     unsigned depth)
{
	size_t i;
	int rc;

	for (i = 0; i < value_len(t); i++) {
		const char *key;
		const assay_value *v = value_at(t, i, &key);
		uint32_t g;
		char *id;

		if (value_type(v) != ASSAY_VALUE_TABLE) {
			if (group == PLAN_NONE)
				value_key_error(v, "`%s.%s` is not a table: declare nodes as [%s.NAME] with a `type`",
						 status_kind_name(kind), key, status_kind_name(kind));
			else
				group_key(p, group, key, v);
			continue;
		}
		if (!config_valid_name(v))
			continue;
		if (value_get(v, "type")) {
			if ((rc = load_node(p, kind, group, v)) < 0)
				return rc;
			continue;
		}
		if (depth >= PLAN_MAX_DEPTH) {
			value_key_error(v, "groups nest deeper than 16 levels");
			continue;
		}
		if (!(id = join_id(p, group, key)))
			return ASSAY_ENOMEM;
		if (value_len(v) == 0)
			value_key_error(v, "`%s` has no `type` and no nodes: a node needs `type = \"...\"`", id);
		if ((g = add_group(p, id, group, v)) == PLAN_NONE)
			return ASSAY_ENOMEM;
		if ((rc = config_tree_load(p, kind, g, v, depth + 1)) < 0)
			return rc;
	}
	return 0;
}
