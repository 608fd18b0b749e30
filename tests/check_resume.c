/* check_resume.c -- Check suite for core/resume*.c on crafted journals:
 * what a killed run left running is killed only while it is the process
 * the journal names (same boot, same start time: a pid now another
 * process's is never signalled), SIGKILL after SIGTERM is ignored; which
 * results are reusable (--rerun-failed and WARNING, resume_max_age); the
 * last run's node keys written and read back whatever the ids hold. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "resume_int.h"

/* A child in a process group of its own, sleeping; ignoring SIGTERM when
 * asked.  Returns once it runs (its group made). */
static pid_t spawn_group(bool ignore_term)
{
	int ready[2];
	char c;
	pid_t pid;

	ck_assert_int_eq(pipe(ready), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		setpgid(0, 0);
		/* Not Check's handler, which would pass it on to the test. */
		signal(SIGTERM, ignore_term ? SIG_IGN : SIG_DFL);
		if (write(ready[1], "x", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	setpgid(pid, pid); /* whichever runs first */
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	close(ready[0]);
	close(ready[1]);
	return pid;
}

/* How child pid ended: its signal, or 0 while it runs. */
static int ended_by(pid_t pid)
{
	int st = 0, tries;

	for (tries = 0; tries < 100; tries++) {
		pid_t got = waitpid(pid, &st, WNOHANG);

		if (got == pid)
			return WIFSIGNALED(st) ? WTERMSIG(st) : -1;
		usleep(10000);
	}
	return 0;
}

static char *read_all(FILE *f)
{
	static char buf[8192];
	size_t n;

	rewind(f);
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	return buf;
}

START_TEST(orphans_killed_only_when_theirs)
{
	plan p = { 0 };
	resume r = { 0 };
	pid_t ours = spawn_group(false), stubborn = spawn_group(true), reused = spawn_group(false),
	      rebooted = spawn_group(false);
	journal_orphan o[4] = {
		{ .pgid = ours, .attempt = 1, .boot_id = "boot-a", .run_id = "run-1" },
		{ .pgid = stubborn, .attempt = 2, .boot_id = "boot-a", .run_id = "run-1" },
		/* The journal's window misses this process's start time:
		 * the pid went to another process since. */
		{ .pgid = reused, .attempt = 1, .boot_id = "boot-a", .run_id = "run-1" },
		/* Journaled on another boot. */
		{ .pgid = rebooted, .attempt = 1, .boot_id = "boot-b", .run_id = "run-1" },
	};
	FILE *err = tmpfile();
	char *said;
	size_t i;

	/* Windows around each start time, as wide as a slow spawn's. */
	for (i = 0; i < 4; i++) {
		uint64_t start = resume_proc_start(o[i].pgid, NULL);

		ck_assert_uint_gt(start, 5);
		o[i].start_min = start - 5;
		o[i].start_max = start + 5;
	}
	/* Ends one tick before it: a window on either side of a start
	 * misses it. */
	o[2].start_max = o[2].start_min + 4;
	r.o.p = &p;
	r.o.err = err;
	strcpy(r.boot_id, "boot-a");
	r.view.orphans = o;
	r.view.n_orphans = 4;
	resume_kill_orphans(&r);
	ck_assert_int_eq(ended_by(ours), SIGTERM);
	ck_assert_int_eq(ended_by(stubborn), SIGKILL);
	ck_assert_int_eq(ended_by(reused), 0);
	ck_assert_int_eq(ended_by(rebooted), 0);
	said = read_all(err);
	ck_assert_msg(strstr(said, "killing process group") &&
			      strstr(said, "(an execution, attempt 2), left running by run run-1"),
		      "%s", said);
	ck_assert_msg(strstr(said, "ignored SIGTERM: killed"), "%s", said);
	for (i = 2; i < 4; i++) {
		char name[64];

		snprintf(name, sizeof name, "process group %ld ", (long)o[i].pgid);
		ck_assert_msg(!strstr(said, name), "%s", said);
	}
	kill(reused, SIGKILL);
	kill(rebooted, SIGKILL);
	waitpid(reused, NULL, 0);
	waitpid(rebooted, NULL, 0);
	/* Nothing left: nothing to say, nothing signalled. */
	rewind(err);
	resume_kill_orphans(&r);
	fclose(err);
}
END_TEST

START_TEST(usable_results)
{
	plan p = { 0 };
	resume r = { .o.p = &p, .mode = RESUME_CONTINUE };
	run_result res = { .status = ASSAY_OK, .resumed_from = "run-1" };
	char why[512];

	r.now = (double)time(NULL);
	res.end = r.now - 10;
	ck_assert(resume_usable(&r, &res, why, sizeof why));
	ck_assert_msg(strncmp(why, "OK in run run-1 at ", 19) == 0, "%s", why);
	res.status = ASSAY_WARNING;
	ck_assert(resume_usable(&r, &res, why, sizeof why));
	r.mode = RESUME_FAILED;
	ck_assert(!resume_usable(&r, &res, why, sizeof why));
	ck_assert_str_eq(why, "WARNING in run run-1 (--rerun-failed reruns what was not OK)");
	res.status = ASSAY_CRITICAL;
	ck_assert(!resume_usable(&r, &res, why, sizeof why));
	ck_assert_str_eq(why, "CRITICAL in run run-1");
	res.status = ASSAY_SKIPPED;
	ck_assert(!resume_usable(&r, &res, why, sizeof why));
	ck_assert_str_eq(why, "SKIPPED in run run-1");
	/* resume_max_age: by the end, 10 s ago. */
	res.status = ASSAY_OK;
	p.resume_max_age_ms = 11000;
	ck_assert(resume_usable(&r, &res, why, sizeof why));
	p.resume_max_age_ms = 9000;
	ck_assert(!resume_usable(&r, &res, why, sizeof why));
	ck_assert_msg(strncmp(why, "older than resume_max_age (9s): it ended at ", 44) == 0, "%s",
		      why);
}
END_TEST

START_TEST(node_keys_round_trip)
{
	static const char *const ids[] = { "plain", "with space:colon%and\nnewline", "t[x=1]" };
	char dir[] = "/tmp/assay-check-resume-XXXXXX", path[64];
	plan_node nodes[3] = { { 0 } };
	nodekey_part parts[4] = {
		{ "type", { 1, 2 } },
		{ "command", { 3, 4 } },
		{ "odd key: 50%", { 5, 6 } },
		{ "timeout", { 7, 8 } },
	};
	size_t part_at[4] = { 0, 2, 3, 4 };
	journal_key keys[3] = { { 10, 11 }, { 12, 13 }, { 0xffffffffffffffffULL, 0 } };
	plan p = { .nodes = nodes, .n_nodes = 3 };
	resume r = { 0 };
	resume_prev prev;
	const resume_prev_node *n;
	char why[256];
	size_t i;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	for (i = 0; i < 3; i++)
		nodes[i].id = (char *)ids[i];
	r.o.p = &p;
	r.o.config_dir = dir;
	r.keys = (nodekeys){ .nodes = keys, .parts = parts, .part_at = part_at, .n_nodes = 3 };
	ck_assert_int_eq(resume_nodes_write(&r, why, sizeof why), 0);
	resume_nodes_read(&prev, dir);
	ck_assert_uint_eq(prev.n, 3);
	for (i = 0; i < 3; i++) {
		ck_assert_ptr_nonnull(n = resume_nodes_find(&prev, ids[i]));
		ck_assert_int_eq(nodekey_cmp(n->key, keys[i]), 0);
		ck_assert_uint_eq(n->n_parts, part_at[i + 1] - part_at[i]);
	}
	n = resume_nodes_find(&prev, ids[1]);
	ck_assert_str_eq(n->parts[0].name, "odd key: 50%");
	ck_assert_uint_eq(n->parts[0].hash.lo, 6);
	ck_assert_ptr_null(resume_nodes_find(&prev, "absent"));
	resume_nodes_release(&prev);
	/* Damaged or of another version: none, not an error. */
	snprintf(path, sizeof path, "%s/%s", dir, RESUME_NODES_FILE);
	ck_assert_int_eq(truncate(path, 30), 0);
	resume_nodes_read(&prev, dir);
	ck_assert_uint_eq(prev.n, 0);
	resume_nodes_release(&prev);
	unlink(path);
	resume_nodes_read(&prev, dir);
	ck_assert_uint_eq(prev.n, 0);
	rmdir(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("resume");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, orphans_killed_only_when_theirs);
	tcase_add_test(tc, usable_results);
	tcase_add_test(tc, node_keys_round_trip);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
