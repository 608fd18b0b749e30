/* abi2.c -- test-only plugin built for a future ABI: the host must refuse
 * it by name, naming both versions. */
#include "assay/plugin.h"

ASSAY_EXPORT int assay_plugin_init(const assay_host *h, assay_plugin *plugin)
{
	static const assay_plugin_info info = { ASSAY_ABI_VERSION + 1, "abi2", "2.0.0",
						"from the future", 0 };

	return h->declare(plugin, &info);
}
