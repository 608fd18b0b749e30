/* gpu_command.c -- `assay gpus [FILE] [--format human|json]`: the devices a
 * run would choose from, as gpustat shows them, with their score and who
 * holds their lease -- what an operator asks when a node waits.
 *
 * Exit 0; 3 (UNKNOWN, as a check that cannot tell) when NVML cannot be
 * read, with the reason on stderr; 64 on a bad option. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu.h"

#define GPUS_USAGE "usage: assay gpus [FILE] [--format human|json]\n"

/* Parses argv: 0 with *json set, 1 after --help, or 64. */
static int parse_args(int argc, char **argv, FILE *out, bool *json)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *fmt = NULL;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			fputs(GPUS_USAGE
			      "Lists the GPUs a run may use (CUDA_VISIBLE_DEVICES, or Slurm's\n"
			      "allocation): memory, utilisation, score, compute processes, and who\n"
			      "holds each lease.  FILE supplies [plugins.gpu]; see assay.toml(5).\n",
			      out);
			return 1;
		}
		if (strcmp(a, "--format") == 0 && i + 1 < argc)
			fmt = argv[++i];
		else if (strncmp(a, "--format=", 9) == 0)
			fmt = a + 9;
		else {
			fprintf(stderr, "assay gpus: unknown argument `%s`\n" GPUS_USAGE, a);
			return 64;
		}
		if (strcmp(fmt, "json") == 0 || strcmp(fmt, "human") == 0) {
			*json = strcmp(fmt, "json") == 0;
		} else {
			fprintf(stderr, "assay gpus: unknown format `%s`: human or json\n", fmt);
			return 64;
		}
	}
	return 0;
}

/* "free", "this process", "pid 4242 (host=... node=... since=...)", ... */
static void lease_text(const gpu_holders *h, char *buf, size_t size)
{
	if (h->here)
		snprintf(buf, size, "leased by this process");
	else if (h->elsewhere_pid || h->holder[0])
		snprintf(buf, size, "leased: %s", h->holder[0] ? h->holder : "by another process");
	else if (h->bookings)
		snprintf(buf, size, "shared: %llu MB booked by %u node%s",
			 (unsigned long long)h->booked_mb, h->bookings, h->bookings == 1 ? "" : "s");
	else
		snprintf(buf, size, "free");
}

static void print_human(FILE *out, const gpu_device *d, const gpu_holders *h)
{
	char idx[24], util[16], lease[200];

	if (d->parent[0])
		snprintf(idx, sizeof idx, "%u:%u", d->index, d->mig_index);
	else
		snprintf(idx, sizeof idx, "%u", d->index);
	if (d->utilization < 0)
		snprintf(util, sizeof util, "-");
	else
		snprintf(util, sizeof util, "%d %%", d->utilization);
	lease_text(h, lease, sizeof lease);
	if (d->error) {
		fprintf(out, "[%s] %s  %s  unreadable (%s): never chosen\n", idx,
			d->uuid[0] ? d->uuid : "(no UUID)", d->name, gpu_nvml_strerror(d->error));
		return;
	}
	fprintf(out, "[%s] %s  %s  %s  %llu / %llu MB  score %.3f  %u process%s  %s\n", idx,
		d->uuid, d->name, util, (unsigned long long)(d->memory_used / GPU_MB),
		(unsigned long long)(d->memory_total / GPU_MB), gpu_score(d, d->memory_free),
		d->processes, d->processes == 1 ? "" : "es", lease);
}

static cJSON *device_json(const gpu_device *d, const gpu_holders *h)
{
	cJSON *o = cJSON_CreateObject(), *l = cJSON_CreateObject();
	char lease[200];

	cJSON_AddNumberToObject(o, "index", d->index);
	if (d->parent[0]) {
		cJSON_AddNumberToObject(o, "mig_index", d->mig_index);
		cJSON_AddStringToObject(o, "parent", d->parent);
	}
	cJSON_AddStringToObject(o, "uuid", d->uuid);
	cJSON_AddStringToObject(o, "name", d->name);
	cJSON_AddStringToObject(o, "pci_bus_id", d->pci_bus_id);
	cJSON_AddNumberToObject(o, "memory_total_mb", (double)(d->memory_total / GPU_MB));
	cJSON_AddNumberToObject(o, "memory_used_mb", (double)(d->memory_used / GPU_MB));
	cJSON_AddNumberToObject(o, "memory_free_mb", (double)(d->memory_free / GPU_MB));
	if (d->utilization < 0)
		cJSON_AddNullToObject(o, "utilization");
	else
		cJSON_AddNumberToObject(o, "utilization", d->utilization);
	cJSON_AddNumberToObject(o, "processes", d->processes);
	if (d->error)
		cJSON_AddStringToObject(o, "nvml_error", gpu_nvml_strerror(d->error));
	else
		cJSON_AddNumberToObject(o, "score", gpu_score(d, d->memory_free));
	lease_text(h, lease, sizeof lease);
	cJSON_AddStringToObject(l, "state", h->here || h->elsewhere_pid || h->holder[0] ? "leased"
					    : h->bookings			       ? "shared"
											       : "free");
	if (h->elsewhere_pid)
		cJSON_AddNumberToObject(l, "pid", h->elsewhere_pid);
	cJSON_AddNumberToObject(l, "bookings", h->bookings);
	cJSON_AddNumberToObject(l, "booked_mb", (double)h->booked_mb);
	cJSON_AddStringToObject(l, "text", lease);
	cJSON_AddItemToObject(o, "lease", l);
	return o;
}

/* Prints the candidates of snap. */
static int print_devices(gpu_plugin *pl, const gpu_snapshot *snap, FILE *out, bool json)
{
	bool *allowed = calloc(snap->n + 1, sizeof *allowed);
	const char *cut = NULL;
	gpu_visible_source src;
	cJSON *root = NULL, *arr = NULL;

	if (!allowed)
		return 3;
	src = gpu_visible_select(&pl->env, snap->devices, snap->n, allowed, &cut);
	if (json) {
		root = cJSON_CreateObject();
		cJSON_AddStringToObject(root, "visible_from", *gpu_visible_source_name(src)
								      ? gpu_visible_source_name(src)
								      : "all");
		cJSON_AddStringToObject(root, "lock_dir", gpu_leases_dir(pl->leases));
		cJSON_AddNumberToObject(root, "skipped", (double)snap->skipped);
		arr = cJSON_AddArrayToObject(root, "devices");
	} else if (src != GPU_VISIBLE_ALL) {
		fprintf(out, "devices allowed by %s%s%s%s\n", gpu_visible_source_name(src),
			cut ? " (cut at `" : "", cut ? cut : "", cut ? "`)" : "");
	}
	for (size_t i = 0; i < snap->n; i++) {
		gpu_holders h;

		if (!allowed[i])
			continue;
		gpu_lease_holders(pl->leases, snap->devices[i].uuid, true, &h);
		if (json)
			cJSON_AddItemToArray(arr, device_json(&snap->devices[i], &h));
		else
			print_human(out, &snap->devices[i], &h);
	}
	if (json) {
		char *s = cJSON_Print(root);

		fprintf(out, "%s\n", s ? s : "{}");
		free(s);
		cJSON_Delete(root);
	} else if (snap->skipped) {
		fprintf(out, "%zu device%s NVML would not let this user read (NO_PERMISSION)\n",
			snap->skipped, snap->skipped == 1 ? "" : "s");
	}
	free(allowed);
	return 0;
}

/* The command's main (main thread). */
int gpu_command_main(int argc, char **argv, FILE *out, void *data)
{
	gpu_plugin *pl = ((gpu_command_reg *)data)->pl;
	const gpu_snapshot *snap = NULL;
	const char *why;
	bool json = false;
	int rc = parse_args(argc, argv, out, &json);

	if (rc)
		return rc == 1 ? 0 : rc;
	gpu_nvml_ensure(pl);
	why = pl->nvml_why;
	if (!pl->nvml || gpu_nvml_wait(pl->nvml, &snap, &why) != GPU_NVML_OK || !snap) {
		if (snap)
			gpu_snapshot_put(snap);
		fprintf(stderr, "assay gpus: no GPU here: %s\n", why ? why : "NVML cannot be read");
		return 3;
	}
	rc = print_devices(pl, snap, out, json);
	gpu_snapshot_put(snap);
	return rc;
}
