/* suggest.c -- "did you mean": the closest known word to a typo. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <string.h>

#include "suggest.h"

/* Longer words are never typos of each other worth measuring. */
#define SUGGEST_MAX_LEN 64

/* Optimal string alignment distance: Levenshtein plus transpositions of
 * neighbours, in three rows of the table. */
static size_t suggest_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, d;
	size_t rows[3][SUGGEST_MAX_LEN + 1], *prev2 = rows[0], *prev = rows[1], *cur = rows[2], *tmp;

	if (la > SUGGEST_MAX_LEN || lb > SUGGEST_MAX_LEN)
		return (size_t)-1;
	for (j = 0; j <= lb; j++)
		prev[j] = j;
	for (i = 1; i <= la; i++) {
		cur[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1];

			d = prev[j] + 1;
			if (cur[j - 1] + 1 < d)
				d = cur[j - 1] + 1;
			if (prev[j - 1] + cost < d)
				d = prev[j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && prev2[j - 2] + 1 < d)
				d = prev2[j - 2] + 1;
			cur[j] = d;
		}
		tmp = prev2;
		prev2 = prev;
		prev = cur;
		cur = tmp;
	}
	return prev[lb];
}

const char *suggest_word(const char *word, const char *const *candidates, size_t n)
{
	const char *best = NULL;
	size_t i, best_d = (size_t)-1, len = strlen(word);

	for (i = 0; i < n; i++) {
		size_t d = suggest_distance(word, candidates[i]);

		if (d < best_d) {
			best_d = d;
			best = candidates[i];
		}
	}
	if (best_d == 0 || best_d > 2 || best_d * 2 >= len)
		return NULL;
	return best;
}
