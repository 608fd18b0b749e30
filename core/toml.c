/* toml.c -- TOML 1.0 parser: one pass from text to an arena-backed value tree. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strtod_l(), newlocale() */
#endif

#include "toml.h"

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * Memory.  A parsed document must stay within a small multiple of its text,
 * so nothing is allocated per value.  Finished tables, arrays, strings and
 * keys are copied at their exact size into an arena of a few big blocks.
 * Vectors that are still growing -- the tables of recent sections, arrays
 * of tables, a table that gains a child per [header] -- live in malloc()ed
 * buffers meanwhile; the ones that never settle are shrunk in place at the
 * end and listed in the document for toml_doc_free().
 *
 * Keys are interned: every table entry names its key by a 32-bit id, so the
 * thousand copies of `name` in an array of tables cost one string, and key
 * comparison is an integer compare.
 */

#define LINE_BITS 28 /* the top 4 bits of toml_value.tl hold the type */
#define LINE_MASK ((1u << LINE_BITS) - 1)
#define LINEAR_MAX 16 /* tables up to this many keys are scanned, not hashed */
#define OPEN_MAX 16 /* section tables kept growable before being sealed */
#define BIG_VECTOR 65536 /* bytes: past this a vector keeps its buffer */
#define BLOCK_MIN 4096
#define BLOCK_MAX (1u << 20)
#define RELEASE_STEP (1u << 20) /* text handed back to the kernel at a time */

/* Type codes past toml_type share its 4 bits; toml_value_type() maps them. */
enum {
	T_SHORT_STRING = TOML_LOCAL_TIME + 1, /* <= 7 bytes, kept in the value */
	T_OFFSET_DATETIME_X, /* date-times with a fraction that is not whole */
	T_LOCAL_DATETIME_X,  /* milliseconds point to a toml_datetime */
	T_LOCAL_TIME_X,
};

struct toml_value {
	uint32_t tl; /* type << LINE_BITS | line (saturated) */
	uint32_t col;
	union {
		int64_t i;
		double f;
		bool b;
		uint64_t dt; /* packed by dt_pack() */
		const toml_datetime *dtx;
		const char *s; /* a uint32_t length sits just before the bytes */
		char sso[8]; /* sso[7] = 7 - length, the terminator at length 7 */
		struct tab *t;
		struct arr *a;
	} u;
};

/* A key's line is its value's: TOML keeps a key and its value on one line,
 * and a table defined by a header takes the header's position for both. */
struct entry {
	uint32_t key;
	uint32_t kcol;
	toml_value v;
};

enum tab_kind {
	K_IMPLICIT, /* made by a header for its path: [a.b] makes a */
	K_HEADER, /* defined by [header] or as an element of [[header]] */
	K_DOTTED, /* made by a dotted key in a section */
	K_INLINE, /* { ... } */
	K_INLINE_DOTTED, /* made by a dotted key inside { ... } */
};

enum tab_store {
	S_NONE, /* no entries yet */
	S_OPEN, /* malloc()ed, listed in parser.open */
	S_SEALED, /* exact size in the arena */
	S_OWNED, /* malloc()ed, listed in toml_doc.tabs */
};

struct tab {
	struct entry *e;
	uint32_t *idx; /* open addressing, entry index + 1; NULL if small */
	const struct toml_doc *doc; /* for its key table */
	uint32_t len;
	uint8_t kind, store, idx_bits;
};

/* The items follow this header in the arena; an array that grew in a
 * malloc()ed buffer (owned) keeps a pointer to it there instead. */
struct arr {
	uint32_t len;
	bool aot; /* array of tables: appendable by [[header]] */
	bool owned; /* listed in toml_doc.arrs */
};

struct block {
	struct block *next;
	size_t used, size;
	unsigned char data[]; /* 8-aligned: the header is three words */
};

struct arena {
	struct block *head; /* the block being filled comes first */
	size_t grow;
};

/* Interned keys: str[id] points at the bytes; the hash and the length sit
 * just before them, as two uint32_t. */
struct keytab {
	const char **str;
	uint32_t n, cap;
	uint32_t *slot; /* id + 1 */
	unsigned bits;
};

struct toml_doc {
	toml_value root;
	struct arena mem;
	struct keytab keys;
	struct tab **tabs; /* tables owning malloc()ed entries or index */
	size_t ntabs, captabs;
	struct arr **arrs; /* arrays owning malloc()ed items */
	size_t narrs, caparrs;
};

struct seg {
	uint32_t id;
	toml_pos pos;
	const char *start, *end; /* as written, for messages */
};

struct parser {
	const char *p, *end;
	const char *line_start;
	uint32_t line;
	const char *colp; /* column cache: colp is at column col */
	uint32_t col;
	toml_error *err;
	toml_doc *doc;
	struct tab *cur; /* the table of the current section */
	int cur_depth;
	struct seg *seg; /* the key being read */
	size_t nseg, capseg;
	const char *key_start, *key_end;
	struct tab **open; /* S_OPEN tables, oldest first */
	size_t nopen, capopen;
	toml_value *vals; /* items of the arrays being read */
	size_t nvals, capvals;
	char *sbuf; /* quoted keys being decoded */
	size_t capsbuf;
	locale_t c_locale;
	char *release; /* text before this page may be dropped; NULL: the
			* caller's buffer */
};

/* --- small helpers --- */

static void *grow(void *v, size_t *cap, size_t need, size_t size)
{
	size_t c = *cap ? *cap : 8;
	void *p;

	if (need <= *cap)
		return v;
	while (c < need) {
		if (c > SIZE_MAX / 2)
			return NULL;
		c *= 2;
	}
	if (c > SIZE_MAX / size)
		return NULL;
	p = realloc(v, c * size);
	if (p)
		*cap = c;
	return p;
}

/* Vectors double at powers of two, so their capacity follows from their
 * length and need not be stored. */
static size_t cap_for(size_t len)
{
	size_t c = 4;

	while (c < len)
		c *= 2;
	return c;
}

static bool is_full(size_t len)
{
	return len >= 4 && (len & (len - 1)) == 0;
}

static uint32_t hash_bytes(const char *s, size_t n)
{
	uint32_t h = 2166136261u;

	while (n--)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static uint32_t key_len(const char *k)
{
	uint32_t n;

	memcpy(&n, k - 4, sizeof n);
	return n;
}

static uint32_t key_hash(const char *k)
{
	uint32_t h;

	memcpy(&h, k - 8, sizeof h);
	return h;
}

static unsigned type_of(const toml_value *v)
{
	return v->tl >> LINE_BITS;
}

static void vset(toml_value *v, unsigned type, toml_pos pos)
{
	uint32_t line = pos.line > LINE_MASK ? LINE_MASK : pos.line;

	v->tl = (uint32_t)type << LINE_BITS | line;
	v->col = pos.column;
}

static void vtype(toml_value *v, unsigned type)
{
	v->tl = (v->tl & LINE_MASK) | (uint32_t)type << LINE_BITS;
}

static toml_pos entry_pos(const struct entry *e)
{
	return (toml_pos){ e->v.tl & LINE_MASK, e->kcol };
}

/* Valid UTF-8 sequence length at s, or 0: no overlongs, no surrogates,
 * nothing past U+10FFFF, nothing cut short by end. */
static int utf8_len(const char *s, const char *end)
{
	const unsigned char *q = (const unsigned char *)s;
	size_t avail = (size_t)(end - s);
	unsigned c = q[0];

	if (c < 0x80)
		return 1;
	if (c < 0xC2)
		return 0;
	if (c < 0xE0)
		return avail >= 2 && (q[1] & 0xC0) == 0x80 ? 2 : 0;
	if (c < 0xF0) {
		if (avail < 3 || (q[1] & 0xC0) != 0x80 || (q[2] & 0xC0) != 0x80)
			return 0;
		if ((c == 0xE0 && q[1] < 0xA0) || (c == 0xED && q[1] > 0x9F))
			return 0;
		return 3;
	}
	if (c < 0xF5) {
		if (avail < 4 || (q[1] & 0xC0) != 0x80 ||
		    (q[2] & 0xC0) != 0x80 || (q[3] & 0xC0) != 0x80)
			return 0;
		if ((c == 0xF0 && q[1] < 0x90) || (c == 0xF4 && q[1] > 0x8F))
			return 0;
		return 4;
	}
	return 0;
}

static uint32_t utf8_decode(const char *s, int n)
{
	const unsigned char *q = (const unsigned char *)s;
	uint32_t c = n == 1 ? q[0] : q[0] & (0x7F >> n);
	int i;

	for (i = 1; i < n; i++)
		c = c << 6 | (q[i] & 0x3F);
	return c;
}

static int utf8_size(uint32_t c)
{
	return c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
}

static char *utf8_put(char *o, uint32_t c)
{
	if (c < 0x80) {
		*o++ = (char)c;
	} else if (c < 0x800) {
		*o++ = (char)(0xC0 | c >> 6);
		*o++ = (char)(0x80 | (c & 0x3F));
	} else if (c < 0x10000) {
		*o++ = (char)(0xE0 | c >> 12);
		*o++ = (char)(0x80 | (c >> 6 & 0x3F));
		*o++ = (char)(0x80 | (c & 0x3F));
	} else {
		*o++ = (char)(0xF0 | c >> 18);
		*o++ = (char)(0x80 | (c >> 12 & 0x3F));
		*o++ = (char)(0x80 | (c >> 6 & 0x3F));
		*o++ = (char)(0x80 | (c & 0x3F));
	}
	return o;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_bare(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       is_digit(c) || c == '_' || c == '-';
}

static toml_value *arr_items(const struct arr *a)
{
	toml_value *v;

	if (!a->owned)
		return (toml_value *)(a + 1);
	memcpy(&v, a + 1, sizeof v);
	return v;
}

static void arr_set_items(struct arr *a, toml_value *v)
{
	memcpy(a + 1, &v, sizeof v);
}

/* --- arena --- */

static void *arena_block(struct arena *a, size_t n)
{
	struct block *b;

	if (a->grow < BLOCK_MIN)
		a->grow = BLOCK_MIN;
	if (n > a->grow / 4) {
		/* A block of its own leaves the current one open. */
		if (n > SIZE_MAX - sizeof *b)
			return NULL;
		b = malloc(sizeof *b + n);
		if (!b)
			return NULL;
		b->used = b->size = n;
		if (a->head) {
			b->next = a->head->next;
			a->head->next = b;
		} else {
			b->next = NULL;
			a->head = b;
		}
		return b->data;
	}
	b = malloc(sizeof *b + a->grow);
	if (!b)
		return NULL;
	b->size = a->grow;
	b->used = n;
	b->next = a->head;
	a->head = b;
	if (a->grow < BLOCK_MAX)
		a->grow *= 2;
	return b->data;
}

static void *arena_alloc(struct arena *a, size_t n, size_t align)
{
	struct block *b = a->head;

	if (b) {
		size_t off = (b->used + align - 1) & ~(align - 1);

		if (off <= b->size && n <= b->size - off) {
			b->used = off + n;
			return b->data + off;
		}
	}
	return arena_block(a, n);
}

static void arena_release(struct arena *a)
{
	struct block *b, *next;

	for (b = a->head; b; b = next) {
		next = b->next;
		free(b);
	}
	a->head = NULL;
}

/* --- errors and positions --- */

/* Positions are asked for in increasing order along a line, so counting
 * code points from a cached point keeps a 10 MB one-line array linear. */
static toml_pos pos_of(struct parser *ps, const char *q)
{
	if (ps->colp < ps->line_start || q < ps->colp) {
		ps->colp = ps->line_start;
		ps->col = 1;
	}
	for (; ps->colp < q; ps->colp++)
		if ((*(const unsigned char *)ps->colp & 0xC0) != 0x80 &&
		    ps->col < UINT32_MAX)
			ps->col++;
	return (toml_pos){ ps->line, ps->col };
}

#if defined(__GNUC__)
#define PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define PRINTF(a, b)
#endif

PRINTF(3, 0)
static int vfail(toml_error *err, toml_pos pos, const char *fmt, va_list ap)
{
	err->pos = pos;
	vsnprintf(err->message, sizeof err->message, fmt, ap);
	return -1;
}

PRINTF(3, 4)
static int fail_at(struct parser *ps, toml_pos pos, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(ps->err, pos, fmt, ap);
	va_end(ap);
	return -1;
}

PRINTF(3, 4)
static int fail(struct parser *ps, const char *q, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(ps->err, pos_of(ps, q), fmt, ap);
	va_end(ap);
	return -1;
}

static int oom(struct parser *ps)
{
	return fail(ps, ps->p, "out of memory");
}

/* What is at q, for "expected X, found Y". */
static const char *found(const struct parser *ps, const char *q, char *buf,
			 size_t n)
{
	unsigned char c;
	int len;

	if (q >= ps->end)
		return "end of input";
	c = (unsigned char)*q;
	if (c == '\n' || (c == '\r' && q + 1 < ps->end && q[1] == '\n'))
		return "end of line";
	if (c == ' ')
		return "a space";
	if (c == '\t')
		return "a tab";
	if (c > 0x20 && c < 0x7F) {
		snprintf(buf, n, "'%c'", c);
		return buf;
	}
	if (c < 0x80) {
		snprintf(buf, n, "control character U+%04X", c);
		return buf;
	}
	len = utf8_len(q, ps->end);
	if (!len)
		snprintf(buf, n, "invalid UTF-8 byte 0x%02X", c);
	else
		snprintf(buf, n, "'%.*s' (U+%04X)", len, q,
			 (unsigned)utf8_decode(q, len));
	return buf;
}

/* Text as written, cut to fit a message. */
static const char *shown(const char *s, const char *e, char *buf, size_t n)
{
	size_t len = (size_t)(e - s);

	if (len + 1 <= n) {
		memcpy(buf, s, len);
		buf[len] = '\0';
		return buf;
	}
	len = n - 4;
	while (len && ((unsigned char)s[len] & 0xC0) == 0x80)
		len--;
	memcpy(buf, s, len);
	memcpy(buf + len, "...", 4);
	return buf;
}

static const char *article(unsigned t)
{
	return t == TOML_INTEGER || t == TOML_ARRAY ||
			       t == TOML_OFFSET_DATETIME
		       ? "an"
		       : "a";
}

/* --- document bookkeeping --- */

/* Makes room to list one more table, so that listing it cannot fail after
 * its memory has changed hands. */
static int reserve_tab(struct parser *ps)
{
	toml_doc *d = ps->doc;
	void *p = grow(d->tabs, &d->captabs, d->ntabs + 1, sizeof *d->tabs);

	if (!p)
		return oom(ps);
	d->tabs = p;
	return 0;
}

static void own_tab(struct parser *ps, struct tab *t)
{
	ps->doc->tabs[ps->doc->ntabs++] = t;
	t->store = S_OWNED;
}

static int own_arr(struct parser *ps, struct arr *a)
{
	toml_doc *d = ps->doc;
	void *p = grow(d->arrs, &d->caparrs, d->narrs + 1, sizeof *d->arrs);

	if (!p)
		return oom(ps);
	d->arrs = p;
	d->arrs[d->narrs++] = a;
	a->owned = true;
	return 0;
}

/* --- interned keys --- */

static int64_t keys_find(const struct keytab *kt, const char *s, size_t n,
			 uint32_t h)
{
	uint32_t mask, i, id;

	if (!kt->slot)
		return -1;
	mask = (1u << kt->bits) - 1;
	for (i = h & mask; (id = kt->slot[i]) != 0; i = (i + 1) & mask) {
		const char *k = kt->str[id - 1];

		if (key_hash(k) == h && key_len(k) == n && !memcmp(k, s, n))
			return id - 1;
	}
	return -1;
}

static int keys_rehash(struct keytab *kt, unsigned bits)
{
	uint32_t *slot = calloc((size_t)1 << bits, sizeof *slot);
	uint32_t mask = (1u << bits) - 1, id, i;

	if (!slot)
		return -1;
	for (id = 0; id < kt->n; id++) {
		for (i = key_hash(kt->str[id]) & mask; slot[i];
		     i = (i + 1) & mask)
			;
		slot[i] = id + 1;
	}
	free(kt->slot);
	kt->slot = slot;
	kt->bits = bits;
	return 0;
}

static int intern(struct parser *ps, const char *s, size_t n, uint32_t *id)
{
	struct keytab *kt = &ps->doc->keys;
	uint32_t h = hash_bytes(s, n), mask, i, n32 = (uint32_t)n;
	int64_t found_id = keys_find(kt, s, n, h);
	char *rec;

	if (found_id >= 0) {
		*id = (uint32_t)found_id;
		return 0;
	}
	if (n > UINT32_MAX - 16 || kt->n == UINT32_MAX - 1)
		return fail(ps, ps->p, "key too long");
	if (!kt->slot || ((size_t)kt->n + 1) * 4 > (size_t)3 << kt->bits)
		if (keys_rehash(kt, kt->slot ? kt->bits + 1 : 6) < 0)
			return oom(ps);
	if (kt->n == kt->cap) {
		size_t cap = kt->cap;
		void *p = grow(kt->str, &cap, (size_t)kt->n + 1, sizeof *kt->str);

		if (!p || cap > UINT32_MAX)
			return oom(ps);
		kt->str = p;
		kt->cap = (uint32_t)cap;
	}
	rec = arena_alloc(&ps->doc->mem, 8 + n + 1, 4);
	if (!rec)
		return oom(ps);
	memcpy(rec, &h, 4);
	memcpy(rec + 4, &n32, 4);
	if (n)
		memcpy(rec + 8, s, n);
	rec[8 + n] = '\0';
	kt->str[kt->n] = rec + 8;
	mask = (1u << kt->bits) - 1;
	for (i = h & mask; kt->slot[i]; i = (i + 1) & mask)
		;
	kt->slot[i] = ++kt->n;
	*id = kt->n - 1;
	return 0;
}

/* --- tables --- */

static uint32_t id_slot(uint32_t id, unsigned bits)
{
	return (id * 2654435761u) >> (32 - bits);
}

static int64_t tab_find(const struct tab *t, uint32_t id)
{
	uint32_t i, s, mask;

	if (!t->idx) {
		for (i = 0; i < t->len; i++)
			if (t->e[i].key == id)
				return i;
		return -1;
	}
	mask = (1u << t->idx_bits) - 1;
	for (i = id_slot(id, t->idx_bits); (s = t->idx[i]) != 0;
	     i = (i + 1) & mask)
		if (t->e[s - 1].key == id)
			return s - 1;
	return -1;
}

static void index_put(uint32_t *idx, unsigned bits, uint32_t id, uint32_t n)
{
	uint32_t mask = (1u << bits) - 1, i;

	for (i = id_slot(id, bits); idx[i]; i = (i + 1) & mask)
		;
	idx[i] = n + 1;
}

static unsigned index_bits(size_t len)
{
	unsigned bits = 5;

	while (len * 4 > (size_t)3 << bits)
		bits++;
	return bits;
}

/* Builds the index for len entries; the caller owns the old one. */
static uint32_t *index_build(const struct tab *t, size_t len, unsigned bits)
{
	uint32_t *idx = calloc((size_t)1 << bits, sizeof *idx);
	uint32_t i;

	if (!idx)
		return NULL;
	for (i = 0; i < len; i++)
		index_put(idx, bits, t->e[i].key, i);
	return idx;
}

static struct tab *tab_new(struct parser *ps, int kind)
{
	struct tab *t = arena_alloc(&ps->doc->mem, sizeof *t, 8);

	if (!t) {
		oom(ps);
		return NULL;
	}
	memset(t, 0, sizeof *t);
	t->doc = ps->doc;
	t->kind = (uint8_t)kind;
	return t;
}

/* Moves a finished table into the arena at its exact size; a big one keeps
 * its buffer, shrunk, rather than be copied. */
static int tab_seal(struct parser *ps, struct tab *t)
{
	size_t n = t->len * sizeof *t->e;
	size_t ni = t->idx ? ((size_t)1 << t->idx_bits) * sizeof *t->idx : 0;
	struct entry *e;
	uint32_t *idx = NULL;

	if (n >= BIG_VECTOR) {
		/* Shrunk by finish(): it may still grow until then. */
		if (reserve_tab(ps) < 0)
			return -1;
		own_tab(ps, t);
		return 0;
	}
	e = arena_alloc(&ps->doc->mem, n, 8);
	if (e && ni)
		idx = arena_alloc(&ps->doc->mem, ni, 4);
	if (!e || (ni && !idx))
		return oom(ps);
	memcpy(e, t->e, n);
	free(t->e);
	t->e = e;
	if (ni) {
		memcpy(idx, t->idx, ni);
		free(t->idx);
		t->idx = idx;
	}
	t->store = S_SEALED;
	return 0;
}

/* Seals open tables [from, to) and closes the gap in the list. */
static int seal_open(struct parser *ps, size_t from, size_t to)
{
	size_t i;

	for (i = from; i < to; i++) {
		if (tab_seal(ps, ps->open[i]) < 0) {
			/* The failed one and the rest stay listed for release. */
			memmove(ps->open + from, ps->open + i,
				(ps->nopen - i) * sizeof *ps->open);
			ps->nopen -= i - from;
			return -1;
		}
	}
	if (to < ps->nopen)
		memmove(ps->open + from, ps->open + to,
			(ps->nopen - to) * sizeof *ps->open);
	ps->nopen -= to - from;
	return 0;
}

static struct entry *tab_add(struct parser *ps, struct tab *t, uint32_t id,
			     uint32_t kcol, const toml_value *v)
{
	struct entry *e = t->e;
	size_t len = t->len;

	if (len == UINT32_MAX) {
		fail(ps, ps->p, "too many keys in one table");
		return NULL;
	}
	if (t->store == S_NONE) {
		void *p = grow(ps->open, &ps->capopen, ps->nopen + 1,
			       sizeof *ps->open);

		if (!p) {
			oom(ps);
			return NULL;
		}
		ps->open = p;
		e = malloc(4 * sizeof *e);
		if (!e) {
			oom(ps);
			return NULL;
		}
		ps->open[ps->nopen++] = t;
		t->store = S_OPEN;
	} else if (t->store == S_SEALED) {
		/* Extended after its section: it grows from now on. */
		uint32_t *idx = NULL;

		if (reserve_tab(ps) < 0)
			return NULL;
		e = malloc(cap_for(len + 1) * sizeof *e);
		if (e && t->idx)
			idx = index_build(t, len, t->idx_bits);
		if (!e || (t->idx && !idx)) {
			free(e);
			oom(ps);
			return NULL;
		}
		memcpy(e, t->e, len * sizeof *e);
		if (t->idx)
			t->idx = idx;
		own_tab(ps, t);
	} else if (is_full(len)) {
		e = realloc(e, 2 * len * sizeof *e);
		if (!e) {
			oom(ps);
			return NULL;
		}
	}
	t->e = e;
	e[len].key = id;
	e[len].kcol = kcol;
	e[len].v = *v;
	t->len = (uint32_t)len + 1;
	if (t->len > LINEAR_MAX &&
	    (!t->idx || (size_t)t->len * 4 > (size_t)3 << t->idx_bits)) {
		unsigned bits = index_bits(t->len * 2);
		uint32_t *idx = index_build(t, t->len, bits);

		if (!idx) {
			oom(ps);
			return NULL;
		}
		free(t->idx);
		t->idx = idx;
		t->idx_bits = (uint8_t)bits;
	} else if (t->idx) {
		index_put(t->idx, t->idx_bits, id, (uint32_t)len);
	}
	return &e[len];
}

/* --- arrays --- */

static struct arr *aot_new(struct parser *ps)
{
	struct arr *a = arena_alloc(&ps->doc->mem,
				    sizeof *a + sizeof(toml_value *), 8);

	if (!a) {
		oom(ps);
		return NULL;
	}
	memset(a, 0, sizeof *a);
	arr_set_items(a, NULL);
	a->aot = true;
	if (own_arr(ps, a) < 0)
		return NULL;
	return a;
}

static int aot_push(struct parser *ps, struct arr *a, const toml_value *v)
{
	if (a->len == UINT32_MAX)
		return fail(ps, ps->p, "too many tables in one array");
	toml_value *items = arr_items(a);

	if (!items || is_full(a->len)) {
		items = realloc(items, cap_for(a->len + 1) * sizeof *items);
		if (!items)
			return oom(ps);
		arr_set_items(a, items);
	}
	items[a->len++] = *v;
	return 0;
}

/* --- lines, blanks, comments --- */

static void newline(struct parser *ps, const char *nl)
{
	if (ps->line < UINT32_MAX)
		ps->line++;
	ps->line_start = nl + 1;
}

static void skip_ws(struct parser *ps)
{
	const char *p = ps->p;

	while (p < ps->end && (*p == ' ' || *p == '\t'))
		p++;
	ps->p = p;
}

/* Consumes a newline at ps->p: 1 if there was one, 0 if not, -1 for a
 * carriage return on its own. */
static int eat_newline(struct parser *ps)
{
	const char *p = ps->p;

	if (p < ps->end && *p == '\n') {
		newline(ps, p);
		ps->p = p + 1;
		return 1;
	}
	if (p < ps->end && *p == '\r') {
		if (p + 1 < ps->end && p[1] == '\n') {
			newline(ps, p + 1);
			ps->p = p + 2;
			return 1;
		}
		return fail(ps, p, "carriage return not followed by a newline");
	}
	return 0;
}

/* At '#': skips to the end of the line, leaving the newline. */
static int skip_comment(struct parser *ps)
{
	const char *q = ps->p + 1, *end = ps->end;

	while (q < end) {
		unsigned char c = (unsigned char)*q;

		if ((c >= 0x20 && c < 0x7F) || c == '\t') {
			q++;
		} else if (c == '\n') {
			break;
		} else if (c == '\r') {
			if (q + 1 < end && q[1] == '\n')
				break;
			return fail(ps, q, "carriage return not followed by a newline");
		} else if (c >= 0x80) {
			int n = utf8_len(q, end);

			if (!n)
				return fail(ps, q, "invalid UTF-8 byte 0x%02X in comment", c);
			q += n;
		} else {
			return fail(ps, q, "control character U+%04X in comment", c);
		}
	}
	ps->p = q;
	return 0;
}

/* Whitespace, newlines and comments, as allowed inside arrays. */
static int skip_blank(struct parser *ps)
{
	for (;;) {
		int r;

		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == '#') {
			if (skip_comment(ps) < 0)
				return -1;
		}
		r = eat_newline(ps);
		if (r <= 0)
			return r;
	}
}

/* After a key/value pair or a header only a comment may follow; what names
 * the thing ended, as "the value of key `a`". */
static int end_of_line(struct parser *ps, const char *what, const char *s,
		       const char *e, const char *close)
{
	char b1[96], b2[48];
	int r;

	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == '#' && skip_comment(ps) < 0)
		return -1;
	if (ps->p >= ps->end)
		return 0;
	r = eat_newline(ps);
	if (r)
		return r < 0 ? -1 : 0;
	return fail(ps, ps->p, "expected end of line after %s%s%s, found %s",
		    what, shown(s, e, b1, sizeof b1), close,
		    found(ps, ps->p, b2, sizeof b2));
}

/* --- strings --- */

struct str {
	const char *body, *bend; /* between the delimiters */
	size_t len; /* decoded */
	bool raw; /* body is the string as is */
	bool literal;
};

/* The body of a multi-line string skips a newline right after the
 * delimiter. */
static const char *skip_first_newline(struct parser *ps, const char *q)
{
	if (q < ps->end && *q == '\n') {
		newline(ps, q);
		return q + 1;
	}
	if (q + 1 < ps->end && q[0] == '\r' && q[1] == '\n') {
		newline(ps, q + 1);
		return q + 2;
	}
	return q;
}

static int bad_char(struct parser *ps, const char *q, bool ml, toml_pos open)
{
	unsigned char c = (unsigned char)*q;

	if (c == '\n' || (c == '\r' && q + 1 < ps->end && q[1] == '\n')) {
		if (!ml)
			return fail(ps, q, "unterminated string: newline before the closing quote (string opened at %u:%u)",
				    open.line, open.column);
	}
	if (c == '\r')
		return fail(ps, q, "carriage return not followed by a newline");
	if (c >= 0x80)
		return fail(ps, q, "invalid UTF-8 byte 0x%02X in string", c);
	return fail(ps, q, "control character U+%04X in string: write it as an escape",
		    c);
}

/* One escape at q (a backslash); returns the byte after it or NULL. */
static const char *scan_escape(struct parser *ps, const char *q, bool ml,
			       size_t *len)
{
	const char *end = ps->end, *r;
	char b[48];
	uint32_t c = 0;
	int n, i;

	if (q + 1 >= end) {
		fail(ps, q, "unterminated escape sequence");
		return NULL;
	}
	switch (q[1]) {
	case 'b': case 't': case 'n': case 'f': case 'r': case '"': case '\\':
		(*len)++;
		return q + 2;
	case 'u':
	case 'U':
		n = q[1] == 'u' ? 4 : 8;
		for (i = 0; i < n; i++) {
			int h = q + 2 + i < end ? hexval(q[2 + i]) : -1;

			if (h < 0) {
				fail(ps, q, "invalid escape '\\%c': expected %d hexadecimal digits",
				     q[1], n);
				return NULL;
			}
			c = c << 4 | (uint32_t)h;
		}
		if (c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
			fail(ps, q, "invalid escape '\\%c%.*s': U+%04X is not a Unicode scalar value",
			     q[1], n, q + 2, (unsigned)c);
			return NULL;
		}
		*len += (size_t)utf8_size(c);
		return q + 2 + n;
	case ' ': case '\t': case '\n': case '\r':
		if (!ml)
			break;
		/* A backslash ending a line eats the line break and all
		 * whitespace up to the next non-blank character. */
		for (r = q + 1; r < end && (*r == ' ' || *r == '\t'); r++)
			;
		if (r < end && *r == '\r' && !(r + 1 < end && r[1] == '\n')) {
			fail(ps, r, "carriage return not followed by a newline");
			return NULL;
		}
		if (r >= end || (*r != '\n' && *r != '\r')) {
			fail(ps, q, "invalid escape '\\%c': only a backslash at the end of a line may be followed by whitespace",
			     q[1] == ' ' ? ' ' : 't');
			return NULL;
		}
		for (; r < end; r++) {
			if (*r == '\n') {
				newline(ps, r);
			} else if (*r == '\r') {
				if (!(r + 1 < end && r[1] == '\n')) {
					fail(ps, r, "carriage return not followed by a newline");
					return NULL;
				}
			} else if (*r != ' ' && *r != '\t') {
				break;
			}
		}
		return r;
	}
	if (q[1] > 0x20 && q[1] < 0x7F)
		fail(ps, q, "invalid escape sequence '\\%c'", q[1]);
	else
		fail(ps, q, "invalid escape sequence: '\\' followed by %s",
		     found(ps, q + 1, b, sizeof b));
	return NULL;
}

/* At an opening quote: validates the string, finds its end and decoded
 * length; leaves ps->p after the closing quote. */
static int scan_string(struct parser *ps, struct str *st, bool key)
{
	const char *open = ps->p, *q, *end = ps->end;
	char quote = *open;
	toml_pos open_pos = pos_of(ps, open);
	bool ml = end - open >= 3 && open[1] == quote && open[2] == quote;
	size_t len = 0;

	if (ml && key)
		return fail(ps, open, "a multi-line string cannot be a key");
	st->literal = quote == '\'';
	st->raw = true;
	q = ml ? skip_first_newline(ps, open + 3) : open + 1;
	st->body = q;
	for (;;) {
		unsigned char c;

		if (q >= end)
			return fail_at(ps, open_pos, ml ? "unterminated multi-line string"
						  : "unterminated string");
		c = (unsigned char)*q;
		if (c == (unsigned char)quote) {
			size_t run = 1;

			if (!ml)
				break;
			while (q + run < end && q[run] == quote && run < 6)
				run++;
			if (run < 3) {
				q += run;
				len += run;
				continue;
			}
			if (run == 6)
				return fail(ps, q + 5, "too many quotes at the end of a multi-line string");
			/* Up to two quotes may sit against the closing three. */
			q += run - 3;
			len += run - 3;
			break;
		}
		if (c == '\\' && !st->literal) {
			q = scan_escape(ps, q, ml, &len);
			if (!q)
				return -1;
			st->raw = false;
		} else if ((c >= 0x20 && c < 0x7F) || c == '\t') {
			q++;
			len++;
		} else if (c >= 0x80) {
			int n = utf8_len(q, end);

			if (!n)
				return bad_char(ps, q, ml, open_pos);
			q += n;
			len += (size_t)n;
		} else if (ml && c == '\n') {
			newline(ps, q);
			q++;
			len++;
		} else if (ml && c == '\r' && q + 1 < end && q[1] == '\n') {
			/* Stored as "\n" whatever the file used. */
			newline(ps, q + 1);
			q += 2;
			len++;
			st->raw = false;
		} else {
			return bad_char(ps, q, ml, open_pos);
		}
	}
	st->bend = q;
	st->len = len;
	ps->p = q + (ml ? 3 : 1);
	return 0;
}

/* Writes exactly st->len bytes; the text was checked by scan_string(). */
static void decode_string(const struct str *st, char *o)
{
	const char *q = st->body, *end = st->bend;

	if (st->raw) {
		if (st->len)
			memcpy(o, q, st->len);
		return;
	}
	while (q < end) {
		char c = *q;
		uint32_t u;
		int n, i;

		if (c == '\r') {
			q++; /* before '\n' */
			continue;
		}
		if (c != '\\' || st->literal) {
			*o++ = c;
			q++;
			continue;
		}
		switch (q[1]) {
		case 'b': *o++ = '\b'; q += 2; break;
		case 't': *o++ = '\t'; q += 2; break;
		case 'n': *o++ = '\n'; q += 2; break;
		case 'f': *o++ = '\f'; q += 2; break;
		case 'r': *o++ = '\r'; q += 2; break;
		case '"': *o++ = '"'; q += 2; break;
		case '\\': *o++ = '\\'; q += 2; break;
		case 'u':
		case 'U':
			n = q[1] == 'u' ? 4 : 8;
			for (u = 0, i = 0; i < n; i++)
				u = u << 4 | (uint32_t)hexval(q[2 + i]);
			o = utf8_put(o, u);
			q += 2 + n;
			break;
		default:
			for (q++; q < end && (*q == ' ' || *q == '\t' ||
					      *q == '\n' || *q == '\r');
			     q++)
				;
		}
	}
}

static int parse_string(struct parser *ps, toml_value *v)
{
	struct str st;
	char *rec;
	uint32_t n;

	if (scan_string(ps, &st, false) < 0)
		return -1;
	if (st.len <= 7) {
		char sso[8] = { 0 };

		decode_string(&st, sso);
		sso[7] = (char)(7 - st.len);
		memcpy(v->u.sso, sso, sizeof sso);
		vtype(v, T_SHORT_STRING);
		return 0;
	}
	if (st.len > UINT32_MAX - 8)
		return fail(ps, st.body, "string longer than 4 GiB");
	rec = arena_alloc(&ps->doc->mem, 4 + st.len + 1, 1);
	if (!rec)
		return oom(ps);
	n = (uint32_t)st.len;
	memcpy(rec, &n, 4);
	decode_string(&st, rec + 4);
	rec[4 + st.len] = '\0';
	v->u.s = rec + 4;
	vtype(v, TOML_STRING);
	return 0;
}

/* --- keys --- */

static int parse_key_seg(struct parser *ps, const char *what)
{
	const char *s = ps->p, *q = s;
	struct seg *sg;
	char b[48];
	uint32_t id;
	void *p;

	if (ps->nseg == ps->capseg) {
		p = grow(ps->seg, &ps->capseg, ps->nseg + 1, sizeof *ps->seg);
		if (!p)
			return oom(ps);
		ps->seg = p;
	}
	sg = &ps->seg[ps->nseg];
	sg->pos = pos_of(ps, s);
	if (q < ps->end && is_bare(*q)) {
		while (q < ps->end && is_bare(*q))
			q++;
		if (intern(ps, s, (size_t)(q - s), &id) < 0)
			return -1;
		ps->p = q;
	} else if (q < ps->end && (*q == '"' || *q == '\'')) {
		struct str st;

		if (scan_string(ps, &st, true) < 0)
			return -1;
		if (st.len > ps->capsbuf) {
			free(ps->sbuf);
			ps->capsbuf = 0;
			ps->sbuf = malloc(st.len);
			if (!ps->sbuf)
				return oom(ps);
			ps->capsbuf = st.len;
		}
		decode_string(&st, ps->sbuf);
		if (intern(ps, st.len ? ps->sbuf : "", st.len, &id) < 0)
			return -1;
	} else {
		return fail(ps, s, "expected %s, found %s", what,
			    found(ps, s, b, sizeof b));
	}
	sg->id = id;
	sg->start = s;
	sg->end = ps->p;
	ps->nseg++;
	return 0;
}

/* A key, dotted or not, into ps->seg. */
static int parse_key(struct parser *ps, const char *what)
{
	ps->nseg = 0;
	ps->key_start = ps->p;
	for (;;) {
		if (parse_key_seg(ps, what) < 0)
			return -1;
		ps->key_end = ps->p;
		skip_ws(ps);
		if (ps->p >= ps->end || *ps->p != '.')
			return 0;
		ps->p++;
		skip_ws(ps);
		what = "a key after '.'";
	}
}

/* --- numbers, booleans, dates --- */

/* Digits with single underscores between them, from q; NULL if an
 * underscore is misplaced.  *n counts the digits. */
static const char *digits(const char *q, const char *end, int base,
			  size_t *n)
{
	*n = 0;
	for (; q < end; q++) {
		int d = hexval(*q);

		if (d >= 0 && d < base) {
			(*n)++;
		} else if (*q == '_') {
			int after = q + 1 < end ? hexval(q[1]) : -1;

			if (!*n || after < 0 || after >= base)
				return NULL;
		} else {
			break;
		}
	}
	return q;
}

static double pow10_exact(int e)
{
	static const double p[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7,
				    1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14,
				    1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21,
				    1e22 };
	return p[e];
}

/* t..te is a checked decimal float without its sign. */
static int to_double(struct parser *ps, const char *t, const char *te,
		     double *out)
{
	uint64_t m = 0;
	int nd = 0, e10 = 0, ex = 0, exsign = 1;
	bool frac = false, exact = true;
	const char *q;
	char small[64], *buf;
	size_t n = 0;

	/* Most floats are short: exact for <= 19 digits whose mantissa fits
	 * 53 bits, scaled by an exactly representable power of ten. */
	for (q = t; q < te && *q != 'e' && *q != 'E'; q++) {
		if (*q == '.') {
			frac = true;
		} else if (is_digit(*q)) {
			if (m || *q != '0') {
				if (++nd > 19) {
					exact = false;
					break;
				}
				m = m * 10 + (uint64_t)(*q - '0');
			}
			if (frac)
				e10--;
		}
	}
	if (exact && q < te) {
		for (q++; q < te; q++) {
			if (*q == '-')
				exsign = -1;
			else if (is_digit(*q) && ex < 100000)
				ex = ex * 10 + (*q - '0');
		}
		e10 += exsign * ex;
	}
	if (exact && m == 0) {
		*out = 0.0;
		return 0;
	}
	if (exact && m <= (UINT64_C(1) << 53) && e10 >= -22 && e10 <= 22) {
		*out = e10 < 0 ? (double)m / pow10_exact(-e10)
			       : (double)m * pow10_exact(e10);
		return 0;
	}
	buf = (size_t)(te - t) < sizeof small ? small : malloc((size_t)(te - t) + 1);
	if (!buf)
		return oom(ps);
	for (q = t; q < te; q++)
		if (*q != '_')
			buf[n++] = *q;
	buf[n] = '\0';
	if (!ps->c_locale)
		ps->c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
	if (!ps->c_locale) {
		if (buf != small)
			free(buf);
		return oom(ps);
	}
	*out = strtod_l(buf, NULL, ps->c_locale);
	if (buf != small)
		free(buf);
	return 0;
}

/* A hexadecimal, octal or binary integer: t at its "0x", q its end, s
 * the whole token (with any sign, which is an error here). */
static int parse_based_int(struct parser *ps, const char *s, const char *t, const char *q,
			   bool sign, toml_value *v)
{
	int base = t[1] == 'x' ? 16 : t[1] == 'o' ? 8 : 2;
	const char *u;
	uint64_t x = 0;
	char b[96];
	size_t nd;

	if (sign)
		return fail(ps, s, "a sign is not allowed on a hexadecimal, octal or binary integer: `%s`",
			    shown(s, q, b, sizeof b));
	u = digits(t + 2, q, base, &nd);
	if (!u || !nd || u != q)
		return fail(ps, s, "invalid %s integer `%s`",
			    base == 16 ? "hexadecimal" : base == 8 ? "octal" : "binary",
			    shown(s, q, b, sizeof b));
	for (u = t + 2; u < q; u++) {
		if (*u == '_')
			continue;
		if (x > (INT64_MAX - (uint64_t)hexval(*u)) / (unsigned)base)
			return fail(ps, s, "integer `%s` does not fit in 64 bits",
				    shown(s, q, b, sizeof b));
		x = x * (unsigned)base + (uint64_t)hexval(*u);
	}
	v->u.i = (int64_t)x;
	vtype(v, TOML_INTEGER);
	return 0;
}

/* The decimal number from t (after any sign) to q checked digit by digit:
 * 1 for a float (a fraction or an exponent), 0 for an integer, -1 after
 * reporting what is wrong at s. */
static int check_decimal(struct parser *ps, const char *s, const char *t, const char *q)
{
	const char *u;
	bool isfloat = false;
	char b[96];
	size_t nd;

	if (t >= q || !is_digit(*t))
		return fail(ps, s, "invalid value `%s`", shown(s, q, b, sizeof b));
	u = digits(t, q, 10, &nd);
	if (!u)
		return fail(ps, s, "underscores must sit between digits: `%s`",
			    shown(s, q, b, sizeof b));
	if (*t == '0' && nd > 1)
		return fail(ps, s, "leading zeros are not allowed: `%s`",
			    shown(s, q, b, sizeof b));
	if (u < q && *u == '.') {
		isfloat = true;
		if (u + 1 >= q || !is_digit(u[1]))
			return fail(ps, s, "expected a digit after the decimal point: `%s`",
				    shown(s, q, b, sizeof b));
		u = digits(u + 1, q, 10, &nd);
		if (!u)
			return fail(ps, s, "underscores must sit between digits: `%s`",
				    shown(s, q, b, sizeof b));
	}
	if (u < q && (*u == 'e' || *u == 'E')) {
		isfloat = true;
		u++;
		if (u < q && (*u == '+' || *u == '-'))
			u++;
		if (u >= q || !is_digit(*u))
			return fail(ps, s, "expected digits in the exponent: `%s`",
				    shown(s, q, b, sizeof b));
		u = digits(u, q, 10, &nd);
		if (!u)
			return fail(ps, s, "underscores must sit between digits: `%s`",
				    shown(s, q, b, sizeof b));
	}
	if (u != q)
		return fail(ps, s, "invalid number `%s`", shown(s, q, b, sizeof b));
	return isfloat;
}

/* A checked decimal integer's digits from t to q, negated when neg. */
static int parse_decimal_int(struct parser *ps, const char *s, const char *t, const char *q,
			     bool neg, toml_value *v)
{
	uint64_t x = 0, lim = neg ? UINT64_C(1) << 63 : INT64_MAX;
	const char *u;
	char b[96];

	for (u = t; u < q; u++) {
		if (*u == '_')
			continue;
		if (x > (lim - (uint64_t)(*u - '0')) / 10)
			return fail(ps, s, "integer `%s` does not fit in 64 bits",
				    shown(s, q, b, sizeof b));
		x = x * 10 + (uint64_t)(*u - '0');
	}
	v->u.i = !neg ? (int64_t)x : x == UINT64_C(1) << 63 ? INT64_MIN : -(int64_t)x;
	vtype(v, TOML_INTEGER);
	return 0;
}

static int parse_number(struct parser *ps, toml_value *v)
{
	const char *s = ps->p, *q = s, *end = ps->end, *t;
	bool neg = false, sign = false;
	double d = 0;
	int isfloat;
	size_t n;

	while (q < end && (is_bare(*q) || *q == '.' || *q == '+'))
		q++;
	ps->p = q;
	t = s;
	if (t < q && (*t == '+' || *t == '-')) {
		sign = true;
		neg = *t == '-';
		t++;
	}
	n = (size_t)(q - t);
	if (n == 3 && (!memcmp(t, "inf", 3) || !memcmp(t, "nan", 3))) {
		v->u.f = t[0] == 'i' ? HUGE_VAL : NAN;
		if (neg)
			v->u.f = -v->u.f;
		vtype(v, TOML_FLOAT);
		return 0;
	}
	if (n >= 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'o' || t[1] == 'b'))
		return parse_based_int(ps, s, t, q, sign, v);
	if ((isfloat = check_decimal(ps, s, t, q)) < 0)
		return -1;
	if (!isfloat)
		return parse_decimal_int(ps, s, t, q, neg, v);
	if (to_double(ps, t, q, &d) < 0)
		return -1;
	v->u.f = neg ? -d : d;
	vtype(v, TOML_FLOAT);
	return 0;
}

/* n digits at q as a number, or -1. */
static int num(const char *q, const char *end, int n)
{
	int x = 0, i;

	if (end - q < n)
		return -1;
	for (i = 0; i < n; i++) {
		if (!is_digit(q[i]))
			return -1;
		x = x * 10 + (q[i] - '0');
	}
	return x;
}

static int days_in(int y, int m)
{
	static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		return 29;
	return d[m - 1];
}

/* Whole milliseconds and no more fit in the value; finer fractions go to
 * the arena. */
static uint64_t dt_pack(const toml_datetime *d)
{
	return (uint64_t)d->year << 48 | (uint64_t)d->month << 44 |
	       (uint64_t)d->day << 39 | (uint64_t)d->hour << 34 |
	       (uint64_t)d->minute << 28 | (uint64_t)d->second << 22 |
	       (uint64_t)(d->offset_minutes + 2048) << 10 |
	       (uint64_t)(d->nanosecond / 1000000);
}

static void dt_unpack(uint64_t x, toml_datetime *d)
{
	d->year = (int)(x >> 48 & 0x3FFF);
	d->month = (int)(x >> 44 & 0xF);
	d->day = (int)(x >> 39 & 0x1F);
	d->hour = (int)(x >> 34 & 0x1F);
	d->minute = (int)(x >> 28 & 0x3F);
	d->second = (int)(x >> 22 & 0x3F);
	d->offset_minutes = (int)(x >> 10 & 0xFFF) - 2048;
	d->nanosecond = (int)(x & 0x3FF) * 1000000;
}

/* Where the text a date-time error shows ends: the first character from
 * q on that cannot be part of one. */
static const char *datetime_text_end(const char *q, const char *end)
{
	while (q < end && (is_bare(*q) || *q == ':' || *q == '.' || *q == '+'))
		q++;
	return q;
}

/* YYYY-MM-DD at *qp into d, *qp moved past it; s..te is the text errors
 * show.  0, or -1 after reporting. */
static int parse_date(struct parser *ps, const char *s, const char *te, const char **qp,
		      toml_datetime *d)
{
	const char *q = *qp, *end = ps->end;
	char b[96];

	d->year = num(q, end, 4);
	d->month = q + 5 < end ? num(q + 5, end, 2) : -1;
	d->day = q + 8 < end && q[7] == '-' ? num(q + 8, end, 2) : -1;
	if (d->month < 0 || d->day < 0 || (q + 10 < end && is_digit(q[10])))
		return fail(ps, s, "invalid date `%s`: expected YYYY-MM-DD",
			    shown(s, te, b, sizeof b));
	if (d->month < 1 || d->month > 12)
		return fail(ps, s, "invalid date `%s`: month %02d is out of range",
			    shown(s, te, b, sizeof b), d->month);
	if (d->day < 1 || d->day > days_in(d->year, d->month))
		return fail(ps, s, "invalid date `%s`: %04d-%02d has no day %02d",
			    shown(s, te, b, sizeof b), d->year, d->month, d->day);
	*qp = q + 10;
	return 0;
}

/* HH:MM:SS[.fraction] at *qp into d, and after a date an offset (Z or
 * +HH:MM) setting *off; *qp moved past them.  0, or -1 after reporting. */
static int parse_time(struct parser *ps, const char *s, const char *te, bool date,
		      const char **qp, toml_datetime *d, bool *off)
{
	const char *q = *qp, *end = ps->end, *what = date ? "date-time" : "time";
	char b[96];

	d->hour = num(q, end, 2);
	d->minute = q + 3 < end && q[2] == ':' ? num(q + 3, end, 2) : -1;
	d->second = q + 6 < end && q[5] == ':' ? num(q + 6, end, 2) : -1;
	if (d->hour < 0 || d->minute < 0 || d->second < 0 || (q + 8 < end && is_digit(q[8])))
		return fail(ps, s, "invalid %s `%s`: expected %sHH:MM:SS", what,
			    shown(s, te, b, sizeof b), date ? "YYYY-MM-DDT" : "");
	if (d->hour > 23 || d->minute > 59 || d->second > 60)
		return fail(ps, s, "invalid %s `%s`: %02d:%02d:%02d is out of range", what,
			    shown(s, te, b, sizeof b), d->hour, d->minute, d->second);
	q += 8;
	if (q < end && *q == '.') {
		int scale = 100000000;

		if (q + 1 >= end || !is_digit(q[1]))
			return fail(ps, s, "invalid %s `%s`: expected digits after '.'", what,
				    shown(s, te, b, sizeof b));
		for (q++; q < end && is_digit(*q); q++, scale /= 10)
			d->nanosecond += (*q - '0') * scale;
	}
	if (date && q < end && (*q == 'Z' || *q == 'z')) {
		*off = true;
		q++;
	} else if (date && q < end && (*q == '+' || *q == '-')) {
		int h = num(q + 1, end, 2);
		int m = q + 4 < end && q[3] == ':' ? num(q + 4, end, 2) : -1;

		if (h < 0 || m < 0 || h > 23 || m > 59 || (q + 6 < end && is_digit(q[6])))
			return fail(ps, s, "invalid offset in date-time `%s`: expected +HH:MM or -HH:MM",
				    shown(s, te, b, sizeof b));
		*off = true;
		d->offset_minutes = (*q == '-' ? -1 : 1) * (h * 60 + m);
		q += 6;
	}
	*qp = q;
	return 0;
}

static int parse_datetime(struct parser *ps, toml_value *v)
{
	const char *s = ps->p, *q = s, *end = ps->end, *te = datetime_text_end(s, end);
	toml_datetime d = { 0 };
	bool date = false, time = true, off = false;
	unsigned type;

	if (end - q >= 5 && num(q, end, 4) >= 0 && q[4] == '-') {
		date = true;
		if (parse_date(ps, s, te, &q, &d) < 0)
			return -1;
		if (q < end && (*q == 'T' || *q == 't'))
			q++;
		else if (q + 1 < end && *q == ' ' && is_digit(q[1]))
			q++;
		else
			time = false;
		if (time) /* the message should show the time after a space too */
			te = datetime_text_end(q, end);
	}
	if (time && parse_time(ps, s, te, date, &q, &d, &off) < 0)
		return -1;
	ps->p = q;
	type = !date ? TOML_LOCAL_TIME : !time ? TOML_LOCAL_DATE
		: off ? TOML_OFFSET_DATETIME : TOML_LOCAL_DATETIME;
	if (d.nanosecond % 1000000) {
		toml_datetime *x = arena_alloc(&ps->doc->mem, sizeof *x, 8);

		if (!x)
			return oom(ps);
		*x = d;
		v->u.dtx = x;
		type = type == TOML_LOCAL_TIME ? T_LOCAL_TIME_X
			: type == TOML_OFFSET_DATETIME ? T_OFFSET_DATETIME_X
			: T_LOCAL_DATETIME_X;
	} else {
		v->u.dt = dt_pack(&d);
	}
	vtype(v, type);
	return 0;
}

/* --- values --- */

static int parse_array(struct parser *ps, toml_value *v, int depth);
static int parse_inline(struct parser *ps, toml_value *v, int depth);

static int parse_value(struct parser *ps, toml_value *v, int depth)
{
	const char *s = ps->p, *q;
	char b[96];

	vset(v, 0, pos_of(ps, s));
	if (s >= ps->end)
		return fail(ps, s, "expected a value, found end of input");
	switch (*s) {
	case '"':
	case '\'':
		return parse_string(ps, v);
	case '[':
		return parse_array(ps, v, depth + 1);
	case '{':
		return parse_inline(ps, v, depth + 1);
	case 't':
	case 'f':
		for (q = s; q < ps->end && is_bare(*q); q++)
			;
		if (q - s == 4 && !memcmp(s, "true", 4)) {
			v->u.b = true;
		} else if (q - s == 5 && !memcmp(s, "false", 5)) {
			v->u.b = false;
		} else {
			return fail(ps, s, "invalid value `%s` (strings must be quoted)",
				    shown(s, q, b, sizeof b));
		}
		vtype(v, TOML_BOOLEAN);
		ps->p = q;
		return 0;
	}
	if (is_digit(*s) && ((ps->end - s >= 5 && num(s, ps->end, 4) >= 0 &&
			      s[4] == '-') ||
			     (ps->end - s >= 3 && is_digit(s[1]) && s[2] == ':')))
		return parse_datetime(ps, v);
	if (is_digit(*s) || *s == '+' || *s == '-' || *s == 'i' || *s == 'n')
		return parse_number(ps, v);
	if (is_bare(*s)) {
		for (q = s; q < ps->end && is_bare(*q); q++)
			;
		return fail(ps, s, "invalid value `%s` (strings must be quoted)",
			    shown(s, q, b, sizeof b));
	}
	return fail(ps, s, "expected a value, found %s", found(ps, s, b, sizeof b));
}

static int too_deep(struct parser *ps, const char *at)
{
	return fail(ps, at, "nesting deeper than %d levels", TOML_MAX_DEPTH);
}

static int parse_array(struct parser *ps, toml_value *v, int depth)
{
	const char *open = ps->p;
	toml_pos open_pos = pos_of(ps, open);
	size_t mark = ps->nvals, n;
	struct arr *a;
	char b[48];

	if (depth > TOML_MAX_DEPTH)
		return too_deep(ps, open);
	ps->p++;
	for (;;) {
		toml_value item;
		void *p;

		if (skip_blank(ps) < 0)
			return -1;
		if (ps->p >= ps->end)
			return fail_at(ps, open_pos, "unterminated array: no closing ']'");
		if (*ps->p == ']')
			break;
		if (parse_value(ps, &item, depth) < 0)
			return -1;
		if (ps->nvals == ps->capvals) {
			p = grow(ps->vals, &ps->capvals, ps->nvals + 1, sizeof *ps->vals);
			if (!p)
				return oom(ps);
			ps->vals = p;
		}
		ps->vals[ps->nvals++] = item;
		if (skip_blank(ps) < 0)
			return -1;
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == ']')
			break;
		if (ps->p >= ps->end)
			return fail_at(ps, open_pos, "unterminated array: no closing ']'");
		return fail(ps, ps->p, "expected ',' or ']' after an array element, found %s",
			    found(ps, ps->p, b, sizeof b));
	}
	ps->p++;
	n = ps->nvals - mark;
	if (n > UINT32_MAX)
		return fail_at(ps, open_pos, "too many elements in one array");
	if (mark == 0 && n * sizeof *ps->vals >= BIG_VECTOR) {
		/* An outermost big array takes the scratch buffer as is. */
		toml_value *items;

		a = arena_alloc(&ps->doc->mem, sizeof *a + sizeof items, 8);
		if (!a)
			return oom(ps);
		memset(a, 0, sizeof *a);
		items = realloc(ps->vals, n * sizeof *ps->vals);
		if (!items)
			items = ps->vals;
		ps->vals = NULL;
		ps->nvals = ps->capvals = 0;
		a->len = (uint32_t)n;
		if (own_arr(ps, a) < 0) {
			free(items);
			return -1;
		}
		arr_set_items(a, items);
	} else {
		a = arena_alloc(&ps->doc->mem, sizeof *a + n * sizeof *ps->vals, 8);
		if (!a)
			return oom(ps);
		memset(a, 0, sizeof *a);
		if (n)
			memcpy(arr_items(a), ps->vals + mark, n * sizeof *ps->vals);
		a->len = (uint32_t)n;
		ps->nvals = mark;
	}
	v->u.a = a;
	vtype(v, TOML_ARRAY);
	return 0;
}

/* Walks the dotted key in ps->seg from t, making the tables it names; on
 * success *target is the table to receive the last segment. */
static int walk_dotted(struct parser *ps, struct tab *t, bool in_inline,
		       struct tab **target)
{
	int want = in_inline ? K_INLINE_DOTTED : K_DOTTED;
	char b[96];
	size_t i;
	int64_t k;

	for (i = 0; i + 1 < ps->nseg; i++) {
		struct seg *sg = &ps->seg[i];
		struct entry *e;
		toml_pos at;

		k = tab_find(t, sg->id);
		if (k < 0) {
			struct tab *c = tab_new(ps, want);
			toml_value cv;

			if (!c)
				return -1;
			vset(&cv, TOML_TABLE, ps->seg[0].pos);
			cv.u.t = c;
			if (!tab_add(ps, t, sg->id, sg->pos.column, &cv))
				return -1;
			t = c;
			continue;
		}
		e = &t->e[k];
		at = toml_value_pos(&e->v);
		if (type_of(&e->v) == TOML_TABLE) {
			struct tab *c = e->v.u.t;

			if (c->kind == want) {
				t = c;
				continue;
			}
			if (c->kind == K_INLINE || c->kind == K_INLINE_DOTTED)
				return fail_at(ps, sg->pos, "cannot extend inline table `%s` (defined at %u:%u)",
					       shown(sg->start, sg->end, b, sizeof b),
					       at.line, at.column);
			return fail_at(ps, sg->pos, "cannot add to table `%s` with a dotted key: it was defined by a header at %u:%u",
				       shown(sg->start, sg->end, b, sizeof b),
				       at.line, at.column);
		}
		return fail_at(ps, sg->pos, "key `%s` is already defined as %s %s at %u:%u",
			       shown(sg->start, sg->end, b, sizeof b),
			       article(toml_value_type(&e->v)),
			       toml_type_name(toml_value_type(&e->v)), at.line,
			       at.column);
	}
	k = tab_find(t, ps->seg[ps->nseg - 1].id);
	if (k >= 0) {
		toml_pos at = entry_pos(&t->e[k]);

		return fail_at(ps, ps->seg[0].pos, "duplicate key `%s` (first defined at %u:%u)",
			       shown(ps->key_start, ps->key_end, b, sizeof b),
			       at.line, at.column);
	}
	*target = t;
	return 0;
}

/* key = value into t; depth is t's. */
static int parse_keyval(struct parser *ps, struct tab *t, int depth,
			bool in_inline, const char **ks, const char **ke)
{
	struct tab *target = NULL;
	toml_value v;
	toml_pos kpos;
	uint32_t id;
	char b1[96], b2[48];

	if (parse_key(ps, "a key") < 0)
		return -1;
	*ks = ps->key_start;
	*ke = ps->key_end;
	if (ps->p >= ps->end || *ps->p != '=')
		return fail(ps, ps->p, "expected '=' after key `%s`, found %s",
			    shown(*ks, *ke, b1, sizeof b1),
			    found(ps, ps->p, b2, sizeof b2));
	ps->p++;
	skip_ws(ps);
	if (depth + (int)ps->nseg - 1 > TOML_MAX_DEPTH)
		return too_deep(ps, *ks);
	if (walk_dotted(ps, t, in_inline, &target) < 0)
		return -1;
	id = ps->seg[ps->nseg - 1].id;
	kpos = ps->seg[ps->nseg - 1].pos;
	if (ps->p >= ps->end || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '#')
		return fail(ps, ps->p, "expected a value after '=' for key `%s`, found %s",
			    shown(*ks, *ke, b1, sizeof b1),
			    found(ps, ps->p, b2, sizeof b2));
	if (parse_value(ps, &v, depth + (int)ps->nseg - 1) < 0)
		return -1;
	return tab_add(ps, target, id, kpos.column, &v) ? 0 : -1;
}

static int parse_inline(struct parser *ps, toml_value *v, int depth)
{
	const char *open = ps->p, *ks, *ke;
	toml_pos open_pos = pos_of(ps, open);
	size_t mark = ps->nopen;
	struct tab *t;
	char b[48];

	if (depth > TOML_MAX_DEPTH)
		return too_deep(ps, open);
	t = tab_new(ps, K_INLINE);
	if (!t)
		return -1;
	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == '}') {
		ps->p++;
	} else {
		for (;;) {
			if (parse_keyval(ps, t, depth, true, &ks, &ke) < 0)
				return -1;
			skip_ws(ps);
			if (ps->p >= ps->end)
				return fail_at(ps, open_pos, "unterminated inline table: no closing '}'");
			if (*ps->p == '}') {
				ps->p++;
				break;
			}
			if (*ps->p != ',')
				return fail(ps, ps->p, "expected ',' or '}' in inline table, found %s%s",
					    found(ps, ps->p, b, sizeof b),
					    *ps->p == '\n' || *ps->p == '\r'
						    ? " (an inline table must fit on one line)"
						    : "");
			ps->p++;
			skip_ws(ps);
			if (ps->p < ps->end && *ps->p == '}')
				return fail(ps, ps->p, "trailing comma not allowed in an inline table");
		}
	}
	/* Nothing can be added to it or its dotted sub-tables any more. */
	if (seal_open(ps, mark, ps->nopen) < 0)
		return -1;
	v->u.t = t;
	vtype(v, TOML_TABLE);
	return 0;
}

/* --- headers --- */

/* Follows a header's path but its last segment from the root: tables it
 * names are made if missing, and an array of tables stands for its last
 * element. */
static int walk_header(struct parser *ps, toml_pos hpos, struct tab **out)
{
	struct tab *t = ps->doc->root.u.t, *c;
	toml_value cv;
	char b[96];
	size_t i;

	for (i = 0; i + 1 < ps->nseg; i++) {
		struct seg *sg = &ps->seg[i];
		int64_t k = tab_find(t, sg->id);
		struct entry *e;
		toml_pos at;

		if (k < 0) {
			c = tab_new(ps, K_IMPLICIT);
			if (!c)
				return -1;
			vset(&cv, TOML_TABLE, hpos);
			cv.u.t = c;
			if (!tab_add(ps, t, sg->id, sg->pos.column, &cv))
				return -1;
			t = c;
			continue;
		}
		e = &t->e[k];
		at = toml_value_pos(&e->v);
		if (type_of(&e->v) == TOML_TABLE) {
			c = e->v.u.t;
			if (c->kind == K_INLINE || c->kind == K_INLINE_DOTTED)
				return fail_at(ps, sg->pos, "cannot extend inline table `%s` (defined at %u:%u)",
					       shown(sg->start, sg->end, b, sizeof b),
					       at.line, at.column);
			t = c;
			continue;
		}
		if (type_of(&e->v) == TOML_ARRAY && e->v.u.a->aot) {
			struct arr *a = e->v.u.a;

			t = arr_items(a)[a->len - 1].u.t;
			continue;
		}
		return fail_at(ps, sg->pos, "key `%s` is already defined as %s %s at %u:%u",
			       shown(sg->start, sg->end, b, sizeof b),
			       article(toml_value_type(&e->v)),
			       toml_type_name(toml_value_type(&e->v)), at.line,
			       at.column);
	}
	*out = t;
	return 0;
}

/* Defines the header's last segment in t and makes it the current
 * section. */
static int define_header(struct parser *ps, struct tab *t, toml_pos hpos,
			 bool aot)
{
	struct seg *last = &ps->seg[ps->nseg - 1];
	int64_t k = tab_find(t, last->id);
	struct entry *e = k >= 0 ? &t->e[k] : NULL;
	toml_pos at = e ? toml_value_pos(&e->v) : hpos;
	struct arr *a = NULL;
	struct tab *c;
	toml_value cv;
	char b[96];
	const char *name = shown(ps->key_start, ps->key_end, b, sizeof b);

	if (e && type_of(&e->v) == TOML_TABLE) {
		c = e->v.u.t;
		if (c->kind == K_INLINE || c->kind == K_INLINE_DOTTED)
			return fail_at(ps, hpos, "cannot extend inline table `%s` (defined at %u:%u)",
				       name, at.line, at.column);
		if (aot)
			return fail_at(ps, hpos, "cannot define [[%s]]: table `%s` already defined at %u:%u",
				       name, name, at.line, at.column);
		if (c->kind == K_HEADER)
			return fail_at(ps, hpos, "table [%s] already defined at %u:%u",
				       name, at.line, at.column);
		if (c->kind == K_DOTTED)
			return fail_at(ps, hpos, "table [%s] already defined by dotted keys at %u:%u",
				       name, at.line, at.column);
		/* Made implicitly by an earlier header: defined here. */
		c->kind = K_HEADER;
		vset(&e->v, TOML_TABLE, hpos);
		e->kcol = last->pos.column;
		ps->cur = c;
		return 0;
	}
	if (e && type_of(&e->v) == TOML_ARRAY) {
		a = e->v.u.a;
		if (!aot)
			return fail_at(ps, hpos, a->aot ? "table [%s] already defined as an array of tables at %u:%u"
							: "key `%s` is already defined as an array at %u:%u",
				       name, at.line, at.column);
		if (!a->aot)
			return fail_at(ps, hpos, "cannot append to static array `%s` (defined at %u:%u)",
				       name, at.line, at.column);
	} else if (e) {
		return fail_at(ps, hpos, "key `%s` is already defined as %s %s at %u:%u",
			       name, article(toml_value_type(&e->v)),
			       toml_type_name(toml_value_type(&e->v)), at.line,
			       at.column);
	}
	c = tab_new(ps, K_HEADER);
	if (!c)
		return -1;
	vset(&cv, TOML_TABLE, hpos);
	cv.u.t = c;
	if (aot) {
		if (!a) {
			toml_value av;

			a = aot_new(ps);
			if (!a)
				return -1;
			vset(&av, TOML_ARRAY, hpos);
			av.u.a = a;
			if (!tab_add(ps, t, last->id, last->pos.column, &av))
				return -1;
		}
		if (aot_push(ps, a, &cv) < 0)
			return -1;
	} else if (!tab_add(ps, t, last->id, last->pos.column, &cv)) {
		return -1;
	}
	ps->cur = c;
	return 0;
}

/* [a.b] or [[a.b]]: starts a new section. */
static int parse_header(struct parser *ps)
{
	const char *open = ps->p;
	toml_pos hpos = pos_of(ps, open);
	bool aot = open + 1 < ps->end && open[1] == '[';
	struct tab *t = NULL;
	char b1[96], b2[48];

	ps->p += aot ? 2 : 1;
	skip_ws(ps);
	if (parse_key(ps, "a table name") < 0)
		return -1;
	if (aot ? !(ps->p + 1 < ps->end && ps->p[0] == ']' && ps->p[1] == ']')
		: !(ps->p < ps->end && ps->p[0] == ']'))
		return fail(ps, ps->p, "expected '%s' to close the header [%s%s, found %s",
			    aot ? "]]" : "]", aot ? "[" : "",
			    shown(ps->key_start, ps->key_end, b1, sizeof b1),
			    found(ps, ps->p, b2, sizeof b2));
	ps->p += aot ? 2 : 1;
	if (ps->nseg + aot > TOML_MAX_DEPTH)
		return too_deep(ps, open);
	/* Tables of sections long gone are likely finished. */
	if (ps->nopen > OPEN_MAX && seal_open(ps, 0, ps->nopen - OPEN_MAX / 2) < 0)
		return -1;
	ps->cur_depth = (int)ps->nseg + aot;
	if (walk_header(ps, hpos, &t) < 0)
		return -1;
	return define_header(ps, t, hpos, aot);
}

/* --- document --- */

/* Text before the current line is never read again: when toml_parse_file()
 * owns the buffer, its pages go back as the parser moves on, so the text
 * and the tree are not both resident at their full size. */
static void give_back(struct parser *ps)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t to = (uintptr_t)ps->line_start & ~(page - 1);

	if (to > (uintptr_t)ps->release) {
		madvise(ps->release, to - (uintptr_t)ps->release, MADV_DONTNEED);
		ps->release = (char *)to;
	}
}

static int parse_document(struct parser *ps)
{
	const char *ks, *ke;
	char b[48];

	if (ps->end - ps->p >= 3 && !memcmp(ps->p, "\xEF\xBB\xBF", 3))
		ps->p += 3;
	ps->line_start = ps->colp = ps->p;
	for (;;) {
		int r;

		if (ps->release &&
		    (size_t)(ps->line_start - ps->release) >= RELEASE_STEP)
			give_back(ps);
		skip_ws(ps);
		if (ps->p >= ps->end)
			return 0;
		r = eat_newline(ps);
		if (r < 0)
			return -1;
		if (r)
			continue;
		if (*ps->p == '#') {
			if (skip_comment(ps) < 0)
				return -1;
			continue;
		}
		if (*ps->p == '[') {
			const char *h = ps->p;

			if (parse_header(ps) < 0)
				return -1;
			if (end_of_line(ps, "the table header ", h, ps->p, "") < 0)
				return -1;
			continue;
		}
		if (!is_bare(*ps->p) && *ps->p != '"' && *ps->p != '\'')
			return fail(ps, ps->p, "expected a key or a [table], found %s",
				    found(ps, ps->p, b, sizeof b));
		if (parse_keyval(ps, ps->cur, ps->cur_depth, false, &ks, &ke) < 0)
			return -1;
		if (end_of_line(ps, "the value of key `", ks, ke, "`") < 0)
			return -1;
	}
}

/* Everything still growing is settled at its final size. */
static int finish(struct parser *ps)
{
	toml_doc *d = ps->doc;
	size_t i;

	if (seal_open(ps, 0, ps->nopen) < 0)
		return -1;
	for (i = 0; i < d->ntabs; i++) {
		struct tab *t = d->tabs[i];
		void *p = realloc(t->e, t->len * sizeof *t->e);

		if (p)
			t->e = p;
	}
	for (i = 0; i < d->narrs; i++) {
		struct arr *a = d->arrs[i];
		toml_value *items = arr_items(a);

		items = a->len ? realloc(items, a->len * sizeof *items) : NULL;
		if (items)
			arr_set_items(a, items);
	}
	return 0;
}

static void parser_release(struct parser *ps)
{
	size_t i;

	for (i = 0; i < ps->nopen; i++) {
		free(ps->open[i]->e);
		free(ps->open[i]->idx);
	}
	free(ps->open);
	free(ps->seg);
	free(ps->vals);
	free(ps->sbuf);
	if (ps->c_locale)
		freelocale(ps->c_locale);
}

static toml_doc *parse(const char *buf, size_t len, toml_error *err,
		       char *release)
{
	struct parser ps;
	toml_error dummy;
	toml_doc *doc;
	struct tab *root;
	int r;

	if (!err)
		err = &dummy;
	doc = calloc(1, sizeof *doc);
	if (!doc) {
		err->pos = (toml_pos){ 0, 0 };
		snprintf(err->message, sizeof err->message, "out of memory");
		return NULL;
	}
	memset(&ps, 0, sizeof ps);
	ps.p = buf && len ? buf : "";
	ps.end = ps.p + (buf ? len : 0);
	ps.line = 1;
	ps.line_start = ps.colp = ps.p;
	ps.col = 1;
	ps.err = err;
	ps.doc = doc;
	ps.release = release;
	root = tab_new(&ps, K_HEADER);
	r = root ? 0 : -1;
	if (root) {
		vset(&doc->root, TOML_TABLE, (toml_pos){ 1, 1 });
		doc->root.u.t = root;
		ps.cur = root;
		r = parse_document(&ps);
		if (r == 0)
			r = finish(&ps);
	}
	parser_release(&ps);
	if (r < 0) {
		toml_doc_free(doc);
		return NULL;
	}
	return doc;
}

toml_doc *toml_parse(const char *buf, size_t len, toml_error *err)
{
	return parse(buf, len, err, NULL);
}

/* Reads up to cap bytes; 0 or an errno. */
static int read_fd(int fd, char *buf, size_t cap, size_t *len)
{
	while (*len < cap) {
		ssize_t n = read(fd, buf + *len, cap - *len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		if (n == 0)
			break;
		*len += (size_t)n;
	}
	return 0;
}

toml_doc *toml_parse_file(const char *path, toml_error *err)
{
	toml_error dummy;
	toml_doc *doc = NULL;
	struct stat st;
	size_t len = 0, cap = 65536;
	char *buf = NULL;
	int fd, e = 0;

	if (!err)
		err = &dummy;
	err->pos = (toml_pos){ 0, 0 };
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err->message, sizeof err->message, "cannot open %s: %s",
			 path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
	    (uintmax_t)st.st_size < SIZE_MAX / 2) {
		/* A mapping of its own, for give_back(). */
		cap = (size_t)st.st_size;
		buf = mmap(NULL, cap, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (buf == MAP_FAILED) {
			e = errno;
		} else {
			e = read_fd(fd, buf, cap, &len);
			if (!e)
				doc = parse(buf, len, err, buf);
			munmap(buf, cap);
		}
	} else {
		/* A pipe or a special file: no size to go by. */
		for (;;) {
			char *p = realloc(buf, cap);

			if (!p) {
				e = ENOMEM;
				break;
			}
			buf = p;
			e = read_fd(fd, buf, cap, &len);
			if (e || len < cap)
				break;
			if (cap > SIZE_MAX / 2) {
				e = EFBIG;
				break;
			}
			cap *= 2;
		}
		if (!e)
			doc = parse(buf, len, err, NULL);
		free(buf);
	}
	close(fd);
	if (e) {
		err->pos = (toml_pos){ 0, 0 };
		snprintf(err->message, sizeof err->message, "cannot read %s: %s",
			 path, strerror(e));
	}
	return doc;
}

void toml_doc_free(toml_doc *doc)
{
	size_t i;

	if (!doc)
		return;
	for (i = 0; i < doc->ntabs; i++) {
		free(doc->tabs[i]->e);
		free(doc->tabs[i]->idx);
	}
	for (i = 0; i < doc->narrs; i++)
		free(arr_items(doc->arrs[i]));
	free(doc->tabs);
	free(doc->arrs);
	free(doc->keys.str);
	free(doc->keys.slot);
	arena_release(&doc->mem);
	free(doc);
}

/* --- reading the tree --- */

const toml_value *toml_doc_root(const toml_doc *doc)
{
	return &doc->root;
}

toml_type toml_value_type(const toml_value *v)
{
	switch (type_of(v)) {
	case T_SHORT_STRING:
		return TOML_STRING;
	case T_OFFSET_DATETIME_X:
		return TOML_OFFSET_DATETIME;
	case T_LOCAL_DATETIME_X:
		return TOML_LOCAL_DATETIME;
	case T_LOCAL_TIME_X:
		return TOML_LOCAL_TIME;
	}
	return (toml_type)type_of(v);
}

toml_pos toml_value_pos(const toml_value *v)
{
	return (toml_pos){ v->tl & LINE_MASK, v->col };
}

const char *toml_type_name(toml_type t)
{
	switch (t) {
	case TOML_TABLE: return "table";
	case TOML_ARRAY: return "array";
	case TOML_STRING: return "string";
	case TOML_INTEGER: return "integer";
	case TOML_FLOAT: return "float";
	case TOML_BOOLEAN: return "boolean";
	case TOML_OFFSET_DATETIME: return "offset date-time";
	case TOML_LOCAL_DATETIME: return "local date-time";
	case TOML_LOCAL_DATE: return "local date";
	case TOML_LOCAL_TIME: return "local time";
	}
	return "unknown";
}

static const struct tab *as_tab(const toml_value *v)
{
	return v && type_of(v) == TOML_TABLE ? v->u.t : NULL;
}

static const struct entry *lookup(const struct tab *t, const char *s, size_t n)
{
	int64_t id, k;

	if (!t)
		return NULL;
	id = keys_find(&t->doc->keys, s, n, hash_bytes(s, n));
	if (id < 0)
		return NULL;
	k = tab_find(t, (uint32_t)id);
	return k < 0 ? NULL : &t->e[k];
}

size_t toml_table_len(const toml_value *table)
{
	const struct tab *t = as_tab(table);

	return t ? t->len : 0;
}

const toml_value *toml_table_at(const toml_value *table, size_t i,
				const char **key, toml_pos *key_pos)
{
	const struct tab *t = as_tab(table);

	if (!t || i >= t->len)
		return NULL;
	if (key)
		*key = t->doc->keys.str[t->e[i].key];
	if (key_pos)
		*key_pos = entry_pos(&t->e[i]);
	return &t->e[i].v;
}

size_t toml_table_key_len(const toml_value *table, size_t i)
{
	const struct tab *t = as_tab(table);

	if (!t || i >= t->len)
		return 0;
	return key_len(t->doc->keys.str[t->e[i].key]);
}

const toml_value *toml_table_get(const toml_value *table, const char *key)
{
	const struct entry *e = lookup(as_tab(table), key, strlen(key));

	return e ? &e->v : NULL;
}

bool toml_table_key_pos(const toml_value *table, const char *key,
			toml_pos *pos)
{
	const struct entry *e = lookup(as_tab(table), key, strlen(key));

	if (!e)
		return false;
	if (pos)
		*pos = entry_pos(e);
	return true;
}

const toml_value *toml_table_get_path(const toml_value *table,
				      const char *path)
{
	const toml_value *v = table;
	const char *s = path;

	for (;;) {
		const char *dot = strchr(s, '.');
		size_t n = dot ? (size_t)(dot - s) : strlen(s);
		const struct entry *e = lookup(as_tab(v), s, n);

		if (!e)
			return NULL;
		v = &e->v;
		if (!dot)
			return v;
		s = dot + 1;
	}
}

size_t toml_array_len(const toml_value *array)
{
	return array && type_of(array) == TOML_ARRAY ? array->u.a->len : 0;
}

const toml_value *toml_array_at(const toml_value *array, size_t i)
{
	if (!array || type_of(array) != TOML_ARRAY || i >= array->u.a->len)
		return NULL;
	return &arr_items(array->u.a)[i];
}

const char *toml_value_string(const toml_value *v, size_t *len)
{
	if (!v)
		return NULL;
	if (type_of(v) == T_SHORT_STRING) {
		if (len)
			*len = 7 - (size_t)v->u.sso[7];
		return v->u.sso;
	}
	if (type_of(v) != TOML_STRING)
		return NULL;
	if (len)
		*len = key_len(v->u.s);
	return v->u.s;
}

bool toml_value_int(const toml_value *v, int64_t *out)
{
	if (!v || type_of(v) != TOML_INTEGER)
		return false;
	*out = v->u.i;
	return true;
}

bool toml_value_float(const toml_value *v, double *out)
{
	if (v && type_of(v) == TOML_FLOAT) {
		*out = v->u.f;
		return true;
	}
	if (v && type_of(v) == TOML_INTEGER) {
		*out = (double)v->u.i;
		return true;
	}
	return false;
}

bool toml_value_bool(const toml_value *v, bool *out)
{
	if (!v || type_of(v) != TOML_BOOLEAN)
		return false;
	*out = v->u.b;
	return true;
}

bool toml_value_datetime(const toml_value *v, toml_datetime *out)
{
	if (!v)
		return false;
	switch (type_of(v)) {
	case TOML_OFFSET_DATETIME:
	case TOML_LOCAL_DATETIME:
	case TOML_LOCAL_DATE:
	case TOML_LOCAL_TIME:
		dt_unpack(v->u.dt, out);
		if (type_of(v) != TOML_OFFSET_DATETIME)
			out->offset_minutes = 0;
		return true;
	case T_OFFSET_DATETIME_X:
	case T_LOCAL_DATETIME_X:
	case T_LOCAL_TIME_X:
		*out = *v->u.dtx;
		return true;
	}
	return false;
}
