/* check_exec.c -- Check suite for the exec plugin: loads the built .so and drives it through the fake host. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <check.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fake_host.h"

static int (*plugin_init)(const assay_host *, assay_plugin *);
static char data_dir[PATH_MAX];
static const assay_node_type *type;

static const char *const no_params[] = { NULL };

/* ---- helpers ------------------------------------------------------------------- */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* printf into a buffer that lives until the test ends (tests are forked). */
ASSAY_PRINTF(1, 2)
static const char *fmt(const char *f, ...)
{
	static char bufs[8][8192];
	static int next;
	char *b = bufs[next++ % 8];
	va_list ap;

	va_start(ap, f);
	vsnprintf(b, sizeof bufs[0], f, ap);
	va_end(ap);
	return b;
}

static void setup(void)
{
	ck_assert_int_eq(plugin_init(fake_host(), fake_plugin()), 0);
	type = fake_node_type("exec");
	ck_assert_ptr_nonnull(type);
}

static void teardown(void)
{
	fake_host_reset();
}

static void *prepare_ok(const char *toml, unsigned kind, const char *const *params)
{
	void *state = NULL;
	int rc = type->prepare(fake_node("n", kind, params), fake_parse(toml), type->data, &state);

	ck_assert_msg(rc == 0, "prepare failed (%d): %s", rc, fake_errors());
	ck_assert_uint_eq(fake_error_count(), 0);
	return state;
}

/* Starts a task of a prepared node; returns what run returned. */
static int start(assay_task *t, void *state)
{
	return fake_task_run(t, type, state);
}

/* Waits for t and checks the contract: one complete() (none after DONE),
 * the task not touched afterwards. */
static void wait_task(assay_task *t, int rc, int64_t limit_ms)
{
	if (rc == ASSAY_PENDING && !fake_host_run_until_complete(t, limit_ms)) {
		fake_host_kill_children();
		ck_abort_msg("task did not complete within %lld ms", (long long)limit_ms);
	}
	fake_host_run_for(10);
	ck_assert_int_eq(fake_task_completions(t), rc == ASSAY_PENDING ? 1 : 0);
	ck_assert_msg(!strstr(fake_task_log(t), "VIOLATION"), "%s", fake_task_log(t));
}

/* wait_task, and nothing is left registered with the reactor. */
static void finish(assay_task *t, int rc, int64_t limit_ms)
{
	wait_task(t, rc, limit_ms);
	ck_assert_uint_eq(fake_host_pending(), 0);
}

/* Prepares toml as a node of kind, runs one task to its end, releases the
 * node. */
static assay_task *run_full(const char *toml, unsigned kind, const char *const *params,
			    const char *item, int64_t timeout_ms)
{
	void *state = prepare_ok(toml, kind, params);
	assay_task *t = fake_task("n", kind, params, item, timeout_ms);

	finish(t, start(t, state), 10000);
	type->release(state, type->data);
	return t;
}

static assay_task *run_check(const char *toml)
{
	return run_full(toml, ASSAY_KIND_CHECK, no_params, NULL, -1);
}

/* s as a TOML basic string. */
static const char *toml_str(const char *s)
{
	char buf[4096], *d = buf;

	*d++ = '"';
	for (; *s && d < buf + sizeof buf - 8; s++) {
		if (*s == '"' || *s == '\\') {
			*d++ = '\\';
			*d++ = *s;
		} else if (*s == '\n') {
			*d++ = '\\';
			*d++ = 'n';
		} else if ((unsigned char)*s < 0x20 || *s == 0x7f) { /* TOML takes no raw controls */
			d += sprintf(d, "\\u%04x", (unsigned char)*s);
		} else {
			*d++ = *s;
		}
	}
	*d++ = '"';
	*d = '\0';
	return fmt("%s", buf);
}

/* A check of emit.sh, a monitoring plugin: exit with code after printing
 * out and err. */
static assay_task *run_emit(int code, const char *out, const char *err)
{
	return run_check(fmt("command = [\"%s/emit.sh\", \"%d\", %s, %s]\n"
			     "convention = \"monitoring-plugins\"", data_dir, code,
			     toml_str(out), toml_str(err)));
}

/* The same as a plain command (the default convention). */
static assay_task *run_emit_plain(int code, const char *out, const char *err)
{
	return run_check(fmt("command = [\"%s/emit.sh\", \"%d\", %s, %s]", data_dir, code,
			     toml_str(out), toml_str(err)));
}

static void assert_result(const assay_task *t, assay_status status, const char *message)
{
	ck_assert_msg(fake_task_status(t) == status, "status %d, expected %d (message \"%s\")",
		      fake_task_status(t), status, fake_task_message(t));
	ck_assert_msg(strcmp(fake_task_message(t), message) == 0, "message \"%s\", expected \"%s\"; log:\n%s",
		      fake_task_message(t), message, fake_task_log(t));
}

static const assay_metric *metric(const assay_task *t, const char *name)
{
	const assay_metric *m = fake_task_find_metric(t, name);
	ck_assert_msg(m != NULL, "no metric `%s`; log:\n%s", name, fake_task_log(t));
	return m;
}

static void assert_metric(const assay_task *t, const char *name, double value,
			  const char *unit, const char *warn, const char *crit)
{
	const assay_metric *m = metric(t, name);

	ck_assert_double_eq_tol(m->value, value, 1e-9);
	ck_assert_str_eq(m->unit ? m->unit : "", unit);
	if (warn)
		ck_assert_str_eq(m->warn ? m->warn : "(none)", warn);
	else
		ck_assert_ptr_null(m->warn);
	if (crit)
		ck_assert_str_eq(m->crit ? m->crit : "(none)", crit);
	else
		ck_assert_ptr_null(m->crit);
}

/* Pids written one a line by a test script. */
static size_t read_pids(const char *path, pid_t *pids, size_t max)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;
	int pid;

	ck_assert_ptr_nonnull(f);
	while (n < max && fscanf(f, "%d", &pid) == 1)
		pids[n++] = pid;
	fclose(f);
	return n;
}

/* With this process as subreaper, orphaned grandchildren are ours to
 * reap: a killed one is reaped here, and then it is gone for good. */
static void assert_killed(pid_t pid, int sig)
{
	int status = 0;
	pid_t r = 0;

	for (int i = 0; i < 200 && r == 0; i++) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == 0)
			usleep(5000);
	}
	if (r != pid) {
		kill(pid, SIGKILL);
		ck_abort_msg("process %d is still running", (int)pid);
	}
	ck_assert_msg(WIFSIGNALED(status), "process %d exited instead of being killed", (int)pid);
	ck_assert_msg(WTERMSIG(status) == sig, "process %d killed by signal %d, not %d", (int)pid,
		      WTERMSIG(status), sig);
	ck_assert_int_eq(kill(pid, 0), -1);
	ck_assert_int_eq(errno, ESRCH);
}

static const char *temp_path(const char *name)
{
	const char *p = fmt("/tmp/check_exec.%d.%s", (int)getpid(), name);
	unlink(p);
	return p;
}

/* ---- status and message ------------------------------------------------------ */

START_TEST(test_true_false)
{
	assert_result(run_check("command = [\"/bin/true\"]"), ASSAY_OK, "exit status 0");
	/* A plain command (the default) failed when it exits non-zero... */
	assert_result(run_check("command = [\"false\"]"), ASSAY_CRITICAL, "exit status 1");
	assert_result(run_check("command = [\"false\"]\nconvention = \"plain\""), ASSAY_CRITICAL,
		      "exit status 1");
	/* ...a monitoring plugin's exit 1 is WARNING... */
	assert_result(run_check("command = [\"false\"]\nconvention = \"monitoring-plugins\""),
		      ASSAY_WARNING, "exit status 1");
	/* ...and ok_exit names a plain program's good codes. */
	assert_result(run_check("command = [\"false\"]\nok_exit = [0]"), ASSAY_CRITICAL,
		      "exit status 1");
	assert_result(run_check("command = [\"true\"]\nok_exit = [0]"), ASSAY_OK, "exit status 0");
}
END_TEST

/* The child leads its own process group, and the host learns it once,
 * by task_child(), before the task ends: what the journal records for a
 * --resume to kill after a kill -9 of assay. */
START_TEST(test_child_process_group)
{
	assay_task *t = run_check("command = [\"/bin/sh\", \"-c\", "
				  "\"read -r pid comm state ppid pgrp rest < /proc/self/stat; "
				  "echo $$ $pgrp\"]\nconvention = \"monitoring-plugins\"");
	long pid = 0, pgrp = 0;

	ck_assert_int_eq(sscanf(fake_task_message(t), "%ld %ld", &pid, &pgrp), 2);
	ck_assert_int_eq(pid, pgrp);
	ck_assert_uint_eq(fake_task_child_count(t), 1);
	ck_assert_int_eq(fake_task_child_pid(t, 0), pid);
	/* A program that cannot start made no group. */
	t = run_check("command = [\"/nonexistent/program\"]");
	ck_assert_uint_eq(fake_task_child_count(t), 0);
}
END_TEST

/* [plugins.exec] convention sets every node's default; a node's own
 * option wins, and ok_exit makes a node plain. */
START_TEST(test_convention_default)
{
	fake_host_reset();
	fake_set_config("[plugins.exec]\nconvention = \"monitoring-plugins\"");
	ck_assert_int_eq(plugin_init(fake_host(), fake_plugin()), 0);
	type = fake_node_type("exec");
	assert_result(run_check("command = [\"false\"]"), ASSAY_WARNING, "exit status 1");
	assert_result(run_check("command = [\"false\"]\nconvention = \"plain\""), ASSAY_CRITICAL,
		      "exit status 1");
	assert_result(run_check("command = [\"false\"]\nok_exit = [0, 2]"), ASSAY_CRITICAL,
		      "exit status 1");

	fake_host_reset();
	fake_set_config("[plugins.exec]\nconvention = \"plain\"");
	ck_assert_int_eq(plugin_init(fake_host(), fake_plugin()), 0);
	type = fake_node_type("exec");
	assert_result(run_check("command = [\"false\"]"), ASSAY_CRITICAL, "exit status 1");

	fake_host_reset();
	fake_set_config("[plugins.exec]\nconvention = \"nagios\"\nconvnetion = 1");
	ck_assert_int_eq(plugin_init(fake_host(), fake_plugin()), ASSAY_EINVAL);
	ck_assert_str_eq(fake_errors(),
			 "2:14: `convention` must be \"plain\" or \"monitoring-plugins\", not \"nagios\"\n"
			 "3:1: unknown key `convnetion` in [plugins.exec] (did you mean `convention`?)\n");
	ck_assert_ptr_null(fake_node_type("exec"));
	fake_host_reset();
	ck_assert_int_eq(plugin_init(fake_host(), fake_plugin()), 0); /* for teardown */
}
END_TEST

START_TEST(test_exit_codes)
{
	static const struct { int code; assay_status status; } cases[] = {
		{ 0, ASSAY_OK }, { 1, ASSAY_WARNING }, { 2, ASSAY_CRITICAL },
		{ 3, ASSAY_UNKNOWN }, { 4, ASSAY_UNKNOWN }, { 42, ASSAY_UNKNOWN },
		{ 255, ASSAY_UNKNOWN },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		assert_result(run_emit(cases[i].code, "", ""), cases[i].status,
			      fmt("exit status %d", cases[i].code));
		/* a plain command: anything but 0 is a failure */
		assert_result(run_emit_plain(cases[i].code, "", ""),
			      cases[i].code ? ASSAY_CRITICAL : ASSAY_OK,
			      fmt("exit status %d", cases[i].code));
	}
	assert_result(run_emit(2, "CRITICAL - down", ""), ASSAY_CRITICAL, "CRITICAL - down");
	assert_result(run_emit(42, "weird\n", ""), ASSAY_UNKNOWN, "weird");
}
END_TEST

START_TEST(test_signals)
{
	struct rlimit no_core = { 0, 0 };
	setrlimit(RLIMIT_CORE, &no_core);
	assert_result(run_check("command = [\"sh\", \"-c\", \"kill -KILL $$\"]"), ASSAY_UNKNOWN,
		      "killed by signal SIGKILL");
	assert_result(run_check("command = [\"sh\", \"-c\", \"echo partial; kill -SEGV $$\"]"),
		      ASSAY_UNKNOWN, "killed by signal SIGSEGV: partial");
	/* ok_exit does not make a crash OK, nor a failure */
	assert_result(run_check("command = [\"sh\", \"-c\", \"kill -TERM $$\"]\nok_exit = [0, 143]"),
		      ASSAY_UNKNOWN, "killed by signal SIGTERM");
}
END_TEST

static assay_task *run_ok_exit(int code)
{
	return run_check(fmt("command = [\"%s/emit.sh\", \"%d\"]\nok_exit = [0, 42]", data_dir, code));
}

START_TEST(test_ok_exit)
{
	assert_result(run_ok_exit(0), ASSAY_OK, "exit status 0");
	assert_result(run_ok_exit(42), ASSAY_OK, "exit status 42");
	assert_result(run_ok_exit(1), ASSAY_CRITICAL, "exit status 1");
	assert_result(run_ok_exit(3), ASSAY_CRITICAL, "exit status 3");
}
END_TEST

START_TEST(test_message_from_stdout)
{
	assay_task *t = run_emit(0, "DISK OK - free space: / 3326 MB (56%); | /=2643MB;5948;5958;0;5968\n"
				    "  second line\n", "not the message\n");
	assert_result(t, ASSAY_OK, "DISK OK - free space: / 3326 MB (56%);");
	ck_assert_str_eq(fake_task_details(t), "  second line\nstderr:\nnot the message");
	assert_metric(t, "/", 2643, "MB", "5948", "5958");
	ck_assert_uint_eq(fake_task_metric_count(t), 1);
	ck_assert_uint_eq(metric(t, "/")->flags, ASSAY_METRIC_MIN | ASSAY_METRIC_MAX);
	ck_assert_double_eq(metric(t, "/")->min, 0);
	ck_assert_double_eq(metric(t, "/")->max, 5968);

	assert_result(run_emit(1, "  WARNING: padded \r\n", ""), ASSAY_WARNING, "WARNING: padded");
	assert_result(run_emit(0, "no newline at all", ""), ASSAY_OK, "no newline at all");
}
END_TEST

START_TEST(test_message_from_stderr)
{
	/* A failure's message is stderr's last line with a word in it: where
	 * a Python traceback names its exception. */
	static const char traceback[] =
		"Traceback (most recent call last):\n"
		"  File \"/srv/check_solver.py\", line 12, in <module>\n"
		"    main(sys.argv[1])\n"
		"    ^^^^^^^^^^^^^^^^^\n"
		"ValueError: solver a.py returned no solution\n"
		"\n";
	assay_task *t = run_emit_plain(1, "", traceback);
	assert_result(t, ASSAY_CRITICAL, "ValueError: solver a.py returned no solution");
	/* the whole of it in the details */
	ck_assert_str_eq(fake_task_details(t),
			 "stderr:\nTraceback (most recent call last):\n"
			 "  File \"/srv/check_solver.py\", line 12, in <module>\n"
			 "    main(sys.argv[1])\n    ^^^^^^^^^^^^^^^^^\n"
			 "ValueError: solver a.py returned no solution");
	assert_result(run_emit(2, "", "error: boom\nmore\n  \n--\n"), ASSAY_CRITICAL, "more");
	/* a blank first line of stdout counts as no message */
	assert_result(run_emit(3, "\n", "usage: x | y\n"), ASSAY_UNKNOWN, "usage: x | y");
	/* stdout that is only perfdata; a success's message is stderr's first line */
	assert_result(run_emit(0, "| a=1\n", "from stderr\nlater"), ASSAY_OK, "from stderr");
	/* stdout speaks first, failed or not */
	assert_result(run_emit_plain(1, "no such bucket\n", "Traceback\nError: x\n"), ASSAY_CRITICAL,
		      "no such bucket");
	/* nothing with a word in it: the exit status */
	assert_result(run_emit_plain(4, "", "\n ^^^ \n--\n"), ASSAY_CRITICAL, "exit status 4");
}
END_TEST

/* ---- perfdata ------------------------------------------------------------------- */

START_TEST(test_perfdata_forms)
{
	assay_task *t = run_emit(0, "OK - all | a=1 b=2.5s;1;2 'my label'=3% 'it''s'=4B "
				    "c=5c;;;0;100 d=-1.5e2ms;@10:20;~:5;; e=7KB f=8MB g=9GB "
				    "h=10TB i=11us j=12 k=13;10:;20;0; l=+0.5;;@~:3 m=.25", "");

	assert_result(t, ASSAY_OK, "OK - all");
	ck_assert_uint_eq(fake_task_metric_count(t), 15);
	assert_metric(t, "a", 1, "", NULL, NULL);
	assert_metric(t, "b", 2.5, "s", "1", "2");
	assert_metric(t, "my label", 3, "%", NULL, NULL);
	assert_metric(t, "it's", 4, "B", NULL, NULL);
	assert_metric(t, "c", 5, "c", NULL, NULL);
	ck_assert_uint_eq(metric(t, "c")->flags, ASSAY_METRIC_MIN | ASSAY_METRIC_MAX);
	ck_assert_double_eq(metric(t, "c")->max, 100);
	assert_metric(t, "d", -150, "ms", "@10:20", "~:5");
	ck_assert_uint_eq(metric(t, "d")->flags, 0);
	assert_metric(t, "e", 7, "KB", NULL, NULL);
	assert_metric(t, "f", 8, "MB", NULL, NULL);
	assert_metric(t, "g", 9, "GB", NULL, NULL);
	assert_metric(t, "h", 10, "TB", NULL, NULL);
	assert_metric(t, "i", 11, "us", NULL, NULL);
	assert_metric(t, "j", 12, "", NULL, NULL);
	assert_metric(t, "k", 13, "", "10:", "20");
	ck_assert_uint_eq(metric(t, "k")->flags, ASSAY_METRIC_MIN);
	assert_metric(t, "l", 0.5, "", NULL, "@~:3");
	assert_metric(t, "m", 0.25, "", NULL, NULL);
	/* metrics keep the output's order */
	ck_assert_str_eq(fake_task_metric(t, 0)->name, "a");
	ck_assert_str_eq(fake_task_metric(t, 14)->name, "m");
	ck_assert_ptr_null(strstr(fake_task_log(t), "WARNING"));
}
END_TEST

START_TEST(test_perfdata_malformed)
{
	assay_task *t = run_emit(0, "OK | a=1 bad b=xyz c=1,5 d=3 e=4zz f=5;;;x g=6;1;2;3;4;5 "
				    "h=U i=7;1:2:3 =8 j=9;;;;; 'open=3", "");
	const char *log = fake_task_log(t);

	assert_result(t, ASSAY_OK, "OK");
	ck_assert_uint_eq(fake_task_metric_count(t), 3);
	assert_metric(t, "a", 1, "", NULL, NULL);
	assert_metric(t, "d", 3, "", NULL, NULL);
	/* trailing empty fields, even a sixth one, are fine */
	assert_metric(t, "j", 9, "", NULL, NULL);
	ck_assert_ptr_nonnull(strstr(log, "WARNING: perfdata: skipped `bad`: no `=` after the label\n"));
	ck_assert_ptr_nonnull(strstr(log, "WARNING: perfdata: skipped `b=xyz`: the value is not a number\n"));
	ck_assert_ptr_nonnull(strstr(log, "WARNING: perfdata: skipped `c=1,5`: unknown unit of measurement\n"));
	ck_assert_ptr_nonnull(strstr(log, "WARNING: perfdata: skipped `e=4zz`: unknown unit of measurement\n"));
	ck_assert_ptr_nonnull(strstr(log, "WARNING: perfdata: skipped `f=5;;;x`: the minimum is not a number\n"));
	/* the sixth and later are counted, not listed */
	ck_assert_ptr_null(strstr(log, "skipped `g="));
	ck_assert_ptr_nonnull(strstr(log, "WARNING: perfdata: 4 more malformed items skipped\n"));
	/* U is "no value", not an error */
	ck_assert_ptr_nonnull(strstr(log, "DEBUG: perfdata: `h` has no value (U)\n"));
}
END_TEST

START_TEST(test_perfdata_reasons)
{
	/* one bad item each, so that every reason gets logged */
	static const struct { const char *item, *why; } cases[] = {
		{ "g=6;1;2;3;4;5", "more than five fields" },
		{ "i=7;1:2:3", "the warning threshold is not a range" },
		{ "i=7;;@", "the critical threshold is not a range" },
		{ "i=7;;;;9x", "the maximum is not a number" },
		{ "=8", "empty label" },
		{ "''=8", "empty label" },
		{ "'open=3", "unterminated quote" },
		{ "x=", "the value is not a number" },
		{ "x=inf", "the value is not a number" },
		{ "x=0x10", "unknown unit of measurement" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		assay_task *t = run_emit(0, fmt("OK | %s", cases[i].item), "");
		ck_assert_uint_eq(fake_task_metric_count(t), 0);
		ck_assert_msg(strstr(fake_task_log(t), fmt("skipped `%s`: %s\n", cases[i].item,
							    cases[i].why)),
			      "%s: %s", cases[i].item, fake_task_log(t));
	}
}
END_TEST

START_TEST(test_details)
{
	/* the long output: the lines after the first, less their perfdata */
	assay_task *t = run_emit(1, "WARNING - first | a=1\n  indented line \n\nthird | b=2\nc=3\n\n",
				 "err\n");
	assert_result(t, ASSAY_WARNING, "WARNING - first");
	ck_assert_str_eq(fake_task_details(t), "  indented line\n\nthird\nstderr:\nerr");
	ck_assert_uint_eq(fake_task_metric_count(t), 3);

	t = run_emit(0, "OK\n\n\nlater\n", "");
	ck_assert_str_eq(fake_task_details(t), "later");
	/* none: one line; only perfdata later; blank stderr */
	ck_assert_ptr_null(fake_task_details(run_emit(0, "OK | a=1\n", "")));
	ck_assert_ptr_null(fake_task_details(run_emit(0, "OK | a=1\n | b=2\nc=3\n", " \n\n")));
	/* stderr after stdout's long output, under its own line, edges trimmed */
	ck_assert_str_eq(fake_task_details(run_emit(2, "", "\nerror: boom\n  more\n\n")),
			 "stderr:\nerror: boom\n  more");
	ck_assert_str_eq(fake_task_details(run_emit(0, "OK\nlong\n", "warn: x\n")),
			 "long\nstderr:\nwarn: x");
}
END_TEST

START_TEST(test_perfdata_long_output)
{
	assay_task *t = run_emit(1, "WARNING - first | a=1\nlong text, a | b=2;3\nc=3s\n"
				    "another | 'd e'=4\n", "");

	assert_result(t, ASSAY_WARNING, "WARNING - first");
	ck_assert_uint_eq(fake_task_metric_count(t), 4);
	assert_metric(t, "a", 1, "", NULL, NULL);
	assert_metric(t, "b", 2, "", "3", NULL);
	assert_metric(t, "c", 3, "s", NULL, NULL);
	assert_metric(t, "d e", 4, "", NULL, NULL);

	/* long output without any '|' is text, not perfdata */
	t = run_emit(0, "OK\nx=1\ny=2\n", "");
	ck_assert_uint_eq(fake_task_metric_count(t), 0);
	ck_assert_ptr_null(strstr(fake_task_log(t), "WARNING"));
}
END_TEST

/* A locale whose decimal separator is a comma: the system's de_DE, or one
 * compiled into dir with localedef. */
static bool comma_locale(const char *dir)
{
	if (setlocale(LC_ALL, "de_DE.UTF-8") || setlocale(LC_ALL, "de_DE"))
		return strcmp(localeconv()->decimal_point, ",") == 0;
	if (system(fmt("localedef -i de_DE -f ISO-8859-1 '%s/de_DE' >/dev/null 2>&1", dir)) != 0)
		return false;
	setenv("LOCPATH", dir, 1);
	return setlocale(LC_ALL, "de_DE") && strcmp(localeconv()->decimal_point, ",") == 0;
}

START_TEST(test_perfdata_decimal_comma_locale)
{
	char dir[] = "/tmp/check_exec.locale.XXXXXX";

	ck_assert_ptr_nonnull(mkdtemp(dir));
	bool have = comma_locale(dir);
	if (system(fmt("rm -rf '%s'", dir)) != 0)
		fprintf(stderr, "check_exec: cannot remove %s\n", dir);
	if (!have) {
		fprintf(stderr, "check_exec: no de_DE locale (install `locales`): "
				"testing decimal points in the C locale only\n");
	} else {
		ck_assert_double_eq(strtod("1.5", NULL), 1.0); /* the trap we avoid */
	}
	assay_task *t = run_emit(0, "OK | x=1.5;2.5;3.5;0.5;10.25 y=1e-3s", "");
	assert_metric(t, "x", 1.5, "", "2.5", "3.5");
	ck_assert_double_eq(metric(t, "x")->min, 0.5);
	ck_assert_double_eq(metric(t, "x")->max, 10.25);
	assert_metric(t, "y", 0.001, "s", NULL, NULL);
	setlocale(LC_ALL, "C");
}
END_TEST

/* ---- expansion, env, cwd, shell ---------------------------------------------------- */

START_TEST(test_param_expansion)
{
	static const char *const params[] = { "lr", "0.01", "bs", "32", NULL };
	assay_task *t = run_full(fmt("command = [\"%s/emit.sh\", \"0\", \"lr={lr} bs={bs} {{lit}}|x={bs}\"]",
				     data_dir),
				 ASSAY_KIND_TRIAL, params, NULL, -1);

	assert_result(t, ASSAY_OK, "lr=0.01 bs=32 {lit}");
	assert_metric(t, "x", 32, "", NULL, NULL);
}
END_TEST

START_TEST(test_item_expansion)
{
	const char *toml = "command = [\"sh\", \"-c\", 'echo \"item=$1 dir=$(pwd) v=$V\"', \"sh\", \"{item}\"]\n"
			   "cwd = \"/{item}\"\nenv = { V = \"<{item}>\" }";
	void *state = prepare_ok(toml, ASSAY_KIND_VALIDATION, no_params);
	static const char *const items[] = { "tmp", "usr", "etc" };
	assay_task *t[3];

	/* three items of one validation at once */
	for (int i = 0; i < 3; i++) {
		t[i] = fake_task(items[i], ASSAY_KIND_VALIDATION, no_params, items[i], -1);
		ck_assert_int_eq(start(t[i], state), ASSAY_PENDING);
	}
	for (int i = 0; i < 3; i++) {
		wait_task(t[i], ASSAY_PENDING, 5000);
		assert_result(t[i], ASSAY_OK, fmt("item=%s dir=/%s v=<%s>", items[i], items[i], items[i]));
	}
	ck_assert_uint_eq(fake_host_pending(), 0);
	type->release(state, type->data);
}
END_TEST

START_TEST(test_env)
{
	void *state = prepare_ok("command = [\"sh\", \"-c\", 'echo \"$GREETING/$FROM_HOST/$HOME\"']\n"
				 "env = { GREETING = \"hello world\", HOME = \"/nowhere\" }",
				 ASSAY_KIND_CHECK, no_params);
	assay_task *t = fake_task("n", ASSAY_KIND_CHECK, no_params, NULL, -1);

	setenv("HOME", "/root-of-the-test", 1);
	ck_assert_int_eq(fake_host()->setenv(t, "FROM_HOST", "gpu-0"), 0);
	finish(t, start(t, state), 5000);
	assert_result(t, ASSAY_OK, "hello world/gpu-0//nowhere");
	type->release(state, type->data);
}
END_TEST

START_TEST(test_env_path_lookup)
{
	/* a bare name is found in the PATH the child gets */
	assay_task *t = run_check(fmt("command = [\"emit.sh\", \"2\", \"found\"]\n"
				      "env = { PATH = \"/nonexistent:%s:/bin:/usr/bin\" }", data_dir));
	assert_result(t, ASSAY_CRITICAL, "found");
}
END_TEST

START_TEST(test_secret_passed_verbatim)
{
	setenv("EXEC_TEST_SECRET", "p{a}ss", 1);
	/* no placeholder check on a secret at prepare, no expansion at run */
	assay_task *t = run_check("command = [\"sh\", \"-c\", '[ \"$1\" = \"$WANT\" ] && echo same', "
				  "\"sh\", \"${env:EXEC_TEST_SECRET}\"]\n"
				  "env = { WANT = \"p{{a}}ss\" }");
	assert_result(t, ASSAY_OK, "same");
	t = run_check("command = [\"${env:EXEC_TEST_SECRET}\"]");
	assert_result(t, ASSAY_UNKNOWN, "cannot run `(secret)`: No such file or directory");
}
END_TEST

START_TEST(test_cwd)
{
	assay_task *t = run_check(fmt("command = [\"pwd\"]\ncwd = \"%s\"", data_dir));
	assert_result(t, ASSAY_OK, data_dir);
	/* relative names are looked up in PATH, not in cwd */
	t = run_check("command = [\"emit.sh\", \"0\"]\ncwd = \"/\"");
	assert_result(t, ASSAY_UNKNOWN, "cannot run `emit.sh`: No such file or directory");
	t = run_check(fmt("command = [\"./emit.sh\", \"0\", \"relative\"]\ncwd = \"%s\"", data_dir));
	assert_result(t, ASSAY_OK, "relative");

	t = run_check("command = [\"pwd\"]\ncwd = \"/nonexistent-assay-dir\"");
	assert_result(t, ASSAY_UNKNOWN,
		      "cannot change to directory `/nonexistent-assay-dir`: No such file or directory");
	t = run_check("command = [\"pwd\"]\ncwd = \"/etc/passwd\"");
	assert_result(t, ASSAY_UNKNOWN, "cannot change to directory `/etc/passwd`: Not a directory");
}
END_TEST

START_TEST(test_shell)
{
	assay_task *t = run_check("shell = true\ncommand = \"echo $((6 * 7)) | tr 4 x; exit 2\"");
	assert_result(t, ASSAY_CRITICAL, "x2");

	/* the array form: the script, then $0, $1, ... (no quoting of {item}) */
	t = run_full("shell = true\ncommand = ['printf \"%s-%s\" \"$1\" \"$2\"', \"sh\", \"{item}\", \"b\"]",
		     ASSAY_KIND_VALIDATION, no_params, "a; rm -rf /", -1);
	assert_result(t, ASSAY_OK, "a; rm -rf /-b");

	t = run_check("shell = true\ncommand = \"nosuch-assay-command\"");
	ck_assert_int_eq(fake_task_status(t), ASSAY_CRITICAL);
	ck_assert_ptr_nonnull(strstr(fake_task_message(t), "nosuch-assay-command"));
	ck_assert_ptr_nonnull(strstr(fake_task_message(t), "not found"));
}
END_TEST

/* Values that would be code if pasted into a script: every shell
 * metacharacter, quotes, newlines, leading dashes, the empty string. */
static const char *const hostile[] = {
	"x$(touch PWNED).py", "`touch PWNED`", "a;touch PWNED", "a|touch PWNED", "a&&touch PWNED",
	"a & touch PWNED", "a>PWNED", "<PWNED", "'$(touch PWNED)'", "\"$(touch PWNED)\"",
	"'\"'\"'", "\\", "a\\", "\\$(touch PWNED)", "$HOME ${HOME} $((1+1))", "*", "?", "[a-z]*",
	"~", "~root", "#not a comment", "a b  c", "\ttab", "a\nb", "x\nEOF\ntouch PWNED\nEOF",
	"line\n\ttouch PWNED", "!", "{a,b}", "(x)", "{item}", "{{", "%s %d", "-n", "--help", "-",
	"", " ", "=", "a=b touch PWNED", "\x01\x7f\xe9", "IFS=x",
};

/* The script each value is substituted into, in every place a shell
 * reads it differently (@ is the placeholder); each line it writes shows
 * one place. */
static const char shell_places[] =
	"# a comment's apostrophe (don't) opens no quote: @\n"
	"printf '[%s]\\n' @ >>\"$OUT\"\n"
	"printf '[%s]\\n' \"dq @ dq\" >>\"$OUT\"\n"
	"printf '[%s]\\n' 'sq @ sq' >>\"$OUT\"\n"
	"printf '[%s]\\n' \"$(printf '%s' @)\" >>\"$OUT\"\n"
	"printf '[%s]\\n' \"`printf '%s' @`\" >>\"$OUT\"\n"
	"printf '[%s]\\n' x@y >>\"$OUT\"\n"
	"v=@; printf '[%s]\\n' \"$v\" >>\"$OUT\"\n"
	"cat <<EOF >>\"$OUT\"\n"
	"[doc @ doc]\n"
	"EOF\n"
	"cat <<-'EOF' >>\"$OUT\"\n"
	"\t[literal $HOME {{x}}]\n"
	"\tEOF\n"
	"printf '[%s]\\n' @ >>\"$OUT\"\n";

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	static char buf[65536];
	size_t n;

	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* With shell = true a value reaches the script as a quoted reference to
 * ASSAY_ITEM (or ASSAY_PARAM_NAME): the shell sees exactly the value, in
 * every place, and runs none of it. */
START_TEST(test_shell_quotes_placeholders)
{
	char dir[] = "/tmp/check_exec.shell.XXXXXX", out[64];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(out, sizeof out, "%s/out", dir);
	for (size_t i = 0; i < sizeof hostile / sizeof *hostile; i++) {
		const char *v = hostile[i];
		const char *params[] = { "lr", v, NULL };
		char script[4096], want[4096];

		for (int trial = 0; trial < 2; trial++) {
			unlink(out);
			/* the same places with {item} and with a parameter */
			char *d = script;
			for (const char *p = shell_places; *p && d < script + sizeof script - 8; p++)
				d += *p == '@' ? (size_t)sprintf(d, "%s", trial ? "{lr}" : "{item}")
					       : (size_t)(*d = *p, 1);
			*d = '\0';
			assay_task *t = run_full(fmt("shell = true\ncommand = %s\ncwd = \"%s\"\n"
						     "env = { OUT = \"%s\" }",
						     toml_str(script), dir, out),
						 trial ? ASSAY_KIND_TRIAL : ASSAY_KIND_VALIDATION,
						 trial ? params : no_params, trial ? NULL : v, -1);
			assert_result(t, ASSAY_OK, "exit status 0");
			snprintf(want, sizeof want,
				 "[%s]\n[dq %s dq]\n[sq %s sq]\n[%s]\n[%s]\n[x%sy]\n[%s]\n[doc %s doc]\n"
				 "[literal $HOME {x}]\n[%s]\n",
				 v, v, v, v, v, v, v, v, v);
			/* $( ) and ` ` drop trailing newlines, and the values have none */
			ck_assert_msg(strcmp(read_file(out), want) == 0, "value \"%s\" as %s:\n%s\nwant:\n%s",
				      v, trial ? "{lr}" : "{item}", read_file(out), want);
			ck_assert_msg(access(fmt("%s/PWNED", dir), F_OK) != 0, "value \"%s\" ran code", v);
		}
	}
	unlink(out);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/* {NAME:raw} pastes the text, for a value meant as shell code; without a
 * shell, and in env and cwd, placeholders are the text anyway. */
START_TEST(test_shell_raw_placeholders)
{
	static const char *const params[] = { "filter", "| tr a-z A-Z", "n", "$((6 * 7))", NULL };
	assay_task *t = run_full("shell = true\ncommand = 'echo {n:raw} \"{n}\" abc {filter:raw}'",
				 ASSAY_KIND_TRIAL, params, NULL, -1);
	assert_result(t, ASSAY_OK, "42 $((6 * 7)) ABC");

	t = run_full("command = [\"sh\", \"-c\", 'printf \"%s/%s/%s/%s\" \"$@\" \"$V\"', \"sh\", \"{item}\", \"{item:raw}\",\n"
		     "\"{item}:raw\"]\nenv = { V = \"{item}\" }",
		     ASSAY_KIND_VALIDATION, no_params, "$(touch PWNED)", -1);
	assert_result(t, ASSAY_OK, "$(touch PWNED)/$(touch PWNED)/$(touch PWNED):raw/$(touch PWNED)");
	/* the script's arguments ($0, $1, ...) are no script */
	t = run_full("shell = true\ncommand = ['printf \"%s\" \"$1\"', \"sh\", \"{item}\"]\n"
		     "env = { V = \"{item}\" }", ASSAY_KIND_VALIDATION, no_params, "'a' \"b\"", -1);
	assert_result(t, ASSAY_OK, "'a' \"b\"");
}
END_TEST

/* Inside $(( )) the value is a number to the shell; `<<` there is a shift,
 * not a here-document. */
START_TEST(test_shell_arithmetic)
{
	static const char *const params[] = { "n", "6", NULL };
	assay_task *t = run_full("shell = true\ncommand = 'echo $(( {n} * 7 )) \"$(( ({n} + 1) << 1 ))\" {n}'",
				 ASSAY_KIND_TRIAL, params, NULL, -1);
	assert_result(t, ASSAY_OK, "42 14 6");
}
END_TEST

START_TEST(test_missing_binary)
{
	void *state = prepare_ok("command = [\"nosuch-assay-binary\", \"x\"]", ASSAY_KIND_CHECK,
				 no_params);
	assay_task *t = fake_task("n", ASSAY_KIND_CHECK, no_params, NULL, -1);

	/* decided in run: nothing spawned, nothing to wait for */
	ck_assert_int_eq(start(t, state), ASSAY_DONE);
	finish(t, ASSAY_DONE, 0);
	assert_result(t, ASSAY_UNKNOWN, "cannot run `nosuch-assay-binary`: No such file or directory");
	type->release(state, type->data);

	assert_result(run_check("command = [\"/nonexistent/prog\"]"), ASSAY_UNKNOWN,
		      "cannot run `/nonexistent/prog`: No such file or directory");
	assert_result(run_check(fmt("command = [\"%s/not_executable.sh\"]", data_dir)), ASSAY_UNKNOWN,
		      fmt("cannot run `%s/not_executable.sh`: Permission denied", data_dir));
	assert_result(run_check(fmt("command = [\"not_executable.sh\"]\nenv = { PATH = \"%s\" }",
				    data_dir)),
		      ASSAY_UNKNOWN, "cannot run `not_executable.sh`: Permission denied");
}
END_TEST

START_TEST(test_shell_braces)
{
	/* awk's { print $2 }, the shell's ${VAR} and ${n:-0}, {a,b} and lone
	 * braces run as written; {{x}} is {x} */
	assay_task *t = run_check("shell = true\n"
				  "command = \"echo 'x y' | awk '{ print $2 }'; "
				  "echo \\\"${VAR}/${n:-0}/{a,b}/{/}/{{x}}\\\"\"\n"
				  "env = { VAR = \"set\" }");
	assert_result(t, ASSAY_OK, "y");
	ck_assert_str_eq(fake_task_details(t), "set/0/{a,b}/{/}/{x}");

	/* ${lr} is the shell's even in a trial with a parameter lr */
	static const char *const params[] = { "lr", "0.1", NULL };
	t = run_full("shell = true\ncommand = 'echo \"{lr} ${lr:-unset} [${lr}]\"'", ASSAY_KIND_TRIAL,
		     params, NULL, -1);
	assert_result(t, ASSAY_OK, "0.1 unset []");
}
END_TEST

START_TEST(test_cwd_relative)
{
	char parent[PATH_MAX], here[PATH_MAX];
	const char *pwd = "command = [\"pwd\"]\ncwd = ";
	assay_task *t;

	snprintf(parent, sizeof parent, "%s", data_dir);
	*strrchr(parent, '/') = '\0';
	ck_assert_ptr_nonnull(getcwd(here, sizeof here));

	/* relative to the directory of the file cwd is written in */
	fake_set_file(fmt("%s/assay.toml", data_dir));
	assert_result(run_check(fmt("%s\".\"", pwd)), ASSAY_OK, data_dir);
	assert_result(run_check(fmt("%s\"..\"", pwd)), ASSAY_OK, parent);
	assert_result(run_check(fmt("%s\"/\"", pwd)), ASSAY_OK, "/");
	t = run_check("command = [\"./emit.sh\", \"0\", \"found here\"]\ncwd = \".\"");
	assert_result(t, ASSAY_OK, "found here");
	t = run_check(fmt("%s\"nonexistent\"", pwd));
	assert_result(t, ASSAY_UNKNOWN, fmt("cannot change to directory `%s/nonexistent`: "
					    "No such file or directory", data_dir));

	/* joined after expansion: an item may be absolute or relative */
	fake_set_file(fmt("%s/assay.toml", parent));
	t = run_full(fmt("%s\"{item}\"", pwd), ASSAY_KIND_VALIDATION, no_params, "/tmp", -1);
	assert_result(t, ASSAY_OK, "/tmp");
	t = run_full(fmt("%s\"{item}\"", pwd), ASSAY_KIND_VALIDATION, no_params,
		     strrchr(data_dir, '/') + 1, -1);
	assert_result(t, ASSAY_OK, data_dir);

	/* the config's directory is a path, not a template */
	const char *braces = temp_path("{item}");
	ck_assert_int_eq(mkdir(braces, 0700), 0);
	fake_set_file(fmt("%s/assay.toml", braces));
	t = run_check(fmt("%s\".\"", pwd));
	rmdir(braces);
	assert_result(t, ASSAY_OK, braces);

	/* a config at the root, and one named without a directory */
	fake_set_file("/assay.toml");
	assert_result(run_check(fmt("%s\"tmp\"", pwd)), ASSAY_OK, "/tmp");
	fake_set_file("assay.toml");
	assert_result(run_check(fmt("%s\".\"", pwd)), ASSAY_OK, here);
}
END_TEST

/* ---- timeouts, cancellation, output ------------------------------------------------- */

START_TEST(test_timeout_kills_grandchildren)
{
	const char *pidfile = temp_path("pids");
	pid_t pids[8];

	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	/* A host may block or ignore SIGTERM itself (signalfd): its children
	 * must not inherit that. */
	sigset_t term;
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, NULL);
	signal(SIGTERM, SIG_IGN);
	void *state = prepare_ok(fmt("command = [\"%s/grandchildren.sh\", \"%s\"]", data_dir, pidfile),
				 ASSAY_KIND_CHECK, no_params);
	assay_task *t = fake_task("n", ASSAY_KIND_CHECK, no_params, NULL, 1500);
	double t0 = now_s();

	finish(t, start(t, state), 10000);
	double took = now_s() - t0;
	/* SIGTERM is enough here: no kill_grace (5 s) needed.  The margins
	 * are wide for loaded machines. */
	ck_assert_msg(took >= 1.49 && took < 1.5 + 2.0, "took %.3f s", took);
	assert_result(t, ASSAY_CRITICAL, "timed out after 1.5 s: started");
	ck_assert_uint_eq(read_pids(pidfile, pids, 8), 4);
	/* the group's SIGTERM, not the SIGKILL for leftovers after the exit */
	ck_assert_ptr_null(strstr(fake_task_log(t), "output still open"));
	for (int i = 0; i < 4; i++)
		assert_killed(pids[i], SIGTERM);
	unlink(pidfile);
	type->release(state, type->data);
}
END_TEST

START_TEST(test_sigterm_ignored_gets_sigkill)
{
	void *state = prepare_ok(fmt("command = [\"%s/ignore_term.sh\"]\nkill_grace = \"500ms\"", data_dir),
				 ASSAY_KIND_CHECK, no_params);
	assay_task *t = fake_task("n", ASSAY_KIND_CHECK, no_params, NULL, 500);
	double t0 = now_s();

	finish(t, start(t, state), 10000);
	double took = now_s() - t0;
	ck_assert_msg(took >= 0.99 && took < 1.0 + 2.0, "took %.3f s", took);
	assert_result(t, ASSAY_CRITICAL, "timed out after 0.5 s: ready");
	ck_assert_ptr_nonnull(strstr(fake_task_log(t),
				     "WARNING: still running 500 ms after SIGTERM (kill_grace): sent SIGKILL\n"));
	type->release(state, type->data);

	/* kill_grace = 0: SIGKILL at once, not after the default 5 s */
	state = prepare_ok(fmt("command = [\"%s/ignore_term.sh\"]\nkill_grace = 0", data_dir),
			   ASSAY_KIND_CHECK, no_params);
	t = fake_task("n", ASSAY_KIND_CHECK, no_params, NULL, 500);
	t0 = now_s();
	finish(t, start(t, state), 10000);
	took = now_s() - t0;
	ck_assert_msg(took < 0.5 + 2.0, "took %.3f s", took);
	assert_result(t, ASSAY_CRITICAL, "timed out after 0.5 s: ready");
	ck_assert_ptr_null(strstr(fake_task_log(t), "after SIGTERM"));
	type->release(state, type->data);
}
END_TEST

START_TEST(test_cancel)
{
	void *state = prepare_ok("command = [\"sleep\", \"1000\"]", ASSAY_KIND_CHECK, no_params);
	assay_task *t = fake_task("n", ASSAY_KIND_CHECK, no_params, NULL, 60000);

	ck_assert_int_eq(start(t, state), ASSAY_PENDING);
	ck_assert(!fake_host_run_until_complete(t, 100));
	double t0 = now_s();
	fake_host_cancel(t);
	finish(t, ASSAY_PENDING, 5000);
	ck_assert_msg(now_s() - t0 < 2.0, "took %.3f s", now_s() - t0);
	assert_result(t, ASSAY_UNKNOWN, "cancelled");
	type->release(state, type->data);

	/* cancelled before it ever started */
	state = prepare_ok("command = [\"sleep\", \"1000\"]", ASSAY_KIND_CHECK, no_params);
	t = fake_task("n", ASSAY_KIND_CHECK, no_params, NULL, -1);
	fake_host_cancel(t);
	ck_assert_int_eq(start(t, state), ASSAY_DONE);
	finish(t, ASSAY_DONE, 0);
	assert_result(t, ASSAY_UNKNOWN, "cancelled");
	type->release(state, type->data);
}
END_TEST

START_TEST(test_timed_out_names_the_timeout)
{
	/* The task's own timeout, not the time it took: three at once. */
	void *state = prepare_ok("command = [\"sleep\", \"1000\"]\nkill_grace = 0", ASSAY_KIND_CHECK,
				 no_params);
	static const int64_t ms[] = { 250, 1000, 1234 };
	static const char *const want[] = { "timed out after 0.25 s", "timed out after 1 s",
					    "timed out after 1.234 s" };
	assay_task *t[3];

	for (int i = 0; i < 3; i++) {
		t[i] = fake_task("n", ASSAY_KIND_CHECK, no_params, NULL, ms[i]);
		ck_assert_int_eq(start(t[i], state), ASSAY_PENDING);
	}
	for (int i = 0; i < 3; i++) {
		wait_task(t[i], ASSAY_PENDING, 10000);
		assert_result(t[i], ASSAY_CRITICAL, want[i]);
		ck_assert(fake_task_timed_out(t[i]));
	}
	ck_assert_uint_eq(fake_host_pending(), 0);
	type->release(state, type->data);
}
END_TEST

START_TEST(test_cancel_finds_its_run)
{
	/* Three runs of one node: cancel reaches the one it is given. */
	void *state = prepare_ok("command = [\"sh\", \"-c\", 'sleep \"$1\"; echo \"done $1\"', \"sh\", \"{item}\"]",
				 ASSAY_KIND_VALIDATION, no_params);
	static const char *const items[] = { "0.3", "1000", "0.3" };
	assay_task *t[3];
	double t0 = now_s();

	for (int i = 0; i < 3; i++) {
		t[i] = fake_task("v", ASSAY_KIND_VALIDATION, no_params, items[i], -1);
		ck_assert_int_eq(start(t[i], state), ASSAY_PENDING);
		ck_assert_ptr_nonnull(fake_host()->task_data(t[i]));
	}
	ck_assert_ptr_ne(fake_host()->task_data(t[0]), fake_host()->task_data(t[1]));
	ck_assert(!fake_host_run_until_complete(t[1], 50));
	fake_host_cancel(t[1]);
	for (int i = 0; i < 3; i++)
		wait_task(t[i], ASSAY_PENDING, 5000);
	ck_assert_uint_eq(fake_host_pending(), 0);
	ck_assert_msg(now_s() - t0 < 3.0, "took %.3f s", now_s() - t0);
	assert_result(t[0], ASSAY_OK, "done 0.3");
	assert_result(t[1], ASSAY_UNKNOWN, "cancelled");
	ck_assert(!fake_task_timed_out(t[1]));
	assert_result(t[2], ASSAY_OK, "done 0.3");
	type->release(state, type->data);
}
END_TEST

START_TEST(test_background_grandchild_does_not_hang)
{
	const char *pidfile = temp_path("bg");
	pid_t pid;

	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	double t0 = now_s();
	assay_task *t = run_full(fmt("command = [\"%s/background.sh\", \"%s\"]", data_dir, pidfile),
				 ASSAY_KIND_CHECK, no_params, NULL, 30000);
	double took = now_s() - t0;
	ck_assert_msg(took < 3.0, "took %.3f s", took);
	/* the child's own result stands */
	assert_result(t, ASSAY_OK, "parent done");
	assert_metric(t, "files", 3, "", NULL, NULL);
	ck_assert_ptr_nonnull(strstr(fake_task_log(t),
				     "WARNING: output still open 100 ms after the command exited: "
				     "killed the rest of its process group\n"));
	ck_assert_uint_eq(read_pids(pidfile, &pid, 1), 1);
	assert_killed(pid, SIGKILL);
	unlink(pidfile);
}
END_TEST

START_TEST(test_huge_output_is_capped)
{
	struct rusage before, after;

	getrusage(RUSAGE_SELF, &before);
	double t0 = now_s();
	assay_task *t = run_check("command = [\"sh\", \"-c\", \"echo capped; head -c 1000000000 /dev/zero; "
				  "head -c 300000 /dev/zero >&2\"]");
	getrusage(RUSAGE_SELF, &after);
	assert_result(t, ASSAY_OK, "capped");
	ck_assert_ptr_nonnull(strstr(fake_task_log(t),
				     "INFO: stdout: kept the first 65536 of 1000000007 bytes (output_limit)\n"));
	ck_assert_ptr_nonnull(strstr(fake_task_log(t),
				     "INFO: stderr: kept the first 65536 of 300000 bytes (output_limit)\n"));
	ck_assert_msg(after.ru_maxrss - before.ru_maxrss < 32 * 1024, "max RSS grew by %ld KiB",
		      after.ru_maxrss - before.ru_maxrss);
	ck_assert_msg(now_s() - t0 < 20, "took %.1f s", now_s() - t0);
}
END_TEST

START_TEST(test_output_limit)
{
	assay_task *t = run_check(fmt("command = [\"%s/emit.sh\", \"0\", \"0123456789abcdef\", \"err\"]\n"
				      "output_limit = 10", data_dir));
	assert_result(t, ASSAY_OK, "0123456789");
	ck_assert_ptr_nonnull(strstr(fake_task_log(t),
				     "INFO: stdout: kept the first 10 of 16 bytes (output_limit)\n"));
	ck_assert_ptr_null(strstr(fake_task_log(t), "stderr: kept"));
	/* nothing kept at all: the exit status speaks */
	t = run_check(fmt("command = [\"%s/emit.sh\", \"1\", \"out\", \"err\"]\noutput_limit = 0", data_dir));
	assert_result(t, ASSAY_CRITICAL, "exit status 1");
	/* stderr is capped like stdout, and the details say so */
	t = run_check(fmt("command = [\"%s/emit.sh\", \"1\", \"\", \"0123456789abcdef\"]\noutput_limit = 10",
			  data_dir));
	assert_result(t, ASSAY_CRITICAL, "0123456789");
	ck_assert_str_eq(fake_task_details(t),
			 "stderr:\n0123456789\n[stderr: kept the first 10 of 16 bytes (output_limit)]");
}
END_TEST

/* A secret across output_limit's cut is masked, not shown in part, in the
 * message, the details and the log; so is one split by the first line's
 * end. */
START_TEST(test_output_limit_masks_a_cut_secret)
{
	assay_task *t;

	fake_add_secret("S3cr3t-Tok3n-xyz");
	fake_add_secret("line one\nline two");
	for (int limit = 5; limit <= 20; limit++) {
		t = run_check(fmt("command = [\"%s/emit.sh\", \"0\", \"key S3cr3t-Tok3n-xyz\", \"\"]\n"
				  "output_limit = %d", data_dir, limit));
		ck_assert_msg(!strstr(fake_task_message(t), "S3") && !strstr(fake_task_log(t), "S3"),
			      "limit %d: message \"%s\", log:\n%s", limit, fake_task_message(t),
			      fake_task_log(t));
		ck_assert_str_eq(fake_task_message(t), "key ***");
	}
	t = run_check(fmt("command = [\"%s/emit.sh\", \"2\", \"down\\nsee S3cr3t-Tok3n-xyz there\", \"\"]\n"
			  "output_limit = 15", data_dir));
	assert_result(t, ASSAY_CRITICAL, "down");
	ck_assert_str_eq(fake_task_details(t), "see ***");
	ck_assert_ptr_null(strstr(fake_task_log(t), "S3"));
	t = run_emit(2, "", "err S3cr3t-Tok3n-xyz");
	assert_result(t, ASSAY_CRITICAL, "err ***");
	/* A secret of two lines, where the message is the first line. */
	t = run_emit(0, "line one\nline two\nthree", "");
	assert_result(t, ASSAY_OK, "***");
	ck_assert_str_eq(fake_task_details(t), "three");
}
END_TEST

START_TEST(test_many_at_once)
{
	void *state = prepare_ok("command = [\"sh\", \"-c\", 'sleep 0.2; echo \"$1 | n=$1\"', \"sh\", \"{item}\"]",
				 ASSAY_KIND_VALIDATION, no_params);
	assay_task *t[20];
	double t0 = now_s();

	for (int i = 0; i < 20; i++) {
		t[i] = fake_task("v", ASSAY_KIND_VALIDATION, no_params, fmt("%d", i), 5000);
		ck_assert_int_eq(start(t[i], state), ASSAY_PENDING);
	}
	for (int i = 0; i < 20; i++)
		wait_task(t[i], ASSAY_PENDING, 5000);
	ck_assert_uint_eq(fake_host_pending(), 0);
	/* one after the other would take 4 s */
	ck_assert_msg(now_s() - t0 < 3.0, "took %.3f s: not concurrent", now_s() - t0);
	for (int i = 0; i < 20; i++) {
		assert_result(t[i], ASSAY_OK, fmt("%d", i));
		assert_metric(t[i], "n", i, "", NULL, NULL);
	}
	type->release(state, type->data);
}
END_TEST

/* The host cancels from any thread (SIGINT handling, fail_fast) while
 * the reactor thread runs the plugin's callbacks. */
typedef struct canceller {
	assay_task **tasks;
	int n;
	useconds_t gap_us;
} canceller;

static void *cancel_all(void *arg)
{
	canceller *c = arg;

	for (int i = 0; i < c->n; i++) {
		usleep(c->gap_us);
		fake_host_cancel(c->tasks[i]);
	}
	return NULL;
}

START_TEST(test_cancel_from_another_thread)
{
	/* Tasks that end by themselves at about the time they are
	 * cancelled: every one must complete exactly once, either way. */
	void *state = prepare_ok("command = [\"sh\", \"-c\", 'sleep \"$1\"; echo \"done $1\"', \"sh\", \"{item}\"]",
				 ASSAY_KIND_VALIDATION, no_params);
	assay_task *t[40];
	canceller c = { t, 40, 4000 };
	pthread_t thread;
	int cancelled = 0, ok = 0;

	char delay[40][16];

	for (int i = 0; i < 40; i++) {
		if (i % 4 == 3)
			snprintf(delay[i], sizeof delay[i], "1000");
		else
			snprintf(delay[i], sizeof delay[i], "0.%02d", 2 + i * 4 % 30);
		t[i] = fake_task("v", ASSAY_KIND_VALIDATION, no_params, delay[i], -1);
		ck_assert_int_eq(start(t[i], state), ASSAY_PENDING);
	}
	ck_assert_int_eq(pthread_create(&thread, NULL, cancel_all, &c), 0);
	for (int i = 0; i < 40; i++)
		wait_task(t[i], ASSAY_PENDING, 10000);
	pthread_join(thread, NULL);
	fake_host_run_for(20);
	ck_assert_uint_eq(fake_host_pending(), 0);
	for (int i = 0; i < 40; i++) {
		ck_assert_int_eq(fake_task_completions(t[i]), 1);
		if (strcmp(fake_task_message(t[i]), "cancelled") == 0) {
			ck_assert_int_eq(fake_task_status(t[i]), ASSAY_UNKNOWN);
			cancelled++;
		} else {
			assert_result(t[i], ASSAY_OK, fmt("done %s", delay[i]));
			ok++;
		}
		/* the `sleep 1000` ones can only have been cancelled */
		if (i % 4 == 3)
			ck_assert_str_eq(fake_task_message(t[i]), "cancelled");
	}
	ck_assert_int_ge(cancelled, 10);
	type->release(state, type->data);
}
END_TEST

/* ---- prepare ------------------------------------------------------------------------- */

static const char *const trial_params[] = { "lr", "0.1", NULL };

static const struct {
	const char *toml;
	unsigned kind;
	const char *errors; /* every error, in order, one a line */
} bad_configs[] = {
	{ "shell = false", ASSAY_KIND_CHECK,
	  "1:1: `command` is missing: the program and its arguments, as an array of strings\n" },
	{ "command = 42", ASSAY_KIND_CHECK,
	  "1:11: `command` must be an array of strings, not integer\n" },
	{ "command = []", ASSAY_KIND_CHECK, "1:11: `command` must not be empty\n" },
	{ "command = [\"echo\", 5, true, [\"x\"]]", ASSAY_KIND_CHECK,
	  "1:20: `command[1]` must be a string, not integer\n"
	  "1:23: `command[2]` must be a string, not boolean\n"
	  "1:29: `command[3]` must be a string, not array\n" },
	{ "command = \"echo hi\"", ASSAY_KIND_CHECK,
	  "1:11: `command` is a string: write it as an array of arguments, "
	  "or set `shell = true` to run it with /bin/sh -c\n" },
	{ "command = [\"\", \"x\"]", ASSAY_KIND_CHECK,
	  "1:12: `command[0]` must not be empty: it is the program to run\n" },
	{ "shell = true\ncommand = \"\"", ASSAY_KIND_CHECK,
	  "2:11: `command` must not be empty: it is the script /bin/sh runs\n" },
	{ "shell = true\ncommand = { a = 1 }", ASSAY_KIND_CHECK,
	  "2:11: `command` must be a string or an array of strings, not table\n" },
	{ "command = [\"echo\"]\nshell = \"yes\"", ASSAY_KIND_CHECK,
	  "2:9: `shell` must be true or false, not string\n" },
	{ "command = [\"echo\"]\nok_exit = [0, 256, -1, \"1\", 1.0]", ASSAY_KIND_CHECK,
	  "2:15: `ok_exit[1]` must be between 0 and 255, not 256\n"
	  "2:20: `ok_exit[2]` must be between 0 and 255, not -1\n"
	  "2:24: `ok_exit[3]` must be an integer, not string\n"
	  "2:29: `ok_exit[4]` must be an integer, not float\n" },
	{ "command = [\"echo\"]\nok_exit = 0", ASSAY_KIND_CHECK,
	  "2:11: `ok_exit` must be an array of exit codes, such as [0, 1], not integer\n" },
	{ "command = [\"echo\"]\nok_exit = []", ASSAY_KIND_CHECK, "2:11: `ok_exit` must not be empty\n" },
	{ "command = [\"echo\"]\nenv = [\"A=1\"]", ASSAY_KIND_CHECK,
	  "2:7: `env` must be a table of strings, such as env = { LANG = \"C\" }, not array\n" },
	{ "command = [\"echo\"]\nenv = { A = 1, \"B=C\" = \"x\", \"\" = \"y\", D = \"{x}\" }", ASSAY_KIND_CHECK,
	  "2:13: `env.A` must be a string, not integer\n"
	  "2:24: `env`: `B=C` is not a valid environment variable name\n"
	  "2:34: `env`: `` is not a valid environment variable name\n"
	  "2:43: `env.D`: unknown placeholder `{x}`: a check has no parameters "
	  "(write `{{` and `}}` for literal braces)\n" },
	{ "command = [\"echo\"]\ncwd = 7", ASSAY_KIND_CHECK, "2:7: `cwd` must be a string, not integer\n" },
	{ "command = [\"echo\"]\ncwd = \"\"", ASSAY_KIND_CHECK, "2:7: `cwd` must not be empty\n" },
	{ "command = [\"echo\"]\noutput_limit = \"64k\"", ASSAY_KIND_CHECK,
	  "2:16: `output_limit` must be an integer, not string\n" },
	{ "command = [\"echo\"]\noutput_limit = -1", ASSAY_KIND_CHECK,
	  "2:16: `output_limit` must be between 0 and 1073741824, not -1\n" },
	{ "command = [\"echo\"]\nkill_grace = \"soon\"", ASSAY_KIND_CHECK,
	  "2:14: `kill_grace` is not a duration: \"soon\" (write e.g. \"30s\", \"500ms\", \"2m\", \"1h30m\")\n" },
	/* a duration has no sign, as the host reads it */
	{ "command = [\"echo\"]\nkill_grace = \"-1s\"", ASSAY_KIND_CHECK,
	  "2:14: `kill_grace` is not a duration: \"-1s\" (write e.g. \"30s\", \"500ms\", \"2m\", \"1h30m\")\n" },
	{ "command = [\"echo\"]\nkill_grace = -1", ASSAY_KIND_CHECK,
	  "2:14: `kill_grace` must be a number of seconds from 0 to 9e12, not -1\n" },
	{ "command = [\"echo\"]\nkill_grace = true", ASSAY_KIND_CHECK,
	  "2:14: `kill_grace` must be a duration such as \"30s\" or a number of seconds, not boolean\n" },
	{ "command = [\"echo\", \"{lr}\"]", ASSAY_KIND_CHECK,
	  "1:20: `command[1]`: unknown placeholder `{lr}`: a check has no parameters "
	  "(write `{{` and `}}` for literal braces)\n" },
	{ "command = [\"echo\", \"{lr}\", \"--bs={bs}\", \"{item}\"]", ASSAY_KIND_TRIAL,
	  "1:28: `command[2]`: unknown placeholder `{bs}`: the trial's matrix has no such parameter "
	  "(write `{{` and `}}` for literal braces)\n"
	  "1:41: `command[3]`: unknown placeholder `{item}`: the trial's matrix has no such parameter "
	  "(write `{{` and `}}` for literal braces)\n" },
	{ "command = [\"check\", \"{item}\", \"{file}\"]\ncwd = \"{lr}\"", ASSAY_KIND_VALIDATION,
	  "1:31: `command[2]`: unknown placeholder `{file}`: a validation knows only {item} "
	  "(write `{{` and `}}` for literal braces)\n"
	  "2:7: `cwd`: unknown placeholder `{lr}`: a validation knows only {item} "
	  "(write `{{` and `}}` for literal braces)\n" },
	{ "command = [\"echo\", \"{nosuch}\"]", ASSAY_KIND_CHECK,
	  "1:20: `command[1]`: unknown placeholder `{nosuch}`: a check has no parameters "
	  "(write `{{` and `}}` for literal braces)\n" },
	/* among text that is not a placeholder, a real one is still checked */
	{ "shell = true\ncommand = \"awk '{ print $1 }' \\\"${HOME}\\\" {a,b} {_x1} }\"", ASSAY_KIND_CHECK,
	  "2:11: `command`: unknown placeholder `{_x1}`: a check has no parameters "
	  "(write `{{` and `}}` for literal braces)\n" },
	{ "command = [\"x\", \"{item}\"]", ASSAY_KIND_CHECK,
	  "1:17: `command[1]`: unknown placeholder `{item}`: a check has no parameters "
	  "(write `{{` and `}}` for literal braces)\n" },
	/* the shell expands nothing in a here-document with a quoted delimiter */
	{ "shell = true\ncommand = \"cat <<'E'\\n{item}\\nE\\necho {item}\"", ASSAY_KIND_VALIDATION,
	  "2:11: `command`: `{item}` is in a here-document whose delimiter is quoted, where the shell "
	  "expands nothing: unquote the delimiter, or write `{item:raw}` to paste the text as it is\n" },
	{ "shell = true\ncommand = \"echo {item:raw} {lr:raw}\"", ASSAY_KIND_VALIDATION,
	  "2:11: `command`: unknown placeholder `{lr}`: a validation knows only {item} "
	  "(write `{{` and `}}` for literal braces)\n" },
	{ "command = [\"x\"]\nconvention = \"nagios\"", ASSAY_KIND_CHECK,
	  "2:14: `convention` must be \"plain\" or \"monitoring-plugins\", not \"nagios\"\n" },
	{ "command = [\"x\"]\nconvention = \"monitoring\"", ASSAY_KIND_CHECK,
	  "2:14: `convention` must be \"plain\" or \"monitoring-plugins\", not \"monitoring\"\n" },
	{ "command = [\"x\"]\nconvention = \"plian\"", ASSAY_KIND_CHECK,
	  "2:14: `convention` must be \"plain\" or \"monitoring-plugins\", not \"plian\" (did you mean \"plain\"?)\n" },
	{ "command = [\"x\"]\nconvention = 1", ASSAY_KIND_CHECK,
	  "2:14: `convention` must be \"plain\" or \"monitoring-plugins\", not integer\n" },
	{ "command = [\"x\"]\nconvention = \"monitoring-plugins\"\nok_exit = [0]", ASSAY_KIND_CHECK,
	  "2:14: `convention` is \"monitoring-plugins\", but `ok_exit` is for plain commands: drop one of them\n" },
	/* every error of a node at once */
	{ "command = [1]\nshell = 1\nok_exit = [300]\noutput_limit = 1.5\nkill_grace = \"x\"\ncwd = false",
	  ASSAY_KIND_CHECK,
	  "2:9: `shell` must be true or false, not integer\n"
	  "1:12: `command[0]` must be a string, not integer\n"
	  "6:7: `cwd` must be a string, not boolean\n"
	  "3:12: `ok_exit[0]` must be between 0 and 255, not 300\n"
	  "4:16: `output_limit` must be an integer, not float\n"
	  "5:14: `kill_grace` is not a duration: \"x\" (write e.g. \"30s\", \"500ms\", \"2m\", \"1h30m\")\n" },
};

START_TEST(test_prepare_errors)
{
	void *state = NULL;
	int rc = type->prepare(fake_node("n", bad_configs[_i].kind,
					 bad_configs[_i].kind == ASSAY_KIND_TRIAL ? trial_params : no_params),
			       fake_parse(bad_configs[_i].toml), type->data, &state);

	ck_assert_int_eq(rc, ASSAY_EINVAL);
	ck_assert_ptr_null(state);
	ck_assert_str_eq(fake_errors(), bad_configs[_i].errors);
}
END_TEST

START_TEST(test_prepare_good)
{
	static const char *const good[] = {
		"command = [\"echo\", \"{{literal}}\", \"}}\"]",
		/* braces that are not {NAME} are text: awk, the shell, a lone one */
		("command = [\"awk\", \"{print $1}\", \"{ print $1 }\", \"a{b\", \"a}b\", \"{}\", \"{1x}\", "
		 "\"{a,b}\", \"{-}\", \"}{\", \"{\", \"}\"]"),
		"shell = true\ncommand = 'echo \"${HOME} ${nosuch} ${n:-0} $((1+1))\" | awk \"{ print }\"'",
		"shell = true\ncommand = \"echo hi\"",
		"shell = true\ncommand = ['echo \"$1\"', \"sh\", \"x\"]",
		"command = [\"echo\", \"\"]\nok_exit = [0, 255]\noutput_limit = 0\nkill_grace = 0",
		"command = [\"echo\"]\nkill_grace = \"1m30s\"\noutput_limit = 1073741824\nenv = {}",
		"command = [\"echo\"]\nshell = false\ncwd = \"/tmp\"\nkill_grace = 2.5",
		"command = [\"echo\"]\nconvention = \"plain\"\nok_exit = [0, 1]",
		"command = [\"echo\"]\nconvention = \"monitoring-plugins\"",
	};
	for (size_t i = 0; i < sizeof good / sizeof *good; i++)
		type->release(prepare_ok(good[i], ASSAY_KIND_CHECK, no_params), type->data);
	type->release(prepare_ok("command = [\"x\", \"--lr={lr}\"]", ASSAY_KIND_TRIAL, trial_params),
		      type->data);
	type->release(prepare_ok("command = [\"x\", \"{item}\"]", ASSAY_KIND_VALIDATION, no_params),
		      type->data);
	/* raw text may stand where the shell expands nothing; an argument after
	 * the script is no script */
	type->release(prepare_ok("shell = true\ncommand = [\"cat <<'E'\\n{item:raw}\\nE\\n\", \"<<'E' {item}\"]",
				 ASSAY_KIND_VALIDATION, no_params), type->data);
}
END_TEST

START_TEST(test_registration)
{
	const assay_plugin_info *info = fake_plugin_info();
	static const char *const want[] = { "command", "shell", "env", "cwd", "ok_exit",
					    "output_limit", "kill_grace", "convention", "log_limit",
					    NULL };

	ck_assert_ptr_nonnull(info);
	ck_assert_int_eq(info->abi_version, ASSAY_ABI_VERSION);
	ck_assert_uint_eq(info->abi_minor, ASSAY_ABI_MINOR);
	ck_assert_str_eq(info->name, "exec");
	ck_assert_uint_eq(type->kinds, ASSAY_KIND_CHECK | ASSAY_KIND_TRIAL | ASSAY_KIND_VALIDATION);
	ck_assert(type->prepare && type->run && type->cancel && type->release);
	for (size_t i = 0; want[i]; i++) {
		ck_assert_ptr_nonnull(type->options[i]);
		ck_assert_str_eq(type->options[i], want[i]);
	}
	ck_assert_ptr_null(type->options[9]);
}
END_TEST

/* ---- main ----------------------------------------------------------------------------------- */

static Suite *exec_suite(void)
{
	Suite *s = suite_create("exec");
	TCase *tc;

	tc = tcase_create("result");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_registration);
	tcase_add_test(tc, test_true_false);
	tcase_add_test(tc, test_convention_default);
	tcase_add_test(tc, test_exit_codes);
	tcase_add_test(tc, test_signals);
	tcase_add_test(tc, test_ok_exit);
	tcase_add_test(tc, test_message_from_stdout);
	tcase_add_test(tc, test_message_from_stderr);
	tcase_add_test(tc, test_details);
	suite_add_tcase(s, tc);

	tc = tcase_create("perfdata");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_perfdata_forms);
	tcase_add_test(tc, test_perfdata_malformed);
	tcase_add_test(tc, test_perfdata_reasons);
	tcase_add_test(tc, test_perfdata_long_output);
	tcase_add_test(tc, test_perfdata_decimal_comma_locale);
	suite_add_tcase(s, tc);

	tc = tcase_create("spawn");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_param_expansion);
	tcase_add_test(tc, test_item_expansion);
	tcase_add_test(tc, test_env);
	tcase_add_test(tc, test_env_path_lookup);
	tcase_add_test(tc, test_secret_passed_verbatim);
	tcase_add_test(tc, test_cwd);
	tcase_add_test(tc, test_shell);
	tcase_add_test(tc, test_shell_braces);
	tcase_add_test(tc, test_shell_quotes_placeholders);
	tcase_add_test(tc, test_shell_raw_placeholders);
	tcase_add_test(tc, test_shell_arithmetic);
	tcase_add_test(tc, test_cwd_relative);
	tcase_add_test(tc, test_missing_binary);
	suite_add_tcase(s, tc);

	tc = tcase_create("waiting");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_timeout_kills_grandchildren);
	tcase_add_test(tc, test_sigterm_ignored_gets_sigkill);
	tcase_add_test(tc, test_cancel);
	tcase_add_test(tc, test_timed_out_names_the_timeout);
	tcase_add_test(tc, test_cancel_finds_its_run);
	tcase_add_test(tc, test_background_grandchild_does_not_hang);
	tcase_add_test(tc, test_huge_output_is_capped);
	tcase_add_test(tc, test_output_limit);
	tcase_add_test(tc, test_output_limit_masks_a_cut_secret);
	tcase_add_test(tc, test_many_at_once);
	tcase_add_test(tc, test_cancel_from_another_thread);
	tcase_add_test(tc, test_child_process_group);
	suite_add_tcase(s, tc);

	tc = tcase_create("prepare");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_prepare_errors, 0, sizeof bad_configs / sizeof *bad_configs);
	tcase_add_test(tc, test_prepare_good);
	suite_add_tcase(s, tc);
	return s;
}

/* $name if set, else $dir_var/rel if dir_var is set, else rel. */
static const char *locate(const char *name, const char *dir_var, const char *rel)
{
	if (getenv(name))
		return getenv(name);
	if (getenv(dir_var))
		return fmt("%s/%s", getenv(dir_var), rel);
	return rel;
}

int main(void)
{
	const char *so = locate("EXEC_PLUGIN", "top_builddir", "plugins/.libs/exec.so");
	const char *data = locate("EXEC_DATA", "top_srcdir", "tests/data/exec");

	if (!realpath(data, data_dir)) {
		fprintf(stderr, "check_exec: %s: %s (set EXEC_DATA)\n", data, strerror(errno));
		return 1;
	}
	void *handle = dlopen(so, RTLD_NOW | RTLD_LOCAL);
	if (!handle) {
		fprintf(stderr, "check_exec: %s (set EXEC_PLUGIN)\n", dlerror());
		return 1;
	}
	*(void **)&plugin_init = dlsym(handle, "assay_plugin_init");
	if (!plugin_init) {
		fprintf(stderr, "check_exec: %s: no assay_plugin_init\n", so);
		return 1;
	}

	SRunner *sr = srunner_create(exec_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	dlclose(handle);
	return failed ? 1 : 0;
}
