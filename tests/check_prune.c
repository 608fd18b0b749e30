/* check_prune.c -- Check suite for core/prune.c: the median and ASHA
 * rules decide as Optuna 3.1 does.  Each case is a study run one trial
 * after another (report, should_prune, stop when pruned, else complete);
 * the expected decisions are what Optuna's MedianPruner and
 * SuccessiveHalvingPruner answered to the same reports (ask/tell, under
 * Debian's python3-optuna), written out here. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prune.h"

#define END_OF_TRIAL (-1)

typedef struct report {
	int64_t step;
	double value;
} report;

/* Run the trials of `reports` (each ended by END_OF_TRIAL) in order and
 * write each report's decision as '0' or '1', trials apart by ' '. */
static void study(const prune_settings *set, const report *reports, size_t n_trials, char *out)
{
	prune_table t;
	size_t i = 0;
	char *o = out;

	ck_assert_int_eq(prune_init(&t, set, n_trials), 0);
	for (; i < n_trials; i++) {
		bool pruned = false;
		prune_why why;

		for (; reports->step != END_OF_TRIAL; reports++) {
			if (pruned)
				continue;
			ck_assert_int_eq(prune_report(&t, i, reports->step, reports->value), 0);
			pruned = prune_decide(&t, i, &why);
			*o++ = pruned ? '1' : '0';
		}
		reports++;
		if (!pruned)
			prune_complete(&t, i);
		*o++ = ' ';
	}
	o[-1] = '\0';
	prune_release(&t);
}

#define C4(a, b, c, d) { 0, a }, { 1, b }, { 2, c }, { 3, d }
#define END { END_OF_TRIAL, 0 }

/* The first two complete; then a trial below the median of step 1 is
 * pruned there (warmup 1 spares step 0), one above at step 1 is pruned
 * at step 2; a trial reporting only steps no completed trial reported is
 * never judged; a median of two is their mean. */
START_TEST(test_median_maximise)
{
	static const report r[] = {
		C4(.1, .2, .3, .4), END,
		C4(.2, .4, .6, .8), END,
		{ 0, .05 }, { 1, .1 }, { 2, .2 }, END,
		C4(.3, .35, .36, .9), END,
		{ 5, 0 }, { 6, 0 }, END,
		C4(.25, .3, .45, .5), END,
		C4(.25, .3, .44, .5), END,
	};
	prune_settings set = { .rule = PRUNE_MEDIAN, .maximise = true, .warmup_steps = 1,
			       .startup_trials = 2 };
	char out[128];

	study(&set, r, 7, out);
	ck_assert_str_eq(out, "0000 0000 01 001 00 01 01");
}
END_TEST

/* Minimised; startup_trials counts completed trials only (the pruned
 * ones do not bring the first decision nearer). */
START_TEST(test_median_minimise_and_startup)
{
	static const report r[] = {
		C4(4, 3, 2, 1), END,
		C4(5, 4, 3, 2), END,
		C4(6, 5, 4, 3), END,
		C4(4.5, 3.5, 2.5, 1), END,
		C4(3, 2, 1, 0), END,
		C4(5, 5, 5, 5), END,
	};
	prune_settings set = { .rule = PRUNE_MEDIAN, .startup_trials = 1 };
	char out[128];

	study(&set, r, 6, out);
	ck_assert_str_eq(out, "0000 1 1 1 0000 1");
	set.startup_trials = 3;
	study(&set, r, 6, out);
	ck_assert_str_eq(out, "0000 0000 0000 0000 0000 1");
}
END_TEST

/* A step reported again is ignored (the first value stays, the decision
 * is made again); the trial's best value so far is what is compared, at
 * its last (highest) step. */
START_TEST(test_median_repeated_step)
{
	static const report r[] = {
		{ 0, 1 }, { 1, 2 }, { 2, 3 }, END,
		{ 0, 1 }, { 0, 5 }, { 2, .5 }, { 1, .1 }, END,
		{ 0, .5 }, { 1, 5 }, END,
	};
	prune_settings set = { .rule = PRUNE_MEDIAN, .maximise = true, .startup_trials = 1 };
	char out[64];

	study(&set, r, 3, out);
	ck_assert_str_eq(out, "000 001 1");
}
END_TEST

/* No completed trial: nothing is pruned, whatever the values. */
START_TEST(test_median_nothing_completed)
{
	prune_settings set = { .rule = PRUNE_MEDIAN, .maximise = true };
	prune_table t;
	prune_why why;

	ck_assert_int_eq(prune_init(&t, &set, 2), 0);
	ck_assert_int_eq(prune_report(&t, 0, 3, -1e9), 0);
	ck_assert(!prune_decide(&t, 0, &why));
	ck_assert(!prune_decide(&t, 1, &why)); /* nothing reported */
	prune_release(&t);
}
END_TEST

/* The reason's numbers: the best value so far, the median, how many. */
START_TEST(test_median_why)
{
	prune_settings set = { .rule = PRUNE_MEDIAN, .maximise = true };
	prune_table t;
	prune_why why;
	size_t i;

	ck_assert_int_eq(prune_init(&t, &set, 4), 0);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(prune_report(&t, i, 12, 0.7 + 0.02 * (double)i), 0);
		prune_complete(&t, i);
	}
	ck_assert_int_eq(prune_report(&t, 3, 11, 0.65), 0);
	ck_assert_int_eq(prune_report(&t, 3, 12, 0.61), 0);
	ck_assert(prune_decide(&t, 3, &why));
	ck_assert_int_eq(why.step, 12);
	ck_assert_double_eq(why.value, 0.65);
	ck_assert_double_eq_tol(why.threshold, 0.72, 1e-12);
	ck_assert_uint_eq(why.n, 3);
	prune_release(&t);
}
END_TEST

/* numpy's linear percentile, to the last bit where the weight is 1/2. */
START_TEST(test_percentile)
{
	double a[] = { 3, 1, 2 }, b[] = { 0.1, 0.2 }, c[] = { 5 }, d[] = { 4, 1, 3, 2 };

	ck_assert_double_eq(prune_percentile(a, 3, 50), 2);
	ck_assert_double_eq(prune_percentile(b, 2, 50), 0.2 - (0.2 - 0.1) * 0.5);
	ck_assert_double_eq(prune_percentile(c, 1, 50), 5);
	ck_assert_double_eq(prune_percentile(d, 4, 25), 1.75);
}
END_TEST

#define C9(k) { 0, k * 1 }, { 1, k * 2 }, { 2, k * 3 }, { 3, k * 4 }, { 4, k * 5 }, \
	{ 5, k * 6 }, { 6, k * 7 }, { 7, k * 8 }, { 8, k * 9 }
#define FLAT9(v) { 0, v }, { 1, v }, { 2, v }, { 3, v }, { 4, v }, { 5, v }, { 6, v }, \
	{ 7, v }, { 8, v }

static const report asha_reports[] = {
	C9(.1), END, C9(.2), END, C9(.05), END, C9(.15), END,
	FLAT9(.3), END, FLAT9(.5), END, FLAT9(.01), END,
};

/* Rungs at steps 1, 2, 4, 8 (min_resource 1, eta 2), and 2, 6 (2, 3):
 * promoted when in the top 1/eta of the values recorded at the rung, its
 * own included, or the best of fewer than eta; the pruned ones' values
 * stay recorded. */
START_TEST(test_asha_maximise)
{
	prune_settings set = { .rule = PRUNE_ASHA, .maximise = true, .min_resource = 1,
			       .reduction_factor = 2 };
	char out[128];

	study(&set, asha_reports, 7, out);
	ck_assert_str_eq(out, "000000000 000000000 01 001 001 00001 01");
	set.min_resource = 2;
	set.reduction_factor = 3;
	study(&set, asha_reports, 7, out);
	ck_assert_str_eq(out, "000000000 000000000 001 001 001 0000001 001");
}
END_TEST

START_TEST(test_asha_minimise)
{
	prune_settings set = { .rule = PRUNE_ASHA, .min_resource = 1, .reduction_factor = 2 };
	char out[128];

	study(&set, asha_reports, 7, out);
	ck_assert_str_eq(out, "000000000 01 000000000 01 01 01 000000000");
}
END_TEST

/* A report past several rungs records its value at each of them. */
START_TEST(test_asha_jump)
{
	static const report r[] = {
		{ 0, 1 }, { 9, 2 }, END, { 9, 1.5 }, END, { 9, 3 }, END, { 9, 1 }, END,
	};
	prune_settings set = { .rule = PRUNE_ASHA, .maximise = true, .min_resource = 1,
			       .reduction_factor = 2 };
	prune_table t;
	prune_why why;
	char out[64];

	study(&set, r, 4, out);
	ck_assert_str_eq(out, "00 1 0 1");
	/* Trial 3 at rung 0 among 2, 1.5, 3, 1: the second best (2) is
	 * the worst promoted. */
	ck_assert_int_eq(prune_init(&t, &set, 4), 0);
	prune_report(&t, 0, 9, 2);
	prune_decide(&t, 0, &why);
	prune_report(&t, 1, 9, 1.5);
	prune_decide(&t, 1, &why);
	prune_report(&t, 2, 9, 3);
	prune_decide(&t, 2, &why);
	prune_report(&t, 3, 9, 1);
	ck_assert(prune_decide(&t, 3, &why));
	ck_assert_uint_eq(why.rung, 0);
	ck_assert_uint_eq(why.n, 4);
	ck_assert_double_eq(why.threshold, 2);
	ck_assert_double_eq(why.value, 1);
	ck_assert_int_eq(why.step, 9);
	prune_release(&t);
}
END_TEST

/* No rule, or settings out of range, decide nothing and crash nothing. */
START_TEST(test_no_rule_and_bounds)
{
	prune_settings set = { .rule = PRUNE_NONE };
	prune_table t;
	prune_why why;

	ck_assert_int_eq(prune_init(&t, &set, 1), 0);
	prune_report(&t, 0, 1, 0);
	ck_assert(!prune_decide(&t, 0, &why));
	prune_release(&t);
	set = (prune_settings){ .rule = PRUNE_ASHA, .min_resource = 0, .reduction_factor = 0 };
	ck_assert_int_eq(prune_init(&t, &set, 1), 0);
	ck_assert_int_eq(t.set.min_resource, 1);
	ck_assert_uint_eq(t.set.reduction_factor, 2);
	prune_report(&t, 0, INT64_MAX, 1);
	ck_assert(!prune_decide(&t, 0, &why)); /* alone at every rung: promoted */
	prune_release(&t);
}
END_TEST

/* Replay one trial's line of optuna.txt ("T step:value ... = 0010") on
 * table t as trial i; false, with what differed in msg, on a mismatch. */
static bool replay_trial(prune_table *t, size_t i, char *line, char *msg, size_t size)
{
	char *expect = strstr(line, " = "), *tok, *save = NULL;
	size_t k = 0;
	bool pruned = false;

	ck_assert_ptr_nonnull(expect);
	*expect = '\0';
	expect += 3;
	expect[strcspn(expect, "\n")] = '\0';
	for (tok = strtok_r(line + 2, " ", &save); tok && !pruned; tok = strtok_r(NULL, " ", &save), k++) {
		char *colon = strchr(tok, ':');
		prune_why why;

		ck_assert_ptr_nonnull(colon);
		ck_assert_int_eq(prune_report(t, i, strtoll(tok, NULL, 10), strtod(colon + 1, NULL)), 0);
		pruned = prune_decide(t, i, &why);
		if (!expect[k] || (expect[k] == '1') != pruned) {
			snprintf(msg, size, "trial %zu, report %zu (%s): assay %s, Optuna %c", i, k, tok,
				 pruned ? "prunes" : "keeps", expect[k] ? expect[k] : '-');
			return false;
		}
	}
	if (expect[k]) {
		snprintf(msg, size, "trial %zu: Optuna judged more reports", i);
		return false;
	}
	if (!pruned)
		prune_complete(t, i);
	return true;
}

/* 120 random studies (tests/data/prune/gen.py): curves rising and
 * falling, steps reported again, back, or skipped ahead, two digits or
 * seventeen, each rule and direction; every decision Optuna made. */
START_TEST(test_random_studies_against_optuna)
{
	const char *top = getenv("top_srcdir");
	char path[4096], line[8192], msg[256] = "";
	prune_table t;
	bool open = false;
	size_t trial = 0, studies = 0, trials = 0;
	FILE *f;

	snprintf(path, sizeof path, "%s/tests/data/prune/optuna.txt", top ? top : ".");
	ck_assert_msg((f = fopen(path, "r")) != NULL, "cannot open %s", path);
	while (fgets(line, sizeof line, f)) {
		char rule[16];
		int max, warmup, startup, minres, rf;

		if (line[0] == 'S') {
			prune_settings set;

			ck_assert_int_eq(sscanf(line, "S %15s %d %d %d %d %d", rule, &max, &warmup,
						&startup, &minres, &rf), 6);
			set = (prune_settings){ .rule = strcmp(rule, "median") == 0 ? PRUNE_MEDIAN
							: PRUNE_ASHA,
						.maximise = max, .warmup_steps = (unsigned)warmup,
						.startup_trials = (unsigned)startup,
						.min_resource = minres,
						.reduction_factor = (unsigned)rf };
			if (open)
				prune_release(&t);
			ck_assert_int_eq(prune_init(&t, &set, 16), 0);
			open = true;
			trial = 0;
			studies++;
		} else if (line[0] == 'T') {
			ck_assert(open && trial < 16);
			ck_assert_msg(replay_trial(&t, trial++, line, msg, sizeof msg),
				      "study %zu: %s", studies, msg);
			trials++;
		}
	}
	fclose(f);
	if (open)
		prune_release(&t);
	ck_assert_uint_eq(studies, 120);
	ck_assert_uint_gt(trials, 600);
}
END_TEST

static Suite *prune_suite(void)
{
	Suite *s = suite_create("prune");
	TCase *tc = tcase_create("prune");

	tcase_add_test(tc, test_median_maximise);
	tcase_add_test(tc, test_median_minimise_and_startup);
	tcase_add_test(tc, test_median_repeated_step);
	tcase_add_test(tc, test_median_nothing_completed);
	tcase_add_test(tc, test_median_why);
	tcase_add_test(tc, test_percentile);
	tcase_add_test(tc, test_asha_maximise);
	tcase_add_test(tc, test_asha_minimise);
	tcase_add_test(tc, test_asha_jump);
	tcase_add_test(tc, test_no_rule_and_bounds);
	tcase_add_test(tc, test_random_studies_against_optuna);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(prune_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
