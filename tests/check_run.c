/* check_run.c -- Check suite for core/run.c and core/graph.c: real plans
 * of the test plugin `probe` run on the pool and the reactor, asserting
 * order, skips and their reasons, limits, retries, timeouts, resources,
 * stopping, and the graph's cycles and critical path. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "diag.h"
#include "graph.h"
#include "host.h"
#include "progress.h"
#include "reactor.h"
#include "run.h"
#include "run_fixture.h"
#include "session.h"
#include "sweep.h"
#include "task.h"

typedef run_fixture fixture;

static void setup(void)
{
	run_fixture_enter("run");
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Run what run_fixture_try() prepared. */
static void go(fixture *f, unsigned jobs, unsigned workers, bool fail_fast,
	       const bool *keep)
{
	run_options o = { .jobs = jobs, .workers = workers, .fail_fast = fail_fast, .keep = keep,
			  .verbosity = ASSAY_LOG_ERROR };
	double t0;

	ck_assert_int_eq(reactor_new(&f->re), 0);
	ck_assert_int_eq(run_new(&f->r, &f->s.p, &f->s.g, &o, f->re), 0);
	t0 = now();
	ck_assert_int_eq(run_go(f->r), 0);
	f->wall = now() - t0;
	f->res = run_results(f->r);
}

/* Run it with the trial tracker, as assay run does: pruning, targets,
 * failures, and a sweep judged whole for a node after it.  before(), if
 * set, subscribes too. */
static void go_sweeps(fixture *f, unsigned jobs, unsigned workers,
		      void (*before)(fixture *f))
{
	run_options o = { .jobs = jobs, .workers = workers, .verbosity = ASSAY_LOG_ERROR };

	ck_assert_ptr_nonnull(f->sw = sweeps_new(&f->s.p));
	sweeps_judge(f->sw, &o);
	ck_assert_int_eq(reactor_new(&f->re), 0);
	ck_assert_int_eq(run_new(&f->r, &f->s.p, &f->s.g, &o, f->re), 0);
	ck_assert_int_eq(sweeps_subscribe(f->sw, f->r), 0);
	if (before)
		before(f);
	ck_assert_int_eq(run_go(f->r), 0);
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

static size_t node(const fixture *f, const char *id)
{
	size_t i;

	for (i = 0; i < f->s.p.n_nodes; i++)
		if (strcmp(f->s.p.nodes[i].id, id) == 0)
			return i;
	ck_abort_msg("no node %s", id);
	return 0;
}

#define PROBE "[plugins]\nload = [\"probe\"]\n"

START_TEST(test_chain_and_declaration_order)
{
	fixture f;

	ck_assert_uint_eq(run_fixture_try(&f, PROBE
			       "[check.c]\ntype = \"probe\"\nafter = [\"b\"]\nsleep = \"10ms\"\n"
			       "[check.a]\ntype = \"probe\"\nsleep = \"10ms\"\n"
			       "[check.b]\ntype = \"probe\"\nafter = [\"a\"]\n"), 0);
	go(&f, 8, 2, false, NULL);
	/* Results stay in declaration order; the run followed the edges. */
	ck_assert_str_eq(f.s.p.nodes[0].id, "c");
	ck_assert_int_eq(f.res[0].status, ASSAY_OK);
	ck_assert(metric(&f.res[node(&f, "a")], "seq") < metric(&f.res[node(&f, "b")], "seq"));
	ck_assert(metric(&f.res[node(&f, "b")], "seq") < metric(&f.res[node(&f, "c")], "seq"));
	ck_assert(f.res[node(&f, "b")].start >= f.res[node(&f, "a")].end);
	ck_assert_int_eq(run_worst(f.res, f.s.p.n_nodes), ASSAY_OK);
	run_fixture_free(&f);
}
END_TEST

/* A type with ASSAY_TYPE_QUICK_RUN is started on the reactor thread when
 * its predecessor completed there; any other goes to the pool. */
START_TEST(test_quick_run_on_reactor)
{
	fixture f;

	ck_assert_uint_eq(run_fixture_try(&f, PROBE
			       "[check.a]\ntype = \"probe_quick\"\nsleep = \"10ms\"\n"
			       "[check.b]\ntype = \"probe_quick\"\nsleep = \"10ms\"\nafter = [\"a\"]\n"
			       "[check.c]\ntype = \"probe_quick\"\nafter = [\"b\"]\n"
			       "[check.p]\ntype = \"probe\"\nsleep = \"10ms\"\n"
			       "[check.q]\ntype = \"probe\"\nafter = [\"p\"]\n"), 0);
	go(&f, 8, 2, false, NULL);
	ck_assert_int_eq(run_worst(f.res, f.s.p.n_nodes), ASSAY_OK);
	ck_assert(metric(&f.res[node(&f, "a")], "on_reactor") == 0); /* a root: the pool's */
	ck_assert(metric(&f.res[node(&f, "b")], "on_reactor") == 1);
	ck_assert(metric(&f.res[node(&f, "c")], "on_reactor") == 1);
	ck_assert(metric(&f.res[node(&f, "q")], "on_reactor") == 0);
	ck_assert(f.res[node(&f, "b")].start >= f.res[node(&f, "a")].end);
	ck_assert(f.res[node(&f, "c")].start >= f.res[node(&f, "b")].end);
	run_fixture_free(&f);
}
END_TEST

START_TEST(test_run_if_and_skip_reasons)
{
	fixture f;
	size_t s;

	ck_assert_uint_eq(run_fixture_try(&f, PROBE
			       "[check.bad]\ntype = \"probe\"\nstatus = 2\n"
			       "[check.warn]\ntype = \"probe\"\nstatus = 1\n"
			       "[check.on_success]\ntype = \"probe\"\nafter = [\"bad\"]\n"
			       "[check.chained]\ntype = \"probe\"\nafter = [\"on_success\"]\n"
			       "[check.on_failure]\ntype = \"probe\"\nafter = [\"bad\"]\nrun_if = \"failure\"\n"
			       "[check.always]\ntype = \"probe\"\nafter = [\"bad\"]\nrun_if = \"always\"\n"
			       "[check.after_warn]\ntype = \"probe\"\nafter = [\"warn\"]\n"
			       "[check.no_failure]\ntype = \"probe\"\nafter = [\"warn\"]\nrun_if = \"failure\"\n"), 0);
	go(&f, 4, 2, false, NULL);
	s = node(&f, "on_success");
	ck_assert_int_eq(f.res[s].status, ASSAY_SKIPPED);
	ck_assert_str_eq(f.res[s].skip_reason, "dependency `bad` is CRITICAL");
	ck_assert_int_eq(f.res[s].cause, ASSAY_CRITICAL);
	s = node(&f, "chained");
	ck_assert_int_eq(f.res[s].status, ASSAY_SKIPPED);
	ck_assert_str_eq(f.res[s].skip_reason, "dependency `on_success` was skipped");
	ck_assert_int_eq(f.res[s].cause, ASSAY_CRITICAL);
	ck_assert_int_eq(f.res[node(&f, "on_failure")].status, ASSAY_OK);
	ck_assert_int_eq(f.res[node(&f, "always")].status, ASSAY_OK);
	/* WARNING counts as success for run_if. */
	ck_assert_int_eq(f.res[node(&f, "after_warn")].status, ASSAY_OK);
	s = node(&f, "no_failure");
	ck_assert_int_eq(f.res[s].status, ASSAY_SKIPPED);
	ck_assert_int_eq(f.res[s].cause, ASSAY_OK);
	ck_assert_int_eq(run_worst(f.res, f.s.p.n_nodes), ASSAY_CRITICAL);
	run_fixture_free(&f);
}
END_TEST

START_TEST(test_failed_gate_skips_everything)
{
	fixture f;
	size_t i;

	ck_assert_uint_eq(run_fixture_try(&f, PROBE
			       "[check.billing]\ntype = \"probe\"\ngate = true\nstatus = 3\n"
			       "[check.a]\ntype = \"probe\"\n"
			       "[check.b]\ntype = \"probe\"\nrun_if = \"always\"\n"
			       "[trial.t]\ntype = \"probe\"\nmatrix = { x = [1, 2] }\n"), 0);
	go(&f, 4, 2, false, NULL);
	for (i = 1; i < f.s.p.n_nodes; i++) {
		ck_assert_int_eq(f.res[i].status, ASSAY_SKIPPED);
		ck_assert_str_eq(f.res[i].skip_reason, "gate `billing` is UNKNOWN");
	}
	ck_assert_int_eq(run_worst(f.res, f.s.p.n_nodes), ASSAY_UNKNOWN);
	run_fixture_free(&f);
}
END_TEST

/* A gate passes on OK alone, unless it says `gate = "warning"`. */
START_TEST(test_warning_gate)
{
	fixture f;
	size_t i;

	ck_assert_uint_eq(run_fixture_try(&f, PROBE
			       "[check.billing]\ntype = \"probe\"\ngate = true\nstatus = 1\n"
			       "[check.a]\ntype = \"probe\"\n"
			       "[check.b]\ntype = \"probe\"\nrun_if = \"failure\"\n"), 0);
	go(&f, 4, 2, false, NULL);
	ck_assert_int_eq(f.res[0].status, ASSAY_WARNING);
	for (i = 1; i < f.s.p.n_nodes; i++) {
		ck_assert_int_eq(f.res[i].status, ASSAY_SKIPPED);
		ck_assert_str_eq(f.res[i].skip_reason, "gate `billing` is WARNING");
		ck_assert_int_eq(f.res[i].cause, ASSAY_WARNING);
	}
	ck_assert_int_eq(run_worst(f.res, f.s.p.n_nodes), ASSAY_WARNING);
	run_fixture_free(&f);

	ck_assert_uint_eq(run_fixture_try(&f, PROBE
			       "[check.billing]\ntype = \"probe\"\ngate = \"warning\"\nstatus = 1\n"
			       "[check.strict]\ntype = \"probe\"\ngate = \"ok\"\nstatus = 0\n"
			       "[check.a]\ntype = \"probe\"\n"), 0);
	go(&f, 4, 2, false, NULL);
	ck_assert_int_eq(f.res[node(&f, "a")].status, ASSAY_OK);
	ck_assert_int_eq(run_worst(f.res, f.s.p.n_nodes), ASSAY_WARNING);
	run_fixture_free(&f);

	/* "warning" lets WARNING through, not a failure */
	ck_assert_uint_eq(run_fixture_try(&f, PROBE
			       "[check.billing]\ntype = \"probe\"\ngate = \"warning\"\nstatus = 2\n"
			       "[check.a]\ntype = \"probe\"\n"), 0);
	go(&f, 4, 2, false, NULL);
	ck_assert_int_eq(f.res[1].status, ASSAY_SKIPPED);
	ck_assert_str_eq(f.res[1].skip_reason, "gate `billing` is CRITICAL");
	run_fixture_free(&f);
}
END_TEST

/* `skip = "reason"`: never run, SKIPPED with the reason and no failure;
 * what needs its success is skipped in turn, naming it. */
START_TEST(test_skip_option)
{
	fixture f;
	size_t s;

	ck_assert_uint_eq(run_fixture_try(&f, PROBE
			       "[check.gpu]\ntype = \"probe\"\nstatus = 2\nskip = \"no GPU on this host\"\n"
			       "[check.smoke]\ntype = \"probe\"\nafter = [\"gpu\"]\n"
			       "[check.chained]\ntype = \"probe\"\nafter = [\"smoke\"]\n"
			       "[check.always]\ntype = \"probe\"\nafter = [\"gpu\"]\nrun_if = \"always\"\n"
			       "[check.on_failure]\ntype = \"probe\"\nafter = [\"gpu\"]\nrun_if = \"failure\"\n"
			       "[check.bad]\ntype = \"probe\"\nstatus = 2\n"
			       "[check.late]\ntype = \"probe\"\nafter = [\"bad\"]\nskip = \"disabled\"\n"
			       "[trial.t]\ntype = \"probe\"\nmatrix = { x = [1, 2] }\nskip = \"later\"\n"), 0);
	go(&f, 4, 2, false, NULL);
	s = node(&f, "gpu");
	ck_assert_int_eq(f.res[s].status, ASSAY_SKIPPED);
	ck_assert_str_eq(f.res[s].skip_reason, "no GPU on this host");
	ck_assert_int_eq(f.res[s].cause, ASSAY_OK);
	ck_assert(!f.res[s].ran);
	ck_assert_uint_eq(f.res[s].attempts, 0);
	ck_assert(metric(&f.res[s], "seq") < 0); /* the probe never ran */
	s = node(&f, "smoke");
	ck_assert_int_eq(f.res[s].status, ASSAY_SKIPPED);
	ck_assert_str_eq(f.res[s].skip_reason, "dependency `gpu` was skipped: no GPU on this host");
	ck_assert_int_eq(f.res[s].cause, ASSAY_OK);
	s = node(&f, "chained");
	ck_assert_int_eq(f.res[s].status, ASSAY_SKIPPED);
	ck_assert_str_eq(f.res[s].skip_reason, "dependency `smoke` was skipped");
	ck_assert_int_eq(f.res[node(&f, "always")].status, ASSAY_OK);
	s = node(&f, "on_failure");
	ck_assert_int_eq(f.res[s].status, ASSAY_SKIPPED);
	ck_assert_str_eq(f.res[s].skip_reason, "run_if = \"failure\", and no dependency failed");
	/* its own reason, whatever its dependencies did */
	s = node(&f, "late");
	ck_assert_int_eq(f.res[s].status, ASSAY_SKIPPED);
	ck_assert_str_eq(f.res[s].skip_reason, "disabled");
	ck_assert_int_eq(f.res[s].cause, ASSAY_OK);
	ck_assert_str_eq(f.res[node(&f, "t[x=1]")].skip_reason, "later");
	ck_assert_str_eq(f.res[node(&f, "t[x=2]")].skip_reason, "later");
	/* skipping is no failure: the worst is `bad` */
	ck_assert_int_eq(run_worst(f.res, f.s.p.n_nodes), ASSAY_CRITICAL);
	run_fixture_free(&f);

	/* A skipped gate passes nothing; the run is not failed for it. */
	ck_assert_uint_eq(run_fixture_try(&f, PROBE
			       "[check.billing]\ntype = \"probe\"\ngate = true\nskip = \"billing API down\"\n"
			       "[check.a]\ntype = \"probe\"\n"), 0);
	go(&f, 4, 2, false, NULL);
	ck_assert_int_eq(f.res[1].status, ASSAY_SKIPPED);
	ck_assert_str_eq(f.res[1].skip_reason, "gate `billing` was skipped: billing API down");
	ck_assert_int_eq(run_worst(f.res, f.s.p.n_nodes), ASSAY_OK);
	run_fixture_free(&f);
}
END_TEST

/* run_if = "success" means every dependency succeeded: one skipped
 * because nothing failed did not. */
START_TEST(test_skipped_dependency_is_no_success)
{
	fixture f;
	size_t s;

	ck_assert_uint_eq(run_fixture_try(&f, PROBE
			       "[check.deploy]\ntype = \"probe\"\n"
			       "[check.rollback]\ntype = \"probe\"\nafter = [\"deploy\"]\nrun_if = \"failure\"\n"
			       "[check.after_rollback]\ntype = \"probe\"\nafter = [\"rollback\"]\n"
			       "[check.report]\ntype = \"probe\"\nafter = [\"rollback\"]\nrun_if = \"always\"\n"), 0);
	go(&f, 4, 2, false, NULL);
	s = node(&f, "after_rollback");
	ck_assert_int_eq(f.res[s].status, ASSAY_SKIPPED);
	ck_assert_str_eq(f.res[s].skip_reason, "dependency `rollback` was skipped");
	ck_assert_int_eq(f.res[s].cause, ASSAY_OK);
	ck_assert_int_eq(f.res[node(&f, "report")].status, ASSAY_OK);
	ck_assert_int_eq(run_worst(f.res, f.s.p.n_nodes), ASSAY_OK);
	run_fixture_free(&f);
}
END_TEST

static double max_metric(const fixture *f, const char *name)
{
	double m = 0;
	size_t i;

	for (i = 0; i < f->s.p.n_nodes; i++)
		if (metric(&f->res[i], name) > m)
			m = metric(&f->res[i], name);
	return m;
}

START_TEST(test_jobs_limit)
{
	char text[8192] = PROBE;
	fixture f;
	int i;

	for (i = 0; i < 24; i++)
		snprintf(text + strlen(text), sizeof text - strlen(text),
			 "[check.n%d]\ntype = \"probe\"\nsleep = \"20ms\"\n", i);
	ck_assert_uint_eq(run_fixture_try(&f, text), 0);
	go(&f, 3, 2, false, NULL);
	/* Waiting nodes hold no thread: 3 run at once on 2 workers. */
	ck_assert_int_eq((int)max_metric(&f, "concurrent"), 3);
	ck_assert(f.wall >= 8 * 0.020);
	run_fixture_free(&f);
}
END_TEST

START_TEST(test_max_parallel_of_a_matrix)
{
	fixture f;
	size_t i;

	ck_assert_uint_eq(run_fixture_try(&f, PROBE
			       "[trial.sweep]\ntype = \"probe\"\nsleep = \"20ms\"\nmax_parallel = 2\n"
			       "matrix = { a = [1, 2, 3], b = [\"x\", \"y\"] }\n"), 0);
	go(&f, 64, 2, false, NULL);
	ck_assert_uint_eq(f.s.p.n_nodes, 6);
	for (i = 0; i < 6; i++)
		ck_assert_int_eq(f.res[i].status, ASSAY_OK);
	ck_assert_int_eq((int)max_metric(&f, "concurrent"), 2);
	run_fixture_free(&f);
}
END_TEST

START_TEST(test_retries)
{
	fixture f;
	size_t s;

	ck_assert_uint_eq(run_fixture_try(&f, PROBE
			       "[check.flaky]\ntype = \"probe\"\nfail_times = 2\nretries = 3\nretry_delay = \"5ms\"\n"
			       "[check.broken]\ntype = \"probe\"\nfail_times = 5\nretries = 1\nretry_delay = \"5ms\"\n"
			       "[check.permanent]\ntype = \"probe\"\nfail_times = 5\nretries = 3\npermanent = true\n"), 0);
	go(&f, 4, 2, false, NULL);
	s = node(&f, "flaky");
	ck_assert_int_eq(f.res[s].status, ASSAY_OK);
	ck_assert_uint_eq(f.res[s].attempts, 3);
	s = node(&f, "broken");
	ck_assert_int_eq(f.res[s].status, ASSAY_CRITICAL);
	ck_assert_uint_eq(f.res[s].attempts, 2);
	ck_assert_str_eq(f.res[s].message, "failing on purpose (attempt 2)");
	/* The plugin said retrying cannot help. */
	s = node(&f, "permanent");
	ck_assert_int_eq(f.res[s].status, ASSAY_CRITICAL);
	ck_assert_uint_eq(f.res[s].attempts, 1);
	run_fixture_free(&f);
}
END_TEST

START_TEST(test_timeout)
{
	fixture f;
	size_t s;

	ck_assert_uint_eq(run_fixture_try(&f, PROBE
			       "[check.slow]\ntype = \"probe\"\nsleep = \"10s\"\ntimeout = \"50ms\"\n"
			       "[check.next]\ntype = \"probe\"\nafter = [\"slow\"]\n"), 0);
	go(&f, 4, 2, false, NULL);
	s = node(&f, "slow");
	ck_assert_int_eq(f.res[s].status, ASSAY_CRITICAL);
	ck_assert_str_eq(f.res[s].message, "timed out");
	ck_assert(f.res[s].duration >= 0.05 && f.res[s].duration < 2);
	ck_assert_int_eq(f.res[node(&f, "next")].status, ASSAY_SKIPPED);
	ck_assert(f.wall < 2);
	run_fixture_free(&f);
}
END_TEST

START_TEST(test_fail_fast)
{
	fixture f;
	size_t s;

	/* bad fails once long has surely started. */
	ck_assert_uint_eq(run_fixture_try(&f, PROBE
			       "[check.pre]\ntype = \"probe\"\nsleep = \"100ms\"\n"
			       "[check.bad]\ntype = \"probe\"\nstatus = 2\nafter = [\"pre\"]\n"
			       "[check.long]\ntype = \"probe\"\nsleep = \"10s\"\n"
			       "[check.later]\ntype = \"probe\"\nafter = [\"long\"]\n"), 0);
	go(&f, 4, 2, true, NULL);
	ck_assert(f.wall < 2);
	s = node(&f, "long");
	ck_assert_int_eq(f.res[s].status, ASSAY_UNKNOWN);
	ck_assert_str_eq(f.res[s].message, "cancelled");
	s = node(&f, "later");
	ck_assert_int_eq(f.res[s].status, ASSAY_SKIPPED);
	ck_assert_str_eq(f.res[s].skip_reason, "fail_fast: `bad` is CRITICAL");
	ck_assert_int_eq(f.res[s].cause, ASSAY_CRITICAL);
	run_fixture_free(&f);
}
END_TEST

START_TEST(test_resources_fifo)
{
	fixture f;
	size_t i, j;

	ck_assert_uint_eq(run_fixture_try(&f, PROBE "[plugins.probe]\nslots = 1\n"
			       "[check.a]\ntype = \"probe\"\nsleep = \"10ms\"\nresources = { slot = 1 }\n"
			       "[check.b]\ntype = \"probe\"\nsleep = \"10ms\"\nresources = { slot = 1 }\n"
			       "[check.c]\ntype = \"probe\"\nsleep = \"10ms\"\nresources = { slot = 1 }\n"
			       "[check.d]\ntype = \"probe\"\nsleep = \"10ms\"\nresources = { slot = 1 }\n"
			       "[check.free]\ntype = \"probe\"\nsleep = \"10ms\"\n"), 0);
	go(&f, 64, 2, false, NULL);
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(f.res[i].status, ASSAY_OK);
	/* One slot: no two of the four overlapped. */
	for (i = 0; i < 4; i++)
		for (j = 0; j < 4; j++)
			ck_assert(i == j || f.res[i].start >= f.res[j].end ||
				  f.res[j].start >= f.res[i].end);
	run_fixture_free(&f);
}
END_TEST

typedef struct stopper {
	run *r;
	int ms;
} stopper;

static void *stop_later(void *arg)
{
	stopper *s = arg;

	usleep((useconds_t)s->ms * 1000);
	run_stop(s->r, "interrupted by SIGINT");
	return NULL;
}

/* Run f's plan with o, stopped ms after it starts as SIGINT would; the
 * seconds run_go() took.  f->res holds the results. */
static double run_stopped_after(fixture *f, const run_options *o, int ms)
{
	stopper s;
	pthread_t th;
	double t0, took;

	ck_assert_int_eq(reactor_new(&f->re), 0);
	ck_assert_int_eq(run_new(&f->r, &f->s.p, &f->s.g, o, f->re), 0);
	s.r = f->r;
	s.ms = ms;
	pthread_create(&th, NULL, stop_later, &s);
	t0 = now();
	ck_assert_int_eq(run_go(f->r), 0);
	took = now() - t0;
	pthread_join(th, NULL);
	f->res = run_results(f->r);
	return took;
}

START_TEST(test_stop)
{
	run_options o = { .jobs = 1, .workers = 2, .verbosity = ASSAY_LOG_ERROR };
	fixture f;
	double start, end;
	bool stopped;

	ck_assert_uint_eq(run_fixture_try(&f, PROBE
			       "[check.a]\ntype = \"probe\"\nsleep = \"10s\"\n"
			       "[check.b]\ntype = \"probe\"\nsleep = \"10s\"\n"
			       "[check.c]\ntype = \"probe\"\nafter = [\"a\"]\n"), 0);
	ck_assert(run_stopped_after(&f, &o, 100) < 2);
	/* One of a and b got the only slot (jobs = 1) and was cancelled; the
	 * other waited for it and never ran. */
	{
		size_t ran = f.res[0].status == ASSAY_UNKNOWN ? 0 : 1;

		ck_assert_int_eq(f.res[ran].status, ASSAY_UNKNOWN);
		ck_assert_str_eq(f.res[ran].message, "cancelled");
		ck_assert_int_eq(f.res[1 - ran].status, ASSAY_SKIPPED);
		ck_assert_str_eq(f.res[1 - ran].skip_reason, "interrupted by SIGINT");
	}
	ck_assert_int_eq(f.res[2].status, ASSAY_SKIPPED);
	run_times(f.r, &start, &end, &stopped);
	ck_assert(stopped);
	run_fixture_free(&f);
}
END_TEST

/* A stop reaches what waits for a group's slot or a resource, not only
 * what runs: the holders are cancelled, the waiters never start. */
START_TEST(test_stop_while_waiting)
{
	run_options o = { .jobs = 64, .workers = 2, .verbosity = ASSAY_LOG_ERROR };
	const char *waiting[] = { "g.d", "held2" }, *holding[] = { "g.c", "held1" };
	fixture f;
	size_t i, k;

	ck_assert_uint_eq(run_fixture_try(&f, PROBE "[plugins.probe]\nslots = 1\n"
			       "[check.g]\nmax_parallel = 1\n"
			       "[check.g.c]\ntype = \"probe\"\nsleep = \"10s\"\n"
			       "[check.g.d]\ntype = \"probe\"\nsleep = \"10s\"\n"
			       "[check.held1]\ntype = \"probe\"\nsleep = \"10s\"\nresources = { slot = 1 }\n"
			       "[check.held2]\ntype = \"probe\"\nsleep = \"10s\"\nresources = { slot = 1 }\n"), 0);
	ck_assert(run_stopped_after(&f, &o, 100) < 2);
	/* Which of each pair got the slot is the scheduler's choice. */
	for (i = 0; i < 2; i++) {
		size_t a = node(&f, holding[i]), b = node(&f, waiting[i]);

		if (f.res[a].status == ASSAY_SKIPPED) {
			k = a;
			a = b;
			b = k;
		}
		ck_assert_int_eq(f.res[a].status, ASSAY_UNKNOWN);
		ck_assert_str_eq(f.res[a].message, "cancelled");
		ck_assert_int_eq(f.res[b].status, ASSAY_SKIPPED);
		ck_assert_str_eq(f.res[b].skip_reason, "interrupted by SIGINT");
		ck_assert_uint_eq(f.res[b].attempts, 0);
	}
	run_fixture_free(&f);
}
END_TEST

START_TEST(test_stop_during_backoff)
{
	run_options o = { .jobs = 4, .workers = 2, .verbosity = ASSAY_LOG_ERROR };
	fixture f;

	ck_assert_uint_eq(run_fixture_try(&f, PROBE
			       "[check.flaky]\ntype = \"probe\"\nfail_times = 9\nretries = 5\nretry_delay = \"20s\"\n"), 0);
	/* The backoff timer did not hold the run: the last failure stands.
	 * Full jitter draws the delay below 20 s, so about one run in a
	 * hundred retries once before the stop at 200 ms. */
	ck_assert(run_stopped_after(&f, &o, 200) < 2);
	ck_assert_int_eq(f.res[0].status, ASSAY_CRITICAL);
	ck_assert_uint_ge(f.res[0].attempts, 1);
	ck_assert_uint_le(f.res[0].attempts, 2);
	run_fixture_free(&f);
}
END_TEST

START_TEST(test_only_closure)
{
	fixture f;
	bool keep[4] = { false, false, true, false };

	ck_assert_uint_eq(run_fixture_try(&f, PROBE
			       "[check.g]\ntype = \"probe\"\ngate = true\n"
			       "[check.a]\ntype = \"probe\"\n"
			       "[check.b]\ntype = \"probe\"\nafter = [\"a\"]\n"
			       "[check.other]\ntype = \"probe\"\n"), 0);
	graph_closure(&f.s.g, keep);
	ck_assert(keep[0] && keep[1] && keep[2] && !keep[3]);
	go(&f, 4, 2, false, keep);
	ck_assert(f.res[2].ran && f.res[0].ran && f.res[1].ran);
	ck_assert(!f.res[3].ran && !f.res[3].kept);
	run_fixture_free(&f);
}
END_TEST

START_TEST(test_validation_items)
{
	fixture f;

	ck_assert_uint_eq(run_fixture_try(&f, PROBE
			       "[validation.v]\ntype = \"probe\"\nsleep = \"5ms\"\nfail_items = [\"c\"]\n"
			       "items = { list = [\"a\", \"b\", \"c\", \"d\", \"e\"] }\n"), 0);
	go(&f, 2, 2, false, NULL);
	ck_assert_int_eq(f.res[0].status, ASSAY_CRITICAL);
	ck_assert_uint_eq(f.res[0].n_items, 5);
	ck_assert_int_eq(f.res[0].items[2].status, ASSAY_CRITICAL);
	ck_assert_int_eq(f.res[0].items[4].status, ASSAY_OK);
	ck_assert_str_eq(f.res[0].items[4].message, "status 0 for e");
	ck_assert_str_eq(f.res[0].message, "1 of 5 items failed; first: c: failing on purpose (attempt 1)");
	/* Items are executions: jobs = 2 holds them to two at a time. */
	ck_assert_int_le((int)metric(&f.res[0].items[3], "concurrent"), 2);
	run_fixture_free(&f);
}
END_TEST

/* A chain far deeper than any stack: every node ready in turn, then the
 * same chain skipped from its first node. */
START_TEST(test_long_chains)
{
	size_t n = 20000, i, len = 0, cap = n * 64;
	char *text = malloc(cap);
	fixture f;

	len += (size_t)snprintf(text, cap, PROBE "[check.n0]\ntype = \"probe\"\nstatus = %d\n", 2 * _i);
	for (i = 1; i < n; i++)
		len += (size_t)snprintf(text + len, cap - len,
					"[check.n%zu]\ntype = \"probe\"\nafter = \"n%zu\"\n", i, i - 1);
	ck_assert_uint_eq(run_fixture_try(&f, text), 0);
	go(&f, 64, 2, false, NULL);
	ck_assert_int_eq(f.res[n - 1].status, _i == 0 ? ASSAY_OK : ASSAY_SKIPPED);
	run_fixture_free(&f);
	free(text);
}
END_TEST

START_TEST(test_cycle_is_reported_as_a_path)
{
	fixture f;

	ck_assert_uint_eq(run_fixture_try(&f, PROBE
			       "[check.a]\ntype = \"probe\"\nafter = [\"c\"]\n"
			       "[check.b]\ntype = \"probe\"\nafter = [\"a\"]\n"
			       "[check.c]\ntype = \"probe\"\nafter = [\"b\"]\n"
			       "[check.d]\ntype = \"probe\"\n"), 1);
	ck_assert_msg(strstr(f.s.d.lines[0], "dependency cycle: ") &&
		      (strstr(f.s.d.lines[0], "a -> b -> c -> a") || strstr(f.s.d.lines[0], "b -> c -> a -> b") ||
		       strstr(f.s.d.lines[0], "c -> a -> b -> c")), "%s", f.s.d.lines[0]);
	session_release(&f.s);
}
END_TEST

/* A cycle through many long names: the path keeps whole names at both
 * ends, counts the ones between, and is one error. */
START_TEST(test_long_cycle_names_are_whole)
{
	size_t n = 60, i, len = 0, cap = n * 160, names = 0;
	char *text = malloc(cap), *path, *tok, *save = NULL, first[64] = "", last[64] = "";
	fixture f;

	len += (size_t)snprintf(text, cap, PROBE);
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(text + len, cap - len,
					"[check.node_with_a_rather_long_name_%03zu]\ntype = \"probe\"\n"
					"after = [\"node_with_a_rather_long_name_%03zu\"]\n", i, (i + 1) % n);
	ck_assert_uint_eq(run_fixture_try(&f, text), 1);
	ck_assert_msg(strstr(f.s.d.lines[0], "dependency cycle: ") && strstr(f.s.d.lines[0], " more) -> ") &&
		      strstr(f.s.d.lines[0], " (each waits for the one before it, through `after` or a gate)") &&
		      strlen(f.s.d.lines[0]) < 600, "%s", f.s.d.lines[0]);
	path = strdup(strstr(f.s.d.lines[0], "cycle: ") + 7);
	*strstr(path, " (each waits") = '\0';
	for (tok = strtok_r(path, ">", &save); tok; tok = strtok_r(NULL, ">", &save)) {
		tok += *tok == ' '; /* "name -", " name -", " ... (N more) -" */
		if (tok[0] == '.') {
			ck_assert_msg(strncmp(tok, "... (", 5) == 0, "%s", tok);
			continue;
		}
		tok[strcspn(tok, " ")] = '\0';
		ck_assert_msg(strlen(tok) == 32 && strncmp(tok, "node_with_a_rather_long_name_", 29) == 0,
			      "cut name `%s` in %s", tok, f.s.d.lines[0]);
		snprintf(names++ ? last : first, sizeof first, "%s", tok);
	}
	ck_assert_uint_ge(names, 4);
	ck_assert_str_eq(first, last);
	free(path);
	session_release(&f.s);
	free(text);
}
END_TEST

/* --- the progress line's estimate, fed events by hand ------------------ */

#define SEC 1000000000LL
#define T0 (100 * SEC) /* any clock reading but 0 */

static size_t node_index(const fixture *f, const char *id)
{
	size_t i;

	for (i = 0; i < f->s.p.n_nodes; i++)
		if (strcmp(f->s.p.nodes[i].id, id) == 0)
			return i;
	ck_abort_msg("no node %s", id);
	return 0;
}

static void event(progress *pr, run_event_kind kind, size_t v, double at_s,
		  assay_status status, double duration)
{
	run_result res = { .status = status, .ran = true, .duration = duration };
	run_event ev = { .kind = kind, .node = v, .item = SIZE_MAX, .attempt = kind == RUN_EVENT_START,
			 .at_ns = T0 + (int64_t)(at_s * SEC),
			 .res = kind == RUN_EVENT_START ? NULL : &res };

	progress_event(&ev, pr);
}

static double eta_at(progress *pr, double s)
{
	return progress_eta(pr, T0 + (int64_t)(s * SEC));
}

/* Six independent 1 s nodes take 1 s when they all run at once, not six;
 * the jobs limit is what makes them take longer. */
START_TEST(test_progress_eta_parallel)
{
	fixture f;
	progress *pr;
	unsigned jobs[] = { 64, 6, 4, 2, 1 };
	double want[] = { 1, 1, 1.5, 3, 6 };
	size_t i;

	ck_assert_uint_eq(run_fixture_try(&f, PROBE
			       "[check.a]\ntype = \"probe\"\nestimate = \"1s\"\n"
			       "[check.b]\ntype = \"probe\"\nestimate = \"1s\"\n"
			       "[check.c]\ntype = \"probe\"\nestimate = \"1s\"\n"
			       "[check.d]\ntype = \"probe\"\nestimate = \"1s\"\n"
			       "[check.e]\ntype = \"probe\"\nestimate = \"1s\"\n"
			       "[check.f]\ntype = \"probe\"\nestimate = \"1s\"\n"), 0);
	for (i = 0; i < sizeof jobs / sizeof *jobs; i++) {
		ck_assert_ptr_nonnull(pr = progress_new(&f.s.p, &f.s.g, NULL, NULL, jobs[i], stderr));
		ck_assert_double_eq_tol(eta_at(pr, 0), want[i], 1e-9);
		progress_free(pr);
	}
	run_fixture_free(&f);
}
END_TEST

/* The critical path of what remains: a running node counts what is left of
 * it, a finished one nothing, and what waits for it comes after. */
START_TEST(test_progress_eta_critical_path)
{
	fixture f;
	progress *pr;
	char line[160];
	size_t a, b;

	ck_assert_uint_eq(run_fixture_try(&f, PROBE
			       "[check.a]\ntype = \"probe\"\nestimate = \"2s\"\n"
			       "[check.b]\ntype = \"probe\"\nestimate = \"1s\"\nafter = [\"a\"]\n"
			       "[check.c]\ntype = \"probe\"\nestimate = \"0.5s\"\n"), 0);
	a = node_index(&f, "a");
	b = node_index(&f, "b");
	ck_assert_ptr_nonnull(pr = progress_new(&f.s.p, &f.s.g, NULL, NULL, 64, stderr));
	ck_assert_double_eq_tol(eta_at(pr, 0), 3, 1e-9);
	event(pr, RUN_EVENT_START, a, 1, ASSAY_OK, 0);
	ck_assert_double_eq_tol(eta_at(pr, 1.5), 2.5, 1e-9);
	/* Overdue: taken to end now. */
	ck_assert_double_eq_tol(eta_at(pr, 4), 1, 1e-9);
	event(pr, RUN_EVENT_FINAL, a, 3, ASSAY_CRITICAL, 2);
	event(pr, RUN_EVENT_START, b, 3, ASSAY_OK, 0);
	ck_assert_double_eq_tol(eta_at(pr, 3.25), 0.75, 1e-9);
	progress_format(pr, T0 + (int64_t)(3.25 * SEC), line, sizeof line);
	ck_assert_str_eq(line, "[1/3 done, 1 running, 1 failed, ETA 0.8s]");
	progress_free(pr);
	run_fixture_free(&f);
}
END_TEST

/* Estimates come from what was seen: a sweep's finished trials beat its
 * declared estimate; nodes of one kind and type stand for each other; with
 * nothing to go by the ETA is unknown. */
START_TEST(test_progress_eta_observed)
{
	fixture f;
	progress *pr;
	size_t first, other;

	ck_assert_uint_eq(run_fixture_try(&f, PROBE
			       "[trial.sweep]\ntype = \"probe\"\nmatrix = { x = [1, 2, 3] }\n"
			       "estimate = \"10s\"\n"
			       "[check.p]\ntype = \"probe\"\n[check.q]\ntype = \"probe\"\n"), 0);
	first = node_index(&f, "sweep[x=1]");
	ck_assert_ptr_nonnull(pr = progress_new(&f.s.p, &f.s.g, NULL, NULL, 64, stderr));
	ck_assert_double_lt(eta_at(pr, 0), 0); /* p and q: nothing tells */
	event(pr, RUN_EVENT_START, first, 0, ASSAY_OK, 0);
	event(pr, RUN_EVENT_FINAL, first, 2, ASSAY_OK, 2);
	/* The other trials: 2 s, as the first took; p and q: as any node. */
	ck_assert_double_eq_tol(eta_at(pr, 2), 2, 1e-9);
	other = node_index(&f, "p");
	event(pr, RUN_EVENT_START, other, 2, ASSAY_OK, 0);
	event(pr, RUN_EVENT_FINAL, other, 2.5, ASSAY_OK, 0.5);
	ck_assert_double_eq_tol(eta_at(pr, 2.5), 2, 1e-9); /* q: 0.5 s, as p */
	progress_free(pr);
	run_fixture_free(&f);
}
END_TEST

/* A validation's items: what the finished ones took, in waves of as many
 * as run at once. */
START_TEST(test_progress_eta_items)
{
	fixture f;
	progress *pr;
	size_t v;

	ck_assert_uint_eq(run_fixture_try(&f, PROBE
			       "[validation.v]\ntype = \"probe\"\n"
			       "items = { list = [\"1\", \"2\", \"3\", \"4\", \"5\", \"6\", \"7\", \"8\", \"9\", \"10\"] }\n"), 0);
	v = node_index(&f, "v");
	ck_assert_ptr_nonnull(pr = progress_new(&f.s.p, &f.s.g, NULL, NULL, 4, stderr));
	ck_assert_double_lt(eta_at(pr, 0), 0);
	event(pr, RUN_EVENT_START, v, 0, ASSAY_OK, 0);
	event(pr, RUN_EVENT_ITEM, v, 1, ASSAY_OK, 1);
	event(pr, RUN_EVENT_ITEM, v, 1, ASSAY_OK, 1);
	/* 8 left, 4 at once: two waves of 1 s. */
	ck_assert_double_eq_tol(eta_at(pr, 1), 2, 1e-9);
	progress_free(pr);
	run_fixture_free(&f);
}
END_TEST

/* A trial's event with what the sweep's block reads, to the tracker t
 * and then to the display, as a run publishes it to both: a metric's step
 * and value, a final result's objective, a pruned trial.  The tracker
 * keeps the results (as a run's, they outlive the events): a pool. */
static void trial_event(progress *pr, sweeps *t, run_event_kind kind, size_t v, double at_s,
			assay_status status, const char *metric, double value, int64_t step,
			bool pruned)
{
	static run_result results[32];
	static assay_metric metrics[32];
	static size_t used;
	run_result *res = &results[used % 32];
	assay_metric *m = &metrics[used++ % 32];
	run_event ev = { .kind = kind, .node = v, .item = SIZE_MAX, .attempt = kind == RUN_EVENT_START,
			 .at_ns = T0 + (int64_t)(at_s * SEC), .text = kind == RUN_EVENT_METRIC ? metric : NULL,
			 .value = value, .step = step,
			 .res = kind == RUN_EVENT_FINAL ? res : NULL };

	*m = (assay_metric){ .name = metric, .value = value };
	*res = (run_result){ .status = status, .ran = status != ASSAY_SKIPPED || pruned,
			     .metrics = metric ? m : NULL, .n_metrics = metric != NULL,
			     .pruned = pruned };
	sweeps_event(&ev, t);
	progress_event(&ev, pr);
}

/* A tracker of f's sweeps fed by hand: it asks nothing of a run. */
static sweeps *hand_tracker(fixture *f)
{
	sweep_actions none = { 0 };

	ck_assert_ptr_nonnull(f->sw = sweeps_new(&f->s.p));
	sweeps_set_actions(f->sw, &none);
	return f->sw;
}

/* What progress_block() shows at s seconds, after the line's estimate. */
static char *block_at(progress *pr, double s)
{
	char line[160], *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);

	ck_assert_ptr_nonnull(f);
	progress_format(pr, T0 + (int64_t)(s * SEC), line, sizeof line);
	progress_block(pr, T0 + (int64_t)(s * SEC), f);
	ck_assert_int_eq(fclose(f), 0);
	return text;
}

/* The block of a sweep, as the tracker fed by hand sees it: its counts (a
 * pruned trial apart from the skipped), the best point by the mean of its
 * repeats (the best's own mean falling lets another point be best), the
 * ETA of its trials left bounded by the jobs, the oldest running trials
 * with the latest value of the objective, and nothing once every trial is
 * final. */
START_TEST(test_progress_sweep_block)
{
	fixture f;
	progress *pr;
	sweeps *t;
	char *text;
	size_t x[9], i;

	ck_assert_uint_eq(run_fixture_try(&f, PROBE
			       "[trial.lr]\ntype = \"probe\"\nmatrix = { x = [1, 2, 3, 4, 5, 6, 7, 8] }\n"
			       "objective = { metric = \"acc\" }\n"
			       "[check.other]\ntype = \"probe\"\n"), 0);
	for (i = 1; i <= 8; i++) {
		char id[16];

		snprintf(id, sizeof id, "lr[x=%zu]", i);
		x[i] = node_index(&f, id);
		/* Repeats of a point, as the search (part A) makes them. */
		f.s.p.nodes[x[i]].point = (uint32_t)(i - 1) / 2;
	}
	f.s.p.sweeps[0].repeat = 2;
	t = hand_tracker(&f);
	ck_assert_ptr_nonnull(pr = progress_new(&f.s.p, &f.s.g, NULL, t, 2, stderr));
	text = block_at(pr, 0);
	ck_assert_str_eq(text, ""); /* not started */
	free(text);
	for (i = 3; i <= 5; i++)
		trial_event(pr, t, RUN_EVENT_START, x[i], 0, ASSAY_OK, NULL, 0, 0, false);
	/* Point 1: a failed repeat does not count, and x=4 is its best;
	 * point 2: pruned, never the best. */
	trial_event(pr, t, RUN_EVENT_FINAL, x[3], 1, ASSAY_CRITICAL, "acc", 1, 0, false);
	trial_event(pr, t, RUN_EVENT_FINAL, x[4], 1, ASSAY_OK, "acc", 0.9, 0, false);
	trial_event(pr, t, RUN_EVENT_FINAL, x[5], 1, ASSAY_SKIPPED, "acc", 0.99, 0, true);
	trial_event(pr, t, RUN_EVENT_FINAL, x[6], 1, ASSAY_SKIPPED, NULL, 0, 0, false);
	trial_event(pr, t, RUN_EVENT_START, x[7], 0.6, ASSAY_OK, NULL, 0, 0, false);
	trial_event(pr, t, RUN_EVENT_START, x[1], 1, ASSAY_OK, NULL, 0, 0, false);
	trial_event(pr, t, RUN_EVENT_START, x[2], 1, ASSAY_OK, NULL, 0, 0, false);
	trial_event(pr, t, RUN_EVENT_START, x[8], 1, ASSAY_OK, NULL, 0, 0, false);
	trial_event(pr, t, RUN_EVENT_METRIC, x[1], 1.2, ASSAY_OK, "acc", 0.5, 3, false);
	trial_event(pr, t, RUN_EVENT_METRIC, x[2], 1.2, ASSAY_OK, "loss", 7, 3, false);
	/* 4 left of 1 s each (as the 3 that ran took), 0.1 s and 3 x 0.5 s of
	 * it left, 2 at a time: 0.8 s. */
	text = block_at(pr, 1.5);
	ck_assert_str_eq(text, "lr  4 running \u00b7 1 done \u00b7 1 failed \u00b7 1 pruned \u00b7 1 skipped"
			       " \u00b7 best 0.9 lr[x=4] \u00b7 ETA 0.8s\n"
			       "  lr[x=7]  0.9s\n"
			       "  lr[x=1]  step 3  0.5  0.5s\n"
			       "  lr[x=2]  0.5s\n"
			       "  ... and 1 more running\n");
	free(text);
	/* Point 0 (x=1, x=2): 0.95, then a mean of 0.85 -- point 1's 0.9 is
	 * the best again. */
	trial_event(pr, t, RUN_EVENT_FINAL, x[2], 2, ASSAY_OK, "acc", 0.95, 0, false);
	text = block_at(pr, 2);
	ck_assert_ptr_nonnull(strstr(text, " \u00b7 best 0.95 lr[x=2] \u00b7 "));
	free(text);
	trial_event(pr, t, RUN_EVENT_FINAL, x[1], 2, ASSAY_OK, "acc", 0.75, 0, false);
	text = block_at(pr, 2);
	ck_assert_ptr_nonnull(strstr(text, "lr  2 running \u00b7 3 done \u00b7 1 failed"));
	ck_assert_ptr_nonnull(strstr(text, " \u00b7 best 0.9 lr[x=4] \u00b7 "));
	free(text);
	trial_event(pr, t, RUN_EVENT_FINAL, x[7], 2, ASSAY_OK, NULL, 0, 0, false);
	trial_event(pr, t, RUN_EVENT_FINAL, x[8], 2, ASSAY_OK, NULL, 0, 0, false);
	text = block_at(pr, 2);
	ck_assert_str_eq(text, "");
	free(text);
	progress_free(pr);
	run_fixture_free(&f);
}
END_TEST

/* The block's best is the tracker's: a point with a pruned repeat is
 * never the best, however well its other repeats did. */
START_TEST(test_progress_sweep_block_pruned_point)
{
	fixture f;
	progress *pr;
	sweeps *t;
	char *text;
	size_t x[5], i;

	ck_assert_uint_eq(run_fixture_try(&f, PROBE
			       "[trial.lr]\ntype = \"probe\"\nmatrix = { x = [1, 2, 3, 4] }\n"
			       "objective = { metric = \"acc\" }\n"), 0);
	for (i = 1; i <= 4; i++) {
		char id[16];

		snprintf(id, sizeof id, "lr[x=%zu]", i);
		x[i] = node_index(&f, id);
		f.s.p.nodes[x[i]].point = (uint32_t)(i - 1) / 2;
	}
	f.s.p.sweeps[0].repeat = 2;
	t = hand_tracker(&f);
	ck_assert_ptr_nonnull(pr = progress_new(&f.s.p, &f.s.g, NULL, t, 2, stderr));
	for (i = 1; i <= 3; i++)
		trial_event(pr, t, RUN_EVENT_START, x[i], 0, ASSAY_OK, NULL, 0, 0, false);
	trial_event(pr, t, RUN_EVENT_FINAL, x[1], 1, ASSAY_SKIPPED, "acc", 0.2, 0, true);
	trial_event(pr, t, RUN_EVENT_FINAL, x[2], 1, ASSAY_OK, "acc", 0.99, 0, false);
	trial_event(pr, t, RUN_EVENT_FINAL, x[3], 1, ASSAY_OK, "acc", 0.5, 0, false);
	text = block_at(pr, 1);
	ck_assert_str_eq(text, "lr  0 running \u00b7 2 done \u00b7 1 pruned"
			       " \u00b7 best 0.5 lr[x=3] \u00b7 ETA 1.0s\n");
	free(text);
	progress_free(pr);
	run_fixture_free(&f);
}
END_TEST

/* --progress plain: a stamp of the time since the start, the line, and
 * one line per sweep under way, with commas. */
START_TEST(test_progress_plain_lines)
{
	fixture f;
	progress *pr;
	sweeps *t;
	char *text = NULL;
	size_t size = 0, a;
	FILE *out;

	ck_assert_uint_eq(run_fixture_try(&f, PROBE
			       "[trial.lr]\ntype = \"probe\"\nmatrix = { x = [1, 2] }\nestimate = \"2s\"\n"), 0);
	a = node_index(&f, "lr[x=1]");
	t = hand_tracker(&f);
	ck_assert_ptr_nonnull(pr = progress_new(&f.s.p, &f.s.g, NULL, t, 4, stderr));
	trial_event(pr, t, RUN_EVENT_START, a, 0, ASSAY_OK, NULL, 0, 0, false);
	ck_assert_ptr_nonnull(out = open_memstream(&text, &size));
	progress_plain(pr, T0 + (int64_t)(3725.5 * SEC), out); /* not started: 0 */
	ck_assert_int_eq(fclose(out), 0);
	ck_assert_str_eq(text, "assay: 00:00:00 [0/2 done, 1 running, 0 failed, ETA 2.0s]\n"
			       "assay: 00:00:00 lr 1 running, 0 done, ETA 2.0s\n");
	free(text);
	/* Started, it stamps the time since, and prints nothing at once (a
	 * short run leaves no line in the log). */
	text = NULL;
	ck_assert_ptr_nonnull(out = open_memstream(&text, &size));
	progress_free(pr);
	sweeps_free(t);
	t = hand_tracker(&f);
	ck_assert_ptr_nonnull(pr = progress_new(&f.s.p, &f.s.g, NULL, t, 4, out));
	progress_set_plain(pr, 3600000);
	ck_assert_int_eq(reactor_new(&f.re), 0);
	ck_assert_int_eq(progress_start(pr, f.re), 0);
	ck_assert_int_eq(fflush(out), 0);
	ck_assert_uint_eq(size, 0);
	progress_plain(pr, task_now_ns() + 3725 * SEC, out);
	progress_stop(pr);
	ck_assert_int_eq(fclose(out), 0);
	ck_assert_str_eq(text, "assay: 01:02:05 [0/2 done, 0 running, 0 failed, ETA 2.0s]\n");
	free(text);
	progress_free(pr);
	run_fixture_free(&f);
}
END_TEST

/* A real run publishes what the progress line counts: every node final
 * once, each started one running until then. */
START_TEST(test_progress_counts_a_run)
{
	fixture f;
	progress *pr;
	char line[160];
	run_options o = { .jobs = 4, .workers = 2, .verbosity = ASSAY_LOG_ERROR };

	ck_assert_uint_eq(run_fixture_try(&f, PROBE
			       "[check.a]\ntype = \"probe\"\nsleep = \"20ms\"\n"
			       "[check.b]\ntype = \"probe\"\nstatus = 2\nafter = [\"a\"]\n"
			       "[check.c]\ntype = \"probe\"\nafter = [\"b\"]\n"
			       "[validation.v]\ntype = \"probe\"\nitems = { list = [\"x\", \"y\"] }\n"), 0);
	ck_assert_ptr_nonnull(pr = progress_new(&f.s.p, &f.s.g, NULL, NULL, 4, stderr));
	ck_assert_int_eq(reactor_new(&f.re), 0);
	ck_assert_int_eq(run_new(&f.r, &f.s.p, &f.s.g, &o, f.re), 0);
	ck_assert_int_eq(progress_subscribe(pr, f.r), 0);
	ck_assert_int_eq(run_go(f.r), 0);
	progress_format(pr, task_now_ns(), line, sizeof line);
	ck_assert_str_eq(line, "[4/4 done, 0 running, 1 failed, ETA 0.0s]");
	run_fixture_free(&f);
	progress_free(pr);
}
END_TEST

/* --- events ------------------------------------------------------------------ */

typedef struct seen {
	run_event_kind kind;
	size_t node, item;
	unsigned attempt;
	int status;               /* the result's, or -1 without one */
} seen;

typedef struct recorder {
	pthread_mutex_t lock;
	seen ev[64];
	size_t n;
} recorder;

static void record(const run_event *ev, void *arg)
{
	recorder *rec = arg;

	pthread_mutex_lock(&rec->lock);
	ck_assert_uint_lt(rec->n, 64);
	rec->ev[rec->n++] = (seen){ ev->kind, ev->node, ev->item, ev->attempt,
				     ev->res ? (int)ev->res->status : -1 };
	pthread_mutex_unlock(&rec->lock);
}

/* The position of the first event matching, at or after `from`; SIZE_MAX
 * if none. */
static size_t seen_at(const recorder *rec, size_t from, run_event_kind kind, size_t node,
		      size_t item, unsigned attempt)
{
	size_t i;

	for (i = from; i < rec->n; i++)
		if (rec->ev[i].kind == kind && rec->ev[i].node == node && rec->ev[i].item == item &&
		    rec->ev[i].attempt == attempt)
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

/* Each subscriber hears the kinds it asked for, in the order the contract
 * in run.h states: attempts, retries, items, skips. */
START_TEST(test_events_order_and_kinds)
{
	run_options o = { .jobs = 4, .workers = 2, .verbosity = ASSAY_LOG_ERROR };
	recorder all = { .lock = PTHREAD_MUTEX_INITIALIZER }, finals = { .lock = PTHREAD_MUTEX_INITIALIZER };
	size_t a, bad, skipped, flaky, v, i, at;
	fixture f;

	ck_assert_uint_eq(run_fixture_try(&f, PROBE
			       "[check.a]\ntype = \"probe\"\n"
			       "[check.bad]\ntype = \"probe\"\nstatus = 2\nafter = [\"a\"]\n"
			       "[check.skipped]\ntype = \"probe\"\nafter = [\"bad\"]\n"
			       "[check.flaky]\ntype = \"probe\"\nfail_times = 1\nretries = 1\nretry_delay = \"1ms\"\n"
			       "[validation.v]\ntype = \"probe\"\nitems = { list = [\"x\", \"y\"] }\n"), 0);
	a = node(&f, "a");
	bad = node(&f, "bad");
	skipped = node(&f, "skipped");
	flaky = node(&f, "flaky");
	v = node(&f, "v");
	ck_assert_int_eq(reactor_new(&f.re), 0);
	ck_assert_int_eq(run_new(&f.r, &f.s.p, &f.s.g, &o, f.re), 0);
	ck_assert_int_eq(run_subscribe(f.r, 0, record, &all), ASSAY_EINVAL);
	ck_assert_int_eq(run_subscribe(f.r, RUN_EVENT_START | RUN_EVENT_ATTEMPT | RUN_EVENT_ITEM |
				       RUN_EVENT_FINAL, record, &all), 0);
	ck_assert_int_eq(run_subscribe(f.r, RUN_EVENT_FINAL, record, &finals), 0);
	ck_assert_int_eq(run_go(f.r), 0);
	ck_assert_int_eq(run_subscribe(f.r, RUN_EVENT_FINAL, record, &finals), ASSAY_ESTATE);
	f.res = run_results(f.r);

	/* One FINAL per node, with its result, and nothing else. */
	ck_assert_uint_eq(finals.n, f.s.p.n_nodes);
	for (i = 0; i < finals.n; i++) {
		ck_assert_int_eq(finals.ev[i].kind, RUN_EVENT_FINAL);
		ck_assert_int_eq(finals.ev[i].status, (int)f.res[finals.ev[i].node].status);
		ck_assert_uint_eq(seen_count(&finals, RUN_EVENT_FINAL, finals.ev[i].node), 1);
	}
	/* A retried node: each attempt starts, then ends with its status. */
	at = seen_at(&all, 0, RUN_EVENT_START, flaky, SIZE_MAX, 1);
	ck_assert_uint_ne(at, SIZE_MAX);
	ck_assert_uint_ne(at = seen_at(&all, at, RUN_EVENT_ATTEMPT, flaky, SIZE_MAX, 1), SIZE_MAX);
	ck_assert_int_eq(all.ev[at].status, ASSAY_CRITICAL);
	ck_assert_uint_ne(at = seen_at(&all, at, RUN_EVENT_START, flaky, SIZE_MAX, 2), SIZE_MAX);
	ck_assert_uint_ne(at = seen_at(&all, at, RUN_EVENT_ATTEMPT, flaky, SIZE_MAX, 2), SIZE_MAX);
	ck_assert_int_eq(all.ev[at].status, ASSAY_OK);
	ck_assert_uint_ne(seen_at(&all, at, RUN_EVENT_FINAL, flaky, SIZE_MAX, 0), SIZE_MAX);
	/* A dependency's FINAL before the dependent starts; a skipped node
	 * is final without starting. */
	ck_assert_uint_lt(seen_at(&all, 0, RUN_EVENT_FINAL, a, SIZE_MAX, 0),
			  seen_at(&all, 0, RUN_EVENT_START, bad, SIZE_MAX, 1));
	ck_assert_uint_lt(seen_at(&all, 0, RUN_EVENT_FINAL, bad, SIZE_MAX, 0),
			  seen_at(&all, 0, RUN_EVENT_FINAL, skipped, SIZE_MAX, 0));
	ck_assert_uint_eq(seen_count(&all, RUN_EVENT_START, skipped), 0);
	ck_assert_int_eq(all.ev[seen_at(&all, 0, RUN_EVENT_FINAL, skipped, SIZE_MAX, 0)].status,
			 ASSAY_SKIPPED);
	/* Items: each starts and ends as its own execution, all before the
	 * validation's FINAL. */
	for (i = 0; i < 2; i++) {
		at = seen_at(&all, 0, RUN_EVENT_START, v, i, 1);
		ck_assert_uint_ne(at, SIZE_MAX);
		ck_assert_uint_ne(at = seen_at(&all, at, RUN_EVENT_ATTEMPT, v, i, 1), SIZE_MAX);
		ck_assert_uint_ne(at = seen_at(&all, at, RUN_EVENT_ITEM, v, i, 0), SIZE_MAX);
		ck_assert_int_eq(all.ev[at].status, ASSAY_OK);
		ck_assert_uint_lt(at, seen_at(&all, 0, RUN_EVENT_FINAL, v, SIZE_MAX, 0));
	}
	/* Every attempt that started ended once. */
	ck_assert_uint_eq(seen_count(&all, RUN_EVENT_START, flaky) + seen_count(&all, RUN_EVENT_START, v) +
			  seen_count(&all, RUN_EVENT_START, a) + seen_count(&all, RUN_EVENT_START, bad),
			  seen_count(&all, RUN_EVENT_ATTEMPT, flaky) + seen_count(&all, RUN_EVENT_ATTEMPT, v) +
			  seen_count(&all, RUN_EVENT_ATTEMPT, a) + seen_count(&all, RUN_EVENT_ATTEMPT, bad));
	run_fixture_free(&f);
}
END_TEST

static void no_timer(void *arg)
{
}

/* Whether the host table's reactor functions answer, from a subscriber:
 * they do while the run is on. */
static void try_host_reactor(const run_event *ev, void *arg)
{
	const assay_host *h = host_table();
	assay_timer *t;
	int rc = h->timer_start(60000, no_timer, NULL, &t);

	if (rc == 0)
		h->timer_stop(t);
	*(int *)arg = rc;
}

/* The run makes its reactor the host's for plugins, and takes it back. */
START_TEST(test_run_owns_the_host_reactor)
{
	run_options o = { .jobs = 4, .workers = 2, .verbosity = ASSAY_LOG_ERROR };
	const assay_host *h = host_table();
	int during = 1;
	fixture f;

	ck_assert_uint_eq(run_fixture_try(&f, PROBE "[check.a]\ntype = \"probe\"\n"), 0);
	ck_assert_int_eq(reactor_new(&f.re), 0);
	ck_assert_int_eq(run_new(&f.r, &f.s.p, &f.s.g, &o, f.re), 0);
	ck_assert_int_eq(run_subscribe(f.r, RUN_EVENT_START, try_host_reactor, &during), 0);
	ck_assert_int_eq(h->timer_start(1, no_timer, NULL, NULL), ASSAY_ESTATE);
	ck_assert_int_eq(run_go(f.r), 0);
	ck_assert_int_eq(during, 0);
	run_free(f.r);
	f.r = NULL;
	ck_assert_int_eq(h->timer_start(1, no_timer, NULL, NULL), ASSAY_ESTATE);
	run_fixture_free(&f);
}
END_TEST

/* Resource types of the test's own, put in place of the probe's `slot`:
 * one that says "not now, ask in 2 ms" three times, one that says it once
 * and then refuses. */
static atomic_int later_asked, later_released;

static int later_try(assay_task *task, void *req, void *data, void **grant, uint32_t *retry_ms)
{
	if (atomic_fetch_add(&later_asked, 1) < 3) {
		*retry_ms = 2;
		return ASSAY_EAGAIN;
	}
	*grant = req;
	return 0;
}

static void later_release(void *grant, void *data)
{
	atomic_fetch_add(&later_released, 1);
}

static atomic_int never_asked;

static int never_try(assay_task *task, void *req, void *data, void **grant, uint32_t *retry_ms)
{
	if (atomic_fetch_add(&never_asked, 1) == 0) {
		*retry_ms = 2;
		return ASSAY_EAGAIN;
	}
	return ASSAY_ENEVER;
}

static const assay_resource_type later_type = {
	.name = "later", .try_acquire = later_try, .release = later_release
};
static const assay_resource_type never_type = {
	.name = "never", .try_acquire = never_try, .release = later_release
};

/* Nobody releases `later`: its waiter gets it by asking again after the
 * retry_ms the type named.  `never`'s refusal fails its node, without a
 * retry, and the waiter behind it is asked in turn. */
START_TEST(test_resources_polled_and_refused)
{
	const char *ids[] = { "polled", "refused", "second" };
	size_t i, s;
	fixture f;

	ck_assert_uint_eq(run_fixture_try(&f, PROBE
			       "[check.polled]\ntype = \"probe\"\nresources = { slot = 1 }\n"
			       "[check.refused]\ntype = \"probe\"\nresources = { slot = 1 }\nretries = 2\n"
			       "[check.second]\ntype = \"probe\"\nresources = { slot = 1 }\n"), 0);
	for (i = 0; i < 3; i++)
		f.s.p.nodes[node(&f, ids[i])].resource_types[0] = i == 0 ? &later_type : &never_type;
	atomic_store(&later_asked, 0);
	atomic_store(&later_released, 0);
	atomic_store(&never_asked, 0);
	go(&f, 4, 2, false, NULL);
	s = node(&f, "polled");
	ck_assert_int_eq(f.res[s].status, ASSAY_OK);
	ck_assert_int_eq(atomic_load(&later_asked), 4);
	ck_assert_int_eq(atomic_load(&later_released), 1);
	for (i = 1; i < 3; i++) {
		s = node(&f, ids[i]);
		ck_assert_int_eq(f.res[s].status, ASSAY_UNKNOWN);
		ck_assert_uint_eq(f.res[s].attempts, 1);
		ck_assert_str_eq(f.res[s].message,
				 "cannot acquire resource `never`: can never be satisfied here");
	}
	run_fixture_free(&f);
}
END_TEST

/* --- devices: slot and devices together ------------------------------------
 *
 * A resource type of the test's own that models devices as the gpu
 * plugin does: each has a score, the best free one is granted, its UUID
 * recorded with task_add_device(); "not now" when all are held.  It
 * counts grants and releases, and how many were held at most at once. */
#define N_DEVS 3

static struct devs {
	pthread_mutex_t lock;
	unsigned n;               /* devices in use by this test: 1..N_DEVS */
	bool held[N_DEVS];
	int granted, released, holding, most;
	int64_t grant_ns[16];     /* when each grant was made, in order */
} devs = { .lock = PTHREAD_MUTEX_INITIALIZER };

static const double dev_score[N_DEVS] = { 0.2, 0.9, 0.5 };
static const char *const dev_uuid[N_DEVS] = { "GPU-aaaa", "GPU-bbbb", "GPU-cccc" };

static void devs_reset(unsigned n)
{
	pthread_mutex_lock(&devs.lock);
	memset(devs.held, 0, sizeof devs.held);
	devs.n = n;
	devs.granted = devs.released = devs.holding = devs.most = 0;
	pthread_mutex_unlock(&devs.lock);
}

static int dev_try(assay_task *task, void *req, void *data, void **grant, uint32_t *retry_ms)
{
	int pick = -1;
	unsigned k;

	pthread_mutex_lock(&devs.lock);
	for (k = 0; k < devs.n; k++)
		if (!devs.held[k] && (pick < 0 || dev_score[k] > dev_score[pick]))
			pick = (int)k;
	if (pick >= 0) {
		devs.held[pick] = true;
		if (devs.granted < 16)
			devs.grant_ns[devs.granted] = task_now_ns();
		devs.granted++;
		if (++devs.holding > devs.most)
			devs.most = devs.holding;
		*grant = (void *)(uintptr_t)(pick + 1);
	}
	pthread_mutex_unlock(&devs.lock);
	if (pick < 0)
		return ASSAY_EAGAIN; /* a release asks again */
	ck_assert_int_eq(host_table()->task_add_device(task, dev_uuid[pick]), 0);
	return 0;
}

static void dev_release(void *grant, void *data)
{
	pthread_mutex_lock(&devs.lock);
	ck_assert(devs.held[(uintptr_t)grant - 1]);
	devs.held[(uintptr_t)grant - 1] = false;
	devs.released++;
	devs.holding--;
	pthread_mutex_unlock(&devs.lock);
}

static void dev_describe(void *req, void *data, char *buf, size_t size)
{
	pthread_mutex_lock(&devs.lock);
	snprintf(buf, size, "1 device: %d of %u held by this run", devs.holding, devs.n);
	pthread_mutex_unlock(&devs.lock);
}

static const assay_resource_type dev_type = {
	.name = "dev", .try_acquire = dev_try, .release = dev_release,
	.describe_wait = dev_describe
};

/* Every node of f that asks for a resource asks for a `dev` instead. */
static void use_devs(fixture *f, unsigned n)
{
	size_t i;

	devs_reset(n);
	for (i = 0; i < f->s.p.n_nodes; i++)
		if (f->s.p.nodes[i].n_resources)
			f->s.p.nodes[i].resource_types[0] = &dev_type;
}

/* jobs = 1: a trial waiting for the slot holds no device, so each of the
 * three gets the best one when its turn comes -- not the second and the
 * third best, taken while they only waited. */
START_TEST(test_devices_best_first)
{
	fixture f;
	size_t i;

	ck_assert_uint_eq(run_fixture_try(&f, PROBE
			       "[trial.t]\ntype = \"probe\"\nmatrix = { x = [1, 2, 3] }\nsleep = \"20ms\"\n"
			       "resources = { slot = 1 }\n"), 0);
	use_devs(&f, 3);
	go(&f, 1, 2, false, NULL);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(f.res[i].status, ASSAY_OK);
		ck_assert_ptr_nonnull(f.res[i].devices);
		ck_assert_str_eq(f.res[i].devices[0], "GPU-bbbb");
		ck_assert_ptr_null(f.res[i].devices[1]);
	}
	ck_assert_int_eq(devs.most, 1);
	ck_assert_int_eq(devs.granted, 3);
	ck_assert_int_eq(devs.released, 3);
	run_fixture_free(&f);
}
END_TEST

/* jobs = 2, one device: the trials waiting for it hold no slot, so the
 * checks that need none run in the other slot meanwhile, each at once,
 * none waiting for the device to free. */
START_TEST(test_devices_leave_slots_to_others)
{
	const char *cpu[] = { "c1", "c2", "c3", "c4" }, *gpu[] = { "g1", "g2", "g3" };
	double first_gpu_end = 1e300, last_gpu_start = 0, last_cpu_end = 0;
	fixture f;
	size_t i;

	ck_assert_uint_eq(run_fixture_try(&f, PROBE
			       "[check.g1]\ntype = \"probe\"\nsleep = \"300ms\"\nresources = { slot = 1 }\n"
			       "[check.g2]\ntype = \"probe\"\nsleep = \"300ms\"\nresources = { slot = 1 }\n"
			       "[check.g3]\ntype = \"probe\"\nsleep = \"300ms\"\nresources = { slot = 1 }\n"
			       "[check.c1]\ntype = \"probe\"\nsleep = \"20ms\"\n"
			       "[check.c2]\ntype = \"probe\"\nsleep = \"20ms\"\n"
			       "[check.c3]\ntype = \"probe\"\nsleep = \"20ms\"\n"
			       "[check.c4]\ntype = \"probe\"\nsleep = \"20ms\"\n"), 0);
	use_devs(&f, 1);
	go(&f, 2, 2, false, NULL);
	for (i = 0; i < 3; i++) {
		const run_result *g = &f.res[node(&f, gpu[i])];

		ck_assert_int_eq(g->status, ASSAY_OK);
		ck_assert_str_eq(g->devices[0], "GPU-aaaa");
		if (g->end < first_gpu_end)
			first_gpu_end = g->end;
		if (g->start > last_gpu_start)
			last_gpu_start = g->start;
	}
	for (i = 0; i < 4; i++) {
		const run_result *c = &f.res[node(&f, cpu[i])];

		ck_assert_int_eq(c->status, ASSAY_OK);
		ck_assert_ptr_null(c->devices);
		if (c->end > last_cpu_end)
			last_cpu_end = c->end;
	}
	/* The checks were done before the last trial started, and before the
	 * first one freed the device: none waited for it. */
	ck_assert(last_cpu_end <= last_gpu_start);
	ck_assert(last_cpu_end <= first_gpu_end);
	ck_assert_int_eq(devs.most, 1);
	run_fixture_free(&f);
}
END_TEST

/* A slot handed to a resource queue is never counted twice.  jobs = 2,
 * two devices, three roots: when the two that start first are a trial
 * and c_a, the other trial finds a device free but no slot, and c_a's
 * slot, when it ends, goes to that trial -- not also to the free count,
 * which would let c_b (which c_a then lets go) make 3 at once.  (Which
 * two start first is the scheduler's choice; the rule must hold in
 * every case.) */
START_TEST(test_devices_jobs_never_exceeded)
{
	fixture f;
	size_t i;

	ck_assert_uint_eq(run_fixture_try(&f, PROBE
			       "[check.g1]\ntype = \"probe\"\nsleep = \"300ms\"\nresources = { slot = 1 }\n"
			       "[check.c_a]\ntype = \"probe\"\nsleep = \"60ms\"\n"
			       "[check.g2]\ntype = \"probe\"\nsleep = \"300ms\"\nresources = { slot = 1 }\n"
			       "[check.c_b]\ntype = \"probe\"\nsleep = \"60ms\"\nafter = [\"c_a\"]\n"), 0);
	use_devs(&f, 2);
	go(&f, 2, 2, false, NULL);
	for (i = 0; i < f.s.p.n_nodes; i++)
		ck_assert_int_eq(f.res[i].status, ASSAY_OK);
	ck_assert_int_eq((int)max_metric(&f, "concurrent"), 2);
	ck_assert_int_le(devs.most, 2);
	ck_assert_int_eq(devs.granted, 2);
	run_fixture_free(&f);
}
END_TEST

/* Whatever the way out -- success, failure, a retry, a timeout, a stop
 * -- what was granted is given back, and a result names the devices of
 * its last attempt only. */
START_TEST(test_devices_released_on_every_path)
{
	run_options o = { .jobs = 8, .workers = 2, .verbosity = ASSAY_LOG_ERROR };
	fixture f;
	size_t s;

	ck_assert_uint_eq(run_fixture_try(&f, PROBE
			       "[check.ok]\ntype = \"probe\"\nresources = { slot = 1 }\n"
			       "[check.bad]\ntype = \"probe\"\nstatus = 2\nresources = { slot = 1 }\n"
			       "[check.flaky]\ntype = \"probe\"\nfail_times = 1\nretries = 1\n"
			       "retry_delay = \"1ms\"\nresources = { slot = 1 }\n"
			       "[check.slow]\ntype = \"probe\"\nsleep = \"10s\"\ntimeout = \"50ms\"\n"
			       "resources = { slot = 1 }\n"), 0);
	use_devs(&f, 3);
	go(&f, 8, 2, false, NULL);
	ck_assert_int_eq(f.res[node(&f, "ok")].status, ASSAY_OK);
	ck_assert_int_eq(f.res[node(&f, "bad")].status, ASSAY_CRITICAL);
	s = node(&f, "flaky");
	ck_assert_int_eq(f.res[s].status, ASSAY_OK);
	ck_assert_uint_eq(f.res[s].attempts, 2);
	ck_assert_ptr_nonnull(f.res[s].devices[0]);
	ck_assert_ptr_null(f.res[s].devices[1]); /* the second attempt's only */
	ck_assert_int_eq(f.res[node(&f, "slow")].status, ASSAY_CRITICAL);
	ck_assert_str_eq(f.res[node(&f, "slow")].message, "timed out");
	ck_assert_int_eq(devs.granted, 5);
	ck_assert_int_eq(devs.released, 5);
	ck_assert_int_eq(devs.holding, 0);
	run_fixture_free(&f);

	/* A stop: the holder is cancelled, the waiter never gets one. */
	ck_assert_uint_eq(run_fixture_try(&f, PROBE
			       "[check.held]\ntype = \"probe\"\nsleep = \"10s\"\nresources = { slot = 1 }\n"
			       "[check.waits]\ntype = \"probe\"\nsleep = \"10s\"\nresources = { slot = 1 }\n"), 0);
	use_devs(&f, 1);
	ck_assert(run_stopped_after(&f, &o, 100) < 2);
	ck_assert_int_eq(devs.granted, 1);
	ck_assert_int_eq(devs.released, 1);
	ck_assert_int_eq(devs.holding, 0);
	run_fixture_free(&f);
}
END_TEST

static pthread_mutex_t waits_lock = PTHREAD_MUTEX_INITIALIZER;
static char waits_text[128];
static size_t waits_node = SIZE_MAX;

static void record_wait(const run_event *ev, void *arg)
{
	ck_assert_int_eq(ev->kind, RUN_EVENT_WAIT);
	pthread_mutex_lock(&waits_lock);
	snprintf(waits_text, sizeof waits_text, "%s", ev->text);
	waits_node = ev->node;
	pthread_mutex_unlock(&waits_lock);
}

/* A wait is bounded by the node's timeout: it ends UNKNOWN, saying what
 * it waited for as the type describes it, without a retry, and what
 * depends on it is skipped.  The wait was published with that text. */
START_TEST(test_devices_wait_times_out)
{
	run_options o = { .jobs = 8, .workers = 2, .verbosity = ASSAY_LOG_ERROR };
	fixture f;
	size_t s;

	ck_assert_uint_eq(run_fixture_try(&f, PROBE
			       "[check.holder]\ntype = \"probe\"\nsleep = \"1s\"\nresources = { slot = 1 }\n"
			       "[check.late]\ntype = \"probe\"\ntimeout = \"200ms\"\nretries = 2\n"
			       "resources = { slot = 1 }\nafter = [\"first\"]\n"
			       "[check.first]\ntype = \"probe\"\nsleep = \"10ms\"\n"
			       "[check.then]\ntype = \"probe\"\nafter = [\"late\"]\n"), 0);
	use_devs(&f, 1);
	ck_assert_int_eq(reactor_new(&f.re), 0);
	ck_assert_int_eq(run_new(&f.r, &f.s.p, &f.s.g, &o, f.re), 0);
	ck_assert_int_eq(run_subscribe(f.r, RUN_EVENT_WAIT, record_wait, NULL), 0);
	ck_assert_int_eq(run_go(f.r), 0);
	f.res = run_results(f.r);
	s = node(&f, "late");
	ck_assert_int_eq(f.res[s].status, ASSAY_UNKNOWN);
	ck_assert_str_eq(f.res[s].message, "waited 0.2 s for `dev`: 1 device: 1 of 1 held by this run");
	ck_assert_uint_eq(f.res[s].attempts, 1);
	ck_assert_ptr_null(f.res[s].devices);
	ck_assert_int_eq(f.res[node(&f, "holder")].status, ASSAY_OK);
	ck_assert_int_eq(f.res[node(&f, "then")].status, ASSAY_SKIPPED);
	ck_assert_uint_eq(waits_node, s);
	ck_assert_str_eq(waits_text, "1 device: 1 of 1 held by this run");
	ck_assert_int_eq(devs.granted, 1);
	ck_assert_int_eq(devs.released, 1);
	run_fixture_free(&f);
}
END_TEST

/* A refusal with a message the type set during try_acquire: that is the
 * node's message, UNKNOWN, not retried.  A message left by an earlier
 * "not now" is not taken for one. */
static atomic_int says_asked[2];

static int says_try(assay_task *task, void *req, void *data, void **grant, uint32_t *retry_ms)
{
	bool says = strcmp(host_table()->task_id(task), "says") == 0;

	if (atomic_fetch_add(&says_asked[says], 1) == 0) {
		host_table()->set_message(task, "not yet");
		*retry_ms = 2;
		return ASSAY_EAGAIN;
	}
	if (says)
		host_table()->set_message(task, "no GPU here: %s", "libnvidia-ml.so.1 not found");
	return ASSAY_ESYS;
}

static const assay_resource_type says_type = {
	.name = "says", .try_acquire = says_try, .release = later_release
};

START_TEST(test_resources_refusal_says_why)
{
	fixture f;
	size_t s;

	ck_assert_uint_eq(run_fixture_try(&f, PROBE
			       "[check.says]\ntype = \"probe\"\nretries = 2\nresources = { slot = 1 }\n"
			       "[check.silent]\ntype = \"probe\"\nresources = { slot = 1 }\nafter = [\"says\"]\n"
			       "run_if = \"always\"\n"), 0);
	f.s.p.nodes[node(&f, "says")].resource_types[0] = &says_type;
	f.s.p.nodes[node(&f, "silent")].resource_types[0] = &says_type;
	atomic_store(&says_asked[0], 0);
	atomic_store(&says_asked[1], 0);
	go(&f, 4, 2, false, NULL);
	s = node(&f, "says");
	ck_assert_int_eq(f.res[s].status, ASSAY_UNKNOWN);
	ck_assert_uint_eq(f.res[s].attempts, 1);
	ck_assert_str_eq(f.res[s].message, "no GPU here: libnvidia-ml.so.1 not found");
	s = node(&f, "silent");
	ck_assert_int_eq(f.res[s].status, ASSAY_UNKNOWN);
	ck_assert_str_eq(f.res[s].message, "cannot acquire resource `says`: system call failed");
	run_fixture_free(&f);
}
END_TEST

START_TEST(test_graph_edges_and_critical_path)
{
	fixture f;
	double seconds[5] = { 0.5, 1, 2.5, 0.2, 0 };
	bool on[5];
	size_t k;

	ck_assert_uint_eq(run_fixture_try(&f, PROBE
			       "[check.gate]\ntype = \"probe\"\ngate = true\n"
			       "[check.grp.x]\ntype = \"probe\"\n"
			       "[check.grp.y]\ntype = \"probe\"\n"
			       "[check.after_grp]\ntype = \"probe\"\nafter = [\"grp\", \"grp.x\"]\n"
			       "[check.lone]\ntype = \"probe\"\n"), 0);
	/* after_grp waits for the gate and both members, once each. */
	ck_assert_uint_eq(f.s.g.pred_at[4] - f.s.g.pred_at[3], 3);
	for (k = f.s.g.pred_at[3]; k < f.s.g.pred_at[4]; k++)
		ck_assert(f.s.g.pred[k] <= 2);
	ck_assert_double_eq_tol(graph_critical_path(&f.s.g, seconds, NULL, on), 3.2, 1e-9);
	ck_assert(on[0] && !on[1] && on[2] && on[3] && !on[4]);
	session_release(&f.s);
}
END_TEST

/* run_options.trial_dirs: a trial's directory is made before it runs and
 * given in its result with result.json in it; one that cannot be made
 * fails the trial UNKNOWN, saying why, and it never runs. */
START_TEST(test_trial_dirs)
{
	fixture f;
	const char *dirs[3] = { NULL, NULL, NULL };
	char good[256], bad[256], file[256], path[300];
	run_options o = { .jobs = 4, .workers = 2, .verbosity = ASSAY_LOG_ERROR };
	FILE *out;
	size_t t0, t1, c;

	snprintf(good, sizeof good, "%s/good", run_fixture_dir());
	snprintf(file, sizeof file, "%s/file", run_fixture_dir());
	snprintf(bad, sizeof bad, "%s/file/bad", run_fixture_dir());
	ck_assert_ptr_nonnull(out = fopen(file, "w"));
	fclose(out);
	ck_assert_uint_eq(run_fixture_try(&f, PROBE "[trial.t]\ntype = \"probe\"\nmatrix = { a = [1, 2] }\n"
			       "[check.c]\ntype = \"probe\"\n"), 0);
	t0 = node(&f, "t[a=1]");
	t1 = node(&f, "t[a=2]");
	c = node(&f, "c");
	dirs[t0] = good;
	dirs[t1] = bad;
	o.trial_dirs = dirs;
	ck_assert_int_eq(reactor_new(&f.re), 0);
	ck_assert_int_eq(run_new(&f.r, &f.s.p, &f.s.g, &o, f.re), 0);
	ck_assert_int_eq(run_go(f.r), 0);
	f.res = run_results(f.r);
	ck_assert_int_eq(f.res[t0].status, ASSAY_OK);
	ck_assert_ptr_eq(f.res[t0].trial_dir, good);
	snprintf(path, sizeof path, "%s/result.json", good);
	ck_assert_int_eq(access(path, R_OK), 0);
	ck_assert_int_eq(f.res[t1].status, ASSAY_UNKNOWN);
	ck_assert_ptr_null(f.res[t1].trial_dir);
	ck_assert_uint_eq(f.res[t1].attempts, 1);
	snprintf(path, sizeof path, "trial dir %s: cannot create: Not a directory", bad);
	ck_assert_str_eq(f.res[t1].message, path);
	ck_assert_ptr_null(f.res[c].trial_dir);
	run_fixture_free(&f);
	snprintf(path, sizeof path, "%s/params.json", good);
	unlink(path);
	snprintf(path, sizeof path, "%s/metrics.jsonl", good);
	unlink(path);
	snprintf(path, sizeof path, "%s/result.json", good);
	unlink(path);
	rmdir(good);
	unlink(file);
}
END_TEST

/* --- sweeps: pruning, closing, a node after a sweep -------------------- */

/* Three trials one at a time (workers 1: in declaration order), each
 * reporting acc = 0.x at steps 0, 1, 2 from the plugin's reactor
 * callback, under its own lock. */
#define SWEEP(extra) PROBE \
	"[trial.s]\ntype = \"probe\"\nmatrix = { x = [9, 1, 5] }\nmax_parallel = 1\n" \
	"steps = [\"0.{x}\", \"0.{x}\", \"0.{x}\"]\nsleep = \"5ms\"\n" \
	"objective = { metric = \"acc\" }\n" extra

/* The median rule prunes the running trials below the first one's
 * curve: cancelled (task_pruned() true, so the probe says "pruned"),
 * SKIPPED with cause OK, the reason as message, their metrics kept, not
 * retried; the exit status is OK. */
START_TEST(test_prune_running_trials)
{
	fixture f;
	const run_result *r1, *r5;
	double v;

	ck_assert_uint_eq(run_fixture_try(&f, SWEEP("retries = 2\nretry_delay = \"1ms\"\n")), 0);
	f.s.p.sweeps[0].prune = PRUNE_MEDIAN;
	f.s.p.sweeps[0].startup_trials = 1;
	go_sweeps(&f, 4, 1, NULL);
	ck_assert_int_eq(f.res[node(&f, "s[x=9]")].status, ASSAY_OK);
	r1 = &f.res[node(&f, "s[x=1]")];
	ck_assert_int_eq(r1->status, ASSAY_SKIPPED);
	ck_assert_int_eq(r1->cause, ASSAY_OK);
	ck_assert(r1->pruned && r1->ran);
	ck_assert_int_eq(r1->pruned_step, 0);
	ck_assert_uint_eq(r1->attempts, 1);
	ck_assert_str_eq(r1->skip_reason, "pruned at step 0: acc 0.1 < median 0.9 of 1 trials");
	ck_assert_str_eq(r1->message, r1->skip_reason);
	ck_assert_double_eq(metric(r1, "acc"), 0.1);
	r5 = &f.res[node(&f, "s[x=5]")];
	ck_assert(r5->pruned);
	ck_assert_str_eq(r5->skip_reason, "pruned at step 0: acc 0.5 < median 0.9 of 1 trials");
	ck_assert_int_eq(run_worst(f.res, f.s.p.n_nodes), ASSAY_OK);
	ck_assert_uint_eq(sweeps_best(f.sw, 0), node(&f, "s[x=9]"));
	ck_assert(sweeps_best_metric(f.sw, 0, "acc", &v));
	ck_assert_double_eq(v, 0.9);
	run_fixture_free(&f);
}
END_TEST

/* The first trial reaches the target: the others never start, SKIPPED
 * with cause OK and the reason; no pruning. */
START_TEST(test_target_closes_the_sweep)
{
	fixture f;
	const run_result *r;
	char why[128];

	ck_assert_uint_eq(run_fixture_try(&f, SWEEP("")), 0);
	f.s.p.sweeps[0].has_target = true;
	f.s.p.sweeps[0].target = 0.85;
	go_sweeps(&f, 4, 1, NULL);
	ck_assert_int_eq(f.res[node(&f, "s[x=9]")].status, ASSAY_OK);
	r = &f.res[node(&f, "s[x=1]")];
	ck_assert_int_eq(r->status, ASSAY_SKIPPED);
	ck_assert_int_eq(r->cause, ASSAY_OK);
	ck_assert(!r->pruned && !r->ran);
	ck_assert_uint_eq(r->attempts, 0);
	ck_assert_str_eq(r->skip_reason, "target 0.85 reached by s[x=9]");
	ck_assert_str_eq(f.res[node(&f, "s[x=5]")].skip_reason, "target 0.85 reached by s[x=9]");
	sweeps_stopped(f.sw, 0, why, sizeof why);
	ck_assert_str_eq(why, "target 0.85 reached by s[x=9]");
	run_fixture_free(&f);
}
END_TEST

/* Failing trials: after max_failures in a row the rest are SKIPPED; the
 * exit status still says the failures. */
START_TEST(test_max_failures_closes_the_sweep)
{
	fixture f;

	ck_assert_uint_eq(run_fixture_try(&f, PROBE
			       "[trial.s]\ntype = \"probe\"\nmatrix = { x = [1, 2, 3, 4] }\n"
			       "max_parallel = 1\nstatus = 2\n"), 0);
	f.s.p.sweeps[0].max_failures = 2;
	go_sweeps(&f, 4, 1, NULL);
	ck_assert_int_eq(f.res[node(&f, "s[x=1]")].status, ASSAY_CRITICAL);
	ck_assert_int_eq(f.res[node(&f, "s[x=2]")].status, ASSAY_CRITICAL);
	ck_assert_int_eq(f.res[node(&f, "s[x=3]")].status, ASSAY_SKIPPED);
	ck_assert_str_eq(f.res[node(&f, "s[x=4]")].skip_reason,
			 "stopped after 2 consecutive failures");
	ck_assert_int_eq(run_worst(f.res, f.s.p.n_nodes), ASSAY_CRITICAL);
	run_fixture_free(&f);
}
END_TEST

/* A node after a sweep runs when the sweep has a best trial, though some
 * of its trials were pruned; after one without, it is SKIPPED naming the
 * sweep and why. */
START_TEST(test_node_after_a_sweep)
{
	fixture f;
	const run_result *r;

	ck_assert_uint_eq(run_fixture_try(&f, SWEEP("[check.final]\ntype = \"probe\"\nafter = [\"s\"]\n")), 0);
	f.s.p.sweeps[0].prune = PRUNE_MEDIAN;
	f.s.p.sweeps[0].startup_trials = 1;
	go_sweeps(&f, 4, 1, NULL);
	ck_assert(f.res[node(&f, "s[x=1]")].pruned);
	ck_assert_int_eq(f.res[node(&f, "final")].status, ASSAY_OK);
	run_fixture_free(&f);

	ck_assert_uint_eq(run_fixture_try(&f, PROBE
			       "[trial.s]\ntype = \"probe\"\nmatrix = { x = [1, 2] }\nstatus = 2\n"
			       "objective = { metric = \"acc\" }\n"
			       "[trial.t]\ntype = \"probe\"\nmatrix = { x = [1, 2] }\n"
			       "metrics = { acc = 1 }\nobjective = { metric = \"acc\" }\n"
			       "[check.final]\ntype = \"probe\"\nafter = [\"s\", \"t\"]\n"
			       "[check.one]\ntype = \"probe\"\nafter = [\"t[x=1]\"]\n"), 0);
	go_sweeps(&f, 4, 2, NULL);
	r = &f.res[node(&f, "final")];
	ck_assert_int_eq(r->status, ASSAY_SKIPPED);
	ck_assert_int_eq(r->cause, ASSAY_CRITICAL);
	ck_assert_str_eq(r->skip_reason, "sweep `s` has no best trial: 2 failed");
	/* After one trial alone: that trial's result, as any node's. */
	ck_assert_int_eq(f.res[node(&f, "one")].status, ASSAY_OK);
	run_fixture_free(&f);
}
END_TEST

/* run_prune on a trial that waits (from a subscriber, on the worker that
 * starts the first): it never starts, and ends pruned. */
static void prune_third(const run_event *ev, void *arg)
{
	fixture *f = arg;

	if (ev->node == node(f, "s[x=9]"))
		run_prune(f->r, node(f, "s[x=5]"), 7, "pruned by hand");
}

static void subscribe_prune_third(fixture *f)
{
	ck_assert_int_eq(run_subscribe(f->r, RUN_EVENT_START, prune_third, f), 0);
}

START_TEST(test_prune_a_waiting_trial)
{
	fixture f;
	const run_result *r;

	ck_assert_uint_eq(run_fixture_try(&f, SWEEP("")), 0);
	go_sweeps(&f, 4, 1, subscribe_prune_third);
	r = &f.res[node(&f, "s[x=5]")];
	ck_assert_int_eq(r->status, ASSAY_SKIPPED);
	ck_assert_int_eq(r->cause, ASSAY_OK);
	ck_assert(r->pruned && !r->ran);
	ck_assert_int_eq(r->pruned_step, 7);
	ck_assert_uint_eq(r->attempts, 0);
	ck_assert_str_eq(r->skip_reason, "pruned by hand");
	ck_assert_int_eq(f.res[node(&f, "s[x=1]")].status, ASSAY_OK);
	run_fixture_free(&f);
}
END_TEST

/* {best.PARAM} and {best.METRIC} in a node after the sweep, expanded
 * from the tracker (the probe reads its metrics through expand()); a
 * metric the best did not report makes the node UNKNOWN, naming it. */
START_TEST(test_best_placeholders)
{
	fixture f;
	const run_result *r;

	ck_assert_uint_eq(run_fixture_try(&f, SWEEP("[check.final]\ntype = \"probe\"\nafter = [\"s\"]\n"
					 "metrics = { bx = \"{best.x}\", bacc = \"{best.acc}\" }\n"
					 "[check.typo]\ntype = \"probe\"\nafter = \"s\"\n"
					 "message = \"{best.loss}\"\n")), 0);
	ck_assert_uint_eq(f.s.p.nodes[node(&f, "final")].after_sweep, 0);
	go_sweeps(&f, 4, 1, NULL);
	r = &f.res[node(&f, "final")];
	ck_assert_int_eq(r->status, ASSAY_OK);
	ck_assert_double_eq(metric(r, "bx"), 9);
	ck_assert_double_eq(metric(r, "bacc"), 0.9);
	r = &f.res[node(&f, "typo")];
	ck_assert_int_eq(r->status, ASSAY_UNKNOWN);
	ck_assert_str_eq(r->message, "{best.loss}: the best trial of sweep `s` reported no `loss`");
	run_fixture_free(&f);
}
END_TEST

/* A sweep with max_parallel = 1 runs its trials in declaration order,
 * however many workers launch the roots: a pruning rule's decisions
 * depend on that order. */
START_TEST(test_limited_sweep_runs_in_order)
{
	fixture f;
	size_t i;

	ck_assert_uint_eq(run_fixture_try(&f, PROBE
			       "[trial.a]\ntype = \"probe\"\nmatrix = { x = [1, 2, 3, 4, 5] }\n"
			       "[trial.s]\ntype = \"probe\"\nsleep = \"1ms\"\nmax_parallel = 1\n"
			       "matrix = { x = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13] }\n"
			       "[trial.b]\ntype = \"probe\"\nmatrix = { x = [1, 2, 3, 4, 5] }\n"), 0);
	go(&f, 64, 4, false, NULL);
	for (i = 1; i < 14; i++) {
		size_t prev = f.s.p.sweeps[1].first + i - 1, cur = prev + 1;

		ck_assert_msg(metric(&f.res[prev], "seq") < metric(&f.res[cur], "seq"),
			      "%s started after %s", f.s.p.nodes[prev].id, f.s.p.nodes[cur].id);
	}
	run_fixture_free(&f);
}
END_TEST

/* The same for a sweep that waits for a check, then for two (each one's
 * end may release some of the trials): released by a predecessor, its
 * trials still reach their limit in declaration order. */
static void after_sweep_in_order(const char *before, const char *after, size_t sweep)
{
	fixture f;
	char *text;
	size_t i;

	ck_assert_int_ne(asprintf(&text, PROBE "%s"
				  "[trial.s]\ntype = \"probe\"\nsleep = \"1ms\"\nmax_parallel = 1\n"
				  "after = [%s]\n"
				  "matrix = { x = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13] }\n",
				  before, after), -1);
	ck_assert_uint_eq(run_fixture_try(&f, text), 0);
	free(text);
	go(&f, 64, 4, false, NULL);
	for (i = 0; i < 14; i++)
		ck_assert_int_eq(f.res[f.s.p.sweeps[sweep].first + i].status, ASSAY_OK);
	for (i = 1; i < 14; i++) {
		size_t prev = f.s.p.sweeps[sweep].first + i - 1, cur = prev + 1;

		ck_assert_msg(metric(&f.res[prev], "seq") < metric(&f.res[cur], "seq"),
			      "%s started after %s", f.s.p.nodes[prev].id, f.s.p.nodes[cur].id);
	}
	run_fixture_free(&f);
}

START_TEST(test_limited_sweep_after_check_runs_in_order)
{
	after_sweep_in_order("[check.gate]\ntype = \"probe\"\n", "\"gate\"", 0);
}
END_TEST

START_TEST(test_limited_sweep_after_two_checks_runs_in_order)
{
	after_sweep_in_order("[check.g1]\ntype = \"probe\"\n[check.g2]\ntype = \"probe\"\n"
			     "[trial.a]\ntype = \"probe\"\nmatrix = { x = [1, 2, 3] }\n",
			     "\"g1\", \"g2\"", 1);
}
END_TEST

/* Launched in order, a limited sweep still runs max_parallel of its
 * trials at once when its type computes in run() (busy: the pool thread
 * is held): the trials are queued at the limit in order, and run on the
 * pool, not one after another on the thread that launches them.  A root
 * sweep and one after a check. */
static void busy_sweep_in_parallel(const char *before, const char *after, size_t sweep)
{
	fixture f;
	char *text;
	double most = 0;
	size_t i;

	ck_assert_int_ne(asprintf(&text, PROBE "%s"
				  "[trial.s]\ntype = \"probe\"\nbusy = \"100ms\"\nmax_parallel = 2\n"
				  "%s\nmatrix = { x = [0, 1, 2, 3] }\n",
				  before, after), -1);
	ck_assert_uint_eq(run_fixture_try(&f, text), 0);
	free(text);
	go(&f, 64, 4, false, NULL);
	for (i = 0; i < 4; i++) {
		const run_result *res = &f.res[f.s.p.sweeps[sweep].first + i];

		ck_assert_int_eq(res->status, ASSAY_OK);
		ck_assert_double_le(metric(res, "concurrent"), 2);
		if (metric(res, "concurrent") > most)
			most = metric(res, "concurrent");
	}
	ck_assert_double_eq(most, 2);
	run_fixture_free(&f);
}

START_TEST(test_limited_busy_sweep_runs_in_parallel)
{
	busy_sweep_in_parallel("", "", 0);
	busy_sweep_in_parallel("[check.gate]\ntype = \"probe\"\n", "after = [\"gate\"]", 0);
}
END_TEST

/* Such a sweep after a check that fails: every trial is skipped for it,
 * and so is the node after the sweep.  With --only keeping some of its
 * trials, those run, in order, and the others are not kept. */
START_TEST(test_limited_sweep_after_skips_and_only)
{
	fixture f;
	bool *keep;
	size_t i, first;

	ck_assert_uint_eq(run_fixture_try(&f, PROBE "[check.gate]\ntype = \"probe\"\nstatus = 2\n"
			       "[trial.s]\ntype = \"probe\"\nmax_parallel = 1\nafter = [\"gate\"]\n"
			       "matrix = { x = [0, 1, 2, 3, 4, 5, 6, 7] }\n"
			       "[check.z]\ntype = \"probe\"\nafter = [\"s\"]\n"), 0);
	go(&f, 64, 4, false, NULL);
	first = f.s.p.sweeps[0].first;
	for (i = first; i < first + 8; i++) {
		ck_assert_int_eq(f.res[i].status, ASSAY_SKIPPED);
		ck_assert_int_eq(f.res[i].cause, ASSAY_CRITICAL);
		ck_assert_str_eq(f.res[i].skip_reason, "dependency `gate` is CRITICAL");
	}
	ck_assert_int_eq(f.res[node(&f, "z")].status, ASSAY_SKIPPED);
	run_fixture_free(&f);

	ck_assert_uint_eq(run_fixture_try(&f, PROBE "[check.gate]\ntype = \"probe\"\n"
			       "[trial.s]\ntype = \"probe\"\nsleep = \"1ms\"\nmax_parallel = 1\n"
			       "after = [\"gate\"]\nmatrix = { x = [0, 1, 2, 3, 4, 5, 6, 7] }\n"), 0);
	ck_assert_ptr_nonnull(keep = calloc(f.s.p.n_nodes, sizeof *keep));
	first = f.s.p.sweeps[0].first;
	for (i = first + 2; i < first + 6; i++)
		keep[i] = true;
	graph_closure(&f.s.g, keep);
	go(&f, 64, 4, false, keep);
	ck_assert_int_eq(f.res[node(&f, "gate")].status, ASSAY_OK);
	for (i = first; i < first + 8; i++)
		ck_assert(f.res[i].kept == (i >= first + 2 && i < first + 6));
	for (i = first + 2; i < first + 6; i++)
		ck_assert_int_eq(f.res[i].status, ASSAY_OK);
	for (i = first + 3; i < first + 6; i++)
		ck_assert_msg(metric(&f.res[i - 1], "seq") < metric(&f.res[i], "seq"),
			      "%s started after %s", f.s.p.nodes[i - 1].id, f.s.p.nodes[i].id);
	run_fixture_free(&f);
	free(keep);
}
END_TEST

static int count_step(void *ctx, assay_task *t, const char *name, double value, int64_t step)
{
	(*(int *)ctx)++;
	return 0;
}

/* The host table's report_step: what it refuses, that it reaches the run
 * for trials only; task_prune() only for the execution it names. */
START_TEST(test_report_step_host)
{
	const assay_host *h = host_table();
	plan_node trial = { .kind = ASSAY_KIND_TRIAL }, other = { .kind = ASSAY_KIND_CHECK };
	assay_task t;
	int calls = 0;

	memset(&t, 0, sizeof t);
	task_create(&t);
	t.report_step = count_step;
	t.spawn_ctx = &calls;
	t.node = &other;
	ck_assert_int_eq(h->report_step(&t, "acc", 1, 0), 0);
	ck_assert_int_eq(calls, 0);
	t.node = &trial;
	ck_assert_int_eq(h->report_step(&t, "acc", NAN, 0), ASSAY_EINVAL);
	ck_assert_int_eq(h->report_step(&t, "acc", 1, -1), ASSAY_EINVAL);
	ck_assert_int_eq(h->report_step(&t, NULL, 1, 0), ASSAY_EINVAL);
	ck_assert_int_eq(h->report_step(&t, "", 1, 0), ASSAY_EINVAL);
	ck_assert_int_eq(calls, 0);
	ck_assert_int_eq(h->report_step(&t, "acc", INFINITY, 3), 0);
	ck_assert_int_eq(calls, 1);
	task_begin(&t, &trial, NULL, 0, &calls);
	task_prune(&t, &other, &calls); /* another node's: left alone */
	task_prune(&t, &trial, NULL);   /* another execution's */
	ck_assert(!h->task_pruned(&t) && !atomic_load(&t.cancelled));
	task_prune(&t, &trial, &calls);
	ck_assert(h->task_pruned(&t) && atomic_load(&t.cancelled));
	task_begin(&t, &trial, NULL, 0, &calls); /* the next execution starts clean */
	ck_assert(!h->task_pruned(&t));
	task_destroy(&t);
}
END_TEST

static Suite *run_suite(void)
{
	Suite *s = suite_create("run");
	TCase *tc = tcase_create("run");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, run_fixture_leave);
	tcase_add_test(tc, test_chain_and_declaration_order);
	tcase_add_test(tc, test_quick_run_on_reactor);
	tcase_add_test(tc, test_run_if_and_skip_reasons);
	tcase_add_test(tc, test_failed_gate_skips_everything);
	tcase_add_test(tc, test_warning_gate);
	tcase_add_test(tc, test_skip_option);
	tcase_add_test(tc, test_skipped_dependency_is_no_success);
	tcase_add_test(tc, test_jobs_limit);
	tcase_add_test(tc, test_max_parallel_of_a_matrix);
	tcase_add_test(tc, test_retries);
	tcase_add_test(tc, test_timeout);
	tcase_add_test(tc, test_fail_fast);
	tcase_add_test(tc, test_resources_fifo);
	tcase_add_test(tc, test_stop);
	tcase_add_test(tc, test_stop_during_backoff);
	tcase_add_test(tc, test_stop_while_waiting);
	tcase_add_test(tc, test_only_closure);
	tcase_add_test(tc, test_validation_items);
	tcase_add_loop_test(tc, test_long_chains, 0, 2);
	tcase_add_test(tc, test_cycle_is_reported_as_a_path);
	tcase_add_test(tc, test_long_cycle_names_are_whole);
	tcase_add_test(tc, test_progress_eta_parallel);
	tcase_add_test(tc, test_progress_eta_critical_path);
	tcase_add_test(tc, test_progress_eta_observed);
	tcase_add_test(tc, test_progress_eta_items);
	tcase_add_test(tc, test_progress_sweep_block);
	tcase_add_test(tc, test_progress_sweep_block_pruned_point);
	tcase_add_test(tc, test_progress_plain_lines);
	tcase_add_test(tc, test_progress_counts_a_run);
	tcase_add_test(tc, test_events_order_and_kinds);
	tcase_add_test(tc, test_run_owns_the_host_reactor);
	tcase_add_test(tc, test_resources_polled_and_refused);
	tcase_add_test(tc, test_devices_best_first);
	tcase_add_test(tc, test_devices_leave_slots_to_others);
	tcase_add_test(tc, test_devices_jobs_never_exceeded);
	tcase_add_test(tc, test_devices_released_on_every_path);
	tcase_add_test(tc, test_devices_wait_times_out);
	tcase_add_test(tc, test_resources_refusal_says_why);
	tcase_add_test(tc, test_graph_edges_and_critical_path);
	tcase_add_test(tc, test_trial_dirs);
	tcase_add_test(tc, test_prune_running_trials);
	tcase_add_test(tc, test_target_closes_the_sweep);
	tcase_add_test(tc, test_max_failures_closes_the_sweep);
	tcase_add_test(tc, test_node_after_a_sweep);
	tcase_add_test(tc, test_prune_a_waiting_trial);
	tcase_add_test(tc, test_best_placeholders);
	tcase_add_test(tc, test_report_step_host);
	tcase_add_loop_test(tc, test_limited_sweep_runs_in_order, 0, 5);
	tcase_add_loop_test(tc, test_limited_sweep_after_check_runs_in_order, 0, 10);
	tcase_add_loop_test(tc, test_limited_sweep_after_two_checks_runs_in_order, 0, 10);
	tcase_add_loop_test(tc, test_limited_sweep_after_skips_and_only, 0, 3);
	tcase_add_test(tc, test_limited_busy_sweep_runs_in_parallel);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(run_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
