/* check_suggest.c -- Check suite for core/suggest.c: the one "did you mean" rule. */
#include <check.h>
#include <stdlib.h>

#include "suggest.h"

static const char *const words[] = { "timeout", "retries", "after", "jobs", "status", "headers" };
enum { N_WORDS = sizeof words / sizeof *words };

START_TEST(typos)
{
	ck_assert_str_eq(suggest_word("tiemout", words, N_WORDS), "timeout"); /* transposed */
	ck_assert_str_eq(suggest_word("retires", words, N_WORDS), "retries");
	ck_assert_str_eq(suggest_word("jbs", words, N_WORDS), "jobs");      /* dropped */
	ck_assert_str_eq(suggest_word("statuz", words, N_WORDS), "status"); /* replaced */
	ck_assert_str_eq(suggest_word("header", words, N_WORDS), "headers");
	ck_assert_str_eq(suggest_word("timeoutt", words, N_WORDS), "timeout"); /* added */
}
END_TEST

START_TEST(no_suggestion)
{
	ck_assert_ptr_null(suggest_word("zzzzzz", words, N_WORDS));
	/* The word itself is known, not a typo. */
	ck_assert_ptr_null(suggest_word("timeout", words, N_WORDS));
	/* Two edits in a short word are half of it: a guess, not a typo. */
	ck_assert_ptr_null(suggest_word("jo", words, N_WORDS));
	ck_assert_ptr_null(suggest_word("x", words, N_WORDS));
	ck_assert_ptr_null(suggest_word("after", NULL, 0));
	/* Three edits are too many, whatever the length. */
	ck_assert_ptr_null(suggest_word("retriesxyz", words, N_WORDS));
}
END_TEST

START_TEST(long_words)
{
	char longer[80];

	for (size_t i = 0; i < sizeof longer - 1; i++)
		longer[i] = 'a';
	longer[sizeof longer - 1] = '\0';
	ck_assert_ptr_null(suggest_word(longer, words, N_WORDS));
	/* The first of equally close candidates. */
	static const char *const ties[] = { "abcd", "abce" };
	ck_assert_str_eq(suggest_word("abcx", ties, 2), "abcd");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("suggest");
	TCase *t = tcase_create("suggest");
	SRunner *sr;
	int failed;

	tcase_add_test(t, typos);
	tcase_add_test(t, no_suggestion);
	tcase_add_test(t, long_words);
	suite_add_tcase(s, t);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
