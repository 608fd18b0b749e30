/* check_status.c -- Check suite for core/status.c: names, error strings, and the monitoring-plugins' ranking of states. */
#include <check.h>
#include <stdlib.h>

#include "status.h"

START_TEST(names)
{
	ck_assert_str_eq(status_name(ASSAY_OK), "OK");
	ck_assert_str_eq(status_name(ASSAY_SKIPPED), "SKIPPED");
	ck_assert_str_eq(status_name((assay_status)42), "UNKNOWN");
	ck_assert_str_eq(status_kind_name(ASSAY_KIND_CHECK), "check");
	ck_assert_str_eq(status_kind_name(ASSAY_KIND_TRIAL), "trial");
	ck_assert_str_eq(status_kind_name(ASSAY_KIND_VALIDATION), "validation");
	ck_assert_str_eq(status_kind_name(ASSAY_KIND_CHECK | ASSAY_KIND_TRIAL), "node");
	ck_assert_str_eq(status_level_name(ASSAY_LOG_ERROR), "error");
	ck_assert_str_eq(status_level_name(ASSAY_LOG_DEBUG), "debug");
	ck_assert_str_eq(status_strerror(0), "success");
	ck_assert_str_eq(status_strerror(ASSAY_ENEVER), "can never be satisfied here");
	ck_assert_str_eq(status_strerror(-1000), "unknown error");
}
END_TEST

/* OK < UNKNOWN < WARNING < CRITICAL, whatever the order of the arguments. */
START_TEST(ranking)
{
	static const assay_status order[] = { ASSAY_OK, ASSAY_UNKNOWN, ASSAY_WARNING,
					      ASSAY_CRITICAL };

	for (size_t i = 0; i < 4; i++)
		for (size_t j = 0; j < 4; j++) {
			assay_status want = order[i > j ? i : j];

			ck_assert_int_eq(status_worse(order[i], order[j]), want);
			ck_assert_int_eq(status_severity(order[i]) < status_severity(order[j]),
					 i < j);
		}
	/* A tie keeps the first: SKIPPED ranks as UNKNOWN. */
	ck_assert_int_eq(status_worse(ASSAY_UNKNOWN, ASSAY_SKIPPED), ASSAY_UNKNOWN);
	ck_assert_int_eq(status_worse(ASSAY_SKIPPED, ASSAY_WARNING), ASSAY_WARNING);
}
END_TEST

START_TEST(failures)
{
	ck_assert(!status_failed(ASSAY_OK));
	ck_assert(!status_failed(ASSAY_WARNING));
	ck_assert(status_failed(ASSAY_CRITICAL));
	ck_assert(status_failed(ASSAY_UNKNOWN));
	ck_assert(!status_failed(ASSAY_SKIPPED));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("status");
	TCase *t = tcase_create("status");
	SRunner *sr;
	int failed;

	tcase_add_test(t, names);
	tcase_add_test(t, ranking);
	tcase_add_test(t, failures);
	suite_add_tcase(s, t);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
