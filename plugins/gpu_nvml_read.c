/* gpu_nvml_read.c -- in the NVML helper child: load libnvidia-ml, resolve
 * the functions, and read every device into gpu_device records.
 *
 * No NVML header at build time: the few types are gpu_nvml_types.h's.
 * The versioned symbols are what nvml.h maps the plain names to; a driver
 * older than them has only the v1 names, which we fall back to.  Facts the
 * reading respects (Slurm, nvitop, gpustat, pynvml bug trackers): a handle
 * may answer NO_PERMISSION (skip it, count it); a GPU can be lost (list
 * it with the error, never choose it); utilisation is NOT_SUPPORTED on MIG
 * handles; memory v1 counts driver-reserved memory as used;
 * nvmlProcessInfo_t changed size across drivers, so only the count is
 * read (count 0 -> INSUFFICIENT_SIZE), never the array. */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gpu_nvml_int.h"
#include "gpu_nvml_types.h"

/* ---- the library ------------------------------------------------------------ */

struct gpu_nvml_lib {
	void *dl;
	char label[128]; /* what the messages call it: the path given, or the soname */
	gpu_nvml_shared *sh;
	bool initialised;
	int v_init, v_count, v_handle, v_pci, v_procs; /* suffix found: 0 (none), 2, 3 */
	nvmlReturn_t (*init)(void);
	const char *(*error_string)(nvmlReturn_t);
	nvmlReturn_t (*count)(unsigned int *);
	nvmlReturn_t (*handle)(unsigned int, nvmlDevice_t *);
	nvmlReturn_t (*uuid)(nvmlDevice_t, char *, unsigned int);
	nvmlReturn_t (*name)(nvmlDevice_t, char *, unsigned int);
	nvmlReturn_t (*pci)(nvmlDevice_t, nvmlPciInfo_t *);
	nvmlReturn_t (*mem_v2)(nvmlDevice_t, nvmlMemory_v2_t *);
	nvmlReturn_t (*mem_v1)(nvmlDevice_t, nvmlMemory_t *);
	nvmlReturn_t (*util)(nvmlDevice_t, nvmlUtilization_t *);
	nvmlReturn_t (*procs)(nvmlDevice_t, unsigned int *, void *);
	nvmlReturn_t (*mig_mode)(nvmlDevice_t, unsigned int *, unsigned int *);
	nvmlReturn_t (*mig_max)(nvmlDevice_t, unsigned int *);
	nvmlReturn_t (*mig_handle)(nvmlDevice_t, unsigned int, nvmlDevice_t *);
};

#define GPU_NVML_CALL_NAME(id, name) name,
static const char *const nvml_call_names[] = { GPU_NVML_CALLS(GPU_NVML_CALL_NAME) };
#undef GPU_NVML_CALL_NAME

const char *gpu_nvml_call_name(int call, int version, char *buf, size_t size)
{
	const char *base = call > 0 && call < GPU_CALL_MAX ? nvml_call_names[call] : "NVML";

	if (version > 1)
		snprintf(buf, size, "%s_v%d", base, version);
	else
		snprintf(buf, size, "%s", base);
	return buf;
}

/* The first of name_v<versions...> (0: the plain name) that the library
 * has, into *fn; its version into *found.  Returns false if none. */
static bool nvml_resolve(gpu_nvml_lib *lib, void *fn, const char *name, const int *versions,
			 int *found)
{
	char sym[80];

	for (; *versions >= 0; versions++) {
		void *p;

		if (*versions)
			snprintf(sym, sizeof(sym), "%s_v%d", name, *versions);
		else
			snprintf(sym, sizeof(sym), "%s", name);
		p = dlsym(lib->dl, sym);
		if (p) {
			memcpy(fn, &p, sizeof(p)); /* POSIX: a function pointer from dlsym */
			if (found)
				*found = *versions;
			return true;
		}
	}
	return false;
}

static const int v1_only[] = { 0, -1 };

/* Every function we use; false (why filled) if a required one is missing. */
static bool nvml_resolve_all(gpu_nvml_lib *lib, char *why, size_t why_size)
{
	static const int v2[] = { 2, 0, -1 }, v3[] = { 3, 0, -1 };
	const char *missing = NULL;
	int v_mem2 = 0;

	if (!nvml_resolve(lib, &lib->init, "nvmlInit", v2, &lib->v_init))
		missing = "nvmlInit";
	else if (!nvml_resolve(lib, &lib->count, "nvmlDeviceGetCount", v2, &lib->v_count))
		missing = "nvmlDeviceGetCount";
	else if (!nvml_resolve(lib, &lib->handle, "nvmlDeviceGetHandleByIndex", v2, &lib->v_handle))
		missing = "nvmlDeviceGetHandleByIndex";
	else if (!nvml_resolve(lib, &lib->uuid, "nvmlDeviceGetUUID", v1_only, NULL))
		missing = "nvmlDeviceGetUUID";
	else if (!nvml_resolve(lib, &lib->mem_v1, "nvmlDeviceGetMemoryInfo", v1_only, NULL))
		missing = "nvmlDeviceGetMemoryInfo";
	if (missing) {
		snprintf(why, why_size, "%s: no %s (not NVML?)", lib->label, missing);
		return false;
	}
	/* Optional: without them a field stays unknown (-1, "", 0). */
	nvml_resolve(lib, &lib->error_string, "nvmlErrorString", v1_only, NULL);
	nvml_resolve(lib, &lib->name, "nvmlDeviceGetName", v1_only, NULL);
	nvml_resolve(lib, &lib->pci, "nvmlDeviceGetPciInfo", v3, &lib->v_pci);
	if (!nvml_resolve(lib, &lib->mem_v2, "nvmlDeviceGetMemoryInfo", (const int[]){ 2, -1 },
			  &v_mem2))
		lib->mem_v2 = NULL;
	nvml_resolve(lib, &lib->util, "nvmlDeviceGetUtilizationRates", v1_only, NULL);
	nvml_resolve(lib, &lib->procs, "nvmlDeviceGetComputeRunningProcesses", v3, &lib->v_procs);
	nvml_resolve(lib, &lib->mig_mode, "nvmlDeviceGetMigMode", v1_only, NULL);
	nvml_resolve(lib, &lib->mig_max, "nvmlDeviceGetMaxMigDeviceCount", v1_only, NULL);
	nvml_resolve(lib, &lib->mig_handle, "nvmlDeviceGetMigDeviceHandleByIndex", v1_only, NULL);
	return true;
}

/* Owned by the child, for its life (never freed: it _exits). */
gpu_nvml_lib *gpu_nvml_lib_open(const char *library, gpu_nvml_shared *sh, char *why,
				size_t why_size)
{
	gpu_nvml_lib *lib = calloc(1, sizeof(*lib));
	const char *err;

	if (!lib) {
		snprintf(why, why_size, "out of memory loading NVML");
		return NULL;
	}
	lib->sh = sh;
	snprintf(lib->label, sizeof(lib->label), "%s", library ? library : "libnvidia-ml.so.1");
	lib->dl = dlopen(lib->label, RTLD_NOW | RTLD_LOCAL);
	if (!lib->dl) {
		err = dlerror();
		snprintf(why, why_size, "%s", err ? err : lib->label);
		free(lib);
		return NULL;
	}
	if (!nvml_resolve_all(lib, why, why_size)) {
		dlclose(lib->dl);
		free(lib);
		return NULL;
	}
	return lib;
}

/* ---- reading ------------------------------------------------------------------ */

/* Say which call runs next, for the parent's "no answer" message. */
static void nvml_mark(gpu_nvml_lib *lib, int call, int version)
{
	atomic_store_explicit(&lib->sh->version, version, memory_order_relaxed);
	atomic_store_explicit(&lib->sh->call, call, memory_order_release);
}

static const char *nvml_words(gpu_nvml_lib *lib, nvmlReturn_t r, char *buf, size_t size)
{
	const char *s = lib->error_string ? lib->error_string(r) : NULL;

	if (s && *s)
		return s;
	snprintf(buf, size, "NVML error %d", r);
	return buf;
}

/* A field NVML may legitimately not give (NOT_SUPPORTED, NO_PERMISSION,
 * FUNCTION_NOT_FOUND) stays unknown; any other error makes the device
 * unreadable (d->error), and the rest of it is not read. */
static bool nvml_field(gpu_device *d, nvmlReturn_t r)
{
	if (r == NVML_SUCCESS)
		return true;
	if (r != NVML_ERROR_NOT_SUPPORTED && r != NVML_ERROR_NO_PERMISSION &&
	    r != NVML_ERROR_FUNCTION_NOT_FOUND)
		d->error = r;
	return false;
}

static void nvml_read_memory(gpu_nvml_lib *lib, nvmlDevice_t h, gpu_device *d)
{
	nvmlMemory_v2_t m2 = { .version = NVML_MEMORY_V2 };
	nvmlMemory_t m1 = { 0 };
	nvmlReturn_t r;

	if (lib->mem_v2) {
		nvml_mark(lib, GPU_CALL_MEMORY, 2);
		r = lib->mem_v2(h, &m2);
		if (r == NVML_SUCCESS) {
			d->memory_total = m2.total;
			d->memory_free = m2.free;
			d->memory_used = m2.used;
			return;
		}
		if (r != NVML_ERROR_ARGUMENT_VERSION_MISMATCH &&
		    r != NVML_ERROR_FUNCTION_NOT_FOUND) {
			nvml_field(d, r);
			return;
		}
		lib->mem_v2 = NULL; /* a driver that knows the name but not v2: v1 from now on */
	}
	nvml_mark(lib, GPU_CALL_MEMORY, 0);
	r = lib->mem_v1(h, &m1);
	if (nvml_field(d, r)) {
		d->memory_total = m1.total;
		d->memory_free = m1.free;
		d->memory_used = m1.used; /* includes the driver's reservation: an overestimate */
	}
}

/* Compute processes of any user: the count only, never the array. */
static void nvml_read_processes(gpu_nvml_lib *lib, nvmlDevice_t h, gpu_device *d)
{
	unsigned int count = 0;
	nvmlReturn_t r;

	if (!lib->procs || d->error)
		return;
	nvml_mark(lib, GPU_CALL_PROCS, lib->v_procs);
	r = lib->procs(h, &count, NULL);
	if (r == NVML_SUCCESS || r == NVML_ERROR_INSUFFICIENT_SIZE)
		d->processes = r == NVML_SUCCESS ? 0 : count;
	else
		nvml_field(d, r);
}

/* What a GPU and a MIG unit have in common: uuid, name, memory, processes. */
static void nvml_read_common(gpu_nvml_lib *lib, nvmlDevice_t h, gpu_device *d)
{
	nvmlReturn_t r;

	nvml_mark(lib, GPU_CALL_UUID, 0);
	r = lib->uuid(h, d->uuid, sizeof(d->uuid));
	if (r != NVML_SUCCESS) {
		d->uuid[0] = '\0';
		d->error = r; /* no key, no use */
		return;
	}
	if (lib->name) {
		nvml_mark(lib, GPU_CALL_NAME, 0);
		if (!nvml_field(d, lib->name(h, d->name, sizeof(d->name))))
			d->name[0] = '\0';
	}
	if (!d->error)
		nvml_read_memory(lib, h, d);
	nvml_read_processes(lib, h, d);
}

static void nvml_read_pci(gpu_nvml_lib *lib, nvmlDevice_t h, gpu_device *d)
{
	nvmlPciInfo_t pci;

	if (!lib->pci || d->error)
		return;
	memset(&pci, 0, sizeof(pci));
	nvml_mark(lib, GPU_CALL_PCI, lib->v_pci);
	if (!nvml_field(d, lib->pci(h, &pci)))
		return;
	if (lib->v_pci >= 2 && pci.busId[0])
		snprintf(d->pci_bus_id, sizeof(d->pci_bus_id), "%.31s", pci.busId);
	else /* v1's busId is the legacy 4-digit-domain form: write v3's */
		snprintf(d->pci_bus_id, sizeof(d->pci_bus_id), "%08X:%02X:%02X.0", pci.domain,
			 pci.bus, pci.device);
}

static void nvml_read_gpu(gpu_nvml_lib *lib, nvmlDevice_t h, gpu_device *d)
{
	nvmlUtilization_t u;
	unsigned int cur = 0, pending = 0;

	nvml_read_common(lib, h, d);
	nvml_read_pci(lib, h, d);
	if (lib->util && !d->error) {
		nvml_mark(lib, GPU_CALL_UTIL, 0);
		if (nvml_field(d, lib->util(h, &u)))
			d->utilization = (int)(u.gpu > 100 ? 100 : u.gpu);
	}
	if (lib->mig_mode && lib->mig_max && lib->mig_handle && !d->error) {
		nvml_mark(lib, GPU_CALL_MIG_MODE, 0);
		if (nvml_field(d, lib->mig_mode(h, &cur, &pending)))
			d->mig_enabled = cur == NVML_DEVICE_MIG_ENABLE;
	}
}

/* A new record at the end of the answer, or NULL when it is full. */
static gpu_device *nvml_add(gpu_nvml_msg *msg, gpu_device *devs, unsigned index)
{
	gpu_device *d;

	if (msg->n == GPU_NVML_MAX_DEVICES)
		return NULL;
	d = &devs[msg->n++];
	memset(d, 0, sizeof(*d));
	d->index = index;
	d->utilization = -1;
	return d;
}

/* The MIG units of GPU g (in MIG mode), right after it. */
static void nvml_read_units(gpu_nvml_lib *lib, nvmlDevice_t h, const gpu_device *g,
			    gpu_nvml_msg *msg, gpu_device *devs)
{
	unsigned int max = 0;
	nvmlReturn_t r;

	nvml_mark(lib, GPU_CALL_MIG_MAX, 0);
	if (lib->mig_max(h, &max) != NVML_SUCCESS)
		return;
	for (unsigned int i = 0; i < max; i++) {
		nvmlDevice_t uh;
		gpu_device *u;

		nvml_mark(lib, GPU_CALL_MIG_HANDLE, 0);
		r = lib->mig_handle(h, i, &uh);
		if (r == NVML_ERROR_NOT_FOUND) /* no instance in that slot */
			continue;
		if (r == NVML_ERROR_NO_PERMISSION) {
			msg->skipped++;
			continue;
		}
		if (!(u = nvml_add(msg, devs, g->index)))
			return;
		u->mig_index = i;
		memcpy(u->parent, g->uuid, sizeof(u->parent));
		memcpy(u->pci_bus_id, g->pci_bus_id, sizeof(u->pci_bus_id));
		if (r != NVML_SUCCESS) {
			u->error = r;
			continue;
		}
		/* A MIG handle never answers utilisation: not asked, -1. */
		nvml_read_common(lib, uh, u);
	}
}

static void nvml_unavailable(gpu_nvml_lib *lib, gpu_nvml_msg *msg, int call, int version,
			     nvmlReturn_t r)
{
	char fn[64], words[32];

	snprintf(msg->why, sizeof(msg->why), "%s: %s: %s", lib->label,
		 gpu_nvml_call_name(call, version, fn, sizeof(fn)),
		 nvml_words(lib, r, words, sizeof(words)));
}

static void nvml_read_all(gpu_nvml_lib *lib, gpu_nvml_msg *msg, gpu_device *devs)
{
	unsigned int count = 0;
	nvmlReturn_t r;
	char fn[64];

	nvml_mark(lib, GPU_CALL_COUNT, lib->v_count);
	r = lib->count(&count);
	if (r != NVML_SUCCESS) {
		nvml_unavailable(lib, msg, GPU_CALL_COUNT, lib->v_count, r);
		return;
	}
	for (unsigned int i = 0; i < count; i++) {
		nvmlDevice_t h;
		gpu_device *d;

		nvml_mark(lib, GPU_CALL_HANDLE, lib->v_handle);
		r = lib->handle(i, &h);
		if (r == NVML_ERROR_NO_PERMISSION) {
			msg->skipped++;
			continue;
		}
		if (!(d = nvml_add(msg, devs, i)))
			break;
		if (r != NVML_SUCCESS) {
			d->error = r;
			continue;
		}
		nvml_read_gpu(lib, h, d);
		if (d->mig_enabled && !d->error)
			nvml_read_units(lib, h, d, msg, devs);
	}
	if (msg->n == 0 && count == 0)
		snprintf(msg->why, sizeof(msg->why), "%s: no GPU (%s found none)", lib->label,
			 gpu_nvml_call_name(GPU_CALL_COUNT, lib->v_count, fn, sizeof(fn)));
	else if (msg->n == 0)
		snprintf(msg->why, sizeof(msg->why),
			 "%s: no GPU readable (%u of %u answered Insufficient Permissions)",
			 lib->label, msg->skipped, count);
	else
		msg->state = GPU_NVML_OK;
}

void gpu_nvml_lib_read(gpu_nvml_lib *lib, gpu_nvml_msg *msg, gpu_device *devs)
{
	struct timespec ts;
	nvmlReturn_t r;

	memset(msg, 0, sizeof(*msg));
	msg->state = GPU_NVML_UNAVAILABLE;
	/* Once per process: a failed init (driver not loaded yet) is tried
	 * again at the next request, a successful one never repeated. */
	if (!lib->initialised) {
		nvml_mark(lib, GPU_CALL_INIT, lib->v_init);
		r = lib->init();
		if (r != NVML_SUCCESS)
			nvml_unavailable(lib, msg, GPU_CALL_INIT, lib->v_init, r);
		lib->initialised = r == NVML_SUCCESS;
	}
	if (lib->initialised)
		nvml_read_all(lib, msg, devs);
	nvml_mark(lib, GPU_CALL_NONE, 0);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	msg->taken_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
