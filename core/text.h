/* text.h -- text from plugins and commands made safe for an output: valid
 * UTF-8 (U+FFFD for what is not), and for a terminal or a plain-text
 * report, control characters shown as escapes and lines cut to a width;
 * and times as the JSON outputs write them. */
#ifndef ASSAY_TEXT_H
#define ASSAY_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* What text_time() writes needs this many bytes. */
#define TEXT_TIME_SIZE 40

/* t, seconds since the epoch, as RFC 3339 in UTC with milliseconds
 * ("2026-12-07T22:50:50.123Z") in buf; false, writing nothing, for t <= 0
 * (never) or a time gmtime_r() cannot hold. */
bool text_time(double t, char buf[TEXT_TIME_SIZE]);

/* What text_decode() answers for bytes that are not UTF-8. */
#define TEXT_INVALID 0x110000u

/* Decode the character at s (len > 0 bytes): its length in bytes, and in
 * *cp its code point, or TEXT_INVALID for an ill-formed sequence -- whose
 * length is then its maximal subpart (Unicode's "best practice": "\xe2\x82"
 * then "A" is one bad character then "A"). */
size_t text_decode(const char *s, size_t len, uint32_t *cp);

/* s as valid UTF-8, each ill-formed sequence replaced with U+FFFD: a new
 * string (NULL when out of memory). */
char *text_utf8(const char *s);

/* Columns one line of s (len bytes) takes once escaped as text_put()
 * escapes it. */
size_t text_width(const char *s, size_t len);

/* Write s (len bytes) to out for a terminal: valid UTF-8; C0 and C1
 * control characters, DEL and the bidirectional controls as escapes (\e,
 * \r, \x01, \u009b, \u202e ...), so that no escape sequence, carriage
 * return or reordering reaches the terminal; a tab as spaces to the next
 * multiple of 8 columns.  At most `width` columns: text that does not fit
 * is cut, and the cut marked with "…" (SIZE_MAX: no limit).  Returns the
 * columns written. */
size_t text_put(FILE *out, const char *s, size_t len, size_t width);

#endif /* ASSAY_TEXT_H */
