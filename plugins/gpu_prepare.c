/* gpu_prepare.c -- a node's `resources = { gpu = N, gpu_memory_mb = M,
 * gpu_shared = true }` read and checked at plan time.
 *
 * A request the devices present can never meet (more GPUs than
 * candidates, more memory than any has, two MIG units) is a configuration
 * error at its line: waiting for it would wait forever.  When NVML cannot
 * be read at plan time the request is accepted -- a configuration must be
 * checkable on a machine without GPUs, such as CI -- and the run says "no
 * GPU here" for the nodes that needed one. */
#include <stdlib.h>
#include <string.h>

#include "gpu.h"

static const char *const gpu_request_keys[] = { "gpu", "gpu_memory_mb", "gpu_shared", NULL };

/* The request's values, where they were written. */
typedef struct request_values {
	const assay_value *count, *memory, *shared;
} request_values;

/* Reads the gpu keys of the resources table into r.  Errors reported. */
static int read_request(const gpu_plugin *pl, const assay_value *request, gpu_request *r,
			request_values *at)
{
	const assay_host *h = pl->host;
	int errors = 0;

	for (size_t i = 0; i < h->value_len(request); i++) {
		const char *key = NULL;
		const assay_value *v = h->value_at(request, i, &key);
		int64_t n;

		if (!key || (strcmp(key, "gpu") != 0 && strncmp(key, "gpu_", 4) != 0))
			continue; /* another resource type's */
		if (h->check_key(v, "`resources`", gpu_request_keys) < 0) {
			errors++;
		} else if (strcmp(key, "gpu") == 0) {
			at->count = v;
			if (h->check_int(v, NULL, 1, 1024, &n) < 0)
				errors++;
			r->count = (unsigned)n;
		} else if (strcmp(key, "gpu_memory_mb") == 0) {
			at->memory = v;
			if (h->check_int(v, NULL, 0, INT64_MAX / (int64_t)GPU_MB, &n) < 0)
				errors++;
			r->memory_mb = (uint64_t)n;
		} else {
			at->shared = v;
			if (h->value_bool(v, &r->shared) < 0) {
				h->config_error(v, "`gpu_shared` must be true or false, not %s",
						h->value_type_name(v));
				errors++;
			}
		}
	}
	return errors;
}

/* Keys that only make sense together.  Errors reported. */
static int check_together(const gpu_plugin *pl, const gpu_request *r, const request_values *at)
{
	const assay_host *h = pl->host;
	int errors = 0;

	if (!at->count) {
		h->config_error(at->memory ? at->memory : at->shared,
				"`%s` needs `gpu`, the number of devices (`gpu = 1`)",
				at->memory ? "gpu_memory_mb" : "gpu_shared");
		errors++;
	}
	if (r->shared && (!at->memory || r->memory_mb == 0)) {
		h->config_error(at->shared,
				"`gpu_shared = true` packs nodes on a device by the memory they book: it needs `gpu_memory_mb` of at least 1");
		errors++;
	}
	return errors;
}

/* How many candidates could ever hold r: devices with enough memory in
 * all, whole GPUs only when more than one is asked for. */
static void count_fits(const gpu_snapshot *snap, const bool *allowed, const gpu_request *r,
		       size_t *cand, size_t *whole, size_t *fits, uint64_t *largest_mb)
{
	*cand = *whole = *fits = 0;
	*largest_mb = 0;
	for (size_t i = 0; i < snap->n; i++) {
		const gpu_device *d = &snap->devices[i];
		uint64_t mb = d->memory_total / GPU_MB;

		if (!allowed[i])
			continue;
		(*cand)++;
		*whole += d->parent[0] == '\0';
		if (r->count > 1 && d->parent[0])
			continue;
		if (mb > *largest_mb)
			*largest_mb = mb;
		*fits += mb >= r->memory_mb;
	}
}

/* The request against the devices present.  ASSAY_ENEVER after saying why
 * at the value that cannot be met; 0 also when NVML cannot be read. */
static int check_devices(gpu_plugin *pl, const gpu_request *r, const request_values *at)
{
	const assay_host *h = pl->host;
	const gpu_snapshot *snap = NULL;
	const char *why = NULL, *src;
	size_t cand, whole, fits;
	uint64_t largest;
	bool *allowed;
	int rc = 0;

	gpu_nvml_ensure(pl);
	if (!pl->nvml || gpu_nvml_wait(pl->nvml, &snap, &why) != GPU_NVML_OK || !snap) {
		if (snap)
			gpu_snapshot_put(snap);
		return 0;
	}
	if (!(allowed = calloc(snap->n + 1, sizeof *allowed))) {
		gpu_snapshot_put(snap);
		return ASSAY_ENOMEM;
	}
	gpu_candidates(pl, snap, allowed);
	count_fits(snap, allowed, r, &cand, &whole, &fits, &largest);
	src = gpu_visible_source_name(gpu_visible_select(&pl->env, snap->devices, snap->n,
							  allowed, NULL));
	if (r->count > cand) {
		h->config_error(at->count, "`gpu = %u`: this machine has %zu candidate device%s%s%s%s",
				r->count, cand, cand == 1 ? "" : "s", *src ? " (as " : "", src,
				*src ? " allows)" : "");
		rc = ASSAY_ENEVER;
	} else if (r->count > 1 && r->count > whole) {
		h->config_error(at->count,
				"`gpu = %u`: a node gets at most one MIG unit (CUDA shows a process one), and %zu of the %zu candidates are whole GPUs",
				r->count, whole, cand);
		rc = ASSAY_ENEVER;
	} else if (fits == 0) {
		h->config_error(at->memory,
				"`gpu_memory_mb = %llu`: more than any candidate device has (the largest has %llu MB)",
				(unsigned long long)r->memory_mb, (unsigned long long)largest);
		rc = ASSAY_ENEVER;
	} else if (fits < r->count) {
		h->config_error(at->memory,
				"`gpu_memory_mb = %llu` on each of %u devices: only %zu candidate device%s that much memory",
				(unsigned long long)r->memory_mb, r->count, fits,
				fits == 1 ? " has" : "s have");
		rc = ASSAY_ENEVER;
	}
	free(allowed);
	gpu_snapshot_put(snap);
	return rc;
}

/* *req owned by the host until gpu_release_request(). */
int gpu_prepare(const assay_value *request, void *data, void **req)
{
	gpu_plugin *pl = data;
	gpu_request r = { 0 }, *out;
	request_values at = { 0 };
	int rc;

	if (read_request(pl, request, &r, &at) > 0)
		return ASSAY_EINVAL;
	if (!at.count && !at.memory && !at.shared)
		return ASSAY_EINVAL; /* the host only sends a request with a gpu key */
	if (check_together(pl, &r, &at) > 0)
		return ASSAY_EINVAL;
	if ((rc = check_devices(pl, &r, &at)) < 0)
		return rc;
	if (!(out = malloc(sizeof *out)))
		return ASSAY_ENOMEM;
	*out = r;
	*req = out;
	return 0;
}

void gpu_release_request(void *req, void *data)
{
	free(req);
}
