/* minor.c -- test-only plugin built for a later minor of this ABI: the
 * host must refuse it, naming both versions, since it may use what that
 * minor added. */
#include "assay/plugin.h"

ASSAY_EXPORT int assay_plugin_init(const assay_host *h, assay_plugin *plugin)
{
	static const assay_plugin_info info = { ASSAY_ABI_VERSION, "minor", "1.0",
						"from the next minor", ASSAY_ABI_MINOR + 1 };

	return h->declare(plugin, &info);
}
