/* fake_nvml.c -- a fake libnvidia-ml.so.1 for the gpu plugin's tests: the
 * devices come from a state file re-read on every call, so a test can free
 * memory, start a foreign process, lose a GPU or make a call hang mid-run.
 *
 * Why: no GPU in CI, and the plugin must be proven against what real
 * drivers do that a happy machine never shows (NO_PERMISSION handles,
 * GPU_IS_LOST, NOT_SUPPORTED utilisation, MIG units, a call stuck in the
 * kernel, a library without the _v2 symbols).  k8s-test-infra's mocknvml
 * and DCGM's nvml-injection are the precedent.
 *
 * The contract (state file format, FAKE_NVML_LOG, the return codes) is
 * written in tests/fake-nvml.md; built twice by Makefile.am: every symbol
 * (tests/fake-nvml/) and, with -DFAKE_NVML_V1, only the unversioned v1
 * ones (tests/fake-nvml-v1/).  The layouts are NVML's own (nvml.h). */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <ctype.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FAKE_EXPORT __attribute__((visibility("default")))
/* The exported functions' prototypes are nvml.h's, which is not here. */
#pragma GCC diagnostic ignored "-Wmissing-prototypes"

#include "gpu_nvml_types.h" /* the types and codes, as the reader sees them */

typedef struct {
	unsigned int pid;
	unsigned long long usedGpuMemory;
	unsigned int gpuInstanceId, computeInstanceId;
} nvmlProcessInfo_v3_t;
typedef struct {
	unsigned int pid;
	unsigned long long usedGpuMemory;
} nvmlProcessInfo_v1_t;

#define FAKE_MAX_GPUS 64
#define FAKE_MAX_MIGS 8
#define FAKE_MAX_HANGS 16
#define MIB (1024ull * 1024ull)

typedef struct fake_dev {
	char uuid[96], name[96], pci[32];
	unsigned long long memory_mb, used_mb, reserved_mb;
	int util; /* 0-100, or -1: unsupported */
	unsigned processes;
	int denied, lost, mig;
	unsigned n_migs;
	struct fake_dev *migs; /* into fake_state.units */
} fake_dev;

typedef struct fake_state {
	int init; /* NVML_SUCCESS, DRIVER_NOT_LOADED or UNKNOWN */
	char hangs[FAKE_MAX_HANGS][64];
	unsigned n_hangs;
	fake_dev gpus[FAKE_MAX_GPUS];
	unsigned n_gpus;
	fake_dev units[FAKE_MAX_GPUS * FAKE_MAX_MIGS];
	unsigned n_units;
} fake_state;

static int fake_initialised; /* nvmlInit's reference count */

/* One line per call, one write, O_APPEND: tests count the reads. */
static void fake_log(const char *fn)
{
	const char *path = getenv("FAKE_NVML_LOG");
	char line[96];
	int fd, len;

	if (!path || !*path)
		return;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	len = snprintf(line, sizeof(line), "%s\n", fn);
	if (write(fd, line, (size_t)len) < 0)
		perror("fake-nvml: FAKE_NVML_LOG");
	close(fd);
}

/* Split a line into words: blanks separate, "..." groups (quotes are
 * dropped, so name="A B" is one word `name=A B`), # ends the line. */
static int fake_words(char *p, char **w, int max)
{
	int n = 0;

	while (n < max) {
		char *o, c;
		int q = 0;

		while (*p == ' ' || *p == '\t' || *p == '\r')
			p++;
		if (!*p || *p == '\n' || *p == '#')
			break;
		w[n++] = o = p;
		for (; *p && *p != '\n' && *p != '\r' &&
		       (q || (*p != ' ' && *p != '\t' && *p != '#'));
		     p++) {
			if (*p == '"')
				q = !q;
			else
				*o++ = *p;
		}
		c = *p;
		*o = '\0';
		if (c != ' ' && c != '\t')
			break;
		p++;
	}
	return n;
}

static int fake_bad(const char *file, int line, const char *what, const char *word)
{
	fprintf(stderr, "fake-nvml: %s:%d: %s `%s'\n", file, line, what, word);
	return -1;
}

static int fake_number(const char *v, unsigned long long *out)
{
	char *end;

	if (!isdigit((unsigned char)*v))
		return -1;
	*out = strtoull(v, &end, 10);
	return *end ? -1 : 0;
}

/* One key=value of a gpu or mig line into d. */
static int fake_attr(fake_dev *d, char *kv, const char *file, int line)
{
	char *v = strchr(kv, '=');
	unsigned long long num = 0;

	if (!v)
		return fake_bad(file, line, "expected key=value, got", kv);
	*v++ = '\0';
	if (!strcmp(kv, "uuid"))
		snprintf(d->uuid, sizeof(d->uuid), "%s", v);
	else if (!strcmp(kv, "name"))
		snprintf(d->name, sizeof(d->name), "%s", v);
	else if (!strcmp(kv, "pci"))
		snprintf(d->pci, sizeof(d->pci), "%s", v);
	else if (!strcmp(kv, "permission") && !strcmp(v, "denied"))
		d->denied = 1;
	else if (!strcmp(kv, "util") && !strcmp(v, "unsupported"))
		d->util = -1;
	else if (fake_number(v, &num))
		return fake_bad(file, line, "bad value for", kv);
	else if (!strcmp(kv, "memory_mb"))
		d->memory_mb = num;
	else if (!strcmp(kv, "used_mb"))
		d->used_mb = num;
	else if (!strcmp(kv, "reserved_mb"))
		d->reserved_mb = num;
	else if (!strcmp(kv, "util") && num <= 100)
		d->util = (int)num;
	else if (!strcmp(kv, "processes"))
		d->processes = (unsigned)num;
	else if (!strcmp(kv, "lost"))
		d->lost = num != 0;
	else if (!strcmp(kv, "mig"))
		d->mig = num != 0;
	else
		return fake_bad(file, line, "unknown key", kv);
	return 0;
}

static int fake_statement(fake_state *s, char **w, int n, const char *file, int line)
{
	fake_dev *d;

	if (!strcmp(w[0], "init") && n == 2) {
		if (!strcmp(w[1], "ok"))
			s->init = NVML_SUCCESS;
		else if (!strcmp(w[1], "no_driver"))
			s->init = NVML_ERROR_DRIVER_NOT_LOADED;
		else if (!strcmp(w[1], "fail"))
			s->init = NVML_ERROR_UNKNOWN;
		else
			return fake_bad(file, line, "init takes ok, no_driver or fail, not", w[1]);
		return 0;
	}
	if (!strcmp(w[0], "hang") && n == 2) {
		if (s->n_hangs == FAKE_MAX_HANGS)
			return fake_bad(file, line, "too many hang lines at", w[1]);
		snprintf(s->hangs[s->n_hangs++], sizeof(s->hangs[0]), "%s", w[1]);
		return 0;
	}
	if (!strcmp(w[0], "gpu")) {
		if (s->n_gpus == FAKE_MAX_GPUS)
			return fake_bad(file, line, "too many gpus at", w[0]);
		d = &s->gpus[s->n_gpus];
		snprintf(d->pci, sizeof(d->pci), "00000000:%02X:00.0", s->n_gpus + 1);
		s->n_gpus++;
	} else if (!strcmp(w[0], "mig")) {
		fake_dev *g = s->n_gpus ? &s->gpus[s->n_gpus - 1] : NULL;

		if (!g || !g->mig)
			return fake_bad(file, line,
					"a mig line must follow a gpu line with mig=1:", w[0]);
		if (g->n_migs == FAKE_MAX_MIGS)
			return fake_bad(file, line, "too many mig units at", w[0]);
		d = &s->units[s->n_units++];
		if (!g->migs)
			g->migs = d;
		g->n_migs++;
		memcpy(d->pci, g->pci, sizeof(d->pci));
	} else {
		return fake_bad(file, line, "unknown statement", w[0]);
	}
	snprintf(d->name, sizeof(d->name), "Fake GPU");
	for (int i = 1; i < n; i++)
		if (fake_attr(d, w[i], file, line))
			return -1;
	if (!d->uuid[0])
		return fake_bad(file, line, "a device needs uuid=, at", w[0]);
	return 0;
}

/* Read FAKE_NVML_STATE afresh.  NULL: no state (the driver is "not
 * loaded"); a malformed file says where on stderr and makes every call
 * answer UNKNOWN, so a test's typo is never a silent pass. */
static fake_state *fake_load(int *bad)
{
	const char *path = getenv("FAKE_NVML_STATE");
	fake_state *s;
	char buf[512], *w[32];
	int line = 0;
	FILE *f;

	*bad = 0;
	if (!path || !(f = fopen(path, "re")))
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s) {
		fclose(f);
		*bad = 1;
		return NULL;
	}
	while (fgets(buf, sizeof(buf), f)) {
		int n = fake_words(buf, w, 32);

		line++;
		if (n && fake_statement(s, w, n, path, line)) {
			*bad = 1;
			break;
		}
	}
	fclose(f);
	if (*bad) {
		free(s);
		return NULL;
	}
	return s;
}

/* A handle is the device's place, not a pointer into a state that is
 * re-read: GPU g is 0x1000 + (g << 8), its unit u adds u + 1. */
static nvmlDevice_t fake_handle(unsigned g, int unit)
{
	return (nvmlDevice_t)(uintptr_t)(0x1000u + (g << 8) + (unsigned)(unit + 1));
}

/* Every call starts here: log it, hang if the state says so, load the
 * state.  Returns NVML_SUCCESS with *out (free it) or the code to answer. */
static nvmlReturn_t fake_enter(const char *fn, fake_state **out, int need_init)
{
	int bad;
	fake_state *s;

	fake_log(fn);
	s = fake_load(&bad);
	if (bad)
		return NVML_ERROR_UNKNOWN;
	if (!s)
		return need_init ? NVML_ERROR_UNINITIALIZED : NVML_ERROR_DRIVER_NOT_LOADED;
	for (unsigned i = 0; i < s->n_hangs; i++)
		if (!strcmp(s->hangs[i], fn))
			for (;;)
				pause(); /* stuck "in the kernel": only SIGKILL ends it */
	if (need_init && !fake_initialised) {
		free(s);
		return NVML_ERROR_UNINITIALIZED;
	}
	*out = s;
	return NVML_SUCCESS;
}

/* The device behind a handle in this state, or the code to answer. */
static nvmlReturn_t fake_device(fake_state *s, nvmlDevice_t h, fake_dev **d, int *is_unit)
{
	uintptr_t v = (uintptr_t)h;
	unsigned g, u;

	if (v < 0x1000u)
		return NVML_ERROR_INVALID_ARGUMENT;
	g = (unsigned)((v - 0x1000u) >> 8);
	u = (unsigned)((v - 0x1000u) & 0xff);
	if (g >= s->n_gpus || u == 0 || u - 1 > s->gpus[g].n_migs)
		return NVML_ERROR_INVALID_ARGUMENT;
	if (s->gpus[g].lost)
		return NVML_ERROR_GPU_IS_LOST;
	*is_unit = u > 1;
	*d = u > 1 ? &s->gpus[g].migs[u - 2] : &s->gpus[g];
	return NVML_SUCCESS;
}

/* fake_enter + fake_device, for the calls that take a handle. */
static nvmlReturn_t fake_on(const char *fn, nvmlDevice_t h, fake_state **s, fake_dev **d,
			    int *is_unit)
{
	nvmlReturn_t r = fake_enter(fn, s, 1);

	if (r != NVML_SUCCESS)
		return r;
	r = fake_device(*s, h, d, is_unit);
	if (r != NVML_SUCCESS)
		free(*s);
	return r;
}

#define FAKE_DONE(s, r)     \
	do {                \
		free(s);    \
		return (r); \
	} while (0)

static nvmlReturn_t fake_init(const char *fn)
{
	fake_state *s;
	nvmlReturn_t r = fake_enter(fn, &s, 0);

	if (r != NVML_SUCCESS)
		return r;
	r = s->init;
	if (r == NVML_SUCCESS)
		fake_initialised++;
	FAKE_DONE(s, r);
}

static nvmlReturn_t fake_count(const char *fn, unsigned int *count)
{
	fake_state *s;
	nvmlReturn_t r = fake_enter(fn, &s, 1);

	if (r != NVML_SUCCESS)
		return r;
	if (!count)
		FAKE_DONE(s, NVML_ERROR_INVALID_ARGUMENT);
	*count = s->n_gpus;
	FAKE_DONE(s, NVML_SUCCESS);
}

static nvmlReturn_t fake_handle_by_index(const char *fn, unsigned int i, nvmlDevice_t *out)
{
	fake_state *s;
	nvmlReturn_t r = fake_enter(fn, &s, 1);

	if (r != NVML_SUCCESS)
		return r;
	if (!out || i >= s->n_gpus)
		FAKE_DONE(s, NVML_ERROR_INVALID_ARGUMENT);
	if (s->gpus[i].denied)
		FAKE_DONE(s, NVML_ERROR_NO_PERMISSION);
	*out = fake_handle(i, 0);
	FAKE_DONE(s, NVML_SUCCESS);
}

static nvmlReturn_t fake_processes(const char *fn, nvmlDevice_t h, unsigned int *count, void *infos,
				   size_t size)
{
	fake_state *s;
	fake_dev *d;
	int unit;
	nvmlReturn_t r = fake_on(fn, h, &s, &d, &unit);

	if (r != NVML_SUCCESS)
		return r;
	if (!count || (*count && !infos))
		FAKE_DONE(s, NVML_ERROR_INVALID_ARGUMENT);
	if (*count < d->processes) {
		*count = d->processes;
		FAKE_DONE(s, NVML_ERROR_INSUFFICIENT_SIZE);
	}
	*count = d->processes;
	for (unsigned i = 0; i < d->processes; i++) {
		nvmlProcessInfo_v3_t p = { .pid = 4000 + i, .usedGpuMemory = 100 * MIB };

		memcpy((char *)infos + i * size, &p, size); /* v1: its first 16 bytes */
	}
	FAKE_DONE(s, NVML_SUCCESS);
}

static nvmlReturn_t fake_pci(const char *fn, nvmlDevice_t h, nvmlPciInfo_t *pci, int v3)
{
	fake_state *s;
	fake_dev *d;
	int unit;
	unsigned dom = 0, bus = 0, dev = 0, fn_ = 0;
	nvmlReturn_t r = fake_on(fn, h, &s, &d, &unit);

	if (r != NVML_SUCCESS)
		return r;
	if (!pci)
		FAKE_DONE(s, NVML_ERROR_INVALID_ARGUMENT);
	sscanf(d->pci, "%x:%x:%x.%x", &dom, &bus, &dev, &fn_);
	memset(pci, 0, v3 ? sizeof(*pci) : offsetof(nvmlPciInfo_t, busId));
	snprintf(pci->busIdLegacy, sizeof(pci->busIdLegacy), "%04X:%02X:%02X.%X", dom, bus, dev,
		 fn_);
	pci->domain = dom, pci->bus = bus, pci->device = dev;
	pci->pciDeviceId = 0x20b010de; /* an A100's id, vendor NVIDIA */
	if (v3)
		snprintf(pci->busId, sizeof(pci->busId), "%s", d->pci);
	FAKE_DONE(s, NVML_SUCCESS);
}

static nvmlReturn_t fake_memory_v1(const char *fn, nvmlDevice_t h, nvmlMemory_t *m)
{
	fake_state *s;
	fake_dev *d;
	int unit;
	nvmlReturn_t r = fake_on(fn, h, &s, &d, &unit);

	if (r != NVML_SUCCESS)
		return r;
	if (!m)
		FAKE_DONE(s, NVML_ERROR_INVALID_ARGUMENT);
	m->total = d->memory_mb * MIB;
	m->used = (d->used_mb + d->reserved_mb) * MIB; /* v1 counts the reservation as used */
	m->free = m->used < m->total ? m->total - m->used : 0;
	FAKE_DONE(s, NVML_SUCCESS);
}

/* ---- the exported NVML functions --------------------------------------- */

FAKE_EXPORT nvmlReturn_t nvmlInit(void)
{
	return fake_init("nvmlInit");
}

FAKE_EXPORT nvmlReturn_t nvmlShutdown(void)
{
	fake_log("nvmlShutdown");
	if (!fake_initialised)
		return NVML_ERROR_UNINITIALIZED;
	fake_initialised--;
	return NVML_SUCCESS;
}

FAKE_EXPORT const char *nvmlErrorString(nvmlReturn_t r)
{
	switch (r) {
	case NVML_SUCCESS:
		return "Success";
	case NVML_ERROR_UNINITIALIZED:
		return "Uninitialized";
	case NVML_ERROR_INVALID_ARGUMENT:
		return "Invalid Argument";
	case NVML_ERROR_NOT_SUPPORTED:
		return "Not Supported";
	case NVML_ERROR_NO_PERMISSION:
		return "Insufficient Permissions";
	case NVML_ERROR_NOT_FOUND:
		return "Not Found";
	case NVML_ERROR_INSUFFICIENT_SIZE:
		return "Insufficient Size";
	case NVML_ERROR_DRIVER_NOT_LOADED:
		return "Driver Not Loaded";
	case NVML_ERROR_GPU_IS_LOST:
		return "GPU is lost";
	case NVML_ERROR_ARGUMENT_VERSION_MISMATCH:
		return "Argument version mismatch";
	default:
		return "Unknown Error";
	}
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetCount(unsigned int *count)
{
	return fake_count("nvmlDeviceGetCount", count);
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetHandleByIndex(unsigned int i, nvmlDevice_t *out)
{
	return fake_handle_by_index("nvmlDeviceGetHandleByIndex", i, out);
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses(nvmlDevice_t h, unsigned int *count,
							      void *infos)
{
	return fake_processes("nvmlDeviceGetComputeRunningProcesses", h, count, infos,
			      sizeof(nvmlProcessInfo_v1_t));
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t h, nvmlMemory_t *m)
{
	return fake_memory_v1("nvmlDeviceGetMemoryInfo", h, m);
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetPciInfo(nvmlDevice_t h, nvmlPciInfo_t *pci)
{
	return fake_pci("nvmlDeviceGetPciInfo", h, pci, 0);
}

#ifndef FAKE_NVML_V1
FAKE_EXPORT nvmlReturn_t nvmlInit_v2(void)
{
	return fake_init("nvmlInit_v2");
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *count)
{
	return fake_count("nvmlDeviceGetCount_v2", count);
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int i, nvmlDevice_t *out)
{
	return fake_handle_by_index("nvmlDeviceGetHandleByIndex_v2", i, out);
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t h,
								 unsigned int *count, void *infos)
{
	return fake_processes("nvmlDeviceGetComputeRunningProcesses_v3", h, count, infos,
			      sizeof(nvmlProcessInfo_v3_t));
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetPciInfo_v3(nvmlDevice_t h, nvmlPciInfo_t *pci)
{
	return fake_pci("nvmlDeviceGetPciInfo_v3", h, pci, 1);
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t h, nvmlMemory_v2_t *m)
{
	fake_state *s;
	fake_dev *d;
	int unit;
	nvmlReturn_t r = fake_on("nvmlDeviceGetMemoryInfo_v2", h, &s, &d, &unit);

	if (r != NVML_SUCCESS)
		return r;
	if (!m)
		FAKE_DONE(s, NVML_ERROR_INVALID_ARGUMENT);
	if (m->version != NVML_MEMORY_V2)
		FAKE_DONE(s, NVML_ERROR_ARGUMENT_VERSION_MISMATCH);
	m->total = d->memory_mb * MIB;
	m->reserved = d->reserved_mb * MIB;
	m->used = d->used_mb * MIB;
	m->free = m->used + m->reserved < m->total ? m->total - m->used - m->reserved : 0;
	FAKE_DONE(s, NVML_SUCCESS);
}
#endif

static nvmlReturn_t fake_string(const char *fn, nvmlDevice_t h, char *buf, unsigned int len,
				int uuid)
{
	fake_state *s;
	fake_dev *d;
	int unit;
	nvmlReturn_t r = fake_on(fn, h, &s, &d, &unit);
	const char *v;

	if (r != NVML_SUCCESS)
		return r;
	v = uuid ? d->uuid : d->name;
	if (!buf)
		FAKE_DONE(s, NVML_ERROR_INVALID_ARGUMENT);
	if (strlen(v) >= len)
		FAKE_DONE(s, NVML_ERROR_INSUFFICIENT_SIZE);
	memcpy(buf, v, strlen(v) + 1);
	FAKE_DONE(s, NVML_SUCCESS);
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t h, char *uuid, unsigned int len)
{
	return fake_string("nvmlDeviceGetUUID", h, uuid, len, 1);
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t h, char *name, unsigned int len)
{
	return fake_string("nvmlDeviceGetName", h, name, len, 0);
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t h, nvmlUtilization_t *u)
{
	fake_state *s;
	fake_dev *d;
	int unit;
	nvmlReturn_t r = fake_on("nvmlDeviceGetUtilizationRates", h, &s, &d, &unit);

	if (r != NVML_SUCCESS)
		return r;
	if (!u)
		FAKE_DONE(s, NVML_ERROR_INVALID_ARGUMENT);
	if (unit || d->util < 0) /* a MIG unit's handle never answers */
		FAKE_DONE(s, NVML_ERROR_NOT_SUPPORTED);
	u->gpu = (unsigned)d->util;
	u->memory = (unsigned)d->util / 2;
	FAKE_DONE(s, NVML_SUCCESS);
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t h, unsigned int *current,
					      unsigned int *pending)
{
	fake_state *s;
	fake_dev *d;
	int unit;
	nvmlReturn_t r = fake_on("nvmlDeviceGetMigMode", h, &s, &d, &unit);

	if (r != NVML_SUCCESS)
		return r;
	if (!current || !pending || unit)
		FAKE_DONE(s, NVML_ERROR_INVALID_ARGUMENT);
	if (!d->mig)
		FAKE_DONE(s, NVML_ERROR_NOT_SUPPORTED);
	*current = *pending = 1; /* NVML_DEVICE_MIG_ENABLE */
	FAKE_DONE(s, NVML_SUCCESS);
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetMaxMigDeviceCount(nvmlDevice_t h, unsigned int *count)
{
	fake_state *s;
	fake_dev *d;
	int unit;
	nvmlReturn_t r = fake_on("nvmlDeviceGetMaxMigDeviceCount", h, &s, &d, &unit);

	if (r != NVML_SUCCESS)
		return r;
	if (!count || unit)
		FAKE_DONE(s, NVML_ERROR_INVALID_ARGUMENT);
	if (!d->mig)
		FAKE_DONE(s, NVML_ERROR_NOT_SUPPORTED);
	*count = d->n_migs;
	FAKE_DONE(s, NVML_SUCCESS);
}

FAKE_EXPORT nvmlReturn_t nvmlDeviceGetMigDeviceHandleByIndex(nvmlDevice_t h, unsigned int i,
							     nvmlDevice_t *out)
{
	fake_state *s;
	fake_dev *d;
	int unit;
	nvmlReturn_t r = fake_on("nvmlDeviceGetMigDeviceHandleByIndex", h, &s, &d, &unit);

	if (r != NVML_SUCCESS)
		return r;
	if (!out || unit)
		FAKE_DONE(s, NVML_ERROR_INVALID_ARGUMENT);
	if (!d->mig)
		FAKE_DONE(s, NVML_ERROR_NOT_SUPPORTED);
	if (i >= d->n_migs)
		FAKE_DONE(s, NVML_ERROR_NOT_FOUND);
	*out = fake_handle((unsigned)(d - s->gpus), (int)i + 1);
	FAKE_DONE(s, NVML_SUCCESS);
}
