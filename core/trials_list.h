/* trials_list.h -- what `assay run --dry-run` says of each sweep before
 * its graph: how many trials, from how many points and repeats, and
 * each trial's id with its full parameters. */
#ifndef ASSAY_TRIALS_LIST_H
#define ASSAY_TRIALS_LIST_H

#include <stdbool.h>
#include <stdio.h>

#include "plan.h"

/* Past this many trials of a sweep the listing says how many more
 * there are, unless all is set (-v). */
#define TRIALS_LIST_SHOWN 20

/* Every sweep that expands, with a trial kept (keep: --only's selection,
 * NULL for all), in file order. */
void trials_print(const plan *p, const bool *keep, bool all, FILE *out);

#endif /* ASSAY_TRIALS_LIST_H */
