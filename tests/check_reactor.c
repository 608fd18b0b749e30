/* check_reactor.c -- tests for core/reactor.c: timer order and cancellation
 * (stale handles included), fd watches, child exits (pidfd and the waitpid
 * poll), calls from any thread, and teardown with work still pending. */

#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "reactor.h"

#define WAIT_NS (5 * 1000000000ull) /* the most any test waits for an event */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- a counter callbacks bump and the test waits on ------------------- */

struct sync {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int count;
};

static void sync_init(struct sync *s)
{
	pthread_condattr_t a;

	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cond, &a);
	pthread_condattr_destroy(&a);
	s->count = 0;
}

static void sync_release(struct sync *s)
{
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
}

static void sync_bump(struct sync *s)
{
	pthread_mutex_lock(&s->lock);
	s->count++;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

/* Caller holds s->lock.  False if *flag stayed below n for WAIT_NS. */
static bool wait_locked(struct sync *s, const int *flag, int n)
{
	uint64_t end = now_ns() + WAIT_NS;
	struct timespec ts = { .tv_sec = (time_t)(end / 1000000000ull),
			       .tv_nsec = (long)(end % 1000000000ull) };

	while (*flag < n)
		if (pthread_cond_timedwait(&s->cond, &s->lock, &ts) == ETIMEDOUT)
			return *flag >= n;
	return true;
}

static bool sync_wait(struct sync *s, int n)
{
	bool ok;

	pthread_mutex_lock(&s->lock);
	ok = wait_locked(s, &s->count, n);
	pthread_mutex_unlock(&s->lock);
	return ok;
}

static int sync_count(struct sync *s)
{
	int n;

	pthread_mutex_lock(&s->lock);
	n = s->count;
	pthread_mutex_unlock(&s->lock);
	return n;
}

static void bump_cb(void *arg)
{
	sync_bump(arg);
}

/* Callbacks run one at a time in order, so once a later timer fired, every
 * event that was going to happen before it has happened. */
static void settle(reactor *r, uint64_t ms)
{
	struct sync s;

	sync_init(&s);
	ck_assert_int_eq(reactor_timer_start(r, ms, bump_cb, &s, NULL), 0);
	ck_assert(sync_wait(&s, 1));
	sync_release(&s);
}

/* ---- timers -------------------------------------------------------------- */

struct order_ctx {
	struct sync s;
	int order[1000];
};

struct otimer {
	struct order_ctx *ctx;
	int id;
	uint64_t ms;
	uint64_t lo, hi; /* the reactor's deadline lies between these */
	uint64_t fired;
};

static void tm_cb(void *arg)
{
	struct otimer *t = arg;

	t->fired = now_ns();
	pthread_mutex_lock(&t->ctx->s.lock);
	t->ctx->order[t->ctx->s.count++] = t->id;
	pthread_cond_broadcast(&t->ctx->s.cond);
	pthread_mutex_unlock(&t->ctx->s.lock);
}

static void tm_start(reactor *r, struct otimer *t)
{
	t->lo = now_ns() + t->ms * 1000000ull;
	ck_assert_int_eq(reactor_timer_start(r, t->ms, tm_cb, t, NULL), 0);
	t->hi = now_ns() + t->ms * 1000000ull;
}

/* Fired in deadline order, never before the deadline. */
static void tm_check(struct order_ctx *ctx, struct otimer *tm, int n)
{
	int a, b;

	for (a = 0; a < n; a++) {
		struct otimer *t = &tm[ctx->order[a]];

		ck_assert_uint_ge(t->fired, t->lo);
		for (b = a + 1; b < n; b++)
			ck_assert_msg(!(tm[ctx->order[b]].hi < t->lo),
				      "timer %d (%llu ms) fired before %d (%llu ms)",
				      t->id, (unsigned long long)t->ms,
				      tm[ctx->order[b]].id,
				      (unsigned long long)tm[ctx->order[b]].ms);
	}
}

START_TEST(test_timer_order)
{
	static const uint64_t ms[] = { 50, 10, 40, 0, 30, 20, 1, 45, 5, 25 };
	enum { N = sizeof(ms) / sizeof(ms[0]) };
	struct order_ctx ctx;
	struct otimer tm[N];
	reactor *r;
	int i;

	sync_init(&ctx.s);
	ck_assert_int_eq(reactor_new(&r), 0);
	for (i = 0; i < N; i++) {
		tm[i] = (struct otimer){ .ctx = &ctx, .id = i, .ms = ms[i] };
		tm_start(r, &tm[i]);
	}
	ck_assert(sync_wait(&ctx.s, N));
	reactor_free(r);
	/* Not simply sorted by ms: a preempted test may start a short timer
	 * after a longer one is due; tm_check allows for that. */
	tm_check(&ctx, tm, N);
	sync_release(&ctx.s);
}
END_TEST

START_TEST(test_timer_many)
{
	enum { N = 1000 };
	struct order_ctx ctx;
	struct otimer *tm = calloc(N, sizeof(*tm));
	reactor *r;
	int i;

	ck_assert_ptr_nonnull(tm);
	sync_init(&ctx.s);
	ck_assert_int_eq(reactor_new(&r), 0);
	for (i = 0; i < N; i++) {
		tm[i] = (struct otimer){ .ctx = &ctx, .id = i,
				     .ms = (uint64_t)(i * 7919 % 97) };
		tm_start(r, &tm[i]);
	}
	ck_assert(sync_wait(&ctx.s, N));
	reactor_free(r);
	tm_check(&ctx, tm, N);
	sync_release(&ctx.s);
	free(tm);
}
END_TEST

START_TEST(test_timer_stop)
{
	struct sync s;
	assay_timer *t = NULL;
	reactor *r;

	sync_init(&s);
	ck_assert_int_eq(reactor_new(&r), 0);
	ck_assert_int_eq(reactor_timer_start(r, 20, bump_cb, &s, &t), 0);
	ck_assert_ptr_nonnull(t);
	reactor_timer_stop(r, t);
	settle(r, 40);
	ck_assert_int_eq(sync_count(&s), 0);
	reactor_timer_stop(r, NULL);
	reactor_free(r);
	sync_release(&s);
}
END_TEST

struct stopper {
	reactor *r;
	assay_timer *victim, *self;
	struct sync s;
};

static void stop_victim_cb(void *arg)
{
	struct stopper *st = arg;

	reactor_timer_stop(st->r, st->victim);
	/* plugin.h allows a timer to stop itself from its own callback */
	reactor_timer_stop(st->r, st->self);
	sync_bump(&st->s);
}

START_TEST(test_timer_stop_from_callback)
{
	struct stopper st = { 0 };
	struct sync victim;

	sync_init(&st.s);
	sync_init(&victim);
	ck_assert_int_eq(reactor_new(&st.r), 0);
	ck_assert_int_eq(reactor_timer_start(st.r, 30, bump_cb, &victim,
					     &st.victim), 0);
	ck_assert_int_eq(reactor_timer_start(st.r, 10, stop_victim_cb, &st,
					     &st.self), 0);
	ck_assert(sync_wait(&st.s, 1));
	settle(st.r, 60);
	ck_assert_int_eq(sync_count(&st.s), 1);
	ck_assert_int_eq(sync_count(&victim), 0);
	reactor_free(st.r);
	sync_release(&victim);
	sync_release(&st.s);
}
END_TEST

/* A callback that holds the reactor thread until the test lets it go, to
 * prove that stop/unwatch from elsewhere waits for it. */
struct blocker {
	struct sync s;
	reactor *r;
	assay_timer *t;
	assay_watch *w;
	int entered, released, finished, calls;
	int seen_finished; /* `finished` as the stopping thread saw it on return */
	bool returned;
};

static void blocker_run(struct blocker *b)
{
	pthread_mutex_lock(&b->s.lock);
	b->calls++;
	b->entered = 1;
	pthread_cond_broadcast(&b->s.cond);
	wait_locked(&b->s, &b->released, 1);
	b->finished = 1;
	pthread_mutex_unlock(&b->s.lock);
}

static void blocker_timer_cb(void *arg)
{
	blocker_run(arg);
}

static void blocker_fd_cb(int fd, unsigned events, void *arg)
{
	(void)fd;
	(void)events;
	blocker_run(arg);
}

static void *blocker_stop(void *arg)
{
	struct blocker *b = arg;

	if (b->t)
		reactor_timer_stop(b->r, b->t);
	else
		reactor_fd_unwatch(b->r, b->w);
	pthread_mutex_lock(&b->s.lock);
	b->seen_finished = b->finished;
	b->returned = true;
	pthread_mutex_unlock(&b->s.lock);
	return NULL;
}

static void blocker_check(struct blocker *b)
{
	pthread_t th;
	bool returned;

	pthread_mutex_lock(&b->s.lock);
	ck_assert(wait_locked(&b->s, &b->entered, 1));
	pthread_mutex_unlock(&b->s.lock);
	ck_assert_int_eq(pthread_create(&th, NULL, blocker_stop, b), 0);
	/* Not synchronisation: the time the stopper gets to return too early. */
	usleep(50 * 1000);
	pthread_mutex_lock(&b->s.lock);
	returned = b->returned;
	b->released = 1;
	pthread_cond_broadcast(&b->s.cond);
	pthread_mutex_unlock(&b->s.lock);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	ck_assert(!returned);
	ck_assert_int_eq(b->seen_finished, 1);
}

START_TEST(test_timer_stop_waits)
{
	struct blocker b = { 0 };

	sync_init(&b.s);
	ck_assert_int_eq(reactor_new(&b.r), 0);
	ck_assert_int_eq(reactor_timer_start(b.r, 0, blocker_timer_cb, &b,
					     &b.t), 0);
	blocker_check(&b);
	reactor_free(b.r);
	ck_assert_int_eq(b.calls, 1);
	sync_release(&b.s);
}
END_TEST

/* Handles are generation-checked ids: stopping a timer that already fired
 * is a no-op, from any thread, however late. */
struct late_stop {
	reactor *r;
	assay_timer *t;
};

static void *late_stop_run(void *arg)
{
	struct late_stop *ls = arg;

	reactor_timer_stop(ls->r, ls->t);
	return NULL;
}

START_TEST(test_timer_stop_after_fire)
{
	struct late_stop ls = { 0 };
	struct sync s;
	pthread_t th;

	sync_init(&s);
	ck_assert_int_eq(reactor_new(&ls.r), 0);
	ck_assert_int_eq(reactor_timer_start(ls.r, 0, bump_cb, &s, &ls.t), 0);
	ck_assert_ptr_nonnull(ls.t);
	ck_assert(sync_wait(&s, 1));
	/* Once a later timer fired, bump_cb has returned. */
	settle(ls.r, 1);
	reactor_timer_stop(ls.r, ls.t);
	reactor_timer_stop(ls.r, ls.t);
	ck_assert_int_eq(pthread_create(&th, NULL, late_stop_run, &ls), 0);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	/* Stopped, then stopped again: also a no-op. */
	ck_assert_int_eq(reactor_timer_start(ls.r, 10000, bump_cb, &s, &ls.t), 0);
	reactor_timer_stop(ls.r, ls.t);
	reactor_timer_stop(ls.r, ls.t);
	settle(ls.r, 10);
	ck_assert_int_eq(sync_count(&s), 1);
	reactor_free(ls.r);
	sync_release(&s);
}
END_TEST

/* A fired timer's slot goes to the next timer started: the old handle must
 * name neither that timer nor its callback. */
START_TEST(test_timer_stop_stale)
{
	enum { N = 64 };
	assay_timer *old[N], *cur[N];
	struct sync olds, curs;
	reactor *r;
	int i, j;

	sync_init(&olds);
	sync_init(&curs);
	ck_assert_int_eq(reactor_new(&r), 0);
	for (i = 0; i < N; i++)
		ck_assert_int_eq(reactor_timer_start(r, 0, bump_cb, &olds,
						     &old[i]), 0);
	ck_assert(sync_wait(&olds, N));
	/* Every slot the old timers held is free again: these reuse them. */
	for (i = 0; i < N; i++)
		ck_assert_int_eq(reactor_timer_start(r, 20, bump_cb, &curs,
						     &cur[i]), 0);
	for (i = 0; i < N; i++)
		for (j = 0; j < N; j++)
			ck_assert_ptr_ne(old[i], cur[j]);
	for (i = 0; i < N; i++)
		reactor_timer_stop(r, old[i]);
	ck_assert(sync_wait(&curs, N));
	settle(r, 10);
	ck_assert_int_eq(sync_count(&olds), N);
	ck_assert_int_eq(sync_count(&curs), N);
	reactor_free(r);
	sync_release(&olds);
	sync_release(&curs);
}
END_TEST

/* Nor does a stale handle wait for the callback of the timer that now has
 * its slot. */
START_TEST(test_timer_stop_stale_running)
{
	struct blocker b = { 0 };
	struct sync s;
	assay_timer *old;
	int finished;

	sync_init(&s);
	sync_init(&b.s);
	ck_assert_int_eq(reactor_new(&b.r), 0);
	ck_assert_int_eq(reactor_timer_start(b.r, 0, bump_cb, &s, &old), 0);
	ck_assert(sync_wait(&s, 1));
	ck_assert_int_eq(reactor_timer_start(b.r, 0, blocker_timer_cb, &b,
					     &b.t), 0);
	ck_assert_ptr_ne(old, b.t);
	pthread_mutex_lock(&b.s.lock);
	ck_assert(wait_locked(&b.s, &b.entered, 1));
	pthread_mutex_unlock(&b.s.lock);
	/* Returns at once, while blocker_run still holds the thread (it
	 * would give up waiting only after WAIT_NS). */
	reactor_timer_stop(b.r, old);
	pthread_mutex_lock(&b.s.lock);
	finished = b.finished;
	b.released = 1;
	pthread_cond_broadcast(&b.s.cond);
	pthread_mutex_unlock(&b.s.lock);
	ck_assert_int_eq(finished, 0);
	/* Its own handle does wait (stale too by now: it is firing). */
	reactor_timer_stop(b.r, b.t);
	pthread_mutex_lock(&b.s.lock);
	finished = b.finished;
	pthread_mutex_unlock(&b.s.lock);
	ck_assert_int_eq(finished, 1);
	reactor_free(b.r);
	ck_assert_int_eq(b.calls, 1);
	ck_assert_int_eq(sync_count(&s), 1);
	sync_release(&b.s);
	sync_release(&s);
}
END_TEST

/* The race the handles exist for: work completes on one thread and stops
 * its deadline timer just as the reactor fires it (0-1 ms). */
struct race_item {
	atomic_int state; /* 0 never ran, 1 running, 2 returned */
	int value;	  /* plain: TSan checks that stop orders it */
	int seen;	  /* state right after stop returned */
	atomic_int *fired;
};

static void race_cb(void *arg)
{
	struct race_item *it = arg;
	volatile unsigned spin;

	atomic_store(&it->state, 1);
	/* A few microseconds, so that stop() often finds it running. */
	for (spin = 0; spin < 2000; spin++) {
	}
	it->value = 42;
	atomic_fetch_add(it->fired, 1);
	atomic_store(&it->state, 2);
}

struct racer {
	reactor *r;
	struct race_item *items;
	int n;
	unsigned seed;
	atomic_int fired;
	int errors;
	int waited; /* iterations that let the timer fire first */
};

static void race_work(struct racer *rc, struct race_item *it, uint64_t start)
{
	uint64_t end;

	switch (rand_r(&rc->seed) % 8) {
	case 0:
	case 1:
		break; /* done at once */
	case 2:
	case 3:
		sched_yield();
		break;
	case 4:
	case 5:
		/* Done somewhere around the deadline (0 or 1 ms). */
		end = start + (uint64_t)(rand_r(&rc->seed) % 1200) * 1000u;
		while (now_ns() < end) {
		}
		break;
	default:
		/* Slower than the deadline: the timer must fire, although the
		 * previous (stale) handle, whose slot it probably reuses, was
		 * just stopped. */
		rc->waited++;
		end = now_ns() + WAIT_NS;
		while (atomic_load(&it->state) != 2 && now_ns() < end)
			sched_yield();
		rc->errors += atomic_load(&it->state) != 2;
		break;
	}
}

static void *racer_run(void *arg)
{
	struct racer *rc = arg;
	assay_timer *t, *prev = NULL;
	uint64_t start;
	int i, value;

	/* No ck_assert off the test's thread: count failures instead. */
	for (i = 0; i < rc->n; i++) {
		struct race_item *it = &rc->items[i];

		it->fired = &rc->fired;
		start = now_ns();
		t = NULL;
		if (reactor_timer_start(rc->r, (uint64_t)(i % 2), race_cb, it,
					&t) || !t) {
			rc->errors++;
			continue;
		}
		if (prev)
			reactor_timer_stop(rc->r, prev);
		race_work(rc, it, start);
		reactor_timer_stop(rc->r, t);
		/* value before state, so that only stop orders it. */
		value = it->value;
		it->seen = atomic_load(&it->state);
		/* Ran to the end, or never and never will. */
		rc->errors += it->seen == 1;
		rc->errors += value != (it->seen == 2 ? 42 : 0);
		reactor_timer_stop(rc->r, t);
		prev = t;
	}
	return NULL;
}

START_TEST(test_timer_stop_race)
{
	enum { THREADS = 2, N = 5000 };
	struct racer rc[THREADS];
	pthread_t th[THREADS];
	reactor *r;
	int i, j, ran;

	ck_assert_int_eq(reactor_new(&r), 0);
	for (i = 0; i < THREADS; i++) {
		rc[i] = (struct racer){ .r = r, .n = N, .seed = 1u + (unsigned)i,
					.items = calloc(N, sizeof(struct race_item)) };
		ck_assert_ptr_nonnull(rc[i].items);
		atomic_init(&rc[i].fired, 0);
		for (j = 0; j < N; j++)
			atomic_init(&rc[i].items[j].state, 0);
	}
	for (i = 0; i < THREADS; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, racer_run, &rc[i]),
				 0);
	for (i = 0; i < THREADS; i++)
		ck_assert_int_eq(pthread_join(th[i], NULL), 0);
	/* Anything stopped had its chance to run wrongly by now. */
	settle(r, 20);
	reactor_free(r);
	for (i = 0; i < THREADS; i++) {
		ck_assert_int_eq(rc[i].errors, 0);
		ck_assert_int_gt(rc[i].waited, 0);
		for (j = 0, ran = 0; j < N; j++) {
			ck_assert_int_eq(atomic_load(&rc[i].items[j].state),
					 rc[i].items[j].seen);
			ran += rc[i].items[j].seen == 2;
		}
		ck_assert_int_eq(atomic_load(&rc[i].fired), ran);
		/* Both outcomes happened, or the race was never run. */
		ck_assert_int_gt(ran, 0);
		ck_assert_int_lt(ran, N);
		free(rc[i].items);
	}
}
END_TEST

/* ---- fd watches ---------------------------------------------------------- */

struct fdw {
	struct sync s;
	reactor *r;
	assay_watch *w;
	unsigned events[16];
	ssize_t got[16];
	unsigned modify_to;
	int modify_err;
};

static void fdw_cb(int fd, unsigned events, void *arg)
{
	struct fdw *f = arg;
	char buf[64];
	ssize_t n = -1;

	if (events & ASSAY_READABLE)
		n = read(fd, buf, sizeof(buf));
	/* At EOF a level-triggered watch would fire forever: leave. */
	if (n == 0)
		reactor_fd_unwatch(f->r, f->w);
	pthread_mutex_lock(&f->s.lock);
	if (events & ASSAY_WRITABLE && reactor_fd_modify(f->r, f->w, f->modify_to))
		f->modify_err++;
	if (f->s.count < 16) {
		f->events[f->s.count] = events;
		f->got[f->s.count] = n;
	}
	f->s.count++;
	pthread_cond_broadcast(&f->s.cond);
	pthread_mutex_unlock(&f->s.lock);
}

START_TEST(test_fd_read_hangup)
{
	struct fdw f = { 0 };
	int p[2];

	sync_init(&f.s);
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(reactor_new(&f.r), 0);
	ck_assert_int_eq(reactor_fd_watch(f.r, p[0], ASSAY_READABLE, fdw_cb, &f,
					  &f.w), 0);
	settle(f.r, 10);
	ck_assert_int_eq(sync_count(&f.s), 0);

	ck_assert_int_eq(write(p[1], "x", 1), 1);
	ck_assert(sync_wait(&f.s, 1));
	ck_assert_uint_eq(f.events[0], ASSAY_READABLE);
	ck_assert_int_eq(f.got[0], 1);

	close(p[1]);
	ck_assert(sync_wait(&f.s, 2));
	ck_assert_uint_eq(f.events[1], ASSAY_HANGUP | ASSAY_READABLE);
	ck_assert_int_eq(f.got[1], 0);
	/* Unwatched from its own callback: never again. */
	settle(f.r, 20);
	ck_assert_int_eq(sync_count(&f.s), 2);

	reactor_free(f.r);
	close(p[0]);
	sync_release(&f.s);
}
END_TEST

START_TEST(test_fd_modify)
{
	struct fdw f = { 0 };
	int p[2];

	sync_init(&f.s);
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(reactor_new(&f.r), 0);
	ck_assert_int_eq(reactor_fd_watch(f.r, p[1], 0, fdw_cb, &f, &f.w), 0);
	settle(f.r, 20);
	ck_assert_int_eq(sync_count(&f.s), 0);

	/* The callback pauses the watch again (modify_to 0). */
	ck_assert_int_eq(reactor_fd_modify(f.r, f.w, ASSAY_WRITABLE), 0);
	ck_assert(sync_wait(&f.s, 1));
	ck_assert_uint_eq(f.events[0], ASSAY_WRITABLE);
	settle(f.r, 30);
	ck_assert_int_eq(sync_count(&f.s), 1);

	/* Paused, a hung-up pipe still says nothing. */
	close(p[0]);
	settle(f.r, 20);
	ck_assert_int_eq(sync_count(&f.s), 1);
	ck_assert_int_eq(reactor_fd_modify(f.r, f.w, ASSAY_WRITABLE | 8u),
			 ASSAY_EINVAL);
	ck_assert_int_eq(reactor_fd_modify(f.r, f.w, ASSAY_WRITABLE), 0);
	ck_assert(sync_wait(&f.s, 2));
	ck_assert_uint_eq(f.events[1], ASSAY_HANGUP | ASSAY_WRITABLE);
	settle(f.r, 10);
	ck_assert_int_eq(sync_count(&f.s), 2);
	ck_assert_int_eq(f.modify_err, 0);

	reactor_fd_unwatch(f.r, f.w);
	settle(f.r, 10);
	reactor_free(f.r);
	close(p[1]);
	sync_release(&f.s);
}
END_TEST

START_TEST(test_fd_unwatch_waits)
{
	struct blocker b = { 0 };
	int p[2];

	sync_init(&b.s);
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(write(p[1], "x", 1), 1);
	ck_assert_int_eq(reactor_new(&b.r), 0);
	/* Never drained: level-triggered, it would run again but for unwatch. */
	ck_assert_int_eq(reactor_fd_watch(b.r, p[0], ASSAY_READABLE,
					  blocker_fd_cb, &b, &b.w), 0);
	blocker_check(&b);
	settle(b.r, 20);
	ck_assert_int_eq(b.calls, 1);
	reactor_free(b.r);
	close(p[0]);
	close(p[1]);
	sync_release(&b.s);
}
END_TEST

START_TEST(test_fd_bad_args)
{
	reactor *r;
	assay_watch *w = NULL;
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(reactor_new(&r), 0);
	ck_assert_int_eq(reactor_fd_watch(r, -1, ASSAY_READABLE, fdw_cb, NULL, &w),
			 ASSAY_EINVAL);
	ck_assert_int_eq(reactor_fd_watch(r, p[0], ASSAY_HANGUP, fdw_cb, NULL, &w),
			 ASSAY_EINVAL);
	ck_assert_int_eq(reactor_fd_watch(r, p[0], ASSAY_READABLE, NULL, NULL, &w),
			 ASSAY_EINVAL);
	close(p[1]);
	ck_assert_int_eq(reactor_fd_watch(r, p[1], ASSAY_READABLE, fdw_cb, NULL,
					  &w), ASSAY_ESYS);
	ck_assert_int_eq(errno, EBADF);
	ck_assert_ptr_null(w);
	ck_assert_int_eq(reactor_timer_start(r, 1, NULL, NULL, NULL), ASSAY_EINVAL);
	ck_assert_int_eq(reactor_child_watch(r, 0, NULL, NULL), ASSAY_EINVAL);
	ck_assert_int_eq(reactor_new(NULL), ASSAY_EINVAL);
	reactor_free(r);
	reactor_free(NULL);
	close(p[0]);
}
END_TEST

/* ---- children ------------------------------------------------------------ */

struct kid {
	struct sync *s;
	pid_t pid, got;
	int status;
};

static void kid_cb(pid_t pid, int status, void *arg)
{
	struct kid *k = arg;

	pthread_mutex_lock(&k->s->lock);
	k->got = pid;
	k->status = status;
	k->s->count++;
	pthread_cond_broadcast(&k->s->cond);
	pthread_mutex_unlock(&k->s->lock);
}

static pid_t spawn(int code)
{
	pid_t pid = fork();

	if (pid == 0) {
		if (code < 0)
			for (;;)
				pause();
		_exit(code);
	}
	return pid;
}

/* Wait for pid to exit without reaping it. */
static void wait_zombie(pid_t pid)
{
	siginfo_t si;

	ck_assert_int_eq(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0);
}

START_TEST(test_child_exit)
{
	struct sync s;
	struct kid k = { .s = &s };
	reactor *r;

	sync_init(&s);
	ck_assert_int_eq(reactor_new(&r), 0);
	k.pid = spawn(3);
	ck_assert_int_gt(k.pid, 0);
	ck_assert_int_eq(reactor_child_watch(r, k.pid, kid_cb, &k), 0);
	ck_assert(sync_wait(&s, 1));
	ck_assert_int_eq(k.got, k.pid);
	ck_assert(WIFEXITED(k.status));
	ck_assert_int_eq(WEXITSTATUS(k.status), 3);
	/* Reaped by the reactor, and only once. */
	ck_assert_int_eq(waitpid(k.pid, NULL, WNOHANG), -1);
	ck_assert_int_eq(errno, ECHILD);
	reactor_free(r);
	sync_release(&s);
}
END_TEST

START_TEST(test_child_dead_before)
{
	struct sync s;
	struct kid k = { .s = &s };
	reactor *r;

	sync_init(&s);
	ck_assert_int_eq(reactor_new(&r), 0);
	k.pid = spawn(5);
	ck_assert_int_gt(k.pid, 0);
	wait_zombie(k.pid);
	ck_assert_int_eq(reactor_child_watch(r, k.pid, kid_cb, &k), 0);
	ck_assert(sync_wait(&s, 1));
	ck_assert(WIFEXITED(k.status));
	ck_assert_int_eq(WEXITSTATUS(k.status), 5);
	reactor_free(r);
	sync_release(&s);
}
END_TEST

START_TEST(test_child_signal)
{
	struct sync s;
	struct kid k = { .s = &s };
	reactor *r;

	sync_init(&s);
	ck_assert_int_eq(reactor_new(&r), 0);
	k.pid = spawn(-1);
	ck_assert_int_gt(k.pid, 0);
	ck_assert_int_eq(reactor_child_watch(r, k.pid, kid_cb, &k), 0);
	settle(r, 10);
	ck_assert_int_eq(sync_count(&s), 0);
	ck_assert_int_eq(kill(k.pid, SIGKILL), 0);
	ck_assert(sync_wait(&s, 1));
	ck_assert(WIFSIGNALED(k.status));
	ck_assert_int_eq(WTERMSIG(k.status), SIGKILL);
	reactor_free(r);
	sync_release(&s);
}
END_TEST

/* A child leading its own group, with a grandchild in it, both deaf to
 * SIGTERM: reactor_kill_children() ends them both, and the leader is
 * still reported. */
START_TEST(test_kill_children)
{
	struct sync s;
	struct kid k = { .s = &s };
	int fds[2];
	char c;
	reactor *r;

	sync_init(&s);
	ck_assert_int_eq(pipe(fds), 0);
	ck_assert_int_eq(reactor_new(&r), 0);
	k.pid = fork();
	if (k.pid == 0) {
		setpgid(0, 0);
		signal(SIGTERM, SIG_IGN);
		close(fds[0]);
		if (fork() == 0) /* holds the pipe open while it lives */
			for (;;)
				pause();
		close(fds[1]);
		for (;;)
			pause();
	}
	ck_assert_int_gt(k.pid, 0);
	close(fds[1]);
	ck_assert_int_eq(reactor_child_watch(r, k.pid, kid_cb, &k), 0);
	while (getpgid(k.pid) != k.pid) /* the child's setpgid */
		usleep(1000);
	settle(r, 10);
	reactor_kill_children(r, SIGTERM);
	settle(r, 50);
	ck_assert_int_eq(sync_count(&s), 0);
	reactor_kill_children(r, SIGKILL);
	ck_assert(sync_wait(&s, 1));
	ck_assert(WIFSIGNALED(k.status));
	ck_assert_int_eq(WTERMSIG(k.status), SIGKILL);
	/* End of file: the grandchild is gone too. */
	ck_assert_int_eq(read(fds[0], &c, 1), 0);
	close(fds[0]);
	reactor_free(r);
	sync_release(&s);
}
END_TEST

START_TEST(test_children_many)
{
	enum { N = 100 };
	struct sync s;
	struct kid k[N];
	reactor *r;
	int i;

	sync_init(&s);
	ck_assert_int_eq(reactor_new(&r), 0);
	for (i = 0; i < N; i++) {
		k[i] = (struct kid){ .s = &s, .pid = spawn(i) };
		ck_assert_int_gt(k[i].pid, 0);
		ck_assert_int_eq(reactor_child_watch(r, k[i].pid, kid_cb, &k[i]), 0);
	}
	ck_assert(sync_wait(&s, N));
	for (i = 0; i < N; i++) {
		ck_assert_int_eq(k[i].got, k[i].pid);
		ck_assert(WIFEXITED(k[i].status));
		ck_assert_int_eq(WEXITSTATUS(k[i].status), i);
	}
	reactor_free(r);
	sync_release(&s);
}
END_TEST

/* Make pidfd_open fail with ENOSYS in this process, as on Linux < 5.3. */
static bool deny_pidfd_open(void)
{
#if defined(__x86_64__)
	const uint32_t arch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
	const uint32_t arch = AUDIT_ARCH_AARCH64;
#else
	const uint32_t arch = 0;
#endif
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, arch, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_pidfd_open, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };

	return arch && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
	       prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0 &&
	       syscall(SYS_pidfd_open, getpid(), 0) < 0 && errno == ENOSYS;
}

/* Runs in its own process, since the filter is for life; exit code 0 is
 * success, 77 "cannot test here", anything else the failed step. */
static int fallback_helper(void)
{
	struct sync s;
	struct kid live = { .s = &s }, dead = { .s = &s };
	siginfo_t si;
	pid_t stray;
	reactor *r;

	if (!deny_pidfd_open())
		return 77;
	sync_init(&s);
	if (reactor_new(&r))
		return 1;
	live.pid = spawn(7);
	dead.pid = spawn(9);
	stray = spawn(-1);
	if (live.pid < 0 || dead.pid < 0 || stray < 0)
		return 2;
	if (waitid(P_PID, (id_t)dead.pid, &si, WEXITED | WNOWAIT))
		return 3;
	if (reactor_child_watch(r, dead.pid, kid_cb, &dead) ||
	    reactor_child_watch(r, live.pid, kid_cb, &live) ||
	    reactor_child_watch(r, stray, kid_cb, NULL))
		return 4;
	if (!sync_wait(&s, 2))
		return 5;
	if (dead.got != dead.pid || !WIFEXITED(dead.status) ||
	    WEXITSTATUS(dead.status) != 9)
		return 6;
	if (live.got != live.pid || !WIFEXITED(live.status) ||
	    WEXITSTATUS(live.status) != 7)
		return 7;
	/* Freed with the stray's poll pending: not reaped, so still ours. */
	reactor_free(r);
	kill(stray, SIGKILL);
	if (waitpid(stray, NULL, 0) != stray)
		return 8;
	sync_release(&s);
	return 0;
}

START_TEST(test_child_fallback)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(fallback_helper());
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77)
		fprintf(stderr, "check_reactor: seccomp unavailable, "
				"waitpid fallback not tested\n");
	else
		ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

/* ---- teardown and threads ----------------------------------------------- */

START_TEST(test_free_pending)
{
	assay_timer *t[100];
	assay_watch *w, *gone;
	pid_t pid;
	reactor *r;
	int p[2], i;

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(reactor_new(&r), 0);
	for (i = 0; i < 100; i++)
		ck_assert_int_eq(reactor_timer_start(r, 10000 + (uint64_t)i,
						     bump_cb, NULL, &t[i]), 0);
	for (i = 0; i < 100; i += 2)
		reactor_timer_stop(r, t[i]);
	ck_assert_int_eq(reactor_fd_watch(r, p[0], ASSAY_READABLE, fdw_cb,
					  NULL, &w), 0);
	ck_assert_int_eq(reactor_fd_watch(r, p[1], 0, fdw_cb, NULL, &gone), 0);
	reactor_fd_unwatch(r, gone);
	pid = spawn(-1);
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(reactor_child_watch(r, pid, kid_cb, NULL), 0);
	reactor_free(r);

	/* Neither killed nor reaped by the reactor; the caller's fds open. */
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
	ck_assert_int_eq(close(p[0]), 0);
	ck_assert_int_eq(close(p[1]), 0);
}
END_TEST

struct self_free {
	reactor *r;
	struct sync s;
};

static void free_reactor_cb(void *arg)
{
	struct self_free *sf = arg;

	reactor_free(sf->r);
	sync_bump(&sf->s);
}

/* reactor.h allows every call from a callback, reactor_free included. */
START_TEST(test_free_from_callback)
{
	struct self_free sf;
	assay_watch *w;
	int p[2];

	sync_init(&sf.s);
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(reactor_new(&sf.r), 0);
	ck_assert_int_eq(reactor_fd_watch(sf.r, p[0], ASSAY_READABLE, fdw_cb,
					  NULL, &w), 0);
	ck_assert_int_eq(reactor_timer_start(sf.r, 10000, bump_cb, &sf.s, NULL),
			 0);
	ck_assert_int_eq(reactor_timer_start(sf.r, 1, free_reactor_cb, &sf, NULL),
			 0);
	ck_assert_int_eq(reactor_timer_start(sf.r, 1, bump_cb, &sf.s, NULL), 0);
	ck_assert(sync_wait(&sf.s, 1));
	/* Nothing is left to settle() on: give the 1 ms timer that was due
	 * with free_reactor_cb its chance to run (it must not). */
	usleep(20 * 1000);
	ck_assert_int_eq(sync_count(&sf.s), 1);
	close(p[0]);
	close(p[1]);
	sync_release(&sf.s);
}
END_TEST

struct hammer {
	reactor *r;
	struct sync *s;
	int pipe_rd;
	int errors;
};

static void noop_fd_cb(int fd, unsigned events, void *arg)
{
	(void)fd;
	(void)events;
	(void)arg;
}

/* Many threads at once: timers that fire, timers stopped while pending,
 * watches added, changed and removed under the reactor's feet. */
static void *hammer_run(void *arg)
{
	struct hammer *h = arg;
	assay_timer *t;
	assay_watch *w;
	int i;

	/* No ck_assert off the test's thread: count failures instead. */
	for (i = 0; i < 200; i++) {
		h->errors += reactor_timer_start(h->r, (uint64_t)(i % 3), bump_cb,
						 h->s, NULL) != 0;
		if (reactor_timer_start(h->r, 10000, bump_cb, h->s, &t))
			h->errors++;
		else
			reactor_timer_stop(h->r, t);
		if (reactor_fd_watch(h->r, h->pipe_rd, ASSAY_READABLE, noop_fd_cb,
				     NULL, &w)) {
			h->errors++;
			continue;
		}
		h->errors += reactor_fd_modify(h->r, w, 0) != 0;
		h->errors += reactor_fd_modify(h->r, w, ASSAY_READABLE) != 0;
		reactor_fd_unwatch(h->r, w);
	}
	return NULL;
}

START_TEST(test_threads)
{
	enum { THREADS = 4 };
	struct hammer h[THREADS];
	pthread_t th[THREADS];
	struct sync s;
	reactor *r;
	int i, p[THREADS][2];

	sync_init(&s);
	ck_assert_int_eq(reactor_new(&r), 0);
	for (i = 0; i < THREADS; i++) {
		/* A readable fd per thread: an fd is watched at most once. */
		ck_assert_int_eq(pipe(p[i]), 0);
		ck_assert_int_eq(write(p[i][1], "x", 1), 1);
		h[i] = (struct hammer){ .r = r, .s = &s, .pipe_rd = p[i][0] };
		ck_assert_int_eq(pthread_create(&th[i], NULL, hammer_run,
						&h[i]), 0);
	}
	for (i = 0; i < THREADS; i++) {
		ck_assert_int_eq(pthread_join(th[i], NULL), 0);
		ck_assert_int_eq(h[i].errors, 0);
	}
	ck_assert(sync_wait(&s, THREADS * 200));
	settle(r, 20);
	ck_assert_int_eq(sync_count(&s), THREADS * 200);
	reactor_free(r);
	for (i = 0; i < THREADS; i++) {
		close(p[i][0]);
		close(p[i][1]);
	}
	sync_release(&s);
}
END_TEST

static Suite *reactor_suite(void)
{
	Suite *s = suite_create("reactor");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_timer_order);
	tcase_add_test(tc, test_timer_many);
	tcase_add_test(tc, test_timer_stop);
	tcase_add_test(tc, test_timer_stop_from_callback);
	tcase_add_test(tc, test_timer_stop_waits);
	tcase_add_test(tc, test_timer_stop_after_fire);
	tcase_add_test(tc, test_timer_stop_stale);
	tcase_add_test(tc, test_timer_stop_stale_running);
	tcase_add_test(tc, test_timer_stop_race);
	tcase_add_test(tc, test_fd_read_hangup);
	tcase_add_test(tc, test_fd_modify);
	tcase_add_test(tc, test_fd_unwatch_waits);
	tcase_add_test(tc, test_fd_bad_args);
	tcase_add_test(tc, test_child_exit);
	tcase_add_test(tc, test_child_dead_before);
	tcase_add_test(tc, test_child_signal);
	tcase_add_test(tc, test_kill_children);
	tcase_add_test(tc, test_children_many);
	tcase_add_test(tc, test_child_fallback);
	tcase_add_test(tc, test_free_pending);
	tcase_add_test(tc, test_free_from_callback);
	tcase_add_test(tc, test_threads);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(reactor_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0;
}
