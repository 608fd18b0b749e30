/* config_items.c -- a validation's items: from a glob, a list, or a file
 * of one item a line; read once, and kept in one buffer with an index. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_read.h"

/* What reading the items returns when it reported why it could not: the
 * items are then not said to be empty as well. */
#define ITEMS_REPORTED 1

/* The items as they are read: their texts one after another, each with
 * its NUL, and where each starts (offsets: the text moves as it grows).
 * A node keeps the text and an index into it -- one allocation for
 * 100,000 items, not one each. */
typedef struct items_buf {
	char *text;
	size_t len, cap;
	size_t *at;
	size_t n, n_cap;
} items_buf;

static int add_item(items_buf *b, const char *s, size_t len)
{
	if (b->cap - b->len < len + 1) {
		size_t want = b->cap ? b->cap * 2 : 4096;
		char *grown;

		while (want - b->len < len + 1)
			want *= 2;
		if (!(grown = realloc(b->text, want)))
			return ASSAY_ENOMEM;
		b->text = grown;
		b->cap = want;
	}
	if (config_grow(&b->at, &b->n_cap, b->n, sizeof *b->at) < 0)
		return ASSAY_ENOMEM;
	memcpy(b->text + b->len, s, len);
	b->text[b->len + len] = '\0';
	b->at[b->n++] = b->len;
	b->len += len + 1;
	return 0;
}

/* The items into n: the text trimmed to its size, and the index. */
static int items_store(plan_node *n, items_buf *b)
{
	char *text;
	size_t i;

	if (b->n == 0)
		return 0;
	if ((text = realloc(b->text, b->len)))
		b->text = text;
	if (!(n->items = malloc(b->n * sizeof *n->items)))
		return ASSAY_ENOMEM;
	for (i = 0; i < b->n; i++)
		n->items[i] = b->text + b->at[i];
	n->items_text = b->text;
	n->n_items = b->n;
	b->text = NULL;
	return 0;
}

static int items_from_list(items_buf *b, const assay_value *list)
{
	size_t i;
	int rc = 0;

	if (!config_string_array(list, false))
		return ITEMS_REPORTED;
	for (i = 0; i < value_len(list) && rc == 0; i++) {
		const char *s = value_string(value_at(list, i, NULL));

		rc = add_item(b, s, strlen(s));
	}
	return rc;
}

static int items_from_glob(items_buf *b, const assay_value *glob_v)
{
	glob_t g;
	char *pattern;
	size_t i;
	int grc, rc = 0;

	if (!config_want(glob_v, ASSAY_VALUE_STRING, "a string"))
		return ITEMS_REPORTED;
	if (!(pattern = value_path(glob_v, value_string(glob_v))))
		return ASSAY_ENOMEM;
	grc = glob(pattern, 0, NULL, &g);
	free(pattern);
	if (grc == GLOB_NOSPACE)
		return ASSAY_ENOMEM;
	if (grc == GLOB_ABORTED)
		value_error(glob_v, "cannot read the directories of `%s`", value_string(glob_v));
	for (i = 0; grc == 0 && i < g.gl_pathc && rc == 0; i++)
		rc = add_item(b, g.gl_pathv[i], strlen(g.gl_pathv[i]));
	if (grc == 0)
		globfree(&g);
	return rc;
}

/* One item a line; blank lines and # comments are not items.  A NUL
 * byte would cut an item short without a word: the line is named. */
static int items_from_file(items_buf *b, const assay_value *file)
{
	char *path, *line = NULL;
	size_t line_cap = 0, line_no = 0;
	ssize_t len;
	FILE *f;
	int rc = 0;

	if (!config_want(file, ASSAY_VALUE_STRING, "a string"))
		return ITEMS_REPORTED;
	if (!(path = value_path(file, value_string(file))))
		return ASSAY_ENOMEM;
	f = fopen(path, "re");
	free(path);
	if (!f) {
		value_error(file, "cannot read `%s`: %s", value_string(file), strerror(errno));
		return ITEMS_REPORTED;
	}
	while (rc == 0 && (len = getline(&line, &line_cap, f)) >= 0) {
		char *s = line;

		line_no++;
		if (memchr(line, '\0', (size_t)len)) {
			value_error(file, "`%s`, line %zu: an item holds a NUL byte",
				    value_string(file), line_no);
			rc = ITEMS_REPORTED;
			break;
		}
		while (len && (s[len - 1] == '\n' || s[len - 1] == '\r' ||
			       s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		while (len && (*s == ' ' || *s == '\t'))
			s++, len--;
		if (len && *s != '#')
			rc = add_item(b, s, (size_t)len);
	}
	if (rc == 0 && ferror(f)) {
		value_error(file, "cannot read `%s`: %s", value_string(file), strerror(errno));
		rc = ITEMS_REPORTED;
	}
	free(line);
	fclose(f);
	return rc;
}

int config_items_load(plan *p, plan_node *n, const assay_value *t)
{
	const assay_value *glob_v = value_get(t, "glob"), *list = value_get(t, "list"),
			  *file = value_get(t, "file"), *empty = value_get(t, "allow_empty");
	static const char *const item_keys[] = { "glob", "list", "file", "allow_empty" };
	bool allow_empty = false;
	items_buf b = { 0 };
	size_t i;
	int rc;

	for (i = 0; i < value_len(t); i++) {
		const assay_value *v = value_at(t, i, NULL);

		if (!config_is_key(v->key, item_keys, N(item_keys)))
			config_unknown_key(v, "`items`", item_keys, N(item_keys), NULL, 0);
	}
	if (!!glob_v + !!list + !!file != 1) {
		value_error(t, "`items` needs exactly one of `glob`, `list` or `file`");
		return 0;
	}
	if (empty && config_want(empty, ASSAY_VALUE_BOOLEAN, "true or false"))
		value_bool(empty, &allow_empty);
	if (list)
		rc = items_from_list(&b, list);
	else if (glob_v)
		rc = items_from_glob(&b, glob_v);
	else
		rc = items_from_file(&b, file);
	if (rc == 0)
		rc = items_store(n, &b);
	free(b.text);
	free(b.at);
	if (rc == 0 && n->n_items == 0 && !allow_empty)
		value_error(t, "`items` of `%s` is empty (set allow_empty = true if that is expected)",
			    n->id);
	return rc < 0 ? rc : 0;
}
