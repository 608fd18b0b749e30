/* check_statedir.c -- Check suite for core/statedir.c and core/trialdir.c:
 * where the state dir is (each variable in its turn), the directories made
 * 0700, the error for one that cannot be made, the per-config name, run
 * ids, keep_runs's retention, escaped trial names (hostile ids), and a
 * trial directory's params.json, metrics.jsonl and result.json. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <check.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "statedir.h"
#include "trialdir.h"

static char tmp[256];

static void setup(void)
{
	snprintf(tmp, sizeof tmp, "%s/check_statedir.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	chmod(path, 0700);
	return remove(path);
}

static void teardown(void)
{
	nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static char *path_in(const char *name)
{
	static char buf[4][1024];
	static int k;

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof buf[k], "%.255s/%.700s", tmp, name);
	return buf[k];
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static char *read_file(const char *path)
{
	static char buf[8192];
	FILE *f = fopen(path, "r");
	size_t n;

	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void base_is(const char *setting, uid_t uid, const char *want)
{
	char why[256];
	char *got = statedir_base(setting, uid, why, sizeof why);

	ck_assert_msg(got != NULL, "%s", why);
	ck_assert_str_eq(got, want);
	free(got);
}

START_TEST(resolution_order)
{
	char why[256];

	setenv("STATE_DIRECTORY", "/srv/a:/srv/b", 1);
	setenv("XDG_STATE_HOME", "/xdg", 1);
	setenv("HOME", "/home/u", 1);
	/* [runner] state_dir first, then each variable as the one before
	 * goes away. */
	base_is("/conf/state", 1000, "/conf/state");
	base_is(NULL, 1000, "/srv/a"); /* systemd's list: the first */
	base_is("", 0, "/srv/a");
	unsetenv("STATE_DIRECTORY");
	base_is(NULL, 0, "/var/lib/assay");
	base_is(NULL, 1000, "/xdg/assay");
	setenv("XDG_STATE_HOME", "relative", 1); /* invalid by the XDG spec */
	base_is(NULL, 1000, "/home/u/.local/state/assay");
	setenv("XDG_STATE_HOME", "", 1);
	setenv("STATE_DIRECTORY", "", 1); /* empty is unset */
	base_is(NULL, 1000, "/home/u/.local/state/assay");
	unsetenv("HOME");
	ck_assert_ptr_null(statedir_base(NULL, 1000, why, sizeof why));
	ck_assert_str_eq(why, "no state dir: $HOME is not set");
	base_is("/x", 1000, "/x");
}
END_TEST

static unsigned mode_of(const char *path)
{
	struct stat st;

	ck_assert_int_eq(stat(path, &st), 0);
	return (unsigned)st.st_mode & 07777;
}

START_TEST(made_0700)
{
	char why[512];
	mode_t old = umask(0);

	ck_assert_int_eq(statedir_make(path_in("a/b/c"), why, sizeof why), 0);
	umask(old);
	ck_assert_uint_eq(mode_of(path_in("a")), 0700);
	ck_assert_uint_eq(mode_of(path_in("a/b")), 0700);
	ck_assert_uint_eq(mode_of(path_in("a/b/c")), 0700);
	/* Made already: fine, and left as it is. */
	chmod(path_in("a/b/c"), 0750);
	ck_assert_int_eq(statedir_make(path_in("a/b/c"), why, sizeof why), 0);
	ck_assert_uint_eq(mode_of(path_in("a/b/c")), 0750);
}
END_TEST

START_TEST(cannot_make)
{
	char why[512], want[512];
	statedir_run r;

	/* A file where a directory should be: whoever runs the test. */
	write_file(path_in("file"), "x");
	ck_assert_int_eq(statedir_make(path_in("file/state"), why, sizeof why), -1);
	snprintf(want, sizeof want, "state dir %s: cannot create: Not a directory",
		 path_in("file"));
	ck_assert_str_eq(why, want);
	ck_assert_int_eq(statedir_make(path_in("file"), why, sizeof why), -1);
	ck_assert_str_eq(why, want);
	ck_assert_int_eq(
		statedir_open_run(&r, path_in("file/state"), path_in("p.toml"), true, why, sizeof why),
		-1);
	ck_assert_str_eq(why, want);
	statedir_release(&r);
	/* Permissions say no to anyone but root. */
	if (geteuid() != 0) {
		ck_assert_int_eq(mkdir(path_in("ro"), 0500), 0);
		ck_assert_int_eq(statedir_make(path_in("ro/state"), why, sizeof why), -1);
		snprintf(want, sizeof want, "state dir %s: cannot create: Permission denied",
			 path_in("ro/state"));
		ck_assert_str_eq(why, want);
		ck_assert_int_eq(statedir_make(path_in("ro"), why, sizeof why), -1);
		snprintf(want, sizeof want, "state dir %s: cannot write: Permission denied",
			 path_in("ro"));
		ck_assert_str_eq(why, want);
	}
}
END_TEST

START_TEST(config_name)
{
	char *a, *b, *c, *d;
	size_t len;

	mkdir(path_in("one"), 0700);
	mkdir(path_in("two"), 0700);
	write_file(path_in("one/nightly.toml"), "");
	write_file(path_in("two/nightly.toml"), "");
	ck_assert_int_eq(symlink(path_in("one/nightly.toml"), path_in("link.toml")), 0);
	a = statedir_config_name(path_in("one/nightly.toml"));
	b = statedir_config_name(path_in("two/nightly.toml"));
	c = statedir_config_name(path_in("link.toml")); /* the same file */
	d = statedir_config_name(path_in("one/../one/nightly.toml"));
	len = strlen(a);
	ck_assert_uint_eq(len, strlen("nightly-") + 16);
	ck_assert_int_eq(strncmp(a, "nightly-", 8), 0);
	ck_assert_uint_eq(strspn(a + 8, "0123456789abcdef"), 16);
	ck_assert_str_ne(a, b); /* one name, two places */
	ck_assert_str_eq(a, c);
	ck_assert_str_eq(a, d);
	free(a), free(b), free(c), free(d);
	/* A name that is no file name of its own, and no .toml. */
	a = statedir_config_name("/nonexistent/.hidden conf");
	ck_assert_int_eq(strncmp(a, "%2Ehidden%20conf-", 17), 0);
	free(a);
}
END_TEST

START_TEST(run_ids)
{
	char id[STATEDIR_RUN_ID_SIZE], why[512];
	statedir_run r1, r2;
	struct stat st;

	statedir_format_run_id(id, 1796684450, 0x4f2a); /* 2026-12-07 23:00:50 UTC */
	ck_assert_str_eq(id, "20261207T230050Z-4f2a");
	ck_assert(statedir_is_run_id(id));
	statedir_format_run_id(id, 0, 0x10000 + 5);
	ck_assert_str_eq(id, "19700101T000000Z-0005");
	ck_assert(!statedir_is_run_id("20261207T222050Z-4F2A"));
	ck_assert(!statedir_is_run_id("20261207T222050Z-4f2a.old"));
	ck_assert(!statedir_is_run_id("20261207T222050Z-4f2"));
	ck_assert(!statedir_is_run_id("notes"));
	ck_assert(!statedir_is_run_id(""));
	/* Two runs in one second: two directories. */
	write_file(path_in("p.toml"), "");
	ck_assert_int_eq(statedir_open_run(&r1, path_in("st"), path_in("p.toml"), true, why, sizeof why),
			 0);
	ck_assert_int_eq(statedir_open_run(&r2, path_in("st"), path_in("p.toml"), true, why, sizeof why),
			 0);
	ck_assert_str_eq(r1.config_dir, r2.config_dir);
	ck_assert_str_ne(r1.run_dir, r2.run_dir);
	ck_assert(statedir_is_run_id(r1.run_id));
	ck_assert_int_eq(stat(r1.run_dir, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_uint_eq(mode_of(r1.config_dir), 0700);
	ck_assert_int_eq(strncmp(r1.run_dir, r1.config_dir, strlen(r1.config_dir)), 0);
	ck_assert_int_eq(strncmp(r1.run_dir + strlen(r1.config_dir), "/runs/", 6), 0);
	ck_assert_str_eq(r1.run_dir + strlen(r1.config_dir) + 6, r1.run_id);
	statedir_release(&r1);
	statedir_release(&r2);
}
END_TEST

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

START_TEST(retention)
{
	static const char *const ids[] = { "20261201T000000Z-aaaa", "20261202T000000Z-0001",
					   "20261203T000000Z-ffff", "20261204T000000Z-1234",
					   "20261205T000000Z-0000" };
	char p[1024];
	size_t i;

	mkdir(path_in("c"), 0700);
	mkdir(path_in("c/runs"), 0700);
	for (i = 0; i < 5; i++) {
		snprintf(p, sizeof p, "c/runs/%s", ids[i]);
		mkdir(path_in(p), 0700);
		snprintf(p, sizeof p, "c/runs/%s/trial", ids[i]);
		mkdir(path_in(p), 0700);
		snprintf(p, sizeof p, "c/runs/%s/trial/stdout", ids[i]);
		write_file(path_in(p), "out");
		/* A link out of the tree is removed as a link. */
		snprintf(p, sizeof p, "c/runs/%s/trial/link", ids[i]);
		ck_assert_int_eq(symlink(path_in("precious"), path_in(p)), 0);
	}
	mkdir(path_in("precious"), 0700);
	write_file(path_in("precious/x"), "x");
	mkdir(path_in("c/runs/notes"), 0700); /* no run id: never removed */
	write_file(path_in("c/runs/20261130T000000Z-aaaa.txt"), "");
	/* keep 3 with the oldest current: it stays, and the two next oldest go. */
	ck_assert_uint_eq(statedir_prune_runs(path_in("c"), 3, ids[0], stderr), 2);
	snprintf(p, sizeof p, "c/runs/%s", ids[0]);
	ck_assert(exists(path_in(p)));
	for (i = 1; i < 3; i++) {
		snprintf(p, sizeof p, "c/runs/%s", ids[i]);
		ck_assert_msg(!exists(path_in(p)), "%s", ids[i]);
	}
	for (i = 3; i < 5; i++) {
		snprintf(p, sizeof p, "c/runs/%s", ids[i]);
		ck_assert_msg(exists(path_in(p)), "%s", ids[i]);
	}
	ck_assert(exists(path_in("c/runs/notes")));
	ck_assert(exists(path_in("c/runs/20261130T000000Z-aaaa.txt")));
	ck_assert(exists(path_in("precious/x")));
	/* Exactly keep_runs: nothing more goes; 0 keeps everything. */
	ck_assert_uint_eq(statedir_prune_runs(path_in("c"), 3, ids[4], stderr), 0);
	ck_assert_uint_eq(statedir_prune_runs(path_in("c"), 0, ids[4], stderr), 0);
	/* keep 1: the current only. */
	ck_assert_uint_eq(statedir_prune_runs(path_in("c"), 1, ids[3], stderr), 2);
	snprintf(p, sizeof p, "c/runs/%s", ids[3]);
	ck_assert(exists(path_in(p)));
	snprintf(p, sizeof p, "c/runs/%s", ids[4]);
	ck_assert(!exists(path_in(p)));
	/* No runs/ at all: nothing to do. */
	ck_assert_uint_eq(statedir_prune_runs(path_in("none"), 1, NULL, stderr), 0);
}
END_TEST

static void escapes_to(const char *id, const char *want)
{
	char *got = trialdir_escape(id);

	ck_assert_str_eq(got, want);
	free(got);
}

START_TEST(escaping)
{
	char long_id[301], other[301], *a, *b, *c;
	size_t i;

	escapes_to("lr[lr=3.2e-4,bs=64]", "lr[lr=3.2e-4,bs=64]");
	escapes_to("a/b", "a%2Fb");
	escapes_to("..", "%2E.");
	escapes_to(".", "%2E");
	escapes_to("-rf", "%2Drf");
	escapes_to("a\nb", "a%0Ab");
	escapes_to("100%", "100%25");
	escapes_to("~x y", "%7Ex%20y");
	escapes_to("\xc3\xa9", "%C3%A9");
	escapes_to("", "%");
	/* 300 bytes: cut to the limit with a hash, two ids that differ only
	 * at the end stay apart, and the name makes a directory. */
	memset(long_id, 'x', 300);
	long_id[300] = '\0';
	memcpy(other, long_id, sizeof other);
	other[299] = 'y';
	a = trialdir_escape(long_id);
	b = trialdir_escape(other);
	ck_assert_uint_eq(strlen(a), TRIALDIR_NAME_MAX);
	ck_assert_str_ne(a, b);
	ck_assert_int_eq(a[TRIALDIR_NAME_MAX - 17], '~');
	ck_assert_int_eq(mkdir(path_in(a), 0700), 0);
	free(a), free(b);
	/* Escapes are never split by the cut. */
	for (i = 0; i < 300; i++)
		long_id[i] = i % 3 ? '/' : 'a';
	for (i = 0; i < 3; i++) {
		c = trialdir_escape(long_id + i);
		ck_assert_uint_le(strlen(c), TRIALDIR_NAME_MAX);
		ck_assert_ptr_null(strchr(c, '/'));
		a = strchr(c, '~');
		ck_assert_ptr_nonnull(a);
		ck_assert_msg(a[-1] != '%' && a[-2] != '%', "%s", c);
		ck_assert_int_eq(mkdir(path_in(c), 0700), 0);
		free(c);
	}
}
END_TEST

START_TEST(json_numbers)
{
	static const char *const yes[] = { "0",    "-0",     "0.1",
					   "1e-3", "3.2E+4", "12345678901234567890" };
	static const char *const no[] = { "",    "01",   "1.", ".5", "+1", "inf",
					  "nan", "0x10", "1e", " 1", "1 ", "1,0" };
	size_t i;

	for (i = 0; i < sizeof yes / sizeof *yes; i++)
		ck_assert_msg(trialdir_json_number(yes[i]), "%s", yes[i]);
	for (i = 0; i < sizeof no / sizeof *no; i++)
		ck_assert_msg(!trialdir_json_number(no[i]), "%s", no[i]);
}
END_TEST

START_TEST(trial_files)
{
	static const assay_param params[] = { { "lr", "0.1" },
					      { "opt", "adam" },
					      { "big", "12345678901234567890" },
					      { "odd", "01" } };
	plan p;
	plan_node n;
	trialdir_result res;
	assay_metric m[1] = { { .name = "accuracy", .value = 0.5 } };
	char why[512], dir[1024];
	cJSON *j;

	snprintf(dir, sizeof dir, "%s", path_in("lr[x]")); /* path_in()'s buffers turn over */
	memset(&p, 0, sizeof p);
	memset(&n, 0, sizeof n);
	n.id = "lr[x]";
	n.kind = ASSAY_KIND_TRIAL;
	n.sweep = PLAN_NONE;
	n.params = params;
	n.n_params = 4;
	n.seed = 2;
	n.point = 7;
	ck_assert_int_eq(trialdir_enter(dir, &p, &n, false, why, sizeof why), 0);
	ck_assert_uint_eq(mode_of(dir), 0700);
	/* metrics.jsonl is the program's to make, with its first line */
	ck_assert_int_eq(access(path_in("lr[x]/metrics.jsonl"), F_OK), -1);
	j = cJSON_Parse(read_file(path_in("lr[x]/params.json")));
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(cJSON_GetObjectItem(j, "id")->valuestring, "lr[x]");
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(j, "sweep")));
	ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "params"), "lr")));
	ck_assert(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "params"), "lr")->valuedouble == 0.1);
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "params"), "opt")->valuestring,
			 "adam");
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "params"), "odd")->valuestring,
			 "01");
	ck_assert_int_eq(cJSON_GetObjectItem(j, "seed")->valueint, 2);
	ck_assert_int_eq(cJSON_GetObjectItem(j, "point")->valueint, 7);
	cJSON_Delete(j);
	/* The full text, not a double's rounding of it. */
	ck_assert_ptr_nonnull(
		strstr(read_file(path_in("lr[x]/params.json")), "12345678901234567890"));
	/* A retry removes the last attempt's metrics.jsonl and leaves the
	 * rest. */
	write_file(path_in("lr[x]/metrics.jsonl"), "{\"step\": 1, \"accuracy\": 0.1}\n");
	write_file(path_in("lr[x]/stdout"), "kept");
	ck_assert_int_eq(trialdir_enter(dir, &p, &n, true, why, sizeof why), 0);
	ck_assert_int_eq(access(path_in("lr[x]/metrics.jsonl"), F_OK), -1);
	ck_assert_str_eq(read_file(path_in("lr[x]/stdout")), "kept");
	/* result.json */
	memset(&res, 0, sizeof res);
	res.id = n.id;
	res.status = ASSAY_SKIPPED;
	res.pruned = true;
	res.pruned_step = 12;
	res.message = "pruned at step 12";
	res.metrics = m;
	res.n_metrics = 1;
	res.attempts = 2;
	res.duration = 1.5;
	res.start = 1796684450.25;
	res.end = 1796684451.75;
	ck_assert_int_eq(trialdir_write_result(dir, &res), 0);
	j = cJSON_Parse(read_file(path_in("lr[x]/result.json")));
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(cJSON_GetObjectItem(j, "status")->valuestring, "SKIPPED");
	ck_assert_str_eq(cJSON_GetObjectItem(j, "message")->valuestring, "pruned at step 12");
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(j, "pruned")));
	ck_assert_int_eq(cJSON_GetObjectItem(j, "pruned_step")->valueint, 12);
	ck_assert(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "metrics"), "accuracy")->valuedouble ==
		  0.5);
	ck_assert_int_eq(cJSON_GetObjectItem(j, "attempts")->valueint, 2);
	ck_assert(cJSON_GetObjectItem(j, "duration")->valuedouble == 1.5);
	ck_assert_str_eq(cJSON_GetObjectItem(j, "start")->valuestring, "2026-12-07T23:00:50.250Z");
	ck_assert_str_eq(cJSON_GetObjectItem(j, "end")->valuestring, "2026-12-07T23:00:51.750Z");
	cJSON_Delete(j);
	/* A directory that cannot be made says so. */
	write_file(path_in("file"), "");
	ck_assert_int_eq(trialdir_enter(path_in("file/t"), &p, &n, false, why, sizeof why), -1);
	ck_assert_ptr_nonnull(strstr(why, "cannot create: Not a directory"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("statedir");
	TCase *t = tcase_create("statedir");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, resolution_order);
	tcase_add_test(t, made_0700);
	tcase_add_test(t, cannot_make);
	tcase_add_test(t, config_name);
	tcase_add_test(t, run_ids);
	tcase_add_test(t, retention);
	tcase_add_test(t, escaping);
	tcase_add_test(t, json_numbers);
	tcase_add_test(t, trial_files);
	suite_add_tcase(s, t);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
