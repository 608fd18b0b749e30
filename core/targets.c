/* targets.c -- the reports a run writes, checked before it runs. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "status.h"
#include "targets.h"

int targets_add(targets *t, const registry *r, const char *format, const char *path,
		char *why, size_t why_size)
{
	const reg_entry *e = registry_lookup(r, REG_REPORTER, format);
	char formats[512];

	if (!e) {
		snprintf(why, why_size, "unknown format (formats: %s)",
			 registry_names(r, REG_REPORTER, formats, sizeof formats));
		return -1;
	}
	if (path && !*path) {
		snprintf(why, why_size, "the path is empty");
		return -1;
	}
	if (t->n == TARGETS_MAX) {
		snprintf(why, why_size, "too many reports (at most %d)", TARGETS_MAX);
		return -1;
	}
	if (path && report_check_target(path, why, why_size) < 0)
		return -1;
	t->t[t->n].reporter = e->u.reporter;
	t->t[t->n++].path = path;
	return 0;
}

int targets_write(const targets *t, const report *rep)
{
	size_t i;
	int failed = 0;

	for (i = 0; i < t->n; i++) {
		const char *path = t->t[i].path;
		int rc = report_write(t->t[i].reporter, rep, path ? path : "-");

		if (rc == 0)
			continue;
		/* report_write() speaks of files only */
		if (!path)
			fprintf(stderr, "assay: cannot write the %s report to standard output: %s\n",
				t->t[i].reporter->name,
				rc == ASSAY_ESYS ? strerror(errno) : status_strerror(rc));
		failed = -1;
	}
	return failed;
}
