/* check_gpu.c -- the gpu plugin's parts: the score and the order of
 * candidates, CUDA_VISIBLE_DEVICES read as CUDA reads it (and Slurm's
 * lists), the leases and the memory ledger across processes (children
 * that hold, book, and die), and the resource type over the fake host and
 * the fake libnvidia-ml.so.1 (FAKE_NVML): prepare's refusals with their
 * messages, choosing by score, the node's environment, "no GPU here". */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fake_host.h"
#include "gpu.h"

static char tmp[256];

static void setup(void)
{
	snprintf(tmp, sizeof tmp, "%s/check_gpu.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
}

static void teardown(void)
{
	char cmd[300];

	fake_host_reset();
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		fprintf(stderr, "check_gpu: could not remove %s\n", tmp);
}

/* ---- the score ------------------------------------------------------------ */

static bool near(double a, double b)
{
	return a - b < 1e-9 && b - a < 1e-9;
}

static gpu_device dev(const char *uuid, const char *pci, uint64_t total_mb, uint64_t free_mb,
		      int util)
{
	gpu_device d = { .memory_total = total_mb * GPU_MB, .memory_free = free_mb * GPU_MB,
			 .utilization = util };

	snprintf(d.uuid, sizeof d.uuid, "%s", uuid);
	snprintf(d.pci_bus_id, sizeof d.pci_bus_id, "%s", pci);
	d.memory_used = d.memory_total - d.memory_free;
	return d;
}

START_TEST(test_score_table)
{
	static const struct {
		uint64_t total, free;
		int util;
		double want;
	} rows[] = {
		{ 40960, 40960, 0, 1.0 },   /* idle and empty */
		{ 40960, 0, 100, 0.0 },     /* full and busy */
		{ 40960, 20480, 50, 0.5 },  /* 0.6 x 0.5 + 0.4 x 0.5 */
		{ 40960, 40960, 100, 0.6 }, /* memory weighs 0.6 */
		{ 40960, 0, 0, 0.4 },       /* idleness 0.4 */
		{ 10240, 5120, -1, 0.5 },   /* no utilisation (MIG): memory alone */
		{ 80000, 60000, 10, 0.6 * 0.75 + 0.4 * 0.9 },
		{ 0, 0, 0, 0.0 },           /* a device that reports no memory */
	};

	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		gpu_device d = dev("GPU-x", "00000000:01:00.0", rows[i].total, rows[i].free,
				   rows[i].util);

		ck_assert_msg(near(gpu_score(&d, d.memory_free), rows[i].want),
			      "row %zu: score %f, want %f", i, gpu_score(&d, d.memory_free),
			      rows[i].want);
	}
}
END_TEST

/* Equal scores fall back on PCI bus id, then MIG unit; "count" puts
 * devices with foreign processes last whatever their score. */
START_TEST(test_rank_order)
{
	gpu_rank r[] = {
		{ .dev = 0, .score = 0.5, .pci = "00000000:03:00.0" },
		{ .dev = 1, .score = 0.9, .pci = "00000000:04:00.0", .foreign = 2 },
		{ .dev = 2, .score = 0.5, .pci = "00000000:01:00.0" },
		{ .dev = 3, .score = 0.7, .pci = "00000000:02:00.0", .mig_index = 1 },
		{ .dev = 4, .score = 0.7, .pci = "00000000:02:00.0", .mig_index = 0 },
	};
	gpu_rank c[5];
	static const size_t by_score[] = { 1, 4, 3, 2, 0 }, by_count[] = { 4, 3, 2, 0, 1 };

	memcpy(c, r, sizeof r);
	gpu_rank_sort(c, 5, GPU_FOREIGN_IGNORE);
	for (size_t i = 0; i < 5; i++)
		ck_assert_uint_eq(c[i].dev, by_score[i]);
	memcpy(c, r, sizeof r);
	gpu_rank_sort(c, 5, GPU_FOREIGN_COUNT);
	for (size_t i = 0; i < 5; i++)
		ck_assert_uint_eq(c[i].dev, by_count[i]);
}
END_TEST

/* ---- CUDA_VISIBLE_DEVICES ------------------------------------------------ */

/* NVML's view: GPUs 0, 1, 2 (two sharing a UUID prefix), GPU 3 NVML would
 * not let us read (absent), GPU 4 in MIG mode with two units. */
static gpu_device vis_devs[6];

static void vis_setup(void)
{
	static const char *const uuids[] = {
		"GPU-11111111-2222-3333-4444-555555555500", "GPU-11112222-2222-3333-4444-555555555501",
		"GPU-22222222-2222-3333-4444-555555555502", "GPU-44444444-2222-3333-4444-555555555504",
		"MIG-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeee01", "MIG-aaaabbbb-bbbb-cccc-dddd-eeeeeeeeee02",
	};
	static const unsigned index[] = { 0, 1, 2, 4, 4, 4 };

	memset(vis_devs, 0, sizeof vis_devs);
	for (size_t i = 0; i < 6; i++) {
		snprintf(vis_devs[i].uuid, GPU_UUID_MAX, "%s", uuids[i]);
		vis_devs[i].index = index[i];
		if (i >= 4) {
			strcpy(vis_devs[i].parent, uuids[3]);
			vis_devs[i].mig_index = (unsigned)i - 4;
		}
	}
	vis_devs[3].mig_enabled = true;
}

/* want: the allowed devices as a string of 0/1 over vis_devs. */
static const struct vis_row {
	const char *cuda, *step, *job;
	const char *want;
	const char *cut; /* the entry the list was cut at, NULL for none */
} vis_rows[] = {
	{ NULL, NULL, NULL, "111011", NULL },             /* unset: all, MIG GPU as its units */
	{ "", NULL, NULL, "000000", NULL },               /* empty: none */
	{ "0,2", NULL, NULL, "101000", NULL },
	{ "2,0", NULL, NULL, "101000", NULL },            /* order does not matter here */
	{ " 1 , 2 ", NULL, NULL, "011000", NULL },        /* blanks around entries */
	{ "GPU-2222", NULL, NULL, "001000", NULL },       /* a unique prefix */
	{ "gpu-22222222-2222-3333-4444-555555555502", NULL, NULL, "001000", NULL },
	{ "GPU-1111", NULL, NULL, "000000", "GPU-1111" }, /* ambiguous: cut there */
	{ "0,GPU-1111,2", NULL, NULL, "100000", "GPU-1111,2" },
	{ "GPU-11111", NULL, NULL, "100000", NULL },      /* long enough to be unique */
	{ "0,7,1", NULL, NULL, "100000", "7,1" },         /* no such index */
	{ "1,3,2", NULL, NULL, "010000", "3,2" },         /* index 3 unreadable: absent */
	{ "0,foo,1", NULL, NULL, "100000", "foo,1" },     /* not an entry */
	{ "0,,1", NULL, NULL, "100000", ",1" },           /* an empty entry */
	{ "-1", NULL, NULL, "000000", "-1" },             /* CUDA's idiom for "none" */
	{ "GPU-", NULL, NULL, "000000", "GPU-" },
	{ "GPU-99", NULL, NULL, "000000", "GPU-99" },     /* unknown UUID */
	{ "4", NULL, NULL, "000011", NULL },              /* a MIG GPU: its units */
	{ "GPU-4444", NULL, NULL, "000011", NULL },
	{ "MIG-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeee01", NULL, NULL, "000010", NULL },
	{ "MIG-aaaab", NULL, NULL, "000001", NULL },      /* a unit's unique prefix */
	{ "MIG-aaaa", NULL, NULL, "000000", "MIG-aaaa" }, /* ambiguous between units */
	{ "MIG-GPU-44444444-2222-3333-4444-555555555504/1/0", NULL, NULL, "000001", NULL },
	{ "MIG-GPU-44444444-2222-3333-4444-555555555504/x/0", NULL, NULL, "000000",
	  "MIG-GPU-44444444-2222-3333-4444-555555555504/x/0" },
	{ "MIG-GPU-11111111-2222-3333-4444-555555555500/0/0", NULL, NULL, "000000",
	  "MIG-GPU-11111111-2222-3333-4444-555555555500/0/0" }, /* not in MIG mode */
	{ "0", NULL, "1,2", "011000", NULL },             /* Slurm's job list wins */
	{ "0", "2", "1,2", "001000", NULL },              /* a step's wins over its job's */
	{ NULL, NULL, "", "000000", NULL },               /* allocated none */
	{ NULL, NULL, "GPU-2222", "000000", "GPU-2222" }, /* Slurm lists are indices */
	{ NULL, NULL, "2,9", "001000", "9" },
};

START_TEST(test_visible_table)
{
	const struct vis_row *row = &vis_rows[_i];
	gpu_env env = { .cuda_visible = row->cuda, .slurm_step_gpus = row->step,
			.slurm_job_gpus = row->job };
	bool allowed[6];
	const char *cut = (const char *)1;
	char got[7];

	vis_setup();
	gpu_visible_select(&env, vis_devs, 6, allowed, &cut);
	for (size_t i = 0; i < 6; i++)
		got[i] = allowed[i] ? '1' : '0';
	got[6] = '\0';
	ck_assert_msg(strcmp(got, row->want) == 0, "CUDA_VISIBLE_DEVICES=%s step=%s job=%s: %s, want %s",
		      row->cuda ? row->cuda : "(unset)", row->step ? row->step : "-",
		      row->job ? row->job : "-", got, row->want);
	if (row->cut)
		ck_assert_str_eq(cut ? cut : "(none)", row->cut);
	else
		ck_assert_msg(cut == NULL, "%s: cut at `%s`", row->cuda, cut);
}
END_TEST

START_TEST(test_visible_source)
{
	gpu_env env = { .cuda_visible = "0", .slurm_job_gpus = "1" };
	bool allowed[6];

	vis_setup();
	ck_assert_int_eq(gpu_visible_select(&env, vis_devs, 6, allowed, NULL),
			 GPU_VISIBLE_SLURM_JOB);
	ck_assert_str_eq(gpu_visible_source_name(GPU_VISIBLE_SLURM_JOB), "SLURM_JOB_GPUS");
	env.slurm_job_gpus = NULL;
	ck_assert_int_eq(gpu_visible_select(&env, vis_devs, 6, allowed, NULL), GPU_VISIBLE_CUDA);
	env.cuda_visible = NULL;
	ck_assert_int_eq(gpu_visible_select(&env, vis_devs, 6, allowed, NULL), GPU_VISIBLE_ALL);
}
END_TEST

/* ---- leases ------------------------------------------------------------------ */

#define UUID_A "GPU-aaaaaaaa-0000-0000-0000-000000000001"
#define UUID_B "GPU-bbbbbbbb-0000-0000-0000-000000000002"

static char lock_dir[300];

static gpu_leases *leases_here(void)
{
	gpu_leases *l;

	snprintf(lock_dir, sizeof lock_dir, "%s/locks", tmp);
	ck_assert_ptr_nonnull(l = gpu_leases_new(lock_dir));
	return l;
}

/* A child with leases of its own on the same lock_dir runs fn, reports
 * its answer through a pipe, then waits for the parent to close the pipe
 * (or to kill it) before _exit()ing without giving anything back. */
typedef int (*child_fn)(gpu_leases *l, pid_t *pid);

typedef struct child {
	pid_t pid;
	int answer, hold; /* fds: the child's answer; closing hold ends it */
} child;

static child child_start(child_fn fn)
{
	int a[2], h[2];
	child c;

	ck_assert_int_eq(pipe(a), 0);
	ck_assert_int_eq(pipe(h), 0);
	c.pid = fork();
	ck_assert_int_ge(c.pid, 0);
	if (c.pid == 0) {
		gpu_leases *l = gpu_leases_new(lock_dir);
		pid_t pid = 0;
		int rc[2] = { fn(l, &pid), 0 };
		char byte;

		rc[1] = (int)pid;
		close(a[0]);
		close(h[1]);
		if (write(a[1], rc, sizeof rc) != sizeof rc)
			_exit(2);
		while (read(h[0], &byte, 1) > 0)
			;
		_exit(0); /* the leases are never given back: the kernel does it */
	}
	close(a[1]);
	close(h[0]);
	c.answer = a[0];
	c.hold = h[1];
	return c;
}

/* The child's answer and the holder pid it saw. */
static int child_answer(child *c, pid_t *pid)
{
	int rc[2];

	ck_assert_int_eq(read(c->answer, rc, sizeof rc), (ssize_t)sizeof rc);
	if (pid)
		*pid = rc[1];
	return rc[0];
}

static void child_end(child *c, bool kill9)
{
	int st;

	if (kill9)
		kill(c->pid, SIGKILL);
	close(c->hold);
	close(c->answer);
	ck_assert_int_eq(waitpid(c->pid, &st, 0), c->pid);
}

static int take_a(gpu_leases *l, pid_t *pid)
{
	return gpu_lease_take(l, UUID_A, "child", pid);
}

START_TEST(test_lease_one_holder)
{
	gpu_leases *l = leases_here();
	pid_t pid;
	child c;
	struct stat st;
	char path[400], line[200] = "";
	FILE *f;

	umask(077); /* what the files' modes must not depend on */
	ck_assert_int_eq(gpu_lease_take(l, UUID_A, "lr[lr=0.1]", &pid), GPU_TAKEN);
	ck_assert_int_eq(stat(lock_dir, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 01777);
	snprintf(path, sizeof path, "%s/%s.lock", lock_dir, UUID_A);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0666);
	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
	fclose(f);
	ck_assert_msg(strstr(line, "node=lr[lr=0.1]") && atol(strstr(line, "pid=") + 4) == getpid(),
		      "holder line: %s", line);
	/* Another thread of this process: held here, ask again at a release. */
	ck_assert_int_eq(gpu_lease_take(l, UUID_A, "b", &pid), GPU_BUSY_HERE);
	/* Another process: held elsewhere, by our pid. */
	c = child_start(take_a);
	ck_assert_int_eq(child_answer(&c, &pid), GPU_BUSY_ELSEWHERE);
	ck_assert_int_eq(pid, getpid());
	child_end(&c, false);
	gpu_lease_give(l, UUID_A);
	ck_assert_int_gt(gpu_lease_released_ns(l, UUID_A), 0);
	ck_assert_int_eq(gpu_lease_released_ns(l, UUID_B), 0);
	/* Given back: the child gets it, then dies by kill -9 holding it. */
	c = child_start(take_a);
	ck_assert_int_eq(child_answer(&c, NULL), GPU_TAKEN);
	ck_assert_int_eq(gpu_lease_take(l, UUID_A, "b", &pid), GPU_BUSY_ELSEWHERE);
	ck_assert_int_eq(pid, c.pid);
	child_end(&c, true);
	ck_assert_int_eq(gpu_lease_take(l, UUID_A, "b", &pid), GPU_TAKEN);
	gpu_leases_free(l);
}
END_TEST

/* One fd per device per process: the same device asked for twice does
 * not open its file twice (two open()s would conflict in one process). */
START_TEST(test_lease_one_fd_per_device)
{
	gpu_leases *l = leases_here();
	pid_t pid;
	int before, after = 0;

	ck_assert_int_eq(gpu_lease_take(l, UUID_A, "a", &pid), GPU_TAKEN);
	gpu_lease_give(l, UUID_A);
	before = dup(0);
	close(before);
	for (int i = 0; i < 100; i++) {
		ck_assert_int_eq(gpu_lease_take(l, UUID_A, "a", &pid), GPU_TAKEN);
		gpu_lease_give(l, UUID_A);
	}
	after = dup(0);
	close(after);
	ck_assert_int_eq(after, before);
	ck_assert_int_eq(gpu_lease_take(l, "GPU-../../etc/x", "a", &pid), ASSAY_ESYS);
	gpu_leases_free(l);
}
END_TEST

/* ---- the ledger ---------------------------------------------------------- */

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int book_5000(gpu_leases *l, pid_t *pid)
{
	gpu_booking b;

	return gpu_book(l, UUID_A, 5000, 40960, 40960, mono_ns(), "child", &b, pid);
}

static int take_a_exclusive(gpu_leases *l, pid_t *pid)
{
	return gpu_lease_take(l, UUID_A, "child", pid);
}

START_TEST(test_ledger_bookings)
{
	gpu_leases *l = leases_here();
	gpu_booking b1, b2, b3;
	uint64_t since, all;
	unsigned count;
	int64_t snap = mono_ns();
	pid_t pid;
	child c;

	ck_assert_int_eq(gpu_book(l, UUID_A, 10000, 40960, 40960, snap, "a", &b1, &pid), GPU_TAKEN);
	ck_assert_int_eq(gpu_book(l, UUID_A, 30000, 40960, 40960, snap, "b", &b2, &pid), GPU_TAKEN);
	/* 41000 MB would not fit in 40960, and only this process booked. */
	ck_assert_int_eq(gpu_book(l, UUID_A, 1000, 40960, 40960, snap, "c", &b3, &pid),
			 GPU_BUSY_HERE);
	ck_assert_int_eq(gpu_ledger_sum(l, UUID_A, snap, &since, &all, &count), 0);
	ck_assert_uint_eq(all, 40000);
	ck_assert_uint_eq(since, 40000);
	ck_assert_uint_eq(count, 2);
	/* An exclusive lease waits for the bookings, here and elsewhere. */
	ck_assert_int_eq(gpu_lease_take(l, UUID_A, "x", &pid), GPU_BUSY_HERE);
	c = child_start(take_a_exclusive);
	ck_assert_int_eq(child_answer(&c, NULL), GPU_BUSY_ELSEWHERE);
	child_end(&c, false);
	/* A second process sees this one's bookings. */
	c = child_start(book_5000);
	ck_assert_int_eq(child_answer(&c, NULL), GPU_BUSY_ELSEWHERE);
	child_end(&c, false);
	gpu_unbook(l, UUID_A, &b2);
	/* Now it fits; the child dies by kill -9 holding its booking. */
	c = child_start(book_5000);
	ck_assert_int_eq(child_answer(&c, NULL), GPU_TAKEN);
	ck_assert_int_eq(gpu_ledger_sum(l, UUID_A, 0, &since, &all, &count), 0);
	ck_assert_uint_eq(all, 15000);
	ck_assert_uint_eq(count, 2);
	child_end(&c, true);
	ck_assert_int_eq(gpu_ledger_sum(l, UUID_A, 0, &since, &all, &count), 0);
	ck_assert_uint_eq(all, 10000);
	ck_assert_uint_eq(count, 1);
	gpu_unbook(l, UUID_A, &b1);
	ck_assert_int_eq(gpu_ledger_sum(l, UUID_A, 0, &since, &all, &count), 0);
	ck_assert_uint_eq(count, 0);
	ck_assert_int_eq(gpu_lease_take(l, UUID_A, "x", &pid), GPU_TAKEN);
	gpu_leases_free(l);
}
END_TEST

/* A child that books and _exit()s at once: its booking is gone with it. */
static int book_and_exit(gpu_leases *l, pid_t *pid)
{
	gpu_booking b;

	if (gpu_book(l, UUID_B, 2000, 10240, 10240, mono_ns(), "gone", &b, pid) != GPU_TAKEN)
		_exit(3);
	_exit(0);
}

START_TEST(test_ledger_dead_process_booking_gone)
{
	gpu_leases *l = leases_here();
	uint64_t since, all;
	unsigned count;
	pid_t pid = fork();
	int st;

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		book_and_exit(gpu_leases_new(lock_dir), &pid);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_int_eq(WEXITSTATUS(st), 0);
	ck_assert_int_eq(gpu_ledger_sum(l, UUID_B, 0, &since, &all, &count), 0);
	ck_assert_uint_eq(count, 0);
	ck_assert_uint_eq(all, 0);
	gpu_leases_free(l);
}
END_TEST

/* task-spooler #59: the free memory NVML gave before a booking does not
 * count what that booking's node has not allocated yet. */
START_TEST(test_ledger_snapshot_not_trusted_twice)
{
	gpu_leases *l = leases_here();
	gpu_booking b1, b2;
	int64_t snap = mono_ns();
	pid_t pid;

	ck_assert_int_eq(gpu_book(l, UUID_A, 15000, 40960, 20000, snap, "a", &b1, &pid), GPU_TAKEN);
	/* The same reading again: 20000 free, 15000 of it booked since. */
	ck_assert_int_eq(gpu_book(l, UUID_A, 10000, 40960, 20000, snap, "b", &b2, &pid),
			 GPU_BUSY_HERE); /* only this process's booking is in the way */
	/* A reading taken after the booking shows its memory as used. */
	ck_assert_int_eq(gpu_book(l, UUID_A, 5000, 40960, 5000, mono_ns(), "b", &b2, &pid),
			 GPU_TAKEN);
	gpu_unbook(l, UUID_A, &b2);
	gpu_unbook(l, UUID_A, &b1);
	gpu_leases_free(l);
}
END_TEST

/* ---- the resource type over the fake host and the fake NVML -------------- */

#define G(n) "GPU-00000000-0000-0000-0000-00000000000" #n

/* GPU 3 and 4 are both idle and empty (score 1.0): PCI bus id decides. */
static const char *const four_gpus =
	"gpu uuid=" G(1) " name=\"Fake A\" memory_mb=40960 used_mb=30000 util=10\n"
	"gpu uuid=" G(2) " memory_mb=40960 util=50\n"
	"gpu uuid=" G(3) " memory_mb=40960 util=0\n"
	"gpu uuid=" G(4) " memory_mb=16384 util=0\n";

static void write_state(const char *text)
{
	char path[400], next[420];
	FILE *f;

	snprintf(path, sizeof path, "%s/state", tmp);
	snprintf(next, sizeof next, "%s/state.next", tmp);
	ck_assert_ptr_nonnull(f = fopen(next, "w"));
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(rename(next, path), 0);
	setenv("FAKE_NVML_STATE", path, 1);
}

/* Loads the plugin (compiled in) with [plugins.gpu] pointing at the fake
 * library and a lock_dir of our own, plus extra. */
static const assay_resource_type *load_gpu(const char *extra)
{
	const char *lib = getenv("FAKE_NVML");
	char cfg[2048];

	snprintf(lock_dir, sizeof lock_dir, "%s/locks", tmp);
	snprintf(cfg, sizeof cfg,
		 "[plugins.gpu]\nnvml_library = \"%s\"\nlock_dir = \"%s\"\nnvml_timeout = \"2s\"\n%s",
		 lib ? lib : "tests/fake-nvml/libnvidia-ml.so.1", lock_dir, extra ? extra : "");
	fake_set_config(cfg);
	ck_assert_int_eq(assay_plugin_init(fake_host(), fake_plugin()), 0);
	ck_assert_ptr_nonnull(fake_resource_type("gpu"));
	return fake_resource_type("gpu");
}

/* A node's `resources = { toml }`, as the host hands it to prepare. */
static const assay_value *resources(const char *toml)
{
	char doc[512];

	snprintf(doc, sizeof doc, "r = { %s }\n", toml);
	return fake_host()->value_get(fake_parse(doc), "r");
}

static void *prepare_ok(const assay_resource_type *t, const char *toml)
{
	void *req = NULL;
	int rc = t->prepare(resources(toml), t->data, &req);

	ck_assert_msg(rc == 0, "%s: %s: %s", toml, fake_host()->strerror(rc), fake_errors());
	return req;
}

/* prepare refuses toml with rc, saying want (fake_errors' "line:col: ..."). */
static void prepare_refused(const assay_resource_type *t, const char *toml, int rc,
			    const char *want)
{
	void *req = NULL;
	size_t before = fake_error_count();

	ck_assert_int_eq(t->prepare(resources(toml), t->data, &req), rc);
	ck_assert_uint_gt(fake_error_count(), before);
	ck_assert_msg(strstr(fake_errors(), want), "%s: errors:\n%s\nwant: %s", toml,
		      fake_errors(), want);
}

START_TEST(test_prepare_refusals)
{
	const assay_resource_type *t;

	write_state(four_gpus);
	t = load_gpu(NULL);
	t->release_request(prepare_ok(t, "gpu = 4, gpu_memory_mb = 16000"), t->data);
	t->release_request(prepare_ok(t, "gpu = 1, gpu_memory_mb = 40000, gpu_shared = true"),
			   t->data);
	t->release_request(prepare_ok(t, "gpu = 1, slot = 3"), t->data); /* not ours */
	prepare_refused(t, "gpu = 5", ASSAY_ENEVER,
			"1:13: `gpu = 5`: this machine has 4 candidate devices");
	prepare_refused(t, "gpu = 1, gpu_memory_mb = 50000", ASSAY_ENEVER,
			"1:32: `gpu_memory_mb = 50000`: more than any candidate device has (the largest has 40960 MB)");
	prepare_refused(t, "gpu = 4, gpu_memory_mb = 20000", ASSAY_ENEVER,
			"1:32: `gpu_memory_mb = 20000` on each of 4 devices: only 3 candidate devices have that much memory");
	prepare_refused(t, "gpu = 1, gpu_memroy_mb = 10", ASSAY_EINVAL,
			"1:16: unknown key `gpu_memroy_mb` in `resources` (did you mean `gpu_memory_mb`?)");
	prepare_refused(t, "gpu = 0", ASSAY_EINVAL, "1:13: `gpu` must be");
	prepare_refused(t, "gpu = \"two\"", ASSAY_EINVAL, "1:13: `gpu` must be");
	prepare_refused(t, "gpu = 1, gpu_shared = true", ASSAY_EINVAL,
			"`gpu_shared = true` packs nodes on a device by the memory they book: it needs `gpu_memory_mb`");
	prepare_refused(t, "gpu = 1, gpu_shared = 1", ASSAY_EINVAL,
			"`gpu_shared` must be true or false");
	prepare_refused(t, "gpu_memory_mb = 100", ASSAY_EINVAL, "`gpu_memory_mb` needs `gpu`");
}
END_TEST

START_TEST(test_prepare_mig_one_unit)
{
	const assay_resource_type *t;

	write_state("gpu uuid=" G(1) " memory_mb=81920 mig=1\n"
		    "mig uuid=MIG-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeee01 memory_mb=10240 used_mb=5000\n"
		    "mig uuid=MIG-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeee02 memory_mb=10240\n");
	t = load_gpu(NULL);
	prepare_refused(t, "gpu = 2", ASSAY_ENEVER,
			"`gpu = 2`: a node gets at most one MIG unit (CUDA shows a process one), and 0 of the 2 candidates are whole GPUs");
	prepare_refused(t, "gpu = 1, gpu_memory_mb = 20000", ASSAY_ENEVER, "more than any");
}
END_TEST

START_TEST(test_plugin_config_errors)
{
	fake_set_config("[plugins.gpu]\nlock_dri = \"/x\"\nforeign = \"bussy\"\n"
			"nvml_timeout = \"0s\"\nlock_dir = \"\"\n");
	ck_assert_int_eq(assay_plugin_init(fake_host(), fake_plugin()), ASSAY_EINVAL);
	ck_assert_msg(strstr(fake_errors(), "2:1: ") && strstr(fake_errors(), "did you mean `lock_dir`"),
		      "%s", fake_errors());
	ck_assert_msg(strstr(fake_errors(), "3:11: ") && strstr(fake_errors(), "did you mean \"busy\""),
		      "%s", fake_errors());
	ck_assert_msg(strstr(fake_errors(), "4:16: "), "%s", fake_errors());
	ck_assert_msg(strstr(fake_errors(), "5:12: `lock_dir` must be a path, not an empty string"),
		      "%s", fake_errors());
}
END_TEST

static const char *task_env(assay_task *task, const char *name)
{
	char *const *env = fake_host()->environ(task);
	size_t n = strlen(name);

	for (size_t i = 0; env && env[i]; i++)
		if (strncmp(env[i], name, n) == 0 && env[i][n] == '=')
			return env[i] + n + 1;
	return NULL;
}

static assay_task *task(const char *id)
{
	return fake_task(id, ASSAY_KIND_TRIAL, NULL, NULL, -1);
}

/* The best by score, ties by PCI bus id; each device once; the node's
 * environment names the UUIDs; what cannot be had now waits. */
START_TEST(test_acquire_by_score)
{
	const assay_resource_type *t;
	void *one, *big, *two, *g1, *g2, *g3, *g4;
	assay_task *a = task("a"), *b = task("b"), *c = task("c"), *d = task("d");
	unsigned tries;

	write_state(four_gpus);
	t = load_gpu(NULL);
	one = prepare_ok(t, "gpu = 1");
	big = prepare_ok(t, "gpu = 1, gpu_memory_mb = 20000");
	two = prepare_ok(t, "gpu = 2");
	ck_assert_int_eq(fake_acquire(a, t, one, 0, &g1, &tries), 0);
	ck_assert_str_eq(task_env(a, "CUDA_VISIBLE_DEVICES"), G(3));
	ck_assert_str_eq(task_env(a, "CUDA_DEVICE_ORDER"), "PCI_BUS_ID");
	ck_assert_int_eq(fake_acquire(b, t, one, 0, &g2, &tries), 0);
	ck_assert_str_eq(task_env(b, "CUDA_VISIBLE_DEVICES"), G(4));
	/* 20000 MB free: GPU 2 (GPU 1 has 10960). */
	ck_assert_int_eq(fake_acquire(c, t, big, 0, &g3, &tries), 0);
	ck_assert_str_eq(task_env(c, "CUDA_VISIBLE_DEVICES"), G(2));
	/* Two devices: only GPU 1 is left, so it waits; a release lets it in. */
	ck_assert_int_eq(fake_acquire(d, t, two, 50, &g4, &tries), ASSAY_EAGAIN);
	fake_release(t, g1);
	ck_assert_int_eq(fake_acquire(d, t, two, 2000, &g4, &tries), 0);
	ck_assert_str_eq(task_env(d, "CUDA_VISIBLE_DEVICES"), G(3) "," G(1));
	/* Recorded for the node's result, in grant order. */
	ck_assert_str_eq(fake_task_device(d, 0), G(3));
	ck_assert_str_eq(fake_task_device(d, 1), G(1));
	ck_assert_ptr_null(fake_task_device(d, 2));
	ck_assert_uint_eq(fake_task_device_count(d), 2);
	ck_assert_str_eq(fake_task_device(a, 0), G(3));
	fake_release(t, g2);
	fake_release(t, g3);
	fake_release(t, g4);
	t->release_request(one, t->data);
	t->release_request(big, t->data);
	t->release_request(two, t->data);
}
END_TEST

/* foreign = "busy" (the default) passes over a device with other users'
 * compute processes; "ignore" takes it by score. */
START_TEST(test_acquire_foreign)
{
	const char *state = "gpu uuid=" G(1) " memory_mb=40960 util=0 processes=2\n"
			    "gpu uuid=" G(2) " memory_mb=40960 used_mb=20000 util=60\n";
	const assay_resource_type *t;
	assay_task *a = task("a");
	void *one, *g;
	unsigned tries;

	write_state(state);
	t = load_gpu(NULL);
	one = prepare_ok(t, "gpu = 1");
	ck_assert_int_eq(fake_acquire(a, t, one, 0, &g, &tries), 0);
	ck_assert_str_eq(task_env(a, "CUDA_VISIBLE_DEVICES"), G(2));
	fake_release(t, g);
	t->release_request(one, t->data);
	fake_host_reset();
	t = load_gpu("foreign = \"ignore\"\n");
	one = prepare_ok(t, "gpu = 1");
	a = task("a");
	ck_assert_int_eq(fake_acquire(a, t, one, 0, &g, &tries), 0);
	ck_assert_str_eq(task_env(a, "CUDA_VISIBLE_DEVICES"), G(1));
	fake_release(t, g);
	t->release_request(one, t->data);
}
END_TEST

/* What a node waits for may change outside assay: another user's process
 * ends, memory is freed.  Fresh readings come without any release. */
START_TEST(test_acquire_waits_for_the_outside)
{
	const assay_resource_type *t;
	void *one, *big, *g;
	assay_task *a = task("a"), *b = task("b");
	unsigned tries;

	write_state("gpu uuid=" G(1) " memory_mb=40960 used_mb=30000 processes=1\n");
	t = load_gpu("nvml_interval = \"10ms\"\nretry_interval = \"20ms\"\n");
	one = prepare_ok(t, "gpu = 1");
	big = prepare_ok(t, "gpu = 1, gpu_memory_mb = 20000");
	ck_assert_int_eq(fake_acquire(a, t, one, 100, &g, &tries), ASSAY_EAGAIN);
	ck_assert_uint_gt(tries, 1); /* asked again by itself: retry_ms */
	write_state("gpu uuid=" G(1) " memory_mb=40960 used_mb=30000 processes=0\n");
	ck_assert_int_eq(fake_acquire(a, t, one, 3000, &g, &tries), 0);
	fake_release(t, g);
	ck_assert_int_eq(fake_acquire(b, t, big, 100, &g, &tries), ASSAY_EAGAIN);
	write_state("gpu uuid=" G(1) " memory_mb=40960 used_mb=1000\n");
	ck_assert_int_eq(fake_acquire(b, t, big, 3000, &g, &tries), 0);
	fake_release(t, g);
	t->release_request(one, t->data);
	t->release_request(big, t->data);
}
END_TEST

/* A lock_dir that cannot be made fails the node, naming it and why. */
START_TEST(test_lock_dir_unusable)
{
	const assay_resource_type *t;
	assay_task *a = task("a");
	void *one, *g;
	char cfg[600], file[300];
	unsigned tries;
	FILE *f;

	write_state(four_gpus);
	snprintf(file, sizeof file, "%s/plain-file", tmp);
	ck_assert_ptr_nonnull(f = fopen(file, "w"));
	fclose(f);
	/* load_gpu's own lock_dir comes first; the later key would be a
	 * duplicate, so set the whole table here. */
	snprintf(cfg, sizeof cfg, "[plugins.gpu]\nnvml_library = \"%s\"\nlock_dir = \"%s/locks\"\n",
		 getenv("FAKE_NVML") ? getenv("FAKE_NVML") : "tests/fake-nvml/libnvidia-ml.so.1",
		 file);
	fake_set_config(cfg);
	ck_assert_int_eq(assay_plugin_init(fake_host(), fake_plugin()), 0);
	t = fake_resource_type("gpu");
	one = prepare_ok(t, "gpu = 1");
	ck_assert_int_eq(fake_acquire(a, t, one, 0, &g, &tries), ASSAY_ESYS);
	ck_assert_msg(strstr(fake_task_message(a), "cannot lease GPU " G(3) " in ") &&
			      strstr(fake_task_message(a), "plain-file/locks: Not a directory"),
		      "%s", fake_task_message(a));
	t->release_request(one, t->data);
}
END_TEST

/* Without NVML the config still passes; the node fails saying why. */
START_TEST(test_no_gpu_here)
{
	const assay_resource_type *t;
	assay_task *a = task("a");
	void *req, *g = NULL;
	unsigned tries;
	int rc;

	setenv("FAKE_NVML_STATE", "/nonexistent/state", 1); /* no driver */
	t = load_gpu(NULL);
	req = prepare_ok(t, "gpu = 8, gpu_memory_mb = 900000");
	rc = fake_acquire(a, t, req, 3000, &g, &tries);
	ck_assert_int_lt(rc, 0);
	ck_assert_int_ne(rc, ASSAY_EAGAIN);
	ck_assert_msg(strncmp(fake_task_message(a), "no GPU here: ", 13) == 0, "message: %s",
		      fake_task_message(a));
	t->release_request(req, t->data);
}
END_TEST

/* gpu_shared packs by booked memory: 3 x 12000 MB on one 40960 MB GPU,
 * the fourth waits; "2 GPUs with ..." says why. */
START_TEST(test_acquire_shared_packs)
{
	const assay_resource_type *t;
	void *req, *g[4];
	assay_task *k[4] = { task("a"), task("b"), task("c"), task("d") };
	char why[200];
	unsigned tries;

	write_state("gpu uuid=" G(1) " memory_mb=40960\n");
	t = load_gpu(NULL);
	req = prepare_ok(t, "gpu = 1, gpu_memory_mb = 12000, gpu_shared = true");
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(fake_acquire(k[i], t, req, 0, &g[i], &tries), 0);
		ck_assert_str_eq(task_env(k[i], "CUDA_VISIBLE_DEVICES"), G(1));
	}
	ck_assert_int_eq(fake_acquire(k[3], t, req, 50, &g[3], &tries), ASSAY_EAGAIN);
	t->describe_wait(req, t->data, why, sizeof why);
	ck_assert_str_eq(why, "1 GPU with 12000 MB free to book: 1 booked by this run");
	fake_release(t, g[0]);
	ck_assert_int_eq(fake_acquire(k[3], t, req, 2000, &g[3], &tries), 0);
	for (int i = 1; i < 4; i++)
		fake_release(t, g[i]);
	t->release_request(req, t->data);
}
END_TEST

START_TEST(test_describe_wait)
{
	const assay_resource_type *t;
	void *one, *g[4];
	assay_task *k = task("k"), *l;
	char why[200];
	unsigned tries;

	write_state(four_gpus);
	t = load_gpu(NULL);
	/* GPU 3 and 4 to the first; GPU 1 has 10960 MB free, so GPU 2 alone
	 * is left for the second. */
	one = prepare_ok(t, "gpu = 2, gpu_memory_mb = 12000");
	ck_assert_int_eq(fake_acquire(k, t, one, 0, &g[0], &tries), 0);
	l = task("l");
	ck_assert_int_eq(fake_acquire(l, t, one, 0, &g[1], &tries), ASSAY_EAGAIN);
	t->describe_wait(one, t->data, why, sizeof why);
	ck_assert_str_eq(why, "2 GPUs with 12000 MB free: 2 of 4 leased by this run, 1 with too little free memory");
	ck_assert_str_eq(fake_task_wait_text(l), why); /* what the host's queue asked */
	t->describe_wait(one, t->data, why, 12); /* cut to size */
	ck_assert_str_eq(why, "2 GPUs with");
	fake_release(t, g[0]);
	t->release_request(one, t->data);
}
END_TEST

/* `assay gpus` through its main: the devices and their leases; 3 without
 * NVML; 64 on a bad option. */
static int run_gpus(const assay_resource_type *t, const char *arg, char *out, size_t size)
{
	char *argv[] = { "gpus", (char *)arg, NULL };
	FILE *f = tmpfile();
	size_t n;
	int rc;

	ck_assert_ptr_nonnull(f);
	(void)t;
	const assay_command *cmd = fake_command("gpus");

	ck_assert_ptr_nonnull(cmd);
	rc = cmd->main(arg ? 2 : 1, argv, f, cmd->data);
	rewind(f);
	n = fread(out, 1, size - 1, f);
	out[n] = '\0';
	fclose(f);
	return rc;
}

START_TEST(test_gpus_command)
{
	const assay_resource_type *t;
	void *one, *g;
	char out[8192];
	unsigned tries;

	write_state(four_gpus);
	t = load_gpu(NULL);
	one = prepare_ok(t, "gpu = 1");
	ck_assert_int_eq(fake_acquire(task("lr"), t, one, 0, &g, &tries), 0);
	ck_assert_int_eq(run_gpus(t, NULL, out, sizeof out), 0);
	ck_assert_msg(strstr(out, "[0] " G(1) "  Fake A  10 %  30000 / 40960 MB  score "), "%s", out);
	ck_assert_msg(strstr(out, "[2] " G(3)) && strstr(out, "leased by this process"), "%s", out);
	ck_assert_int_eq(run_gpus(t, "--format=json", out, sizeof out), 0);
	ck_assert_msg(strstr(out, "\"uuid\":\t\"" G(4) "\""), "%s", out);
	ck_assert_msg(strstr(out, "\"state\":\t\"leased\""), "%s", out);
	ck_assert_int_eq(run_gpus(t, "--frmat", out, sizeof out), 64);
	ck_assert_int_eq(run_gpus(t, "--help", out, sizeof out), 0);
	ck_assert_msg(strstr(out, "usage: assay gpus"), "%s", out);
	fake_release(t, g);
	t->release_request(one, t->data);
	fake_host_reset();
	setenv("FAKE_NVML_STATE", "/nonexistent/state", 1);
	t = load_gpu(NULL);
	ck_assert_int_eq(run_gpus(t, NULL, out, sizeof out), 3);
}
END_TEST

static Suite *gpu_suite(void)
{
	Suite *s = suite_create("gpu");
	TCase *tc = tcase_create("pure");

	tcase_add_test(tc, test_score_table);
	tcase_add_test(tc, test_rank_order);
	tcase_add_loop_test(tc, test_visible_table, 0, (int)(sizeof vis_rows / sizeof vis_rows[0]));
	tcase_add_test(tc, test_visible_source);
	suite_add_tcase(s, tc);
	tc = tcase_create("leases");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_lease_one_holder);
	tcase_add_test(tc, test_lease_one_fd_per_device);
	tcase_add_test(tc, test_ledger_bookings);
	tcase_add_test(tc, test_ledger_dead_process_booking_gone);
	tcase_add_test(tc, test_ledger_snapshot_not_trusted_twice);
	suite_add_tcase(s, tc);
	tc = tcase_create("resource");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_prepare_refusals);
	tcase_add_test(tc, test_prepare_mig_one_unit);
	tcase_add_test(tc, test_plugin_config_errors);
	tcase_add_test(tc, test_acquire_by_score);
	tcase_add_test(tc, test_acquire_foreign);
	tcase_add_test(tc, test_acquire_waits_for_the_outside);
	tcase_add_test(tc, test_lock_dir_unusable);
	tcase_add_test(tc, test_no_gpu_here);
	tcase_add_test(tc, test_acquire_shared_packs);
	tcase_add_test(tc, test_describe_wait);
	tcase_add_test(tc, test_gpus_command);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(gpu_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
