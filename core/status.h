/* status.h -- the words and ranks every file shares: status and kind
 * names, error strings, the monitoring-plugins' ranking of states.  A
 * leaf: it includes no other core unit. */
#ifndef ASSAY_STATUS_H
#define ASSAY_STATUS_H

#include <stdbool.h>

#include "assay/plugin.h"

/* "OK", "WARNING", "CRITICAL", "UNKNOWN", "SKIPPED" (out of range: "UNKNOWN"). */
const char *status_name(assay_status s);

/* "check", "trial", "validation" for one ASSAY_KIND_* bit; "node" otherwise. */
const char *status_kind_name(unsigned kind);

/* "error", "warning", "info", "debug" for an ASSAY_LOG_* level. */
const char *status_level_name(int level);

/* The text of an ASSAY_E* code (0: "success"): host->strerror(). */
const char *status_strerror(int code);

/* The ranking is inline: the scheduler asks it once or more per node. */

/* The monitoring-plugins' rank when they combine states (max_state_alt):
 * OK < UNKNOWN < WARNING < CRITICAL, though UNKNOWN's exit code is 3, so
 * that one CRITICAL node makes a CRITICAL run.  SKIPPED ranks as UNKNOWN:
 * its caller says what the skip stands for. */
static inline int status_severity(assay_status s)
{
	static const int rank[] = { 0, 2, 3, 1 };

	return (unsigned)s <= ASSAY_UNKNOWN ? rank[s] : 1;
}

/* The more severe of a and b by status_severity() (a when they tie). */
static inline assay_status status_worse(assay_status a, assay_status b)
{
	return status_severity(b) > status_severity(a) ? b : a;
}

/* CRITICAL or UNKNOWN: a failure, which a retry may mend, a gate stops
 * on and `run_if = "failure"` waits for.  WARNING is not one. */
static inline bool status_failed(assay_status s)
{
	return s == ASSAY_CRITICAL || s == ASSAY_UNKNOWN;
}

#endif /* ASSAY_STATUS_H */
