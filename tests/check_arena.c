/* check_arena.c -- Check suite for core/arena.c: alignment, zeroed pieces, copies, pieces larger than a block, release and reuse. */
#include <check.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "arena.h"

START_TEST(pieces)
{
	arena a = ARENA_INIT;
	char *s;
	int *z;

	for (size_t i = 0; i < 1000; i++) {
		void *p = arena_alloc(&a, i % 37);

		ck_assert_ptr_nonnull(p);
		ck_assert_uint_eq((uintptr_t)p % alignof(max_align_t), 0);
		for (size_t k = 0; k < i % 37; k++)
			ck_assert_int_eq(((char *)p)[k], 0);
		memset(p, 0xab, i % 37); /* writable to its end: ASan would say */
	}
	z = arena_calloc(&a, 100, sizeof *z);
	ck_assert_ptr_nonnull(z);
	for (size_t i = 0; i < 100; i++)
		ck_assert_int_eq(z[i], 0);
	s = arena_strndup(&a, "abcdef", 3);
	ck_assert_str_eq(s, "abc");
	ck_assert_ptr_null(arena_calloc(&a, SIZE_MAX / 2, 4));
	ck_assert_ptr_null(arena_alloc(&a, SIZE_MAX - 3));
	arena_release(&a);
	ck_assert_ptr_null(a.blocks);
}
END_TEST

/* A piece larger than a block gets a block of its own; the arena goes on. */
START_TEST(large)
{
	arena a = ARENA_INIT;
	char *big = arena_alloc(&a, 3u << 20), *small;

	ck_assert_ptr_nonnull(big);
	memset(big, 1, 3u << 20);
	small = arena_strndup(&a, "x", 1);
	ck_assert_str_eq(small, "x");
	ck_assert_int_eq(big[(3u << 20) - 1], 1);
	arena_release(&a);
	ck_assert_ptr_nonnull(arena_strndup(&a, "again", 5));
	arena_release(&a);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("arena");
	TCase *tc = tcase_create("arena");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, pieces);
	tcase_add_test(tc, large);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
