/* diag.h -- configuration diagnostics: every error of a file, collected
 * with its position, secrets scrubbed, reported together. */
#ifndef ASSAY_DIAG_H
#define ASSAY_DIAG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include "assay/plugin.h"

/* Past this many errors the rest are counted, not kept: a wrong file
 * should not scroll the first error off the screen. */
#define DIAG_MAX 50

typedef struct diag {
	char **lines;       /* "file:line:col: message", in the order reported */
	unsigned (*pos)[2]; /* each line's line and column, for printing in order */
	size_t n;           /* lines kept */
	size_t dropped;     /* errors past DIAG_MAX */
	const char *const *secrets; /* scrubbed from every line; owned elsewhere */
	size_t n_secrets;
} diag;

#define DIAG_INIT { 0 }

/* Add an error at file:line:col (line 0: no position; file NULL: none). */
void diag_add(diag *d, const char *file, unsigned line, unsigned column,
	      const char *fmt, ...) ASSAY_PRINTF(5, 6);
void diag_addv(diag *d, const char *file, unsigned line, unsigned column,
	       const char *fmt, va_list ap) ASSAY_PRINTF(5, 0);

/* Total errors, kept or not. */
size_t diag_count(const diag *d);

/* Print every line in the order of the file (line, then column; errors
 * without a position first), then "... and N more errors" if any were
 * dropped. */
void diag_print(const diag *d, FILE *out);

/* Free the lines; d can be reused. */
void diag_release(diag *d);

/* Replace every occurrence of each secret in s with "***", in a new
 * malloc'd string (NULL on ENOMEM).  Shared by every output path. */
char *diag_scrub(const char *s, const char *const *secrets, size_t n_secrets);


/* The candidate closest to word by edit distance, if it is close enough to
 * be a likely typo (at most 2 edits, and fewer than half of word's
 * letters); else NULL.  For "did you mean `timeout`?". */
const char *diag_suggest(const char *word, const char *const *candidates,
			 size_t n);

#endif /* ASSAY_DIAG_H */
