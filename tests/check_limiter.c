/* check_limiter.c -- Check suite for core/fifo.h and core/limiter.c: the
 * queue's order, and the limiter's slots handed to waiters in turn. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <check.h>

#include "fifo.h"
#include "limiter.h"

typedef struct waiter {
	int id;
	fifo_link link;
} waiter;

static int id_of(fifo_link *l)
{
	return l ? FIFO_ENTRY(l, waiter, link)->id : -1;
}

START_TEST(test_fifo_order)
{
	waiter w[4] = { { .id = 0 }, { .id = 1 }, { .id = 2 }, { .id = 3 } };
	fifo q;
	fifo_link *l;
	int i;

	fifo_init(&q);
	ck_assert(fifo_empty(&q));
	ck_assert_ptr_null(fifo_pop(&q));
	for (i = 0; i < 3; i++)
		fifo_push(&q, &w[i].link);
	ck_assert_int_eq(id_of(fifo_first(&q)), 0);
	ck_assert_int_eq(id_of(fifo_pop(&q)), 0);
	ck_assert_int_eq(id_of(fifo_pop(&q)), 1);
	/* Pushed after a pop: behind what is left. */
	fifo_push(&q, &w[3].link);
	ck_assert_int_eq(id_of(fifo_pop(&q)), 2);
	ck_assert_int_eq(id_of(fifo_pop(&q)), 3);
	ck_assert(fifo_empty(&q));
	/* Emptied, then reused: the tail went with the last link. */
	fifo_push(&q, &w[1].link);
	fifo_push(&q, &w[0].link);
	l = fifo_take_all(&q);
	ck_assert(fifo_empty(&q));
	ck_assert_int_eq(id_of(l), 1);
	ck_assert_int_eq(id_of(l->next), 0);
	ck_assert_ptr_null(l->next->next);
}
END_TEST

/* Two slots: the third and fourth wait, and each slot given back goes to
 * the one that waited longest, never to the free count while one waits. */
START_TEST(test_limiter_hands_slots_in_order)
{
	waiter w[5] = { { .id = 0 }, { .id = 1 }, { .id = 2 }, { .id = 3 }, { .id = 4 } };
	limiter l;

	limiter_init(&l, 2);
	ck_assert(limiter_enter(&l, &w[0].link));
	ck_assert(limiter_enter(&l, &w[1].link));
	ck_assert(!limiter_enter(&l, &w[2].link));
	ck_assert(!limiter_enter(&l, &w[3].link));
	ck_assert_int_eq(id_of(limiter_leave(&l, NULL)), 2);
	ck_assert(!limiter_enter(&l, &w[4].link));
	ck_assert_int_eq(id_of(limiter_leave(&l, NULL)), 3);
	ck_assert_int_eq(id_of(limiter_leave(&l, NULL)), 4);
	ck_assert_uint_eq(l.avail, 0);
	/* Nobody waits: the slots come back free. */
	ck_assert_ptr_null(limiter_leave(&l, NULL));
	ck_assert_ptr_null(limiter_leave(&l, NULL));
	ck_assert_uint_eq(l.avail, 2);
	limiter_release(&l);
}
END_TEST

/* A stop takes every waiter out, in order, and gives none a slot. */
START_TEST(test_limiter_drain)
{
	waiter w[3] = { { .id = 0 }, { .id = 1 }, { .id = 2 } };
	fifo_link *l;
	limiter lim;

	limiter_init(&lim, 1);
	ck_assert(limiter_enter(&lim, &w[0].link));
	ck_assert(!limiter_enter(&lim, &w[1].link));
	ck_assert(!limiter_enter(&lim, &w[2].link));
	l = limiter_drain(&lim);
	ck_assert_int_eq(id_of(l), 1);
	ck_assert_int_eq(id_of(l->next), 2);
	ck_assert_ptr_null(l->next->next);
	ck_assert_ptr_null(limiter_drain(&lim));
	ck_assert_ptr_null(limiter_leave(&lim, NULL));
	ck_assert_uint_eq(lim.avail, 1);
	limiter_release(&lim);
}
END_TEST

/* A failed limiter_try() is remembered: the next leave that asks keeps
 * the slot for its caller to offer (no waiter gets it, the free count
 * does not grow), once; a try never overtakes a queued waiter. */
START_TEST(test_limiter_try_and_wanted)
{
	waiter w[2] = { { .id = 0 }, { .id = 1 } };
	bool wanted = true;
	limiter l;

	limiter_init(&l, 1);
	ck_assert(limiter_try(&l));
	ck_assert(!limiter_try(&l)); /* full: remembered */
	ck_assert(!limiter_enter(&l, &w[0].link));
	ck_assert_ptr_null(limiter_leave(&l, &wanted));
	ck_assert(wanted);           /* kept: the caller still holds it */
	ck_assert_uint_eq(l.avail, 0);
	wanted = true;
	ck_assert_int_eq(id_of(limiter_leave(&l, &wanted)), 0);
	ck_assert(!wanted);          /* the flag went with the first leave */
	ck_assert(!limiter_try(&l)); /* w[0] holds it */
	ck_assert(!limiter_enter(&l, &w[1].link));
	/* Without asking, a leave hands over as ever; the flag stays. */
	ck_assert_int_eq(id_of(limiter_leave(&l, NULL)), 1);
	ck_assert_ptr_null(limiter_leave(&l, &wanted));
	ck_assert(wanted);
	ck_assert_ptr_null(limiter_leave(&l, &wanted));
	ck_assert(!wanted);
	ck_assert_uint_eq(l.avail, 1);
	ck_assert(limiter_try(&l));
	limiter_release(&l);
}
END_TEST

static Suite *limiter_suite(void)
{
	Suite *s = suite_create("limiter");
	TCase *tc = tcase_create("limiter");

	tcase_add_test(tc, test_fifo_order);
	tcase_add_test(tc, test_limiter_hands_slots_in_order);
	tcase_add_test(tc, test_limiter_drain);
	tcase_add_test(tc, test_limiter_try_and_wanted);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(limiter_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
