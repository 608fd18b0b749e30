/* check_run_resume.c -- Check suite for the run's side of --resume
 * (run_options.resume: nodes and validation items reused instead of run,
 * what their successors and sweeps make of them, who is asked) and for
 * RUN_EVENT_CHILD (task_child: each exec attempt's process group, between
 * its START and its ATTEMPT). */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "diag.h"
#include "graph.h"
#include "reactor.h"
#include "run.h"
#include "run_fixture.h"
#include "session.h"
#include "sweep.h"

static void setup(void)
{
	run_fixture_enter("run-resume");
}

static size_t node(const run_fixture *f, const char *id)
{
	size_t i;

	for (i = 0; i < f->s.p.n_nodes; i++)
		if (strcmp(f->s.p.nodes[i].id, id) == 0)
			return i;
	ck_abort_msg("no node %s", id);
	return 0;
}

/* --- an earlier run, as the resume callback offers it -------------------- */

#define MAX_OFFERS 16
#define MAX_ASKS 256

/* What the callback reuses: node `node`, item `item` (SIZE_MAX: the node
 * itself), with `status`; and every question it was asked. */
typedef struct offer {
	size_t node, item;
	assay_status status;
} offer;

typedef struct earlier {
	pthread_mutex_t lock;
	offer offers[MAX_OFFERS];
	size_t n_offers;
	struct { size_t node, item; } asked[MAX_ASKS];
	size_t n_asked;
} earlier;

static const char earlier_id[] = "20261207T225050Z-4f2a";

static void earlier_offer(earlier *e, size_t node, size_t item, assay_status status)
{
	ck_assert_uint_lt(e->n_offers, MAX_OFFERS);
	e->offers[e->n_offers++] = (offer){ node, item, status };
}

/* run_options.resume: the result as the earlier run left it, strings and
 * arrays malloc'd, its times in the past. */
static bool earlier_resume(void *arg, size_t node, size_t item, run_result *out)
{
	earlier *e = arg;
	bool found = false;
	size_t i;

	pthread_mutex_lock(&e->lock);
	ck_assert_uint_lt(e->n_asked, MAX_ASKS);
	e->asked[e->n_asked].node = node;
	e->asked[e->n_asked++].item = item;
	for (i = 0; i < e->n_offers && !found; i++)
		found = e->offers[i].node == node && e->offers[i].item == item;
	pthread_mutex_unlock(&e->lock);
	if (!found)
		return false;
	*out = (run_result){ .status = e->offers[i - 1].status, .attempts = 1, .start = 1000.0,
			     .end = 1000.5, .duration = 0.5, .resumed = true,
			     .resumed_from = earlier_id };
	ck_assert_ptr_nonnull(out->message = strdup("from before"));
	ck_assert_ptr_nonnull(out->metrics = calloc(1, sizeof *out->metrics));
	ck_assert_ptr_nonnull(out->metrics[0].name = strdup("acc"));
	out->metrics[0].value = 0.5 + 0.1 * (double)(node % 4);
	out->n_metrics = 1;
	return true;
}

static size_t earlier_asked(earlier *e, size_t node, size_t item)
{
	size_t i, n = 0;

	for (i = 0; i < e->n_asked; i++)
		n += e->asked[i].node == node && e->asked[i].item == item;
	return n;
}

/* --- what the run publishes ----------------------------------------------- */

typedef struct seen {
	run_event_kind kind;
	size_t node, item;
	unsigned attempt;
	bool resumed;
	pid_t pid;
} seen;

typedef struct recorder {
	pthread_mutex_t lock;
	seen ev[256];
	size_t n;
} recorder;

static void record(const run_event *ev, void *arg)
{
	recorder *rec = arg;

	pthread_mutex_lock(&rec->lock);
	ck_assert_uint_lt(rec->n, 256);
	rec->ev[rec->n++] = (seen){ ev->kind, ev->node, ev->item, ev->attempt,
				     ev->res && ev->res->resumed, ev->pid };
	pthread_mutex_unlock(&rec->lock);
}

static size_t seen_at(const recorder *rec, run_event_kind kind, size_t node, size_t item)
{
	size_t i;

	for (i = 0; i < rec->n; i++)
		if (rec->ev[i].kind == kind && rec->ev[i].node == node && rec->ev[i].item == item)
			return i;
	return SIZE_MAX;
}

static size_t seen_count(const recorder *rec, run_event_kind kind, size_t node)
{
	size_t i, n = 0;

	for (i = 0; i < rec->n; i++)
		n += rec->ev[i].kind == kind && rec->ev[i].node == node;
	return n;
}

/* Run what run_fixture_load() prepared, resuming from e (NULL: nothing), every event
 * into rec (NULL: none), with the trial tracker when `sweeps`. */
static void go(run_fixture *f, earlier *e, recorder *rec, unsigned jobs, bool sweeps)
{
	run_options o = { .jobs = jobs, .workers = 2, .verbosity = ASSAY_LOG_ERROR,
			  .resume = e ? earlier_resume : NULL, .resume_arg = e };

	if (sweeps) {
		ck_assert_ptr_nonnull(f->sw = sweeps_new(&f->s.p));
		sweeps_judge(f->sw, &o);
	}
	ck_assert_int_eq(reactor_new(&f->re), 0);
	ck_assert_int_eq(run_new(&f->r, &f->s.p, &f->s.g, &o, f->re), 0);
	if (sweeps)
		ck_assert_int_eq(sweeps_subscribe(f->sw, f->r), 0);
	if (rec)
		ck_assert_int_eq(run_subscribe(f->r, RUN_EVENT_START | RUN_EVENT_ATTEMPT |
					       RUN_EVENT_ITEM | RUN_EVENT_FINAL | RUN_EVENT_CHILD,
					       record, rec), 0);
	ck_assert_int_eq(run_go(f->r), 0);
	f->res = run_results(f->r);
}

/* How many lines of probes.log (one per probe that ran) start with
 * `id ` and, unless NULL, name `item`. */
static size_t probes_ran(const char *id, const char *item)
{
	FILE *in = fopen("probes.log", "r");
	char line[256], want[128];
	size_t n = 0;

	if (!in)
		return 0;
	snprintf(want, sizeof want, "%s %s\n", id, item ? item : "");
	while (fgets(line, sizeof line, in))
		n += item ? strcmp(line, want) == 0 : strncmp(line, want, strlen(want) - 1) == 0;
	fclose(in);
	return n;
}

#define PROBE "[plugins]\nload = [\"probe\"]\n"
#define LOGGED "type = \"probe\"\nlog = \"probes.log\"\n"

/* A reused check does not run: no START, no ATTEMPT, its FINAL carries
 * the earlier result, marked; its dependent runs after it as after any
 * node that succeeded. */
START_TEST(test_reused_check_does_not_run)
{
	earlier e = { .lock = PTHREAD_MUTEX_INITIALIZER };
	recorder rec = { .lock = PTHREAD_MUTEX_INITIALIZER };
	const run_result *a, *b;
	size_t ia, ib, fin;
	run_fixture f;

	run_fixture_load(&f, PROBE "[check.a]\n" LOGGED "[check.b]\n" LOGGED "after = [\"a\"]\n");
	ia = node(&f, "a");
	ib = node(&f, "b");
	earlier_offer(&e, ia, SIZE_MAX, ASSAY_OK);
	go(&f, &e, &rec, 4, false);
	a = &f.res[ia];
	b = &f.res[ib];
	ck_assert_uint_eq(probes_ran("a", NULL), 0);
	ck_assert_uint_eq(probes_ran("b", NULL), 1);
	ck_assert_int_eq(a->status, ASSAY_OK);
	ck_assert(a->ran && a->kept && a->resumed);
	ck_assert_str_eq(a->resumed_from, earlier_id);
	ck_assert_str_eq(a->message, "from before");
	ck_assert(a->start == 1000.0 && a->end == 1000.5);
	ck_assert_int_eq(b->status, ASSAY_OK);
	ck_assert(b->ran && !b->resumed && b->resumed_from == NULL);
	/* Asked once each, as each became ready. */
	ck_assert_uint_eq(earlier_asked(&e, ia, SIZE_MAX), 1);
	ck_assert_uint_eq(earlier_asked(&e, ib, SIZE_MAX), 1);
	ck_assert_uint_eq(seen_count(&rec, RUN_EVENT_START, ia), 0);
	ck_assert_uint_eq(seen_count(&rec, RUN_EVENT_ATTEMPT, ia), 0);
	ck_assert_uint_eq(seen_count(&rec, RUN_EVENT_FINAL, ia), 1);
	fin = seen_at(&rec, RUN_EVENT_FINAL, ia, SIZE_MAX);
	ck_assert(rec.ev[fin].resumed);
	ck_assert_uint_lt(fin, seen_at(&rec, RUN_EVENT_START, ib, SIZE_MAX));
	ck_assert(!rec.ev[seen_at(&rec, RUN_EVENT_FINAL, ib, SIZE_MAX)].resumed);
	run_fixture_free(&f);
}
END_TEST

/* A reused failure is a failure: its dependents are skipped for it and
 * never asked; `skip` and nodes --only left out are not asked either. */
START_TEST(test_reused_failure_skips_dependents)
{
	earlier e = { .lock = PTHREAD_MUTEX_INITIALIZER };
	const run_result *b;
	size_t ia, ib, is, io;
	bool keep[4];
	run_fixture f;
	run_options o = { .jobs = 4, .workers = 2, .verbosity = ASSAY_LOG_ERROR,
			  .resume = earlier_resume, .resume_arg = &e, .keep = keep };

	run_fixture_load(&f, PROBE "[check.a]\n" LOGGED "[check.b]\n" LOGGED "after = [\"a\"]\n"
		       "[check.s]\n" LOGGED "skip = \"not today\"\n"
		       "[check.out]\n" LOGGED);
	ia = node(&f, "a");
	ib = node(&f, "b");
	is = node(&f, "s");
	io = node(&f, "out");
	keep[ia] = keep[ib] = keep[is] = true;
	keep[io] = false;
	earlier_offer(&e, ia, SIZE_MAX, ASSAY_CRITICAL);
	earlier_offer(&e, ib, SIZE_MAX, ASSAY_OK);
	earlier_offer(&e, is, SIZE_MAX, ASSAY_OK);
	earlier_offer(&e, io, SIZE_MAX, ASSAY_OK);
	ck_assert_int_eq(reactor_new(&f.re), 0);
	ck_assert_int_eq(run_new(&f.r, &f.s.p, &f.s.g, &o, f.re), 0);
	ck_assert_int_eq(run_go(f.r), 0);
	f.res = run_results(f.r);
	ck_assert_int_eq(f.res[ia].status, ASSAY_CRITICAL);
	ck_assert(f.res[ia].resumed);
	b = &f.res[ib];
	ck_assert_int_eq(b->status, ASSAY_SKIPPED);
	ck_assert_int_eq(b->cause, ASSAY_CRITICAL);
	ck_assert_str_eq(b->skip_reason, "dependency `a` is CRITICAL");
	ck_assert(!b->resumed);
	ck_assert_int_eq(f.res[is].status, ASSAY_SKIPPED);
	ck_assert(!f.res[is].resumed);
	ck_assert(!f.res[io].kept);
	ck_assert_uint_eq(earlier_asked(&e, ia, SIZE_MAX), 1);
	ck_assert_uint_eq(earlier_asked(&e, ib, SIZE_MAX), 0);
	ck_assert_uint_eq(earlier_asked(&e, is, SIZE_MAX), 0);
	ck_assert_uint_eq(earlier_asked(&e, io, SIZE_MAX), 0);
	ck_assert_uint_eq(probes_ran("a", NULL) + probes_ran("b", NULL) + probes_ran("s", NULL) +
			  probes_ran("out", NULL), 0);
	ck_assert_int_eq(run_worst(f.res, f.s.p.n_nodes), ASSAY_CRITICAL);
	run_fixture_free(&f);
}
END_TEST

#define ITEMS "[validation.v]\n" LOGGED "items = { list = [\"i0\", \"i1\", \"i2\", \"i3\", \"i4\", \"i5\"] }\n"

/* A validation not reused whole: items 0..2 are reused (final at once,
 * their ITEM marked, no START), 3..5 run; the node sums all six and is
 * not itself resumed. */
START_TEST(test_items_partly_reused)
{
	earlier e = { .lock = PTHREAD_MUTEX_INITIALIZER };
	recorder rec = { .lock = PTHREAD_MUTEX_INITIALIZER };
	char item[8];
	size_t v, i, at;
	run_fixture f;

	run_fixture_load(&f, PROBE ITEMS "fail_items = [\"i1\"]\n" "[check.after]\n" LOGGED "after = [\"v\"]\n");
	v = node(&f, "v");
	earlier_offer(&e, v, 0, ASSAY_OK);
	earlier_offer(&e, v, 1, ASSAY_WARNING);
	earlier_offer(&e, v, 2, ASSAY_OK);
	go(&f, &e, &rec, 2, false);
	ck_assert_uint_eq(earlier_asked(&e, v, SIZE_MAX), 1);
	for (i = 0; i < 6; i++) {
		const run_result *it = &f.res[v].items[i];

		snprintf(item, sizeof item, "i%zu", i);
		ck_assert_uint_eq(earlier_asked(&e, v, i), 1);
		ck_assert_uint_eq(probes_ran("v", item), i < 3 ? 0 : 1);
		ck_assert(it->ran && it->kept);
		ck_assert(it->resumed == (i < 3));
		ck_assert_uint_eq(seen_count(&rec, RUN_EVENT_ITEM, v), 6);
		at = seen_at(&rec, RUN_EVENT_ITEM, v, i);
		ck_assert_uint_ne(at, SIZE_MAX);
		ck_assert(rec.ev[at].resumed == (i < 3));
		ck_assert_uint_eq(seen_at(&rec, RUN_EVENT_START, v, i) == SIZE_MAX, i < 3);
		ck_assert_uint_lt(at, seen_at(&rec, RUN_EVENT_FINAL, v, SIZE_MAX));
	}
	/* i1 was WARNING before (fail_items would make it CRITICAL now: it
	 * did not run). */
	ck_assert_int_eq(f.res[v].items[1].status, ASSAY_WARNING);
	ck_assert_int_eq(f.res[v].status, ASSAY_WARNING);
	ck_assert_str_eq(f.res[v].message, "6 items OK (some with warnings)");
	ck_assert(!f.res[v].resumed && f.res[v].resumed_from == NULL);
	/* Its times are this run's items': a reused one's (1000.0) are
	 * the earlier run's. */
	ck_assert(f.res[v].start > 1000.0 && f.res[v].end >= f.res[v].start);
	for (i = 3; i < 6; i++)
		ck_assert(f.res[v].start <= f.res[v].items[i].start);
	ck_assert_uint_eq(probes_ran("after", NULL), 1);
	run_fixture_free(&f);
}
END_TEST

/* Every item reused: nothing runs, and the node is resumed, from the
 * run its items came from. */
START_TEST(test_items_all_reused)
{
	earlier e = { .lock = PTHREAD_MUTEX_INITIALIZER };
	recorder rec = { .lock = PTHREAD_MUTEX_INITIALIZER };
	size_t v, i;
	run_fixture f;

	run_fixture_load(&f, PROBE ITEMS "[check.after]\n" LOGGED "after = [\"v\"]\n");
	v = node(&f, "v");
	for (i = 0; i < 6; i++)
		earlier_offer(&e, v, i, ASSAY_OK);
	go(&f, &e, &rec, 2, false);
	ck_assert_uint_eq(probes_ran("v", NULL), 0);
	ck_assert_uint_eq(seen_count(&rec, RUN_EVENT_START, v), 0);
	ck_assert_uint_eq(seen_count(&rec, RUN_EVENT_ITEM, v), 6);
	ck_assert_int_eq(f.res[v].status, ASSAY_OK);
	ck_assert_str_eq(f.res[v].message, "6 items OK");
	ck_assert(f.res[v].resumed);
	ck_assert_str_eq(f.res[v].resumed_from, earlier_id);
	ck_assert_uint_eq(probes_ran("after", NULL), 1);
	run_fixture_free(&f);

	/* Reused whole: its items are not asked for. */
	memset(&e, 0, sizeof e);
	pthread_mutex_init(&e.lock, NULL);
	memset(&rec, 0, sizeof rec);
	pthread_mutex_init(&rec.lock, NULL);
	run_fixture_load(&f, PROBE ITEMS);
	earlier_offer(&e, 0, SIZE_MAX, ASSAY_OK);
	go(&f, &e, &rec, 2, false);
	ck_assert_uint_eq(e.n_asked, 1);
	ck_assert_uint_eq(seen_count(&rec, RUN_EVENT_ITEM, 0), 0);
	ck_assert_uint_eq(seen_count(&rec, RUN_EVENT_FINAL, 0), 1);
	ck_assert(f.res[0].resumed);
	ck_assert_uint_eq(probes_ran("v", NULL), 0);
	run_fixture_free(&f);
}
END_TEST

/* Reused items anywhere among the others, with fewer executions than
 * items: each asked once, as an execution comes to it; the others run,
 * each once. */
START_TEST(test_items_reused_here_and_there)
{
	static const size_t reused[] = { 1, 3, 4, 7, 9 };
	earlier e = { .lock = PTHREAD_MUTEX_INITIALIZER };
	char item[8];
	size_t i, k;
	run_fixture f;

	run_fixture_load(&f, PROBE "[validation.v]\n" LOGGED "sleep = \"1ms\"\n"
		       "items = { list = [\"i0\", \"i1\", \"i2\", \"i3\", \"i4\", \"i5\", \"i6\", "
		       "\"i7\", \"i8\", \"i9\"] }\n");
	for (k = 0; k < 5; k++)
		earlier_offer(&e, 0, reused[k], ASSAY_OK);
	go(&f, &e, NULL, 2, false);
	for (i = 0; i < 10; i++) {
		bool was = false;

		for (k = 0; k < 5; k++)
			was |= reused[k] == i;
		snprintf(item, sizeof item, "i%zu", i);
		ck_assert_uint_eq(earlier_asked(&e, 0, i), 1);
		ck_assert_uint_eq(probes_ran("v", item), was ? 0 : 1);
		ck_assert(f.res[0].items[i].resumed == was);
		ck_assert_int_eq(f.res[0].items[i].status, ASSAY_OK);
	}
	ck_assert_str_eq(f.res[0].message, "10 items OK");
	ck_assert(!f.res[0].resumed);
	run_fixture_free(&f);
}
END_TEST

/* Reused trials count in their sweep as trials that ran: with every
 * trial reused the sweep has a best trial (the one with the best
 * objective the earlier run reported), and the node after it runs. */
START_TEST(test_reused_trials_count_in_their_sweep)
{
	earlier e = { .lock = PTHREAD_MUTEX_INITIALIZER };
	size_t i, best;
	run_fixture f;

	run_fixture_load(&f, PROBE "[trial.s]\n" LOGGED "matrix = { x = [1, 2, 3] }\nmax_parallel = 1\n"
		       "objective = { metric = \"acc\", goal = \"max\" }\n"
		       "[check.final]\n" LOGGED "after = [\"s\"]\n");
	for (i = 0; i < 3; i++)
		earlier_offer(&e, f.s.p.sweeps[0].first + i, SIZE_MAX, ASSAY_OK);
	go(&f, &e, NULL, 4, true);
	for (i = 0; i < 3; i++)
		ck_assert_uint_eq(probes_ran(f.s.p.nodes[f.s.p.sweeps[0].first + i].id, NULL), 0);
	best = sweeps_best(f.sw, 0);
	ck_assert_uint_ne(best, PLAN_NONE);
	/* earlier_resume's acc grows with the node's index (mod 4). */
	for (i = 0; i < 3; i++) {
		size_t t = f.s.p.sweeps[0].first + i;

		ck_assert(f.res[t].resumed);
		if (t != best)
			ck_assert(f.res[t].metrics[0].value < f.res[best].metrics[0].value);
	}
	ck_assert_int_eq(f.res[node(&f, "final")].status, ASSAY_OK);
	ck_assert_uint_eq(probes_ran("final", NULL), 1);
	run_fixture_free(&f);
}
END_TEST

/* --- RUN_EVENT_CHILD ---------------------------------------------------- */

/* Every exec attempt (a check's, a retried one's, each item's, a
 * trial's) publishes its process group once, after its START and before
 * its ATTEMPT; a run nobody follows for CHILD hears nothing of it. */
START_TEST(test_child_events_for_exec)
{
	recorder rec = { .lock = PTHREAD_MUTEX_INITIALIZER };
	const char *so = getenv("EXEC_PLUGIN");
	char text[2048];
	size_t i, n_child = 0;
	run_fixture f;

	snprintf(text, sizeof text,
		 "[plugins]\nload = [\"%s\"]\n"
		 "[check.c]\ntype = \"exec\"\ncommand = [\"true\"]\n"
		 "[check.retried]\ntype = \"exec\"\ncommand = [\"false\"]\nretries = 1\n"
		 "retry_delay = \"1ms\"\n"
		 "[validation.v]\ntype = \"exec\"\ncommand = [\"true\", \"{item}\"]\n"
		 "items = { list = [\"a\", \"b\", \"c\"] }\n"
		 "[trial.t]\ntype = \"exec\"\ncommand = [\"true\", \"{x}\"]\nmatrix = { x = [1] }\n",
		 so ? so : "plugins/.libs/exec.so");
	run_fixture_load(&f, text);
	go(&f, NULL, &rec, 4, false);
	for (i = 0; i < rec.n; i++) {
		const seen *ev = &rec.ev[i];
		size_t k, start = SIZE_MAX, attempt = SIZE_MAX, children = 0;

		if (ev->kind != RUN_EVENT_START)
			continue;
		for (k = 0; k < rec.n; k++) {
			const seen *o = &rec.ev[k];

			if (o->node != ev->node || o->item != ev->item || o->attempt != ev->attempt)
				continue;
			if (o->kind == RUN_EVENT_START)
				start = k;
			else if (o->kind == RUN_EVENT_ATTEMPT)
				attempt = k;
			else if (o->kind == RUN_EVENT_CHILD) {
				children++;
				ck_assert_int_gt(o->pid, 1);
				ck_assert_uint_gt(k, start);
				ck_assert_uint_lt(k, attempt);
			}
		}
		ck_assert_uint_ne(attempt, SIZE_MAX);
		ck_assert_uint_eq(children, 1);
		n_child++;
	}
	/* c, two attempts of retried, three items, one trial. */
	ck_assert_uint_eq(n_child, 7);
	ck_assert_uint_eq(seen_count(&rec, RUN_EVENT_CHILD, node(&f, "retried")), 2);
	ck_assert_uint_eq(seen_count(&rec, RUN_EVENT_CHILD, node(&f, "v")), 3);
	run_fixture_free(&f);
}
END_TEST

static Suite *run_resume_suite(void)
{
	Suite *s = suite_create("run_resume");
	TCase *tc = tcase_create("resume");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, run_fixture_leave);
	tcase_add_test(tc, test_reused_check_does_not_run);
	tcase_add_test(tc, test_reused_failure_skips_dependents);
	tcase_add_test(tc, test_items_partly_reused);
	tcase_add_test(tc, test_items_all_reused);
	tcase_add_test(tc, test_items_reused_here_and_there);
	tcase_add_test(tc, test_reused_trials_count_in_their_sweep);
	tcase_add_test(tc, test_child_events_for_exec);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(run_resume_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
