/* summary.c -- `assay check-config`'s summary of a good file. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include "duration.h"
#include "summary.h"

static size_t summary_count_kind(const plan *p, unsigned kind)
{
	size_t i, n = 0;

	for (i = 0; i < p->n_nodes; i++)
		n += p->nodes[i].kind == kind;
	return n;
}

static void summary_group(const plan *p, uint32_t ref, bool first, FILE *out)
{
	fprintf(out, "%s %s (%u)", first ? "" : ",", plan_ref_name(p, ref),
		plan_span_of(p, ref).n);
}

/* The groups and the matrices (a group of their trials), in the order the
 * file was read, each with its number of nodes. */
static void summary_groups(const plan *p, FILE *out)
{
	size_t g = 0, s, shown = 0;

	fprintf(out, "  groups:");
	for (s = 0; s <= p->n_sweeps; s++) {
		size_t before = s < p->n_sweeps ? p->sweeps[s].groups_before : p->n_groups;

		for (; g < before; g++)
			summary_group(p, (uint32_t)(p->n_nodes + g), shown++ == 0, out);
		if (s < p->n_sweeps && plan_sweep_expands(&p->sweeps[s]))
			summary_group(p, (uint32_t)(p->n_nodes + p->n_groups + s), shown++ == 0, out);
	}
	fprintf(out, "%s\n", shown ? "" : " none");
}

void summary_print(const plan *p, const registry *r, FILE *out)
{
	size_t i, items = 0, gates = 0, n_val = summary_count_kind(p, ASSAY_KIND_VALIDATION);
	size_t n_check = summary_count_kind(p, ASSAY_KIND_CHECK);
	size_t n_trial = summary_count_kind(p, ASSAY_KIND_TRIAL);
	char timeout[32];

	for (i = 0; i < p->n_nodes; i++) {
		items += p->nodes[i].n_items;
		gates += p->nodes[i].gate;
	}
	fprintf(out, "%s: OK\n", p->path);
	fprintf(out, "  runner: jobs %u, workers %u, timeout %s%s\n", p->jobs, p->workers,
		duration_format(p->timeout_ms, timeout), p->fail_fast ? ", fail_fast" : "");
	/* The plugins the file loads; the built-in reporters are always there. */
	fprintf(out, "  plugins:");
	for (i = 0; i < r->n_plugins; i++)
		fprintf(out, "%s %s %s (%s)", i ? "," : "", r->plugins[i]->name,
			r->plugins[i]->version, r->plugins[i]->path);
	fprintf(out, "%s\n", r->n_plugins ? "" : " none");
	fprintf(out, "  nodes: %zu: %zu check%s, %zu trial%s, %zu validation%s (%zu item%s)\n",
		p->n_nodes, n_check, n_check == 1 ? "" : "s", n_trial, n_trial == 1 ? "" : "s",
		n_val, n_val == 1 ? "" : "s", items, items == 1 ? "" : "s");
	fprintf(out, "  gates:");
	for (i = 0; i < p->n_nodes; i++)
		if (p->nodes[i].gate)
			fprintf(out, " %s", p->nodes[i].id);
	fprintf(out, "%s\n", gates ? "" : " none");
	for (i = 0; i < p->n_nodes; i++)
		if (p->nodes[i].skip)
			fprintf(out, "  skipped: %s (%s)\n", p->nodes[i].id, p->nodes[i].skip);
	summary_groups(p, out);
}
