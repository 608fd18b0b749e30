/* searchpath.c -- where plugins are looked for: the environment, the
 * config file, the build tree, the installed plugin directory. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "searchpath.h"
#include "value.h"

#ifndef PLUGINDIR
#define PLUGINDIR "/usr/local/lib/assay"
#endif

/* A binary run from its build tree (where configure left config.status)
 * finds the plugins built beside it, so ./assay works before make install.
 * An installed binary never matches: bindir has no config.status. */
static int searchpath_add_build_tree(registry *r)
{
	char exe[PATH_MAX], probe[PATH_MAX + 32], *slash;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	size_t len;

	if (n <= 0)
		return 0;
	exe[n] = '\0';
	if (!(slash = strrchr(exe, '/')))
		return 0;
	*slash = '\0';
	len = strlen(exe);
	if (len >= 6 && strcmp(exe + len - 6, "/.libs") == 0)
		exe[len - 6] = '\0'; /* libtool's wrapper runs .libs/lt-assay */
	snprintf(probe, sizeof probe, "%s/config.status", exe);
	if (access(probe, F_OK) != 0)
		return 0;
	snprintf(probe, sizeof probe, "%s/plugins/.libs", exe);
	return registry_add_dirs(r, probe);
}

/* [plugins] path: one directory or an array of them, each relative to the
 * config file like every path in it. */
static int searchpath_add_config(registry *r, const assay_value *path)
{
	bool one = value_type(path) == ASSAY_VALUE_STRING;
	size_t i, n = one ? 1 : value_len(path);
	int rc = 0;

	for (i = 0; i < n && rc == 0; i++) {
		const assay_value *v = one ? path : value_at(path, i, NULL);
		char *full = value_path(v, value_string(v));

		if (!full)
			return ASSAY_ENOMEM;
		rc = registry_add_dirs(r, full);
		free(full);
	}
	return rc;
}

int searchpath_set(registry *r, const plan *p)
{
	const char *env = getenv("ASSAY_PLUGIN_PATH");
	int rc = 0;

	if (env)
		rc = registry_add_dirs(r, env);
	if (rc == 0 && p && p->plugin_path)
		rc = searchpath_add_config(r, p->plugin_path);
	if (rc == 0)
		rc = searchpath_add_build_tree(r);
	if (rc == 0)
		rc = registry_add_dirs(r, PLUGINDIR);
	return rc;
}
