/* best.h -- what a trial reported for a metric, the value that ranks it:
 * shared by the trial tracker (sweep.h), which finds each sweep's best,
 * and the reports. */
#ifndef ASSAY_BEST_H
#define ASSAY_BEST_H

#include "run.h"

/* What res reported for metric: its last value (a value reported again
 * replaces the earlier one), or NULL.  What ranks a trial. */
const assay_metric *best_reported(const run_result *res, const char *metric);

#endif /* ASSAY_BEST_H */
