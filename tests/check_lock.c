/* check_lock.c -- Check suite for core/lock.c: a second taker is refused
 * with the holder's pid and time, waits and gives up saying so, gets the
 * lock once it is released; a lock file that cannot be opened (no such
 * directory, a symbolic link planted there) is an error naming it; the
 * holder's time is written as of today or with its date. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lock.h"
#include "task.h"

static char dir[] = "/tmp/check_lock.XXXXXX";

static void setup(void)
{
	strcpy(dir, "/tmp/check_lock.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char path[64];

	snprintf(path, sizeof path, "%s/lock", dir);
	unlink(path);
	rmdir(dir);
}

/* flock(2) locks belong to the open file: a second taker in this process
 * is refused as another process would be. */
START_TEST(test_second_taker_refused)
{
	run_lock *a, *b;
	char why[256], want[128], path[64], text[64] = "";
	long long pid, at;
	int fd, signo = 0;
	ssize_t n;

	ck_assert_int_eq(lock_take(&a, dir, "infra.toml", 0, -1, &signo, why, sizeof why), 0);
	ck_assert_ptr_nonnull(a);
	/* The holder's pid and time, for the next one's message. */
	snprintf(path, sizeof path, "%s/lock", dir);
	ck_assert_int_ge(fd = open(path, O_RDONLY), 0);
	ck_assert_int_gt(n = read(fd, text, sizeof text - 1), 0);
	close(fd);
	ck_assert_int_eq(sscanf(text, "%lld %lld", &pid, &at), 2);
	ck_assert_int_eq(pid, getpid());
	ck_assert_int_le(llabs(at - (long long)time(NULL)), 2);

	ck_assert_int_eq(lock_take(&b, dir, "infra.toml", 0, -1, &signo, why, sizeof why),
			 LOCK_BUSY);
	ck_assert_ptr_null(b);
	snprintf(want, sizeof want, ", pid %d", (int)getpid());
	ck_assert_msg(strncmp(why, "another run of infra.toml holds the lock since ", 47) == 0 &&
			      strstr(why, want) && !strstr(why, "waited"),
		      "%s", why);

	lock_release(a);
	ck_assert_int_eq(lock_take(&b, dir, "infra.toml", 0, -1, &signo, why, sizeof why), 0);
	lock_release(b);
	lock_release(NULL);
}
END_TEST

/* With a wait: refused after it, saying it waited. */
START_TEST(test_wait_gives_up)
{
	run_lock *a, *b;
	char why[256];
	int signo = 0;
	int64_t t0;

	ck_assert_int_eq(lock_take(&a, dir, "x.toml", 0, -1, &signo, why, sizeof why), 0);
	t0 = task_now_ns();
	ck_assert_int_eq(lock_take(&b, dir, "x.toml", 120, -1, &signo, why, sizeof why), LOCK_BUSY);
	ck_assert_int_ge(task_now_ns() - t0, 120 * 1000000LL);
	ck_assert_msg(strstr(why, " (waited 120ms)"), "%s", why);
	lock_release(a);
}
END_TEST

START_TEST(test_cannot_open)
{
	run_lock *l;
	char why[512], missing[128], path[64];
	int signo = 0;

	snprintf(missing, sizeof missing, "%s/none", dir);
	ck_assert_int_eq(lock_take(&l, missing, "x.toml", 0, -1, &signo, why, sizeof why),
			 LOCK_ERROR);
	ck_assert_ptr_null(l);
	ck_assert_msg(strstr(why, "cannot open the run lock ") && strstr(why, "/none/lock: "), "%s",
		      why);
	/* A link planted as the lock is never followed (nor truncated). */
	snprintf(path, sizeof path, "%s/lock", dir);
	ck_assert_int_eq(symlink("/etc/passwd", path), 0);
	ck_assert_int_eq(lock_take(&l, dir, "x.toml", 0, -1, &signo, why, sizeof why), LOCK_ERROR);
	ck_assert_msg(strstr(why, "cannot open the run lock "), "%s", why);
}
END_TEST

START_TEST(test_format_since)
{
	time_t now = time(NULL);
	char buf[32];

	lock_format_since(now, now, buf, sizeof buf);
	ck_assert_uint_eq(strlen(buf), 8); /* 12:01:07 */
	ck_assert(buf[2] == ':' && buf[5] == ':');
	lock_format_since(now - 3 * 86400, now, buf, sizeof buf);
	ck_assert_uint_eq(strlen(buf), 19); /* 2026-12-07 12:01:07 */
	ck_assert(buf[4] == '-' && buf[10] == ' ' && buf[13] == ':');
}
END_TEST

static Suite *lock_suite(void)
{
	Suite *s = suite_create("lock");
	TCase *tc = tcase_create("lock");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_second_taker_refused);
	tcase_add_test(tc, test_wait_gives_up);
	tcase_add_test(tc, test_cannot_open);
	tcase_add_test(tc, test_format_since);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(lock_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
