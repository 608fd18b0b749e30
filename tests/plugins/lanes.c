/* lanes.c -- test-only plugin for ABI 3.1's host side: a `lane`
 * resource of [plugins.lanes] lanes = N devices named "LANE-k" (recorded
 * with task_add_device, the wait described with describe_wait), and a
 * command, `assay lanes [FILE] [--exit N] [ARG]...`, that prints what it
 * was configured with and handed. */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assay/plugin.h"

#define MAX_LANES 8

static const assay_host *host;
static int64_t n_lanes = 1;
static atomic_bool held[MAX_LANES];
static atomic_int n_held;

static int lane_prepare(const assay_value *request, void *data, void **req)
{
	const assay_value *v = host->value_get(request, "lane");
	int64_t n;

	if (v && host->check_int(v, "lane", 1, 1, &n) < 0)
		return ASSAY_EINVAL;
	*req = NULL;
	return 0;
}

/* The first free lane, as a GPU's UUID would be recorded. */
static int lane_try(assay_task *task, void *req, void *data, void **grant, uint32_t *retry_ms)
{
	char id[32];
	int k;

	for (k = 0; k < n_lanes; k++) {
		bool expect = false;

		if (!atomic_compare_exchange_strong(&held[k], &expect, true))
			continue;
		atomic_fetch_add(&n_held, 1);
		*grant = (void *)(intptr_t)(k + 1);
		snprintf(id, sizeof id, "LANE-%d", k);
		return host->task_add_device(task, id);
	}
	return ASSAY_EAGAIN;
}

static void lane_release(void *grant, void *data)
{
	atomic_fetch_sub(&n_held, 1);
	atomic_store(&held[(intptr_t)grant - 1], false);
}

static void lane_describe(void *req, void *data, char *buf, size_t size)
{
	snprintf(buf, size, "a lane: %d of %d held by this run", atomic_load(&n_held),
		 (int)n_lanes);
}

static const assay_resource_type lane_type = {
	.name = "lane",
	.description = "[plugins.lanes] lanes = N devices",
	.prepare = lane_prepare,
	.try_acquire = lane_try,
	.release = lane_release,
	.describe_wait = lane_describe,
};

static int lanes_main(int argc, char **argv, FILE *out, void *data)
{
	int i, status = 0;

	fprintf(out, "%s: %d lane%s; args:", argv[0], (int)n_lanes, n_lanes == 1 ? "" : "s");
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--exit") == 0 && i + 1 < argc) {
			status = atoi(argv[++i]);
			continue;
		}
		if (strcmp(argv[i], "--bad") == 0) {
			fprintf(stderr, "assay: %s: unknown option '--bad'\n", argv[0]);
			return 64;
		}
		fprintf(out, " %s", argv[i]);
	}
	fprintf(out, "\n");
	return status;
}

static const assay_command lanes_command = {
	.name = "lanes",
	.usage = "[FILE] [--exit N] [ARG]...",
	.description = "print the lanes configured and the arguments",
	.main = lanes_main,
};

ASSAY_EXPORT int assay_plugin_init(const assay_host *h, assay_plugin *plugin)
{
	static const assay_plugin_info info = { ASSAY_ABI_VERSION, "lanes", "1.0",
						"lanes and a command, for ABI 3.1's tests",
						ASSAY_ABI_MINOR };
	const assay_value *conf, *v;
	int rc;

	host = h;
	if ((rc = h->declare(plugin, &info)) < 0)
		return rc;
	conf = h->plugin_config(plugin);
	if (conf && (v = h->value_get(conf, "lanes")) &&
	    h->check_int(v, "lanes", 1, MAX_LANES, &n_lanes) < 0)
		return ASSAY_EINVAL;
	if ((rc = h->register_resource_type(plugin, &lane_type)) < 0)
		return rc;
	return h->register_command(plugin, &lanes_command);
}
