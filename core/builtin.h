/* builtin.h -- the host's own plugin, "assay": the reporters it ships
 * (report_*.c, one file per format), which registry_init() registers
 * through the same calls as a plugin's, so that every format is in the
 * registry's table. */
#ifndef ASSAY_BUILTIN_H
#define ASSAY_BUILTIN_H

#include "assay/plugin.h"

/* The path `assay plugins` shows for it: it is no file. */
#define BUILTIN_PATH "(built in)"

/* The format on standard output when none is asked for. */
#define BUILTIN_DEFAULT_FORMAT "human"

/* An init like a plugin's: declares "assay" and registers its reporters
 * through host.  0 or negative. */
int builtin_init(const assay_host *host, assay_plugin *self);

extern const assay_reporter report_human;
extern const assay_reporter report_json;
extern const assay_reporter report_csv;

#endif /* ASSAY_BUILTIN_H */
