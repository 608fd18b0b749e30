/* bench-nodes.c -- benchmark-only plugin for tests/bench/sched: node types
 * `noop` (does nothing) and `spin` (busy-waits `ns` nanoseconds, default
 * 1000, see bench-work.h).  Both finish synchronously with OK: the
 * cheapest nodes a plugin can offer, so that what is measured is the
 * scheduler. */
#include <stdint.h>

#include "assay/plugin.h"
#include "bench-work.h"

static const assay_host *host;

static const char *const spin_options[] = { "ns", NULL };
static const char *const noop_options[] = { NULL };

static int noop_prepare(assay_node *node, const assay_value *opts, void *data, void **state)
{
	*state = NULL;
	return 0;
}

static int noop_run(assay_task *task, void *state, void *data)
{
	host->set_status(task, ASSAY_OK);
	return ASSAY_DONE;
}

/* The state is the duration itself, so a node costs no allocation. */
static int spin_prepare(assay_node *node, const assay_value *opts, void *data, void **state)
{
	const assay_value *v = host->value_get(opts, "ns");
	int64_t ns = 1000;

	if (v && (host->value_int(v, &ns) < 0 || ns < 0 || ns > 1000000000)) {
		host->config_error(v, "`ns` must be an integer from 0 to 1000000000");
		return ASSAY_EINVAL;
	}
	*state = (void *)(intptr_t)ns;
	return 0;
}

static int spin_run(assay_task *task, void *state, void *data)
{
	bench_spin((int64_t)(intptr_t)state);
	host->set_status(task, ASSAY_OK);
	return ASSAY_DONE;
}

/* The state is no allocation: nothing to free. */
static void nothing_to_release(void *state, void *data)
{
}

static const assay_node_type noop_type = {
	.name = "noop",
	.kinds = ASSAY_KIND_CHECK,
	.description = "does nothing, OK (scheduler benchmark)",
	.options = noop_options,
	.prepare = noop_prepare,
	.run = noop_run,
};

static const assay_node_type spin_type = {
	.name = "spin",
	.kinds = ASSAY_KIND_CHECK,
	.description = "busy-waits `ns` nanoseconds (default 1000), OK (scheduler benchmark)",
	.options = spin_options,
	.prepare = spin_prepare,
	.run = spin_run,
	.release = nothing_to_release,
};

__attribute__((visibility("default")))
int assay_plugin_init(const assay_host *h, assay_plugin *plugin)
{
	static const assay_plugin_info info = {
		.abi_version = ASSAY_ABI_VERSION,
		.abi_minor = ASSAY_ABI_MINOR,
		.name = "bench-nodes",
		.version = "1.0",
		.description = "scheduler benchmark nodes: noop, spin",
	};
	int rc;

	host = h;
	if ((rc = h->declare(plugin, &info)) < 0)
		return rc;
	if ((rc = h->register_node_type(plugin, &noop_type)) < 0)
		return rc;
	return h->register_node_type(plugin, &spin_type);
}
