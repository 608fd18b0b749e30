/* journal_record.c -- a journal record's encoding and decoding, and the
 * file's header (the layout is journal_int.h's).  Encoding allocates
 * nothing: the caller's buffer, measured and filled by one code path. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <stdio.h>
#include <string.h>

#include "journal_int.h"

/* A result's flags (its bools, and which optional parts follow). */
enum {
	JOURNAL_RES_RAN = 1u << 0,
	JOURNAL_RES_KEPT = 1u << 1,
	JOURNAL_RES_PRUNED = 1u << 2,
	JOURNAL_RES_RESUMED = 1u << 3
};

static void journal_put(journal_writer *w, const void *p, size_t n)
{
	if (w->len <= w->cap && n <= w->cap - w->len && n)
		memcpy(w->buf + w->len, p, n);
	w->len += n;
}

static void journal_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = v & 0xff, p[1] = (v >> 8) & 0xff, p[2] = (v >> 16) & 0xff, p[3] = v >> 24;
}

static uint32_t journal_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void journal_put_u8(journal_writer *w, unsigned v)
{
	uint8_t b = (uint8_t)v;

	journal_put(w, &b, 1);
}

void journal_put_uint(journal_writer *w, uint64_t v)
{
	uint8_t buf[10];
	size_t n = 0;

	while (v >= 0x80) {
		buf[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	buf[n++] = (uint8_t)v;
	journal_put(w, buf, n);
}

void journal_put_int(journal_writer *w, int64_t v)
{
	journal_put_uint(w, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

void journal_put_double(journal_writer *w, double v)
{
	uint64_t bits;
	uint8_t buf[8];
	int i;

	memcpy(&bits, &v, sizeof bits);
	for (i = 0; i < 8; i++)
		buf[i] = (uint8_t)(bits >> (8 * i));
	journal_put(w, buf, 8);
}

void journal_put_str(journal_writer *w, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	journal_put_uint(w, s ? (uint64_t)n + 1 : 0);
	journal_put(w, s, n);
}

void journal_put_key(journal_writer *w, journal_key key)
{
	uint8_t buf[16];
	int i;

	for (i = 0; i < 8; i++) {
		buf[i] = (uint8_t)(key.hi >> (8 * (7 - i)));
		buf[8 + i] = (uint8_t)(key.lo >> (8 * (7 - i)));
	}
	journal_put(w, buf, 16);
}

static void journal_put_metric(journal_writer *w, const assay_metric *m)
{
	journal_put_str(w, m->name);
	journal_put_double(w, m->value);
	journal_put_str(w, m->unit);
	journal_put_str(w, m->warn);
	journal_put_str(w, m->crit);
	journal_put_uint(w, m->flags);
	/* min and max only where they mean something: most metrics have none. */
	if (m->flags & ASSAY_METRIC_MIN)
		journal_put_double(w, m->min);
	if (m->flags & ASSAY_METRIC_MAX)
		journal_put_double(w, m->max);
}

void journal_put_result(journal_writer *w, const run_result *res)
{
	size_t i, n_devices = 0;

	journal_put_uint(w, (res->ran ? JOURNAL_RES_RAN : 0) | (res->kept ? JOURNAL_RES_KEPT : 0) |
				    (res->pruned ? JOURNAL_RES_PRUNED : 0) |
				    (res->resumed ? JOURNAL_RES_RESUMED : 0));
	journal_put_u8(w, res->status);
	journal_put_u8(w, res->cause);
	journal_put_uint(w, res->attempts);
	journal_put_str(w, res->message);
	journal_put_str(w, res->details);
	journal_put_str(w, res->skip_reason);
	journal_put_str(w, res->trial_dir);
	/* A result reused and journaled again keeps the run that made it. */
	journal_put_str(w, res->resumed ? res->resumed_from : NULL);
	journal_put_double(w, res->start);
	journal_put_double(w, res->end);
	journal_put_double(w, res->duration);
	if (res->pruned)
		journal_put_int(w, res->pruned_step);
	while (res->devices && res->devices[n_devices])
		n_devices++;
	journal_put_uint(w, res->devices ? n_devices + 1 : 0);
	for (i = 0; i < n_devices; i++)
		journal_put_str(w, res->devices[i]);
	journal_put_uint(w, res->metrics ? res->n_metrics : 0);
	for (i = 0; res->metrics && i < res->n_metrics; i++)
		journal_put_metric(w, &res->metrics[i]);
}

void journal_record_begin(journal_writer *w, enum journal_type t)
{
	w->len = JOURNAL_FRAME_SIZE;
	journal_put_u8(w, t);
}

size_t journal_record_finish(journal_writer *w)
{
	size_t size = w->len;
	uint32_t crc;

	if (size > w->cap || size - JOURNAL_FRAME_SIZE > JOURNAL_RECORD_MAX)
		return 0;
	journal_put_le32(w->buf, (uint32_t)(size - JOURNAL_FRAME_SIZE));
	crc = journal_crc32c(0, w->buf, 4);
	crc = journal_crc32c(crc, w->buf + JOURNAL_FRAME_SIZE, size - JOURNAL_FRAME_SIZE);
	journal_put_le32(w->buf + 4, crc);
	return size;
}

size_t journal_header_encode(journal_writer *w, const char *config_hash, const char *version)
{
	uint8_t word[4];
	size_t size;

	w->len = 0;
	journal_put(w, JOURNAL_MAGIC, JOURNAL_MAGIC_SIZE);
	journal_put_le32(word, JOURNAL_VERSION);
	journal_put(w, word, 4);
	journal_put(w, word, 4); /* n, filled in below */
	journal_put_str(w, config_hash);
	journal_put_str(w, version);
	size = w->len;
	journal_put(w, word, 4); /* the checksum */
	if (w->len > w->cap)
		return 0;
	journal_put_le32(w->buf + JOURNAL_MAGIC_SIZE + 4, (uint32_t)(size - 16));
	journal_put_le32(w->buf + size, journal_crc32c(0, w->buf, size));
	return w->len;
}

/* --- decoding ------------------------------------------------------------- */

static const uint8_t *journal_get(journal_reader *r, size_t n)
{
	const uint8_t *p = r->at;

	if (r->bad || n > (size_t)(r->end - r->at)) {
		r->bad = true;
		return NULL;
	}
	r->at += n;
	return p;
}

unsigned journal_get_u8(journal_reader *r)
{
	const uint8_t *p = journal_get(r, 1);

	return p ? *p : 0;
}

uint64_t journal_get_uint(journal_reader *r)
{
	uint64_t v = 0;
	unsigned shift;

	for (shift = 0; shift < 64; shift += 7) {
		const uint8_t *p = journal_get(r, 1);

		if (!p)
			return 0;
		v |= (uint64_t)(*p & 0x7f) << shift;
		if (!(*p & 0x80))
			return v;
	}
	r->bad = true; /* more than ten bytes: no varint of ours */
	return 0;
}

int64_t journal_get_int(journal_reader *r)
{
	uint64_t v = journal_get_uint(r);

	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

double journal_get_double(journal_reader *r)
{
	const uint8_t *p = journal_get(r, 8);
	uint64_t bits = 0;
	double v;
	int i;

	for (i = 0; p && i < 8; i++)
		bits |= (uint64_t)p[i] << (8 * i);
	memcpy(&v, &bits, sizeof v);
	return v;
}

const char *journal_get_bytes(journal_reader *r, size_t *len)
{
	uint64_t n = journal_get_uint(r);

	*len = 0;
	if (n == 0 || r->bad)
		return NULL;
	if (n - 1 > (uint64_t)(r->end - r->at)) {
		r->bad = true;
		return NULL;
	}
	*len = (size_t)(n - 1);
	return (const char *)journal_get(r, *len);
}

/* n zeroed bytes from alloc; a failure makes the record bad. */
static void *journal_get_alloc(journal_reader *r, journal_alloc_fn alloc, void *arg, size_t n)
{
	void *p = r->bad ? NULL : alloc(arg, n);

	if (!p)
		r->bad = true;
	return p;
}

char *journal_get_str(journal_reader *r, journal_alloc_fn alloc, void *arg)
{
	size_t n;
	const char *s = journal_get_bytes(r, &n);
	char *copy;

	if (!s || !(copy = journal_get_alloc(r, alloc, arg, n + 1)))
		return NULL;
	memcpy(copy, s, n);
	return copy;
}

journal_key journal_get_key(journal_reader *r)
{
	const uint8_t *p = journal_get(r, 16);
	journal_key key = { 0, 0 };
	int i;

	for (i = 0; p && i < 8; i++) {
		key.hi = key.hi << 8 | p[i];
		key.lo = key.lo << 8 | p[8 + i];
	}
	return key;
}

/* n elements of size bytes, n read from the record: bounded by what is
 * left of it (each takes a byte at least), so a bad count allocates
 * nothing. */
static void *journal_get_array(journal_reader *r, size_t n, size_t size, journal_alloc_fn alloc,
			       void *arg)
{
	if (n > (size_t)(r->end - r->at) + 1)
		r->bad = true;
	return journal_get_alloc(r, alloc, arg, n * size);
}

static void journal_get_metrics(journal_reader *r, run_result *res, journal_alloc_fn alloc,
				void *arg)
{
	size_t i, n = (size_t)journal_get_uint(r);

	if (n == 0 || r->bad || !(res->metrics = journal_get_array(r, n, sizeof *res->metrics,
								     alloc, arg)))
		return;
	res->n_metrics = n;
	for (i = 0; i < n && !r->bad; i++) {
		assay_metric *m = &res->metrics[i];

		m->name = journal_get_str(r, alloc, arg);
		m->value = journal_get_double(r);
		m->unit = journal_get_str(r, alloc, arg);
		m->warn = journal_get_str(r, alloc, arg);
		m->crit = journal_get_str(r, alloc, arg);
		m->flags = (unsigned)journal_get_uint(r);
		if (m->flags & ASSAY_METRIC_MIN)
			m->min = journal_get_double(r);
		if (m->flags & ASSAY_METRIC_MAX)
			m->max = journal_get_double(r);
		if (!m->name)
			r->bad = true; /* a metric always has one */
	}
}

void journal_get_result(journal_reader *r, run_result *res, journal_alloc_fn alloc, void *arg)
{
	uint64_t flags = journal_get_uint(r), n;
	size_t i;

	memset(res, 0, sizeof *res);
	res->ran = flags & JOURNAL_RES_RAN;
	res->kept = flags & JOURNAL_RES_KEPT;
	res->pruned = flags & JOURNAL_RES_PRUNED;
	res->resumed = flags & JOURNAL_RES_RESUMED;
	res->status = (assay_status)journal_get_u8(r);
	res->cause = (assay_status)journal_get_u8(r);
	if (res->status > ASSAY_SKIPPED || res->cause > ASSAY_SKIPPED)
		r->bad = true;
	res->attempts = (unsigned)journal_get_uint(r);
	res->message = journal_get_str(r, alloc, arg);
	res->details = journal_get_str(r, alloc, arg);
	res->skip_reason = journal_get_str(r, alloc, arg);
	res->trial_dir = journal_get_str(r, alloc, arg);
	res->resumed_from = journal_get_str(r, alloc, arg);
	res->start = journal_get_double(r);
	res->end = journal_get_double(r);
	res->duration = journal_get_double(r);
	if (res->pruned)
		res->pruned_step = journal_get_int(r);
	if ((n = journal_get_uint(r)) && !r->bad &&
	    (res->devices = journal_get_array(r, (size_t)n, sizeof *res->devices, alloc, arg)))
		for (i = 0; i + 1 < n && !r->bad; i++)
			if (!(res->devices[i] = journal_get_str(r, alloc, arg)))
				r->bad = true;
	journal_get_metrics(r, res, alloc, arg);
}

int journal_header_decode(journal_header *h, const uint8_t *data, size_t size, char *why,
			  size_t why_size)
{
	journal_reader r;
	size_t n;

	memset(h, 0, sizeof *h);
	if (size < 16 || memcmp(data, JOURNAL_MAGIC, JOURNAL_MAGIC_SIZE) != 0) {
		snprintf(why, why_size, "not an assay journal");
		return -1;
	}
	h->format = journal_le32(data + 8);
	n = journal_le32(data + 12);
	if (n > size - 16 || size - 16 - n < 4) {
		snprintf(why, why_size, "its header is torn");
		return -1;
	}
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION /* tests/fuzz/fuzz_journal.c */
	if (journal_le32(data + 16 + n) != journal_crc32c(0, data, 16 + n)) {
		snprintf(why, why_size, "its header has a bad checksum");
		return -1;
	}
#endif
	r = (journal_reader){ data + 16, data + 16 + n, false };
	h->config_hash = journal_get_bytes(&r, &h->config_hash_len);
	h->version = journal_get_bytes(&r, &h->version_len);
	if (r.bad || !h->config_hash || !h->version) {
		snprintf(why, why_size, "its header cannot be decoded");
		return -1;
	}
	h->size = 16 + n + 4;
	return 0;
}
