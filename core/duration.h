/* duration.h -- durations as an operator writes them ("1h30m", "1.5s",
 * "200ms") and back.  A leaf: it includes no other core unit. */
#ifndef ASSAY_DURATION_H
#define ASSAY_DURATION_H

#include <stdint.h>

#include "assay/plugin.h"

/* Parse a duration ("1.5s", "200ms", "2m", "1h30m", "1d") into ms,
 * rounded up.  0, or ASSAY_EINVAL for anything else (negative, empty, an
 * unknown unit, more than 9e15 ms). */
int duration_parse(const char *s, int64_t *out);

/* The shortest text duration_parse() reads back as ms: "1h30m", "45s",
 * "1.5s", "250ms".  Writes at most 32 bytes to buf, and returns it. */
const char *duration_format(int64_t ms, char buf[32]);

#endif /* ASSAY_DURATION_H */
