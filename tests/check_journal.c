/* check_journal.c -- Check suite for the journal (core/journal*.c): every
 * record kind and result field round trip, a torn tail at every byte of
 * the last record, a flipped bit, another format or config, an empty and
 * a missing file, the last final winning, orphans, 8 threads appending at
 * once, compaction, and write errors. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "journal.h"
#include "journal_int.h"

#define HASH "infra-0123456789abcdef"
#define BOOT_ID "2f9c1e1a-8f7b-4c1e-9a55-0d7c3b1e2a44"

static char tmp[256], path[300];

static void setup(void)
{
	snprintf(tmp, sizeof tmp, "%s/check_journal.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
	snprintf(path, sizeof path, "%s/journal", tmp);
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	chmod(p, 0700);
	return remove(p);
}

static void teardown(void)
{
	nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static journal_key key(uint64_t n)
{
	return (journal_key){ 0x1234567800000000ULL | (n >> 32), n * 0x9e3779b97f4a7c15ULL + 1 };
}

static char *const argv0[] = { "assay", "run", "--resume", "infra.toml", NULL };

static journal_run_info info(const char *run_id, const char *continues)
{
	return (journal_run_info){ run_id, HASH, "1.2.3", argv0, BOOT_ID, 1796684450.25,
				   continues };
}

static journal *open_journal(bool fresh, const char *run_id, journal_sync sync)
{
	journal_run_info ri = info(run_id, fresh ? NULL : "R0");
	char why[512] = "";
	journal *j;

	ck_assert_msg(journal_open(&j, path, fresh, sync, &ri, why, sizeof why) == 0, "%s", why);
	return j;
}

static void load(journal_view *v, char *note, size_t note_size)
{
	char why[512] = "";

	ck_assert_msg(journal_load(v, path, HASH, note, note_size, why, sizeof why) == 0, "%s",
		      why);
}

/* A plain result: OK, message m. */
static run_result ok(const char *m)
{
	return (run_result){ .status = ASSAY_OK, .attempts = 1, .ran = true, .kept = true,
			     .message = (char *)m, .start = 10, .end = 11, .duration = 1 };
}

static off_t file_size(const char *p)
{
	struct stat st;

	ck_assert_int_eq(stat(p, &st), 0);
	return st.st_size;
}

static void copy_file(const char *from, const char *to, off_t n)
{
	char buf[65536];
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ssize_t k;

	ck_assert(in >= 0 && out >= 0);
	while (n > 0 && (k = read(in, buf, n < (off_t)sizeof buf ? (size_t)n : sizeof buf)) > 0) {
		ck_assert_int_eq(write(out, buf, (size_t)k), k);
		n -= k;
	}
	close(in);
	close(out);
}

static void assert_metric_eq(const assay_metric *a, const assay_metric *b)
{
	ck_assert_str_eq(a->name, b->name);
	ck_assert(a->value == b->value);
	ck_assert_pstr_eq(a->unit, b->unit);
	ck_assert_pstr_eq(a->warn, b->warn);
	ck_assert_pstr_eq(a->crit, b->crit);
	ck_assert_uint_eq(a->flags, b->flags);
	if (a->flags & ASSAY_METRIC_MIN)
		ck_assert(a->min == b->min);
	if (a->flags & ASSAY_METRIC_MAX)
		ck_assert(a->max == b->max);
}

static void assert_result_eq(const run_result *got, const run_result *want)
{
	size_t i;

	ck_assert_int_eq(got->status, want->status);
	ck_assert_int_eq(got->cause, want->cause);
	ck_assert_uint_eq(got->attempts, want->attempts);
	ck_assert_int_eq(got->ran, want->ran);
	ck_assert_int_eq(got->kept, want->kept);
	ck_assert_pstr_eq(got->message, want->message);
	ck_assert_pstr_eq(got->details, want->details);
	ck_assert_pstr_eq(got->skip_reason, want->skip_reason);
	ck_assert_pstr_eq(got->trial_dir, want->trial_dir);
	ck_assert(got->start == want->start && got->end == want->end);
	ck_assert(got->duration == want->duration);
	ck_assert_int_eq(got->pruned, want->pruned);
	if (want->pruned)
		ck_assert_int_eq(got->pruned_step, want->pruned_step);
	ck_assert_uint_eq(got->n_metrics, want->metrics ? want->n_metrics : 0);
	for (i = 0; i < got->n_metrics; i++)
		assert_metric_eq(&got->metrics[i], &want->metrics[i]);
	ck_assert_int_eq(got->devices == NULL, want->devices == NULL);
	for (i = 0; want->devices && want->devices[i]; i++)
		ck_assert_str_eq(got->devices[i], want->devices[i]);
	if (want->devices)
		ck_assert_ptr_null(got->devices[i]);
	ck_assert_ptr_null(got->items);
	ck_assert_uint_eq(got->n_items, 0);
	ck_assert(got->resumed);
}

START_TEST(round_trip)
{
	assay_metric m[3] = {
		{ "accuracy", 0.987654321, "%", "@0.5:0.9", "~:0.5", 0, 1,
		  ASSAY_METRIC_MIN | ASSAY_METRIC_MAX },
		{ "time", -1.5e-300, NULL, NULL, NULL, 0, 0, 0 },
		{ "bytes", 1e300, "", "", "", 7, 0, ASSAY_METRIC_MIN },
	};
	char *devices[] = { "GPU-5d1c", "", NULL }, *no_devices[] = { NULL };
	char d[6000]; /* past the stack buffer: the malloc'd path */
	run_result full = {
		.status = ASSAY_SKIPPED, .cause = ASSAY_CRITICAL, .attempts = 3, .ran = true,
		.kept = true, .message = "pruned at step 12: é \n\t\"", .details = d,
		.skip_reason = "", .metrics = m, .n_metrics = 3, .start = 1796684450.123456789,
		.end = 1796684459.5, .duration = 9.376543211, .devices = devices,
		.trial_dir = "/state/runs/R1/lr[0.1]", .pruned_step = -42, .pruned = true,
	};
	run_result empty = { .status = ASSAY_WARNING }, reused = ok("from before"), node = ok("n");
	run_result empty_devices = ok(""), *items = &full;
	const run_result *got;
	journal_view v;
	char note[512] = "x";
	journal *j;

	memset(d, 'd', sizeof d - 1);
	d[sizeof d - 1] = '\0';
	reused.resumed = true;
	reused.resumed_from = "R-older";
	empty_devices.devices = no_devices;
	node.items = items; /* not journaled: items have their own records */
	node.n_items = 1;
	j = open_journal(true, "R1", JOURNAL_SYNC_BATCH);
	ck_assert_int_eq(journal_start(j, key(1), 0, 1), 0);
	ck_assert_int_eq(journal_child(j, key(1), 0, 1, 4242, 123456789012ULL, 123456789013ULL), 0);
	ck_assert_int_eq(journal_end(j, key(1), 0, 1, &full), 0);
	ck_assert_int_eq(journal_final(j, key(1), 0, &full), 0);
	ck_assert_int_eq(journal_final(j, key(2), 1, &empty), 0);
	ck_assert_int_eq(journal_final(j, key(3), 2, &reused), 0);
	ck_assert_int_eq(journal_final(j, key(4), 3, &empty_devices), 0);
	ck_assert_int_eq(journal_final(j, key(5), UINT32_MAX, &node), 0);
	journal_node_done(j);
	/* Orphans: with a child record, without, and a later attempt. */
	ck_assert_int_eq(journal_start(j, key(6), 5, 1), 0);
	ck_assert_int_eq(journal_child(j, key(6), 5, 1, 777, 98, 99), 0);
	ck_assert_int_eq(journal_start(j, key(7), 6, 1), 0);
	ck_assert_int_eq(journal_start(j, key(8), UINT32_MAX, 1), 0);
	ck_assert_int_eq(journal_end(j, key(8), UINT32_MAX, 1, &empty), 0);
	ck_assert_int_eq(journal_start(j, key(8), UINT32_MAX, 2), 0);
	/* A child record of another attempt says nothing of this one. */
	ck_assert_int_eq(journal_child(j, key(8), UINT32_MAX, 1, 555, 1, 2), 0);
	ck_assert_int_eq(journal_run_end(j, 1796684460.5, true), 0);
	ck_assert_int_eq(journal_close(j), 0);
	ck_assert_int_eq(file_size(path) > 0, 1);

	load(&v, note, sizeof note);
	ck_assert_str_eq(note, "");
	ck_assert_uint_eq(v.bytes_dropped, 0);
	ck_assert_uint_eq(v.n_runs, 1);
	ck_assert_str_eq(v.runs[0].run_id, "R1");
	ck_assert_str_eq(v.runs[0].config_hash, HASH);
	ck_assert_str_eq(v.runs[0].version, "1.2.3");
	ck_assert_str_eq(v.runs[0].boot_id, BOOT_ID);
	ck_assert_ptr_null(v.runs[0].continues);
	ck_assert_str_eq(v.runs[0].argv[0], "assay");
	ck_assert_str_eq(v.runs[0].argv[3], "infra.toml");
	ck_assert_ptr_null(v.runs[0].argv[4]);
	ck_assert(v.runs[0].start == 1796684450.25 && v.runs[0].end == 1796684460.5);
	ck_assert(v.runs[0].stopped);
	ck_assert_uint_eq(v.n_finals, 5);
	assert_result_eq(got = journal_find(&v, key(1)), &full);
	ck_assert_str_eq(got->resumed_from, "R1");
	assert_result_eq(journal_find(&v, key(2)), &empty);
	ck_assert_ptr_null(journal_find(&v, key(2))->message);
	assert_result_eq(got = journal_find(&v, key(3)), &reused);
	ck_assert_str_eq(got->resumed_from, "R-older"); /* where it was made */
	assert_result_eq(got = journal_find(&v, key(4)), &empty_devices);
	ck_assert_str_eq(got->message, "");
	assert_result_eq(journal_find(&v, key(5)), &node);
	ck_assert_ptr_null(journal_find(&v, key(6)));
	ck_assert_ptr_null(journal_find(&v, key(99)));
	ck_assert_uint_eq(v.n_orphans, 3);
	ck_assert(v.orphans[0].key.hi == key(6).hi && v.orphans[0].key.lo == key(6).lo);
	ck_assert_uint_eq(v.orphans[0].item, 5);
	ck_assert_uint_eq(v.orphans[0].attempt, 1);
	ck_assert_int_eq(v.orphans[0].pgid, 777);
	ck_assert_uint_eq(v.orphans[0].start_min, 98);
	ck_assert_uint_eq(v.orphans[0].start_max, 99);
	ck_assert_str_eq(v.orphans[0].boot_id, BOOT_ID);
	ck_assert_str_eq(v.orphans[0].run_id, "R1");
	ck_assert_uint_eq(v.orphans[1].item, 6);
	ck_assert_int_eq(v.orphans[1].pgid, 0);
	ck_assert_uint_eq(v.orphans[2].item, UINT32_MAX);
	ck_assert_uint_eq(v.orphans[2].attempt, 2);
	ck_assert_int_eq(v.orphans[2].pgid, 0);
	journal_view_release(&v);
	ck_assert_ptr_null(v.finals);
	journal_view_release(&v); /* twice is harmless */
}
END_TEST

/* A journal of runs R1 (keys 1..3) and, appended, R2 (keys 3, 4: key 3
 * again); *last the offset of its last record, key 4's final. */
static void two_runs(off_t *last)
{
	journal *j = open_journal(true, "R1", JOURNAL_SYNC_NEVER);
	run_result r;

	for (uint64_t k = 1; k <= 3; k++) {
		r = ok(k == 3 ? "first" : "ok");
		ck_assert_int_eq(journal_start(j, key(k), (uint32_t)k, 1), 0);
		ck_assert_int_eq(journal_end(j, key(k), (uint32_t)k, 1, &r), 0);
		ck_assert_int_eq(journal_final(j, key(k), (uint32_t)k, &r), 0);
	}
	ck_assert_int_eq(journal_close(j), 0); /* killed: no run end */
	j = open_journal(false, "R2", JOURNAL_SYNC_RUN);
	r = ok("second");
	ck_assert_int_eq(journal_final(j, key(3), 3, &r), 0);
	*last = file_size(path);
	r = ok("four");
	ck_assert_int_eq(journal_final(j, key(4), 4, &r), 0);
	ck_assert_int_eq(journal_close(j), 0);
}

START_TEST(last_final_wins)
{
	journal_view v;
	char note[512];
	off_t last;
	struct stat st;

	two_runs(&last);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	load(&v, note, sizeof note);
	ck_assert_str_eq(note, "");
	ck_assert_uint_eq(v.n_runs, 2);
	ck_assert(v.runs[0].end == 0 && !v.runs[0].stopped); /* killed */
	ck_assert_str_eq(v.runs[1].continues, "R0");
	ck_assert_uint_eq(v.n_finals, 4);
	ck_assert_str_eq(journal_find(&v, key(3))->message, "second");
	ck_assert_str_eq(journal_find(&v, key(3))->resumed_from, "R2");
	ck_assert_str_eq(journal_find(&v, key(1))->resumed_from, "R1");
	ck_assert_uint_eq(v.n_orphans, 0);
	journal_view_release(&v);
}
END_TEST

/* The journal cut at every byte of its last record: what came before it
 * loads, the tail is dropped with a note saying its size and offset. */
START_TEST(torn_tail_everywhere)
{
	char whole[320], note[512], want[600];
	off_t last, size, t;
	journal_view v;

	two_runs(&last);
	size = file_size(path);
	snprintf(whole, sizeof whole, "%s/whole", tmp);
	copy_file(path, whole, size);
	for (t = last; t <= size; t++) {
		copy_file(whole, path, t);
		load(&v, note, sizeof note);
		ck_assert_uint_eq(v.n_runs, 2);
		ck_assert_str_eq(journal_find(&v, key(3))->message, "second");
		if (t == last || t == size) {
			ck_assert_str_eq(note, "");
			ck_assert_uint_eq(v.bytes_dropped, 0);
			ck_assert_int_eq(journal_find(&v, key(4)) != NULL, t == size);
		} else {
			snprintf(want, sizeof want,
				 "journal %s: dropped a torn record of %lld bytes at offset %lld",
				 path, (long long)(t - last), (long long)last);
			ck_assert_str_eq(note, want);
			ck_assert_uint_eq(v.bytes_dropped, (size_t)(t - last));
			ck_assert_ptr_null(journal_find(&v, key(4)));
		}
		journal_view_release(&v);
	}
	/* Appending to a torn journal cuts the tail first, or what follows
	 * would never be read. */
	copy_file(whole, path, last + 5);
	journal_close(open_journal(false, "R3", JOURNAL_SYNC_NEVER));
	load(&v, note, sizeof note);
	ck_assert_str_eq(note, "");
	ck_assert_uint_eq(v.n_runs, 3);
	ck_assert_str_eq(v.runs[2].run_id, "R3");
	journal_view_release(&v);
}
END_TEST

/* A flipped bit in a record in the middle: it and everything after it
 * are dropped (append-only: what follows cannot be trusted), and said. */
START_TEST(flipped_bit)
{
	journal *j = open_journal(true, "R1", JOURNAL_SYNC_NEVER);
	off_t at[10], size;
	run_result r = ok("ok");
	journal_view v;
	char note[512], want[600];
	unsigned char byte;
	int fd;

	for (int i = 0; i < 10; i++) {
		at[i] = file_size(path);
		ck_assert_int_eq(journal_final(j, key((uint64_t)i), (uint32_t)i, &r), 0);
	}
	ck_assert_int_eq(journal_close(j), 0);
	size = file_size(path);
	ck_assert_int_ge(fd = open(path, O_RDWR), 0);
	ck_assert_int_eq(pread(fd, &byte, 1, at[5] + 20), 1);
	byte ^= 0x10;
	ck_assert_int_eq(pwrite(fd, &byte, 1, at[5] + 20), 1);
	close(fd);
	load(&v, note, sizeof note);
	snprintf(want, sizeof want,
		 "journal %s: a corrupt record at offset %lld (bad checksum); dropped it and all after it, %lld bytes",
		 path, (long long)at[5], (long long)(size - at[5]));
	ck_assert_str_eq(note, want);
	ck_assert_uint_eq(v.bytes_dropped, (size_t)(size - at[5]));
	ck_assert_uint_eq(v.n_finals, 5);
	ck_assert_ptr_nonnull(journal_find(&v, key(4)));
	ck_assert_ptr_null(journal_find(&v, key(5)));
	ck_assert_ptr_null(journal_find(&v, key(6)));
	journal_view_release(&v);
	/* A length that no record has is corruption too, not a torn tail. */
	ck_assert_int_ge(fd = open(path, O_RDWR), 0);
	ck_assert_int_eq(pwrite(fd, "\0\0\0\0", 4, at[2]), 4);
	close(fd);
	load(&v, note, sizeof note);
	ck_assert_ptr_nonnull(strstr(note, "(impossible length)"));
	ck_assert_uint_eq(v.n_finals, 2);
	journal_view_release(&v);
}
END_TEST

/* A record whose checksum holds but whose result does not decode (a
 * writer's bug): that key has no result, so it runs again, and the note
 * says so; the records after it still count. */
START_TEST(undecodable_result)
{
	journal *j = open_journal(true, "R1", JOURNAL_SYNC_NEVER);
	uint8_t buf[256];
	journal_writer w = { buf, 0, sizeof buf };
	run_result r = ok("fine");
	journal_view v;
	char note[512], want[600];
	off_t at;
	size_t n;
	int fd;

	ck_assert_int_eq(journal_final(j, key(1), 1, &r), 0);
	ck_assert_int_eq(journal_final(j, key(2), 2, NULL), -1); /* refused, not written */
	ck_assert_int_eq(journal_end(j, key(2), 2, 1, NULL), -1);
	ck_assert_int_eq(journal_close(j), 0);
	at = file_size(path);
	journal_record_begin(&w, JOURNAL_REC_FINAL);
	journal_put_key(&w, key(2));
	journal_put_uint(&w, 2);
	journal_put_uint(&w, 0);
	journal_put_u8(&w, 9); /* no status */
	ck_assert_uint_gt(n = journal_record_finish(&w), 0);
	ck_assert_int_ge(fd = open(path, O_WRONLY | O_APPEND), 0);
	ck_assert_int_eq(write(fd, buf, n), (ssize_t)n);
	close(fd);
	j = open_journal(false, "R2", JOURNAL_SYNC_NEVER);
	ck_assert_int_eq(journal_final(j, key(3), 3, &r), 0);
	ck_assert_int_eq(journal_close(j), 0);
	load(&v, note, sizeof note);
	snprintf(want, sizeof want,
		 "journal %s: 1 result cannot be decoded (the first at offset %lld); it runs again",
		 path, (long long)at);
	ck_assert_str_eq(note, want);
	ck_assert_uint_eq(v.n_finals, 2);
	ck_assert_ptr_nonnull(journal_find(&v, key(1)));
	ck_assert_ptr_null(journal_find(&v, key(2)));
	ck_assert_ptr_nonnull(journal_find(&v, key(3)));
	ck_assert_uint_eq(v.n_runs, 2);
	journal_view_release(&v);
}
END_TEST

/* Random damage -- bytes flipped, overwritten, cut -- never crashes a
 * load (the sanitizer builds watch), and what loads is what the journal
 * held before the damage: a result that loads is whole. */
START_TEST(random_damage)
{
	char whole[320], note[512];
	off_t last, size;
	unsigned seed = 13;
	journal_view v;
	int fd;

	two_runs(&last);
	size = file_size(path);
	snprintf(whole, sizeof whole, "%s/whole", tmp);
	copy_file(path, whole, size);
	for (int round = 0; round < 2000; round++) {
		off_t at = rand_r(&seed) % size;
		unsigned char b = (unsigned char)rand_r(&seed);

		copy_file(whole, path, round % 3 == 2 ? rand_r(&seed) % size : size);
		ck_assert_int_ge(fd = open(path, O_RDWR), 0);
		if (round % 3 != 2 && at < file_size(path))
			ck_assert_int_eq(pwrite(fd, &b, 1, at), 1);
		close(fd);
		load(&v, note, sizeof note);
		ck_assert_uint_le(v.n_finals, 4);
		for (uint64_t k = 1; k <= 4; k++) {
			const run_result *r = journal_find(&v, key(k));

			if (!r)
				continue;
			if (k == 3 && strcmp(r->message, "first") == 0)
				continue; /* R2's final of key 3 may be what was cut */
			ck_assert_str_eq(r->message, k <= 2 ? "ok" : k == 3 ? "second" : "four");
			ck_assert_uint_eq(v.n_runs, k <= 2 ? v.n_runs : 2);
		}
		ck_assert(v.n_runs <= 2);
		journal_view_release(&v);
	}
}
END_TEST

/* The header's format field set to f, its checksum made right again. */
static void set_format(uint32_t f)
{
	unsigned char h[512];
	int fd = open(path, O_RDWR);
	uint32_t n, crc;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, h, sizeof h, 0), sizeof h);
	memcpy(h + 8, &f, 4); /* little-endian hosts only, as the test runs */
	memcpy(&n, h + 12, 4);
	crc = journal_crc32c(0, h, 16 + n);
	memcpy(h + 16 + n, &crc, 4);
	ck_assert_int_eq(pwrite(fd, h, 20 + n, 0), (ssize_t)(20 + n));
	close(fd);
}

START_TEST(other_format_or_config)
{
	char note[512], want[600], why[512];
	journal_view v;
	off_t last;

	two_runs(&last);
	/* Another config's. */
	ck_assert_int_eq(journal_load(&v, path, "other-fedcba9876543210", note, sizeof note, why,
				      sizeof why),
			 0);
	snprintf(want, sizeof want,
		 "journal %s: of another config (%s, not other-fedcba9876543210); not reused", path,
		 HASH);
	ck_assert_str_eq(note, want);
	ck_assert_uint_eq(v.n_runs + v.n_finals + v.n_orphans, 0);
	ck_assert_ptr_null(journal_find(&v, key(1)));
	journal_view_release(&v);
	/* Another format's. */
	set_format(2);
	load(&v, note, sizeof note);
	snprintf(want, sizeof want, "journal %s: written by assay 1.2.3 in format 2; not reused",
		 path);
	ck_assert_str_eq(note, want);
	ck_assert_uint_eq(v.n_runs, 0);
	journal_view_release(&v);
	/* Appending to it starts afresh: the old runs are not ours. */
	journal_close(open_journal(false, "R9", JOURNAL_SYNC_NEVER));
	load(&v, note, sizeof note);
	ck_assert_str_eq(note, "");
	ck_assert_uint_eq(v.n_runs, 1);
	ck_assert_str_eq(v.runs[0].run_id, "R9");
	ck_assert_uint_eq(v.n_finals, 0);
	journal_view_release(&v);
	/* Not a journal at all. */
	copy_file("/etc/passwd", path, 200);
	load(&v, note, sizeof note);
	snprintf(want, sizeof want, "journal %s: not an assay journal; not reused", path);
	ck_assert_str_eq(note, want);
	journal_view_release(&v);
}
END_TEST

START_TEST(empty_and_missing)
{
	char note[512] = "x", want[600], why[512];
	journal_view v;
	journal *j;

	load(&v, note, sizeof note); /* missing: nothing to say */
	ck_assert_str_eq(note, "");
	ck_assert_uint_eq(v.n_runs + v.n_finals + v.n_orphans, 0);
	ck_assert_ptr_null(journal_find(&v, key(1)));
	journal_view_release(&v);
	close(open(path, O_WRONLY | O_CREAT, 0600));
	load(&v, note, sizeof note);
	snprintf(want, sizeof want, "journal %s: empty (no header); not reused", path);
	ck_assert_str_eq(note, want);
	journal_view_release(&v);
	/* A directory where the journal should be. */
	remove(path);
	mkdir(path, 0700);
	ck_assert_int_eq(journal_load(&v, path, HASH, note, sizeof note, why, sizeof why), -1);
	snprintf(want, sizeof want, "journal %s: not a regular file", path);
	ck_assert_str_eq(why, want);
	rmdir(path);
	/* A journal made where appending was asked (none there). */
	j = open_journal(false, "R1", JOURNAL_SYNC_BATCH);
	ck_assert_int_eq(journal_close(j), 0);
	load(&v, note, sizeof note);
	ck_assert_uint_eq(v.n_runs, 1);
	journal_view_release(&v);
}
END_TEST

/* fresh replaces whatever is there in one rename: no temporary file is
 * left (nor one an earlier run left), and the old records are gone. */
START_TEST(fresh_replaces)
{
	journal_view v;
	char note[512];
	off_t last;
	int entries = 0;
	FILE *ls;
	char cmd[400], line[400];

	two_runs(&last);
	/* What a run killed before its rename left is swept. */
	snprintf(cmd, sizeof cmd, "%s.Ab12Z9", path);
	close(open(cmd, O_WRONLY | O_CREAT, 0600));
	journal_close(open_journal(true, "R5", JOURNAL_SYNC_BATCH));
	load(&v, note, sizeof note);
	ck_assert_uint_eq(v.n_runs, 1);
	ck_assert_str_eq(v.runs[0].run_id, "R5");
	ck_assert_uint_eq(v.n_finals, 0);
	journal_view_release(&v);
	snprintf(cmd, sizeof cmd, "ls -A %s", tmp);
	ck_assert_ptr_nonnull(ls = popen(cmd, "r"));
	while (fgets(line, sizeof line, ls))
		entries++;
	pclose(ls);
	ck_assert_int_eq(entries, 1);
}
END_TEST

/* CRC-32C's check value, both ways, in pieces, and where they agree. */
START_TEST(crc32c)
{
	unsigned char buf[1000];

	ck_assert_uint_eq(journal_crc32c(0, "123456789", 9), 0xe3069283);
	ck_assert_uint_eq(journal_crc32c_portable(0, "123456789", 9), 0xe3069283);
	ck_assert_uint_eq(journal_crc32c(journal_crc32c(0, "1234", 4), "56789", 5), 0xe3069283);
	ck_assert_uint_eq(journal_crc32c(0, "", 0), 0);
	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (unsigned char)(i * 7 + 3);
	for (size_t n = 0; n < sizeof buf; n += 37)
		ck_assert_uint_eq(journal_crc32c(0, buf + 1, n),
				  journal_crc32c_portable(0, buf + 1, n));
}
END_TEST

/* The sync policies: batch syncs while records come, but at most every
 * 100 ms, and soon after a node ends, on its own thread; run and never
 * sync nothing while the run goes.  (Bounds that a slow machine keeps:
 * fewer syncs, never more.) */
static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

START_TEST(sync_policies)
{
	run_result r = ok("ok");
	journal *j;
	double t0;
	uint64_t k = 0;
	unsigned long n;

	j = open_journal(true, "R1", JOURNAL_SYNC_BATCH);
	for (t0 = mono(); mono() - t0 < 0.5; k++) {
		ck_assert_int_eq(journal_final(j, key(k), (uint32_t)k, &r), 0);
		if (k % 64 == 0)
			usleep(1000);
	}
	n = journal_syncs(j);
	ck_assert_uint_ge(n, 1);
	ck_assert_uint_le(n, 6); /* 500 ms: at most every 100 ms */
	/* A node ends: a sync follows soon, without more records. */
	ck_assert_int_eq(journal_final(j, key(k), (uint32_t)k, &r), 0);
	usleep(150000);
	n = journal_syncs(j);
	ck_assert_int_eq(journal_final(j, key(k + 1), (uint32_t)k + 1, &r), 0);
	journal_node_done(j);
	for (t0 = mono(); journal_syncs(j) == n && mono() - t0 < 5;)
		usleep(1000);
	ck_assert_uint_eq(journal_syncs(j), n + 1);
	/* Nothing written: nothing to sync. */
	usleep(250000);
	ck_assert_uint_eq(journal_syncs(j), n + 1);
	ck_assert_int_eq(journal_close(j), 0);

	for (journal_sync p = JOURNAL_SYNC_RUN; p <= JOURNAL_SYNC_NEVER; p++) {
		j = open_journal(true, "R1", p);
		for (k = 0; k < 1000; k++)
			ck_assert_int_eq(journal_final(j, key(k), (uint32_t)k, &r), 0);
		journal_node_done(j);
		usleep(150000);
		ck_assert_uint_eq(journal_syncs(j), 0);
		ck_assert_int_eq(journal_close(j), 0);
	}
}
END_TEST

/* --- threads --------------------------------------------------------------- */

#define THREADS 8
#define PER_THREAD 2000

static journal *shared;

static void *appender(void *arg)
{
	uint64_t t = (uint64_t)(uintptr_t)arg;
	char msg[64];

	for (uint64_t i = 0; i < PER_THREAD; i++) {
		uint64_t k = t * PER_THREAD + i;
		run_result r = ok(msg);

		snprintf(msg, sizeof msg, "item %llu of thread %llu", (unsigned long long)k,
			 (unsigned long long)t);
		ck_assert_int_eq(journal_start(shared, key(k), (uint32_t)k, 1), 0);
		ck_assert_int_eq(journal_end(shared, key(k), (uint32_t)k, 1, &r), 0);
		ck_assert_int_eq(journal_final(shared, key(k), (uint32_t)k, &r), 0);
		if (i % 100 == 0)
			journal_node_done(shared);
	}
	return NULL;
}

START_TEST(concurrent_appends)
{
	pthread_t th[THREADS];
	journal_view v;
	char note[512], want[64];

	shared = open_journal(true, "R1", (journal_sync)_i);
	for (uintptr_t t = 0; t < THREADS; t++)
		ck_assert_int_eq(pthread_create(&th[t], NULL, appender, (void *)t), 0);
	for (int t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	ck_assert_int_eq(journal_close(shared), 0);
	load(&v, note, sizeof note);
	ck_assert_str_eq(note, "");
	ck_assert_uint_eq(v.bytes_dropped, 0);
	ck_assert_uint_eq(v.n_finals, THREADS * PER_THREAD);
	ck_assert_uint_eq(v.n_orphans, 0);
	for (uint64_t k = 0; k < THREADS * PER_THREAD; k++) {
		snprintf(want, sizeof want, "item %llu of thread %llu", (unsigned long long)k,
			 (unsigned long long)(k / PER_THREAD));
		ck_assert_str_eq(journal_find(&v, key(k))->message, want);
	}
	journal_view_release(&v);
}
END_TEST

/* --- compaction ------------------------------------------------------------ */

START_TEST(compaction)
{
	journal_view before, after;
	char note[512], why[512];
	off_t size;
	journal *j;
	run_result r;
	char msg[32];

	/* Five runs that each redo keys 0..199, the last leaving two in
	 * flight (one with its child). */
	for (int n = 0; n < 5; n++) {
		char id[16];

		snprintf(id, sizeof id, "R%d", n);
		j = open_journal(n == 0, id, JOURNAL_SYNC_NEVER);
		for (uint64_t k = 0; k < 200; k++) {
			snprintf(msg, sizeof msg, "run %d", n);
			r = ok(msg);
			ck_assert_int_eq(journal_start(j, key(k), (uint32_t)k, 1), 0);
			ck_assert_int_eq(journal_child(j, key(k), (uint32_t)k, 1, 100, 7, 8), 0);
			ck_assert_int_eq(journal_end(j, key(k), (uint32_t)k, 1, &r), 0);
			if (n < 4 || k % 2)
				ck_assert_int_eq(journal_final(j, key(k), (uint32_t)k, &r), 0);
		}
		ck_assert_int_eq(journal_start(j, key(500), 500, 3), 0);
		ck_assert_int_eq(journal_child(j, key(500), 500, 3, 4242, 76, 77), 0);
		ck_assert_int_eq(journal_start(j, key(501), 501, 1), 0);
		if (n < 4)
			ck_assert_int_eq(journal_run_end(j, 100.0 + n, false), 0);
		ck_assert_int_eq(journal_close(j), 0);
	}
	size = file_size(path);
	load(&before, note, sizeof note);
	/* Small enough: left alone. */
	ck_assert_int_eq(journal_compact(path, HASH, (uint64_t)size, why, sizeof why), 0);
	ck_assert_int_eq(file_size(path), size);
	ck_assert_int_eq(journal_compact(path, HASH, 1000, why, sizeof why), 1);
	ck_assert_int_lt(file_size(path) * 5, size);
	load(&after, note, sizeof note);
	ck_assert_str_eq(note, "");
	ck_assert_uint_eq(after.n_runs, 5);
	ck_assert_uint_eq(after.n_finals, before.n_finals);
	ck_assert_uint_eq(after.n_finals, 200);
	for (int i = 0; i < 5; i++) {
		ck_assert_str_eq(after.runs[i].run_id, before.runs[i].run_id);
		ck_assert(after.runs[i].end == before.runs[i].end);
	}
	for (uint64_t k = 0; k < 200; k++) {
		const run_result *a = journal_find(&after, key(k)),
				 *b = journal_find(&before, key(k));

		ck_assert_str_eq(a->message, b->message);
		ck_assert_str_eq(a->message, k % 2 ? "run 4" : "run 3");
		ck_assert_str_eq(a->resumed_from, b->resumed_from);
	}
	ck_assert_uint_eq(after.n_orphans, 2);
	ck_assert_uint_eq(after.n_orphans, before.n_orphans);
	for (size_t i = 0; i < 2; i++) {
		ck_assert(after.orphans[i].key.lo == before.orphans[i].key.lo);
		ck_assert_int_eq(after.orphans[i].pgid, before.orphans[i].pgid);
		ck_assert_uint_eq(after.orphans[i].start_min, before.orphans[i].start_min);
		ck_assert_uint_eq(after.orphans[i].start_max, before.orphans[i].start_max);
		ck_assert_uint_eq(after.orphans[i].attempt, before.orphans[i].attempt);
		ck_assert_str_eq(after.orphans[i].run_id, "R4");
	}
	ck_assert_int_eq(after.orphans[0].pgid, 4242);
	journal_view_release(&before);
	journal_view_release(&after);
	/* Nothing more to drop: left alone; then appended to as before. */
	ck_assert_int_eq(journal_compact(path, HASH, 0, why, sizeof why), 0);
	journal_close(open_journal(false, "R5", JOURNAL_SYNC_NEVER));
	load(&after, note, sizeof note);
	ck_assert_uint_eq(after.n_runs, 6);
	journal_view_release(&after);
	/* Missing, or another config's: nothing to do. */
	ck_assert_int_eq(journal_compact(path, "other", 0, why, sizeof why), 0);
	remove(path);
	ck_assert_int_eq(journal_compact(path, HASH, 0, why, sizeof why), 0);
}
END_TEST

/* --- errors ---------------------------------------------------------------- */

START_TEST(open_errors)
{
	journal_run_info ri = info("R1", NULL);
	char why[512], want[600], bad[400];
	journal *j = (journal *)1;

	snprintf(bad, sizeof bad, "%s/missing/journal", tmp);
	ck_assert_int_eq(journal_open(&j, bad, true, JOURNAL_SYNC_BATCH, &ri, why, sizeof why), -1);
	ck_assert_ptr_null(j);
	snprintf(want, sizeof want, "journal %s: cannot create: No such file or directory", bad);
	ck_assert_str_eq(why, want);
	ck_assert_int_eq(journal_open(&j, bad, false, JOURNAL_SYNC_BATCH, &ri, why, sizeof why),
			 -1);
	ck_assert_str_eq(why, want);
	if (geteuid() != 0) {
		/* Root writes anywhere: this part needs a plain user. */
		chmod(tmp, 0500);
		ck_assert_int_eq(
			journal_open(&j, path, true, JOURNAL_SYNC_BATCH, &ri, why, sizeof why), -1);
		snprintf(want, sizeof want, "journal %s: cannot create: Permission denied", path);
		ck_assert_str_eq(why, want);
		chmod(tmp, 0700);
	}
}
END_TEST

/* Writes that fail part way (a file size limit, as a full disk would):
 * said once on stderr, every later record refused, close says so, and
 * the journal loads up to the record that was cut. */
START_TEST(write_errors)
{
	char err_path[320], note[512], text[4096];
	journal_view v;
	pid_t pid;
	int status, fd;
	FILE *f;
	size_t n;

	snprintf(err_path, sizeof err_path, "%s/stderr", tmp);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct rlimit rl = { 4096, 4096 };
		run_result r = ok("0123456789012345678901234567890123456789");
		journal *j = open_journal(true, "R1", JOURNAL_SYNC_BATCH);
		int failed = 0;

		fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 2);
		signal(SIGXFSZ, SIG_IGN);
		setrlimit(RLIMIT_FSIZE, &rl);
		for (uint64_t k = 0; k < 200; k++)
			failed += journal_final(j, key(k), (uint32_t)k, &r) < 0;
		_exit(failed > 100 && failed < 200 && journal_close(j) == -1 ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_ptr_nonnull(f = fopen(err_path, "r"));
	n = fread(text, 1, sizeof text - 1, f);
	text[n] = '\0';
	fclose(f);
	snprintf(note, sizeof note,
		 "assay: journal %s: cannot write: File too large; this run cannot be resumed\n",
		 path);
	ck_assert_str_eq(text, note); /* once */
	load(&v, note, sizeof note);
	ck_assert_uint_gt(v.n_finals, 10);
	ck_assert_ptr_nonnull(journal_find(&v, key(0)));
	ck_assert_ptr_null(journal_find(&v, key(199)));
	ck_assert(v.bytes_dropped == 0 || strstr(note, "torn record") != NULL);
	journal_view_release(&v);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("journal");
	TCase *t = tcase_create("journal");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 60);
	tcase_add_test(t, crc32c);
	tcase_add_test(t, sync_policies);
	tcase_add_test(t, round_trip);
	tcase_add_test(t, last_final_wins);
	tcase_add_test(t, torn_tail_everywhere);
	tcase_add_test(t, flipped_bit);
	tcase_add_test(t, random_damage);
	tcase_add_test(t, undecodable_result);
	tcase_add_test(t, other_format_or_config);
	tcase_add_test(t, empty_and_missing);
	tcase_add_test(t, fresh_replaces);
	tcase_add_loop_test(t, concurrent_appends, JOURNAL_SYNC_BATCH, JOURNAL_SYNC_NEVER + 1);
	tcase_add_test(t, compaction);
	tcase_add_test(t, open_errors);
	tcase_add_test(t, write_errors);
	suite_add_tcase(s, t);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
