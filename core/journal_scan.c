/* journal_scan.c -- walking a journal's records: where the sound ones
 * end, and what is dropped after them (a torn record, a corrupt one), for
 * load, compaction, and open before it appends. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <stdio.h>
#include <string.h>

#include "journal_int.h"

static uint32_t journal_scan_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Why the record at data[at ..) is not sound; NULL when it is, *n its
 * body's size.  *torn when it runs past the end of the file. */
static const char *journal_scan_one(const uint8_t *data, size_t size, size_t at, size_t *n,
				    bool *torn)
{
	uint32_t crc;

	*torn = false;
	if (size - at < JOURNAL_FRAME_SIZE) {
		*torn = true;
		return "torn";
	}
	*n = journal_scan_le32(data + at);
	if (*n == 0 || *n > JOURNAL_RECORD_MAX)
		return "impossible length";
	if (*n > size - at - JOURNAL_FRAME_SIZE) {
		*torn = true;
		return "torn";
	}
	crc = journal_crc32c(0, data + at, 4);
	crc = journal_crc32c(crc, data + at + JOURNAL_FRAME_SIZE, *n);
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION /* tests/fuzz/fuzz_journal.c */
	if (crc != journal_scan_le32(data + at + 4))
		return "bad checksum";
#endif
	if (data[at + JOURNAL_FRAME_SIZE] == 0 || data[at + JOURNAL_FRAME_SIZE] > JOURNAL_REC_MAX)
		return "unknown type";
	return NULL;
}

void journal_scan_records(journal_scan *s, const uint8_t *data, size_t size, size_t from,
			  journal_record_fn fn, void *arg)
{
	size_t at = from, n = 0;

	memset(s, 0, sizeof *s);
	while (at < size) {
		const uint8_t *body = data + at + JOURNAL_FRAME_SIZE;

		if ((s->what = journal_scan_one(data, size, at, &n, &s->torn)))
			break;
		if (fn && fn(arg, (enum journal_type)body[0], body + 1, n - 1, at) != 0) {
			s->what = "cannot be decoded";
			break;
		}
		at += JOURNAL_FRAME_SIZE + n;
	}
	s->good_end = at;
	s->dropped = size - at;
}

journal_reader journal_record_at(const uint8_t *data, uint64_t off)
{
	const uint8_t *frame = data + off;
	journal_reader r = { frame + JOURNAL_FRAME_SIZE + 1,
			     frame + JOURNAL_FRAME_SIZE + journal_scan_le32(frame), false };

	return r;
}

void journal_scan_note(const journal_scan *s, const char *path, char *note, size_t size)
{
	if (!s->dropped || !size)
		return;
	if (s->torn)
		/* What a kill -9 mid-write leaves: expected, said plainly. */
		snprintf(note, size, "journal %s: dropped a torn record of %zu bytes at offset %zu",
			 path, s->dropped, s->good_end);
	else
		/* Append-only: what follows a corrupt record cannot be trusted
		 * to belong to the chain, even where it reads well. */
		snprintf(note, size,
			 "journal %s: a corrupt record at offset %zu (%s); dropped it and all after it, %zu bytes",
			 path, s->good_end, s->what, s->dropped);
}

int journal_header_check(const uint8_t *data, size_t size, const char *path,
			 const char *config_hash, size_t *body, char *note, size_t note_size)
{
	journal_header h;
	char why[128];

	if (size == 0) {
		snprintf(note, note_size, "journal %s: empty (no header); not reused", path);
		return -1;
	}
	if (journal_header_decode(&h, data, size, why, sizeof why) < 0) {
		snprintf(note, note_size, "journal %s: %s; not reused", path, why);
		return -1;
	}
	if (h.format != JOURNAL_VERSION) {
		snprintf(note, note_size,
			 "journal %s: written by assay %.*s in format %u; not reused", path,
			 (int)h.version_len, h.version, h.format);
		return -1;
	}
	if (h.config_hash_len != strlen(config_hash) ||
	    memcmp(h.config_hash, config_hash, h.config_hash_len) != 0) {
		snprintf(note, note_size,
			 "journal %s: of another config (%.*s, not %s); not reused", path,
			 (int)h.config_hash_len, h.config_hash, config_hash);
		return -1;
	}
	*body = h.size;
	return 0;
}
