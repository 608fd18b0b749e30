/* check_mask.c -- Check suite for core/mask.c: secrets masked whole, overlapping, beside NUL bytes, and at the cut ends of a text. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "mask.h"

static const char *const secrets[] = { "S3cr3t-Tok3n", "Bearer S3cr3t-Tok3n", "xyz", "", NULL };
enum { N_SECRETS = 5 };

/* mask_text of s with flags, as a string that the test compares. */
static char *masked(const char *s, unsigned flags)
{
	size_t len = 0;
	char *out = mask_text(s, strlen(s), secrets, N_SECRETS, flags, &len);

	ck_assert_ptr_nonnull(out);
	ck_assert_uint_eq(len, strlen(out));
	return out;
}

#define ck_masked(s, flags, want)              \
	do {                                   \
		char *got_ = masked(s, flags); \
		ck_assert_str_eq(got_, want);  \
		free(got_);                    \
	} while (0)

START_TEST(whole_secrets)
{
	ck_masked("no secret here", 0, "no secret here");
	ck_masked("", 0, "");
	ck_masked("token S3cr3t-Tok3n.", 0, "token ***.");
	/* Overlapping secrets are one span: no part of the longer one stays. */
	ck_masked("Authorization: Bearer S3cr3t-Tok3n", 0, "Authorization: ***");
	/* Overlapping occurrences of one secret, and adjacent ones. */
	ck_masked("xyzyz xyzxyz", 0, "***yz ***");
	/* Case matters: the host masks what it was given. */
	ck_masked("s3cr3t-tok3n", 0, "s3cr3t-tok3n");
}
END_TEST

START_TEST(cut_ends)
{
	/* Without a cut, the start of a secret is just text. */
	ck_masked("key S3cr", 0, "key S3cr");
	ck_masked("key S3cr", ASSAY_MASK_CUT_END, "key ***");
	ck_masked("key S", ASSAY_MASK_CUT_END, "key ***");
	ck_masked("3n and more", ASSAY_MASK_CUT_START, "*** and more");
	ck_masked("n and more", ASSAY_MASK_CUT_START, "*** and more");
	/* Text that no secret begins or ends with stays. */
	ck_masked("key Q", ASSAY_MASK_CUT_END, "key Q");
	ck_masked("and S3cr3t-Tok3n", ASSAY_MASK_CUT_END | ASSAY_MASK_CUT_START, "and ***");
	/* A text shorter than the secret, inside it, at both cuts. */
	ck_masked("cr3t", ASSAY_MASK_CUT_END | ASSAY_MASK_CUT_START, "cr3t");
	ck_masked("Tok3", ASSAY_MASK_CUT_END, "Tok3");
	ck_masked("S3cr3t-Tok3", ASSAY_MASK_CUT_END, "***");
}
END_TEST

START_TEST(bytes_not_strings)
{
	const char text[] = "a\0S3cr3t-Tok3n\0b";
	size_t len = 0;
	char *out = mask_text(text, sizeof text - 1, secrets, N_SECRETS, 0, &len);

	ck_assert_uint_eq(len, 7);
	ck_assert_mem_eq(out, "a\0***\0b", 7);
	free(out);
	/* No secrets at all: a copy. */
	out = mask_text("abc", 3, NULL, 0, ASSAY_MASK_CUT_END, NULL);
	ck_assert_str_eq(out, "abc");
	free(out);
}
END_TEST

/* What a server echoes may differ in case: %2f for the %2F it was sent. */
START_TEST(any_case)
{
	static const char *const creds[] = { "abc", "Bearer abc", "q%2Fx" };
	static const char *const cut[] = { "S3cr3t-Tok3n-xyz", "Bearer S3cr3t-Tok3n-xyz" };
	const char *text = "x Bearer abc y abc z ABC Q%2fX";
	size_t len = 0;
	char *out = mask_text(text, strlen(text), creds, 3, ASSAY_MASK_ANY_CASE, &len);

	ck_assert_str_eq(out, "x *** y *** z *** ***");
	ck_assert_uint_eq(len, strlen(out));
	free(out);
	out = mask_text(text, strlen(text), creds, 3, 0, NULL);
	ck_assert_str_eq(out, "x *** y *** z ABC Q%2fX");
	free(out);
	/* At the cuts, in any case. */
	out = mask_text("\"key\": \"s3CR3t-tok3N-", 21, cut, 2,
			ASSAY_MASK_ANY_CASE | ASSAY_MASK_CUT_END, NULL);
	ck_assert_str_eq(out, "\"key\": \"***");
	free(out);
	out = mask_text("N-XYZ\", \"a\": 1", 15, cut, 2, ASSAY_MASK_ANY_CASE | ASSAY_MASK_CUT_START,
			NULL);
	ck_assert_str_eq(out, "***\", \"a\": 1");
	free(out);
	out = mask_text("plain text", 10, cut, 2,
			ASSAY_MASK_ANY_CASE | ASSAY_MASK_CUT_END | ASSAY_MASK_CUT_START, NULL);
	ck_assert_str_eq(out, "plain text");
	free(out);
	/* Bytes, not strings: a NUL is no letter of any case. */
	out = mask_text("a\0ABC", 5, creds, 1, ASSAY_MASK_ANY_CASE, &len);
	ck_assert_uint_eq(len, 5);
	ck_assert_mem_eq(out, "a\0***", 5);
	free(out);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mask");
	TCase *t = tcase_create("mask");
	SRunner *sr;
	int failed;

	tcase_add_test(t, whole_secrets);
	tcase_add_test(t, cut_ends);
	tcase_add_test(t, bytes_not_strings);
	tcase_add_test(t, any_case);
	suite_add_tcase(s, t);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
