/* gpu_nvml.c -- the parent's side of the NVML helper child (gpu_nvml.h):
 * start it, ask it for readings, take in its answers without ever
 * blocking, and give it up when it hangs.
 *
 * Why this shape: try_acquire runs on the scheduler's threads and must
 * never wait, so gpu_nvml_latest() only drains what already arrived
 * (MSG_DONTWAIT) and hands out the newest snapshot by reference, and
 * gpu_nvml_refresh() writes one request byte unless one is already in
 * flight (requests merge: NVML is read at most once at a time).  A request
 * unanswered for the timeout makes the state HUNG for good: the child is
 * killed and abandoned, never waited for (one stuck in D state would keep
 * a waitpid() there forever). */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "assay/plugin.h"
#include "gpu_nvml_int.h"

#define NVML_POLL_NS 1000000 /* a child that died is noticed within 1 ms */

/* A snapshot and its devices in one block; freed by the last put. */
typedef struct gpu_snap {
	gpu_snapshot pub;
	atomic_size_t refs;
	gpu_device devs[];
} gpu_snap;

/* A `why` handed out stays valid until gpu_nvml_free(), even when the state
 * moves on: each distinct sentence is kept once, in a list. */
typedef struct gpu_why {
	struct gpu_why *next;
	char text[];
} gpu_why;

struct gpu_nvml {
	pthread_mutex_t lock; /* everything below but the constants */
	int fd;               /* our end of the socket pair; -1 once closed */
	pid_t pid;
	int64_t timeout_ns;
	gpu_nvml_shared *sh; /* MAP_SHARED with the child */
	gpu_nvml_state state;
	gpu_snap *latest; /* one reference held here; NULL when none */
	bool in_flight;   /* a request (or the first reading) unanswered */
	int64_t sent_ns;
	unsigned taken;    /* answers parsed: behind sh->sent, one is there */
	int64_t polled_ns; /* the last recv() */
	uint64_t seq;
	unsigned char *buf; /* partial answers, reassembled */
	size_t len, cap;
	const char *why; /* into whys */
	gpu_why *whys;
};

static int64_t nvml_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Set n->why to text, kept for the object's life (lock held). */
static void nvml_set_why(gpu_nvml *n, const char *text)
{
	gpu_why *w;
	size_t len = strlen(text);

	for (w = n->whys; w; w = w->next)
		if (!strcmp(w->text, text)) {
			n->why = w->text;
			return;
		}
	w = malloc(sizeof(*w) + len + 1);
	if (!w) {
		n->why = "out of memory describing the NVML state";
		return;
	}
	memcpy(w->text, text, len + 1);
	w->next = n->whys;
	n->whys = w;
	n->why = w->text;
}

static void nvml_snap_put(gpu_snap *s)
{
	if (s && atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) == 1)
		free(s);
}

void gpu_snapshot_put(const gpu_snapshot *snap)
{
	/* pub is the first member: the snapshot is its gpu_snap. */
	nvml_snap_put((gpu_snap *)(void *)(uintptr_t)snap);
}

/* The child is gone or given up: say why, kill it (lock held). */
static void nvml_give_up(gpu_nvml *n, gpu_nvml_state state, const char *why)
{
	n->state = state;
	n->in_flight = false;
	nvml_set_why(n, why);
	if (n->pid > 0)
		kill(n->pid, SIGKILL);
}

/* One whole answer from the child (lock held). */
static void nvml_take(gpu_nvml *n, const gpu_nvml_msg *m, const unsigned char *devs)
{
	gpu_snap *s = NULL;

	n->in_flight = false;
	if (m->state == GPU_NVML_OK) {
		s = malloc(sizeof(*s) + m->n * sizeof(gpu_device));
		if (!s) {
			n->state = GPU_NVML_UNAVAILABLE;
			nvml_set_why(n, "out of memory taking in an NVML reading");
			return;
		}
		memcpy(s->devs, devs, m->n * sizeof(gpu_device));
		s->pub = (gpu_snapshot){ .devices = s->devs,
					 .n = m->n,
					 .skipped = m->skipped,
					 .taken_ns = m->taken_ns,
					 .seq = ++n->seq };
		atomic_init(&s->refs, 1);
	} else {
		char why[GPU_NVML_WHY_MAX];

		snprintf(why, sizeof(why), "%.*s", (int)sizeof(m->why), m->why);
		nvml_set_why(n, why);
	}
	nvml_snap_put(n->latest);
	n->latest = s;
	n->state = m->state == GPU_NVML_OK ? GPU_NVML_OK : GPU_NVML_UNAVAILABLE;
}

/* Every whole answer in the buffer (lock held).  False: the child sent
 * something that is no answer. */
static bool nvml_parse(gpu_nvml *n)
{
	size_t off = 0;

	while (n->len - off >= sizeof(gpu_nvml_msg)) {
		gpu_nvml_msg m;

		memcpy(&m, n->buf + off, sizeof(m));
		if (m.n > GPU_NVML_MAX_DEVICES || m.size != sizeof(m) + m.n * sizeof(gpu_device) ||
		    (m.state != GPU_NVML_OK && m.state != GPU_NVML_UNAVAILABLE))
			return false;
		if (n->len - off < m.size)
			break;
		nvml_take(n, &m, n->buf + off + sizeof(m));
		n->taken++;
		off += m.size;
	}
	memmove(n->buf, n->buf + off, n->len - off);
	n->len -= off;
	return true;
}

/* Room for a whole answer at most (lock held). */
static bool nvml_grow(gpu_nvml *n)
{
	size_t want = sizeof(gpu_nvml_msg) + GPU_NVML_MAX_DEVICES * sizeof(gpu_device);
	unsigned char *b;

	if (n->cap >= want)
		return true;
	b = realloc(n->buf, want);
	if (!b)
		return false;
	n->buf = b;
	n->cap = want;
	return true;
}

static void nvml_hung(gpu_nvml *n)
{
	char why[GPU_NVML_WHY_MAX + 64], fn[64], span[32];
	int call = atomic_load_explicit(&n->sh->call, memory_order_acquire);
	int version = atomic_load_explicit(&n->sh->version, memory_order_relaxed);
	int64_t ms = n->timeout_ns / 1000000;

	if (ms % 1000 == 0)
		snprintf(span, sizeof(span), "%lld s", (long long)(ms / 1000));
	else
		snprintf(span, sizeof(span), "%lld ms", (long long)ms);
	if (call > GPU_CALL_NONE && call < GPU_CALL_MAX)
		snprintf(why, sizeof(why), "no answer from NVML for %s (in %s)", span,
			 gpu_nvml_call_name(call, version, fn, sizeof(fn)));
	else
		snprintf(why, sizeof(why), "no answer from NVML for %s", span);
	nvml_give_up(n, GPU_NVML_HUNG, why);
}

/* Take in whatever arrived, without waiting, and notice a hang (lock
 * held).  Only while an answer is due, and only when the child counts one
 * more than we took -- or, to notice a child that died, once per
 * NVML_POLL_NS: otherwise no system call is made. */
static void nvml_drain(gpu_nvml *n)
{
	int64_t now = n->in_flight ? nvml_now() : 0;

	if (n->in_flight && now - n->polled_ns < NVML_POLL_NS &&
	    atomic_load_explicit(&n->sh->sent, memory_order_acquire) == n->taken) {
		if (now - n->sent_ns > n->timeout_ns)
			nvml_hung(n);
		return;
	}
	n->polled_ns = now;
	while (n->in_flight) {
		ssize_t got;

		if (!nvml_grow(n))
			return; /* try again at the next call */
		got = recv(n->fd, n->buf + n->len, n->cap - n->len, MSG_DONTWAIT);
		if (got > 0) {
			n->len += (size_t)got;
			if (!nvml_parse(n))
				nvml_give_up(n, GPU_NVML_GONE,
					     "the NVML helper process sent a malformed answer");
			continue;
		}
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		nvml_give_up(n, GPU_NVML_GONE,
			     got == 0 ? "the NVML helper process exited"
				      : "the NVML helper's socket failed");
	}
	if (n->in_flight && now - n->sent_ns > n->timeout_ns)
		nvml_hung(n);
}

/* The answer gpu_nvml_latest() and gpu_nvml_wait() give (lock held). */
static gpu_nvml_state nvml_answer(gpu_nvml *n, const gpu_snapshot **snap, const char **why)
{
	if (snap) {
		*snap = n->latest ? &n->latest->pub : NULL;
		if (n->latest)
			atomic_fetch_add_explicit(&n->latest->refs, 1, memory_order_relaxed);
	}
	if (why)
		*why = n->state == GPU_NVML_OK        ? NULL
		       : n->state == GPU_NVML_PENDING ? "waiting for NVML's first answer"
						      : n->why;
	return n->state;
}

gpu_nvml_state gpu_nvml_latest(gpu_nvml *n, const gpu_snapshot **snap, const char **why)
{
	gpu_nvml_state st;

	pthread_mutex_lock(&n->lock);
	nvml_drain(n);
	st = nvml_answer(n, snap, why);
	pthread_mutex_unlock(&n->lock);
	return st;
}

void gpu_nvml_refresh(gpu_nvml *n)
{
	pthread_mutex_lock(&n->lock);
	nvml_drain(n);
	if (!n->in_flight && n->state != GPU_NVML_HUNG && n->state != GPU_NVML_GONE) {
		ssize_t put;

		do
			put = send(n->fd, "r", 1, MSG_DONTWAIT | MSG_NOSIGNAL);
		while (put < 0 && errno == EINTR);
		if (put == 1) {
			n->in_flight = true;
			n->sent_ns = nvml_now();
		} else if (errno != EAGAIN && errno != EWOULDBLOCK) {
			nvml_give_up(n, GPU_NVML_GONE, "the NVML helper process exited");
		}
	}
	pthread_mutex_unlock(&n->lock);
}

gpu_nvml_state gpu_nvml_wait(gpu_nvml *n, const gpu_snapshot **snap, const char **why)
{
	for (;;) {
		struct pollfd pfd;
		int64_t left;
		gpu_nvml_state st;

		pthread_mutex_lock(&n->lock);
		nvml_drain(n);
		if (!n->in_flight) {
			st = nvml_answer(n, snap, why);
			pthread_mutex_unlock(&n->lock);
			return st;
		}
		left = n->sent_ns + n->timeout_ns - nvml_now();
		pfd = (struct pollfd){ .fd = n->fd, .events = POLLIN };
		pthread_mutex_unlock(&n->lock);
		/* Past the deadline by a millisecond, so the next drain calls it a hang. */
		poll(&pfd, 1, left > 0 ? (int)(left / 1000000) + 1 : 1);
	}
}

const char *gpu_nvml_strerror(int code)
{
	static const char *const words[] = {
		[1] = "Uninitialized",
		[2] = "Invalid Argument",
		[3] = "Not Supported",
		[4] = "Insufficient Permissions",
		[5] = "Already Initialized",
		[6] = "Not Found",
		[7] = "Insufficient Size",
		[8] = "Insufficient External Power",
		[9] = "Driver Not Loaded",
		[10] = "Timeout",
		[11] = "Interrupt request issue",
		[12] = "NVML Shared Library Not Found",
		[13] = "Function Not Found",
		[14] = "Corrupted infoROM",
		[15] = "GPU is lost",
		[16] = "GPU requires restart",
		[17] = "The operating system has blocked the request",
		[18] = "RM has detected an NVML/RM version mismatch",
		[19] = "In use by another client",
		[20] = "Insufficient Memory",
		[21] = "No data",
		[25] = "Argument version mismatch",
	};

	if (code == 0)
		return "Success";
	if (code > 0 && (size_t)code < sizeof(words) / sizeof(words[0]) && words[code])
		return words[code];
	return "Unknown Error";
}

/* Owned by the caller; freed by gpu_nvml_free().  Forks: main thread,
 * before any other thread exists. */
int gpu_nvml_start(const char *library, int64_t timeout_ms, gpu_nvml **out)
{
	gpu_nvml *n;
	int sv[2];
	pid_t parent = getpid();

	*out = NULL;
	if (timeout_ms <= 0)
		return ASSAY_EINVAL;
	n = calloc(1, sizeof(*n));
	if (!n)
		return ASSAY_ENOMEM;
	n->sh = mmap(NULL, sizeof(*n->sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
		     0);
	if (n->sh == MAP_FAILED) {
		free(n);
		return ASSAY_ESYS;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		munmap(n->sh, sizeof(*n->sh));
		free(n);
		return ASSAY_ESYS;
	}
	n->pid = fork();
	if (n->pid == 0) {
		close(sv[0]);
		gpu_nvml_child_main(sv[1], library, n->sh, parent);
	}
	close(sv[1]);
	if (n->pid < 0) {
		int e = errno;

		close(sv[0]);
		munmap(n->sh, sizeof(*n->sh));
		free(n);
		errno = e;
		return ASSAY_ESYS;
	}
	pthread_mutex_init(&n->lock, NULL);
	n->fd = sv[0];
	n->timeout_ns = timeout_ms * 1000000;
	n->state = GPU_NVML_PENDING;
	n->in_flight = true; /* the child reads once without being asked */
	n->sent_ns = nvml_now();
	*out = n;
	return 0;
}

void gpu_nvml_free(gpu_nvml *n)
{
	if (!n)
		return;
	close(n->fd); /* EOF: an idle child leaves by itself */
	kill(n->pid, SIGKILL);
	/* Reaped if it is already gone; one stuck in the kernel is left to
	 * init once we exit, never waited for. */
	waitpid(n->pid, NULL, WNOHANG);
	nvml_snap_put(n->latest);
	while (n->whys) {
		gpu_why *w = n->whys;

		n->whys = w->next;
		free(w);
	}
	free(n->buf);
	munmap(n->sh, sizeof(*n->sh));
	pthread_mutex_destroy(&n->lock);
	free(n);
}
