/* targets.h -- the reports a run writes: each a format from the registry
 * and where it goes, checked before anything runs -- a typo or a directory
 * that cannot be written must not cost a run to find out. */
#ifndef ASSAY_TARGETS_H
#define ASSAY_TARGETS_H

#include <stddef.h>

#include "registry.h"
#include "report.h"

/* Standard output and 16 files. */
#define TARGETS_MAX 17

typedef struct report_target {
	const assay_reporter *reporter;
	const char *path;          /* NULL: standard output */
} report_target;

typedef struct targets {
	report_target t[TARGETS_MAX];
	size_t n;
} targets;

/* Add format written to path (borrowed; NULL: standard output), format
 * being a reporter registered in r.  0, or -1 with why in why: an unknown
 * format (with the formats there are), an empty path, a path
 * report_write() could not write, or one target too many. */
int targets_add(targets *t, const registry *r, const char *format, const char *path,
		char *why, size_t why_size);

/* Write rep to every target, standard output first.  0, or -1 when one
 * could not be written (said on stderr). */
int targets_write(const targets *t, const report *rep);

#endif /* ASSAY_TARGETS_H */
