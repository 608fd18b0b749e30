/* good.c -- test-only plugin: a node type, a resource type and a reporter,
 * each doing the least that shows the host drove it correctly. */
#include <stdlib.h>
#include <string.h>

#include "assay/plugin.h"

static const assay_host *host;

/* `value` is required and must be an integer from 0 to 3: the status the
 * node reports.  Enough to test that prepare's errors reach the config. */
static int good_prepare(assay_node *node, const assay_value *opts, void *data, void **state)
{
	const assay_value *v = host->value_get(opts, "value");
	int64_t n;
	int *s;

	if (!v) {
		host->config_error(opts, "`%s` needs `value`", host->node_id(node));
		return ASSAY_EINVAL;
	}
	if (host->check_int(v, NULL, 0, 3, &n) < 0)
		return ASSAY_EINVAL;
	if (!(s = malloc(sizeof *s)))
		return ASSAY_ENOMEM;
	*s = (int)n;
	*state = s;
	return 0;
}

static int good_run(assay_task *task, void *state, void *data)
{
	int value = *(int *)state;

	host->set_status(task, (assay_status)value);
	host->set_message(task, "value %d", value);
	return ASSAY_DONE;
}

static void good_release(void *state, void *data)
{
	free(state);
}

static const char *const good_options[] = { "value", NULL };

static const assay_node_type good_type = {
	.name = "good",
	.kinds = ASSAY_KIND_CHECK | ASSAY_KIND_TRIAL,
	.description = "reports the status in `value`",
	.options = good_options,
	.prepare = good_prepare,
	.run = good_run,
	.release = good_release,
};

/* `slot` resources: at most 2 here, so a request for 3 can never run. */
static int slot_prepare(const assay_value *request, void *data, void **req)
{
	const assay_value *v = host->value_get(request, "slot");
	int64_t n = 0;

	if (v && host->check_int(v, NULL, 0, INT64_MAX, &n) < 0)
		return ASSAY_EINVAL;
	if (n > 2) {
		host->config_error(v, "%lld slots requested, this machine has 2", (long long)n);
		return ASSAY_ENEVER;
	}
	*req = NULL;
	return 0;
}

static int slot_try_acquire(assay_task *task, void *req, void *data, void **grant,
			    uint32_t *retry_ms)
{
	*grant = NULL;
	return 0;
}

static void slot_release(void *grant, void *data)
{
}

static const assay_resource_type slot_type = {
	.name = "slot",
	.description = "two interchangeable slots",
	.prepare = slot_prepare,
	.try_acquire = slot_try_acquire,
	.release = slot_release,
};

static int count_write(FILE *out, const assay_report *report, void *data)
{
	return fprintf(out, "%zu\n", report->n_results) < 0 ? ASSAY_ESYS : 0;
}

static const assay_reporter count_reporter = {
	.name = "count",
	.description = "prints the number of nodes",
	.write = count_write,
};

ASSAY_EXPORT int assay_plugin_init(const assay_host *h, assay_plugin *plugin)
{
	static const assay_plugin_info info = {
		ASSAY_ABI_VERSION, "good", "1.2.3", "test plugin that behaves", ASSAY_ABI_MINOR,
	};
	int rc;

	host = h;
	if ((rc = h->declare(plugin, &info)) < 0)
		return rc;
	if ((rc = h->register_node_type(plugin, &good_type)) < 0 ||
	    (rc = h->register_resource_type(plugin, &slot_type)) < 0 ||
	    (rc = h->register_reporter(plugin, &count_reporter)) < 0)
		return rc;
	return 0;
}
