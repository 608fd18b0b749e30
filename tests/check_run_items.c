/* check_run_items.c -- Check suite for a validation's items in the run
 * (core/run_items.c): a few executions, each taking the next item when
 * its own is final, bounded by jobs and by the groups' max_parallel;
 * every item run once, retried, stopped, and published. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "diag.h"
#include "graph.h"
#include "reactor.h"
#include "run.h"
#include "run_fixture.h"
#include "session.h"

static void setup(void)
{
	run_fixture_enter("run-items");
}

/* items.txt: n items, "item-0" ... */
static void write_items(size_t n)
{
	FILE *out = fopen("items.txt", "w");
	size_t i;

	ck_assert_ptr_nonnull(out);
	for (i = 0; i < n; i++)
		fprintf(out, "item-%zu\n", i);
	fclose(out);
}

/* Per item, how many ITEM events it had; and the STARTs. */
typedef struct counter {
	pthread_mutex_t lock;
	unsigned *items;
	size_t n, starts, finals;
	bool item_after_final;
} counter;

static void count(const run_event *ev, void *arg)
{
	counter *c = arg;

	pthread_mutex_lock(&c->lock);
	if (ev->kind == RUN_EVENT_ITEM) {
		ck_assert_uint_lt(ev->item, c->n);
		c->items[ev->item]++;
		c->item_after_final |= c->finals > 0;
	} else if (ev->kind == RUN_EVENT_START) {
		c->starts++;
	} else if (ev->kind == RUN_EVENT_FINAL) {
		c->finals++;
	}
	pthread_mutex_unlock(&c->lock);
}

/* Run with jobs, counting v's events into c (v the plan's only node, or
 * c NULL); stopped after stop_ms when not 0. */
typedef struct stopper {
	run *r;
	int ms;
} stopper;

static void *stop_later(void *arg)
{
	stopper *s = arg;
	struct timespec ts = { s->ms / 1000, (long)(s->ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
	run_stop(s->r, "interrupted by SIGINT");
	return NULL;
}

static void go(run_fixture *f, unsigned jobs, counter *c, int stop_ms)
{
	run_options o = { .jobs = jobs, .workers = 2, .verbosity = ASSAY_LOG_ERROR };
	stopper s;
	pthread_t th;

	ck_assert_int_eq(reactor_new(&f->re), 0);
	ck_assert_int_eq(run_new(&f->r, &f->s.p, &f->s.g, &o, f->re), 0);
	if (c)
		ck_assert_int_eq(run_subscribe(f->r, RUN_EVENT_START | RUN_EVENT_ITEM |
					       RUN_EVENT_FINAL, count, c), 0);
	s.r = f->r;
	s.ms = stop_ms;
	if (stop_ms)
		pthread_create(&th, NULL, stop_later, &s);
	ck_assert_int_eq(run_go(f->r), 0);
	if (stop_ms)
		pthread_join(th, NULL);
	f->res = run_results(f->r);
}

static double metric(const run_result *res, const char *name)
{
	size_t i;

	for (i = 0; i < res->n_metrics; i++)
		if (strcmp(res->metrics[i].name, name) == 0)
			return res->metrics[i].value;
	return -1;
}

/* How many lines of probes.log there are, and whether each item of
 * items.txt (n of them) is there exactly once. */
static size_t probes_each_once(size_t n)
{
	FILE *in = fopen("probes.log", "r");
	unsigned *seen = calloc(n, sizeof *seen);
	char line[256];
	size_t lines = 0, k;

	ck_assert_ptr_nonnull(in);
	ck_assert_ptr_nonnull(seen);
	while (fgets(line, sizeof line, in)) {
		ck_assert_int_eq(sscanf(line, "%*s item-%zu", &k), 1);
		ck_assert_uint_lt(k, n);
		seen[k]++;
		lines++;
	}
	fclose(in);
	for (k = 0; k < n; k++)
		ck_assert_msg(seen[k] == 1, "item-%zu ran %u times", k, seen[k]);
	free(seen);
	return lines;
}

#define PROBE "[plugins]\nload = [\"probe\"]\n"
#define V "type = \"probe\"\nlog = \"probes.log\"\nitems = { file = \"items.txt\" }\n"

/* Thousands of items on a few executions: each runs exactly once, each
 * is published once, before the node's FINAL, and the node sums them. */
START_TEST(test_every_item_once)
{
	counter c = { .lock = PTHREAD_MUTEX_INITIALIZER, .n = 3000 };
	run_fixture f;
	size_t i;

	write_items(c.n);
	ck_assert_ptr_nonnull(c.items = calloc(c.n, sizeof *c.items));
	run_fixture_load(&f, PROBE "[validation.v]\n" V);
	go(&f, 8, &c, 0);
	ck_assert_uint_eq(probes_each_once(c.n), c.n);
	for (i = 0; i < c.n; i++) {
		ck_assert_uint_eq(c.items[i], 1);
		ck_assert(f.res[0].items[i].kept && f.res[0].items[i].ran);
		ck_assert_int_eq(f.res[0].items[i].status, ASSAY_OK);
	}
	ck_assert(!c.item_after_final);
	ck_assert_uint_eq(c.starts, c.n);
	ck_assert_int_eq(f.res[0].status, ASSAY_OK);
	ck_assert_str_eq(f.res[0].message, "3000 items OK");
	ck_assert_str_eq(f.res[0].items[2999].message, "status 0 for item-2999");
	run_fixture_free(&f);
	free(c.items);
}
END_TEST

/* A group's max_parallel bounds the items as it bounds nodes, and jobs
 * bounds them with the other nodes. */
START_TEST(test_items_bounded)
{
	run_fixture f;
	size_t i, v, other;
	double peak = 0;

	write_items(40);
	run_fixture_load(&f, PROBE "[validation.g]\nmax_parallel = 3\n"
		       "[validation.g.v]\n" V "sleep = \"2ms\"\n"
		       "[check.other]\ntype = \"probe\"\nsleep = \"20ms\"\n");
	v = f.s.p.nodes[0].kind == ASSAY_KIND_VALIDATION ? 0 : 1;
	other = 1 - v;
	go(&f, 16, NULL, 0);
	for (i = 0; i < 40; i++) {
		double now = metric(&f.res[v].items[i], "concurrent");

		ck_assert_int_eq(f.res[v].items[i].status, ASSAY_OK);
		if (now > peak)
			peak = now;
	}
	/* `concurrent` counts every probe, `other` too. */
	ck_assert(peak >= 1 && peak <= 4);
	ck_assert_int_eq(f.res[other].status, ASSAY_OK);
	ck_assert_uint_eq(probes_each_once(40), 40);
	run_fixture_free(&f);

	write_items(40);
	unlink("probes.log");
	run_fixture_load(&f, PROBE "[validation.v]\n" V "sleep = \"2ms\"\n");
	go(&f, 2, NULL, 0);
	for (i = 0; i < 40; i++)
		ck_assert_int_le((int)metric(&f.res[0].items[i], "concurrent"), 2);
	run_fixture_free(&f);
}
END_TEST

/* Failed items are retried on their execution, which takes the next item
 * only once its own is final. */
START_TEST(test_items_retried)
{
	run_fixture f;
	size_t i, attempts = 0;

	/* The first 3 attempts of any item fail: 5 retries are enough. */
	write_items(20);
	run_fixture_load(&f, PROBE "[validation.v]\n" V "fail_times = 3\nretries = 5\nretry_delay = \"1ms\"\n");
	go(&f, 4, NULL, 0);
	for (i = 0; i < 20; i++) {
		ck_assert_int_eq(f.res[0].items[i].status, ASSAY_OK);
		attempts += f.res[0].items[i].attempts;
	}
	ck_assert_uint_eq(attempts, 20 + 3);
	ck_assert_int_eq(f.res[0].status, ASSAY_OK);
	ck_assert_uint_ge(f.res[0].attempts, 2);
	run_fixture_free(&f);
}
END_TEST

/* A stop cancels the items running and skips every other one, each
 * published and counted. */
START_TEST(test_items_stopped)
{
	counter c = { .lock = PTHREAD_MUTEX_INITIALIZER, .n = 500 };
	size_t i, cancelled = 0, skipped = 0;
	run_fixture f;

	write_items(c.n);
	ck_assert_ptr_nonnull(c.items = calloc(c.n, sizeof *c.items));
	run_fixture_load(&f, PROBE "[validation.v]\n" V "sleep = \"10s\"\n");
	go(&f, 4, &c, 100);
	for (i = 0; i < c.n; i++) {
		const run_result *it = &f.res[0].items[i];

		ck_assert_uint_eq(c.items[i], 1);
		ck_assert(it->kept);
		if (it->status == ASSAY_UNKNOWN) {
			ck_assert_str_eq(it->message, "cancelled");
			cancelled++;
		} else {
			ck_assert_int_eq(it->status, ASSAY_SKIPPED);
			ck_assert_str_eq(it->skip_reason, "interrupted by SIGINT");
			ck_assert_uint_eq(it->attempts, 0);
			skipped++;
		}
	}
	ck_assert_uint_eq(cancelled, 4);
	ck_assert_uint_eq(skipped, c.n - 4);
	ck_assert_uint_eq(c.starts, 4);
	ck_assert_uint_eq(c.finals, 1);
	ck_assert(!c.item_after_final);
	run_fixture_free(&f);
	free(c.items);
}
END_TEST

static Suite *run_items_suite(void)
{
	Suite *s = suite_create("run_items");
	TCase *tc = tcase_create("items");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, run_fixture_leave);
	tcase_add_test(tc, test_every_item_once);
	tcase_add_test(tc, test_items_bounded);
	tcase_add_test(tc, test_items_retried);
	tcase_add_test(tc, test_items_stopped);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(run_items_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
