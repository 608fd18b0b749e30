/* builtin.c -- the host's own plugin, "assay": its reporters, registered
 * as a plugin registers its own. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <stddef.h>

#include "builtin.h"

/* In the order `assay plugins` and the usage text list them. */
static const assay_reporter *const reporters[] = { &report_human, &report_json, &report_csv };

int builtin_init(const assay_host *host, assay_plugin *self)
{
	static const assay_plugin_info info = {
		ASSAY_ABI_VERSION, "assay", PACKAGE_VERSION,
		"the reports assay writes itself", ASSAY_ABI_MINOR,
	};
	size_t i;
	int rc;

	if ((rc = host->declare(self, &info)) < 0)
		return rc;
	for (i = 0; i < sizeof reporters / sizeof *reporters; i++)
		if ((rc = host->register_reporter(self, reporters[i])) < 0)
			return rc;
	return 0;
}
