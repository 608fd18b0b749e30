/* check_sweep.c -- Check suite for core/sweep.c, the trial tracker, fed
 * events by hand: the target and max_failures close a sweep, the best is
 * the best mean over a point's repeats (with their spread), a pruned
 * trial is never the best, the judgement for a node after a sweep,
 * pruning decisions reach the run with their reason, and the running
 * trials with their latest value for the live display. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "sweep.h"

static char workdir[] = "/tmp/assay-check-sweep-XXXXXX";

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(workdir));
	ck_assert_int_eq(chdir(workdir), 0);
}

static void teardown(void)
{
	unlink("c.toml");
	ck_assert_int_eq(chdir("/"), 0);
	rmdir(workdir);
	strcpy(workdir, "/tmp/assay-check-sweep-XXXXXX");
}

static void load(plan *p, const char *text)
{
	diag d = DIAG_INIT;
	FILE *f = fopen("c.toml", "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	ck_assert_int_eq(config_load(p, "c.toml", 1, &d), 0);
	ck_assert_uint_eq(diag_count(&d), 0);
	diag_release(&d);
}

static size_t node_named(const plan *p, const char *id)
{
	size_t i;

	for (i = 0; i < p->n_nodes; i++)
		if (strcmp(p->nodes[i].id, id) == 0)
			return i;
	ck_abort_msg("no node %s", id);
	return 0;
}

/* What the tracker asked of the run. */
typedef struct actions {
	char log[2048];
} actions;

static void act_prune(void *arg, size_t node, int64_t step, const char *reason)
{
	actions *a = arg;
	size_t at = strlen(a->log);

	snprintf(a->log + at, sizeof a->log - at, "prune %zu@%lld: %s\n", node, (long long)step,
		 reason);
}

static void act_close(void *arg, size_t sweep, const char *reason)
{
	actions *a = arg;
	size_t at = strlen(a->log);

	snprintf(a->log + at, sizeof a->log - at, "close %zu: %s\n", sweep, reason);
}

static sweeps *tracker(const plan *p, actions *a)
{
	sweeps *t = sweeps_new(p);
	sweep_actions act = { act_prune, act_close, a };

	ck_assert_ptr_nonnull(t);
	memset(a, 0, sizeof *a);
	sweeps_set_actions(t, &act);
	return t;
}

/* Results outlive the events (the tracker keeps pointers, as to the
 * run's): a pool of them per test. */
static run_result results[64];
static assay_metric metrics[64];
static size_t n_results;

static void start(sweeps *t, size_t node, int64_t at_ns)
{
	run_event ev = { .kind = RUN_EVENT_START, .node = node, .item = SIZE_MAX, .attempt = 1,
			 .at_ns = at_ns };

	sweeps_event(&ev, t);
}

static void metric(sweeps *t, size_t node, const char *name, int64_t step, double value)
{
	run_event ev = { .kind = RUN_EVENT_METRIC, .node = node, .item = SIZE_MAX, .attempt = 1,
			 .text = name, .value = value, .step = step };

	sweeps_event(&ev, t);
}

/* Node final with status and, unless name is NULL, one metric. */
static run_result *final(sweeps *t, size_t node, assay_status status, const char *name,
			 double value)
{
	run_result *res = &results[n_results];
	assay_metric *m = &metrics[n_results++];
	run_event ev = { .kind = RUN_EVENT_FINAL, .node = node, .item = SIZE_MAX, .res = res };

	ck_assert_uint_lt(n_results, 64);
	*m = (assay_metric){ .name = name, .value = value };
	*res = (run_result){ .status = status, .ran = status != ASSAY_SKIPPED, .kept = true,
			     .metrics = name ? m : NULL, .n_metrics = name ? 1 : 0,
			     .duration = 2 };
	if (status == ASSAY_SKIPPED)
		res->cause = ASSAY_OK;
	sweeps_event(&ev, t);
	return res;
}

static void final_pruned(sweeps *t, size_t node, const char *name, double value)
{
	run_result *res = &results[n_results];
	assay_metric *m = &metrics[n_results++];
	run_event ev = { .kind = RUN_EVENT_FINAL, .node = node, .item = SIZE_MAX, .res = res };

	*m = (assay_metric){ .name = name, .value = value };
	*res = (run_result){ .status = ASSAY_SKIPPED, .cause = ASSAY_OK, .ran = true,
			     .kept = true, .pruned = true, .pruned_step = 3, .metrics = m,
			     .n_metrics = 1, .duration = 1 };
	sweeps_event(&ev, t);
}

#define UP "[trial.up]\ntype = \"t\"\nmatrix = { x = [1, 2, 3, 4, 5, 6] }\n" \
	"objective = { metric = \"acc\" }\n"
#define DOWN "[trial.down]\ntype = \"t\"\nmatrix = { x = [1, 2, 3] }\n" \
	"objective = { metric = \"loss\", goal = \"min\" }\n"
#define PLAIN "[trial.plain]\ntype = \"t\"\nmatrix = { x = [1, 2] }\n"

/* A finished trial reaching the target closes the sweep, once; >= for
 * max, <= for min. */
START_TEST(test_target)
{
	plan p = { 0 };
	actions a;
	sweeps *t;
	sweep_view v;
	char why[128];

	n_results = 0;
	load(&p, UP DOWN);
	p.sweeps[0].has_target = true;
	p.sweeps[0].target = 0.9;
	p.sweeps[1].has_target = true;
	p.sweeps[1].target = 0.1;
	t = tracker(&p, &a);
	final(t, node_named(&p, "up[x=1]"), ASSAY_OK, "acc", 0.5);
	final(t, node_named(&p, "down[x=1]"), ASSAY_OK, "loss", 0.2);
	ck_assert_str_eq(a.log, "");
	final(t, node_named(&p, "up[x=2]"), ASSAY_OK, "acc", 0.9);
	final(t, node_named(&p, "up[x=3]"), ASSAY_WARNING, "acc", 0.95);
	final(t, node_named(&p, "down[x=2]"), ASSAY_OK, "loss", 0.1);
	ck_assert_str_eq(a.log, "close 0: target 0.9 reached by up[x=2]\n"
				"close 1: target 0.1 reached by down[x=2]\n");
	sweeps_stopped(t, 0, why, sizeof why);
	ck_assert_str_eq(why, "target 0.9 reached by up[x=2]");
	sweeps_view(t, 0, &v);
	ck_assert(v.stopped);
	ck_assert_uint_eq(v.planned, 6);
	ck_assert_uint_eq(v.ok, 3);
	ck_assert_uint_eq(v.best, node_named(&p, "up[x=3]"));
	ck_assert_double_eq(v.mean_s, 2);
	sweeps_free(t);
	plan_release(&p);
}
END_TEST

/* max_failures: CRITICAL or UNKNOWN in a row, in the order they end; an
 * OK or WARNING resets the count, a pruned or skipped trial neither
 * counts nor resets. */
START_TEST(test_max_failures)
{
	plan p = { 0 };
	actions a;
	sweeps *t;
	char why[128];

	n_results = 0;
	load(&p, UP);
	p.sweeps[0].max_failures = 2;
	t = tracker(&p, &a);
	final(t, node_named(&p, "up[x=1]"), ASSAY_CRITICAL, NULL, 0);
	final(t, node_named(&p, "up[x=2]"), ASSAY_WARNING, "acc", 0.1);
	final(t, node_named(&p, "up[x=3]"), ASSAY_UNKNOWN, NULL, 0);
	final_pruned(t, node_named(&p, "up[x=4]"), "acc", 0.1);
	final(t, node_named(&p, "up[x=5]"), ASSAY_SKIPPED, NULL, 0);
	ck_assert_str_eq(a.log, "");
	final(t, node_named(&p, "up[x=6]"), ASSAY_CRITICAL, NULL, 0);
	ck_assert_str_eq(a.log, "close 0: stopped after 2 consecutive failures\n");
	sweeps_stopped(t, 0, why, sizeof why);
	ck_assert_str_eq(why, "stopped after 2 consecutive failures");
	sweeps_free(t);
	plan_release(&p);
}
END_TEST

/* Three points of two repeats: the best mean wins, its spread the sample
 * standard deviation, its best repeat the best trial; a failed repeat
 * does not count; a point with a pruned repeat is never the best. */
START_TEST(test_best_of_repeats)
{
	plan p = { 0 };
	actions a;
	sweeps *t;
	sweep_view v;
	double m;
	size_t i;

	n_results = 0;
	load(&p, UP);
	p.sweeps[0].n_points = 3;
	p.sweeps[0].repeat = 2;
	for (i = 0; i < 6; i++) {
		p.nodes[p.sweeps[0].first + i].point = (uint32_t)(i / 2);
		p.nodes[p.sweeps[0].first + i].seed = (unsigned)(i % 2);
	}
	t = tracker(&p, &a);
	/* point 0: 0.8, 0.6 (mean 0.7); point 1: 0.7, 0.75 (0.725); point
	 * 2: 0.99 and a pruned repeat. */
	final(t, p.sweeps[0].first + 0, ASSAY_OK, "acc", 0.8);
	final(t, p.sweeps[0].first + 1, ASSAY_OK, "acc", 0.6);
	sweeps_view(t, 0, &v);
	ck_assert_uint_eq(v.best, p.sweeps[0].first + 0);
	ck_assert_double_eq_tol(v.best_value, 0.7, 1e-12);
	ck_assert_double_eq_tol(v.spread, sqrt(0.02), 1e-12);
	ck_assert_uint_eq(v.repeats, 2);
	final(t, p.sweeps[0].first + 2, ASSAY_OK, "acc", 0.7);
	final(t, p.sweeps[0].first + 3, ASSAY_OK, "acc", 0.75);
	final(t, p.sweeps[0].first + 4, ASSAY_OK, "acc", 0.99);
	sweeps_view(t, 0, &v);
	ck_assert_uint_eq(v.best, p.sweeps[0].first + 4);
	ck_assert_uint_eq(v.repeats, 1);
	ck_assert_double_eq(v.spread, 0);
	final_pruned(t, p.sweeps[0].first + 5, "acc", 0.2);
	sweeps_view(t, 0, &v);
	ck_assert_uint_eq(v.best, p.sweeps[0].first + 3);
	ck_assert_double_eq_tol(v.best_value, 0.725, 1e-12);
	ck_assert_double_eq_tol(v.spread, sqrt(2 * 0.025 * 0.025), 1e-12);
	ck_assert_uint_eq(v.pruned, 1);
	ck_assert(sweeps_best_metric(t, 0, "acc", &m));
	ck_assert_double_eq_tol(m, 0.725, 1e-12);
	ck_assert(!sweeps_best_metric(t, 0, "loss", &m));
	ck_assert_uint_eq(sweeps_best(t, 0), p.sweeps[0].first + 3);
	sweeps_free(t);
	plan_release(&p);
}
END_TEST

/* A failed repeat leaves the mean to the others; a point whose best
 * falls on a later repeat is rescanned; equal means: the earlier point. */
START_TEST(test_best_failed_repeat_and_ties)
{
	plan p = { 0 };
	actions a;
	sweeps *t;
	sweep_view v;
	size_t i;

	n_results = 0;
	load(&p, DOWN);
	p.sweeps[0].n_points = 3;
	for (i = 0; i < 3; i++)
		p.nodes[p.sweeps[0].first + i].point = (uint32_t)i;
	t = tracker(&p, &a);
	final(t, p.sweeps[0].first + 2, ASSAY_OK, "loss", 0.3);
	final(t, p.sweeps[0].first + 1, ASSAY_OK, "loss", 0.3);
	final(t, p.sweeps[0].first + 0, ASSAY_CRITICAL, "loss", 0.0);
	sweeps_view(t, 0, &v);
	ck_assert_uint_eq(v.best, p.sweeps[0].first + 1);
	ck_assert_uint_eq(v.failed, 1);
	sweeps_free(t);
	plan_release(&p);
}
END_TEST

/* For a node after the sweep: one with an objective succeeds when it has
 * a best trial, one without when every trial is OK or WARNING. */
START_TEST(test_judge)
{
	plan p = { 0 };
	actions a;
	sweeps *t;
	run_options o = { 0 };
	char why[128] = "";

	n_results = 0;
	load(&p, DOWN PLAIN);
	t = tracker(&p, &a);
	sweeps_judge(t, &o);
	ck_assert_ptr_eq(o.sweep_arg, t);
	final(t, node_named(&p, "down[x=1]"), ASSAY_CRITICAL, NULL, 0);
	final_pruned(t, node_named(&p, "down[x=2]"), "loss", 1);
	final(t, node_named(&p, "down[x=3]"), ASSAY_SKIPPED, NULL, 0);
	ck_assert(!o.sweep_ok(o.sweep_arg, 0, why, sizeof why));
	ck_assert_str_eq(why, "sweep `down` has no best trial: 1 failed, 1 pruned, 1 skipped");
	final(t, node_named(&p, "plain[x=1]"), ASSAY_OK, NULL, 0);
	final(t, node_named(&p, "plain[x=2]"), ASSAY_WARNING, NULL, 0);
	ck_assert(o.sweep_ok(o.sweep_arg, 1, why, sizeof why));
	sweeps_free(t);
	plan_release(&p);

	load(&p, DOWN PLAIN);
	t = tracker(&p, &a);
	final(t, node_named(&p, "down[x=2]"), ASSAY_OK, "loss", 1);
	ck_assert(sweeps_ok(t, 0, why, sizeof why));
	final(t, node_named(&p, "plain[x=1]"), ASSAY_OK, NULL, 0);
	final(t, node_named(&p, "plain[x=2]"), ASSAY_CRITICAL, NULL, 0);
	ck_assert(!sweeps_ok(t, 1, why, sizeof why));
	ck_assert_str_eq(why, "sweep `plain` did not succeed: 1 failed");
	sweeps_free(t);
	plan_release(&p);
}
END_TEST

/* The objective's intermediate values drive the rule; other metrics do
 * not; a pruned trial is pruned once, and its later reports decide
 * nothing; the reason says what was compared. */
START_TEST(test_pruning_decisions)
{
	plan p = { 0 };
	actions a;
	sweeps *t;
	size_t n1, n2, n3;

	n_results = 0;
	load(&p, UP);
	n1 = node_named(&p, "up[x=1]");
	n2 = node_named(&p, "up[x=2]");
	n3 = node_named(&p, "up[x=3]");
	p.sweeps[0].prune = PRUNE_MEDIAN;
	p.sweeps[0].startup_trials = 1;
	t = tracker(&p, &a);
	start(t, n1, 1);
	metric(t, n1, "acc", 0, 0.5);
	metric(t, n1, "acc", 1, 0.6);
	final(t, n1, ASSAY_OK, "acc", 0.6);
	start(t, n2, 2);
	metric(t, n2, "loss", 0, 0.0);
	metric(t, n2, "acc", 0, 0.55);
	metric(t, n2, "acc", 1, 0.65);
	metric(t, n2, "acc", 2, 0.1); /* no completed trial reported step 2 */
	ck_assert_str_eq(a.log, "");
	start(t, n3, 3);
	metric(t, n3, "acc", 0, 0.4);
	metric(t, n3, "acc", 1, 0.45);
	ck_assert_str_eq(a.log, "prune 2@0: pruned at step 0: acc 0.4 < median 0.5 of 1 trials\n");
	sweeps_free(t);
	plan_release(&p);

	load(&p, UP);
	p.sweeps[0].prune = PRUNE_ASHA;
	p.sweeps[0].min_resource = 1;
	p.sweeps[0].reduction_factor = 2;
	t = tracker(&p, &a);
	metric(t, n1, "acc", 1, 0.5);
	metric(t, n2, "acc", 1, 0.4);
	ck_assert_str_eq(a.log, "prune 1@1: pruned at step 1: acc 0.4 < 0.5, the worst of the "
				"top 1/2 of 2 trials at rung 0\n");
	sweeps_free(t);
	plan_release(&p);
}
END_TEST

/* The running trials, oldest first, with the objective's latest step. */
START_TEST(test_running)
{
	plan p = { 0 };
	actions a;
	sweeps *t;
	sweep_running rs[4];
	sweep_view v;

	n_results = 0;
	load(&p, UP);
	t = tracker(&p, &a);
	start(t, p.sweeps[0].first + 2, 200);
	start(t, p.sweeps[0].first + 0, 100);
	start(t, p.sweeps[0].first + 1, 300);
	metric(t, p.sweeps[0].first + 2, "acc", 4, 0.25);
	metric(t, p.sweeps[0].first + 2, "acc", 3, 0.2); /* late: not the latest */
	final(t, p.sweeps[0].first + 1, ASSAY_OK, "acc", 0.3);
	ck_assert_uint_eq(sweeps_running(t, 0, rs, 4), 2);
	ck_assert_uint_eq(rs[0].node, p.sweeps[0].first + 0);
	ck_assert_int_eq(rs[0].step, -1);
	ck_assert_uint_eq(rs[1].node, p.sweeps[0].first + 2);
	ck_assert_int_eq(rs[1].step, 4);
	ck_assert_double_eq(rs[1].value, 0.25);
	ck_assert_int_eq(rs[1].started_ns, 200);
	/* How many run, though only one was asked for. */
	ck_assert_uint_eq(sweeps_running(t, 0, rs, 1), 2);
	ck_assert_uint_eq(rs[0].node, p.sweeps[0].first + 0);
	sweeps_view(t, 0, &v);
	ck_assert_uint_eq(v.running, 2);
	ck_assert_uint_eq(v.started, 3);
	ck_assert_uint_eq(v.peak, 3);
	sweeps_free(t);
	plan_release(&p);
}
END_TEST

/* Without an objective, a running trial shows whatever it reports. */
START_TEST(test_running_no_objective)
{
	plan p = { 0 };
	actions a;
	sweeps *t;
	sweep_running rs[2];

	n_results = 0;
	load(&p, PLAIN);
	t = tracker(&p, &a);
	start(t, p.sweeps[0].first, 100);
	metric(t, p.sweeps[0].first, "loss", 2, 0.5);
	metric(t, p.sweeps[0].first, "acc", 2, 0.75);
	ck_assert_uint_eq(sweeps_running(t, 0, rs, 2), 1);
	ck_assert_int_eq(rs[0].step, 2);
	ck_assert_double_eq(rs[0].value, 0.75);
	ck_assert_str_eq(a.log, "");
	sweeps_free(t);
	plan_release(&p);
}
END_TEST

static Suite *sweep_suite(void)
{
	Suite *s = suite_create("sweep");
	TCase *tc = tcase_create("sweep");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_target);
	tcase_add_test(tc, test_max_failures);
	tcase_add_test(tc, test_best_of_repeats);
	tcase_add_test(tc, test_best_failed_repeat_and_ties);
	tcase_add_test(tc, test_judge);
	tcase_add_test(tc, test_pruning_decisions);
	tcase_add_test(tc, test_running);
	tcase_add_test(tc, test_running_no_objective);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(sweep_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
