/* check_text.c -- Check suite for core/text.c: UTF-8 repair, escapes for a
 * terminal, widths and cuts. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

/* text_put into a string. */
static char *put(const char *s, size_t width, size_t *cols)
{
	char *buf = NULL;
	size_t size = 0, c;
	FILE *out = open_memstream(&buf, &size);

	ck_assert_ptr_nonnull(out);
	c = text_put(out, s, strlen(s), width);
	fclose(out);
	if (cols)
		*cols = c;
	return buf;
}

static void assert_put(const char *in, size_t width, const char *want, size_t want_cols)
{
	size_t cols;
	char *got = put(in, width, &cols);

	ck_assert_str_eq(got, want);
	ck_assert_uint_eq(cols, want_cols);
	free(got);
}

static void assert_utf8(const char *in, const char *want)
{
	char *got = text_utf8(in);

	ck_assert_str_eq(got, want);
	free(got);
}

START_TEST(test_decode)
{
	uint32_t cp;

	ck_assert_uint_eq(text_decode("A", 1, &cp), 1);
	ck_assert_uint_eq(cp, 'A');
	ck_assert_uint_eq(text_decode("\xc3\xa9", 2, &cp), 2);
	ck_assert_uint_eq(cp, 0xe9);
	ck_assert_uint_eq(text_decode("\xe2\x82\xac", 3, &cp), 3);
	ck_assert_uint_eq(cp, 0x20ac);
	ck_assert_uint_eq(text_decode("\xf0\x9f\x98\x80", 4, &cp), 4);
	ck_assert_uint_eq(cp, 0x1f600);
	/* Maximal subparts: a cut sequence is one bad character. */
	ck_assert_uint_eq(text_decode("\xe2\x82" "A", 3, &cp), 2);
	ck_assert_uint_eq(cp, TEXT_INVALID);
	ck_assert_uint_eq(text_decode("\xe2\x82", 2, &cp), 2);
	ck_assert_uint_eq(cp, TEXT_INVALID);
	/* Never well-formed: overlong, surrogate, past U+10FFFF, stray. */
	ck_assert_uint_eq(text_decode("\xc0\xaf", 2, &cp), 1);
	ck_assert_uint_eq(cp, TEXT_INVALID);
	ck_assert_uint_eq(text_decode("\xe0\x80\x80", 3, &cp), 1);
	ck_assert_uint_eq(cp, TEXT_INVALID);
	ck_assert_uint_eq(text_decode("\xed\xa0\x80", 3, &cp), 1);
	ck_assert_uint_eq(cp, TEXT_INVALID);
	ck_assert_uint_eq(text_decode("\xf4\x90\x80\x80", 4, &cp), 1);
	ck_assert_uint_eq(cp, TEXT_INVALID);
	ck_assert_uint_eq(text_decode("\x80", 1, &cp), 1);
	ck_assert_uint_eq(cp, TEXT_INVALID);
	ck_assert_uint_eq(text_decode("\xff", 1, &cp), 1);
	ck_assert_uint_eq(cp, TEXT_INVALID);
}
END_TEST

/* Issue 9, point 7: a command's Latin-1 made the JSON report invalid. */
START_TEST(test_utf8_repair)
{
	assert_utf8("caf\xe9", "caf\xef\xbf\xbd");
	assert_utf8("caf\xc3\xa9 \xe2\x82\xac", "caf\xc3\xa9 \xe2\x82\xac");
	assert_utf8("\xe2\x82" "A", "\xef\xbf\xbd" "A");
	assert_utf8("\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	assert_utf8("\xff\xfe", "\xef\xbf\xbd\xef\xbf\xbd");
	assert_utf8("", "");
	/* Control characters are JSON's to escape, not this function's. */
	assert_utf8("a\033b\r", "a\033b\r");
}
END_TEST

/* Issue 9, point 11: escape sequences and carriage returns reached the
 * terminal (a cleared screen, a fake green OK). */
START_TEST(test_put_escapes)
{
	assert_put("\033[2J\033[32mOK\033[0m", SIZE_MAX, "\\e[2J\\e[32mOK\\e[0m", 18);
	assert_put("100%\rOK", SIZE_MAX, "100%\\rOK", 8);
	assert_put("a\nb", SIZE_MAX, "a\\nb", 4);
	assert_put("bell\a nul\x01 del\x7f", SIZE_MAX, "bell\\a nul\\x01 del\\x7f", 22);
	/* C1 controls: U+009B is a CSI to some terminals. */
	assert_put("\xc2\x9b" "31m", SIZE_MAX, "\\u009b31m", 9);
	/* A right-to-left override would show text reordered. */
	assert_put("a\xe2\x80\xae" "cba", SIZE_MAX, "a\\u202ecba", 10);
	assert_put("caf\xe9", SIZE_MAX, "caf\xef\xbf\xbd", 4);
	assert_put("a\tb", SIZE_MAX, "a       b", 9);
	assert_put("caf\xc3\xa9", SIZE_MAX, "caf\xc3\xa9", 4);
}
END_TEST

START_TEST(test_widths_and_cuts)
{
	ck_assert_uint_eq(text_width("abc", 3), 3);
	ck_assert_uint_eq(text_width("\xe6\x97\xa5\xe6\x9c\xac", 6), 4); /* 日本 */
	ck_assert_uint_eq(text_width("e\xcc\x81", 3), 1);                /* e + combining acute */
	ck_assert_uint_eq(text_width("\xf0\x9f\x98\x80", 4), 2);         /* emoji */
	ck_assert_uint_eq(text_width("\033", 1), 2);
	/* What fits is whole; what does not is cut with an ellipsis within
	 * the width. */
	assert_put("abcdef", 6, "abcdef", 6);
	assert_put("abcdefg", 6, "abcde\xe2\x80\xa6", 6);
	assert_put("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 4, "\xe6\x97\xa5\xe2\x80\xa6", 3);
	/* An escape is never cut in half. */
	assert_put("ab\033c", 4, "ab\xe2\x80\xa6", 3);
	assert_put("abc", 1, "\xe2\x80\xa6", 1);
	assert_put("abc", 0, "", 0);
}
END_TEST

static Suite *text_suite(void)
{
	Suite *s = suite_create("text");
	TCase *tc = tcase_create("text");

	tcase_add_test(tc, test_decode);
	tcase_add_test(tc, test_utf8_repair);
	tcase_add_test(tc, test_put_escapes);
	tcase_add_test(tc, test_widths_and_cuts);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(text_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
