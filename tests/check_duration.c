/* check_duration.c -- Check suite for core/duration.c: durations read as an operator writes them, and written back. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "duration.h"

START_TEST(parse)
{
	static const struct { const char *s; int64_t ms; } good[] = {
		{ "1s", 1000 }, { "1.5s", 1500 }, { "200ms", 200 }, { "2m", 120000 },
		{ "1h30m", 5400000 }, { "1d", 86400000 }, { "0s", 0 }, { "0.0001s", 1 },
	};
	static const char *const bad[] = { "", "5", "s", "-1s", "1 s", "1x", "1sm", " 1s", "1e400s" };
	size_t i;
	int64_t ms;

	for (i = 0; i < sizeof good / sizeof *good; i++) {
		ck_assert_msg(duration_parse(good[i].s, &ms) == 0, "%s", good[i].s);
		ck_assert_msg(ms == good[i].ms, "%s: %lld", good[i].s, (long long)ms);
	}
	for (i = 0; i < sizeof bad / sizeof *bad; i++)
		ck_assert_msg(duration_parse(bad[i], &ms) == ASSAY_EINVAL, "%s", bad[i]);
}
END_TEST

START_TEST(format_reads_back)
{
	static const struct { int64_t ms; const char *s; } cases[] = {
		{ 0, "0ms" }, { 250, "250ms" }, { 1500, "1.5s" }, { 45000, "45s" },
		{ 5400000, "1h30m" }, { 86400000, "1d" }, { 90061000, "1d1h1m1s" },
	};
	char buf[32];
	int64_t ms;

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		ck_assert_str_eq(duration_format(cases[i].ms, buf), cases[i].s);
		ck_assert_int_eq(duration_parse(buf, &ms), 0);
		ck_assert_int_eq(ms, cases[i].ms);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("duration");
	TCase *t = tcase_create("duration");
	SRunner *sr;
	int failed;

	tcase_add_test(t, parse);
	tcase_add_test(t, format_reads_back);
	suite_add_tcase(s, t);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
