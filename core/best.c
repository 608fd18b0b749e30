/* best.c -- the value a trial reported for a metric, as the trial tracker
 * and the reports rank it. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <string.h>

#include "best.h"

const assay_metric *best_reported(const run_result *res, const char *metric)
{
	size_t m = res->n_metrics;

	while (m-- > 0)
		if (strcmp(res->metrics[m].name, metric) == 0)
			return &res->metrics[m];
	return NULL;
}
