/* graph.c -- dependency graph: edges, cycles, order, critical path. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "status.h"

typedef struct edge {
	uint32_t from, to; /* `to` waits for `from` */
} edge;

typedef struct edges {
	edge *e;
	size_t n, cap;
} edges;

static int add_edge(edges *es, size_t from, size_t to)
{
	if (es->n == es->cap) {
		size_t cap = es->cap ? es->cap * 2 : 256;
		edge *e = realloc(es->e, cap * sizeof *e);

		if (!e)
			return ASSAY_ENOMEM;
		es->e = e;
		es->cap = cap;
	}
	es->e[es->n].from = (uint32_t)from;
	es->e[es->n].to = (uint32_t)to;
	es->n++;
	return 0;
}

static int cmp_edge(const void *a, const void *b)
{
	const edge *x = a, *y = b;

	if (x->to != y->to)
		return x->to < y->to ? -1 : 1;
	return x->from < y->from ? -1 : x->from > y->from;
}

/* Edges from every node named by `name` (a node id, every member of a
 * group, every trial of a matrix) to node `to`.  An unknown name was
 * reported by config. */
static int add_after(edges *es, const plan *p, const char *name, size_t to)
{
	uint32_t ref = plan_find(p, name), k;
	plan_span s;
	int rc = 0;

	if (ref == PLAN_NONE)
		return 0;
	s = plan_span_of(p, ref);
	for (k = 0; k < s.n && rc == 0; k++)
		rc = add_edge(es, plan_span_at(&s, k), to);
	return rc;
}

static int collect_edges(const plan *p, edges *es)
{
	uint32_t *gates = malloc((p->n_nodes ? p->n_nodes : 1) * sizeof *gates);
	size_t i, j, n_gates = 0;
	int rc = 0;

	if (!gates)
		return ASSAY_ENOMEM;
	for (i = 0; i < p->n_nodes; i++)
		if (p->nodes[i].gate)
			gates[n_gates++] = (uint32_t)i;
	for (i = 0; i < p->n_nodes && rc == 0; i++) {
		const assay_value *after = p->nodes[i].after;

		if (after && value_type(after) == ASSAY_VALUE_STRING)
			rc = add_after(es, p, value_string(after), i);
		for (j = 0; after && value_type(after) == ASSAY_VALUE_ARRAY &&
			    j < value_len(after) && rc == 0; j++)
			rc = add_after(es, p, value_string(value_at(after, j, NULL)), i);
		/* Every node that is not a gate waits for every gate. */
		for (j = 0; !p->nodes[i].gate && j < n_gates && rc == 0; j++)
			rc = add_edge(es, gates[j], i);
	}
	free(gates);
	return rc;
}

/* Compressed rows of the edges sorted by `key` (to: predecessors). */
static int build_rows(size_t n, const edge *e, size_t ne, bool by_to,
		      uint32_t **at_out, uint32_t **list_out)
{
	uint32_t *at = calloc(n + 1, sizeof *at), *list = malloc((ne ? ne : 1) * sizeof *list);
	size_t i;

	if (!at || !list) {
		free(at);
		free(list);
		return ASSAY_ENOMEM;
	}
	for (i = 0; i < ne; i++)
		at[(by_to ? e[i].to : e[i].from) + 1]++;
	for (i = 0; i < n; i++)
		at[i + 1] += at[i];
	/* Fill with a moving cursor per row, then shift the cursors back. */
	for (i = 0; i < ne; i++) {
		uint32_t row = by_to ? e[i].to : e[i].from;

		list[at[row]++] = by_to ? e[i].from : e[i].to;
	}
	for (i = n; i > 0; i--)
		at[i] = at[i - 1];
	at[0] = 0;
	*at_out = at;
	*list_out = list;
	return 0;
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

/* Kahn's algorithm left some nodes unordered: each has an unordered
 * predecessor, so walking predecessors from one must revisit a node. */
static void report_cycle(const graph *g, const plan *p, const bool *ordered, diag *d)
{
	uint32_t *seen_at = malloc(g->n * sizeof *seen_at), *walk = malloc((g->n + 1) * sizeof *walk);
	size_t i, len = 0, start, k;
	uint32_t v = 0;
	char *path = NULL;

	if (!seen_at || !walk)
		goto out;
	for (i = 0; i < g->n; i++)
		seen_at[i] = UINT32_MAX;
	for (i = 0; i < g->n && ordered[i]; i++)
		;
	v = (uint32_t)i;
	while (seen_at[v] == UINT32_MAX) {
		seen_at[v] = (uint32_t)len;
		walk[len++] = v;
		for (k = g->pred_at[v]; k < g->pred_at[v + 1] && ordered[g->pred[k]]; k++)
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

int graph_build(graph *g, const plan *p, diag *d)
{
	edges es = { 0 };
	uint32_t *indeg = NULL;
	bool *ordered = NULL;
	size_t i, k, head = 0, tail = 0, w;
	int rc;

	memset(g, 0, sizeof *g);
	g->n = p->n_nodes;
	if ((rc = collect_edges(p, &es)) < 0)
		goto out;
	if (es.n) /* es.e is NULL without edges: qsort's argument must not be */
		qsort(es.e, es.n, sizeof *es.e, cmp_edge);
	/* `after` may name a node twice (itself and through its group). */
	for (i = 0, w = 0; i < es.n; i++)
		if (w == 0 || es.e[w - 1].from != es.e[i].from || es.e[w - 1].to != es.e[i].to)
			es.e[w++] = es.e[i];
	es.n = w;
	if ((rc = build_rows(g->n, es.e, es.n, true, &g->pred_at, &g->pred)) < 0 ||
	    (rc = build_rows(g->n, es.e, es.n, false, &g->succ_at, &g->succ)) < 0)
		goto out;
	g->order = malloc((g->n ? g->n : 1) * sizeof *g->order);
	indeg = malloc((g->n ? g->n : 1) * sizeof *indeg);
	ordered = calloc(g->n ? g->n : 1, sizeof *ordered);
	if (!g->order || !indeg || !ordered) {
		rc = ASSAY_ENOMEM;
		goto out;
	}
	for (i = 0; i < g->n; i++)
		if ((indeg[i] = g->pred_at[i + 1] - g->pred_at[i]) == 0)
			g->order[tail++] = (uint32_t)i;
	/* The order array doubles as Kahn's queue. */
	while (head < tail) {
		uint32_t v = g->order[head++];

		ordered[v] = true;
		for (k = g->succ_at[v]; k < g->succ_at[v + 1]; k++)
			if (--indeg[g->succ[k]] == 0)
				g->order[tail++] = g->succ[k];
	}
	if (tail < g->n) {
		report_cycle(g, p, ordered, d);
		rc = ASSAY_EINVAL;
	}
out:
	free(es.e);
	free(indeg);
	free(ordered);
	return rc;
}

void graph_release(graph *g)
{
	free(g->succ_at);
	free(g->succ);
	free(g->pred_at);
	free(g->pred);
	free(g->order);
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
