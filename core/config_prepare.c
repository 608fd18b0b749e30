/* config_prepare.c -- the plan with the plugins loaded: each node's type
 * (an unknown one names the plugins), its option keys, its `after`, its
 * resources, and every type's prepare.  The one part of config that needs
 * the registry. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_read.h"
#include "registry.h"
#include "status.h"
#include "suggest.h"

/* Every name `after` may use, for a "did you mean": made at the first
 * name that is none, sorted so that of two as close the first in
 * alphabetical order is suggested. */
typedef struct suggestions {
	const char **names;
	size_t n;
	bool made;
} suggestions;

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void check_after(const plan *p, suggestions *s, const plan_node *n)
{
	bool one = value_type(n->after) == ASSAY_VALUE_STRING;
	size_t j;

	for (j = 0; j < n->n_after; j++) {
		const assay_value *v = one ? n->after : value_at(n->after, j, NULL);
		const char *name = value_string(v), *hint = NULL;

		if (n->after_refs[j] != PLAN_NONE)
			continue;
		if (!s->made) {
			if ((s->names = plan_names(p, &s->n)))
				qsort(s->names, s->n, sizeof *s->names, cmp_str);
			s->made = true;
		}
		if (s->names)
			hint = suggest_word(name, s->names, s->n);
		if (hint)
			value_error(v, "`after` of `%s` names `%s`, which is no node or group (did you mean `%s`?)",
				    n->id, name, hint);
		else
			value_error(v, "`after` of `%s` names `%s`, which is no node or group", n->id, name);
	}
}

/* A plugin file on the search path whose name is the type, or close to
 * it, and that is not loaded: the likely fix.  malloc'd, or NULL. */
static char *unloaded_plugin_for(const registry *r, const char *type)
{
	char **paths, *found = NULL;
	const char *names[256], *hint;
	size_t n, i, k = 0, j;

	if (registry_discover(r, &paths, &n) < 0)
		return NULL;
	for (i = 0; i < n && k < N(names); i++) {
		char *base = strrchr(paths[i], '/') + 1;
		bool loaded = false;

		base[strlen(base) - 3] = '\0'; /* drop ".so" */
		for (j = 0; j < r->n_plugins && !loaded; j++)
			loaded = strcmp(r->plugins[j]->name, base) == 0;
		if (!loaded)
			names[k++] = base;
	}
	for (i = 0; i < k && !found; i++)
		if (strcmp(names[i], type) == 0)
			found = strdup(names[i]);
	if (!found && (hint = suggest_word(type, names, k)))
		found = strdup(hint);
	for (i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	return found;
}

static void unknown_type(registry *r, plan_node *n, const assay_value *tv)
{
	const reg_entry *e = r->entries[REG_NODE];
	const char *names[64], *hint;
	char loaded[512] = "", *plugin;
	size_t i, k = 0, used = 0;

	for (i = 0; i < r->n_entries[REG_NODE] && k < N(names); i++)
		names[k++] = e[i].name;
	for (i = 0; i < r->n_plugins; i++)
		used += (size_t)snprintf(loaded + used, used < sizeof loaded ? sizeof loaded - used : 0,
					 "%s%s", i ? ", " : "", r->plugins[i]->name);
	hint = suggest_word(n->type_name, names, k);
	plugin = hint ? NULL : unloaded_plugin_for(r, n->type_name);
	if (plugin)
		value_error(tv, "unknown node type `%s`; plugins loaded: %s (the plugin `%s` is on the search path: add it to [plugins] load)",
			    n->type_name, r->n_plugins ? loaded : "none", plugin);
	else
		value_error(tv, "unknown node type `%s`%s%s%s; plugins loaded: %s", n->type_name,
			    hint ? " (did you mean `" : "", hint ? hint : "", hint ? "`?)" : "",
			    r->n_plugins ? loaded : "none (add the plugin to [plugins] load)");
	free(plugin);
}

static void check_option_keys(const plan_node *n)
{
	const char *const *opts = n->type->options;
	size_t i, n_opts = 0;

	while (opts && opts[n_opts])
		n_opts++;
	for (i = 0; i < value_len(n->table); i++) {
		const assay_value *v = value_at(n->table, i, NULL);

		if (!config_is_key(v->key, config_node_keys, config_n_node_keys) && !config_is_key(v->key, opts, n_opts)) {
			char where[160];

			snprintf(where, sizeof where, "%s `%s` (type `%s`)",
				 status_kind_name(n->kind), n->id, n->type_name);
			config_unknown_key(v, where, opts, n_opts, config_node_keys, config_n_node_keys);
		}
	}
}

/* Whether key belongs to the resource type `name`: `gpu` and `gpu_*` to
 * the type named gpu. */
static bool resource_key_of(const char *key, const char *name)
{
	size_t len = strlen(name);

	return strncmp(key, name, len) == 0 && (key[len] == '\0' || key[len] == '_');
}

/* No resource type takes v's key: say so once per type it would need (a
 * request's `gpu_memory_mb` says nothing more than its `gpu`), with the
 * likely fix -- the plugin on the search path, or one that failed. */
static void unknown_resource(registry *r, const assay_value *v, const assay_value *earlier_of)
{
	size_t k, ne = r->n_entries[REG_RESOURCE], used = 0, cut = strcspn(v->key, "_");
	const reg_entry *e = r->entries[REG_RESOURCE];
	char known[512] = "", type[64], *plugin = NULL;

	for (k = 0; k < value_len(earlier_of); k++) {
		const char *key = value_at(earlier_of, k, NULL)->key;

		if (key == v->key)
			break;
		if (strncmp(key, v->key, cut) == 0 && strcspn(key, "_") == cut)
			return; /* reported at the earlier key */
	}
	snprintf(type, sizeof type, "%.*s", (int)(cut < sizeof type ? cut : sizeof type - 1), v->key);
	for (k = 0; k < ne; k++)
		used += (size_t)snprintf(known + used, used < sizeof known ? sizeof known - used : 0,
					 "%s%s", k ? ", " : "", e[k].name);
	if (!r->load_failed)
		plugin = unloaded_plugin_for(r, type);
	if (r->load_failed)
		value_key_error(v, "unknown resource `%s` (%s%s%sa plugin failed to load, above)",
				v->key, ne ? "resource types: " : "", known, ne ? "; " : "");
	else if (plugin)
		value_key_error(v, "unknown resource `%s` (the plugin `%s` is on the search path: add it to [plugins] load)",
				v->key, plugin);
	else if (ne)
		value_key_error(v, "unknown resource `%s` (resource types: %s)", v->key, known);
	else
		value_key_error(v, "unknown resource `%s`: no loaded plugin provides resources", v->key);
	free(plugin);
}

/* Every resources key goes to the resource type it belongs to, whose
 * prepare checks the values.  A request with a key no type takes is not
 * prepared: its errors are said. */
static int prepare_resources(registry *r, plan_node *n)
{
	size_t i, j, ne = r->n_entries[REG_RESOURCE];
	const reg_entry *e = r->entries[REG_RESOURCE];
	int errors = 0;

	for (i = 0; i < value_len(n->resources); i++) {
		const assay_value *v = value_at(n->resources, i, NULL);
		bool found = false;

		for (j = 0; j < ne && !found; j++)
			found = resource_key_of(v->key, e[j].name);
		if (!found) {
			unknown_resource(r, v, n->resources);
			errors++;
		}
	}
	if (errors)
		return errors;
	n->resource_reqs = calloc(ne ? ne : 1, sizeof *n->resource_reqs);
	n->resource_types = calloc(ne ? ne : 1, sizeof *n->resource_types);
	if (!n->resource_reqs || !n->resource_types)
		return ASSAY_ENOMEM;
	for (j = 0; j < ne; j++) {
		bool used = false;
		void *req = NULL;
		int rc;

		for (i = 0; i < value_len(n->resources) && !used; i++)
			used = resource_key_of(value_at(n->resources, i, NULL)->key, e[j].name);
		if (!used)
			continue;
		{
			size_t before = diag_count(n->resources->tree->diag);

			rc = e[j].u.resource->prepare(n->resources, e[j].u.resource->data, &req);
			if (rc < 0) {
				/* A refusal without a reason is still an error. */
				if (diag_count(n->resources->tree->diag) == before)
					value_error(n->resources, "resource type `%s` refused this request: %s",
						    e[j].name, status_strerror(rc));
				errors++;
				continue;
			}
		}
		n->resource_types[n->n_resources] = e[j].u.resource;
		n->resource_reqs[n->n_resources++] = req;
	}
	return errors;
}

size_t config_prepare(plan *p, registry *r, diag *d)
{
	suggestions names = { NULL, 0, false };
	bool matrix_failed = false;
	size_t i;

	for (i = 0; i < p->n_nodes; i++) {
		plan_node *n = &p->nodes[i];
		const assay_value *tv = value_get(n->table, "type");
		/* The trials of one matrix share one table: check it with the
		 * first trial and report its errors once. */
		bool repeat = n->sweep != PLAN_NONE && i > 0 && p->nodes[i - 1].sweep == n->sweep;
		size_t before = diag_count(d);
		const reg_entry *e;

		if (repeat && matrix_failed)
			continue;
		if (!repeat && n->after)
			check_after(p, &names, n);
		if (!n->type_name)
			continue;
		e = registry_lookup(r, REG_NODE, n->type_name);
		if (!e)
			unknown_type(r, n, tv);
		else if (!(e->u.node->kinds & n->kind))
			value_error(tv, "type `%s` does not run %ss", n->type_name,
				    status_kind_name(n->kind));
		else {
			n->type = e->u.node;
			if (!repeat)
				check_option_keys(n);
			if (n->resources && prepare_resources(r, n) < 0)
				diag_add(d, p->path, 0, 0, "out of memory");
		}
		if (n->type && diag_count(d) == before) {
			if (n->type->prepare((assay_node *)n, n->table, n->type->data,
					     &n->state) == 0)
				n->prepared = true;
			else if (diag_count(d) == before)
				/* A refusal without a reason is still an error. */
				value_error(tv, "type `%s` refused `%s` without saying why",
					    n->type_name, n->id);
		}
		if (!repeat)
			matrix_failed = diag_count(d) != before;
	}
	free(names.names);
	return diag_count(d);
}
