/* option.h -- an option's value checked with the host's own wording:
 * a duration or an integer within bounds, one of a set of strings, a
 * known key.  What the config file's checks use, and plugins through the
 * host table (check_duration, check_int, check_choice, check_key). */
#ifndef ASSAY_OPTION_H
#define ASSAY_OPTION_H

#include <stddef.h>
#include <stdint.h>

#include "value.h"

/* Each checks v, the value of the option `what` (NULL: v's key), and
 * returns 0, or ASSAY_EINVAL after reporting at v what is wrong. */

/* A duration (value_duration_ms) of min_ms to max_ms into *out. */
int option_duration(const assay_value *v, const char *what, int64_t min_ms, int64_t max_ms,
		    int64_t *out);

/* An integer from min to max into *out. */
int option_int(const assay_value *v, const char *what, int64_t min, int64_t max, int64_t *out);

/* One of the n strings of choices: returns its index, or ASSAY_EINVAL
 * ("did you mean" a near miss). */
int option_choice(const assay_value *v, const char *what, const char *const *choices, size_t n);

/* v's key is one of the n of known: 0, or ASSAY_EINVAL after reporting
 * it, at the key, as unknown in `where` ("[runner]", "`expect`"), with
 * "did you mean" a near miss. */
int option_key(const assay_value *v, const char *where, const char *const *known, size_t n);

#endif /* ASSAY_OPTION_H */
