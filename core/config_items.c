/* config_items.c -- a validation's items: from a glob, a list, or a file
 * of one item a line. */
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

static int add_item(plan_node *n, size_t *cap, const char *s, size_t len)
{
	if (config_grow(&n->items, cap, n->n_items, sizeof *n->items) < 0 ||
	    !(n->items[n->n_items] = strndup(s, len)))
		return ASSAY_ENOMEM;
	n->n_items++;
	return 0;
}

static int items_from_list(plan_node *n, size_t *cap, const assay_value *list)
{
	size_t i;
	int rc = 0;

	if (!config_string_array(list, false))
		return ITEMS_REPORTED;
	for (i = 0; i < value_len(list) && rc == 0; i++) {
		const char *s = value_string(value_at(list, i, NULL));

		rc = add_item(n, cap, s, strlen(s));
	}
	return rc;
}

static int items_from_glob(plan *p, plan_node *n, size_t *cap, const assay_value *glob_v)
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
		rc = add_item(n, cap, g.gl_pathv[i], strlen(g.gl_pathv[i]));
	if (grc == 0)
		globfree(&g);
	return rc;
}

/* One item a line; blank lines and # comments are not items. */
static int items_from_file(plan *p, plan_node *n, size_t *cap, const assay_value *file)
{
	char *path, *line = NULL;
	size_t line_cap = 0;
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

		while (len && (s[len - 1] == '\n' || s[len - 1] == '\r' ||
			       s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		while (len && (*s == ' ' || *s == '\t'))
			s++, len--;
		if (len && *s != '#')
			rc = add_item(n, cap, s, (size_t)len);
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
	size_t i, cap = 0;
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
		rc = items_from_list(n, &cap, list);
	else if (glob_v)
		rc = items_from_glob(p, n, &cap, glob_v);
	else
		rc = items_from_file(p, n, &cap, file);
	if (rc == 0 && n->n_items == 0 && !allow_empty)
		value_error(t, "`items` of `%s` is empty (set allow_empty = true if that is expected)",
			    n->id);
	return rc < 0 ? rc : 0;
}
