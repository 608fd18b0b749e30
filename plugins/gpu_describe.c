/* gpu_describe.c -- why a node waits for GPUs, in one line for the progress
 * display and for a wait that times out: "2 GPUs with 8000 MB free: 3 of
 * 4 leased by this run, 1 by pid 4242".
 *
 * It reads only what the choosing already knows -- the latest snapshot and
 * the lease table, whose "held by pid" is what the last failed lock found
 * -- and never touches a lock itself: the progress line is drawn while the
 * run is choosing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu.h"

/* What the candidates are doing, counted. */
typedef struct wait_counts {
	size_t cand;
	unsigned here, elsewhere, booked, low_memory, foreign;
	pid_t pid;        /* one of the other holders */
	bool pids_differ; /* more than one other holder */
} wait_counts;

static void count_candidate(gpu_plugin *pl, const gpu_request *r, const gpu_device *d,
			    wait_counts *c)
{
	gpu_holders h;

	c->cand++;
	gpu_lease_holders(pl->leases, d->uuid, false, &h);
	if (h.here) {
		c->here++;
	} else if (h.here_booked) {
		c->booked++;
	} else if (h.elsewhere_pid) {
		if (c->elsewhere++ && h.elsewhere_pid != c->pid)
			c->pids_differ = true;
		c->pid = h.elsewhere_pid;
	} else if (d->memory_free < r->memory_mb * GPU_MB) {
		c->low_memory++;
	} else if (d->processes && pl->foreign == GPU_FOREIGN_BUSY) {
		c->foreign++;
	}
}

/* Appends ", <what>" when n is not 0. */
static size_t add_part(char *buf, size_t size, size_t at, bool *first, unsigned n,
		       const char *what)
{
	int k;

	if (!n || at >= size)
		return at;
	k = snprintf(buf + at, size - at, "%s%s", *first ? ": " : ", ", what);
	*first = false;
	return k < 0 ? at : at + (size_t)k;
}

static void describe(const gpu_plugin *pl, const gpu_request *r, const wait_counts *c, char *buf,
		     size_t size)
{
	char part[96];
	bool first = true;
	size_t at;
	int k;

	k = snprintf(buf, size, "%u GPU%s", r->count, r->count == 1 ? "" : "s");
	at = k < 0 ? 0 : (size_t)k;
	if (r->memory_mb && at < size) {
		k = snprintf(buf + at, size - at, " with %llu MB free%s",
			     (unsigned long long)r->memory_mb, r->shared ? " to book" : "");
		at = k < 0 ? at : at + (size_t)k;
	}
	snprintf(part, sizeof part, "%u of %zu leased by this run", c->here, c->cand);
	at = add_part(buf, size, at, &first, c->here, part);
	snprintf(part, sizeof part, "%u booked by this run", c->booked);
	at = add_part(buf, size, at, &first, c->booked, part);
	if (c->pid)
		snprintf(part, sizeof part, "%u by pid %ld%s", c->elsewhere, (long)c->pid,
			 c->pids_differ ? " and others" : "");
	else
		snprintf(part, sizeof part, "%u by another process", c->elsewhere);
	at = add_part(buf, size, at, &first, c->elsewhere, part);
	snprintf(part, sizeof part, "%u with too little free memory", c->low_memory);
	at = add_part(buf, size, at, &first, c->low_memory, part);
	snprintf(part, sizeof part, "%u busy with other users' processes", c->foreign);
	at = add_part(buf, size, at, &first, c->foreign, part);
	if (first && c->cand == 0)
		add_part(buf, size, at, &first, 1, "no candidate device");
}

void gpu_describe_wait(void *req, void *data, char *buf, size_t size)
{
	gpu_plugin *pl = data;
	const gpu_request *r = req;
	const gpu_snapshot *snap = NULL;
	wait_counts c = { 0 };
	bool allowed[256];

	if (!size)
		return;
	buf[0] = '\0';
	if (pl->nvml && gpu_nvml_latest(pl->nvml, &snap, NULL) == GPU_NVML_OK && snap) {
		size_t n = snap->n < 256 ? snap->n : 256;

		gpu_candidates(pl, &(gpu_snapshot){ .devices = snap->devices, .n = n }, allowed);
		for (size_t i = 0; i < n; i++)
			if (allowed[i] && !(r->count > 1 && snap->devices[i].parent[0]))
				count_candidate(pl, r, &snap->devices[i], &c);
	}
	if (snap)
		gpu_snapshot_put(snap);
	describe(pl, r, &c, buf, size);
}
