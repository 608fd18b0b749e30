/* cuda-devices.c -- for tests/gpu-real.sh: the devices CUDA itself shows
 * this process, one UUID a line ("GPU-8f2a..."), in CUDA's order, through
 * libcuda.so.1's own enumeration (dlopened: nothing CUDA at build time).
 * Exit 0; 77 (the test harness's "skipped") when there is no libcuda or
 * no driver; 1 on another error. */
#include <dlfcn.h>
#include <stdio.h>

typedef int (*cu_init_fn)(unsigned flags);
typedef int (*cu_count_fn)(int *count);
typedef int (*cu_get_fn)(int *dev, int ordinal);
typedef int (*cu_uuid_fn)(unsigned char uuid[16], int dev);

#define CUDA_ERROR_NO_DEVICE 100

int main(void)
{
	void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
	cu_init_fn init;
	cu_count_fn count;
	cu_get_fn get;
	cu_uuid_fn uuid;
	int n = 0, rc;

	if (!lib) {
		fprintf(stderr, "cuda-devices: %s\n", dlerror());
		return 77;
	}
	init = (cu_init_fn)dlsym(lib, "cuInit");
	count = (cu_count_fn)dlsym(lib, "cuDeviceGetCount");
	get = (cu_get_fn)dlsym(lib, "cuDeviceGet");
	/* _v2 answers a MIG unit's own UUID; the first one its GPU's. */
	uuid = (cu_uuid_fn)dlsym(lib, "cuDeviceGetUuid_v2");
	if (!uuid)
		uuid = (cu_uuid_fn)dlsym(lib, "cuDeviceGetUuid");
	if (!init || !count || !get || !uuid) {
		fprintf(stderr, "cuda-devices: libcuda.so.1 lacks a symbol\n");
		return 1;
	}
	if ((rc = init(0)) != 0) {
		/* With CUDA_VISIBLE_DEVICES naming nothing, cuInit says so. */
		if (rc == CUDA_ERROR_NO_DEVICE)
			return 0;
		fprintf(stderr, "cuda-devices: cuInit: error %d\n", rc);
		return 77;
	}
	if ((rc = count(&n)) != 0) {
		fprintf(stderr, "cuda-devices: cuDeviceGetCount: error %d\n", rc);
		return 1;
	}
	for (int i = 0; i < n; i++) {
		unsigned char u[16];
		int dev;

		if ((rc = get(&dev, i)) != 0 || (rc = uuid(u, dev)) != 0) {
			fprintf(stderr, "cuda-devices: device %d: error %d\n", i, rc);
			return 1;
		}
		printf("GPU-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x\n",
		       u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11],
		       u[12], u[13], u[14], u[15]);
	}
	return 0;
}
