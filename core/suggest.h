/* suggest.h -- "did you mean": the one rule that picks the word an
 * operator probably meant.  A leaf: it includes no other core unit. */
#ifndef ASSAY_SUGGEST_H
#define ASSAY_SUGGEST_H

#include <stddef.h>

/* The candidate closest to word by edit distance (Levenshtein with
 * transpositions, the usual typo: "tiemout"), if it is close enough to be
 * a likely typo -- at most 2 edits, and fewer than half of word's letters
 * -- else NULL.  The first of equally close candidates wins; word itself
 * is never suggested. */
const char *suggest_word(const char *word, const char *const *candidates, size_t n);

#endif /* ASSAY_SUGGEST_H */
