/* gpu_nvml.h -- what the gpu plugin knows of NVML: the devices, read in a
 * helper child process.
 *
 * Why a child: an NVML call can hang in the kernel (D state).  A thread
 * stuck there cannot be interrupted and would keep assay from exiting; a
 * child stuck there is simply abandoned.  The child dlopens the library
 * (no build-time dependency on NVML or CUDA), calls nvmlInit once, and
 * answers each request with a snapshot of every device.  Nothing here ever
 * blocks the caller for longer than the timeout given to gpu_nvml_start(),
 * and gpu_nvml_latest()/gpu_nvml_refresh() never block at all: the
 * scheduler's threads call them from try_acquire.
 *
 * Devices are keyed on UUID, never on NVML's index (which differs from
 * CUDA's and can change across reboots); the index is kept for display. */
#ifndef ASSAY_GPU_NVML_H
#define ASSAY_GPU_NVML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GPU_UUID_MAX 96 /* NVML_DEVICE_UUID_V2_BUFFER_SIZE */
#define GPU_NAME_MAX 96 /* NVML_DEVICE_NAME_V2_BUFFER_SIZE */

/* One device: a GPU, or a MIG unit (a GPU instance's compute instance)
 * of a GPU in MIG mode. */
typedef struct gpu_device {
	char uuid[GPU_UUID_MAX];   /* "GPU-8f2a...", "MIG-..." : the key */
	char name[GPU_NAME_MAX];   /* "NVIDIA H100 80GB HBM3" */
	char parent[GPU_UUID_MAX]; /* a MIG unit's GPU; "" for a GPU */
	char pci_bus_id[32];       /* "00000000:01:00.0" (a MIG unit: its GPU's) */
	unsigned index;            /* NVML index of the GPU (a unit: of its GPU) */
	unsigned mig_index;        /* a MIG unit's index within its GPU */
	bool mig_enabled;          /* a GPU in MIG mode: its units are the
				    * candidates, never the GPU itself */
	uint64_t memory_total;     /* bytes */
	uint64_t memory_free;      /* bytes */
	uint64_t memory_used;      /* bytes, driver-reserved memory excluded
				    * where NVML can say (memory info v2); from
				    * a v1-only driver it includes the
				    * reservation: an overestimate */
	int utilization;           /* GPU busy %, or -1 when NVML cannot say
				    * (a MIG unit, NOT_SUPPORTED) */
	unsigned processes;        /* compute processes on it, of any user
				    * (the count only: the array's layout
				    * changed across drivers) */
	int error;                 /* 0, or the NVML code that made the device
				    * unreadable (GPU_IS_LOST): listed, never
				    * chosen; uuid may then be "" (the UUID
				    * call itself failed), index is right */
} gpu_device;

/* Every readable device at one moment: the GPUs in NVML index order, each
 * GPU's MIG units right after it.  A device whose handle answered
 * NO_PERMISSION is left out (counted in `skipped`).  Shared, read-only,
 * reference-counted: see gpu_nvml_latest(). */
typedef struct gpu_snapshot {
	const gpu_device *devices;
	size_t n;
	size_t skipped;            /* devices NVML would not let us read */
	int64_t taken_ns;          /* CLOCK_MONOTONIC when the child read it */
	uint64_t seq;              /* 1, 2, ... in the order they were read */
} gpu_snapshot;

typedef enum gpu_nvml_state {
	GPU_NVML_PENDING,     /* no answer yet (within the timeout) */
	GPU_NVML_OK,          /* a snapshot is there */
	GPU_NVML_UNAVAILABLE, /* no library, no driver, nvmlInit failed, zero
			       * devices readable: `why` says which */
	GPU_NVML_HUNG,        /* a request went unanswered for the timeout */
	GPU_NVML_GONE         /* the child died or could not be started */
} gpu_nvml_state;

typedef struct gpu_nvml gpu_nvml;

/* Start the child, which loads `library` (NULL: "libnvidia-ml.so.1", found
 * by ld.so as any soname) and reads the devices once.  Call on the main
 * thread before any thread is started (plugin init): it forks.  A request
 * unanswered after timeout_ms makes the state GPU_NVML_HUNG (for good:
 * that child is abandoned).  Returns 0 with *out set, or a negative
 * ASSAY_E* code (fork or memory failed).  Freed by gpu_nvml_free(). */
int gpu_nvml_start(const char *library, int64_t timeout_ms, gpu_nvml **out);

/* Main thread (plan time, `assay gpus`): wait, at most the timeout, for
 * the answer to the last request, then answer as gpu_nvml_latest(). */
gpu_nvml_state gpu_nvml_wait(gpu_nvml *n, const gpu_snapshot **snap, const char **why);

/* Any thread, never blocks: take in any answer that arrived, and return
 * the state with the latest snapshot (*snap: NULL when there is none; a
 * reference the caller gives back with gpu_snapshot_put()) and, when the
 * state is not OK, *why: a sentence naming the library and NVML's words
 * ("libnvidia-ml.so.1: cannot open shared object file", "nvmlInit_v2:
 * Driver Not Loaded", "no answer from NVML for 10 s"), valid until
 * gpu_nvml_free(). */
gpu_nvml_state gpu_nvml_latest(gpu_nvml *n, const gpu_snapshot **snap, const char **why);

/* Any thread, never blocks: ask the child for a fresh reading.  While one
 * is being read, further requests are merged into it. */
void gpu_nvml_refresh(gpu_nvml *n);

/* Give back a reference from gpu_nvml_latest() or gpu_nvml_wait(). */
void gpu_snapshot_put(const gpu_snapshot *snap);

/* NVML's words for a gpu_device's `error` ("GPU is lost"), as
 * nvmlErrorString says them; "Unknown Error" for a code it does not know.
 * Static strings; any thread.  (Added after the first version of this
 * header: the parent has no NVML to ask.) */
const char *gpu_nvml_strerror(int code);

/* Stop the child (SIGKILL; it is reaped if it is gone, never waited for:
 * one stuck in D state is left to init) and free everything. */
void gpu_nvml_free(gpu_nvml *n);

#endif /* ASSAY_GPU_NVML_H */
