/* exec_log.h -- a trial's stdout and stderr kept as files in its trial
 * dir (exec_log.c): internal to libexec-common, used by exec_trial.c. */
#ifndef EXEC_LOG_H
#define EXEC_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exec_common.h"

/* dir/name, to hold the first limit bytes of the stream: made with its
 * first byte (a stream that stays empty leaves no file), an earlier
 * attempt's removed first; NULL when out of memory. */
exec_log *exec_log_open(const assay_host *h, assay_task *task, const char *dir, const char *name,
			uint64_t limit);

/* Bytes of the stream as they are read: written masked of the run's
 * secrets, the end of a read held back while it may be the start of one.
 * The reactor thread. */
void exec_log_write(exec_log *l, const char *buf, size_t n);

/* The end of the stream: what was held back written, the file closed, the
 * cut (log_limit) or a failed write in the task's log.  l may be NULL. */
void exec_log_close(exec_log *l, const char *name, const char *dir);

/* Whether log_limit cut it. */
bool exec_log_cut(const exec_log *l);

#endif /* EXEC_LOG_H */
