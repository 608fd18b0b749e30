/* bigarray.h -- zeroed arrays of per-node state.  A run of a million nodes
 * writes some 250 MB of it once; in 4 KiB pages that is 60,000 page faults,
 * each zeroing its page, which costs more than running the nodes.  Large
 * arrays are therefore mapped on their own and asked for transparent huge
 * pages (one fault per 2 MiB). */
#ifndef ASSAY_BIGARRAY_H
#define ASSAY_BIGARRAY_H

#include <stddef.h>

/* n zeroed elements of size bytes, or NULL (also when n * size overflows). */
void *bigarray_new(size_t n, size_t size);

/* Fault in up to len bytes of p's pages from byte `offset` on, ahead of
 * their first writes, without writing (MADV_POPULATE_WRITE, Linux 5.14):
 * another thread may write the array meanwhile.  Returns the bytes done;
 * 0 when there is nothing to do or it cannot be done (a small array, an
 * older kernel). */
size_t bigarray_prefault(void *p, size_t n, size_t size, size_t offset, size_t len);

/* Free what bigarray_new(n, size) returned (NULL is fine). */
void bigarray_free(void *p, size_t n, size_t size);

#endif /* ASSAY_BIGARRAY_H */
