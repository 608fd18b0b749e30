/* cuda_devices.c -- the devices CUDA itself sees, for tests/gpu-real.sh: a
 * node granted GPUs runs this to prove that CUDA, honouring the
 * CUDA_VISIBLE_DEVICES assay set, enumerates exactly those devices.
 *
 * Why CUDA's own enumeration and not NVML's: NVML ignores
 * CUDA_VISIBLE_DEVICES, so only libcuda can say what a CUDA program in
 * that environment will use.  libcuda.so.1 is dlopened (no CUDA headers
 * or toolkit at build time); $CUDA_LIBRARY names another one (a fake).
 *
 *   cuda_devices           one line per device, in CUDA's order:
 *                          GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx (as NVML
 *                          writes UUIDs; MIG- where CUDA_VISIBLE_DEVICES
 *                          named that device by its MIG- UUID)
 *   cuda_devices --check   the same, then exit 1 unless the devices are
 *                          exactly those CUDA_VISIBLE_DEVICES lists (as
 *                          assay writes it: UUIDs, comma-separated)
 *
 * Exit: 0, 1 (--check: a difference, said on stderr), 2 (CUDA failed). */

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef int CUresult;
typedef int CUdevice;
typedef struct {
	unsigned char bytes[16];
} CUuuid;

#define CUDA_ERROR_NO_DEVICE 100 /* cuInit: nothing visible */
#define MAX_DEVICES 256
#define UUID_LEN 41 /* "GPU-" + 36 + NUL */

struct cuda {
	CUresult (*init)(unsigned int);
	CUresult (*count)(int *);
	CUresult (*get)(CUdevice *, int);
	CUresult (*uuid)(CUuuid *, CUdevice);
	CUresult (*error_string)(CUresult, const char **);
};

static void *sym(void *dl, const char *name, int required)
{
	void *p = dlsym(dl, name);

	if (!p && required) {
		fprintf(stderr, "cuda_devices: %s in libcuda: %s\n", name, dlerror());
		exit(2);
	}
	return p;
}

static void load(struct cuda *c)
{
	const char *lib = getenv("CUDA_LIBRARY");
	void *dl = dlopen(lib && *lib ? lib : "libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
	void *p;

	if (!dl) {
		fprintf(stderr, "cuda_devices: %s\n", dlerror());
		exit(2);
	}
	/* POSIX: function pointers from dlsym through a void * copy. */
	p = sym(dl, "cuInit", 1), memcpy(&c->init, &p, sizeof(p));
	p = sym(dl, "cuDeviceGetCount", 1), memcpy(&c->count, &p, sizeof(p));
	p = sym(dl, "cuDeviceGet", 1), memcpy(&c->get, &p, sizeof(p));
	/* _v2 (CUDA 11.4+) answers a MIG instance's own UUID; v1 its GPU's. */
	p = sym(dl, "cuDeviceGetUuid_v2", 0);
	if (!p)
		p = sym(dl, "cuDeviceGetUuid", 1);
	memcpy(&c->uuid, &p, sizeof(p));
	p = sym(dl, "cuGetErrorString", 0), memcpy(&c->error_string, &p, sizeof(p));
}

static void die(const struct cuda *c, const char *call, CUresult r)
{
	const char *s = NULL;

	if (c->error_string)
		c->error_string(r, &s);
	fprintf(stderr, "cuda_devices: %s: %s (%d)\n", call, s ? s : "CUDA error", r);
	exit(2);
}

/* "GPU-" and the 16 bytes as NVML writes them: 8-4-4-4-12 lower-case hex. */
static void format_uuid(const CUuuid *u, const char *prefix, char *out)
{
	const unsigned char *b = u->bytes;

	sprintf(out, "%s%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		prefix, b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
		b[12], b[13], b[14], b[15]);
}

/* The UUIDs in CUDA_VISIBLE_DEVICES, into list (each UUID_LEN). */
static int visible_list(char list[][UUID_LEN], int max)
{
	const char *env = getenv("CUDA_VISIBLE_DEVICES");
	int n = 0;

	while (env && *env && n < max) {
		size_t len = strcspn(env, ",");

		snprintf(list[n++], UUID_LEN, "%.*s", (int)len, env);
		env += len + (env[len] == ',');
	}
	return n;
}

/* The same device whatever the prefix (GPU- or MIG-: CUDA does not say)
 * and the hex digits' case. */
static int same_device(const char *a, const char *b)
{
	return strlen(a) > 4 && strlen(b) > 4 && !strcasecmp(a + 4, b + 4);
}

static int check(char seen[][UUID_LEN], int n_seen)
{
	static char want[MAX_DEVICES][UUID_LEN];
	int n_want = visible_list(want, MAX_DEVICES), bad = 0;

	for (int i = 0; i < n_seen; i++) {
		int found = 0;

		for (int j = 0; j < n_want; j++)
			found |= same_device(seen[i], want[j]);
		if (!found) {
			fprintf(stderr, "cuda_devices: CUDA sees %s, not granted\n", seen[i]);
			bad = 1;
		}
	}
	for (int j = 0; j < n_want; j++) {
		int found = 0;

		for (int i = 0; i < n_seen; i++)
			found |= same_device(seen[i], want[j]);
		if (!found) {
			fprintf(stderr, "cuda_devices: %s granted, CUDA does not see it\n",
				want[j]);
			bad = 1;
		}
	}
	if (n_seen != n_want) {
		fprintf(stderr, "cuda_devices: CUDA sees %d devices, %d granted\n", n_seen, n_want);
		bad = 1;
	}
	return bad;
}

int main(int argc, char **argv)
{
	static char seen[MAX_DEVICES][UUID_LEN], want[MAX_DEVICES][UUID_LEN];
	int checking = argc == 2 && !strcmp(argv[1], "--check");
	int n_want = visible_list(want, MAX_DEVICES), count = 0;
	struct cuda c;
	CUresult r;

	if (argc > 1 && !checking) {
		fprintf(stderr, "usage: cuda_devices [--check]\n");
		return 2;
	}
	load(&c);
	r = c.init(0);
	if (r != 0 && r != CUDA_ERROR_NO_DEVICE)
		die(&c, "cuInit", r);
	if (r == 0 && (r = c.count(&count)) != 0)
		die(&c, "cuDeviceGetCount", r);
	if (count > MAX_DEVICES)
		count = MAX_DEVICES;
	for (int i = 0; i < count; i++) {
		CUdevice d;
		CUuuid u;
		const char *prefix = "GPU-";

		if ((r = c.get(&d, i)) != 0)
			die(&c, "cuDeviceGet", r);
		if ((r = c.uuid(&u, d)) != 0)
			die(&c, "cuDeviceGetUuid", r);
		format_uuid(&u, "GPU-", seen[i]);
		for (int j = 0; j < n_want; j++)
			if (!strncmp(want[j], "MIG-", 4) && same_device(seen[i], want[j]))
				prefix = "MIG-";
		format_uuid(&u, prefix, seen[i]);
		printf("%s\n", seen[i]);
	}
	return checking ? check(seen, count) : 0;
}
