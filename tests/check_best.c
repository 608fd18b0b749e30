/* check_best.c -- Check suite for the best trial of each sweep as the
 * trial tracker (core/sweep.c) ranks it from the run's events, whatever
 * order the trials finish in, and best_reported() (core/best.c). */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "best.h"
#include "config.h"
#include "sweep.h"

static char workdir[] = "/tmp/assay-check-best-XXXXXX";

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
	strcpy(workdir, "/tmp/assay-check-best-XXXXXX");
}

/* The plan of text; the plugins are not needed to know the sweeps. */
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

/* The results outlive the events: the tracker keeps pointers to them,
 * as to the run's. */
static run_result results[16];
static assay_metric metrics[16];
static size_t n_results;

/* Node id final with status and, unless name is NULL, one metric. */
static void final(sweeps *b, const plan *p, const char *id, assay_status status,
		  const char *name, double value)
{
	run_result *res = &results[n_results % 16];
	assay_metric *m = &metrics[n_results++ % 16];
	run_event ev = { .kind = RUN_EVENT_FINAL, .node = node_named(p, id), .item = SIZE_MAX, .res = res };

	*m = (assay_metric){ .name = name, .value = value };
	*res = (run_result){ .status = status, .ran = true, .kept = true,
			     .metrics = name ? m : NULL, .n_metrics = name ? 1 : 0 };
	sweeps_event(&ev, b);
}

static const char *best_id(sweeps *b, const plan *p, size_t sweep, double *value)
{
	sweep_view v;

	sweeps_view(b, sweep, &v);
	if (value)
		*value = v.best_value;
	return v.best == PLAN_NONE ? NULL : p->nodes[v.best].id;
}

#define SWEEPS \
	"[trial.up]\ntype = \"t\"\nmatrix = { x = [1, 2, 3, 4] }\nobjective = { metric = \"acc\" }\n" \
	"[trial.down]\ntype = \"t\"\nmatrix = { x = [1, 2] }\n" \
	"objective = { metric = \"loss\", goal = \"min\" }\n" \
	"[trial.plain]\ntype = \"t\"\n" \
	"[check.c]\ntype = \"t\"\n"

START_TEST(test_best_by_goal)
{
	plan p;
	sweeps *b;
	double v;

	load(&p, SWEEPS);
	ck_assert_ptr_nonnull(b = sweeps_new(&p));
	ck_assert_ptr_null(best_id(b, &p, 0, NULL));
	final(b, &p, "up[x=2]", ASSAY_OK, "acc", 0.5);
	ck_assert_str_eq(best_id(b, &p, 0, &v), "up[x=2]");
	ck_assert_double_eq(v, 0.5);
	final(b, &p, "up[x=3]", ASSAY_WARNING, "acc", 0.9);
	final(b, &p, "up[x=1]", ASSAY_OK, "acc", 0.7);
	ck_assert_str_eq(best_id(b, &p, 0, &v), "up[x=3]");
	ck_assert_double_eq(v, 0.9);
	final(b, &p, "down[x=1]", ASSAY_OK, "loss", 3);
	final(b, &p, "down[x=2]", ASSAY_OK, "loss", 2);
	ck_assert_str_eq(best_id(b, &p, 1, NULL), "down[x=2]");
	/* A sweep without an objective has no best; a check is no trial. */
	final(b, &p, "plain", ASSAY_OK, "acc", 1);
	final(b, &p, "c", ASSAY_OK, "acc", 1);
	ck_assert_ptr_null(best_id(b, &p, 2, NULL));
	sweeps_free(b);
	plan_release(&p);
}
END_TEST

/* What does not compete: a failure, a missing or NaN metric, an item's
 * event.  Of a metric reported twice, the last value counts. */
START_TEST(test_what_competes)
{
	assay_metric twice[2] = { { .name = "acc", .value = 10 }, { .name = "acc", .value = 0.1 } };
	static run_result res;
	run_event start = { .kind = RUN_EVENT_START, .item = SIZE_MAX, .attempt = 1 };
	plan p;
	sweeps *b;
	run_event ev;
	double v;

	res = (run_result){ .status = ASSAY_OK, .ran = true, .metrics = twice, .n_metrics = 2 };
	load(&p, SWEEPS);
	ck_assert_ptr_nonnull(b = sweeps_new(&p));
	sweeps_event(&start, b);
	final(b, &p, "up[x=1]", ASSAY_CRITICAL, "acc", 5);
	final(b, &p, "up[x=2]", ASSAY_UNKNOWN, "acc", 5);
	final(b, &p, "up[x=3]", ASSAY_SKIPPED, NULL, 0);
	final(b, &p, "down[x=1]", ASSAY_OK, "loss", NAN);
	final(b, &p, "down[x=2]", ASSAY_OK, "other", 5);
	ck_assert_ptr_null(best_id(b, &p, 0, NULL));
	ck_assert_ptr_null(best_id(b, &p, 1, NULL));
	ev = (run_event){ .kind = RUN_EVENT_ITEM, .node = node_named(&p, "up[x=4]"), .item = 0,
			  .res = &res };
	sweeps_event(&ev, b);
	ck_assert_ptr_null(best_id(b, &p, 0, NULL));
	ev = (run_event){ .kind = RUN_EVENT_FINAL, .node = node_named(&p, "up[x=4]"),
			  .item = SIZE_MAX, .res = &res };
	sweeps_event(&ev, b);
	ck_assert_str_eq(best_id(b, &p, 0, &v), "up[x=4]");
	ck_assert_double_eq(v, 0.1);
	ck_assert_ptr_eq(best_reported(&res, "acc"), &twice[1]);
	ck_assert_ptr_null(best_reported(&res, "loss"));
	sweeps_free(b);
	plan_release(&p);
}
END_TEST

/* Equal values: the trial declared first, whichever finished first. */
START_TEST(test_tie_goes_to_the_first_declared)
{
	plan p;
	sweeps *b;

	load(&p, SWEEPS);
	ck_assert_ptr_nonnull(b = sweeps_new(&p));
	final(b, &p, "up[x=4]", ASSAY_OK, "acc", 1);
	final(b, &p, "up[x=2]", ASSAY_OK, "acc", 1);
	final(b, &p, "up[x=3]", ASSAY_OK, "acc", 1);
	ck_assert_str_eq(best_id(b, &p, 0, NULL), "up[x=2]");
	sweeps_free(b);
	plan_release(&p);
}
END_TEST

/* Events come from every worker at once: the best is the same as if
 * they had come one by one. */
#define THREADS 4
#define TRIALS 1000

typedef struct feeder {
	sweeps *b;
	unsigned first;
	run_result *res;          /* one per trial, shared: each writes its own */
	assay_metric *m;
} feeder;

static void *feed(void *arg)
{
	const feeder *f = arg;
	unsigned i;

	/* Backwards: the later trials finish first.  Values rise to a peak
	 * at trial 700 and fall again: 700 and 701 tie. */
	for (i = f->first; i < TRIALS; i += THREADS) {
		size_t k = TRIALS - 1 - i;
		run_result *res = &f->res[k];
		run_event ev = { .kind = RUN_EVENT_FINAL, .node = k, .item = SIZE_MAX, .res = res };

		f->m[k] = (assay_metric){ .name = "acc",
					  .value = k <= 700 ? (double)k : 1400.0 - (double)k };
		*res = (run_result){ .status = ASSAY_OK, .ran = true, .metrics = &f->m[k],
				     .n_metrics = 1 };
		sweeps_event(&ev, f->b);
	}
	return NULL;
}

START_TEST(test_concurrent_events)
{
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);
	feeder f[THREADS];
	pthread_t t[THREADS];
	plan p;
	sweeps *b;
	run_result *res;
	assay_metric *m;
	double v;
	unsigned i;

	ck_assert_ptr_nonnull(out);
	fputs("[trial.big]\ntype = \"t\"\nobjective = { metric = \"acc\" }\nmatrix = { x = [", out);
	for (i = 0; i < TRIALS; i++)
		fprintf(out, "%s%u", i ? ", " : "", i);
	fputs("] }\n", out);
	fclose(out);
	load(&p, text);
	free(text);
	ck_assert_uint_eq(p.n_nodes, TRIALS);
	ck_assert_ptr_nonnull(b = sweeps_new(&p));
	ck_assert_ptr_nonnull(res = calloc(TRIALS, sizeof *res));
	ck_assert_ptr_nonnull(m = calloc(TRIALS, sizeof *m));
	for (i = 0; i < THREADS; i++) {
		f[i] = (feeder){ b, i, res, m };
		ck_assert_int_eq(pthread_create(&t[i], NULL, feed, &f[i]), 0);
	}
	for (i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	ck_assert_str_eq(best_id(b, &p, 0, &v), "big[x=700]");
	ck_assert_double_eq(v, 700);
	sweeps_free(b);
	free(res);
	free(m);
	plan_release(&p);
}
END_TEST

static Suite *best_suite(void)
{
	Suite *s = suite_create("best");
	TCase *tc = tcase_create("best");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_best_by_goal);
	tcase_add_test(tc, test_what_competes);
	tcase_add_test(tc, test_tie_goes_to_the_first_declared);
	tcase_add_test(tc, test_concurrent_events);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(best_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
