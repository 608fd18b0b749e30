/* fake_cuda.c -- a fake libcuda.so.1 beside the fake NVML, so that
 * tests/gpu-real.sh (and its helper tests/cuda_devices) can be run where
 * there is no GPU: tests/gpu-real-fake.sh does, in make check.
 *
 * Why: the real-GPU script runs only on a machine with a GPU, which CI and
 * most sessions do not have; against this fake its logic (grants, CUDA's
 * view of them, serialisation, packing) is still proven every time.
 *
 * The devices are the `gpu` lines of $FAKE_NVML_STATE (tests/fake-nvml.md),
 * in order; CUDA_VISIBLE_DEVICES filters them as CUDA does for the forms
 * assay writes and the simple ones: indices, GPU- UUIDs or unique
 * prefixes, MIG- UUIDs of `mig` lines; the list is cut at the first entry
 * that matches nothing; set but empty hides every device. */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAKE_EXPORT __attribute__((visibility("default")))
/* The exported functions' prototypes are cuda.h's, which is not here. */
#pragma GCC diagnostic ignored "-Wmissing-prototypes"

enum {
	CUDA_SUCCESS = 0,
	CUDA_ERROR_INVALID_VALUE = 1,
	CUDA_ERROR_NOT_INITIALIZED = 3,
	CUDA_ERROR_NO_DEVICE = 100,
	CUDA_ERROR_INVALID_DEVICE = 101
};
typedef int CUresult;
typedef int CUdevice;
typedef struct {
	unsigned char bytes[16];
} CUuuid;

#define MAX 64

static char all[MAX][64]; /* the state's devices: GPUs, then MIG units */
static int n_gpus, n_all;
static char visible[MAX][64];
static int n_visible = -1; /* -1: cuInit not called */

static void read_state(void)
{
	const char *path = getenv("FAKE_NVML_STATE");
	char line[512], units[MAX][64];
	int n_units = 0;
	FILE *f = path ? fopen(path, "re") : NULL;

	n_gpus = 0;
	while (f && fgets(line, sizeof(line), f)) {
		char *u = strstr(line, "uuid=");
		int gpu = !strncmp(line, "gpu ", 4), mig = !strncmp(line, "mig ", 4);

		if (!u || (!gpu && !mig) || (gpu ? n_gpus : n_units) == MAX)
			continue;
		u += 5;
		u[strcspn(u, " \t\r\n")] = '\0';
		snprintf(gpu ? all[n_gpus++] : units[n_units++], 64, "%s", u);
	}
	if (f)
		fclose(f);
	n_all = n_gpus;
	for (int i = 0; i < n_units && n_all < MAX; i++)
		memcpy(all[n_all++], units[i], 64);
}

/* The device an entry of CUDA_VISIBLE_DEVICES names, or -1. */
static int lookup(const char *e, size_t len)
{
	int found = -1;

	if (len && isdigit((unsigned char)e[0])) {
		char *end;
		long i = strtol(e, &end, 10);

		return (size_t)(end - e) == len && i < n_gpus ? (int)i : -1;
	}
	if (len < 5 || (strncmp(e, "GPU-", 4) && strncmp(e, "MIG-", 4)))
		return -1;
	for (int i = 0; i < n_all; i++)
		if (!strncmp(all[i], e, len)) {
			if (found >= 0)
				return -1; /* an ambiguous prefix */
			found = i;
		}
	return found;
}

FAKE_EXPORT CUresult cuInit(unsigned int flags)
{
	const char *env = getenv("CUDA_VISIBLE_DEVICES");

	read_state();
	n_visible = 0;
	if (!env) {
		for (int i = 0; i < n_gpus; i++)
			memcpy(visible[n_visible++], all[i], 64);
	}
	while (env && *env && n_visible < MAX) {
		size_t len = strcspn(env, ",");
		int i = lookup(env, len);

		if (i < 0)
			break;
		memcpy(visible[n_visible++], all[i], 64);
		env += len + (env[len] == ',');
	}
	return flags ? CUDA_ERROR_INVALID_VALUE : n_visible ? CUDA_SUCCESS : CUDA_ERROR_NO_DEVICE;
}

FAKE_EXPORT CUresult cuDeviceGetCount(int *count)
{
	if (n_visible < 0)
		return CUDA_ERROR_NOT_INITIALIZED;
	*count = n_visible;
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuDeviceGet(CUdevice *d, int ordinal)
{
	if (n_visible < 0)
		return CUDA_ERROR_NOT_INITIALIZED;
	if (ordinal < 0 || ordinal >= n_visible)
		return CUDA_ERROR_INVALID_DEVICE;
	*d = ordinal;
	return CUDA_SUCCESS;
}

/* The UUID's 32 hex digits as 16 bytes (the fake's UUIDs are real hex). */
FAKE_EXPORT CUresult cuDeviceGetUuid_v2(CUuuid *u, CUdevice d)
{
	const char *p;
	int k = 0;

	if (n_visible < 0)
		return CUDA_ERROR_NOT_INITIALIZED;
	if (d < 0 || d >= n_visible)
		return CUDA_ERROR_INVALID_DEVICE;
	memset(u, 0, sizeof(*u));
	for (p = visible[d] + 4; *p && k < 32; p++) {
		if (!isxdigit((unsigned char)*p))
			continue;
		u->bytes[k / 2] |=
			(unsigned char)(strtol((char[]){ *p, 0 }, NULL, 16) << (k % 2 ? 0 : 4));
		k++;
	}
	return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuGetErrorString(CUresult r, const char **s)
{
	*s = r == CUDA_ERROR_NO_DEVICE         ? "no CUDA-capable device is detected"
	     : r == CUDA_ERROR_NOT_INITIALIZED ? "initialization error"
	     : r == CUDA_ERROR_INVALID_DEVICE  ? "invalid device ordinal"
					       : "unknown error";
	return CUDA_SUCCESS;
}
