/* check_sample.c -- Check suite for core/sample.c, the random search's
 * sampler: one seed gives the same draws (and these exact ones: the ids
 * of a sweep depend on them), each draw stays in its documented bounds,
 * loguniform is uniform in the logarithm, int with log covers its range,
 * and log and exp of our own agree with the C library's. */
#include <check.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "sample.h"

/* Sorting doubles, for a median. */
static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

START_TEST(same_seed_same_draws)
{
	sample_rng a, b, c;
	size_t i, same = 0;

	sample_seed(&a, 7);
	sample_seed(&b, 7);
	sample_seed(&c, 8);
	for (i = 0; i < 1000; i++) {
		uint64_t x = sample_next(&a);

		ck_assert_uint_eq(x, sample_next(&b));
		same += x == sample_next(&c);
	}
	ck_assert_uint_eq(same, 0);
}
END_TEST

/* The algorithm is part of the interface: trial ids written in results
 * tables must come out the same from the next version.  splitmix64's
 * first output from 0 is the published one; the rest pin xoshiro256**. */
START_TEST(known_values)
{
	sample_rng r;

	ck_assert_uint_eq(sample_mix(0), 0xe220a8397b1dcdafu);
	sample_seed(&r, 0);
	ck_assert_uint_eq(r.s[0], 0xe220a8397b1dcdafu);
	ck_assert_uint_eq(r.s[1], 0x6e789e6aa1b965f4u);
	ck_assert_uint_eq(sample_next(&r), 0x99ec5f36cb75f2b4u);
	ck_assert_uint_eq(sample_next(&r), 0xbf6e1f784956452au);
	ck_assert_uint_eq(sample_hash("lr"), 0x9bd86d00c681199du);
}
END_TEST

START_TEST(uniform_bounds)
{
	sample_rng r;
	double sum = 0, one = nextafter(1, 2);
	size_t i;

	sample_seed(&r, 1);
	for (i = 0; i < 100000; i++) {
		double x = sample_uniform(&r, -2, 3);

		ck_assert(x >= -2 && x < 3);
		sum += x;
	}
	ck_assert_double_eq_tol(sum / 100000, 0.5, 0.05);
	/* hi is excluded even where rounding would reach it. */
	for (i = 0; i < 1000; i++)
		ck_assert(sample_uniform(&r, 1, one) == 1);
	/* The widest range: no overflow to infinity. */
	for (i = 0; i < 1000; i++)
		ck_assert(isfinite(sample_uniform(&r, -1e308, 1e308)));
	for (i = 0; i < 100000; i++)
		ck_assert(sample_unit(&r) < 1);
}
END_TEST

START_TEST(loguniform_median)
{
	sample_rng r;
	static double x[10001];
	size_t i, below = 0;

	sample_seed(&r, 2);
	for (i = 0; i < 10001; i++) {
		x[i] = sample_loguniform(&r, 1e-5, 1e-1);
		ck_assert(x[i] >= 1e-5 && x[i] < 1e-1);
		below += x[i] < 1e-4;
	}
	qsort(x, 10001, sizeof *x, cmp_double);
	/* The geometric mean, 1e-3, within 10%; a quarter of the draws in
	 * each decade. */
	ck_assert_msg(x[5000] > 0.9e-3 && x[5000] < 1.1e-3, "median %g", x[5000]);
	ck_assert_msg(below > 2300 && below < 2700, "%zu below 1e-4", below);
}
END_TEST

START_TEST(int_inclusive)
{
	sample_rng r;
	size_t i, count[3] = { 0 };
	bool seen[9] = { false };

	sample_seed(&r, 3);
	for (i = 0; i < 30000; i++) {
		int64_t k = sample_int(&r, 1, 8);

		ck_assert(k >= 1 && k <= 8);
		seen[k] = true;
		count[sample_int(&r, 0, 2)]++;
	}
	for (i = 1; i <= 8; i++)
		ck_assert_msg(seen[i], "never %zu", i);
	for (i = 0; i < 3; i++)
		ck_assert_msg(count[i] > 9500 && count[i] < 10500, "%zu: %zu", i, count[i]);
	ck_assert_int_eq(sample_int(&r, 5, 5), 5);
	sample_int(&r, INT64_MIN, INT64_MAX); /* the whole range: no division by 0 */
	ck_assert(sample_int(&r, INT64_MAX - 1, INT64_MAX) >= INT64_MAX - 1);
}
END_TEST

/* k comes with probability log((k+1)/k) / log(17) over [1, 16]. */
START_TEST(int_log_covers)
{
	sample_rng r;
	size_t i, count[17] = { 0 };

	sample_seed(&r, 4);
	for (i = 0; i < 100000; i++) {
		int64_t k = sample_int_log(&r, 1, 16);

		ck_assert(k >= 1 && k <= 16);
		count[k]++;
	}
	for (i = 1; i <= 16; i++) {
		double want = 100000 * log((i + 1.0) / i) / log(17.0);

		ck_assert_msg(fabs(count[i] - want) < 5 * sqrt(want) + 10, "%zu: %zu, want %.0f",
			      i, count[i], want);
	}
	ck_assert_int_eq(sample_int_log(&r, 7, 7), 7);
	for (i = 0; i < 1000; i++)
		ck_assert(sample_int_log(&r, 1000, 1001) >= 1000);
}
END_TEST

START_TEST(log_exp_agree)
{
	static const double xs[] = { 1e-300, 1e-5, 0.1, 0.5, 0.7071, 1, 1.0000001, 2, 3.14159,
				     10, 1e5, 123456789, 1e300 };
	size_t i;

	for (i = 0; i < sizeof xs / sizeof *xs; i++) {
		double l = sample_log(xs[i]);

		ck_assert_msg(fabs(l - log(xs[i])) <= 4e-16 * fmax(1, fabs(log(xs[i]))),
			      "log %g: %.17g, libm %.17g", xs[i], l, log(xs[i]));
	}
	for (i = 0; i < 200; i++) {
		double x = -700 + 7 * (double)i, e = sample_exp(x);

		ck_assert_msg(fabs(e - exp(x)) <= 1e-15 * exp(x), "exp %g: %.17g, libm %.17g",
			      x, e, exp(x));
	}
	ck_assert(sample_exp(0) == 1);
	ck_assert(sample_log(1) == 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sample");
	TCase *t = tcase_create("sample");
	SRunner *sr;
	int failed;

	tcase_add_test(t, same_seed_same_draws);
	tcase_add_test(t, known_values);
	tcase_add_test(t, uniform_bounds);
	tcase_add_test(t, loguniform_median);
	tcase_add_test(t, int_inclusive);
	tcase_add_test(t, int_log_covers);
	tcase_add_test(t, log_exp_agree);
	suite_add_tcase(s, t);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
