/* check_gpu_nvml.c -- tests for plugins/gpu_nvml*.c, the NVML helper child,
 * against the fake libnvidia-ml.so.1 (tests/fake_nvml.c, built twice: all
 * symbols in $FAKE_NVML, v1 names only in $FAKE_NVML_V1).
 *
 * Each test writes the fake's state file, starts the child, and checks what
 * the parent hands out: the devices and every field, the devices NVML
 * refuses or lost, the reasons when there is no NVML, a call that hangs
 * (the parent never waits on it), readings that follow the state file,
 * the number of NVML reads per refresh, and several threads at once. */

#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <check.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gpu_nvml.h"

#define MIB (1024ull * 1024ull)
#define UUID_A "GPU-11111111-2222-3333-4444-555555555501"
#define UUID_B "GPU-11111111-2222-3333-4444-555555555502"
#define UUID_C "GPU-11111111-2222-3333-4444-555555555503"
#define UUID_M1 "MIG-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeee01"
#define UUID_M2 "MIG-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeee02"

static char dir[64];
static char state_path[96];

static const char *fake(int v1)
{
	const char *p = getenv(v1 ? "FAKE_NVML_V1" : "FAKE_NVML");

	ck_assert_msg(p && *p, "run through make check: FAKE_NVML/FAKE_NVML_V1 unset");
	return p;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Replace the state file whole (a temp file renamed over it), as the
 * fake's contract asks: the child may be reading it right now. */
static void write_state(const char *text)
{
	char tmp[128];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s/state.tmp", dir);
	f = fopen(tmp, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(rename(tmp, state_path), 0);
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/check_gpu_nvml.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(state_path, sizeof(state_path), "%s/state", dir);
	setenv("FAKE_NVML_STATE", state_path, 1);
	unsetenv("FAKE_NVML_LOG");
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

/* Start on `library`, wait for the first answer. */
static gpu_nvml *start_wait(const char *library, int64_t timeout_ms, gpu_nvml_state want,
			    const gpu_snapshot **snap, const char **why)
{
	gpu_nvml *n = NULL;
	gpu_nvml_state st;

	ck_assert_int_eq(gpu_nvml_start(library, timeout_ms, &n), 0);
	ck_assert_ptr_nonnull(n);
	st = gpu_nvml_wait(n, snap, why);
	ck_assert_msg(st == want, "state %d, want %d (%s)", st, want, why && *why ? *why : "");
	return n;
}

static const char two_gpus[] =
	"# two GPUs, the first busy\n"
	"init ok\n"
	"gpu uuid=" UUID_A " name=\"Fake A100\" pci=00000000:3B:00.0 memory_mb=40960 "
	"used_mb=1000 reserved_mb=300 util=10 processes=2\n"
	"gpu uuid=" UUID_B " memory_mb=81920\n";

START_TEST(test_devices_v2)
{
	const gpu_snapshot *s;
	const char *why;
	gpu_nvml *n;

	write_state(two_gpus);
	n = start_wait(fake(0), 5000, GPU_NVML_OK, &s, &why);
	ck_assert_ptr_null(why);
	ck_assert_uint_eq(s->n, 2);
	ck_assert_uint_eq(s->skipped, 0);
	ck_assert_uint_eq(s->seq, 1);
	ck_assert(s->taken_ns > 0);
	ck_assert_str_eq(s->devices[0].uuid, UUID_A);
	ck_assert_str_eq(s->devices[0].name, "Fake A100");
	ck_assert_str_eq(s->devices[0].pci_bus_id, "00000000:3B:00.0");
	ck_assert_str_eq(s->devices[0].parent, "");
	ck_assert_uint_eq(s->devices[0].index, 0);
	ck_assert(!s->devices[0].mig_enabled);
	ck_assert_uint_eq(s->devices[0].memory_total, 40960 * MIB);
	ck_assert_uint_eq(s->devices[0].memory_used, 1000 * MIB); /* v2: reservation apart */
	ck_assert_uint_eq(s->devices[0].memory_free, (40960 - 1000 - 300) * MIB);
	ck_assert_int_eq(s->devices[0].utilization, 10);
	ck_assert_uint_eq(s->devices[0].processes, 2);
	ck_assert_int_eq(s->devices[0].error, 0);
	/* The defaults of the format. */
	ck_assert_str_eq(s->devices[1].uuid, UUID_B);
	ck_assert_str_eq(s->devices[1].name, "Fake GPU");
	ck_assert_str_eq(s->devices[1].pci_bus_id, "00000000:02:00.0");
	ck_assert_uint_eq(s->devices[1].index, 1);
	ck_assert_uint_eq(s->devices[1].memory_free, 81920 * MIB);
	ck_assert_int_eq(s->devices[1].utilization, 0);
	ck_assert_uint_eq(s->devices[1].processes, 0);
	gpu_snapshot_put(s);
	gpu_nvml_free(n);
}
END_TEST

static size_t count_lines(const char *path, const char *line)
{
	char buf[256];
	size_t n = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return 0;
	while (fgets(buf, sizeof(buf), f)) {
		buf[strcspn(buf, "\n")] = '\0';
		n += !strcmp(buf, line);
	}
	fclose(f);
	return n;
}

START_TEST(test_devices_v1)
{
	const gpu_snapshot *s;
	char log[128];
	gpu_nvml *n;

	snprintf(log, sizeof(log), "%s/log", dir);
	setenv("FAKE_NVML_LOG", log, 1);
	write_state(two_gpus);
	n = start_wait(fake(1), 5000, GPU_NVML_OK, &s, NULL);
	ck_assert_uint_eq(s->n, 2);
	ck_assert_uint_eq(s->devices[0].memory_total, 40960 * MIB);
	/* v1 counts the driver's reservation as used. */
	ck_assert_uint_eq(s->devices[0].memory_used, 1300 * MIB);
	ck_assert_uint_eq(s->devices[0].memory_free, (40960 - 1300) * MIB);
	ck_assert_str_eq(s->devices[0].pci_bus_id, "00000000:3B:00.0");
	ck_assert_uint_eq(s->devices[0].processes, 2);
	ck_assert_str_eq(s->devices[1].uuid, UUID_B);
	gpu_snapshot_put(s);
	gpu_nvml_free(n);
	/* The v1 names were the ones called. */
	ck_assert_uint_eq(count_lines(log, "nvmlInit"), 1);
	ck_assert_uint_eq(count_lines(log, "nvmlDeviceGetCount"), 1);
	ck_assert_uint_eq(count_lines(log, "nvmlDeviceGetHandleByIndex"), 2);
	ck_assert_uint_eq(count_lines(log, "nvmlDeviceGetComputeRunningProcesses"), 2);
	ck_assert_uint_eq(count_lines(log, "nvmlDeviceGetPciInfo"), 2);
}
END_TEST

START_TEST(test_versioned_names)
{
	const gpu_snapshot *s;
	char log[128];
	gpu_nvml *n;

	snprintf(log, sizeof(log), "%s/log", dir);
	setenv("FAKE_NVML_LOG", log, 1);
	write_state(two_gpus);
	n = start_wait(fake(0), 5000, GPU_NVML_OK, &s, NULL);
	gpu_snapshot_put(s);
	gpu_nvml_free(n);
	ck_assert_uint_eq(count_lines(log, "nvmlInit_v2"), 1);
	ck_assert_uint_eq(count_lines(log, "nvmlInit"), 0);
	ck_assert_uint_eq(count_lines(log, "nvmlDeviceGetCount_v2"), 1);
	ck_assert_uint_eq(count_lines(log, "nvmlDeviceGetHandleByIndex_v2"), 2);
	ck_assert_uint_eq(count_lines(log, "nvmlDeviceGetMemoryInfo_v2"), 2);
	ck_assert_uint_eq(count_lines(log, "nvmlDeviceGetMemoryInfo"), 0);
	ck_assert_uint_eq(count_lines(log, "nvmlDeviceGetComputeRunningProcesses_v3"), 2);
	ck_assert_uint_eq(count_lines(log, "nvmlDeviceGetPciInfo_v3"), 2);
}
END_TEST

START_TEST(test_mig_units)
{
	const gpu_snapshot *s;
	const gpu_device *g, *u;
	gpu_nvml *n;

	write_state("gpu uuid=" UUID_A " name=\"Fake A100\" memory_mb=81920 util=30 mig=1\n"
		    "mig uuid=" UUID_M1 " name=\"Fake A100 MIG 1g.10gb\" memory_mb=10240 "
		    "used_mb=2048 processes=1\n"
		    "mig uuid=" UUID_M2 " memory_mb=10240\n"
		    "gpu uuid=" UUID_B " memory_mb=40960\n");
	n = start_wait(fake(0), 5000, GPU_NVML_OK, &s, NULL);
	ck_assert_uint_eq(s->n, 4);
	g = &s->devices[0];
	ck_assert_str_eq(g->uuid, UUID_A);
	ck_assert(g->mig_enabled);
	ck_assert_int_eq(g->utilization, 30);
	for (int i = 0; i < 2; i++) {
		u = &s->devices[1 + i];
		ck_assert_str_eq(u->uuid, i ? UUID_M2 : UUID_M1);
		ck_assert_str_eq(u->parent, UUID_A);
		ck_assert_str_eq(u->pci_bus_id, g->pci_bus_id);
		ck_assert_uint_eq(u->index, 0);
		ck_assert_uint_eq(u->mig_index, (unsigned)i);
		ck_assert(!u->mig_enabled);
		ck_assert_int_eq(u->utilization, -1); /* a MIG handle never says */
		ck_assert_uint_eq(u->memory_total, 10240 * MIB);
		ck_assert_int_eq(u->error, 0);
	}
	ck_assert_str_eq(s->devices[1].name, "Fake A100 MIG 1g.10gb");
	ck_assert_uint_eq(s->devices[1].memory_used, 2048 * MIB);
	ck_assert_uint_eq(s->devices[1].processes, 1);
	ck_assert_str_eq(s->devices[3].uuid, UUID_B);
	ck_assert(!s->devices[3].mig_enabled);
	ck_assert_uint_eq(s->devices[3].index, 1);
	gpu_snapshot_put(s);
	gpu_nvml_free(n);
}
END_TEST

START_TEST(test_permission_lost_unsupported)
{
	const gpu_snapshot *s;
	gpu_nvml *n;

	write_state("gpu uuid=" UUID_A " memory_mb=40960 permission=denied\n"
		    "gpu uuid=" UUID_B " memory_mb=40960 lost=1\n"
		    "gpu uuid=" UUID_C " memory_mb=40960 util=unsupported used_mb=10\n");
	n = start_wait(fake(0), 5000, GPU_NVML_OK, &s, NULL);
	ck_assert_uint_eq(s->skipped, 1); /* NO_PERMISSION: left out, counted */
	ck_assert_uint_eq(s->n, 2);
	ck_assert_uint_eq(s->devices[0].index, 1);
	ck_assert_int_eq(s->devices[0].error, 15); /* GPU_IS_LOST: listed, marked */
	ck_assert_str_eq(s->devices[0].uuid, "");  /* even its UUID is unreadable */
	ck_assert_str_eq(gpu_nvml_strerror(s->devices[0].error), "GPU is lost");
	ck_assert_str_eq(s->devices[1].uuid, UUID_C);
	ck_assert_int_eq(s->devices[1].error, 0);
	ck_assert_int_eq(s->devices[1].utilization, -1); /* NOT_SUPPORTED */
	ck_assert_uint_eq(s->devices[1].memory_used, 10 * MIB);
	gpu_snapshot_put(s);
	gpu_nvml_free(n);
}
END_TEST

/* No snapshot, and the reason names what failed. */
static void expect_unavailable(const char *library, const char *state, const char *words)
{
	const gpu_snapshot *s = (const void *)1;
	const char *why = NULL;
	gpu_nvml *n;

	if (state)
		write_state(state);
	else
		unlink(state_path);
	n = start_wait(library, 5000, GPU_NVML_UNAVAILABLE, &s, &why);
	ck_assert_ptr_null(s);
	ck_assert_ptr_nonnull(why);
	ck_assert_msg(strstr(why, words), "why `%s' lacks `%s'", why, words);
	/* The state stays: a refresh answers the same. */
	gpu_nvml_refresh(n);
	ck_assert_int_eq(gpu_nvml_wait(n, &s, &why), GPU_NVML_UNAVAILABLE);
	ck_assert_ptr_null(s);
	ck_assert_msg(strstr(why, words), "why `%s' lacks `%s'", why, words);
	gpu_nvml_free(n);
}

START_TEST(test_unavailable)
{
	char lib[160];

	expect_unavailable(fake(0), NULL, "nvmlInit_v2: Driver Not Loaded");
	expect_unavailable(fake(1), NULL, "nvmlInit: Driver Not Loaded");
	expect_unavailable(fake(0), "init no_driver\ngpu uuid=" UUID_A " memory_mb=1\n",
			   "nvmlInit_v2: Driver Not Loaded");
	expect_unavailable(fake(0), "init fail\n", "nvmlInit_v2: Unknown Error");
	expect_unavailable(fake(0), "init ok\n", "no GPU (nvmlDeviceGetCount_v2 found none)");
	expect_unavailable(fake(0), "gpu uuid=" UUID_A " memory_mb=1 permission=denied\n",
			   "no GPU readable (1 of 1 answered Insufficient Permissions)");
	snprintf(lib, sizeof(lib), "%s/no/libnvidia-ml.so.1", dir);
	expect_unavailable(lib, "init ok\n", "cannot open shared object file");
	expect_unavailable(lib, "init ok\n", lib);
	/* A library that is no NVML. */
	expect_unavailable("libc.so.6", "init ok\n", "libc.so.6: no nvmlInit (not NVML?)");
}
END_TEST

START_TEST(test_hang_first_reading)
{
	const gpu_snapshot *s;
	const char *why;
	gpu_nvml *n = NULL;
	int64_t t0;

	write_state("hang nvmlDeviceGetMemoryInfo_v2\ngpu uuid=" UUID_A " memory_mb=1\n");
	t0 = now_ms();
	ck_assert_int_eq(gpu_nvml_start(fake(0), 400, &n), 0);
	/* Meanwhile, latest answers at once. */
	ck_assert_int_eq(gpu_nvml_latest(n, &s, &why), GPU_NVML_PENDING);
	ck_assert_ptr_null(s);
	ck_assert_ptr_nonnull(why);
	gpu_nvml_refresh(n); /* merged into the reading in flight: no effect */
	ck_assert(now_ms() - t0 < 200);
	ck_assert_int_eq(gpu_nvml_wait(n, &s, &why), GPU_NVML_HUNG);
	ck_assert(now_ms() - t0 >= 400);
	ck_assert(now_ms() - t0 < 2000);
	ck_assert_ptr_null(s);
	ck_assert_str_eq(why, "no answer from NVML for 400 ms (in nvmlDeviceGetMemoryInfo_v2)");
	/* HUNG for good. */
	gpu_nvml_refresh(n);
	ck_assert_int_eq(gpu_nvml_latest(n, NULL, NULL), GPU_NVML_HUNG);
	t0 = now_ms();
	gpu_nvml_free(n);
	ck_assert(now_ms() - t0 < 100);
}
END_TEST

START_TEST(test_hang_mid_run)
{
	const gpu_snapshot *s, *s2;
	const char *why;
	gpu_nvml *n;
	int64_t t0;

	write_state(two_gpus);
	n = start_wait(fake(0), 2000, GPU_NVML_OK, &s, NULL);
	write_state("hang nvmlDeviceGetUtilizationRates\ngpu uuid=" UUID_A " memory_mb=1\n");
	gpu_nvml_refresh(n);
	t0 = now_ms();
	for (int i = 0; i < 100; i++) { /* while it hangs, the old reading, at once */
		ck_assert_int_eq(gpu_nvml_latest(n, &s2, &why), GPU_NVML_OK);
		ck_assert_ptr_eq(s2, s);
		gpu_snapshot_put(s2);
	}
	ck_assert(now_ms() - t0 < 100);
	ck_assert_int_eq(gpu_nvml_wait(n, &s2, &why), GPU_NVML_HUNG);
	ck_assert(now_ms() - t0 >= 1900);
	ck_assert_str_eq(why, "no answer from NVML for 2 s (in nvmlDeviceGetUtilizationRates)");
	ck_assert_ptr_eq(s2, s); /* the last reading is kept, with its time */
	gpu_snapshot_put(s2);
	gpu_snapshot_put(s);
	t0 = now_ms();
	gpu_nvml_free(n);
	ck_assert(now_ms() - t0 < 100);
}
END_TEST

/* Freed while a reading hangs: returns at once, the child is not waited. */
START_TEST(test_free_while_hung)
{
	gpu_nvml *n = NULL;
	int64_t t0;

	write_state("hang nvmlDeviceGetCount_v2\n");
	ck_assert_int_eq(gpu_nvml_start(fake(0), 10000, &n), 0);
	usleep(50000);
	t0 = now_ms();
	gpu_nvml_free(n);
	ck_assert(now_ms() - t0 < 100);
}
END_TEST

START_TEST(test_state_rewritten)
{
	const gpu_snapshot *s;
	gpu_nvml *n;

	write_state("gpu uuid=" UUID_A " memory_mb=40960 used_mb=1000 processes=0\n");
	n = start_wait(fake(0), 5000, GPU_NVML_OK, &s, NULL);
	ck_assert_uint_eq(s->devices[0].memory_used, 1000 * MIB);
	gpu_snapshot_put(s);
	write_state("gpu uuid=" UUID_A " memory_mb=40960 used_mb=30000 processes=3\n"
		    "gpu uuid=" UUID_B " memory_mb=40960\n");
	/* Without a refresh nothing is read. */
	ck_assert_int_eq(gpu_nvml_wait(n, &s, NULL), GPU_NVML_OK);
	ck_assert_uint_eq(s->seq, 1);
	gpu_snapshot_put(s);
	gpu_nvml_refresh(n);
	ck_assert_int_eq(gpu_nvml_wait(n, &s, NULL), GPU_NVML_OK);
	ck_assert_uint_eq(s->seq, 2);
	ck_assert_uint_eq(s->n, 2);
	ck_assert_uint_eq(s->devices[0].memory_used, 30000 * MIB);
	ck_assert_uint_eq(s->devices[0].memory_free, 10960 * MIB);
	ck_assert_uint_eq(s->devices[0].processes, 3);
	gpu_snapshot_put(s);
	/* Then the driver goes away: no snapshot, the reason. */
	write_state("init ok\n");
	gpu_nvml_refresh(n);
	ck_assert_int_eq(gpu_nvml_wait(n, &s, NULL), GPU_NVML_UNAVAILABLE);
	ck_assert_ptr_null(s);
	gpu_nvml_free(n);
}
END_TEST

START_TEST(test_reads_per_refresh)
{
	const gpu_snapshot *s;
	char log[128], state[64 * 80] = "";
	gpu_nvml *n;

	snprintf(log, sizeof(log), "%s/log", dir);
	setenv("FAKE_NVML_LOG", log, 1);
	/* 48 GPUs: a reading takes a few hundred NVML calls, so requests made
	 * meanwhile merge into the one in flight. */
	for (int i = 0; i < 48; i++)
		snprintf(state + strlen(state), sizeof(state) - strlen(state),
			 "gpu uuid=GPU-00000000-0000-0000-0000-%012d memory_mb=1000\n", i);
	write_state(state);
	n = start_wait(fake(0), 10000, GPU_NVML_OK, &s, NULL);
	gpu_snapshot_put(s);
	ck_assert_uint_eq(count_lines(log, "nvmlDeviceGetCount_v2"), 1);
	for (int i = 0; i < 3; i++) { /* one read per refresh */
		gpu_nvml_refresh(n);
		ck_assert_int_eq(gpu_nvml_wait(n, &s, NULL), GPU_NVML_OK);
		ck_assert_uint_eq(s->seq, 2 + (unsigned)i);
		ck_assert_uint_eq(s->n, 48);
		gpu_snapshot_put(s);
	}
	ck_assert_uint_eq(count_lines(log, "nvmlDeviceGetCount_v2"), 4);
	for (int i = 0; i < 50; i++) /* merged */
		gpu_nvml_refresh(n);
	ck_assert_int_eq(gpu_nvml_wait(n, &s, NULL), GPU_NVML_OK);
	ck_assert_uint_eq(s->seq, 5);
	gpu_snapshot_put(s);
	gpu_nvml_free(n);
	ck_assert_uint_eq(count_lines(log, "nvmlDeviceGetCount_v2"), 5);
	ck_assert_uint_eq(count_lines(log, "nvmlInit_v2"), 1); /* once per process */
}
END_TEST

/* The child keeps none of our fds: a pipe we hold is closed there. */
START_TEST(test_child_closes_fds)
{
	const gpu_snapshot *s;
	struct pollfd pfd;
	int p[2];
	char c;
	gpu_nvml *n;

	ck_assert_int_eq(pipe(p), 0); /* no O_CLOEXEC: fork would share it */
	write_state(two_gpus);
	n = start_wait(fake(0), 5000, GPU_NVML_OK, &s, NULL);
	close(p[1]);
	pfd = (struct pollfd){ .fd = p[0], .events = POLLIN };
	ck_assert_int_eq(poll(&pfd, 1, 2000), 1);
	ck_assert_int_eq(read(p[0], &c, 1), 0); /* EOF: no writer left */
	close(p[0]);
	gpu_snapshot_put(s);
	gpu_nvml_free(n);
}
END_TEST

/* Gone: no such process, or a zombie (killed, not reaped yet). */
static bool process_gone(pid_t pid)
{
	char path[64], buf[256], *p;
	FILE *f;
	bool gone;

	if (kill(pid, 0) != 0)
		return true;
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if (!(f = fopen(path, "r")))
		return true;
	gone = fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')) && p[1] == ' ' && p[2] == 'Z';
	fclose(f);
	return gone;
}

/* The helper's pid: the one live child this thread forked (Linux 3.5+'s
 * /proc/.../children; earlier helpers, killed, may linger as zombies). */
static pid_t helper_pid(void)
{
	char path[96];
	long pid, found = 0;
	int live = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%ld/children", (long)syscall(SYS_gettid));
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "%s: no children file", path);
	while (fscanf(f, "%ld", &pid) == 1)
		if (!process_gone((pid_t)pid))
			found = pid, live++;
	fclose(f);
	ck_assert_int_eq(live, 1);
	return (pid_t)found;
}

/* The terminal's signals are the parent's business: the helper ignores
 * them and keeps answering; gpu_nvml_free() kills it. */
START_TEST(test_child_ignores_signals)
{
	const gpu_snapshot *s;
	gpu_nvml *n;
	pid_t pid;
	int status;

	write_state(two_gpus);
	n = start_wait(fake(0), 5000, GPU_NVML_OK, &s, NULL);
	gpu_snapshot_put(s);
	pid = helper_pid();
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(kill(pid, SIGINT), 0);
	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	ck_assert_int_eq(kill(pid, SIGHUP), 0);
	ck_assert_int_eq(kill(pid, SIGPIPE), 0);
	usleep(100000);
	gpu_nvml_refresh(n);
	ck_assert_int_eq(gpu_nvml_wait(n, &s, NULL), GPU_NVML_OK);
	ck_assert_uint_eq(s->seq, 2);
	gpu_snapshot_put(s);
	gpu_nvml_free(n);
	/* Reaped by free if it was quick, else ours to reap: dead either way. */
	if (waitpid(pid, &status, 0) == pid)
		ck_assert(WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) == 0));
	ck_assert(process_gone(pid));
}
END_TEST

/* The helper dies with the process that started it, freed or not, even
 * stuck in an NVML call (where the socket's EOF would never be read). */
START_TEST(test_child_dies_with_parent)
{
	int p[2];
	pid_t mid, helper = 0;
	int64_t t0;

	write_state("hang nvmlDeviceGetCount_v2\n");
	ck_assert_int_eq(pipe(p), 0);
	mid = fork();
	ck_assert_int_ge(mid, 0);
	if (mid == 0) {
		gpu_nvml *n = NULL;
		pid_t h;

		close(p[0]);
		if (gpu_nvml_start(fake(0), 5000, &n) != 0)
			_exit(1);
		usleep(100000); /* into the hanging call */
		if (gpu_nvml_latest(n, NULL, NULL) != GPU_NVML_PENDING)
			_exit(1);
		h = helper_pid();
		if (write(p[1], &h, sizeof(h)) != (ssize_t)sizeof(h))
			_exit(1);
		_exit(0); /* without gpu_nvml_free() */
	}
	close(p[1]);
	ck_assert_int_eq(read(p[0], &helper, sizeof(helper)), (ssize_t)sizeof(helper));
	close(p[0]);
	ck_assert_int_eq(waitpid(mid, NULL, 0), mid);
	ck_assert_int_gt(helper, 0);
	t0 = now_ms();
	while (!process_gone(helper) && now_ms() - t0 < 5000)
		usleep(10000);
	ck_assert_msg(process_gone(helper), "helper %ld outlived its parent", (long)helper);
}
END_TEST

/* A helper that dies (a driver bug killing it mid-call) is GONE at once,
 * not HUNG after the timeout, and stays GONE. */
START_TEST(test_child_killed)
{
	const gpu_snapshot *s;
	const char *why;
	gpu_nvml *n = NULL;
	int64_t t0;

	write_state("hang nvmlDeviceGetCount_v2\n");
	ck_assert_int_eq(gpu_nvml_start(fake(0), 10000, &n), 0);
	usleep(100000);
	ck_assert_int_eq(gpu_nvml_latest(n, NULL, NULL), GPU_NVML_PENDING);
	t0 = now_ms();
	ck_assert_int_eq(kill(helper_pid(), SIGKILL), 0);
	ck_assert_int_eq(gpu_nvml_wait(n, &s, &why), GPU_NVML_GONE);
	ck_assert(now_ms() - t0 < 1000);
	ck_assert_ptr_null(s);
	ck_assert_str_eq(why, "the NVML helper process exited");
	gpu_nvml_refresh(n);
	ck_assert_int_eq(gpu_nvml_latest(n, NULL, NULL), GPU_NVML_GONE);
	gpu_nvml_free(n);
}
END_TEST

struct racer {
	gpu_nvml *n;
	int iterations;
	uint64_t max_seq;
};

static void *race(void *arg)
{
	struct racer *r = arg;

	for (int i = 0; i < r->iterations; i++) {
		const gpu_snapshot *s;
		const char *why;
		gpu_nvml_state st;

		gpu_nvml_refresh(r->n);
		st = gpu_nvml_latest(r->n, &s, &why);
		ck_assert_int_eq(st, GPU_NVML_OK);
		ck_assert_ptr_nonnull(s);
		ck_assert_uint_eq(s->n, 2);
		ck_assert_str_eq(s->devices[1].uuid, UUID_B);
		if (s->seq > r->max_seq)
			r->max_seq = s->seq;
		gpu_snapshot_put(s);
	}
	return NULL;
}

START_TEST(test_threads)
{
	enum { THREADS = 4 };
	struct racer r[THREADS];
	pthread_t t[THREADS];
	const gpu_snapshot *s;
	uint64_t seen = 0;
	gpu_nvml *n;

	write_state(two_gpus);
	n = start_wait(fake(0), 10000, GPU_NVML_OK, &s, NULL);
	gpu_snapshot_put(s);
	for (int i = 0; i < THREADS; i++) {
		r[i] = (struct racer){ .n = n, .iterations = 3000 };
		ck_assert_int_eq(pthread_create(&t[i], NULL, race, &r[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		if (r[i].max_seq > seen)
			seen = r[i].max_seq;
	}
	ck_assert_msg(seen > 1, "no reading arrived while the threads asked: seq %llu",
		      (unsigned long long)seen);
	gpu_nvml_free(n);
}
END_TEST

START_TEST(test_strerror)
{
	ck_assert_str_eq(gpu_nvml_strerror(0), "Success");
	ck_assert_str_eq(gpu_nvml_strerror(4), "Insufficient Permissions");
	ck_assert_str_eq(gpu_nvml_strerror(9), "Driver Not Loaded");
	ck_assert_str_eq(gpu_nvml_strerror(22), "Unknown Error"); /* a hole in the table */
	ck_assert_str_eq(gpu_nvml_strerror(999), "Unknown Error");
	ck_assert_str_eq(gpu_nvml_strerror(-1), "Unknown Error");
}
END_TEST

START_TEST(test_bad_timeout)
{
	gpu_nvml *n = (gpu_nvml *)1;

	ck_assert_int_lt(gpu_nvml_start(fake(0), 0, &n), 0);
	ck_assert_ptr_null(n);
}
END_TEST

static Suite *gpu_nvml_suite(void)
{
	Suite *s = suite_create("gpu_nvml");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_devices_v2);
	tcase_add_test(tc, test_devices_v1);
	tcase_add_test(tc, test_versioned_names);
	tcase_add_test(tc, test_mig_units);
	tcase_add_test(tc, test_permission_lost_unsupported);
	tcase_add_test(tc, test_unavailable);
	tcase_add_test(tc, test_hang_first_reading);
	tcase_add_test(tc, test_hang_mid_run);
	tcase_add_test(tc, test_free_while_hung);
	tcase_add_test(tc, test_state_rewritten);
	tcase_add_test(tc, test_reads_per_refresh);
	tcase_add_test(tc, test_child_closes_fds);
	tcase_add_test(tc, test_child_ignores_signals);
	tcase_add_test(tc, test_child_dies_with_parent);
	tcase_add_test(tc, test_child_killed);
	tcase_add_test(tc, test_threads);
	tcase_add_test(tc, test_strerror);
	tcase_add_test(tc, test_bad_timeout);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(gpu_nvml_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
