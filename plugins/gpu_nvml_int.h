/* gpu_nvml_int.h -- what the parent (gpu_nvml.c) and the NVML helper child
 * (gpu_nvml_child.c, gpu_nvml_read.c) share: the messages on their socket
 * and the page where the child says which NVML call it is in and how many
 * answers it sent.
 *
 * Why a shared page: when a call hangs, the parent's message should name
 * it, and a byte written to the socket before every call would cost a
 * system call each (dozens per reading); and the scheduler's threads ask
 * for the latest reading on every try, where a recv() that finds nothing
 * would cost more than the rest of the try.  A store into, or a load
 * from, a MAP_SHARED page costs nothing. */
#ifndef ASSAY_GPU_NVML_INT_H
#define ASSAY_GPU_NVML_INT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "gpu_nvml.h"

/* Every NVML function the child calls, for the shared page (an index, so
 * the parent never reads a string the child may be writing). */
#define GPU_NVML_CALLS(X)                                \
	X(NONE, "")                                      \
	X(INIT, "nvmlInit")                              \
	X(COUNT, "nvmlDeviceGetCount")                   \
	X(HANDLE, "nvmlDeviceGetHandleByIndex")          \
	X(UUID, "nvmlDeviceGetUUID")                     \
	X(NAME, "nvmlDeviceGetName")                     \
	X(PCI, "nvmlDeviceGetPciInfo")                   \
	X(MEMORY, "nvmlDeviceGetMemoryInfo")             \
	X(UTIL, "nvmlDeviceGetUtilizationRates")         \
	X(PROCS, "nvmlDeviceGetComputeRunningProcesses") \
	X(MIG_MODE, "nvmlDeviceGetMigMode")              \
	X(MIG_MAX, "nvmlDeviceGetMaxMigDeviceCount")     \
	X(MIG_HANDLE, "nvmlDeviceGetMigDeviceHandleByIndex")

#define GPU_NVML_CALL_ENUM(id, name) GPU_CALL_##id,
enum gpu_nvml_call { GPU_NVML_CALLS(GPU_NVML_CALL_ENUM) GPU_CALL_MAX };
#undef GPU_NVML_CALL_ENUM

/* Written by the child only, read by the parent. */
typedef struct gpu_nvml_shared {
	atomic_int call;    /* enum gpu_nvml_call now running, NONE between calls */
	atomic_int version; /* the suffix that call carries: 0, 2 or 3 */
	atomic_uint sent;   /* answers written whole to the socket so far */
} gpu_nvml_shared;

/* "nvmlDeviceGetMemoryInfo_v2" for (MEMORY, 2): buf must hold 64 bytes. */
const char *gpu_nvml_call_name(int call, int version, char *buf, size_t size);

#define GPU_NVML_WHY_MAX 256
#define GPU_NVML_MAX_DEVICES 1024 /* GPUs and MIG units in one answer */

/* One answer, child to parent: this header, then n gpu_device.  `size`
 * covers both, so the parent can reassemble it from partial reads. */
typedef struct gpu_nvml_msg {
	uint32_t size;
	int32_t state;              /* GPU_NVML_OK or GPU_NVML_UNAVAILABLE */
	uint32_t n;                 /* devices that follow */
	uint32_t skipped;           /* NO_PERMISSION devices left out */
	int64_t taken_ns;           /* CLOCK_MONOTONIC when the reading ended */
	char why[GPU_NVML_WHY_MAX]; /* UNAVAILABLE: library and NVML's words */
} gpu_nvml_msg;

/* The devices follow the header in one buffer: keep them aligned. */
_Static_assert(sizeof(gpu_nvml_msg) % _Alignof(gpu_device) == 0, "gpu_nvml_msg alignment");

/* The child: never returns (_exit).  fd: its end of the socket pair;
 * parent: the pid that forked it (it leaves if that one is gone). */
void gpu_nvml_child_main(int fd, const char *library, gpu_nvml_shared *sh, pid_t parent)
	__attribute__((noreturn));

/* gpu_nvml_read.c: the library, loaded and initialised once per child. */
typedef struct gpu_nvml_lib gpu_nvml_lib;

/* Load and resolve `library` (NULL: the soname).  NULL when it cannot be
 * loaded or is no NVML, with why filled. */
gpu_nvml_lib *gpu_nvml_lib_open(const char *library, gpu_nvml_shared *sh, char *why,
				size_t why_size);

/* One reading into msg's header and devs (room for GPU_NVML_MAX_DEVICES):
 * nvmlInit on first success, then every device. */
void gpu_nvml_lib_read(gpu_nvml_lib *lib, gpu_nvml_msg *msg, gpu_device *devs);

#endif /* ASSAY_GPU_NVML_INT_H */
