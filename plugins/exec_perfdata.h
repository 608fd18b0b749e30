/* exec_perfdata.h -- the exec plugin's reader of monitoring-plugins output: perfdata as metrics, the long output as text. */
#ifndef EXEC_PERFDATA_H
#define EXEC_PERFDATA_H

#include <locale.h>
#include <stddef.h>

#include "assay/plugin.h"

/* Reads the standard output of a monitoring plugin, buf[0..len):
 *
 *     TEXT | PERFDATA
 *     LONG TEXT
 *     LONG TEXT | PERFDATA
 *     PERFDATA
 *
 * Adds every well-formed perfdata item to task as a metric, in output
 * order, and logs each malformed one (the first few by name) as a warning
 * before skipping it.  Numbers are read in c_locale whatever the process's
 * locale is.  Returns the long output -- the lines after the first, less
 * their perfdata, trimmed -- malloc'd, or NULL when there is none (or no
 * memory for it). */
char *exec_perfdata_parse(const assay_host *host, assay_task *task, locale_t c_locale,
			  const char *buf, size_t len);

#endif /* EXEC_PERFDATA_H */
