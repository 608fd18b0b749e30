/* check_report.c -- Check suite for core/report*.c: real plans of the test
 * plugin `probe` run, then reported: the best trial of each sweep, missing
 * objectives, attempts, report targets, and what each format lets through. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <check.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sweep.h"
#include "builtin.h"
#include "config.h"
#include "diag.h"
#include "graph.h"
#include "host.h"
#include "registry.h"
#include "reactor.h"
#include "report.h"
#include "run.h"
#include "text.h"

typedef struct fixture {
	diag d;
	registry reg;
	plan p;
	graph g;
	reactor *re;
	sweeps *sweeps;
	run *r;
	report rep;
} fixture;

static char workdir[] = "/tmp/assay-check-report-XXXXXX";

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(workdir));
	ck_assert_int_eq(chdir(workdir), 0);
}

static void teardown(void)
{
	char cmd[64];

	ck_assert_int_eq(chdir("/"), 0);
	/* Tests leave files, links and FIFOs of their own. */
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", workdir);
	ck_assert_int_eq(system(cmd), 0);
	strcpy(workdir, "/tmp/assay-check-report-XXXXXX");
}

#define PROBE "[plugins]\nload = [\"probe\"]\n"

/* Load text with the probe plugin, run it, and build its report. */
static void run_report(fixture *f, const char *text)
{
	const char *dir = getenv("TEST_PLUGIN_DIR");
	run_options o = { .jobs = 8, .workers = 2, .verbosity = ASSAY_LOG_ERROR };
	FILE *out = fopen("c.toml", "w");
	size_t i;

	ck_assert_ptr_nonnull(out);
	fprintf(out, "%s", text);
	fclose(out);
	memset(f, 0, sizeof *f);
	ck_assert_int_eq(config_load(&f->p, "c.toml", 2, &f->d), 0);
	ck_assert_int_eq(registry_init(&f->reg, host_table(), &f->d), 0);
	registry_add_dirs(&f->reg, dir ? dir : "tests/plugins/.libs");
	for (i = 0; f->p.load && i < value_len(f->p.load); i++) {
		const char *name = value_string(value_at(f->p.load, i, NULL));

		ck_assert_int_eq(registry_load(&f->reg, name, value_get(f->p.plugins, name), NULL), 0);
	}
	config_prepare(&f->p, &f->reg, &f->d);
	if (diag_count(&f->d) == 0)
		graph_build(&f->g, &f->p, &f->d);
	if (diag_count(&f->d))
		diag_print(&f->d, stderr);
	ck_assert_uint_eq(diag_count(&f->d), 0);
	ck_assert_int_eq(reactor_new(&f->re), 0);
	/* The trials are followed as the run goes, as assay run does. */
	ck_assert_ptr_nonnull(f->sweeps = sweeps_new(&f->p));
	sweeps_judge(f->sweeps, &o);
	ck_assert_int_eq(run_new(&f->r, &f->p, &f->g, &o, f->re), 0);
	ck_assert_int_eq(sweeps_subscribe(f->sweeps, f->r), 0);
	ck_assert_int_eq(run_go(f->r), 0);
	ck_assert_int_eq(report_build(&f->rep, &f->p, &f->g, f->r, f->sweeps, NULL), 0);
}

static void finish(fixture *f)
{
	report_release(&f->rep);
	run_free(f->r);
	sweeps_free(f->sweeps);
	reactor_free(f->re);
	graph_release(&f->g);
	plan_release(&f->p);
	registry_release(&f->reg);
	diag_release(&f->d);
}

static const assay_result *result(const fixture *f, const char *id)
{
	size_t i;

	for (i = 0; i < f->rep.r.n_results; i++)
		if (strcmp(f->rep.r.results[i]->id, id) == 0)
			return f->rep.r.results[i];
	ck_abort_msg("no result %s", id);
	return NULL;
}

/* Issue 9, point 1: a trial without a matrix (no group) after a matrix
 * crashed the report. */
START_TEST(test_best_single_trial_after_a_matrix)
{
	fixture f;

	run_report(&f, PROBE
		   "[trial.sweep]\ntype = \"probe\"\nmatrix = { x = [1, 2] }\n"
		   "metrics = { acc = 1 }\nobjective = { metric = \"acc\" }\n"
		   "[trial.single]\ntype = \"probe\"\nmetrics = { acc = 0.5 }\n"
		   "objective = { metric = \"acc\" }\n");
	ck_assert_uint_eq(f.rep.r.n_results, 3);
	/* Equals: the first wins. */
	ck_assert(result(&f, "sweep[x=1]")->best);
	ck_assert(!result(&f, "sweep[x=2]")->best);
	/* A trial of its own is the best of its sweep of one. */
	ck_assert(result(&f, "single")->best);
	finish(&f);
}
END_TEST

/* Issue 9, point 2: a trial of the same group but of another table, and
 * one without the objective, competed. */
START_TEST(test_best_within_a_sweep_only)
{
	fixture f;

	run_report(&f, PROBE
		   "[trial.g.a]\ntype = \"probe\"\nmetrics = { acc = 1 }\nobjective = { metric = \"acc\" }\n"
		   "[trial.g.b]\ntype = \"probe\"\nmetrics = { acc = 2 }\nobjective = { metric = \"acc\" }\n"
		   "[trial.g.c]\ntype = \"probe\"\nmetrics = { acc = 5 }\n"
		   "[trial.up]\ntype = \"probe\"\nmatrix = { x = [3, 10, 2] }\nmetrics = { acc = \"{x}\" }\n"
		   "objective = { metric = \"acc\", goal = \"max\" }\n"
		   "[trial.down]\ntype = \"probe\"\nmatrix = { x = [3, 1, 2] }\nmetrics = { acc = \"{x}\" }\n"
		   "objective = { metric = \"acc\", goal = \"min\" }\n"
		   "[trial.warned]\ntype = \"probe\"\nmatrix = { x = [1, 2] }\nmetrics = { acc = \"{x}\" }\n"
		   "status = 1\nobjective = { metric = \"acc\" }\n"
		   "[trial.failed]\ntype = \"probe\"\nmatrix = { x = [1, 2] }\nmetrics = { acc = \"{x}\" }\n"
		   "status = 2\nobjective = { metric = \"acc\" }\n");
	/* Without an objective, never best; each table its own sweep. */
	ck_assert(!result(&f, "g.c")->best);
	ck_assert(result(&f, "g.a")->best);
	ck_assert(result(&f, "g.b")->best);
	ck_assert(!result(&f, "up[x=3]")->best);
	ck_assert(result(&f, "up[x=10]")->best);
	ck_assert(!result(&f, "up[x=2]")->best);
	ck_assert(result(&f, "down[x=1]")->best);
	ck_assert(!result(&f, "down[x=3]")->best && !result(&f, "down[x=2]")->best);
	/* WARNING competes; CRITICAL does not. */
	ck_assert(result(&f, "warned[x=2]")->best);
	ck_assert(!result(&f, "failed[x=1]")->best && !result(&f, "failed[x=2]")->best);
	/* A failure keeps its own state and message, objective or not. */
	ck_assert_int_eq(result(&f, "failed[x=1]")->status, ASSAY_CRITICAL);
	ck_assert_str_eq(result(&f, "failed[x=1]")->message, "status 2");
	finish(&f);
}
END_TEST

/* Issue 9, point 2: a misspelt objective was silently ignored.  The run
 * decides: the exit status and the dependents see it. */
START_TEST(test_missing_objective_is_unknown)
{
	fixture f;
	const assay_result *typo;

	run_report(&f, PROBE
		   "[trial.typo]\ntype = \"probe\"\nmetrics = { accuracy = 0.9 }\nmessage = \"trained\"\n"
		   "details = \"epoch 1\"\nretries = 2\nretry_delay = \"1ms\"\n"
		   "objective = { metric = \"acuracy\" }\n"
		   "[trial.sweep]\ntype = \"probe\"\nmatrix = { x = [1, 2] }\nobjective = { metric = \"loss\" }\n"
		   "[check.after]\ntype = \"probe\"\nafter = [\"typo\"]\n");
	typo = result(&f, "typo");
	ck_assert_int_eq(typo->status, ASSAY_UNKNOWN);
	ck_assert_str_eq(typo->message, "no `acuracy` reported (did you mean `accuracy`?)");
	ck_assert_str_eq(typo->details, "trained\nepoch 1");
	ck_assert(!typo->best);
	/* Not retried: the same command would report the same. */
	ck_assert_uint_eq(typo->attempts, 1);
	ck_assert_int_eq(result(&f, "sweep[x=1]")->status, ASSAY_UNKNOWN);
	ck_assert(!result(&f, "sweep[x=1]")->best && !result(&f, "sweep[x=2]")->best);
	ck_assert_int_eq(result(&f, "after")->status, ASSAY_SKIPPED);
	/* A node after a sweep follows the sweep as a whole (issue 12). */
	ck_assert_str_eq(result(&f, "after")->skip_reason, "sweep `typo` has no best trial: 1 failed");
	ck_assert_int_eq(report_exit_status(&f.rep), ASSAY_UNKNOWN);
	finish(&f);
}
END_TEST

/* assay_report.sweeps: each sweep in file order with what the tracker
 * says of its best (the best repeat of the best point, by the mean of
 * its repeats, with their spread) and why it stopped, its counts from the
 * results, the best point's parameters without {seed}; a trial's seed
 * and point. */
START_TEST(test_sweeps_from_tracker)
{
	fixture f;
	const assay_sweep *sw;

	run_report(&f, PROBE
		   "[trial.lr]\ntype = \"probe\"\nmatrix = { x = [1, 2] }\nrepeat = 2\n"
		   "metrics = { acc = \"{x}.{seed}\" }\nobjective = { metric = \"acc\" }\n"
		   "[trial.broken]\ntype = \"probe\"\nmatrix = { x = [1, 2] }\nstatus = 2\n"
		   "[trial.warned]\ntype = \"probe\"\nmatrix = { x = [1, 2, 3] }\nstatus = 1\n"
		   "[trial.t]\ntype = \"probe\"\nmatrix = { x = [1, 2, 3] }\nmax_parallel = 1\n"
		   "metrics = { acc = \"{x}\" }\nobjective = { metric = \"acc\", target = 2 }\n"
		   "[check.c]\ntype = \"probe\"\n");
	ck_assert_uint_eq(f.rep.r.n_sweeps, 4);
	sw = f.rep.r.sweeps[0];
	ck_assert_str_eq(sw->id, "lr");
	ck_assert_str_eq(sw->metric, "acc");
	ck_assert(sw->maximise);
	ck_assert_str_eq(sw->best, "lr[x=2,seed=1]");
	ck_assert(result(&f, "lr[x=2,seed=1]")->best);
	ck_assert(!result(&f, "lr[x=2,seed=0]")->best);
	ck_assert_uint_eq(sw->n_params, 1);
	ck_assert_str_eq(sw->params[0].name, "x");
	ck_assert_str_eq(sw->params[0].value, "2");
	ck_assert_double_eq_tol(sw->value, 2.05, 1e-12);
	ck_assert_double_eq_tol(sw->spread, 0.0707106781, 1e-9); /* sample deviation */
	ck_assert_uint_eq(sw->repeats, 2);
	ck_assert_ptr_null(sw->stopped);
	ck_assert_uint_eq(sw->trials, 4);
	ck_assert_uint_eq(sw->ok, 4);
	ck_assert_uint_eq(result(&f, "lr[x=2,seed=1]")->seed, 1);
	ck_assert_uint_eq(result(&f, "lr[x=2,seed=1]")->point, 1);
	ck_assert(!result(&f, "lr[x=2,seed=1]")->pruned);
	/* No best without an objective; counts: WARNING is ok, CRITICAL
	 * failed. */
	sw = f.rep.r.sweeps[1];
	ck_assert_str_eq(sw->id, "broken");
	ck_assert_ptr_null(sw->best);
	ck_assert_ptr_null(sw->metric);
	ck_assert_ptr_null(sw->stopped);
	ck_assert_uint_eq(sw->trials, 2);
	ck_assert_uint_eq(sw->ok, 0);
	ck_assert_uint_eq(sw->failed, 2);
	ck_assert_uint_eq(sw->pruned + sw->skipped, 0);
	ck_assert(!result(&f, "broken[x=1]")->best);
	sw = f.rep.r.sweeps[2];
	ck_assert_str_eq(sw->id, "warned");
	ck_assert_uint_eq(sw->trials, 3);
	ck_assert_uint_eq(sw->ok, 3);
	ck_assert_uint_eq(sw->failed, 0);
	/* The target closes the sweep: in declaration order, x = 2 reaches
	 * it and x = 3 never starts. */
	sw = f.rep.r.sweeps[3];
	ck_assert_str_eq(sw->best, "t[x=2]");
	ck_assert_str_eq(sw->stopped, "target 2 reached by t[x=2]");
	ck_assert_uint_eq(sw->ok, 2);
	ck_assert_uint_eq(sw->skipped, 1);
	ck_assert_uint_eq(sw->repeats, 1);
	ck_assert_str_eq(result(&f, "t[x=3]")->skip_reason, "target 2 reached by t[x=2]");
	finish(&f);
}
END_TEST

/* A report of one check with the given message and details, made by
 * hand: what a plugin or a command may put there, beyond what TOML can
 * say. */
static void hand_report(report *rep, assay_result *res, const assay_result **index,
			const char *message, const char *details)
{
	memset(rep, 0, sizeof *rep);
	memset(res, 0, sizeof *res);
	res->id = "c";
	res->kind = ASSAY_KIND_CHECK;
	res->type = "probe";
	res->status = ASSAY_CRITICAL;
	res->message = message;
	res->details = details;
	res->attempts = 1;
	index[0] = res;
	rep->r.results = index;
	rep->r.n_results = 1;
	rep->r.counts[ASSAY_CRITICAL] = 1;
	rep->r.worst = ASSAY_CRITICAL;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&buf, &size);
	int c;

	ck_assert_ptr_nonnull(f);
	while ((c = getc(f)) != EOF)
		putc(c, out);
	fclose(f);
	fclose(out);
	return buf;
}

/* Issue 9, point 7: a command's Latin-1 went raw into the JSON report,
 * which JSON readers then refused. */
/* A pruned trial whose reason does not name the step gets it; a sweep's
 * id and parameters are escaped like every text. */
START_TEST(test_human_pruned_step_and_escaped_sweep)
{
	static const assay_param odd[] = { { "lr", "0.1\033[2J" } };
	assay_sweep sw = { .id = "lr\r", .metric = "acc", .maximise = true, .best = "c",
			   .params = odd, .n_params = 1, .value = 0.5, .repeats = 1,
			   .trials = 2, .ok = 1, .pruned = 1 };
	const assay_sweep *list[] = { &sw };
	assay_result res;
	const assay_result *index[1];
	report rep;
	char *text;

	hand_report(&rep, &res, index, "accuracy 0.2 < median 0.7", NULL);
	res.kind = ASSAY_KIND_TRIAL;
	res.status = ASSAY_SKIPPED;
	res.pruned = true;
	res.pruned_step = 12;
	res.duration = 3;
	rep.r.counts[ASSAY_CRITICAL] = 0;
	rep.r.counts[ASSAY_SKIPPED] = 1;
	rep.r.sweeps = list;
	rep.r.n_sweeps = 1;
	setenv("COLUMNS", "200", 1);
	ck_assert_int_eq(report_write(&report_human, &rep, "r.txt"), 0);
	text = slurp("r.txt");
	ck_assert_str_eq(text, "PRUNED    c  accuracy 0.2 < median 0.7 (step 12) (3.00s)\n"
			       "sweep lr\\r: best acc 0.5: c lr=0.1\\e[2J\n"
			       "  2 trials: 1 ok, 0 failed, 1 pruned, 0 skipped\n"
			       "1 node: 1 PRUNED in 0.00s (critical path 0.00s)\n");
	free(text);
}
END_TEST

START_TEST(test_json_is_valid_utf8)
{
	assay_result res;
	const assay_result *index[1];
	report rep;
	char *text, *valid;
	cJSON *root, *node;

	hand_report(&rep, &res, index, "caf\xe9 \xe2\x82", "tab\there\r\033[2J \xff");
	ck_assert_int_eq(report_write(&report_json, &rep, "r.json"), 0);
	text = slurp("r.json");
	valid = text_utf8(text);
	ck_assert_str_eq(valid, text); /* nothing to repair */
	ck_assert_ptr_null(strchr(text, '\033'));
	ck_assert_ptr_nonnull(root = cJSON_Parse(text));
	node = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "nodes"), 0);
	ck_assert_str_eq(cJSON_GetObjectItem(node, "message")->valuestring, "caf\xef\xbf\xbd \xef\xbf\xbd");
	/* Control characters survive, escaped as JSON escapes them. */
	ck_assert_str_eq(cJSON_GetObjectItem(node, "details")->valuestring,
			 "tab\there\r\033[2J \xef\xbf\xbd");
	cJSON_Delete(root);
	free(valid);
	free(text);
}
END_TEST

static cJSON *json_node(cJSON *root, const char *id)
{
	cJSON *node;

	cJSON_ArrayForEach(node, cJSON_GetObjectItem(root, "nodes"))
		if (strcmp(cJSON_GetObjectItem(node, "id")->valuestring, id) == 0)
			return node;
	ck_abort_msg("no node %s in the json report", id);
	return NULL;
}

/* Issue 9, point 10: a retried node showed its last attempt's duration,
 * and the critical path counted only that. */
START_TEST(test_retries_take_time)
{
	fixture f;
	const assay_result *flaky;
	const run_history *h;
	cJSON *root, *node, *history, *item;
	char *text;
	size_t n = 0, i;

	run_report(&f, PROBE
		   "[check.flaky]\ntype = \"probe\"\nsleep = \"50ms\"\nfail_times = 2\nretries = 3\n"
		   "retry_delay = \"20ms\"\n"
		   "[check.then]\ntype = \"probe\"\nafter = [\"flaky\"]\n"
		   "[check.once]\ntype = \"probe\"\n"
		   "[validation.v]\ntype = \"probe\"\nitems = { list = [\"a\", \"b\"] }\n"
		   "fail_items = [\"b\"]\nretries = 1\nretry_delay = \"1ms\"\n");
	flaky = result(&f, "flaky");
	ck_assert_int_eq(flaky->status, ASSAY_OK);
	ck_assert_uint_eq(flaky->attempts, 3);
	/* From the first start to the last end: three sleeps at least. */
	ck_assert_msg(flaky->duration >= 0.15, "duration %.3f", flaky->duration);
	ck_assert_double_eq_tol(flaky->duration, flaky->end - flaky->start, 1e-3);
	ck_assert_msg(f.rep.r.critical_path >= flaky->duration, "critical path %.3f < %.3f",
		      f.rep.r.critical_path, flaky->duration);
	/* Its nodes, first to last: flaky, and `then` if it took any time. */
	ck_assert_uint_ge(f.rep.r.n_critical, 1);
	ck_assert_uint_le(f.rep.r.n_critical, 2);
	ck_assert_str_eq(f.rep.r.critical[0], "flaky");
	if (f.rep.r.n_critical == 2)
		ck_assert_str_eq(f.rep.r.critical[1], "then");
	/* Nothing kept for what succeeded at once. */
	for (h = run_histories(f.r); h; h = h->next)
		n++;
	ck_assert_uint_eq(n, 2);

	ck_assert_int_eq(report_write(&report_json, &f.rep, "r.json"), 0);
	text = slurp("r.json");
	ck_assert_ptr_nonnull(root = cJSON_Parse(text));
	node = json_node(root, "flaky");
	ck_assert_int_eq(cJSON_GetObjectItem(node, "attempts")->valueint, 3);
	history = cJSON_GetObjectItem(node, "history");
	ck_assert_int_eq(cJSON_GetArraySize(history), 3);
	for (i = 0; i < 3; i++) {
		cJSON *a = cJSON_GetArrayItem(history, (int)i);

		ck_assert_str_eq(cJSON_GetObjectItem(a, "status")->valuestring, i < 2 ? "CRITICAL" : "OK");
		ck_assert(cJSON_GetObjectItem(a, "duration_seconds")->valuedouble >= 0.05);
		ck_assert(cJSON_IsString(cJSON_GetObjectItem(a, "start")));
		ck_assert(cJSON_IsString(cJSON_GetObjectItem(a, "end")));
	}
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(history, 0), "message")->valuestring,
			 "failing on purpose (attempt 1)");
	ck_assert_ptr_null(cJSON_GetObjectItem(json_node(root, "once"), "history"));
	item = cJSON_GetArrayItem(cJSON_GetObjectItem(json_node(root, "v"), "items"), 1);
	ck_assert_str_eq(cJSON_GetObjectItem(item, "item")->valuestring, "b");
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(item, "history")), 2);
	item = cJSON_GetArrayItem(cJSON_GetObjectItem(json_node(root, "v"), "items"), 0);
	ck_assert_ptr_null(cJSON_GetObjectItem(item, "history"));
	cJSON_Delete(root);
	free(text);
	finish(&f);
}
END_TEST

/* ABI 3: what a reporter learns of each result beyond its outcome --
 * its groups, a trial's sweep, parameters and objective, the attempts of
 * what was retried, an item's text -- and the JSON report's keys for it. */
START_TEST(test_abi3_results)
{
	fixture f;
	const assay_result *r, *item;
	cJSON *root, *node, *params;
	char *text;

	run_report(&f, PROBE
		   "[check.gcp.eu.disk]\ntype = \"probe\"\nfail_times = 1\nretries = 1\nretry_delay = \"1ms\"\n"
		   "[trial.ml.lr]\ntype = \"probe\"\nmatrix = { lr = [0.1, 0.01], bs = [32] }\n"
		   "metrics = { acc = \"{bs}\" }\nunits = { acc = \"%\" }\n"
		   "objective = { metric = \"acc\", goal = \"min\" }\n"
		   "[trial.alone]\ntype = \"probe\"\n"
		   "[validation.files]\ntype = \"probe\"\nitems = { list = [\"a\", \"b\"] }\n"
		   "fail_items = [\"b\"]\nretries = 1\nretry_delay = \"1ms\"\n");
	ck_assert_str_eq(f.rep.r.assay_version, PACKAGE_VERSION);

	r = result(&f, "gcp.eu.disk");
	ck_assert_str_eq(r->group, "gcp.eu");
	ck_assert_uint_eq(r->n_groups, 2);
	ck_assert_str_eq(r->groups[0], "gcp");
	ck_assert_str_eq(r->groups[1], "gcp.eu");
	ck_assert_ptr_null(r->sweep);
	ck_assert_ptr_null(r->objective);
	ck_assert_ptr_null(r->item);
	ck_assert_uint_eq(r->n_history, 2);
	ck_assert_uint_eq(r->history[0]->number, 1);
	ck_assert_int_eq(r->history[0]->status, ASSAY_CRITICAL);
	ck_assert_str_eq(r->history[0]->message, "failing on purpose (attempt 1)");
	ck_assert_uint_eq(r->history[1]->number, 2);
	ck_assert_int_eq(r->history[1]->status, ASSAY_OK);

	r = result(&f, "ml.lr[lr=0.01,bs=32]");
	ck_assert_str_eq(r->group, "ml");
	ck_assert_uint_eq(r->n_groups, 1);
	ck_assert_str_eq(r->sweep, "ml.lr");
	ck_assert_uint_eq(r->n_params, 2);
	ck_assert_str_eq(r->params[0].name, "lr");
	ck_assert_str_eq(r->params[0].value, "0.01");
	ck_assert_str_eq(r->params[1].name, "bs");
	ck_assert_str_eq(r->params[1].value, "32");
	ck_assert_ptr_nonnull(r->objective);
	ck_assert_str_eq(r->objective->metric, "acc");
	ck_assert(!r->objective->maximise);
	ck_assert(r->objective->reported);
	ck_assert_double_eq(r->objective->value, 32);
	ck_assert_str_eq(r->objective->unit, "%");
	ck_assert_uint_eq(r->n_history, 0);
	/* A tie: the first declared is the best. */
	ck_assert(!r->best);
	ck_assert(result(&f, "ml.lr[lr=0.1,bs=32]")->best);

	r = result(&f, "alone");
	ck_assert_ptr_null(r->group);
	ck_assert_uint_eq(r->n_groups, 0);
	ck_assert_str_eq(r->sweep, "alone");
	ck_assert_uint_eq(r->n_params, 0);
	ck_assert_ptr_null(r->objective);

	r = result(&f, "files");
	ck_assert_uint_eq(r->n_items, 2);
	item = r->items[1];
	ck_assert_str_eq(item->id, "b");
	ck_assert_str_eq(item->item, "b");
	ck_assert_int_eq(item->status, ASSAY_CRITICAL);
	ck_assert_uint_eq(item->n_history, 2);
	ck_assert_uint_eq(r->items[0]->n_history, 0);

	ck_assert_int_eq(report_write(&report_json, &f.rep, "r.json"), 0);
	text = slurp("r.json");
	ck_assert_ptr_nonnull(root = cJSON_Parse(text));
	node = json_node(root, "gcp.eu.disk");
	ck_assert_str_eq(cJSON_GetObjectItem(node, "group")->valuestring, "gcp.eu");
	ck_assert_ptr_null(cJSON_GetObjectItem(node, "sweep"));
	node = json_node(root, "ml.lr[lr=0.01,bs=32]");
	ck_assert_str_eq(cJSON_GetObjectItem(node, "sweep")->valuestring, "ml.lr");
	params = cJSON_GetObjectItem(node, "params");
	ck_assert_str_eq(cJSON_GetArrayItem(params, 0)->string, "lr");
	ck_assert_str_eq(cJSON_GetObjectItem(params, "lr")->valuestring, "0.01");
	ck_assert_str_eq(cJSON_GetObjectItem(params, "bs")->valuestring, "32");
	node = cJSON_GetObjectItem(node, "objective");
	ck_assert_str_eq(cJSON_GetObjectItem(node, "metric")->valuestring, "acc");
	ck_assert_str_eq(cJSON_GetObjectItem(node, "goal")->valuestring, "min");
	ck_assert_double_eq(cJSON_GetObjectItem(node, "value")->valuedouble, 32);
	ck_assert_str_eq(cJSON_GetObjectItem(node, "unit")->valuestring, "%");
	node = json_node(root, "alone");
	ck_assert_ptr_null(cJSON_GetObjectItem(node, "group"));
	ck_assert_str_eq(cJSON_GetObjectItem(node, "sweep")->valuestring, "alone");
	ck_assert_ptr_null(cJSON_GetObjectItem(node, "params"));
	ck_assert_ptr_null(cJSON_GetObjectItem(node, "objective"));
	cJSON_Delete(root);
	free(text);
	finish(&f);
}
END_TEST

/* An objective the trial did not report: in the JSON report with its
 * value null. */
START_TEST(test_objective_not_reported)
{
	fixture f;
	const assay_result *r;
	cJSON *root, *o;
	char *text;

	run_report(&f, PROBE "[trial.t]\ntype = \"probe\"\nobjective = { metric = \"acc\" }\n");
	r = result(&f, "t");
	ck_assert_ptr_nonnull(r->objective);
	ck_assert(!r->objective->reported);
	ck_assert(r->objective->maximise);
	ck_assert_int_eq(report_write(&report_json, &f.rep, "r.json"), 0);
	text = slurp("r.json");
	ck_assert_ptr_nonnull(root = cJSON_Parse(text));
	o = cJSON_GetObjectItem(json_node(root, "t"), "objective");
	ck_assert_str_eq(cJSON_GetObjectItem(o, "goal")->valuestring, "max");
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(o, "value")));
	ck_assert_str_eq(cJSON_GetObjectItem(o, "unit")->valuestring, "");
	cJSON_Delete(root);
	free(text);
	finish(&f);
}
END_TEST

/* The human report of f, with COLUMNS set to columns (NULL: unset), as
 * written to a file; its lines in lines[]. */
static char *human_text(fixture *f, const char *columns)
{
	if (columns)
		setenv("COLUMNS", columns, 1);
	else
		unsetenv("COLUMNS");
	ck_assert_int_eq(report_write(&report_human, &f->rep, "r.txt"), 0);
	unsetenv("COLUMNS");
	return slurp("r.txt");
}

static void assert_lines_within(const char *text, size_t width)
{
	const char *p;

	for (p = text; *p; p += strcspn(p, "\n") + 1) {
		size_t len = strcspn(p, "\n");

		ck_assert_msg(text_width(p, len) <= width, "a line wider than %zu: %.*s", width, (int)len, p);
		if (!p[len])
			break;
	}
}

/* Issue 9, point 11: escape sequences and carriage returns reached the
 * terminal, one output line could be 64 KiB long, and the details of a
 * failure were never shown. */
START_TEST(test_human_escapes_cuts_and_details)
{
	fixture f;
	char *text, *config, xs[3001];
	const char *p;

	memset(xs, 'x', 3000);
	xs[3000] = '\0';
	ck_assert_int_ge(asprintf(&config, PROBE
		   "[check.fake]\ntype = \"probe\"\nstatus = 2\n"
		   "message = \"\\u001b[2J\\u001b[32mOK\\u001b[0m\\rall fine \\u009b31m\"\n"
		   "details = \"\"\"\nTraceback (most recent call last):\n  one\n  two\n  three\n  four\n"
		   "  five\n  six\n  seven\n  eight\n  nine\n  ten\nValueError: bad\n\n\"\"\"\n"
		   "[check.quiet]\ntype = \"probe\"\ndetails = \"not shown when OK\"\n"
		   "[check.long]\ntype = \"probe\"\nstatus = 1\nmessage = \"%s\"\n", xs), 0);
	run_report(&f, config);
	free(config);
	text = human_text(&f, "70");
	/* Nothing a terminal would act on: no ESC, no CR, no C1. */
	ck_assert_ptr_null(strchr(text, '\033'));
	ck_assert_ptr_null(strchr(text, '\r'));
	ck_assert_ptr_null(strstr(text, "\xc2\x9b"));
	ck_assert_ptr_nonnull(strstr(text, "CRITICAL  fake   \\e[2J\\e[32mOK\\e[0m\\rall fine \\u009b31m"));
	assert_lines_within(text, 70);
	/* The details: first and last lines, the count of those between,
	 * indented under the message; none for an OK node. */
	ck_assert_ptr_nonnull(strstr(text, "\n          Traceback (most recent call last):\n"
					  "            one\n            two\n            three\n"
					  "            four\n"
					  "          ... 2 more lines (the json report has them all)\n"
					  "            seven\n            eight\n            nine\n            ten\n"
					  "          ValueError: bad\nOK        quiet"));
	ck_assert_ptr_null(strstr(text, "not shown"));
	/* The long line is cut with an ellipsis, the duration kept. */
	p = strstr(text, "WARNING   long");
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(strstr(p, "xxx\xe2\x80\xa6 ("));
	free(text);
	/* Not a terminal and no COLUMNS: whole lines up to 1024 columns. */
	text = human_text(&f, NULL);
	assert_lines_within(text, 1024);
	ck_assert_ptr_nonnull(strstr(text, "xxx\xe2\x80\xa6 ("));
	free(text);
	finish(&f);
}
END_TEST

/* Issue 9, points 10 and 15: the human report says how many attempts a
 * node took, and shows the best trial's objective with its unit. */
START_TEST(test_human_attempts_and_best_unit)
{
	fixture f;
	char *text;

	run_report(&f, PROBE
		   "[check.flaky]\ntype = \"probe\"\nfail_times = 2\nretries = 3\nretry_delay = \"1ms\"\n"
		   "[trial.lr]\ntype = \"probe\"\nmatrix = { x = [93, 95] }\nmetrics = { acc = \"{x}\", loss = 1 }\n"
		   "units = { acc = \"%\" }\nobjective = { metric = \"acc\" }\n");
	text = human_text(&f, NULL);
	ck_assert_msg(strstr(text, "OK        flaky     status 0 (") && strstr(text, "s, 3 attempts)\n"), "%s", text);
	ck_assert_msg(strstr(text, "OK        lr[x=95]  status 0 [best acc=95%] ("), "%s", text);
	ck_assert_ptr_null(strstr(text, "lr[x=93]  status 0 [best"));
	free(text);
	finish(&f);
}
END_TEST

/* A copy of the character device major:minor at path; false where this
 * user may not make one (not root). */
static bool copy_device(const char *path, unsigned minor)
{
	if (mknod(path, S_IFCHR | 0666, makedev(1, minor)) == 0)
		return chmod(path, 0666) == 0; /* past the umask */
	ck_assert_int_eq(errno, EPERM);
	return false;
}

static bool is_json_report(const char *text)
{
	cJSON *root = cJSON_Parse(text);
	bool ok = root && cJSON_GetObjectItem(root, "nodes");

	cJSON_Delete(root);
	return ok;
}

/* Issue 9, point 3: --report replaced devices, FIFOs, /proc/self/fd/1
 * and symlinks with regular files. */
START_TEST(test_report_targets)
{
	assay_result res;
	const assay_result *index[1];
	report rep;
	struct stat st;
	char *text, path[64], why[256];
	int fds[2];
	pid_t reader;

	hand_report(&rep, &res, index, "m", NULL);
	/* A link, relative, through another: the file at the end is
	 * replaced, with its permissions; the links stay links. */
	ck_assert_int_eq(mkdir("d", 0755), 0);
	text = NULL;
	ck_assert_int_eq(system("echo old >d/real.json && chmod 640 d/real.json"), 0);
	ck_assert_int_eq(symlink("real.json", "d/link1"), 0);
	ck_assert_int_eq(symlink("d/link1", "link2"), 0);
	ck_assert_int_eq(report_write(&report_json, &rep, "link2"), 0);
	ck_assert_int_eq(lstat("link2", &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	ck_assert_int_eq(lstat("d/link1", &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	ck_assert_int_eq(stat("d/real.json", &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0640);
	text = slurp("d/real.json");
	ck_assert(is_json_report(text));
	free(text);
	/* A dangling link makes the file it names. */
	ck_assert_int_eq(symlink("d/new.json", "dangling"), 0);
	ck_assert_int_eq(report_write(&report_json, &rep, "dangling"), 0);
	text = slurp("d/new.json");
	ck_assert(is_json_report(text));
	free(text);
	ck_assert_int_eq(stat("d/new.json", &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0644);
	/* A directory is an error, before and at writing. */
	ck_assert_int_eq(report_check_target("d", why, sizeof why), -1);
	ck_assert_str_eq(why, "Is a directory");
	ck_assert_int_lt(report_write(&report_json, &rep, "d"), 0);
	ck_assert_int_eq(report_check_target("link2", why, sizeof why), 0);
	ck_assert_int_eq(report_check_target("nowhere/x.json", why, sizeof why), -1);
	ck_assert_str_eq(why, "cannot create files in nowhere: No such file or directory");

	/* A FIFO is written into, for whoever reads it. */
	ck_assert_int_eq(mkfifo("fifo", 0600), 0);
	ck_assert_int_ge(reader = fork(), 0);
	if (reader == 0)
		_exit(system("cat fifo >from-fifo") == 0 ? 0 : 1);
	ck_assert_int_eq(report_write(&report_json, &rep, "fifo"), 0);
	ck_assert_int_eq(waitpid(reader, &fds[0], 0), reader);
	ck_assert_int_eq(lstat("fifo", &st), 0);
	ck_assert(S_ISFIFO(st.st_mode));
	text = slurp("from-fifo");
	ck_assert(is_json_report(text));
	free(text);

	/* /proc/self/fd/N: what the descriptor is open on, a pipe here. */
	ck_assert_int_eq(pipe(fds), 0);
	snprintf(path, sizeof path, "/proc/self/fd/%d", fds[1]);
	ck_assert_int_eq(report_write(&report_json, &rep, path), 0);
	close(fds[1]);
	{
		char buf[65536];
		ssize_t n = read(fds[0], buf, sizeof buf - 1);

		ck_assert_int_gt(n, 0);
		buf[n] = '\0';
		ck_assert(is_json_report(buf));
	}
	close(fds[0]);

	/* Devices: written into; a write error is an error. */
	if (copy_device("null", 3)) {
		ck_assert_int_eq(report_write(&report_json, &rep, "null"), 0);
		ck_assert_int_eq(lstat("null", &st), 0);
		ck_assert(S_ISCHR(st.st_mode));
		ck_assert(copy_device("full", 7));
		ck_assert_int_lt(report_write(&report_json, &rep, "full"), 0);
		ck_assert_int_lt(report_write(&report_human, &rep, "full"), 0);
		ck_assert_int_eq(lstat("full", &st), 0);
		ck_assert(S_ISCHR(st.st_mode));
	}
}
END_TEST

/* Issue 9, point 3: the check made before a run refused /dev/null to a
 * user who cannot create files in /dev. */
START_TEST(test_check_target_as_a_user)
{
	char why[256];
	const char *dev = "/dev/null", *beside = "/dev/x.json";
	pid_t pid;
	int status;

	if (geteuid() == 0) {
		/* A directory only root writes to, with a device in it. */
		ck_assert_int_eq(chmod(".", 0755), 0);
		ck_assert_int_eq(mkdir("ro", 0755), 0);
		ck_assert(copy_device("ro/null", 3));
		dev = "ro/null";
		beside = "ro/x.json";
	}
	ck_assert_int_ge(pid = fork(), 0);
	if (pid == 0) {
		if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
			_exit(2);
		if (report_check_target(dev, why, sizeof why) != 0)
			_exit(3);
		if (report_check_target(beside, why, sizeof why) != -1 ||
		    strncmp(why, "cannot create files in ", 23) != 0)
			_exit(4);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

/* ---- golden reports: one synthetic report, every built-in format ----------- */

/* Where the golden files are: $top_srcdir/tests/data/report (make check
 * sets top_srcdir), else relative to where the suite started. */
static char golden_dir[4096];

/* A report with every state, a skip with its reason, a retried node with
 * its history, a validation with items, a sweep with its best trial,
 * parameters, groups, metrics with units and thresholds, and text that
 * needs escaping or is not UTF-8. */
static const char *const web_groups[] = { "web" };
static const char *const tls_groups[] = { "web", "web.tls" };
static const assay_metric up_metrics[] = {
	{ .name = "time", .value = 0.125, .unit = "s", .warn = "1", .crit = "2", .min = 0,
	  .flags = ASSAY_METRIC_MIN },
	{ .name = "size", .value = 5120, .unit = "B" },
};
static const assay_metric disk_metrics[] = {
	{ .name = "/var", .value = 91.5, .unit = "%", .warn = "80", .crit = "~:95", .min = 0,
	  .max = 100, .flags = ASSAY_METRIC_MIN | ASSAY_METRIC_MAX },
};
static const assay_attempt db_attempts[] = {
	{ 1, ASSAY_CRITICAL, "connection refused", 1767225600.0, 1767225600.5, 0.5 },
	{ 2, ASSAY_CRITICAL, "connection refused", 1767225601.5, 1767225602.0, 0.5 },
	{ 3, ASSAY_CRITICAL, "timed out after 1 s", 1767225604.0, 1767225605.0, 1.0 },
};
static const assay_attempt *const db_history[] = { &db_attempts[0], &db_attempts[1],
						   &db_attempts[2] };
static const assay_result solver_items[] = {
	{ .id = "a.py", .item = "a.py", .kind = ASSAY_KIND_VALIDATION, .type = "exec",
	  .status = ASSAY_OK, .message = "valid", .attempts = 1, .start = 1767225600.0,
	  .end = 1767225600.25, .duration = 0.25 },
	{ .id = "b \"odd\".py", .item = "b \"odd\".py", .kind = ASSAY_KIND_VALIDATION,
	  .type = "exec", .status = ASSAY_CRITICAL, .message = "line 3: unexpected indent",
	  .details = "  File \"b.py\", line 3\n\tbad", .attempts = 1, .start = 1767225600.0,
	  .end = 1767225600.5, .duration = 0.5 },
};
static const char *const db_devices[] = { "GPU-5d3e0c6e-8f1b-4c41-9d2f-1a2b3c4d5e6f" };
static const char *const lr_devices[] = { "GPU-0a1b2c3d-0000-1111-2222-333344445555",
					  "MIG-7e8f9a0b-1c2d-3e4f-5a6b-7c8d9e0f1a2b" };
static const assay_result *const solver_item_list[] = { &solver_items[0], &solver_items[1] };
static const assay_param lr_hi[] = { { "lr", "0.1" }, { "bs", "32" } };
static const assay_param lr_lo[] = { { "lr", "0.01" }, { "bs", "32" } };
static const assay_objective lr_hi_acc = { "accuracy", true, "%", true, 91.25 };
static const assay_objective lr_lo_acc = { "accuracy", true, "%", true, 88.5 };
static const assay_metric lr_hi_metrics[] = { { .name = "accuracy", .value = 91.25, .unit = "%" } };
static const assay_metric lr_lo_metrics[] = { { .name = "accuracy", .value = 88.5, .unit = "%" } };
static const assay_param lr_bad[] = { { "lr", "1" }, { "bs", "32" } };
static const assay_objective lr_bad_acc = { "accuracy", true, "%", true, 12.5 };
/* A metric only it reported: the csv's column is empty for the others. */
static const assay_metric lr_pruned_metrics[] = {
	{ .name = "accuracy", .value = 12.5, .unit = "%" },
	{ .name = "loss, \"train\"", .value = 2.5 },
};
static const assay_result sample_results[] = {
	{ .id = "web.up", .kind = ASSAY_KIND_CHECK, .type = "http", .status = ASSAY_OK,
	  .message = "200 OK in 125 ms", .metrics = up_metrics, .n_metrics = 2, .attempts = 1,
	  .start = 1767225600.0, .end = 1767225600.125, .duration = 0.125, .group = "web",
	  .groups = web_groups, .n_groups = 1 },
	{ .id = "web.tls.expiry", .kind = ASSAY_KIND_CHECK, .type = "exec", .status = ASSAY_WARNING,
	  .message = "cert \"www\" expires in 9 days\t\x1b[31m\xff\xfe caf\xc3\xa9",
	  .details = "issuer: R3\nnot after: 2026-01-10 <&>", .attempts = 1,
	  .start = 1767225600.0, .end = 1767225600.75, .duration = 0.75, .group = "web.tls",
	  .groups = tls_groups, .n_groups = 2 },
	{ .id = "db", .kind = ASSAY_KIND_CHECK, .type = "exec", .status = ASSAY_CRITICAL,
	  .message = "timed out after 1 s", .attempts = 3, .start = 1767225600.0,
	  .end = 1767225605.0, .duration = 5.0, .history = db_history, .n_history = 3,
	  .devices = db_devices, .n_devices = 1 },
	{ .id = "disk", .kind = ASSAY_KIND_CHECK, .type = "exec", .status = ASSAY_UNKNOWN,
	  .message = "df: cannot read /var", .metrics = disk_metrics, .n_metrics = 1,
	  .attempts = 1, .start = 1767225600.0, .end = 1767225600.0625, .duration = 0.0625 },
	{ .id = "backup", .kind = ASSAY_KIND_CHECK, .type = "exec", .status = ASSAY_SKIPPED,
	  .message = "dependency `db` is CRITICAL",
	  .skip_reason = "dependency `db` is CRITICAL" }, /* report_build: message = reason */
	{ .id = "solvers", .kind = ASSAY_KIND_VALIDATION, .type = "exec", .status = ASSAY_CRITICAL,
	  .message = "1 of 2 items failed", .attempts = 1, .start = 1767225600.0,
	  .end = 1767225600.5, .duration = 0.5, .items = solver_item_list, .n_items = 2 },
	{ .id = "lr[lr=0.1,bs=32]", .kind = ASSAY_KIND_TRIAL, .type = "exec", .status = ASSAY_OK,
	  .message = "done", .metrics = lr_hi_metrics, .n_metrics = 1, .attempts = 1,
	  .start = 1767225600.0, .end = 1767225660.0, .duration = 60.0, .best = true,
	  .sweep = "lr", .params = lr_hi, .n_params = 2, .objective = &lr_hi_acc,
	  .devices = lr_devices, .n_devices = 2 },
	{ .id = "lr[lr=0.01,bs=32]", .kind = ASSAY_KIND_TRIAL, .type = "exec", .status = ASSAY_OK,
	  .message = "done", .metrics = lr_lo_metrics, .n_metrics = 1, .attempts = 1,
	  .start = 1767225600.0, .end = 1767225672.5, .duration = 72.5, .sweep = "lr",
	  .params = lr_lo, .n_params = 2, .objective = &lr_lo_acc, .seed = 1, .point = 1,
	  .trial_dir = "/var/lib/assay/runs/20260101T000000Z-4f2a/lr[lr=0.01,bs=32]" },
	{ .id = "lr[lr=1,bs=32]", .kind = ASSAY_KIND_TRIAL, .type = "exec",
	  .status = ASSAY_SKIPPED, .message = "pruned at step 3: accuracy 12.5 < median 89.9 of 2 trials",
	  .skip_reason = "pruned at step 3: accuracy 12.5 < median 89.9 of 2 trials",
	  .metrics = lr_pruned_metrics, .n_metrics = 2, .attempts = 1, .start = 1767225600.0,
	  .end = 1767225610.0, .duration = 10.0, .sweep = "lr", .params = lr_bad, .n_params = 2,
	  .objective = &lr_bad_acc, .pruned = true, .pruned_step = 3, .point = 2,
	  .trial_dir = "/var/lib/assay/runs/20260101T000000Z-4f2a/lr[lr=1,bs=32]" },
};
static const assay_result *const sample_list[] = {
	&sample_results[0], &sample_results[1], &sample_results[2], &sample_results[3],
	&sample_results[4], &sample_results[5], &sample_results[6], &sample_results[7],
	&sample_results[8],
};
static const assay_param lr_best[] = { { "lr", "0.1" }, { "bs", "32" } };
static const assay_sweep lr_sweep = {
	.id = "lr", .metric = "accuracy", .maximise = true, .best = "lr[lr=0.1,bs=32]",
	.params = lr_best, .n_params = 2, .value = 91.25, .spread = 0.35, .repeats = 2,
	.trials = 4, .ok = 2, .failed = 0, .pruned = 1, .skipped = 1,
	.stopped = "target 90 reached by lr[lr=0.1,bs=32]",
};
/* A sweep none of whose trials reported its metric, not in the results. */
static const assay_sweep warm_sweep = {
	.id = "warm", .metric = "loss", .maximise = false, .trials = 2, .failed = 2,
	.stopped = "stopped after 2 consecutive failures",
};
static const assay_sweep *const sample_sweeps[] = { &lr_sweep, &warm_sweep };
static const char *const sample_critical[] = { "web.up", "solvers", "lr[lr=0.01,bs=32]" };
static const assay_report sample = {
	.config_path = "/etc/assay/assay.toml",
	.results = sample_list,
	.n_results = 9,
	.counts = { 3, 1, 2, 1, 2 },
	.sweeps = sample_sweeps,
	.n_sweeps = 2,
	.run_id = "20260101T000000Z-4f2a",
	.worst = ASSAY_CRITICAL,
	.start = 1767225600.0,
	.end = 1767225672.5,
	.wall = 72.5,
	.critical_path = 72.5,
	.critical = sample_critical,
	.n_critical = 3,
	.assay_version = "9.9.9",
};

/* Each built-in format's output of the sample, byte for byte.  With
 * ASSAY_UPDATE_GOLDEN=1 in the environment the files are written
 * instead: `ASSAY_UPDATE_GOLDEN=1 make check TESTS=tests/check_report`,
 * then read the diff before committing it. */
START_TEST(test_golden)
{
	static const char *const formats[] = { "human", "json", "csv" };
	const char *format = formats[_i];
	const assay_reporter *rep;
	const reg_entry *e;
	char path[4200], *got, *want;
	registry reg;
	FILE *out;
	diag d = { 0 };

	/* Looked up as `--format` does: the built-in reporters are the
	 * registry's. */
	ck_assert_int_eq(registry_init(&reg, host_table(), &d), 0);
	ck_assert_ptr_nonnull(e = registry_lookup(&reg, REG_REPORTER, format));
	rep = e->u.reporter;
	/* A fixed width; a file is no terminal, so no colours either. */
	setenv("COLUMNS", "72", 1);
	ck_assert_ptr_nonnull(out = fopen("out", "w"));
	ck_assert_int_eq(rep->write(out, &sample, rep->data), 0);
	ck_assert_int_eq(fclose(out), 0);
	got = slurp("out");
	snprintf(path, sizeof path, "%s/%s.golden", golden_dir, format);
	if (getenv("ASSAY_UPDATE_GOLDEN")) {
		ck_assert_ptr_nonnull(out = fopen(path, "w"));
		ck_assert_int_ge(fputs(got, out), 0);
		ck_assert_int_eq(fclose(out), 0);
	}
	ck_assert_msg(access(path, R_OK) == 0, "%s: cannot read (ASSAY_UPDATE_GOLDEN=1 writes it)",
		      path);
	want = slurp(path);
	ck_assert_msg(strcmp(got, want) == 0, "%s differs from %s; got:\n%s", format, path, got);
	free(got);
	free(want);
	registry_release(&reg);
	diag_release(&d);
}
END_TEST

static Suite *report_suite(void)
{
	Suite *s = suite_create("report");
	TCase *tc = tcase_create("report");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_best_single_trial_after_a_matrix);
	tcase_add_test(tc, test_best_within_a_sweep_only);
	tcase_add_test(tc, test_missing_objective_is_unknown);
	tcase_add_test(tc, test_sweeps_from_tracker);
	tcase_add_test(tc, test_json_is_valid_utf8);
	tcase_add_test(tc, test_human_pruned_step_and_escaped_sweep);
	tcase_add_test(tc, test_retries_take_time);
	tcase_add_test(tc, test_abi3_results);
	tcase_add_test(tc, test_objective_not_reported);
	tcase_add_test(tc, test_human_escapes_cuts_and_details);
	tcase_add_test(tc, test_human_attempts_and_best_unit);
	tcase_add_test(tc, test_report_targets);
	tcase_add_test(tc, test_check_target_as_a_user);
	tcase_add_loop_test(tc, test_golden, 0, 3);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(report_suite());
	const char *top = getenv("top_srcdir");
	int failed;

	if (top)
		snprintf(golden_dir, sizeof golden_dir, "%s/tests/data/report", top);
	else if (!realpath("tests/data/report", golden_dir))
		snprintf(golden_dir, sizeof golden_dir, "tests/data/report");

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
