/* bigarray.c -- zeroed arrays, on huge pages when they are large. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "bigarray.h"

#define HUGE_PAGE ((size_t)2 << 20)

/* Below a huge page, malloc's own memory is as good; from one on, a
 * 4 KiB page fault costs more than the memory a huge page may waste. */
#define BIG HUGE_PAGE

static size_t total_len(size_t n, size_t size)
{
	if (n == 0)
		n = 1;
	return size && n > SIZE_MAX / size ? 0 : n * size;
}

void *bigarray_new(size_t n, size_t size)
{
	size_t len = total_len(n, size), map_len;
	char *map, *start;
	uintptr_t at;

	if (len == 0)
		return NULL;
	if (len < BIG)
		return calloc(1, len);
	/* One huge page more than needed, so that the array can start on a
	 * huge-page boundary; the slack on either side is given back. */
	len = (len + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
	map_len = len + HUGE_PAGE;
	map = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		return NULL;
	at = ((uintptr_t)map + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
	start = (char *)at;
	if (start > map)
		munmap(map, (size_t)(start - map));
	if (map + map_len > start + len)
		munmap(start + len, (size_t)(map + map_len - (start + len)));
#ifdef MADV_HUGEPAGE
	/* Advice only: without transparent huge pages it is 4 KiB pages. */
	madvise(start, len, MADV_HUGEPAGE);
#endif
	return start;
}

size_t bigarray_prefault(void *p, size_t n, size_t size, size_t offset, size_t len)
{
	size_t total = total_len(n, size);

	if (!p || total < BIG)
		return 0; /* from calloc: not ours to advise */
	total = (total + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
	if (offset >= total)
		return 0;
	if (len > total - offset)
		len = total - offset;
#ifdef MADV_POPULATE_WRITE
	if (madvise((char *)p + offset, len, MADV_POPULATE_WRITE) == 0)
		return len;
#endif
	return 0;
}

void bigarray_free(void *p, size_t n, size_t size)
{
	size_t len = total_len(n, size);

	if (!p)
		return;
	if (len < BIG) {
		free(p);
		return;
	}
	munmap(p, (len + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1));
}
