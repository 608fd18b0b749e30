/* summary.h -- what `assay check-config` prints of a file that is good:
 * its runner options, plugins, nodes by kind, gates, skips and groups. */
#ifndef ASSAY_SUMMARY_H
#define ASSAY_SUMMARY_H

#include <stdio.h>

#include "plan.h"
#include "registry.h"

/* p prepared with the plugins of r. */
void summary_print(const plan *p, const registry *r, FILE *out);

#endif /* ASSAY_SUMMARY_H */
