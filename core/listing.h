/* listing.h -- what `assay plugins` prints: each plugin, the host's own
 * first, with its file and what it registered. */
#ifndef ASSAY_LISTING_H
#define ASSAY_LISTING_H

#include <stdio.h>

#include "registry.h"

/* found: how many plugin files the search path held (none: say so, with
 * the directories searched). */
void listing_print(const registry *r, size_t found, FILE *out);

#endif /* ASSAY_LISTING_H */
