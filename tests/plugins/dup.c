/* dup.c -- test-only plugin registering a node type named like good's. */
#include "assay/plugin.h"

static int dup_prepare(assay_node *n, const assay_value *o, void *d, void **s)
{
	return 0;
}

static int dup_run(assay_task *t, void *s, void *d)
{
	return ASSAY_DONE;
}

static const assay_node_type dup_type = {
	.name = "good",
	.kinds = ASSAY_KIND_CHECK,
	.prepare = dup_prepare,
	.run = dup_run,
};

ASSAY_EXPORT int assay_plugin_init(const assay_host *h, assay_plugin *plugin)
{
	static const assay_plugin_info info = { ASSAY_ABI_VERSION, "dup", "0.1",
						"clashes with good", ASSAY_ABI_MINOR };
	int rc;

	if ((rc = h->declare(plugin, &info)) < 0)
		return rc;
	return h->register_node_type(plugin, &dup_type);
}
