/* lock.h -- the run lock: one run of a config at a time.  An flock(2) on
 * the file `lock` in the config's directory of the state dir, which the
 * kernel drops when its holder exits however it exits (kill -9 too): a
 * lock is never stale, and nothing has to clean one up.  The holder
 * writes its pid and the time it took the lock into the file, for the
 * message of the run it keeps out. */
#ifndef ASSAY_LOCK_H
#define ASSAY_LOCK_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef struct run_lock run_lock;

/* What lock_take() answers besides 0. */
enum {
	LOCK_ERROR = -1,       /* the lock file cannot be opened or locked */
	LOCK_BUSY = -2,        /* another run holds it (after wait_ms, if any) */
	LOCK_INTERRUPTED = -3  /* a signal came on sigfd while waiting */
};

/* Take the lock of the config whose directory is config_dir; `config` is
 * the config's name for messages ("infra.toml").  Another run holding
 * it: with wait_ms 0, LOCK_BUSY at once; else it is tried again every few
 * milliseconds until it is free or wait_ms went by, and a signal readable
 * on sigfd (a signalfd, or -1) ends the wait at once (LOCK_INTERRUPTED,
 * the signal read into *signo).  The lock's descriptor is close-on-exec:
 * the run's children never hold it.  0 with *out set, or a LOCK_* with
 * why (LOCK_BUSY: "another run of infra.toml holds the lock since
 * 12:01:07, pid 4242"). */
int lock_take(run_lock **out, const char *config_dir, const char *config, int64_t wait_ms,
	      int sigfd, int *signo, char *why, size_t size);

/* Release the lock (closing its descriptor) and free l; NULL is fine. */
void lock_release(run_lock *l);

/* "12:01:07" for a time of today (local time), "2026-12-07 12:01:07" for
 * another day, into buf. */
void lock_format_since(time_t since, time_t now, char *buf, size_t size);

#endif /* ASSAY_LOCK_H */
