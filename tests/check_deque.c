/* check_deque.c -- tests for core/deque.c: LIFO take, FIFO steal, growth,
 * and an owner racing three thieves with every item obtained exactly once. */

#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <check.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "assay/plugin.h"
#include "deque.h"

#define THIEVES 3

/* NULL and DEQUE_ABORT (1) are reserved, so item i is i + 2. */
#define ITEM(i) ((void *)(uintptr_t)((i) + 2))
#define INDEX(x) ((size_t)((uintptr_t)(x)) - 2)

/* ASSAY_STRESS_SCALE (default 1) shrinks the big tests for slow builds
 * such as sanitizers or valgrind. */
static size_t scaled(size_t n)
{
	const char *s = getenv("ASSAY_STRESS_SCALE");
	double f = s ? strtod(s, NULL) : 1.0;

	if (!(f > 0))
		f = 1.0;
	n = (size_t)((double)n * f);
	return n < 1000 ? 1000 : n;
}

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#else
	sched_yield();
#endif
}

START_TEST(test_empty)
{
	deque d;

	ck_assert_int_eq(deque_init(&d, 0), 0);
	ck_assert_ptr_null(deque_take(&d));
	ck_assert_ptr_null(deque_steal(&d));
	ck_assert_int_eq(deque_size(&d), 0);
	/* A take on an empty deque must leave it usable. */
	ck_assert_int_eq(deque_push(&d, ITEM(0)), 0);
	ck_assert_int_eq(deque_size(&d), 1);
	ck_assert_ptr_eq(deque_steal(&d), ITEM(0));
	ck_assert_ptr_null(deque_take(&d));
	ck_assert_ptr_null(deque_steal(&d));
	ck_assert_int_eq(deque_size(&d), 0);
	deque_release(&d);
}
END_TEST

START_TEST(test_too_big)
{
	deque d;

	ck_assert_int_eq(deque_init(&d, 62), ASSAY_ENOMEM);
	ck_assert_int_eq(deque_init(&d, 63), ASSAY_ENOMEM);
	ck_assert_int_eq(deque_init(&d, 1000), ASSAY_ENOMEM);
}
END_TEST

START_TEST(test_lifo_fifo)
{
	deque d;
	size_t i;

	ck_assert_int_eq(deque_init(&d, 2), 0);
	for (i = 0; i < 10; i++)
		ck_assert_int_eq(deque_push(&d, ITEM(i)), 0);
	ck_assert_int_eq(deque_size(&d), 10);
	ck_assert_ptr_eq(deque_take(&d), ITEM(9));
	ck_assert_ptr_eq(deque_steal(&d), ITEM(0));
	ck_assert_ptr_eq(deque_steal(&d), ITEM(1));
	ck_assert_ptr_eq(deque_take(&d), ITEM(8));
	ck_assert_int_eq(deque_size(&d), 6);
	for (i = 7; i >= 5; i--)
		ck_assert_ptr_eq(deque_take(&d), ITEM(i));
	for (i = 2; i <= 4; i++)
		ck_assert_ptr_eq(deque_steal(&d), ITEM(i));
	ck_assert_ptr_null(deque_take(&d));
	ck_assert_ptr_null(deque_steal(&d));

	/* Wrap around the buffer many times without growing it. */
	for (i = 0; i < 1000; i++) {
		ck_assert_int_eq(deque_push(&d, ITEM(i)), 0);
		ck_assert_int_eq(deque_push(&d, ITEM(i + 1)), 0);
		ck_assert_ptr_eq(deque_steal(&d), ITEM(i));
		ck_assert_ptr_eq(deque_take(&d), ITEM(i + 1));
	}
	ck_assert_int_eq(deque_size(&d), 0);
	deque_release(&d);
}
END_TEST

/* From two slots to a million items, a steal after every third push: the
 * steals come out oldest first, the takes newest first, and nothing is lost
 * or duplicated across the copies.  (ck_assert records its location on
 * every call, so the loops count mismatches and assert once.) */
START_TEST(test_growth)
{
	size_t n = scaled(1000000), i, next_steal = 0, bad_push = 0, bad_steal = 0;
	size_t bad_take = 0, bad_seen = 0;
	unsigned char *seen = calloc(n, 1);
	deque d;
	void *x;

	ck_assert_ptr_nonnull(seen);
	ck_assert_int_eq(deque_init(&d, 1), 0);
	for (i = 0; i < n; i++) {
		bad_push += deque_push(&d, ITEM(i)) != 0;
		if (i % 3 == 2) {
			x = deque_steal(&d);
			bad_steal += x != ITEM(next_steal);
			seen[next_steal++]++;
		}
	}
	ck_assert_uint_eq(bad_push, 0);
	ck_assert_uint_eq(bad_steal, 0);
	ck_assert_int_eq(deque_size(&d), (int64_t)(n - next_steal));
	for (i = n; i-- > next_steal;) {
		x = deque_take(&d);
		bad_take += x != ITEM(i);
		seen[i]++;
	}
	ck_assert_uint_eq(bad_take, 0);
	ck_assert_ptr_null(deque_take(&d));
	ck_assert_ptr_null(deque_steal(&d));
	for (i = 0; i < n; i++)
		bad_seen += seen[i] != 1;
	ck_assert_uint_eq(bad_seen, 0);
	deque_release(&d);
	free(seen);
}
END_TEST

/* ---- one owner, three thieves ------------------------------------------- */

struct stress {
	deque d;
	size_t n;
	_Atomic unsigned char *seen; /* how often each item was obtained */
	atomic_bool done;            /* the owner drained the deque */
	atomic_int ready;
	atomic_size_t stolen;
};

static void *thief(void *arg)
{
	struct stress *s = arg;
	size_t mine = 0;
	void *x;

	atomic_fetch_add(&s->ready, 1);
	for (;;) {
		x = deque_steal(&s->d);
		if (x == DEQUE_ABORT)
			continue;
		if (!x) {
			/* Only once the owner is done is empty final. */
			if (atomic_load(&s->done))
				break;
			cpu_relax();
			continue;
		}
		atomic_fetch_add_explicit(&s->seen[INDEX(x)], 1, memory_order_relaxed);
		mine++;
	}
	atomic_fetch_add(&s->stolen, mine);
	return NULL;
}

static uint64_t xorshift64(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *state = x;
}

START_TEST(test_stress)
{
	struct stress s = { .n = scaled(1500000) };
	pthread_t th[THIEVES];
	uint64_t rng = 88172645463325252ull, r;
	size_t next = 0, taken = 0, burst, k, i, zero = 0, twice = 0, sum = 0;
	size_t bad_push = 0;
	void *x;

	s.seen = calloc(s.n, 1);
	ck_assert_ptr_nonnull(s.seen);
	/* Start tiny so that growth happens while thieves read the buffer. */
	ck_assert_int_eq(deque_init(&s.d, 1), 0);
	for (i = 0; i < THIEVES; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, thief, &s), 0);
	while (atomic_load(&s.ready) < THIEVES)
		sched_yield();

	while (next < s.n) {
		/* Bursts mostly short, now and then up to 1024, then about as
		 * many takes: the deque often runs down to its last item,
		 * where owner and thieves race for it. */
		r = xorshift64(&rng);
		burst = 1 + (r >> 8) % ((size_t)1 << (r % 11));
		for (k = 0; k < burst && next < s.n; k++, next++)
			bad_push += deque_push(&s.d, ITEM(next)) != 0;
		k = 1 + (xorshift64(&rng) >> 8) % (burst + 1);
		while (k--) {
			x = deque_take(&s.d);
			if (!x)
				break;
			atomic_fetch_add_explicit(&s.seen[INDEX(x)], 1, memory_order_relaxed);
			taken++;
		}
	}
	while ((x = deque_take(&s.d))) {
		atomic_fetch_add_explicit(&s.seen[INDEX(x)], 1, memory_order_relaxed);
		taken++;
	}
	atomic_store(&s.done, true);
	for (i = 0; i < THIEVES; i++)
		ck_assert_int_eq(pthread_join(th[i], NULL), 0);

	ck_assert_uint_eq(bad_push, 0);
	for (i = 0; i < s.n; i++) {
		unsigned char c = atomic_load_explicit(&s.seen[i], memory_order_relaxed);

		sum += c;
		zero += c == 0;
		twice += c > 1;
	}
	ck_assert_msg(zero == 0, "%zu items never obtained", zero);
	ck_assert_msg(twice == 0, "%zu items obtained twice", twice);
	ck_assert_uint_eq(sum, s.n);
	ck_assert_uint_eq(taken + atomic_load(&s.stolen), s.n);
	/* Not a correctness property, but the test means little without. */
	ck_assert_msg(atomic_load(&s.stolen) > 0, "no thief stole anything");
	ck_assert_ptr_null(deque_steal(&s.d));
	deque_release(&s.d);
	free((void *)s.seen);
}
END_TEST

static Suite *deque_suite(void)
{
	Suite *s = suite_create("deque");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_too_big);
	tcase_add_test(tc, test_lifo_fifo);
	tcase_add_test(tc, test_growth);
	tcase_add_test(tc, test_stress);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(deque_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0;
}
