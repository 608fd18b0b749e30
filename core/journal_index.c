/* journal_index.c -- one walk of a journal's records into what load and
 * compaction need: its runs, the last final record of each key (a hash
 * table keyed by the 128-bit key: 100,000 items are 100,000 slots of 32
 * bytes), and the starts that have no end (orphans).  Results are not
 * decoded here: most keys' earlier finals are overwritten by later ones,
 * so only the last are, once (journal_load.c). */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <stdlib.h>
#include <string.h>

#include "journal_int.h"

#define JOURNAL_TABLE_FIRST 1024

/* --- open addressing, linear probing ------------------------------------- */

static size_t journal_table_bucket(journal_key k, size_t cap)
{
	/* Keys are hashes already, but tests and fuzzers make small ones:
	 * mixed, so that neighbours do not cluster. */
	uint64_t h = (k.lo ^ (k.hi * 0x9e3779b97f4a7c15ULL)) * 0xbf58476d1ce4e5b9ULL;

	return (size_t)(h ^ (h >> 31)) & (cap - 1);
}

static journal_entry *journal_table_at(const journal_table *t, size_t i, size_t size)
{
	return (journal_entry *)((char *)t->slots + i * size);
}

static bool journal_key_eq(journal_key a, journal_key b)
{
	return a.hi == b.hi && a.lo == b.lo;
}

static void *journal_table_find(const journal_table *t, size_t size, journal_key key)
{
	size_t i;

	if (!t->cap)
		return NULL;
	for (i = journal_table_bucket(key, t->cap);; i = (i + 1) & (t->cap - 1)) {
		journal_entry *e = journal_table_at(t, i, size);

		if (!e->off)
			return NULL;
		if (journal_key_eq(e->key, key))
			return e;
	}
}

static int journal_table_grow(journal_table *t, size_t size)
{
	journal_table bigger = { NULL, t->cap ? t->cap * 2 : JOURNAL_TABLE_FIRST, t->n };
	size_t i, j;

	if (!(bigger.slots = calloc(bigger.cap, size)))
		return -1;
	for (i = 0; i < t->cap; i++) {
		journal_entry *e = journal_table_at(t, i, size);

		if (!e->off)
			continue;
		for (j = journal_table_bucket(e->key, bigger.cap);
		     journal_table_at(&bigger, j, size)->off; j = (j + 1) & (bigger.cap - 1))
			;
		memcpy(journal_table_at(&bigger, j, size), e, size);
	}
	free(t->slots);
	*t = bigger;
	return 0;
}

/* The slot of key: the one it has, or a new one (zeroed but for the key:
 * the caller sets off); NULL when out of memory. */
static void *journal_table_insert(journal_table *t, size_t size, journal_key key)
{
	journal_entry *e;
	size_t i;

	if ((t->n + 1) * 4 > t->cap * 3 && journal_table_grow(t, size) < 0)
		return NULL;
	for (i = journal_table_bucket(key, t->cap);; i = (i + 1) & (t->cap - 1)) {
		e = journal_table_at(t, i, size);
		if (!e->off) {
			memset(e, 0, size);
			e->key = key;
			t->n++;
			return e;
		}
		if (journal_key_eq(e->key, key))
			return e;
	}
}

/* Empty e's slot, moving back the slots after it that probed past it, so
 * that finds still reach them (no tombstones to pile up: 100,000 items
 * start and end through this table). */
static void journal_table_remove(journal_table *t, size_t size, journal_entry *e)
{
	size_t mask = t->cap - 1, hole = (size_t)((char *)e - (char *)t->slots) / size, i = hole;

	for (;;) {
		journal_entry *next;
		size_t home;

		i = (i + 1) & mask;
		next = journal_table_at(t, i, size);
		if (!next->off)
			break;
		home = journal_table_bucket(next->key, t->cap);
		/* next may move to the hole unless its home lies cyclically in
		 * (hole, i]. */
		if (((i - home) & mask) >= ((i - hole) & mask)) {
			memcpy(journal_table_at(t, hole, size), next, size);
			hole = i;
		}
	}
	journal_table_at(t, hole, size)->off = 0;
	t->n--;
}

/* --- records -------------------------------------------------------------- */

static void *journal_index_alloc(void *arg, size_t n)
{
	journal_index *ix = arg;
	void *p = arena_alloc(&ix->mem, n);

	if (!p)
		ix->oom = true;
	return p;
}

/* array (of *cap elements of size bytes, n used) with room for one more:
 * itself or a larger copy; NULL when out of memory (array left as it is). */
static void *journal_index_room(journal_index *ix, void *array, size_t *cap, size_t n,
				size_t size)
{
	size_t want = *cap ? *cap * 2 : 16;
	void *bigger;

	if (n < *cap)
		return array;
	if (!(bigger = realloc(array, want * size))) {
		ix->oom = true;
		return NULL;
	}
	*cap = want;
	return bigger;
}

static int journal_index_run(journal_index *ix, journal_reader *r)
{
	journal_run *runs, *jr;
	size_t argc, i;

	if (!(runs = journal_index_room(ix, ix->runs, &ix->runs_cap, ix->n_runs, sizeof *runs)))
		return -1;
	ix->runs = runs;
	jr = memset(&ix->runs[ix->n_runs], 0, sizeof *jr);
	jr->run_id = journal_get_str(r, journal_index_alloc, ix);
	jr->config_hash = journal_get_str(r, journal_index_alloc, ix);
	jr->version = journal_get_str(r, journal_index_alloc, ix);
	jr->boot_id = journal_get_str(r, journal_index_alloc, ix);
	jr->continues = journal_get_str(r, journal_index_alloc, ix);
	jr->start = journal_get_double(r);
	argc = (size_t)journal_get_uint(r);
	if (r->bad || !jr->run_id || argc > (size_t)(r->end - r->at) ||
	    !(jr->argv = journal_index_alloc(ix, (argc + 1) * sizeof *jr->argv)))
		return -1;
	for (i = 0; i < argc; i++)
		jr->argv[i] = journal_get_str(r, journal_index_alloc, ix);
	if (r->bad)
		return -1;
	ix->n_runs++;
	return 0;
}

/* A run or run-end record's offset, for compaction. */
static int journal_index_keep(journal_index *ix, uint64_t off)
{
	uint64_t *offs = journal_index_room(ix, ix->run_offs, &ix->run_offs_cap, ix->n_run_offs,
					    sizeof *offs);

	if (!offs)
		return -1;
	ix->run_offs = offs;
	ix->run_offs[ix->n_run_offs++] = off;
	return 0;
}

/* A start, child, end or final record of the current run. */
static int journal_index_exec(journal_index *ix, enum journal_type t, journal_reader *r,
			      uint64_t off)
{
	journal_key key = journal_get_key(r);
	uint32_t item = (uint32_t)journal_get_uint(r);
	unsigned attempt = t == JOURNAL_REC_FINAL ? 0 : (unsigned)journal_get_uint(r);
	journal_pending *p = journal_table_find(&ix->pending, sizeof *p, key);
	journal_slot *s;

	if (r->bad)
		return -1;
	switch (t) {
	case JOURNAL_REC_START:
		/* A later start of a key supersedes its earlier one, even
		 * one of an earlier run: that run's resume dealt with it. */
		if (!(p = journal_table_insert(&ix->pending, sizeof *p, key))) {
			ix->oom = true;
			return -1;
		}
		*p = (journal_pending){ .e = { key, off }, .item = item, .attempt = attempt,
					.run = (uint32_t)(ix->n_runs - 1) };
		break;
	case JOURNAL_REC_CHILD:
		if (p && p->attempt == attempt) {
			p->pgid = (pid_t)journal_get_int(r);
			p->start_min = journal_get_uint(r);
			p->start_max = journal_get_uint(r);
			p->child_off = off;
		}
		break;
	case JOURNAL_REC_END:
		if (p && p->attempt == attempt)
			journal_table_remove(&ix->pending, sizeof *p, &p->e);
		break;
	default: /* JOURNAL_REC_FINAL */
		if (p)
			journal_table_remove(&ix->pending, sizeof *p, &p->e);
		if (!(s = journal_table_insert(&ix->finals, sizeof *s, key))) {
			ix->oom = true;
			return -1;
		}
		s->e.off = off;
		s->run = (uint32_t)(ix->n_runs - 1);
	}
	return r->bad ? -1 : 0;
}

/* journal_record_fn: one sound record into the index. */
static int journal_index_record(void *arg, enum journal_type t, const uint8_t *body, size_t n,
				size_t off)
{
	journal_index *ix = arg;
	journal_reader r = { body, body + n, false };

	switch (t) {
	case JOURNAL_REC_RUN:
		return journal_index_run(ix, &r) < 0 || journal_index_keep(ix, off) < 0 ? -1 : 0;
	case JOURNAL_REC_RUN_END:
		if (!ix->n_runs)
			return -1; /* every record follows its run's */
		ix->runs[ix->n_runs - 1].end = journal_get_double(&r);
		ix->runs[ix->n_runs - 1].stopped = journal_get_u8(&r) != 0;
		return r.bad || journal_index_keep(ix, off) < 0 ? -1 : 0;
	default:
		return ix->n_runs ? journal_index_exec(ix, t, &r, off) : -1;
	}
}

int journal_index_build(journal_index *ix, const uint8_t *data, size_t size, size_t body,
			journal_scan *scan)
{
	memset(ix, 0, sizeof *ix);
	journal_scan_records(scan, data, size, body, journal_index_record, ix);
	/* A record that would not decode for want of memory is no
	 * corruption: the caller says out of memory instead. */
	return ix->oom ? -1 : 0;
}

journal_slot *journal_index_find(const journal_index *ix, journal_key key)
{
	return journal_table_find(&ix->finals, sizeof(journal_slot), key);
}

static int journal_pending_cmp(const void *a, const void *b)
{
	const journal_pending *x = a, *y = b;

	return x->e.off < y->e.off ? -1 : x->e.off > y->e.off;
}

int journal_index_orphans(journal_index *ix)
{
	journal_pending *p;
	size_t i, n = 0;

	if (!ix->pending.n)
		return 0;
	if (!(p = malloc(ix->pending.n * sizeof *p)) ||
	    !(ix->orphans = calloc(ix->pending.n, sizeof *ix->orphans))) {
		free(p);
		return -1;
	}
	for (i = 0; i < ix->pending.cap; i++)
		if (journal_table_at(&ix->pending, i, sizeof *p)->off)
			p[n++] = *(journal_pending *)journal_table_at(&ix->pending, i, sizeof *p);
	qsort(p, n, sizeof *p, journal_pending_cmp);
	for (i = 0; i < n; i++)
		ix->orphans[i] = (journal_orphan){ p[i].e.key, p[i].item, p[i].attempt, p[i].pgid,
						   p[i].start_min, p[i].start_max, ix->runs[p[i].run].boot_id,
						   ix->runs[p[i].run].run_id };
	ix->n_orphans = n;
	free(p);
	return 0;
}

void journal_index_release(journal_index *ix)
{
	arena_release(&ix->mem);
	free(ix->runs);
	free(ix->run_offs);
	free(ix->finals.slots);
	free(ix->pending.slots);
	free(ix->results);
	free(ix->orphans);
	memset(ix, 0, sizeof *ix);
}
