/* select.h -- `assay run --only`: the nodes named (node ids or group
 * names) and everything they wait for. */
#ifndef ASSAY_SELECT_H
#define ASSAY_SELECT_H

#include <stdbool.h>
#include <stddef.h>

#include "graph.h"
#include "plan.h"

/* Set keep[i] (of p's n_nodes, false on entry) for each node names[] name
 * and what it waits for in g.  0, or -1 with why a name matches nothing
 * (with a "did you mean") in why. */
int select_only(const plan *p, const graph *g, char *const *names, size_t n,
		bool *keep, char *why, size_t why_size);

#endif /* ASSAY_SELECT_H */
