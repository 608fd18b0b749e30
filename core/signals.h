/* signals.h -- SIGINT, SIGTERM and SIGHUP stop a run: they are blocked in
 * every thread and read from a signalfd on the run's reactor. */
#ifndef ASSAY_SIGNALS_H
#define ASSAY_SIGNALS_H

#include "reactor.h"
#include "run.h"

typedef struct signal_watch {
	int fd;                 /* the signalfd, or -1 */
	int count;              /* signals read so far */
	run *run;               /* what the first one stops */
	reactor *re;
	assay_watch *watch;     /* fd on re, or NULL */
} signal_watch;

/* Block the signals in the calling thread, and so in every thread it
 * starts after this (the reactor's, the pool's), and open the signalfd
 * that reads them.  Call before any thread starts.  Without a signalfd
 * (w->fd is then -1) the signals are still blocked. */
void signals_block(signal_watch *w);

/* Read the signals on re while r runs: the first stops r (its children
 * are killed, what finished is reported), the second kills what still
 * runs and leaves at once. */
void signals_watch(signal_watch *w, reactor *re, run *r);

/* Stop reading them on the reactor; they stay blocked. */
void signals_unwatch(signal_watch *w);

/* Close the signalfd.  The signals stay blocked: one that comes while the
 * reports are written waits, and cannot cut one short. */
void signals_release(signal_watch *w);

#endif /* ASSAY_SIGNALS_H */
