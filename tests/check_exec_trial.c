/* check_exec_trial.c -- Check suite for what the exec plugin does for a trial: metrics from stdout lines and $ASSAY_METRICS, its stdout and stderr kept in its trial dir, a pruned trial stopped keeping its metrics.  Loads the built .so and drives real children through the fake host. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <check.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fake_host.h"

static int (*plugin_init)(const assay_host *, assay_plugin *);
static const assay_node_type *type;
static char dir[PATH_MAX]; /* the trial dir of the test */

static const char *const trial_params[] = { "lr", "0.1", NULL };
static const char *const no_params[] = { NULL };

/* ---- helpers ------------------------------------------------------------------- */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

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
	snprintf(dir, sizeof dir, "/tmp/check_exec_trial.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	fake_host_reset();
	if (system(fmt("rm -rf '%s'", dir)) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
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
		} else {
			*d++ = *s;
		}
	}
	*d++ = '"';
	*d = '\0';
	return fmt("%s", buf);
}

static void *prepare(const char *script, const char *more, unsigned kind)
{
	void *state = NULL;
	const char *toml = fmt("command = [\"sh\", \"-c\", %s]\n%s", toml_str(script), more ? more : "");
	int rc = type->prepare(fake_node("n", kind, kind == ASSAY_KIND_TRIAL ? trial_params : no_params),
			       fake_parse(toml), type->data, &state);

	ck_assert_msg(rc == 0, "prepare failed (%d): %s", rc, fake_errors());
	return state;
}

static void finish(assay_task *t, int rc)
{
	if (rc == ASSAY_PENDING && !fake_host_run_until_complete(t, 10000)) {
		fake_host_kill_children();
		ck_abort_msg("task did not complete");
	}
	fake_host_run_for(10);
	ck_assert_int_eq(fake_task_completions(t), rc == ASSAY_PENDING ? 1 : 0);
	ck_assert_msg(!strstr(fake_task_log(t), "VIOLATION"), "%s", fake_task_log(t));
	ck_assert_uint_eq(fake_host_pending(), 0);
}

/* A task of kind running script (sh -c), with the trial dir when with_dir;
 * more: further options of the node. */
static assay_task *run_kind(unsigned kind, const char *script, const char *more, bool with_dir,
			    int64_t timeout_ms)
{
	void *state = prepare(script, more, kind);
	assay_task *t = fake_task("n", kind, kind == ASSAY_KIND_TRIAL ? trial_params : no_params,
				  NULL, timeout_ms);

	if (with_dir)
		fake_task_set_dir(t, dir);
	finish(t, fake_task_run(t, type, state));
	type->release(state, type->data);
	return t;
}

static assay_task *run_trial(const char *script, bool with_dir)
{
	return run_kind(ASSAY_KIND_TRIAL, script, NULL, with_dir, -1);
}

static void assert_result(const assay_task *t, assay_status status, const char *message)
{
	ck_assert_msg(fake_task_status(t) == status, "status %d, expected %d (message \"%s\")",
		      fake_task_status(t), status, fake_task_message(t));
	ck_assert_msg(strcmp(fake_task_message(t), message) == 0, "message \"%s\", expected \"%s\"; log:\n%s",
		      fake_task_message(t), message, fake_task_log(t));
}

/* The task's metrics, "name=value" each, in order, space-separated. */
static const char *metrics(const assay_task *t)
{
	static char buf[4096];
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < fake_task_metric_count(t); i++) {
		const assay_metric *m = fake_task_metric(t, i);
		len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s=%g", i ? " " : "", m->name,
					m->value);
	}
	return buf;
}

/* The task's report_step() calls, "name@step=value" each, in order. */
static const char *steps(const assay_task *t)
{
	static char buf[4096];
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < fake_task_step_count(t); i++) {
		const fake_step *s = fake_task_step(t, i);
		len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s@%lld=%g", i ? " " : "",
					s->name, (long long)s->step, s->value);
	}
	return buf;
}

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	static char buf[1 << 16];
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static const char *details(const assay_task *t)
{
	return fake_task_details(t) ? fake_task_details(t) : "(none)";
}

/* ---- stdout lines ----------------------------------------------------------------- */

START_TEST(test_lines_final)
{
	/* the last value of each, in the order first seen; other lines are the program's */
	assay_task *t = run_trial("echo 'loss=0.5'; echo 'accuracy: 0.8'; echo 'training done';"
				  "echo 'loss = 0.25'; echo 'acc: high'", false);
	assert_result(t, ASSAY_OK, "training done");
	ck_assert_str_eq(metrics(t), "loss=0.25 accuracy=0.8");
	ck_assert_str_eq(steps(t), ""); /* no step: final values only */
	/* the details: the long output less the metric lines */
	ck_assert_str_eq(details(t), "training done\nacc: high");
	t = run_trial("echo first; echo loss=1; echo 'epoch 1 of 2'; echo 'step: 1'; echo acc=2; echo end",
		      false);
	assert_result(t, ASSAY_OK, "first");
	ck_assert_str_eq(details(t), "epoch 1 of 2\nend");
	/* a check's long output keeps them */
	t = run_kind(ASSAY_KIND_CHECK, "echo first; echo loss=1", NULL, false, -1);
	ck_assert_str_eq(details(t), "loss=1");
}
END_TEST

START_TEST(test_lines_steps)
{
	assay_task *t = run_trial("echo 'step: 1'; echo 'loss=0.9'; echo 'step=2'; echo 'loss: 0.8';"
				  "echo 'acc=0.5'; echo 'step: 10'; echo 'acc=0.75'", false);
	ck_assert_str_eq(steps(t), "loss@1=0.9 loss@2=0.8 acc@2=0.5 acc@10=0.75");
	ck_assert_str_eq(metrics(t), "loss=0.8 acc=0.75");
	/* every line a metric line: the message is the exit's */
	assert_result(t, ASSAY_OK, "exit status 0");
}
END_TEST

START_TEST(test_lines_split_across_reads)
{
	/* a line in three writes, and a last line with no newline */
	assay_task *t = run_trial("printf 'step: 3\\nlo'; sleep 0.2; printf 'ss=0.'; sleep 0.2;"
				  "printf '5\\nacc=0.75'", false);
	ck_assert_str_eq(steps(t), "loss@3=0.5 acc@3=0.75");
	ck_assert_str_eq(metrics(t), "loss=0.5 acc=0.75");
}
END_TEST

static const struct {
	const char *line;
	const char *metric; /* "name=value" or "" for the program's own line */
} shapes[] = {
	{ "a.b/c-d=1", "a.b/c-d=1" },
	{ "_x: -1.5e-3", "_x=-0.0015" },
	{ "  y = +2  ", "y=2" },
	{ "z=.5", "z=0.5" },
	{ "z=5.", "z=5" },
	{ "E: 1E+3", "E=1000" },
	{ "t:\t7", "t=7" },
	{ "9x=1", "" },
	{ "x=1 2", "" },
	{ "x=1ms", "" },
	{ "x : 1", "" },
	{ "x=", "" },
	{ "x==1", "" },
	{ "x=1e", "" },
	{ "x=0x10", "" },
	{ "x=1,5", "" },
	{ "-x=1", "" },
	{ "a b=1", "" },
	{ "time: 12:30", "" },
	{ "url: http://x", "" },
	{ "x=.", "" },
};

START_TEST(test_line_shapes)
{
	assay_task *t = run_trial(fmt("printf '%%s\\n' '%s'", shapes[_i].line), false);
	ck_assert_msg(strcmp(metrics(t), shapes[_i].metric) == 0, "`%s`: metrics \"%s\", expected \"%s\"",
		      shapes[_i].line, metrics(t), shapes[_i].metric);
}
END_TEST

START_TEST(test_lines_not_finite)
{
	/* read as numbers, never handed to the pruner; the last value rules */
	assay_task *t = run_trial("echo 'step: 1'; echo loss=0.5; echo 'step: 2'; echo loss=nan;"
				  "echo acc=inf; echo acc=0.25; echo big=-Infinity", false);
	ck_assert_str_eq(steps(t), "loss@1=0.5 acc@2=0.25");
	ck_assert_str_eq(metrics(t), "acc=0.25");
	ck_assert_str_eq(details(t),
			 "`loss` ended as nan (step 2): not a number, so not a metric of this trial\n"
			 "`big` ended as -inf (step 2): not a number, so not a metric of this trial");
}
END_TEST

START_TEST(test_lines_bad_step)
{
	assay_task *t = run_trial("echo out; echo 'step: -1'; echo 'step: 1.5'; echo 'step=2'; echo x=1",
				  false);
	ck_assert_str_eq(steps(t), "x@2=1");
	ck_assert_str_eq(details(t), "2 lines of stdout had a bad step; the first, line 2: "
				     "a step is a whole number from 0: `step: -1`");
	ck_assert_ptr_nonnull(strstr(fake_task_log(t), "WARNING: 2 lines of stdout had a bad step"));
}
END_TEST

START_TEST(test_check_ignores_metric_lines)
{
	static const unsigned kinds[] = { ASSAY_KIND_CHECK, ASSAY_KIND_VALIDATION };

	for (int i = 0; i < 2; i++) {
		assay_task *t = run_kind(kinds[i], "echo 'step: 1'; echo loss=0.5; echo 'step: x'", NULL,
					 true, -1);
		assert_result(t, ASSAY_OK, "step: 1");
		ck_assert_uint_eq(fake_task_metric_count(t), 0);
		ck_assert_uint_eq(fake_task_step_count(t), 0);
		ck_assert_str_eq(details(t), "loss=0.5\nstep: x");
	}
	/* nor does it write files, task_dir or not */
	ck_assert_int_eq(access(fmt("%s/stdout", dir), F_OK), -1);
}
END_TEST

START_TEST(test_perfdata_wins)
{
	/* the first line's perfdata stands for its name; perfdata first */
	assay_task *t = run_trial("echo 'done | acc=0.99;0.5'; echo 'step: 1'; echo loss=0.9;"
				  "echo acc=0.7; echo f1=0.3", false);
	assert_result(t, ASSAY_OK, "done");
	ck_assert_str_eq(metrics(t), "acc=0.99 loss=0.9 f1=0.3");
	ck_assert_str_eq(fake_task_metric(t, 0)->warn, "0.5");
	/* the intermediate value still went to the pruner */
	ck_assert_str_eq(steps(t), "loss@1=0.9 acc@1=0.7 f1@1=0.3");
}
END_TEST

/* ---- $ASSAY_METRICS ------------------------------------------------------------------ */

START_TEST(test_json_file)
{
	assay_task *t = run_trial("printf '%s\\n' '{\"step\": 1, \"acc\": 0.5}' "
				  "'{\"step\": 2, \"acc\": 0.6, \"loss\": 1.5}' '' "
				  "'{\"final\": 3, \"acc\": 0.65}' >> \"$ASSAY_METRICS\"; echo ok", true);
	assert_result(t, ASSAY_OK, "ok");
	ck_assert_str_eq(steps(t), "acc@1=0.5 acc@2=0.6 loss@2=1.5");
	ck_assert_str_eq(metrics(t), "acc=0.65 loss=1.5 final=3");
	ck_assert_ptr_null(fake_task_details(t));
}
END_TEST

START_TEST(test_json_no_dir_no_file_channel)
{
	/* without a trial dir there is no $ASSAY_METRICS: the lines still count */
	assay_task *t = run_trial("test -z \"$ASSAY_METRICS\" && echo acc=1", false);
	ck_assert_str_eq(metrics(t), "acc=1");
}
END_TEST

START_TEST(test_json_partial_line)
{
	/* half a line, completed later; a last line without its newline */
	assay_task *t = run_trial("printf '{\"step\": 1, \"ac' >> \"$ASSAY_METRICS\"; sleep 0.5;"
				  "printf 'c\": 0.5}\\n{\"z\": 2}' >> \"$ASSAY_METRICS\"", true);
	ck_assert_str_eq(steps(t), "acc@1=0.5");
	ck_assert_str_eq(metrics(t), "acc=0.5 z=2");
	ck_assert_ptr_null(fake_task_details(t));
}
END_TEST

START_TEST(test_json_read_while_running)
{
	/* values reach the pruner while the program runs: it waits for a step
	 * it can only see reported by a file the test writes */
	void *state = prepare("echo '{\"step\": 1, \"acc\": 0.5}' >> \"$ASSAY_METRICS\";"
			      "while ! test -e \"$ASSAY_TRIAL_DIR/go\"; do sleep 0.05; done;"
			      "echo '{\"step\": 2, \"acc\": 0.6}' >> \"$ASSAY_METRICS\"",
			      NULL, ASSAY_KIND_TRIAL);
	assay_task *t = fake_task("n", ASSAY_KIND_TRIAL, trial_params, NULL, -1);

	fake_task_set_dir(t, dir);
	int rc = fake_task_run(t, type, state);
	ck_assert_int_eq(rc, ASSAY_PENDING);
	double t0 = now_s();
	while (fake_task_step_count(t) == 0 && now_s() - t0 < 5)
		fake_host_run_for(20);
	ck_assert_str_eq(steps(t), "acc@1=0.5");
	ck_assert(!fake_task_done(t));
	close(open(fmt("%s/go", dir), O_WRONLY | O_CREAT, 0644));
	finish(t, rc);
	ck_assert_str_eq(steps(t), "acc@1=0.5 acc@2=0.6");
	ck_assert_str_eq(metrics(t), "acc=0.6");
	type->release(state, type->data);
}
END_TEST

static const struct {
	const char *line;
	const char *why;
} bad_lines[] = {
	{ "not json", "not JSON: `not json`" },
	{ "[1, 2]", "not a JSON object: `[1, 2]`" },
	{ "{\"a\": \"x\"}", "a member is not a number: `{\"a\": \"x\"}`" },
	{ "{\"a\": true}", "a member is not a number: `{\"a\": true}`" },
	{ "{\"a\": null}", "a member is not a number: `{\"a\": null}`" },
	{ "{\"step\": -1, \"a\": 1}", "a step is a whole number from 0: `{\"step\": -1, \"a\": 1}`" },
	{ "{\"step\": 1.5, \"a\": 1}", "a step is a whole number from 0: `{\"step\": 1.5, \"a\": 1}`" },
	{ "{\"step\": \"1\", \"a\": 1}", "a member is not a number: `{\"step\": \"1\", \"a\": 1}`" },
	{ "{\"bad name\": 1}", "a member's name is not a metric name: `{\"bad name\": 1}`" },
	{ "{\"a\": NaN}", "not JSON (NaN and Infinity are not JSON numbers): `{\"a\": NaN}`" },
	{ "{\"a\": 1} x", "not JSON: `{\"a\": 1} x`" },
	/* cut after 60 bytes */
	{ "{\"a\": 1, \"b\": 2, \"c\": 3, \"d\": 4, \"e\": 5, \"f\": 6, \"g\": \"long\"}",
	  "a member is not a number: `{\"a\": 1, \"b\": 2, \"c\": 3, \"d\": 4, \"e\": 5, \"f\": 6, \"g\": \"long\"...`" },
};

START_TEST(test_json_bad_line)
{
	/* a bad line between two good ones: counted, named, nothing of it taken */
	assay_task *t = run_trial(fmt("printf '%%s\\n' '{\"a\": 0.5}' '%s' '{\"b\": 2}' >> \"$ASSAY_METRICS\"",
				      bad_lines[_i].line), true);
	ck_assert_str_eq(metrics(t), "a=0.5 b=2");
	ck_assert_str_eq(details(t), fmt("1 line of $ASSAY_METRICS could not be read; the first, line 2: %s",
					 bad_lines[_i].why));
}
END_TEST

START_TEST(test_json_bad_lines_counted)
{
	assay_task *t = run_trial("printf '%s\\n' x '{\"a\": 1}' y z >> \"$ASSAY_METRICS\"; echo done", true);
	assert_result(t, ASSAY_OK, "done");
	ck_assert_str_eq(metrics(t), "a=1");
	ck_assert_str_eq(details(t), "3 lines of $ASSAY_METRICS could not be read; the first, line 1: not JSON: `x`");
	/* an over-long line is a bad line too, and the next one is read */
	t = run_trial("head -c 70000 /dev/zero | tr '\\0' ' ' >> \"$ASSAY_METRICS\";"
		      "printf '\\n{\"a\": 2}\\n' >> \"$ASSAY_METRICS\"", true);
	ck_assert_str_eq(metrics(t), "a=2");
	ck_assert_ptr_nonnull(strstr(details(t), "1 line of $ASSAY_METRICS could not be read; the first, "
						 "line 1: longer than 64 KiB: `     "));
}
END_TEST

START_TEST(test_json_bad_line_masked)
{
	fake_add_secret("S3cr3t-Tok3n-xyz");
	/* the secret straddles the excerpt's cut: masked first, then cut */
	assay_task *t = run_trial("printf '%s\\n' '{\"a\": \"0123456789012345678901234567890123456789012345S3cr3t-Tok3n-xyz\"}'"
				  " >> \"$ASSAY_METRICS\"", true);
	ck_assert_ptr_null(strstr(details(t), "S3"));
	ck_assert_ptr_nonnull(strstr(details(t), "012345***\"}`"));
}
END_TEST

START_TEST(test_channels_together)
{
	/* stdout and the file feed one table; the last value wins whichever
	 * channel it came from: the file's line is written once the test has
	 * seen stdout's, then stdout has the last word */
	void *state = prepare("echo 'step: 1'; echo loss=0.9; echo acc=0.1;"
			      "while ! test -e \"$ASSAY_TRIAL_DIR/go\"; do sleep 0.05; done;"
			      "echo '{\"step\": 2, \"acc\": 0.7, \"f1\": 0.3}' >> \"$ASSAY_METRICS\";"
			      "while ! test -e \"$ASSAY_TRIAL_DIR/go2\"; do sleep 0.05; done; echo f1=0.4",
			      NULL, ASSAY_KIND_TRIAL);
	assay_task *t = fake_task("n", ASSAY_KIND_TRIAL, trial_params, NULL, -1);

	fake_task_set_dir(t, dir);
	int rc = fake_task_run(t, type, state);
	double t0 = now_s();
	while (fake_task_step_count(t) < 2 && now_s() - t0 < 5)
		fake_host_run_for(20);
	close(open(fmt("%s/go", dir), O_WRONLY | O_CREAT, 0644));
	while (fake_task_step_count(t) < 4 && now_s() - t0 < 5)
		fake_host_run_for(20);
	close(open(fmt("%s/go2", dir), O_WRONLY | O_CREAT, 0644));
	finish(t, rc);
	ck_assert_str_eq(metrics(t), "loss=0.9 acc=0.7 f1=0.4");
	ck_assert_str_eq(steps(t), "loss@1=0.9 acc@1=0.1 acc@2=0.7 f1@2=0.3 f1@1=0.4");
	type->release(state, type->data);
}
END_TEST

START_TEST(test_channels_keep_their_steps)
{
	/* stdout's step is not the file's: a file line without one is final */
	assay_task *t = run_trial("echo 'step: 5'; echo '{\"acc\": 0.5}' >> \"$ASSAY_METRICS\"; echo loss=1",
				  true);
	ck_assert_str_eq(steps(t), "loss@5=1");
	/* which channel is read first depends on timing: not their order */
	ck_assert_uint_eq(fake_task_metric_count(t), 2);
	ck_assert_double_eq(fake_task_find_metric(t, "acc")->value, 0.5);
	ck_assert_double_eq(fake_task_find_metric(t, "loss")->value, 1);
}
END_TEST

START_TEST(test_metrics_capped)
{
	/* at most 1024 metrics; the values of the others counted */
	assay_task *t = run_trial("i=0; while [ $i -lt 1030 ]; do echo m$i=$i; i=$((i+1)); done; echo m0=7",
				  false);
	ck_assert_uint_eq(fake_task_metric_count(t), 1024);
	ck_assert_str_eq(fake_task_metric(t, 0)->name, "m0");
	ck_assert_double_eq(fake_task_metric(t, 0)->value, 7);
	ck_assert_str_eq(fake_task_metric(t, 1023)->name, "m1023");
	ck_assert_str_eq(details(t), "more than 1024 metrics: 6 values of the others were left out");
}
END_TEST

/* ---- the files stdout and stderr ---------------------------------------------------------- */

START_TEST(test_files_kept)
{
	assay_task *t = run_trial("echo out; echo err >&2; echo acc=1", true);
	ck_assert_str_eq(read_all(fmt("%s/stdout", dir)), "out\nacc=1\n");
	ck_assert_str_eq(read_all(fmt("%s/stderr", dir)), "err\n");
	/* made with the first byte: a trial that says nothing has none */
	unlink(fmt("%s/stdout", dir));
	unlink(fmt("%s/stderr", dir));
	t = run_trial("true", true);
	ck_assert_int_eq(access(fmt("%s/stdout", dir), F_OK), -1);
	ck_assert_int_eq(access(fmt("%s/stderr", dir), F_OK), -1);
	(void)t;
}
END_TEST

START_TEST(test_files_capped)
{
	assay_task *t = run_kind(ASSAY_KIND_TRIAL, "printf 0123456789abcdef; printf xy >&2", "log_limit = 10",
				 true, -1);
	ck_assert_str_eq(read_all(fmt("%s/stdout", dir)), "0123456789");
	ck_assert_str_eq(read_all(fmt("%s/stderr", dir)), "xy");
	ck_assert_ptr_nonnull(strstr(fake_task_log(t), fmt("INFO: stdout: kept the first 10 of 16 bytes in `%s/stdout` "
							  "(log_limit)\n", dir)));
	ck_assert_ptr_null(strstr(fake_task_log(t), "stderr: kept"));
	/* beyond output_limit, the file still has it all */
	t = run_kind(ASSAY_KIND_TRIAL, "head -c 200000 /dev/zero | tr '\\0' x", "log_limit = \"1MB\"", true, -1);
	struct stat st;
	ck_assert_int_eq(stat(fmt("%s/stdout", dir), &st), 0);
	ck_assert_int_eq(st.st_size, 200000);
	t = run_kind(ASSAY_KIND_TRIAL, "head -c 5000 /dev/zero | tr '\\0' x", "log_limit = \"2 KiB\"", true, -1);
	ck_assert_int_eq(stat(fmt("%s/stdout", dir), &st), 0);
	ck_assert_int_eq(st.st_size, 2048);
	/* 0: no files */
	unlink(fmt("%s/stdout", dir));
	unlink(fmt("%s/stderr", dir));
	t = run_kind(ASSAY_KIND_TRIAL, "echo x", "log_limit = 0", true, -1);
	ck_assert_int_eq(access(fmt("%s/stdout", dir), F_OK), -1);
	ck_assert_int_eq(access(fmt("%s/stderr", dir), F_OK), -1);
}
END_TEST

START_TEST(test_files_masked)
{
	fake_add_secret("S3cr3t-Tok3n-xyz");
	fake_add_secret("line one\nline two");
	/* whole, split across two reads, at the very end, on stderr */
	run_trial("echo 'key S3cr3t-Tok3n-xyz'; printf 'then S3cr'; sleep 0.3; printf '3t-Tok3n-xyz end\\n';"
		  "printf 'line one\\n'; sleep 0.3; printf 'line two\\n'; printf 'last S3cr3t-Tok3n-xyz';"
		  "printf 'e S3cr3t-Tok3n-xyz' >&2", true);
	ck_assert_str_eq(read_all(fmt("%s/stdout", dir)), "key ***\nthen *** end\n***\nlast ***");
	ck_assert_str_eq(read_all(fmt("%s/stderr", dir)), "e ***");
	/* what only looked like the start of one is written as it was */
	run_trial("printf 'a S3cr'; sleep 0.3; printf 'X\\n'; printf 'S3'", true);
	ck_assert_str_eq(read_all(fmt("%s/stdout", dir)), "a S3crX\nS3");
	/* cut by log_limit: masked, then cut */
	run_kind(ASSAY_KIND_TRIAL, "echo 'k S3cr3t-Tok3n-xyz tail'", "log_limit = 6", true, -1);
	ck_assert_str_eq(read_all(fmt("%s/stdout", dir)), "k *** ");
}
END_TEST

/* ---- stopped early ----------------------------------------------------------------------------- */

/* A trainer that reports step 1, then, on SIGTERM, one more value. */
static const char trainer[] =
	"trap 'echo acc=0.6; exit 1' TERM; echo 'step: 1'; echo acc=0.5;"
	"echo '{\"step\": 1, \"loss\": 2}' >> \"$ASSAY_METRICS\";"
	"sleep 1000 & wait";

/* What the trainer reported, by stdout and by its file (which comes
 * first depends on timing: not their order). */
static void assert_trainer_metrics(const assay_task *t)
{
	ck_assert_msg(fake_task_metric_count(t) == 2, "metrics %s", metrics(t));
	ck_assert_double_eq(fake_task_find_metric(t, "acc")->value, 0.6);
	ck_assert_double_eq(fake_task_find_metric(t, "loss")->value, 2);
}

START_TEST(test_pruned_keeps_metrics)
{
	void *state = prepare(trainer, NULL, ASSAY_KIND_TRIAL);
	assay_task *t = fake_task("n", ASSAY_KIND_TRIAL, trial_params, NULL, -1);

	fake_task_set_dir(t, dir);
	int rc = fake_task_run(t, type, state);
	double t0 = now_s();
	while (fake_task_step_count(t) < 2 && now_s() - t0 < 5)
		fake_host_run_for(20);
	fake_host_prune(t);
	finish(t, rc);
	ck_assert_msg(now_s() - t0 < 3, "took %.1f s", now_s() - t0);
	assert_result(t, ASSAY_UNKNOWN, "pruned");
	assert_trainer_metrics(t);
	ck_assert_str_eq(read_all(fmt("%s/stdout", dir)), "step: 1\nacc=0.5\nacc=0.6\n");
	type->release(state, type->data);
}
END_TEST

START_TEST(test_pruned_from_report_step)
{
	/* the host may prune from inside report_step, on the reactor thread;
	 * a program deaf to SIGTERM gets SIGKILL after kill_grace */
	void *state = prepare("trap '' TERM; i=0; while :; do echo \"step: $i\"; echo \"acc=0.$i\";"
			      "i=$((i+1)); sleep 0.05; done", "kill_grace = \"300ms\"", ASSAY_KIND_TRIAL);
	assay_task *t = fake_task("n", ASSAY_KIND_TRIAL, trial_params, NULL, -1);

	fake_task_prune_at(t, "acc", 3);
	double t0 = now_s();
	finish(t, fake_task_run(t, type, state));
	ck_assert_msg(now_s() - t0 < 3, "took %.1f s", now_s() - t0);
	assert_result(t, ASSAY_UNKNOWN, "pruned");
	ck_assert(fake_task_pruned_flag(t));
	ck_assert_ptr_nonnull(strstr(fake_task_log(t), "after SIGTERM (kill_grace): sent SIGKILL"));
	ck_assert_str_eq(fake_task_step(t, 3)->name, "acc");
	ck_assert_int_eq(fake_task_step(t, 3)->step, 3);
	const assay_metric *m = fake_task_find_metric(t, "acc");
	ck_assert_ptr_nonnull(m);
	ck_assert_double_ge(m->value, 0.3);
	type->release(state, type->data);
}
END_TEST

START_TEST(test_timed_out_keeps_metrics)
{
	assay_task *t = run_kind(ASSAY_KIND_TRIAL, trainer, NULL, true, 1500);
	assert_result(t, ASSAY_CRITICAL, "timed out after 1.5 s");
	assert_trainer_metrics(t);
}
END_TEST

START_TEST(test_cancelled_keeps_metrics)
{
	void *state = prepare(trainer, NULL, ASSAY_KIND_TRIAL);
	assay_task *t = fake_task("n", ASSAY_KIND_TRIAL, trial_params, NULL, -1);

	fake_task_set_dir(t, dir);
	int rc = fake_task_run(t, type, state);
	double t0 = now_s();
	while (fake_task_step_count(t) < 2 && now_s() - t0 < 5)
		fake_host_run_for(20);
	fake_host_cancel(t);
	finish(t, rc);
	assert_result(t, ASSAY_UNKNOWN, "cancelled");
	assert_trainer_metrics(t);
	type->release(state, type->data);
}
END_TEST

/* ---- options --------------------------------------------------------------------------------- */

static const struct {
	const char *toml;
	const char *errors;
} bad_limits[] = {
	{ "log_limit = -1", "2:13: `log_limit` must be between 0 and 1099511627776, not -1\n" },
	{ "log_limit = \"64 parsecs\"",
	  "2:13: `log_limit` must be a size in bytes, such as 1048576 or \"64MB\", from 0 to 1 TiB, not \"64 parsecs\"\n" },
	{ "log_limit = \"2TB\"",
	  "2:13: `log_limit` must be a size in bytes, such as 1048576 or \"64MB\", from 0 to 1 TiB, not \"2TB\"\n" },
	{ "log_limit = \"1.5MB\"",
	  "2:13: `log_limit` must be a size in bytes, such as 1048576 or \"64MB\", from 0 to 1 TiB, not \"1.5MB\"\n" },
	{ "log_limit = 1.5",
	  "2:13: `log_limit` must be a size in bytes, such as 1048576 or \"64MB\", from 0 to 1 TiB, not float\n" },
};

START_TEST(test_log_limit_errors)
{
	void *state = NULL;
	int rc = type->prepare(fake_node("n", ASSAY_KIND_TRIAL, trial_params),
			       fake_parse(fmt("command = [\"x\"]\n%s", bad_limits[_i].toml)), type->data,
			       &state);

	ck_assert_int_eq(rc, ASSAY_EINVAL);
	ck_assert_str_eq(fake_errors(), bad_limits[_i].errors);
}
END_TEST

START_TEST(test_log_limit_good)
{
	static const char *const good[] = { "log_limit = 0", "log_limit = \"1TB\"", "log_limit = \"64MB\"",
					    "log_limit = \"16 MiB\"", "log_limit = \"512k\"",
					    "log_limit = \"100\"", "log_limit = 1099511627776" };
	for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
		void *state = NULL;
		ck_assert_int_eq(type->prepare(fake_node("n", ASSAY_KIND_TRIAL, trial_params),
					       fake_parse(fmt("command = [\"x\"]\n%s", good[i])), type->data,
					       &state), 0);
		type->release(state, type->data);
	}
	ck_assert_uint_eq(fake_error_count(), 0);
}
END_TEST

/* ---- main ----------------------------------------------------------------------------------- */

static Suite *trial_suite(void)
{
	Suite *s = suite_create("exec_trial");
	TCase *tc;

	tc = tcase_create("lines");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_lines_final);
	tcase_add_test(tc, test_lines_steps);
	tcase_add_test(tc, test_lines_split_across_reads);
	tcase_add_loop_test(tc, test_line_shapes, 0, sizeof shapes / sizeof *shapes);
	tcase_add_test(tc, test_lines_not_finite);
	tcase_add_test(tc, test_lines_bad_step);
	tcase_add_test(tc, test_check_ignores_metric_lines);
	tcase_add_test(tc, test_perfdata_wins);
	suite_add_tcase(s, tc);

	tc = tcase_create("file");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_json_file);
	tcase_add_test(tc, test_json_no_dir_no_file_channel);
	tcase_add_test(tc, test_json_partial_line);
	tcase_add_test(tc, test_json_read_while_running);
	tcase_add_loop_test(tc, test_json_bad_line, 0, sizeof bad_lines / sizeof *bad_lines);
	tcase_add_test(tc, test_json_bad_lines_counted);
	tcase_add_test(tc, test_json_bad_line_masked);
	tcase_add_test(tc, test_channels_together);
	tcase_add_test(tc, test_channels_keep_their_steps);
	tcase_add_test(tc, test_metrics_capped);
	suite_add_tcase(s, tc);

	tc = tcase_create("files");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_files_kept);
	tcase_add_test(tc, test_files_capped);
	tcase_add_test(tc, test_files_masked);
	suite_add_tcase(s, tc);

	tc = tcase_create("stopped");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_pruned_keeps_metrics);
	tcase_add_test(tc, test_pruned_from_report_step);
	tcase_add_test(tc, test_timed_out_keeps_metrics);
	tcase_add_test(tc, test_cancelled_keeps_metrics);
	suite_add_tcase(s, tc);

	tc = tcase_create("options");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_log_limit_errors, 0, sizeof bad_limits / sizeof *bad_limits);
	tcase_add_test(tc, test_log_limit_good);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	const char *so = getenv("EXEC_PLUGIN");
	char path[PATH_MAX];

	if (!so) {
		snprintf(path, sizeof path, "%s/plugins/.libs/exec.so",
			 getenv("top_builddir") ? getenv("top_builddir") : ".");
		so = path;
	}
	void *handle = dlopen(so, RTLD_NOW | RTLD_LOCAL);
	if (!handle) {
		fprintf(stderr, "check_exec_trial: %s (set EXEC_PLUGIN)\n", dlerror());
		return 1;
	}
	*(void **)&plugin_init = dlsym(handle, "assay_plugin_init");
	if (!plugin_init) {
		fprintf(stderr, "check_exec_trial: %s: no assay_plugin_init\n", so);
		return 1;
	}
	SRunner *sr = srunner_create(trial_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	dlclose(handle);
	return failed ? 1 : 0;
}
