/* select.c -- `assay run --only`: the nodes named and what they need. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <stdio.h>
#include <stdlib.h>

#include "select.h"
#include "suggest.h"

/* Why name is neither a node nor a group with nodes, into why. */
static void select_unknown(const plan *p, const char *name, char *why, size_t why_size)
{
	size_t n_names;
	const char **known = plan_names(p, &n_names);
	const char *hint = known ? suggest_word(name, known, n_names) : NULL;

	snprintf(why, why_size, "--only %s: no such node or group%s%s%s", name,
		 hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
	free(known);
}

int select_only(const plan *p, const graph *g, char *const *names, size_t n,
		bool *keep, char *why, size_t why_size)
{
	size_t i;
	uint32_t k;

	for (i = 0; i < n; i++) {
		uint32_t ref = plan_find(p, names[i]);
		plan_span s = { NULL, 0, 0 };

		if (ref != PLAN_NONE) {
			s = plan_span_of(p, ref);
			for (k = 0; k < s.n; k++)
				keep[plan_span_at(&s, k)] = true;
		}
		if (ref == PLAN_NONE || s.n == 0) {
			select_unknown(p, names[i], why, why_size);
			return -1;
		}
	}
	graph_closure(g, keep);
	return 0;
}
