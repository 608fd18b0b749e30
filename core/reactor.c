/* reactor.c -- the one epoll thread: a timer heap, fd watches and child exits
 * (pidfd, or a waitpid poll where the kernel has none). */

#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "reactor.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434 /* the same number on every architecture */
#endif

#define BATCH 64
#define NS_PER_MS 1000000ull
#define POLL_NS (10 * NS_PER_MS) /* waitpid poll period without pidfd */
#define NO_INDEX SIZE_MAX

/* A timer handle is not a pointer but (slot, generation): the slot index + 1
 * in the low SLOT_BITS, so that a handle is never NULL, and the slot's
 * generation above them.  A slot's generation moves on each time the slot is
 * freed, so a handle to a timer that fired or was stopped goes stale and
 * names nothing, even once the slot holds a newer timer.  Generations wrap
 * after 2^32 reuses of one slot (2^16 slots and generations where pointers
 * have 32 bits), which is when a stale handle could alias again. */
#if UINTPTR_MAX > 0xffffffffu
#define SLOT_BITS 32
#else
#define SLOT_BITS 16
#endif
#define SLOT_MASK (((uintptr_t)1 << SLOT_BITS) - 1)
#define GEN_MASK (UINTPTR_MAX >> SLOT_BITS)
#define MAX_SLOTS ((size_t)SLOT_MASK) /* slot i is encoded as i + 1 */

enum watch_kind { WATCH_FD, WATCH_CHILD };

struct assay_watch {
	struct assay_watch *prev, *next; /* r->watches, or r->dead */
	enum watch_kind kind;
	bool dead;
	int fd;		 /* the caller's fd, or our pidfd */
	unsigned events; /* in epoll iff non-zero */
	pid_t pid;
	assay_fd_cb fd_cb;
	assay_child_cb child_cb;
	void *arg;
};

/* One slot of r->timers.  A slot in use is pending, hence in the heap; a
 * free one is on the r->free_slot list.  r->timers moves when it grows:
 * nothing holds a pointer into it across an unlock.  A child polled without
 * a pidfd is a timer with pid set, re-armed until waitpid reaps it. */
struct timer {
	uint64_t deadline; /* CLOCK_MONOTONIC, ns */
	uint64_t seq;	   /* equal deadlines fire in start order */
	size_t pos;	   /* in r->heap; NO_INDEX while the slot is free */
	size_t next_free;  /* the free list, NO_INDEX-terminated */
	uintptr_t gen;	   /* bumped (mod GEN_MASK + 1) whenever freed */
	assay_timer_cb cb;
	pid_t pid;
	assay_child_cb child_cb;
	void *arg;
};

struct reactor {
	pthread_mutex_t lock; /* everything below, except what is immutable */
	pthread_cond_t idle;  /* signalled when running changes */
	pthread_t thread;
	int epfd, wakefd;
	bool stopping;
	bool self_free; /* reactor_free from a callback: the thread frees r */
	/* Whose callback runs now, if any: a watch, or a timer by its handle
	 * (which names one firing forever, as its slot's generation has moved
	 * on by then).  Two fields, since a handle may equal some address. */
	const assay_watch *running;
	assay_timer *running_timer;
	struct timer *timers; /* the slots, nslots of them */
	size_t nslots, free_slot;
	size_t *heap;	      /* slot indices; room for nslots */
	size_t nheap;
	uint64_t seq;
	assay_watch *watches; /* live, doubly linked */
	assay_watch *dead;    /* unwatched, freed when no epoll batch can name them */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t deadline_after(uint64_t ms)
{
	uint64_t now = now_ns();

	if (ms > (UINT64_MAX - now) / NS_PER_MS)
		return UINT64_MAX;
	return now + ms * NS_PER_MS;
}

/* Callers hold r->lock: r->thread is written under it in reactor_new, before
 * the thread can take it. */
static bool on_thread(reactor *r)
{
	return pthread_equal(pthread_self(), r->thread);
}

static void wake(reactor *r)
{
	uint64_t one = 1;

	/* EAGAIN means the counter is already non-zero: it will wake anyway. */
	if (write(r->wakefd, &one, sizeof(one)) < 0) {
	}
}

/* Drop the lock around a callback (of watch w or of the timer handle t);
 * whoever waits for it to finish waits on r->idle for running to change. */
static void cb_begin(reactor *r, const assay_watch *w, assay_timer *t)
{
	r->running = w;
	r->running_timer = t;
	pthread_mutex_unlock(&r->lock);
}

static void cb_end(reactor *r)
{
	pthread_mutex_lock(&r->lock);
	r->running = NULL;
	r->running_timer = NULL;
	pthread_cond_broadcast(&r->idle);
}

/* Wait for w's (t's) callback to return.  From the reactor thread, it is
 * the caller's own callback (or not running at all): waiting would never
 * end. */
static void wait_idle(reactor *r, const assay_watch *w)
{
	if (on_thread(r))
		return;
	while (r->running == w)
		pthread_cond_wait(&r->idle, &r->lock);
}

static void wait_timer_idle(reactor *r, const assay_timer *t)
{
	if (on_thread(r))
		return;
	while (r->running_timer == t)
		pthread_cond_wait(&r->idle, &r->lock);
}

/* ---- timer slots and heap ----------------------------------------------- */

static assay_timer *encode(size_t i, uintptr_t gen)
{
	return (assay_timer *)(((gen & GEN_MASK) << SLOT_BITS) |
			       ((uintptr_t)i + 1));
}

/* The slot a handle names while its timer is pending, else NO_INDEX. */
static size_t decode(const reactor *r, const assay_timer *t)
{
	uintptr_t h = (uintptr_t)t;
	size_t i = (size_t)((h & SLOT_MASK) - 1); /* huge for a 0 index */

	if (i >= r->nslots || r->timers[i].gen != h >> SLOT_BITS ||
	    r->timers[i].pos == NO_INDEX)
		return NO_INDEX;
	return i;
}

/* Pop a free slot, growing the slots (and the heap with them, so that a
 * push never fails) when there is none. */
static int slot_alloc(reactor *r, size_t *out)
{
	struct timer *t;
	size_t *h, n, i;

	if (r->free_slot == NO_INDEX) {
		n = r->nslots ? 2 * r->nslots : 64;
		if (n > MAX_SLOTS || n < r->nslots)
			n = MAX_SLOTS;
		if (n <= r->nslots)
			return ASSAY_ENOMEM;
		/* Each realloc that succeeds is kept, even if the other fails:
		 * nslots says how much of it is in use. */
		t = realloc(r->timers, n * sizeof(*t));
		if (!t)
			return ASSAY_ENOMEM;
		r->timers = t;
		h = realloc(r->heap, n * sizeof(*h));
		if (!h)
			return ASSAY_ENOMEM;
		r->heap = h;
		/* Pushed high to low, so that low slots are used first. */
		for (i = n; i-- > r->nslots;) {
			r->timers[i] = (struct timer){ .pos = NO_INDEX,
						       .next_free = r->free_slot };
			r->free_slot = i;
		}
		r->nslots = n;
	}
	i = r->free_slot;
	r->free_slot = r->timers[i].next_free;
	*out = i;
	return 0;
}

/* The slot's handles go stale at once. */
static void slot_free(reactor *r, size_t i)
{
	r->timers[i] = (struct timer){ .pos = NO_INDEX,
				       .next_free = r->free_slot,
				       .gen = (r->timers[i].gen + 1) & GEN_MASK };
	r->free_slot = i;
}

static bool earlier(const reactor *r, size_t a, size_t b)
{
	const struct timer *x = &r->timers[a], *y = &r->timers[b];

	return x->deadline < y->deadline ||
	       (x->deadline == y->deadline && x->seq < y->seq);
}

static void heap_set(reactor *r, size_t pos, size_t slot)
{
	r->heap[pos] = slot;
	r->timers[slot].pos = pos;
}

static void sift_up(reactor *r, size_t pos)
{
	size_t slot = r->heap[pos];

	while (pos > 0 && earlier(r, slot, r->heap[(pos - 1) / 2])) {
		heap_set(r, pos, r->heap[(pos - 1) / 2]);
		pos = (pos - 1) / 2;
	}
	heap_set(r, pos, slot);
}

static void sift_down(reactor *r, size_t pos)
{
	size_t slot = r->heap[pos], c;

	while ((c = 2 * pos + 1) < r->nheap) {
		if (c + 1 < r->nheap && earlier(r, r->heap[c + 1], r->heap[c]))
			c++;
		if (!earlier(r, r->heap[c], slot))
			break;
		heap_set(r, pos, r->heap[c]);
		pos = c;
	}
	heap_set(r, pos, slot);
}

/* Never fails: slot_alloc made room for every slot. */
static void heap_push(reactor *r, size_t slot)
{
	r->timers[slot].seq = r->seq++;
	heap_set(r, r->nheap++, slot);
	sift_up(r, r->nheap - 1);
	/* A new earliest deadline shortens the epoll_wait already under way. */
	if (r->timers[slot].pos == 0 && !on_thread(r))
		wake(r);
}

static void heap_remove(reactor *r, size_t slot)
{
	size_t pos = r->timers[slot].pos;
	size_t last = r->heap[--r->nheap];

	r->timers[slot].pos = NO_INDEX;
	if (last == slot)
		return;
	heap_set(r, pos, last);
	if (pos > 0 && earlier(r, last, r->heap[(pos - 1) / 2]))
		sift_up(r, pos);
	else
		sift_down(r, pos);
}

/* ---- the thread ---------------------------------------------------------- */

/* 1 once pid is reaped, 0 while it runs.  A child someone else reaped
 * (SIGCHLD ignored, a stray waitpid) still ends the watch, with status -1,
 * so that its owner is not left waiting forever. */
static int reap(pid_t pid, int *status)
{
	pid_t got;

	do
		got = waitpid(pid, status, WNOHANG);
	while (got < 0 && errno == EINTR);
	if (got == 0)
		return 0;
	if (got < 0)
		*status = -1;
	return 1;
}

static void unlink_watch(reactor *r, assay_watch *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		r->watches = w->next;
	if (w->next)
		w->next->prev = w->prev;
}

/* Out of epoll at once, but freed only after the batch: epoll_wait may
 * already have returned an event that points at w. */
static void bury(reactor *r, assay_watch *w)
{
	if (w->events)
		epoll_ctl(r->epfd, EPOLL_CTL_DEL, w->fd, NULL);
	if (w->kind == WATCH_CHILD)
		close(w->fd);
	w->dead = true;
	unlink_watch(r, w);
	w->next = r->dead;
	r->dead = w;
}

static void free_dead(reactor *r)
{
	while (r->dead) {
		assay_watch *w = r->dead;

		r->dead = w->next;
		free(w);
	}
}

static unsigned to_assay(uint32_t ev, unsigned wanted)
{
	unsigned events = 0;

	if (ev & EPOLLIN)
		events |= ASSAY_READABLE;
	if (ev & EPOLLOUT)
		events |= ASSAY_WRITABLE;
	/* READABLE too, so that a reader reads on to EOF or the error. */
	if (ev & (EPOLLHUP | EPOLLERR))
		events |= ASSAY_HANGUP | ASSAY_READABLE;
	/* An event collected before an fd_modify in this batch is stale. */
	events &= wanted | ASSAY_HANGUP;
	return wanted ? events : 0;
}

static void dispatch(reactor *r, const struct epoll_event *ev)
{
	assay_watch *w = ev->data.ptr;
	unsigned events;
	int status;

	if (!w) {
		uint64_t n;

		if (read(r->wakefd, &n, sizeof(n)) < 0) {
			/* EAGAIN: another batch drained it */
		}
		return;
	}
	if (w->dead)
		return;
	if (w->kind == WATCH_CHILD) {
		if (!reap(w->pid, &status))
			return;
		bury(r, w);
		cb_begin(r, w, NULL);
		w->child_cb(w->pid, status, w->arg);
		cb_end(r);
		return;
	}
	events = to_assay(ev->events, w->events);
	if (!events)
		return;
	cb_begin(r, w, NULL);
	w->fd_cb(w->fd, events, w->arg);
	cb_end(r);
}

static void run_timers(reactor *r)
{
	uint64_t now = now_ns();
	int status = 0;

	while (r->nheap && !r->stopping) {
		size_t i = r->heap[0];
		struct timer *t = &r->timers[i], fire;
		assay_timer *id;

		if (t->deadline > now)
			break;
		if (t->pid > 0 && !reap(t->pid, &status)) {
			t->deadline = now + POLL_NS;
			t->seq = r->seq++;
			sift_down(r, 0);
			continue;
		}
		/* Freed before it runs: from here on its handle is stale, and
		 * stop() knows it only as the one running. */
		fire = *t;
		id = encode(i, t->gen);
		heap_remove(r, i);
		slot_free(r, i);
		cb_begin(r, NULL, id);
		if (fire.pid > 0)
			fire.child_cb(fire.pid, status, fire.arg);
		else
			fire.cb(fire.arg);
		cb_end(r);
	}
}

/* Rounded up, so that a timer never fires early. */
static int next_timeout(reactor *r)
{
	uint64_t now, ms, deadline;

	if (!r->nheap)
		return -1;
	now = now_ns();
	deadline = r->timers[r->heap[0]].deadline;
	if (deadline <= now)
		return 0;
	ms = (deadline - now + NS_PER_MS - 1) / NS_PER_MS;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

static void close_fds(reactor *r)
{
	int e = errno;

	if (r->epfd >= 0)
		close(r->epfd);
	if (r->wakefd >= 0)
		close(r->wakefd);
	errno = e;
}

static void destroy(reactor *r)
{
	assay_watch *w;

	while ((w = r->watches)) {
		r->watches = w->next;
		if (w->kind == WATCH_CHILD)
			close(w->fd);
		free(w);
	}
	free_dead(r);
	free(r->timers);
	free(r->heap);
	close_fds(r);
	pthread_cond_destroy(&r->idle);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

/* The reactor whose thread this is, or NULL. */
static _Thread_local const reactor *tl_self;

bool reactor_is_current(const reactor *r)
{
	return r && tl_self == r;
}

static void *loop(void *arg)
{
	reactor *r = arg;
	struct epoll_event ev[BATCH];
	int i, n, timeout;

	tl_self = r;
	pthread_mutex_lock(&r->lock);
	while (!r->stopping) {
		timeout = next_timeout(r);
		pthread_mutex_unlock(&r->lock);
		n = epoll_wait(r->epfd, ev, BATCH, timeout);
		pthread_mutex_lock(&r->lock);
		for (i = 0; i < n && !r->stopping; i++)
			dispatch(r, &ev[i]);
		run_timers(r);
		free_dead(r);
	}
	pthread_mutex_unlock(&r->lock);
	if (r->self_free)
		destroy(r);
	return NULL;
}

/* ---- public -------------------------------------------------------------- */

int reactor_new(reactor **out)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	sigset_t all, old;
	reactor *r;
	int err;

	if (!out)
		return ASSAY_EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return ASSAY_ENOMEM;
	r->free_slot = NO_INDEX;
	r->epfd = epoll_create1(EPOLL_CLOEXEC);
	r->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->epfd < 0 || r->wakefd < 0 ||
	    epoll_ctl(r->epfd, EPOLL_CTL_ADD, r->wakefd, &ev) < 0)
		goto fail;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->idle, NULL);

	/* Signals are for the threads that handle them, never epoll_wait. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_mutex_lock(&r->lock);
	err = pthread_create(&r->thread, NULL, loop, r);
	pthread_mutex_unlock(&r->lock);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		errno = err;
		pthread_cond_destroy(&r->idle);
		pthread_mutex_destroy(&r->lock);
		goto fail;
	}
	*out = r;
	return 0;
fail:
	close_fds(r);
	free(r);
	return ASSAY_ESYS;
}

void reactor_free(reactor *r)
{
	bool self;

	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	r->stopping = true;
	/* The thread cannot join itself: it frees r once the callback returns. */
	self = r->self_free = on_thread(r);
	pthread_mutex_unlock(&r->lock);
	if (self) {
		pthread_detach(r->thread);
		return;
	}
	wake(r);
	pthread_join(r->thread, NULL);
	destroy(r);
}

static int set_events(reactor *r, assay_watch *w, unsigned events)
{
	struct epoll_event ev = { .events = 0, .data.ptr = w };
	int op;

	if (events == w->events)
		return 0;
	if (events & ASSAY_READABLE)
		ev.events |= EPOLLIN;
	if (events & ASSAY_WRITABLE)
		ev.events |= EPOLLOUT;
	/* A paused watch leaves epoll altogether: EPOLLHUP and EPOLLERR are
	 * reported whatever the mask, and would spin the thread. */
	op = !w->events ? EPOLL_CTL_ADD : events ? EPOLL_CTL_MOD : EPOLL_CTL_DEL;
	if (epoll_ctl(r->epfd, op, w->fd, &ev) < 0)
		return ASSAY_ESYS;
	w->events = events;
	return 0;
}

static void link_watch(reactor *r, assay_watch *w)
{
	w->prev = NULL;
	w->next = r->watches;
	if (r->watches)
		r->watches->prev = w;
	r->watches = w;
}

#define FD_EVENTS (ASSAY_READABLE | ASSAY_WRITABLE)

int reactor_fd_watch(reactor *r, int fd, unsigned events, assay_fd_cb cb,
		     void *arg, assay_watch **out)
{
	assay_watch *w;
	int err, e;

	if (!r || fd < 0 || !cb || !out || (events & ~FD_EVENTS))
		return ASSAY_EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return ASSAY_ENOMEM;
	w->kind = WATCH_FD;
	w->fd = fd;
	w->fd_cb = cb;
	w->arg = arg;

	pthread_mutex_lock(&r->lock);
	err = set_events(r, w, events);
	e = errno;
	/* Before the unlock: the callback may already want *out. */
	if (!err) {
		link_watch(r, w);
		*out = w;
	}
	pthread_mutex_unlock(&r->lock);
	if (err) {
		free(w);
		errno = e;
	}
	return err;
}

int reactor_fd_modify(reactor *r, assay_watch *w, unsigned events)
{
	int err, e;

	if (!r || !w || w->kind != WATCH_FD || (events & ~FD_EVENTS))
		return ASSAY_EINVAL;
	pthread_mutex_lock(&r->lock);
	err = w->dead ? ASSAY_EINVAL : set_events(r, w, events);
	e = errno;
	pthread_mutex_unlock(&r->lock);
	errno = e;
	return err;
}

void reactor_fd_unwatch(reactor *r, assay_watch *w)
{
	if (!r || !w)
		return;
	pthread_mutex_lock(&r->lock);
	if (!w->dead)
		bury(r, w);
	wait_idle(r, w);
	/* So that the thread frees w now rather than after its next event. */
	if (!on_thread(r))
		wake(r);
	pthread_mutex_unlock(&r->lock);
}

/* A timer (pid 0) or a waitpid poll (pid set); *out is set before the
 * unlock, since the callback may already want it. */
static int timer_add(reactor *r, uint64_t deadline, assay_timer_cb cb,
		     pid_t pid, assay_child_cb child_cb, void *arg,
		     assay_timer **out)
{
	size_t i;
	int err;

	pthread_mutex_lock(&r->lock);
	err = slot_alloc(r, &i);
	if (!err) {
		r->timers[i].deadline = deadline;
		r->timers[i].cb = cb;
		r->timers[i].pid = pid;
		r->timers[i].child_cb = child_cb;
		r->timers[i].arg = arg;
		heap_push(r, i);
		if (out)
			*out = encode(i, r->timers[i].gen);
	}
	pthread_mutex_unlock(&r->lock);
	return err;
}

int reactor_timer_start(reactor *r, uint64_t ms, assay_timer_cb cb, void *arg,
			assay_timer **out)
{
	if (!r || !cb)
		return ASSAY_EINVAL;
	return timer_add(r, deadline_after(ms), cb, 0, NULL, arg, out);
}

void reactor_timer_stop(reactor *r, assay_timer *t)
{
	size_t i;

	if (!r || !t)
		return;
	pthread_mutex_lock(&r->lock);
	i = decode(r, t);
	if (i != NO_INDEX) {
		heap_remove(r, i);
		slot_free(r, i);
	} else {
		/* Fired (maybe firing now) or stopped already: its slot may
		 * hold another timer by now, which t does not name. */
		wait_timer_idle(r, t);
	}
	pthread_mutex_unlock(&r->lock);
}

/* An unreaped child's pid names no one else, nor does a group of that id
 * while the child lives: the group is its own, or there is none. */
static void kill_child(pid_t pid, int sig)
{
	kill(-pid, sig);
	kill(pid, sig);
}

void reactor_kill_children(reactor *r, int sig)
{
	assay_watch *w;
	size_t i;

	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	for (w = r->watches; w; w = w->next)
		if (w->kind == WATCH_CHILD)
			kill_child(w->pid, sig);
	for (i = 0; i < r->nheap; i++)
		if (r->timers[r->heap[i]].pid > 0)
			kill_child(r->timers[r->heap[i]].pid, sig);
	pthread_mutex_unlock(&r->lock);
}

static int poll_child(reactor *r, pid_t pid, assay_child_cb cb, void *arg)
{
	/* The first poll is at once: the child may be dead already. */
	return timer_add(r, now_ns(), NULL, pid, cb, arg, NULL);
}

int reactor_child_watch(reactor *r, pid_t pid, assay_child_cb cb, void *arg)
{
	struct epoll_event ev = { .events = EPOLLIN };
	assay_watch *w;
	int fd, e;

	if (!r || pid <= 0 || !cb)
		return ASSAY_EINVAL;
	/* Old kernels say ENOSYS; old container seccomp profiles say EPERM. */
	fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0 && (errno == ENOSYS || errno == EPERM))
		return poll_child(r, pid, cb, arg);
	if (fd < 0)
		return ASSAY_ESYS;
	w = calloc(1, sizeof(*w));
	if (!w) {
		close(fd);
		return ASSAY_ENOMEM;
	}
	w->kind = WATCH_CHILD;
	w->fd = fd;
	w->events = ASSAY_READABLE;
	w->pid = pid;
	w->child_cb = cb;
	w->arg = arg;
	ev.data.ptr = w;

	pthread_mutex_lock(&r->lock);
	if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, fd, &ev) == 0) {
		link_watch(r, w);
		w = NULL;
	}
	e = errno;
	pthread_mutex_unlock(&r->lock);
	if (!w)
		return 0;
	close(fd);
	free(w);
	errno = e;
	return ASSAY_ESYS;
}
