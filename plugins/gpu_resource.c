/* gpu_resource.c -- the resource type `gpu` at run time: choosing devices
 * for a waiting node, leasing them, giving them back, and saying why a
 * node waits.
 *
 * try_acquire never blocks and never reads NVML: it scores the latest
 * snapshot (the NVML child's), tries the leases best first, and answers
 * "not now" (the host asks again at the next release, or after retry_ms
 * when what is missing is held outside this process).  A release asks
 * the child for a fresh reading, merged with any already asked for, so
 * NVML is read at most once per scheduling round, never once per try.
 * A snapshot older than our own release of a device still shows our
 * finished node's memory and process: the device is then skipped until
 * the fresh reading comes, rather than counted as someone else's. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gpu.h"

#define STALE_RETRY_MS 5 /* a fresh reading is on its way */
#define LEDGER_RETRY_MS 2 /* another process is updating a ledger */
#define RANK_MAX 256

/* What try_acquire holds for a node until release. */
typedef struct gpu_grant {
	unsigned n;
	bool shared;
	struct grant_dev {
		char uuid[GPU_UUID_MAX];
		gpu_booking booking;
	} dev[];
} gpu_grant;

/* Why devices were passed over in one try, to pick the retry. */
typedef struct try_why {
	unsigned here, elsewhere, not_now, stale;
} try_why;

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

size_t gpu_candidates(const gpu_plugin *pl, const gpu_snapshot *snap, bool *allowed)
{
	size_t n = 0;

	gpu_visible_select(&pl->env, snap->devices, snap->n, allowed, NULL);
	for (size_t i = 0; i < snap->n; i++) {
		allowed[i] = allowed[i] && snap->devices[i].error == 0;
		n += allowed[i];
	}
	return n;
}

/* The memory free on d for a booking: NVML's reading less what was booked
 * since (by any process), and never more than the total less every
 * booking. */
static uint64_t shared_free(gpu_plugin *pl, const gpu_device *d, int64_t taken_ns)
{
	uint64_t since_mb, all_mb, total_mb = d->memory_total / GPU_MB, free_mb;
	unsigned count;

	free_mb = d->memory_free / GPU_MB;
	if (gpu_ledger_sum(pl->leases, d->uuid, taken_ns, &since_mb, &all_mb, &count) < 0)
		return 0;
	free_mb = since_mb > free_mb ? 0 : free_mb - since_mb;
	if (all_mb >= total_mb)
		return 0;
	return free_mb < total_mb - all_mb ? free_mb * GPU_MB : (total_mb - all_mb) * GPU_MB;
}

/* Whether d can serve r now by what this process knows (memory, foreign
 * processes, its own leases); if not, why->* counts why. */
static bool device_fits(const gpu_plugin *pl, const gpu_request *r, const gpu_device *d,
			const gpu_lease_view *v, bool stale, uint64_t free, unsigned *foreign,
			try_why *why)
{
	bool mine = v->here || v->here_booked;

	/* Processes on a device this process uses, or used when the snapshot
	 * was taken, are presumed its own. */
	*foreign = mine || stale ? 0 : d->processes;
	if (v->here || (v->here_booked && !r->shared)) {
		why->here++; /* its release makes the host ask again */
		return false;
	}
	if (free >= r->memory_mb * GPU_MB && !(*foreign && pl->foreign == GPU_FOREIGN_BUSY))
		return true;
	if (stale)
		why->stale++;
	else if (mine)
		why->here++;
	else
		why->elsewhere++;
	return false;
}

/* The candidates that could serve r now, by score, in rank[]. */
static size_t rank_devices(gpu_plugin *pl, const gpu_request *r, const gpu_snapshot *snap,
			   gpu_rank *rank, try_why *why)
{
	bool allowed[RANK_MAX];
	gpu_lease_view view[RANK_MAX];
	size_t n = snap->n < RANK_MAX ? snap->n : RANK_MAX, nr = 0;

	gpu_candidates(pl, &(gpu_snapshot){ .devices = snap->devices, .n = n }, allowed);
	gpu_leases_view(pl->leases, snap->devices, n, view);
	for (size_t i = 0; i < n; i++) {
		const gpu_device *d = &snap->devices[i];
		bool stale = view[i].released_ns > snap->taken_ns;
		uint64_t free;
		unsigned foreign;

		if (!allowed[i] || (r->count > 1 && d->parent[0]))
			continue;
		free = r->shared ? shared_free(pl, d, snap->taken_ns) : d->memory_free;
		if (!device_fits(pl, r, d, &view[i], stale, free, &foreign, why))
			continue;
		rank[nr++] = (gpu_rank){ .dev = i, .score = gpu_score(d, free), .foreign = foreign,
					 .pci = d->pci_bus_id, .mig_index = d->mig_index };
	}
	gpu_rank_sort(rank, nr, pl->foreign);
	return nr;
}

static void give_back(gpu_plugin *pl, gpu_grant *g)
{
	for (unsigned i = 0; i < g->n; i++) {
		if (g->shared)
			gpu_unbook(pl->leases, g->dev[i].uuid, &g->dev[i].booking);
		else
			gpu_lease_give(pl->leases, g->dev[i].uuid);
	}
	g->n = 0;
}

/* Takes the best devices of rank[] until r->count are held.  0 when they
 * are; ASSAY_EAGAIN; or a negative code after saying why. */
static int take_devices(gpu_plugin *pl, assay_task *task, const gpu_request *r,
			const gpu_snapshot *snap, const gpu_rank *rank, size_t nr, gpu_grant *g,
			try_why *why)
{
	const char *node = pl->host->task_id(task);

	for (size_t k = 0; k < nr && g->n < r->count; k++) {
		const gpu_device *d = &snap->devices[rank[k].dev];
		struct grant_dev *gd = &g->dev[g->n];
		pid_t pid;
		int rc = r->shared ? gpu_book(pl->leases, d->uuid, r->memory_mb,
					      d->memory_total / GPU_MB, d->memory_free / GPU_MB,
					      snap->taken_ns, node, &gd->booking, &pid)
				   : gpu_lease_take(pl->leases, d->uuid, node, &pid);

		if (rc < 0) {
			char err[128];
			/* Named now: the host's formatting may change errno. */
			const char *e = strerror_r(errno, err, sizeof err);

			pl->host->set_message(task, "cannot lease GPU %s in %s: %s", d->uuid,
					      gpu_leases_dir(pl->leases), e);
			give_back(pl, g);
			return rc;
		}
		why->here += rc == GPU_BUSY_HERE;
		why->elsewhere += rc == GPU_BUSY_ELSEWHERE;
		why->not_now += rc == GPU_NOT_NOW;
		if (rc == GPU_TAKEN)
			strcpy(g->dev[g->n++].uuid, d->uuid);
	}
	if (g->n == r->count)
		return 0;
	give_back(pl, g);
	return ASSAY_EAGAIN;
}

/* The node's environment and result: which devices it holds. */
static int hand_over(gpu_plugin *pl, assay_task *task, const gpu_grant *g)
{
	const assay_host *h = pl->host;
	char *list = malloc((size_t)g->n * GPU_UUID_MAX + 1), *p = list;
	int rc = 0;

	if (!list)
		return ASSAY_ENOMEM;
	*p = '\0';
	for (unsigned i = 0; i < g->n && rc == 0; i++) {
		p += sprintf(p, "%s%s", i ? "," : "", g->dev[i].uuid);
		if (h->task_add_device)
			rc = h->task_add_device(task, g->dev[i].uuid);
	}
	if (rc == 0)
		rc = h->setenv(task, "CUDA_VISIBLE_DEVICES", list);
	if (rc == 0)
		rc = h->setenv(task, "CUDA_DEVICE_ORDER", "PCI_BUS_ID");
	free(list);
	return rc;
}

/* One try against the snapshot. */
static int acquire_from(gpu_plugin *pl, assay_task *task, const gpu_request *r,
			const gpu_snapshot *snap, void **grant, uint32_t *retry_ms)
{
	gpu_rank rank[RANK_MAX];
	try_why why = { 0 };
	size_t nr = rank_devices(pl, r, snap, rank, &why);
	gpu_grant *g = calloc(1, sizeof *g + r->count * sizeof g->dev[0]);
	int rc;

	if (!g)
		return ASSAY_ENOMEM;
	g->shared = r->shared;
	rc = take_devices(pl, task, r, snap, rank, nr, g, &why);
	if (rc == 0 && (rc = hand_over(pl, task, g)) < 0) {
		pl->host->set_message(task, "cannot hand GPUs to the node: %s",
				      pl->host->strerror(rc));
		give_back(pl, g);
	}
	if (rc < 0) {
		free(g);
		/* Held only by this process: the host asks again at its next
		 * release.  Otherwise nobody here would tell it. */
		if (rc == ASSAY_EAGAIN)
			*retry_ms = why.not_now	    ? LEDGER_RETRY_MS
				    : why.stale	    ? STALE_RETRY_MS
				    : why.elsewhere ? pl->retry_ms
						    : 0;
		/* What is missing may change outside this process (another
		 * user's job ends, memory is freed) with no release here to
		 * tell: those who wait on it are owed fresh readings. */
		if (rc == ASSAY_EAGAIN && (why.stale || why.elsewhere))
			gpu_refresh(pl, true);
		return rc;
	}
	*grant = g;
	return 0;
}

void gpu_refresh(gpu_plugin *pl, bool released)
{
	int64_t now, last;

	if (released)
		atomic_store_explicit(&pl->refresh_wanted, true, memory_order_relaxed);
	if (!pl->nvml || !atomic_load_explicit(&pl->refresh_wanted, memory_order_relaxed))
		return;
	now = now_ns();
	last = atomic_load(&pl->refresh_ns);
	if (now - last < pl->nvml_interval_ms * 1000000 ||
	    !atomic_compare_exchange_strong(&pl->refresh_ns, &last, now))
		return; /* soon, by a later try or release */
	atomic_store(&pl->refresh_wanted, false);
	gpu_nvml_refresh(pl->nvml);
	if (pl->stats_on)
		atomic_fetch_add_explicit(&pl->stats.rounds, 1, memory_order_relaxed);
}

/* ASSAY_GPU_STATS: the wall time inside the plugin, which counts the time
 * its thread was preempted (on a busy machine, most of it), and the
 * thread's CPU time, which does not.  The CPU clock is a system call (no
 * vDSO for it), the wall clock is not: each span reads the CPU clock
 * outside the wall clock's, so that the measuring is not measured. */
typedef struct stats_clock {
	int64_t wall, cpu;
} stats_clock;

static int64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void stats_start(const gpu_plugin *pl, stats_clock *c)
{
	if (pl->stats_on) {
		c->cpu = cpu_ns();
		c->wall = now_ns();
	}
}

static void stats_add(const stats_clock *c, atomic_uint_fast64_t *wall,
		      atomic_uint_fast64_t *cpu)
{
	atomic_fetch_add_explicit(wall, (uint64_t)(now_ns() - c->wall), memory_order_relaxed);
	atomic_fetch_add_explicit(cpu, (uint64_t)(cpu_ns() - c->cpu), memory_order_relaxed);
}

int gpu_try_acquire(assay_task *task, void *req, void *data, void **grant, uint32_t *retry_ms)
{
	gpu_plugin *pl = data;
	const gpu_snapshot *snap = NULL;
	const char *why = pl->nvml_why;
	stats_clock t0;
	gpu_nvml_state st;
	int rc;

	stats_start(pl, &t0);

	gpu_refresh(pl, false); /* one a release asked for and the interval held back */
	st = pl->nvml ? gpu_nvml_latest(pl->nvml, &snap, &why) : GPU_NVML_GONE;

	if (st == GPU_NVML_OK && snap) {
		rc = acquire_from(pl, task, req, snap, grant, retry_ms);
	} else if (st == GPU_NVML_PENDING) {
		*retry_ms = STALE_RETRY_MS;
		rc = ASSAY_EAGAIN;
	} else {
		pl->host->set_message(task, "no GPU here: %s", why ? why : "NVML cannot be read");
		rc = ASSAY_ESYS;
	}
	if (snap)
		gpu_snapshot_put(snap);
	if (pl->stats_on) {
		atomic_fetch_add_explicit(&pl->stats.tries, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(rc == 0 ? &pl->stats.grants : &pl->stats.refused, 1,
					  memory_order_relaxed);
		stats_add(&t0, &pl->stats.acquire_ns, &pl->stats.acquire_cpu_ns);
	}
	return rc;
}

void gpu_release(void *grant, void *data)
{
	gpu_plugin *pl = data;
	stats_clock t0;

	stats_start(pl, &t0);
	give_back(pl, grant);
	free(grant);
	gpu_refresh(pl, true);
	if (pl->stats_on)
		stats_add(&t0, &pl->stats.release_ns, &pl->stats.release_cpu_ns);
}
