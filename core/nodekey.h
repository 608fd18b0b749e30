/* nodekey.h -- the key of every execution of a plan: what names it in the
 * journal (journal.h), so that a result is reused only by the very thing
 * that produced it.
 *
 * A node's key hashes its id and its resolved definition -- type, kind, every option
 * of its table in key order with ${env:} and ${file:} resolved, the
 * effective timeout, retries and retry delay, a trial's parameters and
 * seed -- and the keys of what it waits for: changing a node changes its
 * key and its dependents', and no other.  What does not change what a
 * node does is left out: `description`, `estimate`, `max_parallel`, and
 * a sweep's own keys (matrix, space, search, ...: a trial's parameters
 * say what it runs).  An item's key is its validation's definition and
 * the item's text; the validation's own key covers every item.
 *
 * Keys are BLAKE2s-128 keyed with 32 random bytes kept in the config's
 * state dir (file `key`, 0600): a secret interpolated into an option
 * enters the hash, and without that file nothing in the journal lets
 * anyone test a guess of it. */
#ifndef ASSAY_NODEKEY_H
#define ASSAY_NODEKEY_H

#include <stddef.h>
#include <stdint.h>

#include "graph.h"
#include "journal.h"
#include "plan.h"

#define NODEKEY_FILE "key"
#define NODEKEY_KEY_SIZE 32

/* One part of a node's definition, hashed alone: what --explain names
 * when a key changed ("command", "timeout", "params", "after"). */
typedef struct nodekey_part {
	const char *name;         /* an option's key (the plan's), or the host's word */
	journal_key hash;
} nodekey_part;

/* Every key of a plan. */
typedef struct nodekeys {
	journal_key *nodes;       /* per plan node */
	journal_key *items;       /* every validation's items, node by node */
	size_t *item_at;          /* node i's items: items[item_at[i] .. item_at[i + 1]) */
	nodekey_part *parts;      /* node i's: parts[part_at[i] .. part_at[i + 1]) */
	size_t *part_at;
	size_t n_nodes;
} nodekeys;

/* The hash key of the config whose directory is config_dir: read from its
 * file `key`, or made (getrandom(), written 0600 to a temporary name and
 * linked into place, so that two first runs agree on one).  0, or -1 with
 * why ("key /x/key: cannot read: Permission denied"; "... is 12 bytes,
 * not 32": a damaged key is never replaced silently). */
int nodekey_load(uint8_t key[NODEKEY_KEY_SIZE], const char *config_dir, char *why,
		 size_t why_size);

/* Every node's and item's key of p (its graph g), hashed with key.  0 or
 * ASSAY_ENOMEM; nodekeys_release() always. */
int nodekeys_compute(nodekeys *k, const plan *p, const graph *g,
		     const uint8_t key[NODEKEY_KEY_SIZE]);
void nodekeys_release(nodekeys *k);

static inline journal_key nodekeys_item(const nodekeys *k, size_t node, size_t item)
{
	return k->items[k->item_at[node] + item];
}

static inline int nodekey_cmp(journal_key a, journal_key b)
{
	if (a.hi != b.hi)
		return a.hi < b.hi ? -1 : 1;
	return a.lo < b.lo ? -1 : a.lo > b.lo;
}

/* nodekey_cmp() for qsort() and bsearch() of journal_key arrays. */
int nodekey_order(const void *a, const void *b);

/* 32 hex digits and a NUL. */
#define NODEKEY_HEX_SIZE 33
char *nodekey_hex(journal_key k, char out[NODEKEY_HEX_SIZE]);
/* The hex nodekey_hex() writes, back: 0, or -1 when it is not that. */
int nodekey_parse(const char *hex, journal_key *out);

#endif /* ASSAY_NODEKEY_H */
