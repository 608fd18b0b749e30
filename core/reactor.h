/* reactor.h -- the one epoll thread: timers, child exits (pidfd) and file
 * descriptors, so that waiting work holds no pool thread.
 *
 * Every function is thread-safe and may be called from any thread,
 * including from inside a reactor callback.  Callbacks run on the reactor
 * thread, one at a time, and must not block.
 *
 * The watch/timer types and callback signatures are the plugin ABI's
 * (include/assay/plugin.h), so the host table forwards to these directly.
 */
#ifndef ASSAY_REACTOR_H
#define ASSAY_REACTOR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "assay/plugin.h"

typedef struct reactor reactor;

/* Create the epoll instance and start the thread.  0 or a negative
 * ASSAY_E* code; *out is the caller's to reactor_free(). */
int reactor_new(reactor **out);

/* Stop the thread and free everything.  Timers not yet fired are dropped
 * without running; children still watched are neither killed nor reaped
 * (the caller kills them first).  NULL is allowed. */
void reactor_free(reactor *r);

/* One watch per fd: watching an fd that already has a watch in epoll fails
 * with ASSAY_ESYS and errno EEXIST.  (A watch paused with events 0 is out
 * of epoll, so a second watch of its fd is not caught: do not make one.) */
int reactor_fd_watch(reactor *r, int fd, unsigned events, assay_fd_cb cb, void *arg,
		     assay_watch **out);
int reactor_fd_modify(reactor *r, assay_watch *w, unsigned events);
/* After return, cb is not running and will not run again for w (unless
 * called from w's own callback, which is allowed). */
void reactor_fd_unwatch(reactor *r, assay_watch *w);

/* One-shot: cb(arg) runs once, ms milliseconds from now.  *out (out may be
 * NULL) is an opaque handle, never NULL, set before cb can run.  It is a
 * generation-checked id, not a pointer: it stays safe to pass to
 * reactor_timer_stop at any time until reactor_free, from any thread, even
 * after the timer fired, and never names a later timer (short of 2^32
 * reuses of one slot; 2^16 where pointers have 32 bits). */
int reactor_timer_start(reactor *r, uint64_t ms, assay_timer_cb cb, void *arg, assay_timer **out);
/* Cancel the timer if it has not fired; after return cb is not running and
 * will not run.  If it fired already (or was stopped), this is a no-op that
 * only waits for cb to return should it be running right now -- unless
 * called from that very cb, which returns at once.  So a caller racing the
 * timer (work completed on another thread) just stops it. */
void reactor_timer_stop(reactor *r, assay_timer *t);

/* Reap pid when it exits and call cb(pid, status, arg).  Uses a pidfd
 * (Linux 5.3+); where pidfd_open is missing, polls waitpid(pid, WNOHANG)
 * on a 10 ms timer instead.  Only the watched pid is ever reaped.  If
 * someone else reaped it (SIGCHLD ignored, a stray waitpid), cb still runs
 * once, with status -1 (check for it before the W* macros). */
int reactor_child_watch(reactor *r, pid_t pid, assay_child_cb cb, void *arg);

/* Send sig to every child watched and not yet reaped, and to its process
 * group if it leads one (exec makes each child a group leader): so that
 * nothing outlives a process that must leave at once.  Any thread; the
 * children are still reaped and reported as usual. */
void reactor_kill_children(reactor *r, int sig);

/* Whether the calling thread is r's (it runs r's callbacks). */
bool reactor_is_current(const reactor *r);

#endif /* ASSAY_REACTOR_H */
