/* arena.h -- memory handed out in small pieces and freed all at once: the
 * values of a configuration and the plan's names.  A config of a million
 * nodes holds several million of them; one malloc() and free() each cost
 * more than reading the file did.
 *
 * Pieces are zeroed (the memory is never handed out twice), aligned for
 * any type, and live until arena_release().  An arena is set up by
 * zeroing it (ARENA_INIT); nothing is thread-safe. */
#ifndef ASSAY_ARENA_H
#define ASSAY_ARENA_H

#include <stddef.h>

struct arena_block;

typedef struct arena {
	struct arena_block *blocks; /* newest first */
	char *at, *end;             /* what is left of the newest */
} arena;

#define ARENA_INIT { 0 }

/* size zeroed bytes; NULL when out of memory. */
void *arena_alloc(arena *a, size_t size);

/* n elements of size bytes; NULL when out of memory or when n * size
 * overflows. */
void *arena_calloc(arena *a, size_t n, size_t size);

/* A NUL-terminated copy of n bytes of s; NULL when out of memory. */
char *arena_strndup(arena *a, const char *s, size_t n);

/* Free every piece at once; the arena is empty and usable again. */
void arena_release(arena *a);

#endif /* ASSAY_ARENA_H */
