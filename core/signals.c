/* signals.c -- SIGINT, SIGTERM and SIGHUP stop a run, read from a signalfd
 * by the reactor rather than caught by a handler. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "signals.h"

static const char *signals_name(int sig)
{
	return sig == SIGINT ? "SIGINT" : sig == SIGHUP ? "SIGHUP" : "SIGTERM";
}

/* First SIGINT, SIGTERM or SIGHUP (the terminal closed, the connection
 * dropped): stop the run, kill its children, report what finished.
 * Second: kill what still runs (a command that ignores SIGTERM, one within
 * its kill_grace) and leave at once -- reports are written atomically, so
 * nothing half-written is left, and nothing outlives assay. */
static void signals_read(int fd, unsigned events, void *arg)
{
	signal_watch *w = arg;
	struct signalfd_siginfo si;
	char reason[64];

	while (read(fd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (++w->count > 1) {
			reactor_kill_children(w->re, SIGKILL);
			_exit(128 + (int)si.ssi_signo);
		}
		/* Where the terminal or connection went, writing to it may
		 * raise SIGPIPE: the report files are still to be written. */
		if (si.ssi_signo == SIGHUP)
			signal(SIGPIPE, SIG_IGN);
		snprintf(reason, sizeof reason, "interrupted by %s", signals_name((int)si.ssi_signo));
		fprintf(stderr, "\nassay: %s: stopping (again to quit at once)\n", reason);
		run_stop(w->run, reason);
	}
}

/* SIGCHLD is blocked too, though nobody reads it: children are reaped
 * through pidfds in the reactor, and left unblocked every child's exit
 * woke the main thread from its wait in run_go() for nothing (measured:
 * 683 futex calls for 1,024 children, 44 with it blocked).  Children
 * start with an empty mask (exec resets it). */
void signals_block(signal_watch *w)
{
	sigset_t sigs, chld;

	*w = (signal_watch){ .fd = -1 };
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &chld, NULL);
	w->fd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
}

void signals_watch(signal_watch *w, reactor *re, run *r)
{
	w->run = r;
	w->re = re;
	if (w->fd >= 0)
		reactor_fd_watch(re, w->fd, ASSAY_READABLE, signals_read, w, &w->watch);
}

void signals_unwatch(signal_watch *w)
{
	if (w->watch)
		reactor_fd_unwatch(w->re, w->watch);
	w->watch = NULL;
	w->run = NULL;
}

void signals_release(signal_watch *w)
{
	signals_unwatch(w);
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
}
