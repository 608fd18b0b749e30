/* diag.h -- configuration diagnostics: every error of a file, collected
 * with its position, secrets scrubbed, reported together. */
#ifndef ASSAY_DIAG_H
#define ASSAY_DIAG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "assay/plugin.h"

/* Past this many errors the rest are counted, not kept: a wrong file
 * should not scroll the first error off the screen. */
#define DIAG_MAX 50

typedef struct diag_pos {
	unsigned line, column;
	bool warning;
} diag_pos;

typedef struct diag {
	char **lines;       /* "file:line:col: message", in the order reported */
	diag_pos *pos;      /* each line's position, for printing in order */
	size_t n;           /* lines kept, warnings among them */
	size_t n_warnings;  /* lines that are warnings */
	size_t dropped;     /* errors past DIAG_MAX */
	const char *const *secrets; /* scrubbed from every line; owned elsewhere */
	size_t n_secrets;
	/* --allow-unset: an unset ${env:NAME} is a warning, not an error, so
	 * that a file's structure can be checked without its secrets. */
	bool unset_is_warning;
} diag;

#define DIAG_INIT { 0 }

/* Add an error at file:line:col (line 0: no position; file NULL: none). */
void diag_add(diag *d, const char *file, unsigned line, unsigned column,
	      const char *fmt, ...) ASSAY_PRINTF(5, 6);
void diag_addv(diag *d, const char *file, unsigned line, unsigned column,
	       const char *fmt, va_list ap) ASSAY_PRINTF(5, 0);

/* A warning at file:line:col: printed with the errors, as
 * "file:line:col: warning: message", but not counted by diag_count(). */
void diag_warn(diag *d, const char *file, unsigned line, unsigned column,
	       const char *fmt, ...) ASSAY_PRINTF(5, 6);
void diag_warnv(diag *d, const char *file, unsigned line, unsigned column,
		const char *fmt, va_list ap) ASSAY_PRINTF(5, 0);

/* Total errors, kept or not; warnings do not count. */
size_t diag_count(const diag *d);

/* Print every line in the order of the file (line, then column; lines
 * without a position first), then "... and N more errors" if any were
 * dropped. */
void diag_print(const diag *d, FILE *out);

/* diag_print(), then what it printed in numbers: "path: 2 errors, 1
 * warning".  Nothing at all when there is nothing to say. */
void diag_print_total(const diag *d, const char *path, FILE *out);

/* Free the lines; d can be reused. */
void diag_release(diag *d);

/* Replace every occurrence of each secret in s with "***", in a new
 * malloc'd string (NULL on ENOMEM).  Shared by every output path. */
char *diag_scrub(const char *s, const char *const *secrets, size_t n_secrets);

#endif /* ASSAY_DIAG_H */
