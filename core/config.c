/* config.c -- configuration file to plan: the file, [runner], [plugins],
 * and the entry point that reads the nodes (config_tree.c and the files
 * it uses) and indexes the plan.  Prepare is config_prepare.c's. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bigarray.h"
#include "config.h"
#include "config_read.h"
#include "option.h"
#include "statedir.h"

static const char *const top_keys[] = { "runner", "plugins", "check", "trial", "validation" };
static const char *const runner_keys[] = { "jobs",	   "workers",	     "timeout",
					    "state_dir",   "keep_runs",	     "fail_fast",
					    "journal",	   "journal_sync",   "resume_max_age" };
/* journal_sync's words, in journal_sync's order (journal.h). */
static const char *const journal_syncs[] = { "batch", "run", "never" };
static const char *const plugins_keys[] = { "load", "path" };

static void load_runner(plan *p, const assay_value *t)
{
	size_t i;

	if (!config_want(t, ASSAY_VALUE_TABLE, "a table"))
		return;
	for (i = 0; i < value_len(t); i++) {
		const char *key;
		const assay_value *v = value_at(t, i, &key);

		if (strcmp(key, "jobs") == 0)
			config_get_uint(v, 1, 1000000, &p->jobs);
		else if (strcmp(key, "workers") == 0)
			config_get_uint(v, 1, 1024, &p->workers);
		else if (strcmp(key, "timeout") == 0)
			config_get_duration(v, false, &p->timeout_ms);
		else if (strcmp(key, "fail_fast") == 0) {
			if (config_want(v, ASSAY_VALUE_BOOLEAN, "true or false"))
				value_bool(v, &p->fail_fast);
		} else if (strcmp(key, "state_dir") == 0) {
			/* Relative to the file's directory, as every path in it;
			 * "" is none (the environment's). */
			if (config_want(v, ASSAY_VALUE_STRING, "a string")) {
				free(p->state_dir);
				p->state_dir = *value_string(v) ? value_path(v, value_string(v))
								: NULL;
			}
		} else if (strcmp(key, "keep_runs") == 0) {
			config_get_uint(v, 0, 1000000, &p->keep_runs);
		} else if (strcmp(key, "journal") == 0) {
			if (config_want(v, ASSAY_VALUE_BOOLEAN, "true or false"))
				value_bool(v, &p->journal);
		} else if (strcmp(key, "journal_sync") == 0) {
			int c = option_choice(v, NULL, journal_syncs, N(journal_syncs));

			if (c >= 0)
				p->journal_sync = (unsigned)c;
		} else if (strcmp(key, "resume_max_age") == 0) {
			config_get_duration(v, false, &p->resume_max_age_ms);
		} else
			config_unknown_key(v, "[runner]", runner_keys, N(runner_keys), NULL, 0);
	}
}

static bool loads_plugin(const plan *p, const char *name)
{
	size_t i;

	for (i = 0; p->load && i < value_len(p->load); i++) {
		const char *s = value_string(value_at(p->load, i, NULL)), *base;
		size_t len;

		if (!s)
			continue;
		/* A path loads the plugin named by its file: .../gpu.so is gpu. */
		base = strrchr(s, '/') ? strrchr(s, '/') + 1 : s;
		len = strcspn(base, ".");
		if (strlen(name) == len && strncmp(base, name, len) == 0)
			return true;
	}
	return false;
}

static void load_plugins(plan *p, const assay_value *t)
{
	size_t i;

	if (!config_want(t, ASSAY_VALUE_TABLE, "a table"))
		return;
	p->plugins = t;
	for (i = 0; i < value_len(t); i++) {
		const char *key;
		const assay_value *v = value_at(t, i, &key);

		if (strcmp(key, "load") == 0) {
			if (config_string_array(v, false))
				p->load = v;
		} else if (strcmp(key, "path") == 0) {
			if (config_string_array(v, true))
				p->plugin_path = v;
		} else if (value_type(v) != ASSAY_VALUE_TABLE)
			config_unknown_key(v, "[plugins]", plugins_keys, N(plugins_keys), NULL, 0);
	}
	/* Options for a plugin that is not loaded would be silently ignored. */
	for (i = 0; i < value_len(t); i++) {
		const char *key;
		const assay_value *v = value_at(t, i, &key);

		if (value_type(v) == ASSAY_VALUE_TABLE && !loads_plugin(p, key))
			value_key_error(v, "[plugins.%s] configures a plugin that is not in `load`", key);
	}
}

typedef struct node_order {
	toml_pos pos;
	size_t index;
} node_order;

static int cmp_order(const void *a, const void *b)
{
	const node_order *x = a, *y = b;

	if (x->pos.line != y->pos.line)
		return x->pos.line < y->pos.line ? -1 : 1;
	if (x->pos.column != y->pos.column)
		return x->pos.column < y->pos.column ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* Whether the nodes are in the order of their tables already: a file of
 * one kind, or of kinds not interleaved, is. */
static bool in_declaration_order(const plan *p)
{
	size_t i;

	for (i = 1; i < p->n_nodes; i++) {
		toml_pos a = toml_value_pos(p->nodes[i - 1].table->src);
		toml_pos b = toml_value_pos(p->nodes[i].table->src);

		if (a.line > b.line || (a.line == b.line && a.column > b.column))
			return false;
	}
	return true;
}

/* Nodes were collected kind by kind; results are reported in the order the
 * file declares them, whatever their kind (a matrix's trials stay in
 * expansion order: they share one table). */
static int sort_declaration_order(plan *p)
{
	node_order *order;
	plan_node *sorted;
	size_t i;

	if (in_declaration_order(p))
		return 0;
	order = malloc((p->n_nodes ? p->n_nodes : 1) * sizeof *order);
	sorted = bigarray_new(p->n_nodes, sizeof *sorted);
	if (!order || !sorted) {
		free(order);
		bigarray_free(sorted, p->n_nodes, sizeof *sorted);
		return ASSAY_ENOMEM;
	}
	for (i = 0; i < p->n_nodes; i++) {
		order[i].pos = toml_value_pos(p->nodes[i].table->src);
		order[i].index = i;
	}
	qsort(order, p->n_nodes, sizeof *order, cmp_order);
	for (i = 0; i < p->n_nodes; i++)
		sorted[i] = p->nodes[order[i].index];
	free(order);
	bigarray_free(p->nodes, p->cap_nodes, sizeof *p->nodes);
	p->nodes = sorted;
	p->cap_nodes = p->n_nodes;
	return 0;
}

/* The tables under check, trial and validation.  Past PLAN_MAX_NODES
 * (reported) the rest is not read, but what was is indexed, so that
 * prepare reports what it can.  0 or ASSAY_ENOMEM. */
static int load_nodes(plan *p)
{
	const assay_value *root = &p->values.root;
	size_t i;
	int rc;

	if ((rc = config_tree_reserve(p, root)) < 0)
		return rc;
	for (i = 0; i < value_len(root); i++) {
		const char *key;
		const assay_value *v = value_at(root, i, &key);
		unsigned kind = strcmp(key, "check") == 0 ? ASSAY_KIND_CHECK
			      : strcmp(key, "trial") == 0 ? ASSAY_KIND_TRIAL
			      : strcmp(key, "validation") == 0 ? ASSAY_KIND_VALIDATION : 0;

		if (!kind)
			continue;
		if (!config_want(v, ASSAY_VALUE_TABLE, "a table"))
			continue;
		if ((rc = config_tree_load(p, kind, PLAN_NONE, v, 0)) < 0)
			return rc == ASSAY_ENOMEM ? rc : 0;
	}
	return 0;
}

int config_load_doc(plan *p, const toml_doc *doc, const char *path,
		    unsigned default_workers, diag *d)
{
	const assay_value *root;
	size_t i;
	int rc;

	memset(p, 0, sizeof *p);
	p->jobs = 64;
	p->workers = default_workers ? default_workers : 1;
	p->timeout_ms = 60000;
	p->keep_runs = STATEDIR_KEEP_RUNS;
	p->journal = true;
	if (!(p->path = strdup(path)))
		return ASSAY_ENOMEM;
	rc = value_tree_build(&p->values, toml_doc_root(doc), path, d);
	p->have_values = true;
	if (rc < 0)
		return rc;
	root = &p->values.root;
	for (i = 0; i < value_len(root); i++) {
		const char *key;
		const assay_value *v = value_at(root, i, &key);

		if (strcmp(key, "runner") == 0)
			load_runner(p, v);
		else if (strcmp(key, "plugins") == 0)
			load_plugins(p, v);
		else if (!config_is_key(key, top_keys, N(top_keys)))
			config_unknown_key(v, "the top level", top_keys, N(top_keys), NULL, 0);
	}
	if ((rc = load_nodes(p)) < 0 || (rc = sort_declaration_order(p)) < 0)
		return rc;
	for (i = 0; i < p->n_nodes; i++)
		p->n_executions += p->nodes[i].kind == ASSAY_KIND_VALIDATION ? p->nodes[i].n_items : 1;
	return plan_index(p, d);
}

int config_load(plan *p, const char *path, unsigned default_workers, diag *d)
{
	toml_error err;
	toml_doc *doc = toml_parse_file(path, &err);
	int rc;

	if (!doc) {
		memset(p, 0, sizeof *p);
		if (err.pos.line)
			diag_add(d, path, err.pos.line, err.pos.column, "%s", err.message);
		else
			diag_add(d, NULL, 0, 0, "%s", err.message);
		return (p->path = strdup(path)) ? ASSAY_EINVAL : ASSAY_ENOMEM;
	}
	rc = config_load_doc(p, doc, path, default_workers, d);
	p->doc = doc; /* the plan owns the document it parsed */
	return rc;
}
