/* graph.c -- dependency graph: edges, cycles, order, critical path. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <stdlib.h>
#include <string.h>

#include "bigarray.h"
#include "graph.h"
#include "status.h"

/* The most predecessors node i can have: what its `after` refs stand for
 * and, unless it is a gate, every gate.  An unknown name was reported by
 * config. */
static size_t max_preds(const plan *p, const plan_node *n, size_t n_gates)
{
	size_t j, m = n->gate ? 0 : n_gates;

	for (j = 0; j < n->n_after; j++)
		if (n->after_refs[j] != PLAN_NONE)
			m += plan_span_of(p, n->after_refs[j]).n;
	return m;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* row[0 .. n) sorted, each once (`after` may name a node twice: itself
 * and through its group); the new length.  Most rows hold a few. */
static size_t sort_row(uint32_t *row, size_t n)
{
	size_t i, j, w;

	if (n > 16) {
		qsort(row, n, sizeof *row, cmp_u32);
	} else {
		for (i = 1; i < n; i++) {
			uint32_t v = row[i];

			for (j = i; j > 0 && row[j - 1] > v; j--)
				row[j] = row[j - 1];
			row[j] = v;
		}
	}
	for (i = 0, w = 0; i < n; i++)
		if (w == 0 || row[w - 1] != row[i])
			row[w++] = row[i];
	return w;
}

/* Node i's predecessors into row (room for max_preds()); how many. */
static size_t fill_preds(const plan *p, const plan_node *n, const uint32_t *gates,
			 size_t n_gates, uint32_t *row)
{
	size_t j, k, m = 0;

	for (j = 0; j < n->n_after; j++) {
		plan_span s;

		if (n->after_refs[j] == PLAN_NONE)
			continue;
		s = plan_span_of(p, n->after_refs[j]);
		for (k = 0; k < s.n; k++)
			row[m++] = plan_span_at(&s, (uint32_t)k);
	}
	/* Every node that is not a gate waits for every gate. */
	for (k = 0; !n->gate && k < n_gates; k++)
		row[m++] = gates[k];
	return sort_row(row, m);
}

/* The predecessor rows, in plan order, each sorted: pred_at's prefix
 * sums of max_preds() give each row room, and the rows are moved down as
 * duplicates shrink them.  g->pred has room for max edges. */
static void collect_preds(graph *g, const plan *p, const uint32_t *gates, size_t n_gates)
{
	size_t i, at = 0;

	for (i = 0; i < g->n; i++) {
		size_t m = fill_preds(p, &p->nodes[i], gates, n_gates, g->pred + g->pred_at[i]);

		if (at < g->pred_at[i])
			memmove(g->pred + at, g->pred + g->pred_at[i], m * sizeof *g->pred);
		g->pred_at[i] = (uint32_t)at;
		at += m;
	}
	g->pred_at[g->n] = (uint32_t)at;
}

/* The successor rows from the predecessor rows: counted (succ_at starts
 * zeroed), then filled in node order, so that each row is sorted. */
static void collect_succs(graph *g)
{
	size_t i, k;

	for (k = 0; k < g->pred_at[g->n]; k++)
		g->succ_at[g->pred[k] + 1]++;
	for (i = 0; i < g->n; i++)
		g->succ_at[i + 1] += g->succ_at[i];
	/* Fill with a moving cursor per row, then shift the cursors back. */
	for (i = 0; i < g->n; i++)
		for (k = g->pred_at[i]; k < g->pred_at[i + 1]; k++)
			g->succ[g->succ_at[g->pred[k]]++] = (uint32_t)i;
	for (i = g->n; i > 0; i--)
		g->succ_at[i] = g->succ_at[i - 1];
	g->succ_at[0] = 0;
}

/* Past this many characters a cycle's path shows its first and last
 * nodes and counts the ones between: the line stays readable, and every
 * name shown is whole. */
#define CYCLE_PATH_MAX 400

/* The name of the k-th node of the path round cycle[0 .. n), which ends
 * where it starts. */
static const char *cycle_name(const plan *p, const uint32_t *cycle, size_t n, size_t k)
{
	return p->nodes[cycle[k % n]].id;
}

/* "a -> b -> c -> a", or "a -> b -> ... (N more) -> y -> a"; malloc'd, or
 * NULL when out of memory. */
static char *cycle_path(const plan *p, const uint32_t *cycle, size_t n)
{
	size_t names = n + 1, head = names, tail = 0, len = 32, used, i;
	char *out, *at;

	for (i = 0; i < names; i++)
		len += strlen(cycle_name(p, cycle, n, i)) + 4;
	if (len > CYCLE_PATH_MAX) {
		for (head = 0, used = 0; head == 0 || (head + 1 < names &&
			used + strlen(cycle_name(p, cycle, n, head)) <= CYCLE_PATH_MAX / 2); head++)
			used += strlen(cycle_name(p, cycle, n, head)) + 4;
		for (tail = 0, used = 0; head + tail < names && (tail == 0 ||
			used + strlen(cycle_name(p, cycle, n, names - 1 - tail)) <= CYCLE_PATH_MAX / 2); tail++)
			used += strlen(cycle_name(p, cycle, n, names - 1 - tail)) + 4;
		if (head + tail + 1 >= names) { /* leaving one out saves nothing */
			head = names;
			tail = 0;
		}
	}
	if (!(out = malloc(len)))
		return NULL;
	at = out;
	for (i = 0; i < head; i++)
		at += sprintf(at, "%s%s", i ? " -> " : "", cycle_name(p, cycle, n, i));
	if (head < names)
		at += sprintf(at, " -> ... (%zu more)", names - head - tail);
	for (i = names - tail; i < names; i++)
		at += sprintf(at, " -> %s", cycle_name(p, cycle, n, i));
	return out;
}

/* Kahn's algorithm left some nodes unordered (indeg above 0): each has an
 * unordered predecessor, so walking predecessors from one must revisit a
 * node. */
static void report_cycle(const graph *g, const plan *p, const uint32_t *indeg, diag *d)
{
	uint32_t *seen_at = malloc(g->n * sizeof *seen_at), *walk = malloc((g->n + 1) * sizeof *walk);
	size_t i, len = 0, start, k;
	uint32_t v = 0;
	char *path = NULL;

	if (!seen_at || !walk)
		goto out;
	for (i = 0; i < g->n; i++)
		seen_at[i] = UINT32_MAX;
	for (i = 0; i < g->n && indeg[i] == 0; i++)
		;
	v = (uint32_t)i;
	while (seen_at[v] == UINT32_MAX) {
		seen_at[v] = (uint32_t)len;
		walk[len++] = v;
		for (k = g->pred_at[v]; k < g->pred_at[v + 1] && indeg[g->pred[k]] == 0; k++)
			;
		v = g->pred[k];
	}
	/* walk[start .. len) is the cycle, each waiting for the next: turn
	 * it round so that each node runs before the next, from v. */
	start = seen_at[v];
	for (k = 1; k < len - start; k++)
		seen_at[k] = walk[len - k];
	seen_at[0] = v;
	path = cycle_path(p, seen_at, len - start);
out:
	if (path) {
		const assay_value *t = p->nodes[v].table;
		toml_pos pos = toml_value_pos(t->src);

		diag_add(d, t->tree->file, pos.line, pos.column,
			 "dependency cycle: %s (each waits for the one before it, through `after` or a gate)",
			 path);
	} else {
		diag_add(d, p->path, 0, 0, "dependency cycle (out of memory describing it)");
	}
	free(path);
	free(seen_at);
	free(walk);
}

/* Kahn's algorithm; the order array doubles as its queue.  Returns how
 * many nodes it ordered: fewer than g->n after a cycle, whose nodes keep
 * an indeg above 0. */
static size_t topological_order(graph *g, uint32_t *indeg)
{
	size_t i, k, head = 0, tail = 0;

	for (i = 0; i < g->n; i++)
		if ((indeg[i] = g->pred_at[i + 1] - g->pred_at[i]) == 0)
			g->order[tail++] = (uint32_t)i;
	while (head < tail) {
		uint32_t v = g->order[head++];

		for (k = g->succ_at[v]; k < g->succ_at[v + 1]; k++)
			if (--indeg[g->succ[k]] == 0)
				g->order[tail++] = g->succ[k];
	}
	return tail;
}

/* Every array of g in one bigarray (zeroed; on huge pages when large):
 * the rows' starts, the order, Kahn's in-degrees, and room for max_edges
 * edges each way.  0 or ASSAY_ENOMEM. */
static int graph_alloc(graph *g, size_t max_edges, uint32_t **indeg)
{
	size_t n = g->n;

	if (max_edges > UINT32_MAX || max_edges > (SIZE_MAX / sizeof *g->mem - 4 * n - 2) / 2)
		return ASSAY_ENOMEM;
	g->mem_len = 4 * n + 2 + 2 * max_edges;
	if (!(g->mem = bigarray_new(g->mem_len, sizeof *g->mem)))
		return ASSAY_ENOMEM;
	g->pred_at = g->mem;
	g->succ_at = g->pred_at + n + 1;
	g->order = g->succ_at + n + 1;
	*indeg = g->order + n;
	g->pred = *indeg + n;
	g->succ = g->pred + max_edges;
	return 0;
}

int graph_build(graph *g, const plan *p, diag *d)
{
	uint32_t *gates = malloc((p->n_nodes ? p->n_nodes : 1) * sizeof *gates), *indeg;
	size_t i, n_gates = 0, max_edges = 0;
	int rc = ASSAY_ENOMEM;

	memset(g, 0, sizeof *g);
	g->n = p->n_nodes;
	if (!gates)
		return rc;
	for (i = 0; i < p->n_nodes; i++)
		if (p->nodes[i].gate)
			gates[n_gates++] = (uint32_t)i;
	for (i = 0; i < p->n_nodes; i++)
		max_edges += max_preds(p, &p->nodes[i], n_gates);
	if ((rc = graph_alloc(g, max_edges, &indeg)) < 0)
		goto out;
	/* Each row's room: where collect_preds() fills it. */
	g->pred_at[0] = 0;
	for (i = 0; i < p->n_nodes; i++)
		g->pred_at[i + 1] = g->pred_at[i] + (uint32_t)max_preds(p, &p->nodes[i], n_gates);
	collect_preds(g, p, gates, n_gates);
	collect_succs(g);
	if (topological_order(g, indeg) < g->n) {
		report_cycle(g, p, indeg, d);
		rc = ASSAY_EINVAL;
	}
out:
	free(gates);
	return rc;
}

void graph_release(graph *g)
{
	bigarray_free(g->mem, g->mem_len, sizeof *g->mem);
	memset(g, 0, sizeof *g);
}

void graph_closure(const graph *g, bool *keep)
{
	size_t i, k;

	/* Reverse topological order: a node's predecessors come after it. */
	for (i = g->n; i-- > 0;) {
		uint32_t v = g->order[i];

		if (keep[v])
			for (k = g->pred_at[v]; k < g->pred_at[v + 1]; k++)
				keep[g->pred[k]] = true;
	}
}

double graph_critical_path(const graph *g, const double *seconds,
			   const bool *keep, bool *on_path)
{
	double *finish = malloc((g->n ? g->n : 1) * sizeof *finish), best = 0;
	uint32_t *via = malloc((g->n ? g->n : 1) * sizeof *via), end = UINT32_MAX;
	size_t i, k;

	if (!finish || !via) {
		free(finish);
		free(via);
		return 0;
	}
	if (on_path)
		memset(on_path, 0, g->n * sizeof *on_path);
	for (i = 0; i < g->n; i++) {
		uint32_t v = g->order[i];
		double start = 0;

		via[v] = UINT32_MAX;
		if (keep && !keep[v]) {
			finish[v] = 0;
			continue;
		}
		/* Start when the latest predecessor finishes; remember which,
		 * to walk the path back. */
		for (k = g->pred_at[v]; k < g->pred_at[v + 1]; k++) {
			uint32_t u = g->pred[k];

			if ((!keep || keep[u]) && (via[v] == UINT32_MAX || finish[u] > start)) {
				start = finish[u];
				via[v] = u;
			}
		}
		finish[v] = start + seconds[v];
		if (end == UINT32_MAX || finish[v] > best) {
			best = finish[v];
			end = v;
		}
	}
	for (; on_path && end != UINT32_MAX; end = via[end])
		on_path[end] = true;
	free(finish);
	free(via);
	return best;
}

static void mark_path(const graph *g, const double *seconds, const bool *keep,
		      bool **on_path, double *total)
{
	*on_path = calloc(g->n ? g->n : 1, sizeof **on_path);
	*total = *on_path ? graph_critical_path(g, seconds, keep, *on_path) : 0;
	/* Without durations every path is as long: none is marked. */
	if (*on_path && *total <= 0)
		memset(*on_path, 0, g->n * sizeof **on_path);
}

void graph_print_text(const graph *g, const plan *p, const double *seconds,
		      const bool *keep, FILE *out)
{
	bool *on_path;
	double total;
	size_t i, k, shown = 0;

	mark_path(g, seconds, keep, &on_path, &total);
	for (i = 0; i < g->n; i++) {
		const plan_node *n = &p->nodes[i];

		if (keep && !keep[i])
			continue;
		shown++;
		fprintf(out, "%s %s%s", on_path && on_path[i] ? "*" : " ", n->id,
			n->gate ? n->gate_warning ? " [gate: OK or WARNING]" : " [gate]" : "");
		if (n->skip)
			fprintf(out, " [skip: %s]", n->skip);
		if (seconds[i] > 0)
			fprintf(out, " (%.3gs)", seconds[i]);
		for (k = g->pred_at[i]; k < g->pred_at[i + 1]; k++)
			fprintf(out, "%s%s", k == g->pred_at[i] ? " <- " : ", ",
				p->nodes[g->pred[k]].id);
		fputc('\n', out);
	}
	if (total > 0)
		fprintf(out, "critical path (*): %.3gs from declared estimates; %zu node%s\n",
			total, shown, shown == 1 ? "" : "s");
	else
		fprintf(out, "%zu node%s; no critical path: no node declares an `estimate`\n",
			shown, shown == 1 ? "" : "s");
	free(on_path);
}

/* Graphviz wants ids quoted: escape what a node id may contain. */
static void dot_id(FILE *out, const char *id)
{
	fputc('"', out);
	for (; *id; id++) {
		if (*id == '"' || *id == '\\')
			fputc('\\', out);
		fputc(*id, out);
	}
	fputc('"', out);
}

void graph_print_dot(const graph *g, const plan *p, const double *seconds,
		     FILE *out)
{
	bool *on_path;
	double total;
	size_t i, k;

	mark_path(g, seconds, NULL, &on_path, &total);
	fprintf(out, "digraph assay {\n\trankdir=LR;\n\tnode [shape=box];\n");
	for (i = 0; i < g->n; i++) {
		fputc('\t', out);
		dot_id(out, p->nodes[i].id);
		fprintf(out, " [label=\"%s\\n%s %s\"%s%s%s];\n", p->nodes[i].id,
			status_kind_name(p->nodes[i].kind),
			p->nodes[i].type_name ? p->nodes[i].type_name : "",
			p->nodes[i].gate ? ", shape=octagon" : "",
			p->nodes[i].skip ? ", style=dashed" : "",
			on_path && on_path[i] ? ", color=red, penwidth=2" : "");
	}
	for (i = 0; i < g->n; i++)
		for (k = g->succ_at[i]; k < g->succ_at[i + 1]; k++) {
			fputc('\t', out);
			dot_id(out, p->nodes[i].id);
			fputs(" -> ", out);
			dot_id(out, p->nodes[g->succ[k]].id);
			if (on_path && on_path[i] && on_path[g->succ[k]])
				fputs(" [color=red, penwidth=2]", out);
			fputs(";\n", out);
		}
	fprintf(out, "\tlabel=\"critical path %.3gs\";\n}\n", total);
	free(on_path);
}
