/* gpu_plugin.c -- the gpu plugin's entry point: [plugins.gpu] read, the NVML
 * reader started, the resource type `gpu` and the command `assay gpus`
 * registered.
 *
 *     [plugins.gpu]
 *     nvml_library = "/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1"  # default: the soname
 *     lock_dir = "/run/lock/assay"   # one per machine: every user's assay locks here
 *     foreign = "busy"               # other users' compute processes: busy | count | ignore
 *     nvml_timeout = "10s"           # an NVML reading that takes longer has hung
 *     nvml_interval = "100ms"        # NVML read at most this often (after releases)
 *     retry_interval = "250ms"       # asking again for a device another process holds
 *
 * A machine without NVML still loads the plugin: `assay plugins` lists
 * it, check-config passes, and at run time the nodes that ask for a GPU
 * end UNKNOWN, "no GPU here: ...".  NVML is read by a helper process,
 * started by the first node that asks for a GPU (or `assay gpus`), not by
 * loading the plugin. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gpu.h"

static const char *const gpu_plugin_keys[] = { "nvml_library", "lock_dir", "foreign",
					       "nvml_timeout", "nvml_interval", "retry_interval",
					       NULL };
static const char *const gpu_foreign_choices[] = { "busy", "count", "ignore", NULL };

/* A path option: relative to the config file's directory.  *out malloc'd. */
static int read_path(gpu_plugin *pl, const assay_value *v, const char *what, char **out)
{
	const assay_host *h = pl->host;
	const char *s = h->value_string(v);

	if (!s || !*s) {
		h->config_error(v, "`%s` must be a path, not %s", what,
				s ? "an empty string" : h->value_type_name(v));
		return 1;
	}
	free(*out);
	if (!(*out = h->config_path(v, s))) {
		h->config_error(v, "`%s`: out of memory", what);
		return 1;
	}
	return 0;
}

/* nvml_library: a library we will load gets the plugin loader's checks.
 * A missing one is no error: it is "no GPU here" at run time, as a
 * machine without the driver. */
static int read_library(gpu_plugin *pl, const assay_value *v)
{
	const assay_host *h = pl->host;
	const char *why;

	if (read_path(pl, v, "nvml_library", &pl->nvml_library))
		return 1;
	if (access(pl->nvml_library, F_OK) == 0 && h->check_file &&
	    (why = h->check_file(pl->nvml_library))) {
		h->config_error(v, "`nvml_library` %s: %s", pl->nvml_library, why);
		return 1;
	}
	return 0;
}

/* One [plugins.gpu] entry.  Returns 1 after reporting an error. */
static int read_option(gpu_plugin *pl, const char *key, const assay_value *v, char **lock_dir)
{
	const assay_host *h = pl->host;
	int64_t ms;
	int c;

	if (strcmp(key, "nvml_library") == 0)
		return read_library(pl, v);
	if (strcmp(key, "lock_dir") == 0)
		return read_path(pl, v, "lock_dir", lock_dir);
	if (strcmp(key, "foreign") == 0) {
		if ((c = h->check_choice(v, NULL, gpu_foreign_choices)) < 0)
			return 1;
		pl->foreign = (gpu_foreign)c;
		return 0;
	}
	if (strcmp(key, "nvml_timeout") == 0) {
		if (h->check_duration(v, NULL, 100, 600000, &ms) < 0)
			return 1;
		pl->nvml_timeout_ms = ms;
		return 0;
	}
	if (strcmp(key, "nvml_interval") == 0) {
		if (h->check_duration(v, NULL, 1, 60000, &ms) < 0)
			return 1;
		pl->nvml_interval_ms = ms;
		return 0;
	}
	if (h->check_duration(v, NULL, 1, 60000, &ms) < 0)
		return 1;
	pl->retry_ms = (uint32_t)ms;
	return 0;
}

/* [plugins.gpu].  Returns the number of errors reported. */
static int read_config(gpu_plugin *pl, char **lock_dir)
{
	const assay_host *h = pl->host;
	const assay_value *cfg = h->plugin_config(pl->plugin);
	int errors = 0;

	for (size_t i = 0; cfg && i < h->value_len(cfg); i++) {
		const char *key = NULL;
		const assay_value *v = h->value_at(cfg, i, &key);

		if (h->check_key(v, "[plugins.gpu]", gpu_plugin_keys) < 0)
			errors++;
		else
			errors += read_option(pl, key, v, lock_dir);
	}
	return errors;
}

/* ASSAY_GPU_STATS=1: what the grants cost, for tests/bench/gpu: wall time
 * inside the plugin (preemption included) and CPU time, per grant. */
static void print_stats(const gpu_plugin *pl)
{
	uint64_t grants = atomic_load(&pl->stats.grants);
	uint64_t acq = atomic_load(&pl->stats.acquire_ns), rel = atomic_load(&pl->stats.release_ns);
	uint64_t cpu = atomic_load(&pl->stats.acquire_cpu_ns) + atomic_load(&pl->stats.release_cpu_ns);
	double per = grants ? 1000.0 * (double)grants : 1.0;

	fprintf(stderr,
		"assay-gpu-stats: grants=%llu tries=%llu refused=%llu acquire_ns=%llu release_ns=%llu cpu_ns=%llu readings_asked=%llu per_grant_us=%.3f per_grant_cpu_us=%.3f\n",
		(unsigned long long)grants, (unsigned long long)atomic_load(&pl->stats.tries),
		(unsigned long long)atomic_load(&pl->stats.refused), (unsigned long long)acq,
		(unsigned long long)rel, (unsigned long long)cpu,
		(unsigned long long)atomic_load(&pl->stats.rounds), (double)(acq + rel) / per,
		(double)cpu / per);
}

/* The resource type's free_data: the last use of everything. */
static void gpu_plugin_free(void *data)
{
	gpu_plugin *pl = data;

	if (!pl)
		return;
	if (pl->stats_on)
		print_stats(pl);
	if (pl->nvml)
		gpu_nvml_free(pl->nvml);
	gpu_leases_free(pl->leases);
	free(pl->nvml_library);
	free(pl);
}

/* The NVML reader; when it cannot start, the nodes will say why. */
void gpu_nvml_ensure(gpu_plugin *pl)
{
	int rc;

	if (pl->nvml_started)
		return;
	pl->nvml_started = true;
	pl->nvml_why = "NVML was not read"; /* replaced below or by the reader's answer */
	rc = gpu_nvml_start(pl->nvml_library, pl->nvml_timeout_ms, &pl->nvml);
	if (rc < 0) {
		pl->nvml = NULL;
		pl->nvml_why = "the NVML reader could not be started";
		pl->host->plugin_log(pl->plugin, ASSAY_LOG_WARNING, "cannot start the NVML reader: %s",
				     pl->host->strerror(rc));
	}
}

/* `assay gpus`, registered apart from the state the resource type frees. */
static int register_command(gpu_plugin *pl)
{
	const assay_host *h = pl->host;
	gpu_command_reg *reg = calloc(1, sizeof *reg);
	int rc;

	if (!reg)
		return ASSAY_ENOMEM;
	reg->pl = pl; /* valid while the plugin is loaded: main runs only then */
	reg->command = (assay_command){
		.name = "gpus",
		.usage = "[FILE] [--format human|json]",
		.description = "the GPUs a run may use: memory, utilisation, score, processes, leases",
		.main = gpu_command_main,
		.data = reg,
		.free_data = free, /* the struct too: the host's last use of it */
	};
	if ((rc = h->register_command(pl->plugin, &reg->command)) < 0) {
		h->plugin_log(pl->plugin, ASSAY_LOG_ERROR, "cannot register command `gpus`: %s",
			      h->strerror(rc));
		free(reg);
	}
	return rc;
}

static int register_all(gpu_plugin *pl)
{
	const assay_host *h = pl->host;
	int rc;

	pl->type = (assay_resource_type){
		.name = "gpu",
		.description = "NVIDIA GPUs chosen by free memory and utilisation, leased per device across processes",
		.prepare = gpu_prepare,
		.try_acquire = gpu_try_acquire,
		.release = gpu_release,
		.release_request = gpu_release_request,
		.describe_wait = gpu_describe_wait,
		.data = pl,
		.free_data = gpu_plugin_free, /* frees the type struct too */
	};
	if ((rc = h->register_resource_type(pl->plugin, &pl->type)) < 0) {
		h->plugin_log(pl->plugin, ASSAY_LOG_ERROR, "cannot register resource type `gpu`: %s",
			      h->strerror(rc));
		gpu_plugin_free(pl);
		return rc;
	}
	/* From here the host frees pl when it unregisters the type. */
	return register_command(pl);
}

ASSAY_EXPORT
int assay_plugin_init(const assay_host *host, assay_plugin *plugin)
{
	static const assay_plugin_info info = {
		.abi_version = ASSAY_ABI_VERSION,
		.abi_minor = 1, /* describe_wait, register_command, task_add_device */
		.name = "gpu",
		.version = "1.0.0",
		.description = "resource type `gpu`: NVML-scored devices, leases across processes, memory packing, MIG; `assay gpus`",
	};
	char *lock_dir = NULL;
	const char *stats = getenv("ASSAY_GPU_STATS");
	gpu_plugin *pl;
	int rc = host->declare(plugin, &info);

	if (rc < 0)
		return rc;
	if (!(pl = calloc(1, sizeof *pl))) {
		host->plugin_log(plugin, ASSAY_LOG_ERROR, "cannot initialise: out of memory");
		return ASSAY_ENOMEM;
	}
	pl->host = host;
	pl->plugin = plugin;
	pl->nvml_timeout_ms = 10000;
	pl->retry_ms = 250;
	pl->nvml_interval_ms = 100;
	pl->foreign = GPU_FOREIGN_BUSY;
	pl->stats_on = stats && *stats && strcmp(stats, "0") != 0;
	gpu_env_read(&pl->env);
	if (read_config(pl, &lock_dir) > 0 ||
	    !(pl->leases = gpu_leases_new(lock_dir ? lock_dir : GPU_LOCK_DIR_DEFAULT))) {
		free(lock_dir);
		gpu_plugin_free(pl);
		return ASSAY_EINVAL;
	}
	free(lock_dir);
	return register_all(pl);
}
