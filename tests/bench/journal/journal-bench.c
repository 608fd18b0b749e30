/* journal-bench.c -- the journal's benchmark driver (tests/bench/journal/run
 * runs it): how fast records are written under each journal_sync policy,
 * against the bare write(2) of the same bytes, and how fast and large a
 * load of a big journal is.
 *
 *   journal-bench write DIR POLICY THREADS ITEMS   journal_start/end/final per item
 *   journal-bench raw DIR THREADS ITEMS            the peer: the same bytes, one write(2) each
 *   journal-bench load DIR ITEMS                   write ITEMS items, then time journal_load
 *
 * Each prints one line: "records seconds" (write, raw) or "finals seconds
 * bytes rss_kb" (load: the file's size and what the view added to the
 * resident set). */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "journal.h"

#define HASH "bench-0123456789abcdef"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static journal_key key(uint64_t n)
{
	return (journal_key){ n * 0x9e3779b97f4a7c15ULL, n };
}

/* What an item of `true` leaves: OK, exit 0, its times. */
static run_result item_result(double t)
{
	return (run_result){ .status = ASSAY_OK, .attempts = 1, .ran = true, .kept = true,
			     .message = "exit 0", .start = t, .end = t + 0.002,
			     .duration = 0.002 };
}

typedef struct worker {
	pthread_t th;
	journal *j;
	int fd;              /* raw: the file */
	uint64_t first, n;   /* its items */
	const void *rec;     /* raw: a record's bytes per kind */
	size_t rec_size[3];
} worker;

static void *write_items(void *arg)
{
	worker *w = arg;

	for (uint64_t i = w->first; i < w->first + w->n; i++) {
		run_result r = item_result(1796684450.0 + (double)i);

		journal_start(w->j, key(i), (uint32_t)i, 1);
		journal_end(w->j, key(i), (uint32_t)i, 1, &r);
		journal_final(w->j, key(i), (uint32_t)i, &r);
	}
	return NULL;
}

static void *write_raw(void *arg)
{
	worker *w = arg;
	const char *rec = w->rec;

	for (uint64_t i = w->first; i < w->first + w->n; i++)
		for (int k = 0; k < 3; k++)
			if (write(w->fd, rec, w->rec_size[k]) < 0)
				abort();
	return NULL;
}

static journal *open_journal(const char *path, journal_sync sync)
{
	static char *const argv[] = { "journal-bench", NULL };
	journal_run_info ri = { "20261208T000000Z-0000", HASH, "bench", argv, "boot", 0, NULL };
	char why[512];
	journal *j;

	if (journal_open(&j, path, true, sync, &ri, why, sizeof why) < 0) {
		fprintf(stderr, "journal-bench: %s\n", why);
		exit(2);
	}
	return j;
}

static int bench_write(const char *dir, const char *policy, unsigned threads, uint64_t items)
{
	journal_sync sync = strcmp(policy, "batch") == 0 ? JOURNAL_SYNC_BATCH
			    : strcmp(policy, "run") == 0 ? JOURNAL_SYNC_RUN
							 : JOURNAL_SYNC_NEVER;
	worker *w = calloc(threads, sizeof *w);
	char path[4096];
	double t0, t1;
	journal *j;

	snprintf(path, sizeof path, "%s/journal-bench.%d", dir, (int)getpid());
	j = open_journal(path, sync);
	t0 = now();
	for (unsigned t = 0; t < threads; t++) {
		w[t] = (worker){ .j = j, .first = items * t / threads,
				 .n = items * (t + 1) / threads - items * t / threads };
		pthread_create(&w[t].th, NULL, write_items, &w[t]);
	}
	for (unsigned t = 0; t < threads; t++)
		pthread_join(w[t].th, NULL);
	if (journal_close(j) < 0)
		return 2;
	t1 = now();
	printf("%llu %.6f\n", (unsigned long long)items * 3, t1 - t0);
	unlink(path);
	free(w);
	return 0;
}

static int bench_raw(const char *dir, unsigned threads, uint64_t items)
{
	/* The sizes the journal's start, end and final records of an item
	 * of `true` take (measured from a journal of one item). */
	static const char rec[256];
	worker *w = calloc(threads, sizeof *w);
	char path[4096];
	double t0, t1;
	int fd;

	snprintf(path, sizeof path, "%s/journal-bench-raw.%d", dir, (int)getpid());
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return 2;
	t0 = now();
	for (unsigned t = 0; t < threads; t++) {
		w[t] = (worker){ .fd = fd, .rec = rec, .rec_size = { 29, 70, 69 },
				 .first = items * t / threads,
				 .n = items * (t + 1) / threads - items * t / threads };
		pthread_create(&w[t].th, NULL, write_raw, &w[t]);
	}
	for (unsigned t = 0; t < threads; t++)
		pthread_join(w[t].th, NULL);
	close(fd);
	t1 = now();
	printf("%llu %.6f\n", (unsigned long long)items * 3, t1 - t0);
	unlink(path);
	free(w);
	return 0;
}

/* The resident set, in KiB. */
static long rss_kb(void)
{
	long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f && fscanf(f, "%ld %ld", &pages, &resident) != 2)
		resident = 0;
	if (f)
		fclose(f);
	return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static int bench_load(const char *dir, uint64_t items)
{
	worker w = { .first = 0, .n = items };
	char path[4096], note[512], why[512];
	journal_view v;
	double t0, t1;
	long before;
	FILE *f;
	long size = 0;

	snprintf(path, sizeof path, "%s/journal-bench-load.%d", dir, (int)getpid());
	w.j = open_journal(path, JOURNAL_SYNC_NEVER);
	write_items(&w);
	journal_close(w.j);
	if ((f = fopen(path, "r"))) {
		fseek(f, 0, SEEK_END);
		size = ftell(f);
		fclose(f);
	}
	before = rss_kb();
	t0 = now();
	if (journal_load(&v, path, HASH, note, sizeof note, why, sizeof why) < 0) {
		fprintf(stderr, "journal-bench: %s\n", why);
		return 2;
	}
	t1 = now();
	/* Every key found, so that what find costs is in the time too. */
	for (uint64_t i = 0; i < items; i++)
		if (!journal_find(&v, key(i)))
			return 2;
	printf("%zu %.6f %ld %ld %.6f\n", v.n_finals, t1 - t0, size, rss_kb() - before,
	       now() - t1);
	journal_view_release(&v);
	unlink(path);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 6 && strcmp(argv[1], "write") == 0)
		return bench_write(argv[2], argv[3], (unsigned)atoi(argv[4]),
				   strtoull(argv[5], NULL, 10));
	if (argc == 5 && strcmp(argv[1], "raw") == 0)
		return bench_raw(argv[2], (unsigned)atoi(argv[3]), strtoull(argv[4], NULL, 10));
	if (argc == 4 && strcmp(argv[1], "load") == 0)
		return bench_load(argv[2], strtoull(argv[3], NULL, 10));
	fprintf(stderr, "usage: journal-bench write DIR batch|run|never THREADS ITEMS\n"
			"       journal-bench raw DIR THREADS ITEMS\n"
			"       journal-bench load DIR ITEMS\n");
	return 64;
}
