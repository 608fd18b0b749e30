/* arena.c -- memory handed out in small pieces and freed all at once. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "bigarray.h"

/* Blocks grow fourfold from the first size, so that a small config costs
 * one small block; past the middle size they are large enough to sit on
 * huge pages (bigarray.h): a config of a million nodes fills some 200 MB,
 * and faulting that in 4 KiB pages costs more than filling it. */
#define ARENA_FIRST ((size_t)4 << 10)
#define ARENA_MIDDLE ((size_t)256 << 10)
#define ARENA_LARGE ((size_t)8 << 20)

struct arena_block {
	struct arena_block *next;
	size_t size;
	alignas(max_align_t) char data[];
};

/* A new block for at least size bytes, made the newest. */
static int arena_grow(arena *a, size_t size)
{
	size_t want = a->blocks ? a->blocks->size * 4 : ARENA_FIRST;
	struct arena_block *b;

	if (want > ARENA_MIDDLE)
		want = ARENA_LARGE;
	if (want < size)
		want = size;
	if (want > SIZE_MAX - sizeof *b || !(b = bigarray_new(1, sizeof *b + want)))
		return -1;
	b->next = a->blocks;
	b->size = want;
	a->blocks = b;
	a->at = b->data;
	a->end = b->data + want;
	return 0;
}

void *arena_alloc(arena *a, size_t size)
{
	const size_t align = alignof(max_align_t);
	char *p;

	size = size ? (size + align - 1) & ~(align - 1) : align;
	if (size < align) /* wrapped round */
		return NULL;
	if ((size_t)(a->end - a->at) < size && arena_grow(a, size) < 0)
		return NULL;
	p = a->at;
	a->at += size;
	return p;
}

void *arena_calloc(arena *a, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	return arena_alloc(a, n * size);
}

char *arena_strndup(arena *a, const char *s, size_t n)
{
	char *p = n < SIZE_MAX ? arena_alloc(a, n + 1) : NULL;

	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

void arena_release(arena *a)
{
	struct arena_block *b, *next;

	for (b = a->blocks; b; b = next) {
		next = b->next;
		bigarray_free(b, 1, sizeof *b + b->size);
	}
	memset(a, 0, sizeof *a);
}
