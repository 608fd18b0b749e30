/* gpu_visible.c -- which devices the runner may hand out: its own
 * CUDA_VISIBLE_DEVICES read as CUDA reads it, or, inside a Slurm
 * allocation, the GPUs Slurm allocated.
 *
 * Why Slurm's lists win over CUDA_VISIBLE_DEVICES: under ConstrainDevices
 * (cgroup), Slurm sets CUDA_VISIBLE_DEVICES to local indices 0..k-1, which
 * count only the devices the job may open -- they name nothing in NVML's
 * enumeration of the node, where the allocated GPUs keep their own indices
 * (the others answer NO_PERMISSION or are absent).  SLURM_STEP_GPUS and
 * SLURM_JOB_GPUS hold the node's GPU indices, NVML order (gres.conf's
 * AutoDetect=nvml sorts them by PCI bus id), so they name the same devices
 * with or without the cgroup.  A step's list wins over its job's: a step
 * may have been given a subset.  assay then hands its children UUIDs,
 * which CUDA resolves whatever the indexing.
 *
 * Indices, here and in CUDA_VISIBLE_DEVICES, are NVML's, i.e. PCI bus
 * order: what CUDA enumerates with CUDA_DEVICE_ORDER=PCI_BUS_ID (its
 * default, FASTEST_FIRST, can differ; assay sets PCI_BUS_ID for its
 * children).  Keyed on UUID from here on. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gpu.h"

void gpu_env_read(gpu_env *env)
{
	env->cuda_visible = getenv("CUDA_VISIBLE_DEVICES");
	env->slurm_step_gpus = getenv("SLURM_STEP_GPUS");
	env->slurm_job_gpus = getenv("SLURM_JOB_GPUS");
}

const char *gpu_visible_source_name(gpu_visible_source s)
{
	switch (s) {
	case GPU_VISIBLE_CUDA:
		return "CUDA_VISIBLE_DEVICES";
	case GPU_VISIBLE_SLURM_STEP:
		return "SLURM_STEP_GPUS";
	case GPU_VISIBLE_SLURM_JOB:
		return "SLURM_JOB_GPUS";
	default:
		return "";
	}
}

static bool is_gpu(const gpu_device *d)
{
	return d->parent[0] == '\0';
}

/* Allows d: a GPU in MIG mode stands for its units (which follow it). */
static void allow(const gpu_device *devs, size_t n, size_t i, bool *allowed)
{
	if (!is_gpu(&devs[i]) || !devs[i].mig_enabled) {
		allowed[i] = true;
		return;
	}
	for (size_t j = i + 1; j < n && !is_gpu(&devs[j]); j++)
		allowed[j] = true;
}

/* A decimal index, the whole of [s, s+len).  -1 when it is not one. */
static long parse_index(const char *s, size_t len)
{
	long v = 0;

	if (len == 0 || len > 6)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* The device whose UUID starts with [s, s+len) (case aside), among GPUs
 * (want_gpu) or MIG units: its index, -1 for none, -2 for several. */
static long match_prefix(const gpu_device *devs, size_t n, const char *s, size_t len,
			 bool want_gpu)
{
	long found = -1;

	for (size_t i = 0; i < n; i++) {
		if (is_gpu(&devs[i]) != want_gpu || strlen(devs[i].uuid) < len ||
		    strncasecmp(devs[i].uuid, s, len) != 0)
			continue;
		if (found >= 0)
			return -2;
		found = (long)i;
	}
	return found;
}

/* The legacy MIG-GPU-<uuid>/<gi>/<ci>: the unit of GPU-<uuid> in position
 * <gi> (gpu_nvml.h gives a unit's position, not its GPU instance id). */
static long match_legacy_mig(const gpu_device *devs, size_t n, const char *s, size_t len)
{
	const char *slash = memchr(s, '/', len), *slash2;
	char uuid[GPU_UUID_MAX];
	long gi, ci;

	if (!slash || (size_t)(slash - s) - 4 >= sizeof uuid)
		return -1;
	slash2 = memchr(slash + 1, '/', len - (size_t)(slash + 1 - s));
	if (!slash2)
		return -1;
	gi = parse_index(slash + 1, (size_t)(slash2 - slash - 1));
	ci = parse_index(slash2 + 1, len - (size_t)(slash2 + 1 - s));
	if (gi < 0 || ci < 0)
		return -1;
	memcpy(uuid, s + 4, (size_t)(slash - s) - 4); /* "GPU-..." after "MIG-" */
	uuid[slash - s - 4] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (!is_gpu(&devs[i]) || strcasecmp(devs[i].uuid, uuid) != 0)
			continue;
		for (size_t j = i + 1; j < n && !is_gpu(&devs[j]); j++)
			if (devs[j].mig_index == (unsigned)gi)
				return (long)j;
		return -1;
	}
	return -1;
}

/* One entry [s, s+len), blanks trimmed: the device it names, or -1
 * (invalid, unknown, or ambiguous: the list stops there). */
static long resolve(const gpu_device *devs, size_t n, const char *s, size_t len,
		    bool indices_only)
{
	long idx = parse_index(s, len);

	if (idx >= 0) {
		for (size_t i = 0; i < n; i++)
			if (is_gpu(&devs[i]) && devs[i].index == (unsigned)idx)
				return (long)i;
		return -1;
	}
	if (indices_only)
		return -1;
	if (len > 8 && strncasecmp(s, "MIG-GPU-", 8) == 0)
		return match_legacy_mig(devs, n, s, len);
	if (len > 4 && strncasecmp(s, "MIG-", 4) == 0)
		idx = match_prefix(devs, n, s, len, false);
	else if (len > 4 && strncasecmp(s, "GPU-", 4) == 0)
		idx = match_prefix(devs, n, s, len, true);
	return idx < 0 ? -1 : idx;
}

/* Allows each entry of list in turn until one does not resolve. */
static void select_list(const char *list, const gpu_device *devs, size_t n, bool indices_only,
			bool *allowed, const char **cut)
{
	const char *p = list;

	while (*p) {
		const char *end = strchr(p, ','), *s = p, *e;
		long idx;

		if (!end)
			end = p + strlen(p);
		e = end;
		while (s < e && isspace((unsigned char)*s))
			s++;
		while (e > s && isspace((unsigned char)e[-1]))
			e--;
		idx = resolve(devs, n, s, (size_t)(e - s), indices_only);
		if (idx < 0) {
			if (cut)
				*cut = s;
			return;
		}
		allow(devs, n, (size_t)idx, allowed);
		if (!*end)
			return;
		p = end + 1;
		if (!*p && cut) /* "0," : an empty last entry is invalid too */
			*cut = p;
	}
}

gpu_visible_source gpu_visible_select(const gpu_env *env, const gpu_device *devs, size_t n,
				      bool *allowed, const char **cut)
{
	gpu_visible_source src = GPU_VISIBLE_ALL;
	const char *list = NULL;

	memset(allowed, 0, n * sizeof *allowed);
	if (cut)
		*cut = NULL;
	if (env->slurm_step_gpus) {
		src = GPU_VISIBLE_SLURM_STEP;
		list = env->slurm_step_gpus;
	} else if (env->slurm_job_gpus) {
		src = GPU_VISIBLE_SLURM_JOB;
		list = env->slurm_job_gpus;
	} else if (env->cuda_visible) {
		src = GPU_VISIBLE_CUDA;
		list = env->cuda_visible;
	}
	if (!list) {
		for (size_t i = 0; i < n; i++)
			if (is_gpu(&devs[i]))
				allow(devs, n, i, allowed);
		return src;
	}
	select_list(list, devs, n, src != GPU_VISIBLE_CUDA, allowed, cut);
	return src;
}
