/* searchpath.h -- where plugins are looked for, in order: $ASSAY_PLUGIN_PATH,
 * [plugins] path (relative to the config file), the build tree of a binary
 * run from it, the installed plugin directory. */
#ifndef ASSAY_SEARCHPATH_H
#define ASSAY_SEARCHPATH_H

#include "plan.h"
#include "registry.h"

/* Append those directories to r's search path; p (NULL: no config) gives
 * [plugins] path.  0 or ASSAY_ENOMEM. */
int searchpath_set(registry *r, const plan *p);

#endif /* ASSAY_SEARCHPATH_H */
