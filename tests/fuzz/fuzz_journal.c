/* fuzz_journal.c -- libFuzzer target for the journal's reader: load
 * arbitrary bytes as a journal, then read every part of the view, so that
 * a dangling pointer or a bad length fails under ASan here.  Built with
 * FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION (tests/fuzz/run-journal-fuzz),
 * which lets records with a wrong checksum through, or the fuzzer would
 * never get past them to the decoders.
 *
 * LLVMFuzzerInitialize writes seed journals (made by the real writer)
 * into $FUZZ_JOURNAL_SEEDS when it is set. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "journal.h"

#define HASH "fuzz-0123456789abcdef"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void seed(const char *dir, const char *name, journal_sync sync, bool killed)
{
	static char *const args[] = { "assay", "run", "x.toml", NULL };
	journal_run_info ri = { "20261208T000000Z-0001", HASH, "0.1", args, "boot", 1.5, NULL };
	assay_metric m = { "accuracy", 0.5, "%", "1:2", "@3", 0, 1, ASSAY_METRIC_MIN };
	char *devices[] = { "GPU-1", NULL };
	run_result r = { .status = ASSAY_WARNING, .attempts = 2, .ran = true, .kept = true,
			 .message = "slow", .details = "line\nline", .metrics = &m, .n_metrics = 1,
			 .devices = devices, .trial_dir = "/t", .pruned = true, .pruned_step = 3 };
	char path[4096], why[512];
	journal *j;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	if (journal_open(&j, path, true, sync, &ri, why, sizeof why) < 0)
		return;
	for (uint64_t k = 0; k < 4; k++) {
		journal_key key = { k, k * 31 };

		journal_start(j, key, (uint32_t)k, 1);
		journal_child(j, key, (uint32_t)k, 1, 4242, 98, 99);
		journal_end(j, key, (uint32_t)k, 1, &r);
		if (!killed || k < 2)
			journal_final(j, key, (uint32_t)k, &r);
	}
	if (!killed)
		journal_run_end(j, 9.5, false);
	journal_close(j);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("FUZZ_JOURNAL_SEEDS");

	(void)argc, (void)argv;
	if (dir) {
		seed(dir, "finished", JOURNAL_SYNC_NEVER, false);
		seed(dir, "killed", JOURNAL_SYNC_NEVER, true);
	}
	return 0;
}

static size_t touch(const char *s)
{
	return s ? strlen(s) : 0;
}

static void walk(const journal_view *v)
{
	size_t i, n = 0;

	for (i = 0; i < v->n_runs; i++) {
		const journal_run *r = &v->runs[i];

		n += touch(r->run_id) + touch(r->config_hash) + touch(r->version) +
		     touch(r->boot_id) + touch(r->continues);
		for (char **a = r->argv; a && *a; a++)
			n += touch(*a);
	}
	for (i = 0; i < v->n_orphans; i++) {
		const journal_orphan *o = &v->orphans[i];
		const run_result *res = journal_find(v, o->key);

		n += touch(o->boot_id) + touch(o->run_id);
		if (res && !res->resumed)
			abort();
		if (res) {
			n += touch(res->message) + touch(res->details) + touch(res->skip_reason) +
			     touch(res->trial_dir) + touch(res->resumed_from);
			for (size_t k = 0; k < res->n_metrics; k++)
				n += touch(res->metrics[k].name) + touch(res->metrics[k].unit) +
				     touch(res->metrics[k].warn) + touch(res->metrics[k].crit);
			for (char **d = res->devices; d && *d; d++)
				n += touch(*d);
		}
	}
	if (n == (size_t)-1)
		abort(); /* keeps n alive */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], note[512], why[512];
	journal_view v;
	int fd = memfd_create("journal", MFD_CLOEXEC);

	if (fd < 0)
		abort();
	if (size && write(fd, data, size) != (ssize_t)size)
		abort();
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	if (journal_load(&v, path, HASH, note, sizeof note, why, sizeof why) == 0) {
		walk(&v);
		journal_view_release(&v);
	}
	close(fd);
	return 0;
}
