/* plan.c -- the plan's objects: groups with their members, sweeps with
 * their trials, the limits, the index of names; finding and freeing. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <stdlib.h>
#include <string.h>

#include "bigarray.h"
#include "plan.h"

const char *plan_node_param(const plan_node *n, const char *name)
{
	size_t i;

	for (i = 0; i < n->n_params; i++)
		if (strcmp(n->params[i].name, name) == 0)
			return n->params[i].value;
	return NULL;
}

/* The trials of a sweep follow one another: the sort keeps the nodes of
 * one table together, in expansion order. */
static void index_sweeps(plan *p)
{
	size_t i;

	for (i = 0; i < p->n_sweeps; i++)
		p->sweeps[i].n_trials = 0;
	for (i = 0; i < p->n_nodes; i++) {
		plan_sweep *s;

		if (p->nodes[i].sweep == PLAN_NONE)
			continue;
		s = &p->sweeps[p->nodes[i].sweep];
		if (s->n_trials++ == 0)
			s->first = (uint32_t)i;
	}
}

/* Each group's members, in compressed rows: counted, then filled, walking
 * up from each node's innermost group. */
static int index_members(plan *p)
{
	size_t *at = calloc(p->n_groups + 1, sizeof *at), i;
	uint32_t g;

	if (!at)
		return ASSAY_ENOMEM;
	for (i = 0; i < p->n_nodes; i++)
		for (g = p->nodes[i].group; g != PLAN_NONE; g = p->groups[g].parent)
			at[g + 1]++;
	for (i = 0; i < p->n_groups; i++)
		at[i + 1] += at[i];
	free(p->members);
	if (!(p->members = malloc((at[p->n_groups] ? at[p->n_groups] : 1) * sizeof *p->members))) {
		free(at);
		return ASSAY_ENOMEM;
	}
	for (i = 0; i < p->n_groups; i++) {
		p->groups[i].members = p->members + at[i];
		p->groups[i].n_members = 0;
	}
	for (i = 0; i < p->n_nodes; i++)
		for (g = p->nodes[i].group; g != PLAN_NONE; g = p->groups[g].parent)
			p->members[at[g] + p->groups[g].n_members++] = (uint32_t)i;
	free(at);
	return 0;
}

static int index_limits(plan *p)
{
	size_t i, n = 0;

	for (i = 0; i < p->n_groups; i++)
		n += p->groups[i].max_parallel != 0;
	for (i = 0; i < p->n_sweeps; i++)
		n += p->sweeps[i].max_parallel != 0;
	free(p->limits);
	p->n_limits = 0;
	if (!(p->limits = malloc((n ? n : 1) * sizeof *p->limits)))
		return ASSAY_ENOMEM;
	for (i = 0; i < p->n_groups; i++) {
		plan_group *g = &p->groups[i];

		g->limit = g->max_parallel ? (uint32_t)p->n_limits : PLAN_NONE;
		if (g->max_parallel)
			p->limits[p->n_limits++] = g->max_parallel;
	}
	for (i = 0; i < p->n_sweeps; i++) {
		plan_sweep *s = &p->sweeps[i];

		s->limit = s->max_parallel ? (uint32_t)p->n_limits : PLAN_NONE;
		if (s->max_parallel)
			p->limits[p->n_limits++] = s->max_parallel;
	}
	return 0;
}

size_t plan_node_limits(const plan *p, const plan_node *n, uint32_t *out)
{
	uint32_t chain[PLAN_MAX_DEPTH + 1], g;
	size_t depth = 0, k = 0;

	for (g = n->group; g != PLAN_NONE && depth < PLAN_MAX_DEPTH; g = p->groups[g].parent)
		chain[depth++] = p->groups[g].limit;
	while (depth-- > 0)
		if (chain[depth] != PLAN_NONE)
			out[k++] = chain[depth];
	if (n->sweep != PLAN_NONE && p->sweeps[n->sweep].limit != PLAN_NONE)
		out[k++] = p->sweeps[n->sweep].limit;
	return k;
}

/* --- names ---------------------------------------------------------------- */

/* A trial alone is named by its node id: only a sweep that expands has
 * a name of its own. */
static bool sweep_named(const plan_sweep *s)
{
	return plan_sweep_expands(s);
}

const char *plan_ref_name(const plan *p, uint32_t ref)
{
	if (ref < p->n_nodes)
		return p->nodes[ref].id;
	if ((ref -= (uint32_t)p->n_nodes) < p->n_groups)
		return p->groups[ref].name;
	return p->sweeps[ref - p->n_groups].id;
}

static const assay_value *ref_table(const plan *p, uint32_t ref)
{
	if (ref < p->n_nodes)
		return p->nodes[ref].table;
	if ((ref -= (uint32_t)p->n_nodes) < p->n_groups)
		return p->groups[ref].table;
	return p->sweeps[ref - p->n_groups].table;
}

static uint64_t name_hash(const char *s)
{
	uint64_t h = 1469598103934665603u; /* FNV-1a */

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211u;
	return h;
}

/* A slot of the name index holds the upper half of its name's hash above
 * its ref + 1; 0 is empty.  A probe compares the hashes first, so that
 * passing another name's slot reads no string. */
static uint64_t slot_of(uint64_t hash, uint32_t ref)
{
	return (hash & 0xffffffff00000000u) | ((uint64_t)ref + 1);
}

static uint32_t slot_ref(uint64_t slot)
{
	return (uint32_t)slot - 1;
}

/* The slot holding name (of that hash), or the empty slot where it would go. */
static uint64_t *name_slot(const plan *p, const char *name, uint64_t hash)
{
	size_t i = (size_t)hash & p->names_mask;

	for (; p->names[i]; i = (i + 1) & p->names_mask)
		if (p->names[i] >> 32 == hash >> 32 &&
		    strcmp(plan_ref_name(p, slot_ref(p->names[i])), name) == 0)
			break;
	return &p->names[i];
}

uint32_t plan_find(const plan *p, const char *name)
{
	uint64_t *slot;

	if (!p->names)
		return PLAN_NONE;
	slot = name_slot(p, name, name_hash(name));
	return *slot ? slot_ref(*slot) : PLAN_NONE;
}

/* Of the groups and matrices named like ref, the table declared last:
 * the mistake. */
static const assay_value *later_table(const plan *p, uint32_t ref)
{
	const char *name = plan_ref_name(p, ref);
	const assay_value *t = NULL;
	uint32_t r, end = (uint32_t)(p->n_nodes + p->n_groups + p->n_sweeps);

	for (r = (uint32_t)p->n_nodes; r < end; r++) {
		const assay_value *g = ref_table(p, r);

		if (strcmp(plan_ref_name(p, r), name) != 0)
			continue;
		if (!t || g->key_pos.line > t->key_pos.line ||
		    (g->key_pos.line == t->key_pos.line && g->key_pos.column > t->key_pos.column))
			t = g;
	}
	return t;
}

/* Ids must be unique across kinds: `after` names them without the kind.
 * Reported once per name: at the first node of that id, else at the
 * group or matrix declared last. */
static void report_twice(const plan *p, const uint32_t *dups, size_t n, diag *d)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const assay_value *t = dups[i] < p->n_nodes ? ref_table(p, dups[i]) : later_table(p, dups[i]);

		diag_add(d, t->tree->file, t->key_pos.line, t->key_pos.column,
			 "`%s` names two nodes or groups (check, trial and validation share one namespace)",
			 plan_ref_name(p, dups[i]));
	}
}

static int index_names(plan *p, diag *d)
{
	size_t total = p->n_nodes + p->n_groups + p->n_sweeps, cap = 16, n_dups = 0;
	uint32_t *dups = NULL, ref;

	while (cap < 2 * total)
		cap *= 2;
	bigarray_free(p->names, p->names_mask + 1, sizeof *p->names);
	if (!(p->names = bigarray_new(cap, sizeof *p->names)))
		return ASSAY_ENOMEM;
	p->names_mask = cap - 1;
	for (ref = 0; ref < total; ref++) {
		const char *name = plan_ref_name(p, ref);
		uint64_t hash, *slot;
		uint32_t *grown;
		size_t k;

		if (ref >= p->n_nodes + p->n_groups &&
		    !sweep_named(&p->sweeps[ref - p->n_nodes - p->n_groups]))
			continue;
		hash = name_hash(name);
		slot = name_slot(p, name, hash);
		if (!*slot) {
			*slot = slot_of(hash, ref);
			continue;
		}
		for (k = 0; k < n_dups && dups[k] != slot_ref(*slot); k++)
			;
		if (k < n_dups)
			continue;
		if (!(grown = realloc(dups, (n_dups + 1) * sizeof *dups))) {
			free(dups);
			return ASSAY_ENOMEM;
		}
		dups = grown;
		dups[n_dups++] = slot_ref(*slot);
	}
	report_twice(p, dups, n_dups, d);
	free(dups);
	return 0;
}

const char **plan_names(const plan *p, size_t *n)
{
	size_t total = p->n_nodes + p->n_groups + p->n_sweeps;
	const char **names = malloc((total ? total : 1) * sizeof *names);
	uint32_t ref;

	*n = 0;
	if (!names)
		return NULL;
	for (ref = 0; ref < total; ref++)
		if (ref < p->n_nodes + p->n_groups ||
		    sweep_named(&p->sweeps[ref - p->n_nodes - p->n_groups]))
			names[(*n)++] = plan_ref_name(p, ref);
	return names;
}

plan_span plan_span_of(const plan *p, uint32_t ref)
{
	plan_span s = { NULL, ref, 1 };

	if (ref < p->n_nodes)
		return s;
	if ((ref -= (uint32_t)p->n_nodes) < p->n_groups) {
		s.list = p->groups[ref].members;
		s.n = (uint32_t)p->groups[ref].n_members;
		return s;
	}
	s.first = p->sweeps[ref - p->n_groups].first;
	s.n = p->sweeps[ref - p->n_groups].n_trials;
	return s;
}

/* The names in each node's `after`, found once.  A matrix's trials share
 * one table, so they share its refs too. */
/* The sweep of ref when ref names a whole sweep: its name, or the one
 * trial of a sweep of one; else PLAN_NONE. */
static uint32_t after_sweep_of(const plan *p, uint32_t ref)
{
	if (ref == PLAN_NONE)
		return PLAN_NONE;
	if (ref < p->n_nodes) {
		uint32_t s = p->nodes[ref].sweep;

		return s != PLAN_NONE && p->sweeps[s].n_trials == 1 ? s : PLAN_NONE;
	}
	if (ref - p->n_nodes < p->n_groups)
		return PLAN_NONE;
	return ref - (uint32_t)p->n_nodes - (uint32_t)p->n_groups;
}

/* n's one sweep (plan_node.after_sweep), from its refs. */
static void index_after_sweep(plan *p, plan_node *n)
{
	uint32_t found = PLAN_NONE;
	size_t j;

	for (j = 0; j < n->n_after; j++) {
		uint32_t s = after_sweep_of(p, n->after_refs[j]);

		if (s == PLAN_NONE || s == found)
			continue;
		if (found != PLAN_NONE) {
			found = PLAN_NONE; /* several: {best.*} would be ambiguous */
			break;
		}
		found = s;
	}
	n->after_sweep = found;
	n->after_trial = found == PLAN_NONE ? NULL : &p->nodes[p->sweeps[found].first];
}

static int index_after(plan *p)
{
	size_t i, j;

	for (i = 0; i < p->n_nodes; i++) {
		plan_node *n = &p->nodes[i];
		bool one;
		uint32_t *refs;

		n->after_sweep = PLAN_NONE;
		n->after_trial = NULL;
		if (!n->after)
			continue;
		if (i > 0 && p->nodes[i - 1].after == n->after) {
			n->after_refs = p->nodes[i - 1].after_refs;
			n->n_after = p->nodes[i - 1].n_after;
			index_after_sweep(p, n);
			continue;
		}
		one = value_type(n->after) == ASSAY_VALUE_STRING;
		n->n_after = one ? 1 : value_len(n->after);
		if (!(refs = arena_calloc(&p->mem, n->n_after, sizeof *refs)))
			return ASSAY_ENOMEM;
		for (j = 0; j < n->n_after; j++)
			refs[j] = plan_find(p, value_string(one ? n->after : value_at(n->after, j, NULL)));
		n->after_refs = refs;
		index_after_sweep(p, n);
	}
	return 0;
}

int plan_index(plan *p, diag *d)
{
	index_sweeps(p);
	if (index_members(p) < 0 || index_limits(p) < 0 || index_names(p, d) < 0)
		return ASSAY_ENOMEM;
	return index_after(p);
}

/* --- release -------------------------------------------------------------- */

static void node_release(plan_node *n)
{
	size_t j;

	if (n->prepared && n->type->release && n->state)
		n->type->release(n->state, n->type->data);
	for (j = 0; j < n->n_resources; j++)
		if (n->resource_types[j]->release_request)
			n->resource_types[j]->release_request(n->resource_reqs[j],
							      n->resource_types[j]->data);
	free(n->resource_reqs);
	free(n->resource_types);
	free(n->items);
	free(n->items_text);
}

void plan_release(plan *p)
{
	size_t i, j;

	for (i = 0; i < p->n_nodes; i++)
		node_release(&p->nodes[i]);
	bigarray_free(p->nodes, p->cap_nodes, sizeof *p->nodes);
	free(p->groups);
	for (i = 0; i < p->n_sweeps; i++) {
		plan_sweep *s = &p->sweeps[i];

		for (j = 0; j < s->n_values; j++)
			free(s->values[j]);
		free(s->values);
		free(s->params);
	}
	free(p->sweeps);
	free(p->members);
	bigarray_free(p->names, p->names_mask + 1, sizeof *p->names);
	free(p->limits);
	if (p->have_values)
		value_tree_release(&p->values);
	toml_doc_free(p->doc);
	arena_release(&p->mem);
	free(p->state_dir);
	free(p->path);
	memset(p, 0, sizeof *p);
}
