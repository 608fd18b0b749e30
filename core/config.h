/* config.h -- configuration file to plan: runner options, plugins to load,
 * nodes, groups and sweeps with their dependencies; all validation of the
 * file happens here.  The plan itself is plan.h's. */
#ifndef ASSAY_CONFIG_H
#define ASSAY_CONFIG_H

#include <stddef.h>

#include "diag.h"
#include "plan.h"

struct registry;

/* Read and check the file at path: TOML, [runner], [plugins], the node
 * tables and their host options (after, timeout, matrix, items, ...).
 * Every error goes to d.  Returns 0 when the plan is complete enough to
 * continue with config_prepare() (d may already hold errors: all of a
 * file's errors are reported together), ASSAY_EINVAL when it is not (the
 * file cannot be read or is not TOML), or ASSAY_ENOMEM.  plan_release()
 * in every case. */
int config_load(plan *p, const char *path, unsigned default_workers, diag *d);

/* config_load() of a document already parsed from the file at path (which
 * names it in errors and is the base of its relative paths).  The plan
 * borrows doc: it must outlive the plan, and plan_release() leaves it. */
int config_load_doc(plan *p, const toml_doc *doc, const char *path,
		    unsigned default_workers, diag *d);

/* With the plugins loaded: resolve each node's type (an unknown one names
 * the plugins that were loaded), reject unknown keys with a suggestion,
 * check `after` references and resources, and run every type's prepare.
 * Returns the number of errors now in d (0: the plan can run). */
size_t config_prepare(plan *p, struct registry *r, diag *d);

#endif /* ASSAY_CONFIG_H */
