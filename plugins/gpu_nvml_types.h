/* gpu_nvml_types.h -- the few NVML types and return codes assay uses,
 * with NVML's own values and layouts (nvml.h, as vendored by go-nvml).
 * No NVML header exists at build time (Debian main has none), so they are
 * declared here once: for the reader (gpu_nvml_read.c) and for the fake
 * library the tests build (tests/fake_nvml.c), so the two cannot drift. */
#ifndef ASSAY_GPU_NVML_TYPES_H
#define ASSAY_GPU_NVML_TYPES_H

typedef int nvmlReturn_t;
typedef struct nvmlDevice_st *nvmlDevice_t;

enum {
	NVML_SUCCESS = 0,
	NVML_ERROR_UNINITIALIZED = 1,
	NVML_ERROR_INVALID_ARGUMENT = 2,
	NVML_ERROR_NOT_SUPPORTED = 3,
	NVML_ERROR_NO_PERMISSION = 4,
	NVML_ERROR_NOT_FOUND = 6,
	NVML_ERROR_INSUFFICIENT_SIZE = 7,
	NVML_ERROR_DRIVER_NOT_LOADED = 9,
	NVML_ERROR_FUNCTION_NOT_FOUND = 13,
	NVML_ERROR_GPU_IS_LOST = 15,
	NVML_ERROR_ARGUMENT_VERSION_MISMATCH = 25,
	NVML_ERROR_UNKNOWN = 999,
	NVML_DEVICE_MIG_ENABLE = 1
};

typedef struct {
	unsigned long long total, free, used; /* used includes the driver's reservation */
} nvmlMemory_t;

typedef struct {
	unsigned int version; /* NVML_MEMORY_V2 */
	unsigned long long total, reserved, free, used;
} nvmlMemory_v2_t;
/* NVML_STRUCT_VERSION(Memory, 2): the size, and the version in the top byte. */
#define NVML_MEMORY_V2 ((unsigned int)(sizeof(nvmlMemory_v2_t) | 2u << 24))

typedef struct {
	unsigned int gpu, memory; /* percent */
} nvmlUtilization_t;

/* As nvmlDeviceGetPciInfo_v3 fills it.  v1 filled a 16-byte busId at
 * offset 0 (now busIdLegacy, "0000:01:00.0") and the numbers after it. */
typedef struct {
	char busIdLegacy[16];
	unsigned int domain, bus, device, pciDeviceId, pciSubSystemId;
	char busId[32];
} nvmlPciInfo_t;

#endif /* ASSAY_GPU_NVML_TYPES_H */
