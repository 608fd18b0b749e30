/* journal_compact.c -- rewriting a journal that grew past a bound with
 * only what a resume reads: the run and run-end records, each key's last
 * final record, the orphans' start and child records, in their order (a
 * record belongs to the run whose record comes before it).  Records are
 * copied as they are, checksums and all. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "journal_int.h"

static int journal_off_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The offsets of the records kept, in file order; NULL when out of memory. */
static uint64_t *journal_compact_offsets(const journal_index *ix, size_t *n)
{
	size_t cap = ix->n_run_offs + ix->finals.n + 2 * ix->pending.n, i;
	uint64_t *offs = malloc((cap ? cap : 1) * sizeof *offs);

	if (!offs)
		return NULL;
	memcpy(offs, ix->run_offs, ix->n_run_offs * sizeof *offs);
	*n = ix->n_run_offs;
	for (i = 0; i < ix->finals.cap; i++) {
		const journal_slot *s = (const journal_slot *)ix->finals.slots + i;

		if (s->e.off)
			offs[(*n)++] = s->e.off;
	}
	for (i = 0; i < ix->pending.cap; i++) {
		const journal_pending *p = (const journal_pending *)ix->pending.slots + i;

		if (!p->e.off)
			continue;
		offs[(*n)++] = p->e.off;
		if (p->child_off)
			offs[(*n)++] = p->child_off;
	}
	qsort(offs, *n, sizeof *offs, journal_off_cmp);
	return offs;
}

static size_t journal_record_size(const uint8_t *data, uint64_t off)
{
	const uint8_t *p = data + off;

	return JOURNAL_FRAME_SIZE +
	       ((size_t)p[0] | (size_t)p[1] << 8 | (size_t)p[2] << 16 | (size_t)p[3] << 24);
}

/* The header and the kept records into fd, through a buffer: 0, or -1
 * with errno. */
static int journal_compact_write(int fd, const uint8_t *data, size_t body, const uint64_t *offs,
				 size_t n)
{
	enum { BUF = 1 << 20 };
	uint8_t *buf = malloc(BUF);
	size_t used = 0, i;
	int rc = 0;

	if (!buf)
		return -1;
	memcpy(buf, data, body); /* a header is far below BUF */
	used = body;
	for (i = 0; i < n && rc == 0; i++) {
		size_t size = journal_record_size(data, offs[i]);

		if (used + size > BUF) {
			rc = journal_write_all(fd, buf, used);
			used = 0;
		}
		if (rc == 0 && size > BUF)
			rc = journal_write_all(fd, data + offs[i], size);
		else if (rc == 0) {
			memcpy(buf + used, data + offs[i], size);
			used += size;
		}
	}
	if (rc == 0)
		rc = journal_write_all(fd, buf, used);
	free(buf);
	return rc;
}

/* Rewrite the mapped journal at path with the records at offs: 1, or -1
 * with why. */
static int journal_compact_rewrite(const char *path, const uint8_t *data, size_t body,
				   const uint64_t *offs, size_t n, char *why, size_t why_size)
{
	char tmp[PATH_MAX];
	int fd = journal_temp(path, tmp, sizeof tmp, why, why_size), rc;

	if (fd < 0)
		return -1;
	if (journal_compact_write(fd, data, body, offs, n) < 0) {
		snprintf(why, why_size, "journal %s: cannot write: %s", tmp, strerror(errno));
		unlink(tmp);
		close(fd);
		return -1;
	}
	rc = journal_replace(fd, tmp, path, JOURNAL_SYNC_RUN, why, why_size);
	close(fd);
	return rc < 0 ? -1 : 1;
}

int journal_compact(const char *path, const char *config_hash, uint64_t bound, char *why,
		    size_t why_size)
{
	const uint8_t *data;
	size_t size, body, n = 0, kept, i;
	journal_index ix;
	journal_scan scan;
	uint64_t *offs = NULL;
	char note[512];
	int rc = journal_map(path, &data, &size, why, why_size);

	if (rc != 0)
		return rc > 0 ? 0 : -1;
	/* Not ours (another format or config): nothing in it is read, and
	 * the next run's open replaces it. */
	if (size <= bound ||
	    journal_header_check(data, size, path, config_hash, &body, note, sizeof note) < 0) {
		journal_unmap(data, size);
		return 0;
	}
	if (journal_index_build(&ix, data, size, body, &scan) < 0 ||
	    !(offs = journal_compact_offsets(&ix, &n))) {
		snprintf(why, why_size, "out of memory");
		rc = -1;
	} else {
		for (kept = body, i = 0; i < n; i++)
			kept += journal_record_size(data, offs[i]);
		rc = kept == size
			     ? 0 /* nothing to drop */
			     : journal_compact_rewrite(path, data, body, offs, n, why, why_size);
	}
	free(offs);
	journal_index_release(&ix);
	journal_unmap(data, size);
	return rc;
}
