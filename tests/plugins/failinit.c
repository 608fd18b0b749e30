/* failinit.c -- test-only plugin whose init fails after registering a type:
 * the host must unregister it and call its free_data. */
#include <stdio.h>
#include <stdlib.h>

#include "assay/plugin.h"

static int fail_prepare(assay_node *n, const assay_value *o, void *d, void **s)
{
	return 0;
}

static int fail_run(assay_task *t, void *s, void *d)
{
	return ASSAY_DONE;
}

/* Leaves a mark the test can see, so the free_data call is observable. */
static void fail_free(void *data)
{
	FILE *f = fopen(data, "w");

	if (f)
		fclose(f);
	free(data);
}

static assay_node_type fail_type = {
	.name = "doomed",
	.kinds = ASSAY_KIND_CHECK,
	.prepare = fail_prepare,
	.run = fail_run,
	.free_data = fail_free,
};

ASSAY_EXPORT int assay_plugin_init(const assay_host *h, assay_plugin *plugin)
{
	static const assay_plugin_info info = { ASSAY_ABI_VERSION, "failinit", "0.1",
						"fails to start", ASSAY_ABI_MINOR };
	const char *mark = getenv("FAILINIT_MARK");
	int rc;

	if ((rc = h->declare(plugin, &info)) < 0)
		return rc;
	fail_type.data = mark ? realloc(NULL, 4096) : NULL;
	if (fail_type.data)
		snprintf(fail_type.data, 4096, "%s", mark);
	if ((rc = h->register_node_type(plugin, &fail_type)) < 0)
		return rc;
	h->plugin_log(plugin, ASSAY_LOG_ERROR, "cannot reach the license server");
	return ASSAY_ESYS;
}
