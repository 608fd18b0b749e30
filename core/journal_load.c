/* journal_load.c -- reading a journal (journal.h): the view of its chain
 * of runs, the last final result of each key, the orphans; a journal of
 * another format or config, or a torn or corrupt tail, is a note, never
 * an error. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "journal_int.h"

static void *journal_load_alloc(void *arg, size_t n)
{
	journal_index *ix = arg;
	void *p = arena_alloc(&ix->mem, n);

	if (!p)
		ix->oom = true;
	return p;
}

/* Decode each key's last final result, once: the number that would not
 * decode (their keys then have none: they run again), or -1 when out of
 * memory. */
static long journal_load_results(journal_index *ix, const uint8_t *data, uint64_t *first_bad)
{
	size_t i, k = 0;
	long bad = 0;

	if (!ix->finals.n)
		return 0;
	if (!(ix->results = calloc(ix->finals.n, sizeof *ix->results)))
		return -1;
	for (i = 0; i < ix->finals.cap; i++) {
		journal_slot *s = (journal_slot *)ix->finals.slots + i;
		run_result *res = &ix->results[k];
		journal_reader r;

		if (!s->e.off)
			continue;
		r = journal_record_at(data, s->e.off);
		journal_get_key(&r);
		journal_get_uint(&r); /* the item */
		journal_get_result(&r, res, journal_load_alloc, ix);
		if (ix->oom)
			return -1;
		if (r.bad) {
			/* Its checksum held: a writer's bug.  Running it again
			 * is always safe. */
			if (!bad++ || s->e.off < *first_bad)
				*first_bad = s->e.off;
			s->res = JOURNAL_NO_RESULT;
			continue;
		}
		res->resumed = true;
		if (!res->resumed_from)
			res->resumed_from = ix->runs[s->run].run_id;
		s->res = (uint32_t)k++;
	}
	ix->n_results = k;
	return bad;
}

/* The view of a mapped journal: 0; -1 with why. */
static int journal_load_view(journal_view *v, const uint8_t *data, size_t size, const char *path,
			     const char *config_hash, char *note, size_t note_size, char *why,
			     size_t why_size)
{
	journal_index *ix;
	journal_scan scan;
	uint64_t first_bad = 0;
	size_t body;
	long bad;

	if (journal_header_check(data, size, path, config_hash, &body, note, note_size) < 0)
		return 0;
	if (!(ix = malloc(sizeof *ix)) || journal_index_build(ix, data, size, body, &scan) < 0 ||
	    journal_index_orphans(ix) < 0) {
		if (ix)
			journal_index_release(ix);
		free(ix);
		snprintf(why, why_size, "out of memory");
		return -1;
	}
	v->finals = ix;
	if ((bad = journal_load_results(ix, data, &first_bad)) < 0) {
		snprintf(why, why_size, "out of memory");
		return -1;
	}
	journal_scan_note(&scan, path, note, note_size);
	if (bad && note_size && !note[0])
		snprintf(note, note_size,
			 "journal %s: %ld result%s cannot be decoded (the first at offset %llu); %s again",
			 path, bad, bad == 1 ? "" : "s", (unsigned long long)first_bad,
			 bad == 1 ? "it runs" : "they run");
	v->bytes_dropped = scan.dropped;
	v->runs = ix->runs;
	v->n_runs = ix->n_runs;
	v->orphans = ix->orphans;
	v->n_orphans = ix->n_orphans;
	v->n_finals = ix->n_results;
	return 0;
}

int journal_load(journal_view *v, const char *path, const char *config_hash, char *note,
		 size_t note_size, char *why, size_t why_size)
{
	const uint8_t *data;
	size_t size;
	int rc;

	memset(v, 0, sizeof *v);
	if (note_size)
		note[0] = '\0';
	if ((rc = journal_map(path, &data, &size, why, why_size)) != 0)
		return rc > 0 ? 0 : -1; /* none: an empty view */
	rc = journal_load_view(v, data, size, path, config_hash, note, note_size, why, why_size);
	journal_unmap(data, size);
	if (rc < 0)
		journal_view_release(v);
	return rc;
}

const run_result *journal_find(const journal_view *v, journal_key key)
{
	const journal_index *ix = v->finals;
	const journal_slot *s = ix ? journal_index_find(ix, key) : NULL;

	return s && s->res != JOURNAL_NO_RESULT ? &ix->results[s->res] : NULL;
}

void journal_view_release(journal_view *v)
{
	if (v->finals) {
		journal_index_release(v->finals);
		free(v->finals);
	}
	memset(v, 0, sizeof *v);
}
