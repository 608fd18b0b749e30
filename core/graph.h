/* graph.h -- the dependency graph of a plan: edges from `after` (node ids
 * or group names) and gates, the cycle report, a topological order and the
 * critical path. */
#ifndef ASSAY_GRAPH_H
#define ASSAY_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "plan.h"
#include "diag.h"

/* Node i of the graph is node i of the plan.  Edges are stored twice, in
 * compressed rows: succ[succ_at[i] .. succ_at[i+1]) are the nodes waiting
 * for i, pred[pred_at[i] .. pred_at[i+1]) the nodes i waits for. */
typedef struct graph {
	size_t n;
	uint32_t *succ_at, *succ;
	uint32_t *pred_at, *pred;
	uint32_t *order;  /* a topological order (dependencies first) */
	uint32_t *mem;    /* all of the above, one bigarray of mem_len */
	size_t mem_len;
} graph;

/* Build the graph of p.  A cycle is reported to d as its path
 * ("a -> b -> c -> a", each waiting for the one before it) and fails
 * the build.  0, ASSAY_EINVAL after a cycle, or ASSAY_ENOMEM.
 * graph_release() in every case. */
int graph_build(graph *g, const plan *p, diag *d);
void graph_release(graph *g);

/* Nodes p's `--only` selection needs: each selected node and, through
 * `after` and gates, everything it waits for.  keep[i] is set for those. */
void graph_closure(const graph *g, bool *keep);

/* The longest path through the nodes with keep[i] (all when keep is NULL)
 * when node i takes seconds[i]; on_path[i] (if not NULL) marks its nodes.
 * Returns its length in seconds. */
double graph_critical_path(const graph *g, const double *seconds,
			   const bool *keep, bool *on_path);

/* `assay graph`: text lists each node (of keep, or all when NULL) with
 * what it waits for, marking gates and the critical path; dot is Graphviz. */
void graph_print_text(const graph *g, const plan *p, const double *seconds,
		      const bool *keep, FILE *out);
void graph_print_dot(const graph *g, const plan *p, const double *seconds,
		     FILE *out);

#endif /* ASSAY_GRAPH_H */
