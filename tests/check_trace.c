/* check_trace.c -- Check suite for core/trace.c: the spans made of a
 * run's events -- attempts on the lowest free slot, waits and backoffs on
 * lanes of their own, a backoff that led to no retry dropped, a start
 * taken before its lane's last end never overlapping it -- and, with many
 * executions open at once and several threads, every lane's spans apart
 * and every execution's entry gone at its end. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "task.h"
#include "trace_int.h"

static plan no_plan;

/* The trace's clock starts at 0: events give times from it. */
static trace *new_trace(void)
{
	trace *t = trace_new(&no_plan);

	ck_assert_ptr_nonnull(t);
	t->t0_ns = 0;
	return t;
}

static void event(trace *t, run_event_kind kind, size_t node, size_t item, unsigned attempt,
		  int64_t at, assay_status status, const char *text)
{
	run_result res = { .status = status };
	run_event ev = { .kind = kind,
			 .node = node,
			 .item = item,
			 .attempt = attempt,
			 .at_ns = at,
			 .res = kind == RUN_EVENT_START || kind == RUN_EVENT_WAIT ? NULL : &res,
			 .text = text };

	trace_event(&ev, t);
}

/* Every span, in the order made, into a new array of *n. */
static trace_span *spans(const trace *t, size_t *n)
{
	trace_span *all = malloc((t->n_spans ? t->n_spans : 1) * sizeof *all);
	const trace_block *b;

	ck_assert_ptr_nonnull(all);
	*n = 0;
	for (b = t->first; b; b = b->next) {
		memcpy(all + *n, b->spans, b->n * sizeof *all);
		*n += b->n;
	}
	ck_assert_uint_eq(*n, t->n_spans);
	return all;
}

static int by_lane_then_start(const void *a, const void *b)
{
	const trace_span *x = a, *y = b;

	if ((x->kind == SPAN_RUN) != (y->kind == SPAN_RUN))
		return x->kind == SPAN_RUN ? -1 : 1;
	if (x->lane != y->lane)
		return x->lane < y->lane ? -1 : 1;
	return x->start_ns < y->start_ns ? -1 : x->start_ns > y->start_ns;
}

/* No two spans of one lane overlap; returns how many RUN spans. */
static size_t check_lanes(const trace *t)
{
	size_t n, i, runs = 0;
	trace_span *s = spans(t, &n);

	qsort(s, n, sizeof *s, by_lane_then_start);
	for (i = 0; i < n; i++) {
		runs += s[i].kind == SPAN_RUN;
		ck_assert_int_le(s[i].start_ns, s[i].end_ns);
		if (i && (s[i].kind == SPAN_RUN) == (s[i - 1].kind == SPAN_RUN) &&
		    s[i].lane == s[i - 1].lane)
			ck_assert_msg(s[i].start_ns >= s[i - 1].end_ns,
				      "lane %u: [%lld, %lld] overlaps [%lld, %lld]", s[i].lane,
				      (long long)s[i - 1].start_ns, (long long)s[i - 1].end_ns,
				      (long long)s[i].start_ns, (long long)s[i].end_ns);
	}
	free(s);
	return runs;
}

/* Two slots: the third attempt takes the first slot freed; a failed
 * attempt's backoff spans to its retry, which takes the lowest free slot. */
START_TEST(test_slots_and_backoff)
{
	trace *t = new_trace();
	trace_span *s;
	size_t n;

	event(t, RUN_EVENT_START, 0, SIZE_MAX, 1, 0, 0, NULL);
	event(t, RUN_EVENT_START, 1, SIZE_MAX, 1, 0, 0, NULL);
	event(t, RUN_EVENT_ATTEMPT, 0, SIZE_MAX, 1, 10, ASSAY_OK, NULL);
	event(t, RUN_EVENT_FINAL, 0, SIZE_MAX, 0, 10, ASSAY_OK, NULL);
	event(t, RUN_EVENT_START, 2, 7, 1, 10, 0, NULL);
	event(t, RUN_EVENT_ATTEMPT, 1, SIZE_MAX, 1, 20, ASSAY_CRITICAL, NULL);
	event(t, RUN_EVENT_START, 1, SIZE_MAX, 2, 30, 0, NULL);
	event(t, RUN_EVENT_ATTEMPT, 2, 7, 1, 40, ASSAY_OK, NULL);
	event(t, RUN_EVENT_ITEM, 2, 7, 0, 40, ASSAY_OK, NULL);
	event(t, RUN_EVENT_ATTEMPT, 1, SIZE_MAX, 2, 50, ASSAY_OK, NULL);
	event(t, RUN_EVENT_FINAL, 1, SIZE_MAX, 0, 50, ASSAY_OK, NULL);
	ck_assert(!t->failed);
	ck_assert_uint_eq(t->n_open, 0);
	s = spans(t, &n);
	ck_assert_uint_eq(n, 5);
	/* node 0 on slot 0, 0..10; node 1's first attempt on slot 1. */
	ck_assert(s[0].kind == SPAN_RUN && s[0].node == 0 && s[0].lane == 0 && s[0].end_ns == 10);
	ck_assert(s[1].kind == SPAN_RUN && s[1].node == 1 && s[1].lane == 1 && s[1].attempt == 1 &&
		  s[1].status == ASSAY_CRITICAL);
	/* The backoff: 20..30, before attempt 2, on the first wait lane. */
	ck_assert(s[2].kind == SPAN_BACKOFF && s[2].node == 1 && s[2].start_ns == 20 &&
		  s[2].end_ns == 30 && s[2].lane == 0 && s[2].attempt == 2 &&
		  s[2].status == ASSAY_CRITICAL);
	/* The item took slot 0 at 10, when node 0 left it. */
	ck_assert(s[3].kind == SPAN_RUN && s[3].node == 2 && s[3].item == 7 && s[3].lane == 0 &&
		  s[3].start_ns == 10);
	/* The retry: slot 1, the lowest free at 30. */
	ck_assert(s[4].kind == SPAN_RUN && s[4].node == 1 && s[4].attempt == 2 && s[4].lane == 1);
	ck_assert_uint_eq(t->slots.n, 2);
	ck_assert_uint_eq(t->waits.n, 1);
	free(s);
	trace_free(t);
}
END_TEST

/* A failed attempt not retried (its last, or the run stopped) leaves no
 * backoff, and its wait lane is free again. */
START_TEST(test_backoff_without_retry)
{
	trace *t = new_trace();

	event(t, RUN_EVENT_START, 3, SIZE_MAX, 1, 0, 0, NULL);
	event(t, RUN_EVENT_ATTEMPT, 3, SIZE_MAX, 1, 5, ASSAY_UNKNOWN, NULL);
	event(t, RUN_EVENT_FINAL, 3, SIZE_MAX, 0, 5, ASSAY_UNKNOWN, NULL);
	ck_assert_uint_eq(t->n_spans, 1);
	ck_assert_uint_eq(t->n_open, 0);
	ck_assert_uint_eq(t->waits.busy[0], 0);
	trace_free(t);
}
END_TEST

/* A wait for a resource spans to the start; one that never started (the
 * run stopped) spans to the end, with the final state. */
START_TEST(test_waits)
{
	trace *t = new_trace();
	trace_span *s;
	size_t n;

	event(t, RUN_EVENT_WAIT, 0, SIZE_MAX, 1, 5, 0, "a lane: 1 of 1 held");
	event(t, RUN_EVENT_WAIT, 1, 2, 1, 6, 0, "a lane: 1 of 1 held");
	event(t, RUN_EVENT_START, 0, SIZE_MAX, 1, 20, 0, NULL);
	event(t, RUN_EVENT_ITEM, 1, 2, 0, 30, ASSAY_SKIPPED, NULL);
	event(t, RUN_EVENT_ATTEMPT, 0, SIZE_MAX, 1, 40, ASSAY_OK, NULL);
	event(t, RUN_EVENT_FINAL, 0, SIZE_MAX, 0, 40, ASSAY_OK, NULL);
	ck_assert_uint_eq(t->n_open, 0);
	s = spans(t, &n);
	ck_assert_uint_eq(n, 3);
	ck_assert(s[0].kind == SPAN_WAIT && s[0].node == 0 && s[0].start_ns == 5 &&
		  s[0].end_ns == 20 && s[0].lane == 0 && s[0].status == ASSAY_OK);
	ck_assert_str_eq(t->texts[s[0].text], "a lane: 1 of 1 held");
	ck_assert(s[1].kind == SPAN_WAIT && s[1].node == 1 && s[1].item == 2 && s[1].lane == 1 &&
		  s[1].end_ns == 30 && s[1].status == ASSAY_SKIPPED);
	ck_assert(s[2].kind == SPAN_RUN && s[2].start_ns == 20 && s[2].end_ns == 40);
	free(s);
	trace_free(t);
}
END_TEST

/* A start taken before the last span of the free slot ended (the run
 * dates a successor's start from its predecessor's end) goes to another
 * free slot that ended in time, or waits for that end: never overlaps. */
START_TEST(test_early_start)
{
	trace *t = new_trace();
	trace_span *s;
	size_t n;

	event(t, RUN_EVENT_START, 0, SIZE_MAX, 1, 0, 0, NULL);
	event(t, RUN_EVENT_ATTEMPT, 0, SIZE_MAX, 1, 100, ASSAY_OK, NULL);
	event(t, RUN_EVENT_START, 1, SIZE_MAX, 1, 50, 0, NULL); /* only slot 0, ended at 100 */
	event(t, RUN_EVENT_START, 2, SIZE_MAX, 1, 60, 0, NULL); /* a new slot */
	event(t, RUN_EVENT_ATTEMPT, 2, SIZE_MAX, 1, 70, ASSAY_OK, NULL);
	event(t, RUN_EVENT_ATTEMPT, 1, SIZE_MAX, 1, 200, ASSAY_OK, NULL);
	event(t, RUN_EVENT_START, 3, SIZE_MAX, 1, 80, 0, NULL); /* slot 0 ended at 200, 1 at 70 */
	event(t, RUN_EVENT_ATTEMPT, 3, SIZE_MAX, 1, 300, ASSAY_OK, NULL);
	s = spans(t, &n);
	ck_assert_uint_eq(n, 4);
	ck_assert(s[0].node == 0 && s[0].lane == 0);
	ck_assert(s[1].node == 2 && s[1].lane == 1);
	ck_assert(s[2].node == 1 && s[2].lane == 0 && s[2].start_ns == 100);
	ck_assert(s[3].node == 3 && s[3].lane == 1 && s[3].start_ns == 80);
	check_lanes(t);
	free(s);
	trace_free(t);
}
END_TEST

/* 5,000 executions open at once (the entries' table grows), ending in a
 * shuffled order (entries removed from the middle of probe chains): each
 * is found at its end, and the slots are never more than were busy. */
START_TEST(test_many_open)
{
	enum { N = 5000 };
	trace *t = new_trace();
	size_t *order = malloc(N * sizeof *order), i;
	unsigned seed = 7;

	ck_assert_ptr_nonnull(order);
	for (i = 0; i < N; i++) {
		order[i] = i;
		event(t, RUN_EVENT_START, i % 7, i, 1, (int64_t)i, 0, NULL);
	}
	for (i = N - 1; i > 0; i--) {
		size_t k = (size_t)rand_r(&seed) % (i + 1), tmp = order[i];

		order[i] = order[k];
		order[k] = tmp;
	}
	for (i = 0; i < N; i++) {
		size_t e = order[i];
		bool fails = e % 3 == 0;

		event(t, RUN_EVENT_ATTEMPT, e % 7, e, 1, N + (int64_t)i,
		      fails ? ASSAY_CRITICAL : ASSAY_OK, NULL);
		event(t, RUN_EVENT_ITEM, e % 7, e, 0, N + (int64_t)i,
		      fails ? ASSAY_CRITICAL : ASSAY_OK, NULL);
	}
	ck_assert(!t->failed);
	ck_assert_uint_eq(t->n_open, 0);
	ck_assert_uint_eq(check_lanes(t), N);
	ck_assert_uint_eq(t->n_spans, N);
	ck_assert_uint_eq(t->slots.n, N);
	free(order);
	trace_free(t);
}
END_TEST

/* Threads that each run executions one after another, retrying some:
 * at most one slot busy per thread, so at most that many slots. */
enum { THREADS = 4, PER_THREAD = 3000 };

static void *worker(void *arg)
{
	trace *t = ((void **)arg)[0];
	size_t node = (size_t)(uintptr_t)((void **)arg)[1], k;
	unsigned seed = (unsigned)node;

	for (k = 0; k < PER_THREAD; k++) {
		unsigned attempt = 1;

		if (rand_r(&seed) % 10 == 0)
			event(t, RUN_EVENT_WAIT, node, k, 1, task_now_ns(), 0, "a lane");
		for (;;) {
			bool fails = rand_r(&seed) % 8 == 0 && attempt < 3;

			event(t, RUN_EVENT_START, node, k, attempt, task_now_ns(), 0, NULL);
			event(t, RUN_EVENT_ATTEMPT, node, k, attempt, task_now_ns(),
			      fails ? ASSAY_CRITICAL : ASSAY_OK, NULL);
			if (!fails)
				break;
			attempt++;
		}
		event(t, RUN_EVENT_ITEM, node, k, 0, task_now_ns(), ASSAY_OK, NULL);
	}
	return NULL;
}

START_TEST(test_threads)
{
	trace *t = trace_new(&no_plan);
	void *args[THREADS][2];
	pthread_t th[THREADS];
	size_t i, n, backoffs = 0, retries = 0;
	trace_span *s;

	for (i = 0; i < THREADS; i++) {
		args[i][0] = t;
		args[i][1] = (void *)(uintptr_t)i;
		ck_assert_int_eq(pthread_create(&th[i], NULL, worker, args[i]), 0);
	}
	for (i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	ck_assert(!t->failed);
	ck_assert_uint_eq(t->n_open, 0);
	ck_assert_uint_le(t->slots.n, THREADS);
	ck_assert_uint_ge(check_lanes(t), THREADS * PER_THREAD);
	/* Every backoff leads to the attempt after a failed one. */
	s = spans(t, &n);
	for (i = 0; i < n; i++) {
		backoffs += s[i].kind == SPAN_BACKOFF;
		retries += s[i].kind == SPAN_RUN && s[i].attempt > 1;
	}
	ck_assert_uint_gt(retries, 0);
	ck_assert_uint_eq(backoffs, retries);
	free(s);
	trace_free(t);
}
END_TEST

static Suite *trace_suite(void)
{
	Suite *s = suite_create("trace");
	TCase *tc = tcase_create("trace");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_slots_and_backoff);
	tcase_add_test(tc, test_backoff_without_retry);
	tcase_add_test(tc, test_waits);
	tcase_add_test(tc, test_early_start);
	tcase_add_test(tc, test_many_open);
	tcase_add_test(tc, test_threads);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(trace_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
