/* lock.c -- the run lock: flock(2) on the config directory's `lock` file,
 * the holder's pid and time written in it for the next run's message. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "duration.h"
#include "lock.h"
#include "task.h"

/* How often a run that waits (--lock-wait) tries the lock again: a lock
 * freed is taken within this, and a wait of hours costs nothing. */
#define LOCK_POLL_MS 50

struct run_lock {
	int fd;
};

void lock_format_since(time_t since, time_t now, char *buf, size_t size)
{
	struct tm t, today;

	if (!localtime_r(&since, &t) || !localtime_r(&now, &today)) {
		snprintf(buf, size, "%lld", (long long)since);
		return;
	}
	if (t.tm_year == today.tm_year && t.tm_yday == today.tm_yday)
		strftime(buf, size, "%H:%M:%S", &t);
	else
		strftime(buf, size, "%Y-%m-%d %H:%M:%S", &t);
}

/* Who holds the lock, as its holder wrote it ("4242 1765195267\n"), in
 * why.  The holder writes it just after it took the lock: a file read in
 * between is empty, and is read again a moment later. */
static void lock_describe(int fd, const char *config, char *why, size_t size)
{
	char text[64], since[32];
	long long pid, at;
	int tries;

	for (tries = 0; tries < 3; tries++) {
		ssize_t n = pread(fd, text, sizeof text - 1, 0);

		text[n > 0 ? n : 0] = '\0';
		if (sscanf(text, "%lld %lld", &pid, &at) == 2 && pid > 0) {
			lock_format_since((time_t)at, time(NULL), since, sizeof since);
			snprintf(why, size, "another run of %s holds the lock since %s, pid %lld",
				 config, since, pid);
			return;
		}
		usleep(5000);
	}
	snprintf(why, size, "another run of %s holds the lock", config);
}

/* The holder's pid and the time it took the lock, over what the last
 * holder wrote.  A failure costs the next run's message its details only. */
static void lock_write_holder(int fd)
{
	char text[64];
	int n = snprintf(text, sizeof text, "%ld %lld\n", (long)getpid(), (long long)time(NULL));

	if (ftruncate(fd, 0) == 0 && pwrite(fd, text, (size_t)n, 0) != n)
		(void)ftruncate(fd, 0);
}

/* Try again every LOCK_POLL_MS until the lock is free, wait_ms went by,
 * or a signal came on sigfd.  0, LOCK_BUSY, LOCK_INTERRUPTED or
 * LOCK_ERROR (errno set). */
static int lock_wait(int fd, int64_t wait_ms, int sigfd, int *signo)
{
	int64_t deadline = task_now_ns() + wait_ms * 1000000;

	for (;;) {
		/* Rounded up: a wait is never cut short. */
		int64_t left = (deadline - task_now_ns() + 999999) / 1000000;
		int ms = left < LOCK_POLL_MS ? (int)left : LOCK_POLL_MS;
		struct pollfd pfd = { .fd = sigfd, .events = POLLIN };
		struct signalfd_siginfo si;

		if (left <= 0)
			return LOCK_BUSY;
		/* The sleep between tries, cut short by a signal. */
		if (poll(&pfd, sigfd >= 0, ms) > 0 &&
		    read(sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
			*signo = (int)si.ssi_signo;
			return LOCK_INTERRUPTED;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return LOCK_ERROR;
	}
}

int lock_take(run_lock **out, const char *config_dir, const char *config, int64_t wait_ms,
	      int sigfd, int *signo, char *why, size_t size)
{
	char *path = NULL, waited[32];
	run_lock *l = NULL;
	int fd = -1, rc = LOCK_ERROR;

	*out = NULL;
	if (asprintf(&path, "%s/lock", config_dir) < 0)
		path = NULL; /* asprintf() leaves it undefined */
	if (!path || !(l = malloc(sizeof *l))) {
		free(path);
		snprintf(why, size, "out of memory");
		return LOCK_ERROR;
	}
	/* O_NOFOLLOW: the state dir is this user's; a link planted there
	 * must not make a run truncate whatever it points to. */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
	if (fd < 0) {
		snprintf(why, size, "cannot open the run lock %s: %s", path, strerror(errno));
		goto out;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		rc = 0;
	else if (errno == EWOULDBLOCK)
		rc = wait_ms > 0 ? lock_wait(fd, wait_ms, sigfd, signo) : LOCK_BUSY;
	if (rc == LOCK_ERROR) {
		snprintf(why, size, "cannot lock %s: %s", path, strerror(errno));
	} else if (rc == LOCK_BUSY) {
		lock_describe(fd, config, why, size);
		if (wait_ms > 0) {
			size_t used = strlen(why);

			snprintf(why + used, size - used, " (waited %s)",
				 duration_format(wait_ms, waited));
		}
	} else if (rc == LOCK_INTERRUPTED) {
		snprintf(why, size, "interrupted while waiting for the lock of %s", config);
	} else {
		lock_write_holder(fd);
		l->fd = fd;
		*out = l;
		l = NULL;
		fd = -1;
	}
out:
	if (fd >= 0)
		close(fd);
	free(l);
	free(path);
	return rc;
}

void lock_release(run_lock *l)
{
	if (!l)
		return;
	/* Closing the last descriptor of the open file drops the flock. */
	close(l->fd);
	free(l);
}
