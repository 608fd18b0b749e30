/* nodekey.c -- the keys of a plan's executions and the hash key they are
 * made with (nodekey.h). */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blake2s.h"
#include "nodekey.h"

/* Options that do not change what a node does: editing them reruns
 * nothing.  A sweep's keys decide which trials there are; each trial's
 * parameters and seed are hashed instead.  The three the host reads as
 * numbers are hashed as it reads them (with the runner's default), and
 * items one by one. */
static const char *const nodekey_skipped[] = {
	"description", "estimate",    "max_parallel", "items",        "timeout",
	"retries",     "retry_delay", "matrix",       "objective",    "space",
	"search",      "repeat",      "max_trials",   "max_failures", "prune",
};

/* --- the hash key ---------------------------------------------------------- */

static int nodekey_read(uint8_t key[NODEKEY_KEY_SIZE], int fd, const char *path, char *why,
			size_t size)
{
	struct stat st;
	ssize_t got;

	if (fstat(fd, &st) < 0) {
		snprintf(why, size, "key %s: cannot read: %s", path, strerror(errno));
		return -1;
	}
	if (st.st_mode & 077) {
		snprintf(why, size, "key %s: mode %04o lets others read it (chmod 600 %s)", path,
			 (unsigned)(st.st_mode & 07777), path);
		return -1;
	}
	if (st.st_size != NODEKEY_KEY_SIZE) {
		snprintf(why, size,
			 "key %s: is %lld bytes, not %d (remove it: every result "
			 "journaled so far then reruns)",
			 path, (long long)st.st_size, NODEKEY_KEY_SIZE);
		return -1;
	}
	do
		got = pread(fd, key, NODEKEY_KEY_SIZE, 0);
	while (got < 0 && errno == EINTR);
	if (got != NODEKEY_KEY_SIZE) {
		snprintf(why, size, "key %s: cannot read: %s", path,
			 got < 0 ? strerror(errno) : "short read");
		return -1;
	}
	return 0;
}

/* A new key at tmp, linked to path: link() fails on a path that exists,
 * so of two first runs one makes the key and the other reads it.  1 when
 * another's key won, 0, or -1 with why. */
static int nodekey_make(uint8_t key[NODEKEY_KEY_SIZE], const char *path, const char *tmp, char *why,
			size_t size)
{
	size_t got = 0;
	int fd, rc = 0;

	while (got < NODEKEY_KEY_SIZE) {
		ssize_t n = getrandom(key + got, NODEKEY_KEY_SIZE - got, 0);

		if (n < 0 && errno != EINTR) {
			snprintf(why, size, "key %s: getrandom: %s", path, strerror(errno));
			return -1;
		}
		got += n > 0 ? (size_t)n : 0;
	}
	unlink(tmp); /* one a kill left */
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
		snprintf(why, size, "key %s: cannot create: %s", tmp, strerror(errno));
		return -1;
	}
	if (write(fd, key, NODEKEY_KEY_SIZE) != NODEKEY_KEY_SIZE || fsync(fd) < 0) {
		snprintf(why, size, "key %s: cannot write: %s", tmp, strerror(errno ? errno : EIO));
		rc = -1;
	}
	close(fd);
	if (rc == 0 && link(tmp, path) < 0) {
		if (errno == EEXIST)
			rc = 1;
		else {
			snprintf(why, size, "key %s: cannot create: %s", path, strerror(errno));
			rc = -1;
		}
	}
	unlink(tmp);
	return rc;
}

int nodekey_load(uint8_t key[NODEKEY_KEY_SIZE], const char *config_dir, char *why, size_t why_size)
{
	char path[4096], tmp[4200];
	int fd, rc, tries;

	if ((size_t)snprintf(path, sizeof path, "%s/%s", config_dir, NODEKEY_FILE) >= sizeof path) {
		snprintf(why, why_size, "key %s/%s: path too long", config_dir, NODEKEY_FILE);
		return -1;
	}
	snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
	for (tries = 0; tries < 2; tries++) {
		if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) >= 0) {
			rc = nodekey_read(key, fd, path, why, why_size);
			close(fd);
			return rc;
		}
		if (errno != ENOENT) {
			snprintf(why, why_size, "key %s: cannot read: %s", path, strerror(errno));
			return -1;
		}
		if ((rc = nodekey_make(key, path, tmp, why, why_size)) <= 0)
			return rc;
	}
	snprintf(why, why_size, "key %s: made by another run but cannot be read", path);
	return -1;
}

/* --- hashing a definition --------------------------------------------------- */

static void nodekey_start(blake2s *b, const uint8_t *key, char what)
{
	blake2s_init(b, 16, key, NODEKEY_KEY_SIZE);
	blake2s_update(b, &what, 1);
}

static journal_key nodekey_end(blake2s *b)
{
	uint8_t out[16];
	journal_key k = { 0, 0 };
	int i;

	blake2s_final(b, out);
	for (i = 0; i < 8; i++) {
		k.hi = k.hi << 8 | out[i];
		k.lo = k.lo << 8 | out[8 + i];
	}
	return k;
}

static void nodekey_u64(blake2s *b, uint64_t v)
{
	uint8_t le[8];
	int i;

	for (i = 0; i < 8; i++)
		le[i] = (uint8_t)(v >> (8 * i));
	blake2s_update(b, le, sizeof le);
}

/* A length first: "ab" + "c" never hashes as "a" + "bc". */
static void nodekey_text(blake2s *b, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	nodekey_u64(b, n);
	blake2s_update(b, s, n);
}

static void nodekey_key(blake2s *b, journal_key k)
{
	nodekey_u64(b, k.hi);
	nodekey_u64(b, k.lo);
}

typedef struct nodekey_entry {
	const char *key;
	const assay_value *v;
} nodekey_entry;

static int nodekey_entry_cmp(const void *a, const void *b)
{
	return strcmp(((const nodekey_entry *)a)->key, ((const nodekey_entry *)b)->key);
}

/* A table's entries sorted by key (the file's order does not matter), in
 * out when it is large enough, else malloc'd; NULL when out of memory. */
static nodekey_entry *nodekey_sorted(const assay_value *t, nodekey_entry *out, size_t cap)
{
	size_t i, n = value_len(t);
	nodekey_entry *e = n <= cap ? out : malloc(n * sizeof *e);

	if (!e)
		return NULL;
	for (i = 0; i < n; i++)
		e[i].v = value_at(t, i, &e[i].key);
	qsort(e, n, sizeof *e, nodekey_entry_cmp);
	return e;
}

/* A value as the host reads it: a tag, then its contents; strings after
 * interpolation.  0 or ASSAY_ENOMEM. */
static int nodekey_value(blake2s *b, const assay_value *v)
{
	nodekey_entry small[16], *e;
	toml_datetime dt;
	int64_t i64;
	double d;
	bool yes;
	size_t i, n = value_len(v);
	uint8_t tag = (uint8_t)value_type(v);

	blake2s_update(b, &tag, 1);
	switch (value_type(v)) {
	case ASSAY_VALUE_TABLE:
		if (!(e = nodekey_sorted(v, small, 16)))
			return ASSAY_ENOMEM;
		nodekey_u64(b, n);
		for (i = 0; i < n; i++) {
			nodekey_text(b, e[i].key);
			if (nodekey_value(b, e[i].v) < 0)
				break;
		}
		if (e != small)
			free(e);
		return i == n ? 0 : ASSAY_ENOMEM;
	case ASSAY_VALUE_ARRAY:
		nodekey_u64(b, n);
		for (i = 0; i < n; i++)
			if (nodekey_value(b, value_at(v, i, NULL)) < 0)
				return ASSAY_ENOMEM;
		return 0;
	case ASSAY_VALUE_STRING:
		nodekey_text(b, value_string(v));
		return 0;
	case ASSAY_VALUE_INTEGER:
		value_int(v, &i64);
		nodekey_u64(b, (uint64_t)i64);
		return 0;
	case ASSAY_VALUE_FLOAT:
		value_float(v, &d);
		blake2s_update(b, &d, sizeof d);
		return 0;
	case ASSAY_VALUE_BOOLEAN:
		value_bool(v, &yes);
		nodekey_u64(b, yes);
		return 0;
	default: /* a date-time, of one of the four kinds */
		memset(&dt, 0, sizeof dt);
		toml_value_datetime(v->src, &dt);
		nodekey_u64(b, (uint64_t)toml_value_type(v->src));
		nodekey_u64(b, (uint64_t)dt.year << 40 | (uint64_t)dt.month << 32 |
				       (uint64_t)dt.day << 24 | (uint64_t)dt.hour << 16 |
				       (uint64_t)dt.minute << 8 | (uint64_t)dt.second);
		nodekey_u64(b,
			    (uint64_t)(uint32_t)dt.nanosecond << 32 | (uint32_t)dt.offset_minutes);
		return 0;
	}
}

static bool nodekey_is_skipped(const char *key)
{
	size_t i;

	for (i = 0; i < sizeof nodekey_skipped / sizeof *nodekey_skipped; i++)
		if (strcmp(key, nodekey_skipped[i]) == 0)
			return true;
	return false;
}

/* The parts of node n's definition, into out (room for value_len(table)
 * + 6); how many, or ASSAY_ENOMEM. */
static long nodekey_node_parts(const plan *p, const plan_node *n, const uint8_t *key,
			       nodekey_part *out)
{
	nodekey_entry small[16], *e = NULL;
	size_t i, k = 0, len = n->table ? value_len(n->table) : 0;
	blake2s b;

	nodekey_start(&b, key, 'y');
	nodekey_text(&b, n->type_name);
	nodekey_u64(&b, n->kind);
	out[k++] = (nodekey_part){ "type", nodekey_end(&b) };
	if (len && !(e = nodekey_sorted(n->table, small, 16)))
		return ASSAY_ENOMEM;
	for (i = 0; i < len; i++) {
		if (nodekey_is_skipped(e[i].key) || strcmp(e[i].key, "type") == 0)
			continue;
		nodekey_start(&b, key, 'o');
		if (nodekey_value(&b, e[i].v) < 0)
			break;
		out[k++] = (nodekey_part){ e[i].key, nodekey_end(&b) };
	}
	if (e != small)
		free(e);
	if (i < len)
		return ASSAY_ENOMEM;
	nodekey_start(&b, key, 't');
	nodekey_u64(&b, (uint64_t)(n->timeout_ms ? n->timeout_ms : p->timeout_ms));
	out[k++] = (nodekey_part){ "timeout", nodekey_end(&b) };
	nodekey_start(&b, key, 'r');
	nodekey_u64(&b, n->retries);
	nodekey_u64(&b, (uint64_t)n->retry_delay_ms);
	out[k++] = (nodekey_part){ "retries", nodekey_end(&b) };
	if (n->sweep != PLAN_NONE) {
		nodekey_start(&b, key, 'p');
		nodekey_u64(&b, n->n_params);
		for (i = 0; i < n->n_params; i++) {
			nodekey_text(&b, n->params[i].name);
			nodekey_text(&b, n->params[i].value);
		}
		nodekey_u64(&b, n->seed);
		out[k++] = (nodekey_part){ "params", nodekey_end(&b) };
	}
	return (long)k;
}

int nodekey_order(const void *a, const void *b)
{
	return nodekey_cmp(*(const journal_key *)a, *(const journal_key *)b);
}

/* Node i's key from its parts and its dependencies' keys (computed
 * before it: the graph's order), and its items'. */
static int nodekey_node(nodekeys *k, const plan *p, const graph *g, size_t i, const uint8_t *key)
{
	const plan_node *n = &p->nodes[i];
	size_t j, n_deps = g->pred_at[i + 1] - g->pred_at[i];
	journal_key *deps = malloc((n_deps ? n_deps : 1) * sizeof *deps), def;
	blake2s b, prefix;

	if (!deps)
		return ASSAY_ENOMEM;
	for (j = 0; j < n_deps; j++)
		deps[j] = k->nodes[g->pred[g->pred_at[i] + j]];
	/* Sorted: moving a node in the file changes nothing. */
	qsort(deps, n_deps, sizeof *deps, nodekey_order);
	/* The id too: two nodes of one definition are two executions, each
	 * with its own result. */
	nodekey_start(&b, key, 'n');
	nodekey_text(&b, n->id);
	nodekey_u64(&b, k->part_at[i + 1] - k->part_at[i]);
	for (j = k->part_at[i]; j < k->part_at[i + 1]; j++) {
		nodekey_text(&b, k->parts[j].name);
		nodekey_key(&b, k->parts[j].hash);
	}
	nodekey_u64(&b, n_deps);
	for (j = 0; j < n_deps; j++)
		nodekey_key(&b, deps[j]);
	free(deps);
	def = nodekey_end(&b);
	if (n->kind != ASSAY_KIND_VALIDATION) {
		k->nodes[i] = def;
		return 0;
	}
	/* The key's block compressed once, not once per item: 100,000 items
	 * hash in half the time. */
	nodekey_start(&prefix, key, 'i');
	nodekey_key(&prefix, def);
	for (j = 0; j < n->n_items; j++) {
		b = prefix;
		nodekey_text(&b, n->items[j]);
		k->items[k->item_at[i] + j] = nodekey_end(&b);
	}
	nodekey_start(&b, key, 'v');
	nodekey_key(&b, def);
	nodekey_u64(&b, n->n_items);
	for (j = 0; j < n->n_items; j++)
		nodekey_key(&b, k->items[k->item_at[i] + j]);
	k->nodes[i] = nodekey_end(&b);
	return 0;
}

/* The offsets of each node's parts and items, and room for them. */
static int nodekeys_alloc(nodekeys *k, const plan *p)
{
	size_t i, parts = 0, items = 0;

	k->n_nodes = p->n_nodes;
	k->item_at = malloc((p->n_nodes + 1) * sizeof *k->item_at);
	k->part_at = malloc((p->n_nodes + 1) * sizeof *k->part_at);
	k->nodes = malloc((p->n_nodes ? p->n_nodes : 1) * sizeof *k->nodes);
	if (!k->item_at || !k->part_at || !k->nodes)
		return ASSAY_ENOMEM;
	for (i = 0; i < p->n_nodes; i++) {
		items += p->nodes[i].kind == ASSAY_KIND_VALIDATION ? p->nodes[i].n_items : 0;
		parts += (p->nodes[i].table ? value_len(p->nodes[i].table) : 0) + 6;
	}
	k->items = malloc((items ? items : 1) * sizeof *k->items);
	k->parts = malloc(parts * sizeof *k->parts + 1);
	return k->items && k->parts ? 0 : ASSAY_ENOMEM;
}

int nodekeys_compute(nodekeys *k, const plan *p, const graph *g,
		     const uint8_t key[NODEKEY_KEY_SIZE])
{
	size_t i, at = 0, parts = 0;

	memset(k, 0, sizeof *k);
	if (nodekeys_alloc(k, p) < 0)
		return ASSAY_ENOMEM;
	for (i = 0; i < p->n_nodes; i++) {
		long n = nodekey_node_parts(p, &p->nodes[i], key, k->parts + parts);

		if (n < 0)
			return ASSAY_ENOMEM;
		k->part_at[i] = parts;
		parts += (size_t)n;
		k->item_at[i] = at;
		at += p->nodes[i].kind == ASSAY_KIND_VALIDATION ? p->nodes[i].n_items : 0;
	}
	k->part_at[p->n_nodes] = parts;
	k->item_at[p->n_nodes] = at;
	for (i = 0; i < p->n_nodes; i++)
		if (nodekey_node(k, p, g, g->order[i], key) < 0)
			return ASSAY_ENOMEM;
	return 0;
}

void nodekeys_release(nodekeys *k)
{
	free(k->nodes);
	free(k->items);
	free(k->item_at);
	free(k->parts);
	free(k->part_at);
	memset(k, 0, sizeof *k);
}

char *nodekey_hex(journal_key k, char out[NODEKEY_HEX_SIZE])
{
	snprintf(out, NODEKEY_HEX_SIZE, "%016llx%016llx", (unsigned long long)k.hi,
		 (unsigned long long)k.lo);
	return out;
}

int nodekey_parse(const char *hex, journal_key *out)
{
	char half[17];
	char *end;
	size_t i;

	for (i = 0; i < 32; i++)
		if (!strchr("0123456789abcdef", hex[i]) || !hex[i])
			return -1;
	memcpy(half, hex, 16);
	half[16] = '\0';
	out->hi = strtoull(half, &end, 16);
	out->lo = strtoull(hex + 16, &end, 16);
	return end == hex + 32 ? 0 : -1;
}
