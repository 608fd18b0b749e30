/* exec.c -- the exec plugin: the node type `exec`, a command in its own process group, read the monitoring-plugins way.
 *
 * The work is in libexec-common (exec_common.h), which another plugin
 * that runs commands links too: the options (exec_config.c), the child
 * (exec_spawn.c), and what its output says (exec_output.c,
 * exec_perfdata.c).  What is here is what any node type has: prepare,
 * run, cancel, release, and the init that registers them. */
#include <stdlib.h>

#include "assay/plugin.h"
#include "exec_common.h"

static const char *const exec_options[] = { EXEC_OPTION_KEYS, NULL };

/* The type struct lives here rather than in static storage so that every
 * callback finds the host table through `data`, with no global. */
typedef struct exec_plugin {
	assay_node_type type;
	exec_ctx ctx;
} exec_plugin;

/* Main thread, once per node: every option checked now, so that a bad
 * one is an error at its position before anything runs. */
static int exec_prepare(assay_node *node, const assay_value *opts, void *data, void **state)
{
	exec_plugin *pl = data;
	exec_node *n = NULL;
	int rc = exec_node_prepare(&pl->ctx, node, opts, &n);

	*state = n;
	return rc;
}

/* A pool thread, or the reactor's (ASSAY_TYPE_QUICK_RUN): spawn and
 * return; the reactor reaps the child and reads its output. */
static int exec_run_task(assay_task *task, void *state, void *data)
{
	exec_plugin *pl = data;

	return exec_spawn_start(&pl->ctx, state, task, exec_output_report);
}

static void exec_cancel(assay_task *task, void *state, void *data)
{
	exec_plugin *pl = data;

	(void)state;
	exec_spawn_cancel(&pl->ctx, task);
}

static void exec_release(void *state, void *data)
{
	(void)data;
	exec_node_free(state);
}

static void exec_plugin_free(void *data)
{
	exec_plugin *pl = data;

	if (!pl)
		return;
	exec_ctx_release(&pl->ctx);
	free(pl);
}

ASSAY_EXPORT int assay_plugin_init(const assay_host *host, assay_plugin *plugin)
{
	static const assay_plugin_info info = {
		.abi_version = ASSAY_ABI_VERSION,
		.abi_minor = ASSAY_ABI_MINOR,
		.name = "exec",
		.version = "1.0.0",
		.description =
			"runs a command: argv or /bin/sh, own process group, monitoring-plugins output",
	};
	int rc = host->declare(plugin, &info);

	if (rc < 0)
		return rc;
	exec_plugin *pl = calloc(1, sizeof *pl);
	if (!pl || exec_ctx_init(&pl->ctx, host) < 0) {
		host->plugin_log(plugin, ASSAY_LOG_ERROR, "cannot initialise: out of memory");
		exec_plugin_free(pl);
		return ASSAY_ENOMEM;
	}
	if (exec_ctx_read_config(&pl->ctx, host->plugin_config(plugin), "[plugins.exec]") > 0) {
		exec_plugin_free(pl);
		return ASSAY_EINVAL;
	}
	pl->type = (assay_node_type){
		.name = "exec",
		.kinds = ASSAY_KIND_CHECK | ASSAY_KIND_TRIAL | ASSAY_KIND_VALIDATION,
		.description =
			"run a command: exit 0 is OK (or 0..3 as the monitoring-plugins), `text | perfdata`",
		.options = exec_options,
		.prepare = exec_prepare,
		.run = exec_run_task,
		.cancel = exec_cancel,
		.release = exec_release,
		.data = pl,
		/* Frees the type struct too: the host's last use of it. */
		.free_data = exec_plugin_free,
		/* run() sets up pipes, spawns and returns: a chain of commands
		 * goes from one child's exit to the next child's start on the
		 * reactor thread, as make does, with no thread to wake. */
		.flags = ASSAY_TYPE_QUICK_RUN,
	};
	rc = host->register_node_type(plugin, &pl->type);
	if (rc < 0) {
		host->plugin_log(plugin, ASSAY_LOG_ERROR, "cannot register node type `exec`: %s",
				 host->strerror(rc));
		exec_plugin_free(pl);
		return rc;
	}
	return 0;
}
