/* check_pool.c -- tests for core/pool.c: every job runs exactly once,
 * where submitted jobs land, stealing, parking, and teardown. */

#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "assay/plugin.h"
#include "pool.h"

#define WAIT_S 60 /* the most any test waits for its jobs */
#define MAX_WORKERS 8

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

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ---- a count jobs bump and the test waits on ---------------------------- */

struct counter {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	atomic_size_t done;
	atomic_size_t target; /* tests that reuse a counter raise it */
	size_t signalled;     /* the target the last bump announced; lock */
};

static void counter_init(struct counter *c, size_t target)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, &attr);
	pthread_condattr_destroy(&attr);
	atomic_init(&c->done, 0);
	atomic_init(&c->target, target);
	c->signalled = 0;
}

static void counter_destroy(struct counter *c)
{
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->lock);
}

static void counter_bump(struct counter *c)
{
	size_t reached = atomic_fetch_add(&c->done, 1) + 1;

	/* Only the last bump signals. The waiter returns on what this bump
	 * writes under the lock, not on done, so that it cannot destroy the
	 * counter while this thread is still about to lock it. */
	if (reached == atomic_load(&c->target)) {
		pthread_mutex_lock(&c->lock);
		c->signalled = reached;
		pthread_cond_broadcast(&c->cond);
		pthread_mutex_unlock(&c->lock);
	}
}

/* true once target is reached, false after WAIT_S seconds. */
static bool counter_wait(struct counter *c)
{
	size_t target = atomic_load(&c->target);
	struct timespec deadline;
	bool reached;
	int rc = 0;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += WAIT_S;
	pthread_mutex_lock(&c->lock);
	while (c->signalled < target && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&c->cond, &c->lock, &deadline);
	reached = c->signalled >= target;
	pthread_mutex_unlock(&c->lock);
	return reached;
}

/* ---- jobs that count their runs ----------------------------------------- */

struct cjob;

struct ctx {
	pool *p;
	struct counter *count;
	_Atomic unsigned char *runs; /* how often each job ran */
	atomic_size_t bad;	     /* jobs that saw something wrong */
	atomic_uint by_worker[MAX_WORKERS];
	struct cjob *jobs;	     /* for a tree: numbered as a heap */
	size_t njobs;
	uint64_t spin_ns;	     /* how long a spin_job keeps its worker */
};

struct cjob {
	pool_job job; /* first, so a pool_job * is a struct cjob * */
	struct ctx *ctx;
	size_t id;
};

static void ctx_init(struct ctx *c, pool *p, struct counter *count, size_t n,
		     void (*fn)(pool_job *))
{
	size_t i;

	memset(c, 0, sizeof(*c));
	c->p = p;
	c->count = count;
	c->njobs = n;
	c->runs = calloc(n, 1);
	c->jobs = calloc(n, sizeof(*c->jobs));
	ck_assert_ptr_nonnull(c->runs);
	ck_assert_ptr_nonnull(c->jobs);
	for (i = 0; i < n; i++) {
		c->jobs[i].job.fn = fn;
		c->jobs[i].ctx = c;
		c->jobs[i].id = i;
	}
}

static void ctx_release(struct ctx *c)
{
	free((void *)c->runs);
	free(c->jobs);
}

/* Marks the run and checks that it happens on one of the pool's workers. */
static void cjob_ran(struct cjob *j)
{
	struct ctx *c = j->ctx;
	int w = pool_worker_index(c->p);
	bool ok = true;

	if (w < 0 || (unsigned)w >= pool_workers(c->p) || w >= MAX_WORKERS)
		ok = false;
	else
		atomic_fetch_add_explicit(&c->by_worker[w], 1,
					  memory_order_relaxed);
	if (atomic_fetch_add_explicit(&c->runs[j->id], 1, memory_order_relaxed))
		ok = false;
	if (!ok)
		atomic_fetch_add(&c->bad, 1);
}

static void count_job(pool_job *job)
{
	struct cjob *j = (struct cjob *)job;

	cjob_ran(j);
	counter_bump(j->ctx->count);
}

/* A node of a binary tree submits its two children from the worker it runs
 * on: the common case of a finished node submitting its successors. */
static void tree_job(pool_job *job)
{
	struct cjob *j = (struct cjob *)job;
	struct ctx *c = j->ctx;
	size_t k;

	cjob_ran(j);
	for (k = 2 * j->id + 1; k <= 2 * j->id + 2 && k < c->njobs; k++) {
		/* Filled in here, not beforehand, so that a thief relies on
		 * the deque to see it (and TSan checks that it does). */
		c->jobs[k] = (struct cjob){ { tree_job, NULL }, c, k };
		if (pool_submit(c->p, &c->jobs[k].job))
			atomic_fetch_add(&c->bad, 1);
	}
	counter_bump(c->count);
}

/* Keeps its worker busy for a while, so the others have time to steal. */
static void spin_job(pool_job *job)
{
	struct cjob *j = (struct cjob *)job;
	uint64_t end = clock_ns(CLOCK_MONOTONIC) + j->ctx->spin_ns;

	cjob_ran(j);
	while (clock_ns(CLOCK_MONOTONIC) < end)
		;
	counter_bump(j->ctx->count);
}

/* Job 0 fills in all the others and submits them from its worker. */
static void spawn_job(pool_job *job)
{
	struct cjob *j = (struct cjob *)job;
	struct ctx *c = j->ctx;
	size_t k;

	cjob_ran(j);
	for (k = 1; k < c->njobs; k++) {
		c->jobs[k] = (struct cjob){ { spin_job, NULL }, c, k };
		if (pool_submit(c->p, &c->jobs[k].job))
			atomic_fetch_add(&c->bad, 1);
	}
	counter_bump(c->count);
}

/* Submits every job from this (non-worker) thread; ck_assert is too slow
 * for a million calls, so failures are counted. */
static void submit_all(struct ctx *c)
{
	size_t i, failed = 0;

	for (i = 0; i < c->njobs; i++)
		failed += pool_submit(c->p, &c->jobs[i].job) != 0;
	ck_assert_uint_eq(failed, 0);
}

static void assert_ran_once(struct ctx *c)
{
	size_t i, wrong = 0;

	for (i = 0; i < c->njobs; i++)
		wrong += atomic_load_explicit(&c->runs[i],
					      memory_order_relaxed) != 1;
	ck_assert_msg(wrong == 0, "%zu of %zu jobs did not run exactly once",
		      wrong, c->njobs);
	ck_assert_uint_eq(atomic_load(&c->bad), 0);
}

static void assert_waited(struct counter *count)
{
	ck_assert_msg(counter_wait(count), "only %zu of %zu jobs ran",
		      atomic_load(&count->done), atomic_load(&count->target));
}

/* The largest depth whose tree has at most `nodes` nodes. */
static unsigned tree_depth(unsigned depth, size_t nodes)
{
	while (depth > 1 && ((size_t)2 << depth) - 1 > nodes)
		depth--;
	return depth;
}

/* `external` jobs from this thread and a tree of the given depth, started
 * by one job from this thread, all at once. */
static void run_mixed(unsigned workers, size_t external, unsigned depth)
{
	size_t nodes = ((size_t)2 << depth) - 1, i, total = 0;
	struct ctx ext, tree;
	struct counter count;
	pool *p;

	ck_assert_int_eq(pool_new(&p, workers), 0);
	ck_assert_uint_eq(pool_workers(p), workers);
	ck_assert_int_eq(pool_worker_index(p), -1);
	counter_init(&count, external + nodes);
	ctx_init(&ext, p, &count, external, count_job);
	ctx_init(&tree, p, &count, nodes, tree_job);
	ck_assert_int_eq(pool_submit(p, &tree.jobs[0].job), 0);
	submit_all(&ext);
	assert_waited(&count);
	ck_assert_int_eq(pool_worker_index(p), -1);
	pool_free(p);
	assert_ran_once(&ext);
	assert_ran_once(&tree);
	for (i = 0; i < MAX_WORKERS; i++)
		total += atomic_load(&ext.by_worker[i]) +
			 atomic_load(&tree.by_worker[i]);
	ck_assert_uint_eq(total, external + nodes);
	ctx_release(&ext);
	ctx_release(&tree);
	counter_destroy(&count);
}

START_TEST(test_external)
{
	run_mixed(4, scaled(1000000), 0);
}
END_TEST

START_TEST(test_tree)
{
	run_mixed(4, 0, tree_depth(18, scaled((size_t)1 << 19)));
}
END_TEST

START_TEST(test_mixed)
{
	run_mixed(2, scaled(200000), tree_depth(16, scaled((size_t)1 << 17)));
}
END_TEST

START_TEST(test_one_worker)
{
	run_mixed(1, scaled(100000), tree_depth(14, scaled((size_t)1 << 15)));
}
END_TEST

START_TEST(test_bad_args)
{
	pool *p = (pool *)&p;

	ck_assert_int_eq(pool_new(&p, 0), ASSAY_EINVAL);
	ck_assert_ptr_null(p);
	pool_free(NULL);
}
END_TEST

/* ---- where jobs land ---------------------------------------------------- */

struct ojob {
	pool_job job;
	struct octx *ctx;
	int id;
};

struct octx {
	pool *p;
	struct counter count;
	atomic_bool release;	/* lets the blocker return */
	atomic_int started;
	atomic_int n;
	int order[16];		/* ids in the order they ran */
	struct ojob jobs[10];
};

static void order_job(pool_job *job)
{
	struct ojob *j = (struct ojob *)job;
	struct octx *c = j->ctx;

	c->order[atomic_fetch_add(&c->n, 1)] = j->id;
	counter_bump(&c->count);
}

static void blocker_job(pool_job *job)
{
	struct ojob *j = (struct ojob *)job;

	atomic_store(&j->ctx->started, 1);
	while (!atomic_load(&j->ctx->release))
		sleep_ms(1);
	counter_bump(&j->ctx->count);
}

static void submit_children_job(pool_job *job)
{
	struct ojob *j = (struct ojob *)job;
	struct octx *c = j->ctx;
	int i;

	for (i = 0; i < 10; i++)
		pool_submit(c->p, &c->jobs[i].job);
	counter_bump(&c->count);
}

static void octx_init(struct octx *c, pool *p, size_t target)
{
	int i;

	memset(c, 0, sizeof(*c));
	c->p = p;
	counter_init(&c->count, target);
	for (i = 0; i < 10; i++) {
		c->jobs[i].job.fn = order_job;
		c->jobs[i].ctx = c;
		c->jobs[i].id = i;
	}
}

/* With one worker the order shows the queue: jobs from outside go through
 * the FIFO injection queue, jobs from a worker onto its own deque, which it
 * takes LIFO. */
START_TEST(test_landing)
{
	struct ojob first;
	struct octx c;
	pool *p;
	int i;

	ck_assert_int_eq(pool_new(&p, 1), 0);

	octx_init(&c, p, 11);
	first = (struct ojob){ { blocker_job, NULL }, &c, -1 };
	ck_assert_int_eq(pool_submit(p, &first.job), 0);
	while (!atomic_load(&c.started))
		sleep_ms(1);
	for (i = 0; i < 10; i++)
		ck_assert_int_eq(pool_submit(p, &c.jobs[i].job), 0);
	atomic_store(&c.release, true);
	assert_waited(&c.count);
	for (i = 0; i < 10; i++)
		ck_assert_int_eq(c.order[i], i);
	counter_destroy(&c.count);

	octx_init(&c, p, 11);
	first = (struct ojob){ { submit_children_job, NULL }, &c, -1 };
	ck_assert_int_eq(pool_submit(p, &first.job), 0);
	assert_waited(&c.count);
	for (i = 0; i < 10; i++)
		ck_assert_int_eq(c.order[i], 9 - i);
	counter_destroy(&c.count);

	pool_free(p);
}
END_TEST

struct xjob {
	pool_job job;
	pool *a, *b;
	struct xjob *next; /* submitted to b from a's worker */
	atomic_int ia, ib; /* the indices seen, in a and in b */
	struct counter *count;
};

static void cross_job(pool_job *job)
{
	struct xjob *j = (struct xjob *)job;

	atomic_store(&j->ia, pool_worker_index(j->a));
	atomic_store(&j->ib, pool_worker_index(j->b));
	if (j->next && pool_submit(j->b, &j->next->job))
		atomic_store(&j->ib, -100);
	counter_bump(j->count);
}

/* A worker of one pool is not a worker of another: what it submits there
 * goes through that pool's injection queue. */
START_TEST(test_worker_index)
{
	struct xjob second, first;
	struct counter count;
	pool *a, *b;

	ck_assert_int_eq(pool_new(&a, 2), 0);
	ck_assert_int_eq(pool_new(&b, 1), 0);
	counter_init(&count, 2);
	second = (struct xjob){ { cross_job, NULL }, a, b, NULL, 7, 7, &count };
	first = (struct xjob){ { cross_job, NULL }, a, b, &second, 7, 7, &count };
	ck_assert_int_eq(pool_submit(a, &first.job), 0);
	assert_waited(&count);
	ck_assert_int_ge(atomic_load(&first.ia), 0);
	ck_assert_int_lt(atomic_load(&first.ia), 2);
	ck_assert_int_eq(atomic_load(&first.ib), -1);
	ck_assert_int_eq(atomic_load(&second.ia), -1);
	ck_assert_int_eq(atomic_load(&second.ib), 0);
	ck_assert_int_eq(pool_worker_index(a), -1);
	ck_assert_int_eq(pool_worker_index(b), -1);
	pool_free(b);
	pool_free(a);
	counter_destroy(&count);
}
END_TEST

/* ---- stealing, parking, teardown ---------------------------------------- */

/* One job on one worker submits 10000 jobs to its own deque: only stealing
 * gets them to any other worker. */
START_TEST(test_steal)
{
	struct counter count;
	struct ctx c;
	unsigned i, used = 0;
	pool *p;

	ck_assert_int_eq(pool_new(&p, 4), 0);
	counter_init(&count, 10001);
	ctx_init(&c, p, &count, 10001, spin_job);
	c.jobs[0].job.fn = spawn_job;
	c.spin_ns = 2000;
	ck_assert_int_eq(pool_submit(p, &c.jobs[0].job), 0);
	assert_waited(&count);
	pool_free(p);
	assert_ran_once(&c);
	for (i = 0; i < MAX_WORKERS; i++)
		used += atomic_load(&c.by_worker[i]) > 0;
	ck_assert_msg(used > 1, "only one worker ran the jobs");
	ctx_release(&c);
	counter_destroy(&count);
}
END_TEST

/* After the work is done the workers park: no timed polling. */
START_TEST(test_idle_parks)
{
	struct ctx ext, tree;
	struct counter count;
	uint64_t cpu;
	pool *p;

	ck_assert_int_eq(pool_new(&p, 4), 0);
	counter_init(&count, 100000 + 4095);
	ctx_init(&ext, p, &count, 100000, count_job);
	ctx_init(&tree, p, &count, 4095, tree_job);
	ck_assert_int_eq(pool_submit(p, &tree.jobs[0].job), 0);
	submit_all(&ext);
	assert_waited(&count);

	cpu = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	sleep_ms(200);
	cpu = clock_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu;
	ck_assert_msg(cpu < 20000000, "idle pool used %llu us of CPU in 200 ms",
		      (unsigned long long)cpu / 1000);

	/* And a parked pool still wakes up for new work. */
	atomic_fetch_add(&count.target, 100);
	ctx_release(&ext);
	ctx_init(&ext, p, &count, 100, count_job);
	submit_all(&ext);
	assert_waited(&count);
	pool_free(p);
	assert_ran_once(&ext);
	ctx_release(&ext);
	ctx_release(&tree);
	counter_destroy(&count);
}
END_TEST

/* Parked or starting, workers see the stop at once. */
START_TEST(test_free_prompt)
{
	uint64_t t;
	pool *p;
	int i;

	ck_assert_int_eq(pool_new(&p, 4), 0);
	sleep_ms(50);
	t = clock_ns(CLOCK_MONOTONIC);
	pool_free(p);
	t = clock_ns(CLOCK_MONOTONIC) - t;
	ck_assert_msg(t < 100000000, "pool_free took %llu ms",
		      (unsigned long long)t / 1000000);

	for (i = 0; i < 50; i++) {
		ck_assert_int_eq(pool_new(&p, 8), 0);
		pool_free(p);
	}
}
END_TEST

static void *release_later(void *arg)
{
	struct octx *oc = arg;

	sleep_ms(100);
	atomic_store(&oc->release, true);
	return NULL;
}

/* A running job finishes; the queued ones are dropped, not run. */
START_TEST(test_free_drops_queued)
{
	struct counter count;
	struct ojob blocker;
	struct octx oc;
	struct ctx c;
	pthread_t th;
	pool *p;

	ck_assert_int_eq(pool_new(&p, 1), 0);
	octx_init(&oc, p, 1);
	blocker = (struct ojob){ { blocker_job, NULL }, &oc, -1 };
	ck_assert_int_eq(pool_submit(p, &blocker.job), 0);
	while (!atomic_load(&oc.started))
		sleep_ms(1);
	counter_init(&count, 1000);
	ctx_init(&c, p, &count, 1000, count_job);
	submit_all(&c);
	/* The blocker returns only once pool_free is under way: it will
	 * have set the stop flag well within 100 ms. */
	ck_assert_int_eq(pthread_create(&th, NULL, release_later, &oc), 0);
	pool_free(p);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	ck_assert_uint_eq(atomic_load(&oc.count.done), 1);
	ck_assert_uint_eq(atomic_load(&count.done), 0);
	ctx_release(&c);
	counter_destroy(&count);
	counter_destroy(&oc.count);
}
END_TEST

/* One job at a time, into a pool that is sometimes busy, sometimes
 * spinning and sometimes parked: a lost wakeup would leave a job queued
 * with every worker asleep, and the wait would time out. */
static void ping_pong(unsigned workers, int rounds)
{
	struct counter count;
	struct ctx c;
	pool *p;
	int i;

	ck_assert_int_eq(pool_new(&p, workers), 0);
	counter_init(&count, 0);
	ctx_init(&c, p, &count, (size_t)rounds, count_job);
	for (i = 0; i < rounds; i++) {
		atomic_store(&count.target, (size_t)i + 1);
		ck_assert_int_eq(pool_submit(p, &c.jobs[i].job), 0);
		assert_waited(&count);
		if (i % 4 == 1)
			sleep_ms(1);
	}
	pool_free(p);
	assert_ran_once(&c);
	ctx_release(&c);
	counter_destroy(&count);
}

START_TEST(test_wakeups)
{
	ping_pong(1, 1000);
	ping_pong(4, 1000);
}
END_TEST

static Suite *pool_suite(void)
{
	Suite *s = suite_create("pool");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 2 * WAIT_S);
	tcase_add_test(tc, test_bad_args);
	tcase_add_test(tc, test_external);
	tcase_add_test(tc, test_tree);
	tcase_add_test(tc, test_mixed);
	tcase_add_test(tc, test_one_worker);
	tcase_add_test(tc, test_landing);
	tcase_add_test(tc, test_worker_index);
	tcase_add_test(tc, test_steal);
	tcase_add_test(tc, test_idle_parks);
	tcase_add_test(tc, test_free_prompt);
	tcase_add_test(tc, test_free_drops_queued);
	tcase_add_test(tc, test_wakeups);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(pool_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0;
}
