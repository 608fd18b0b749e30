/* gpu_nvml_child.c -- the NVML helper process: forked by gpu_nvml_start(),
 * it loads NVML, reads every device once, then answers each request byte
 * on its socket with one fresh reading, until EOF.
 *
 * Why a process: an NVML call can hang in the kernel (D state), where no
 * signal reaches a thread; the parent then abandons this process and
 * goes on.  So the child keeps nothing of the parent's: every other fd is
 * closed (a pipe or lock it held would outlive assay), the terminal's
 * signals are ignored (the parent decides when it ends), and it dies with
 * the parent (PR_SET_PDEATHSIG).  It leaves with _exit() only: no atexit
 * handler, stdio buffer or sanitizer leak report of the forked copy. */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "gpu_nvml_int.h"

/* Close every fd but 0-2 and keep. */
static void child_close_fds(int keep)
{
	struct rlimit rl;
	long max = 65536;

#ifdef SYS_close_range
	if ((keep <= 3 || syscall(SYS_close_range, 3u, (unsigned)keep - 1, 0u) == 0) &&
	    syscall(SYS_close_range, (unsigned)keep + 1, ~0u, 0u) == 0)
		return;
#endif
	/* Kernels before 5.9: a loop up to the fd limit (capped: a huge
	 * RLIMIT_NOFILE would make this take seconds). */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < (rlim_t)max)
		max = (long)rl.rlim_cur;
	for (long fd = 3; fd < max; fd++)
		if (fd != keep)
			close((int)fd);
}

static void child_isolate(int fd, pid_t parent)
{
	sigset_t none;

	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGPIPE, SIG_IGN); /* a parent gone: write fails with EPIPE, we leave */
	signal(SIGHUP, SIG_IGN);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL); /* the parent may block some for a signalfd */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
		_exit(0); /* the parent died before the prctl took */
	child_close_fds(fd);
}

/* Write all of buf, or leave (the parent is gone). */
static void child_send(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t put = write(fd, p, len);

		if (put < 0 && errno == EINTR)
			continue;
		if (put <= 0)
			_exit(0);
		p += put;
		len -= (size_t)put;
	}
}

void gpu_nvml_child_main(int fd, const char *library, gpu_nvml_shared *sh, pid_t parent)
{
	gpu_nvml_lib *lib;
	char why[GPU_NVML_WHY_MAX];
	gpu_nvml_msg *msg;
	gpu_device *devs;

	child_isolate(fd, parent);
	msg = malloc(sizeof(*msg) + GPU_NVML_MAX_DEVICES * sizeof(gpu_device));
	if (!msg)
		_exit(1); /* the parent sees EOF: GONE */
	devs = (gpu_device *)(msg + 1);
	lib = gpu_nvml_lib_open(library, sh, why, sizeof(why));
	for (;;) {
		char req[64];
		ssize_t got;

		if (lib) {
			gpu_nvml_lib_read(lib, msg, devs);
		} else { /* no library: the same answer to every request */
			memset(msg, 0, sizeof(*msg));
			msg->state = GPU_NVML_UNAVAILABLE;
			snprintf(msg->why, sizeof(msg->why), "%s", why);
		}
		msg->size = (uint32_t)(sizeof(*msg) + msg->n * sizeof(gpu_device));
		child_send(fd, msg, msg->size);
		atomic_fetch_add_explicit(&sh->sent, 1, memory_order_release);
		/* Requests that arrived meanwhile are answered by one reading. */
		do
			got = read(fd, req, sizeof(req));
		while (got < 0 && errno == EINTR);
		if (got <= 0)
			_exit(0); /* EOF: gpu_nvml_free() or the parent died */
	}
}
