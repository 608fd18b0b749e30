/* mask.h -- secrets masked in text: each occurrence, and the part of one
 * at a cut, replaced by "***", before anything cuts the text. */
#ifndef ASSAY_MASK_H
#define ASSAY_MASK_H

#include <stddef.h>

#include "assay/plugin.h"

/* s[0..n) with every occurrence of each of the n_secrets strings replaced
 * by "***" (overlapping ones as one), and, by flags (ASSAY_MASK_CUT_START,
 * ASSAY_MASK_CUT_END), the start of s that a secret ends with and its end
 * that a secret begins with; with ASSAY_MASK_ANY_CASE, whatever the case
 * of their ASCII letters.  malloc'd, NUL-terminated, its length in
 * *out_len if not NULL; NULL when out of memory. */
char *mask_text(const char *s, size_t n, const char *const *secrets, size_t n_secrets,
		unsigned flags, size_t *out_len);

#endif /* ASSAY_MASK_H */
