/* value.h -- configuration values as the host and plugins read them: the
 * TOML tree with ${env:NAME} and ${file:PATH} (and their public- forms)
 * interpolated, strings with a secret in them marked secret, every value
 * keeping file:line:column. */
#ifndef ASSAY_VALUE_H
#define ASSAY_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "assay/plugin.h"
#include "diag.h"
#include "toml.h"

typedef struct value_tree value_tree;

struct assay_value {
	const toml_value *src;
	const char *key;        /* in the parent table; NULL for array elements */
	toml_pos key_pos;
	const char *str;        /* strings: after interpolation (the document's own
				 * bytes when there was nothing to interpolate) */
	bool secret;            /* str holds secret interpolated text */
	bool unresolved;        /* an interpolation failed (reported): errors
				 * about the value that results are knock-on,
				 * and dropped */
	assay_value_type type;  /* src's, read without a call into the parser */
	size_t n;               /* array elements or table entries */
	struct assay_value *items;
	value_tree *tree;
};

struct value_tree {
	assay_value root;
	char *file;             /* as given on the command line */
	char *dir;              /* its directory: base of relative ${file:...} */
	diag *diag;             /* where value_error() reports */
	char **secrets;         /* every secret interpolated text, for masking */
	size_t n_secrets;
	arena mem;              /* every value's items and interpolated string */
};

/* Mirror the document under root, interpolating every string.  Each
 * failed interpolation is reported to d; returns the number of errors
 * (0: the tree is complete) or ASSAY_ENOMEM.  The tree borrows root: the
 * toml_doc must outlive it.  Release with value_tree_release() either way. */
int value_tree_build(value_tree *t, const toml_value *root, const char *file,
		     diag *d);
void value_tree_release(value_tree *t);

assay_value_type value_type(const assay_value *v);
const char *value_type_name(const assay_value *v);
void value_pos(const assay_value *v, const char **file, unsigned *line,
	       unsigned *column);
const char *value_key(const assay_value *v);
const char *value_string(const assay_value *v);
bool value_secret(const assay_value *v);
int value_int(const assay_value *v, int64_t *out);
int value_float(const assay_value *v, double *out);
int value_bool(const assay_value *v, bool *out);
int value_duration_ms(const assay_value *v, int64_t *out);
size_t value_len(const assay_value *v);
const assay_value *value_at(const assay_value *v, size_t i, const char **key);
const assay_value *value_get(const assay_value *table, const char *key);
void value_error(const assay_value *v, const char *fmt, ...) ASSAY_PRINTF(2, 3);
/* An error at v's key rather than its value, when the key is what is
 * wrong ("unknown key `tiemout`"); at the value for an array element. */
void value_key_error(const assay_value *v, const char *fmt, ...) ASSAY_PRINTF(2, 3);

/* A path written in v's file as the config reads it: relative to the
 * directory of that file, unless absolute.  malloc'd, NULL when out of
 * memory.  The one rule for every path of a config (${file:...},
 * `items`, [plugins] path and load, a plugin's own). */
char *value_path(const assay_value *v, const char *path);

#endif /* ASSAY_VALUE_H */
