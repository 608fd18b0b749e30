/* config.c -- configuration file to plan: every rule about the file's
 * structure and the host's own options lives here. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <errno.h>
#include <glob.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "option.h"
#include "plugin.h"
#include "status.h"
#include "suggest.h"

static const char *const top_keys[] = { "runner", "plugins", "check", "trial", "validation" };
static const char *const runner_keys[] = { "jobs", "workers", "timeout", "state_dir", "fail_fast" };
static const char *const plugins_keys[] = { "load", "path" };
static const char *const group_keys[] = { "max_parallel", "description" };
/* Keys the host reads in every node table; a type's own options come on top. */
static const char *const node_keys[] = {
	"type", "description", "after", "gate", "run_if", "skip", "timeout", "retries",
	"retry_delay", "max_parallel", "resources", "estimate",
	"matrix", "objective", "items",
};
#define N(a) (sizeof(a) / sizeof *(a))

static void unknown_key(const assay_value *v, const char *where,
			const char *const *known, size_t n_known,
			const char *const *more, size_t n_more)
{
	const char *all[64];
	size_t i, n = 0;

	for (i = 0; i < n_known && n < N(all); i++)
		all[n++] = known[i];
	for (i = 0; i < n_more && n < N(all); i++)
		all[n++] = more[i];
	option_key(v, where, all, n);
}

static bool is_key(const char *key, const char *const *keys, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(key, keys[i]) == 0)
			return true;
	return false;
}

static bool want(const assay_value *v, assay_value_type t, const char *what)
{
	if (value_type(v) == t)
		return true;
	value_error(v, "`%s` must be %s, not %s", v->key ? v->key : "value",
		    what, value_type_name(v));
	return false;
}

/* An integer in [min, max]. */
static bool get_uint(const assay_value *v, int64_t min, int64_t max,
		     unsigned *out)
{
	int64_t n;

	if (option_int(v, NULL, min, max, &n) < 0)
		return false;
	*out = (unsigned)n;
	return true;
}

static bool get_duration(const assay_value *v, bool zero_ok, int64_t *out)
{
	return option_duration(v, NULL, zero_ok ? 0 : 1, INT64_MAX, out) == 0;
}

static void load_runner(plan *p, const assay_value *t)
{
	size_t i;

	if (!want(t, ASSAY_VALUE_TABLE, "a table"))
		return;
	for (i = 0; i < value_len(t); i++) {
		const char *key;
		const assay_value *v = value_at(t, i, &key);

		if (strcmp(key, "jobs") == 0)
			get_uint(v, 1, 1000000, &p->jobs);
		else if (strcmp(key, "workers") == 0)
			get_uint(v, 1, 1024, &p->workers);
		else if (strcmp(key, "timeout") == 0)
			get_duration(v, false, &p->timeout_ms);
		else if (strcmp(key, "fail_fast") == 0) {
			if (want(v, ASSAY_VALUE_BOOLEAN, "true or false"))
				value_bool(v, &p->fail_fast);
		} else if (strcmp(key, "state_dir") == 0) {
			if (want(v, ASSAY_VALUE_STRING, "a string")) {
				free(p->state_dir);
				p->state_dir = strdup(value_string(v));
			}
		} else
			unknown_key(v, "[runner]", runner_keys, N(runner_keys), NULL, 0);
	}
}

static bool string_array(const assay_value *v, bool single_ok)
{
	size_t i;

	if (single_ok && value_type(v) == ASSAY_VALUE_STRING)
		return true;
	if (!want(v, ASSAY_VALUE_ARRAY, single_ok ? "a string or an array of strings"
						   : "an array of strings"))
		return false;
	for (i = 0; i < value_len(v); i++) {
		const assay_value *e = value_at(v, i, NULL);

		if (value_type(e) != ASSAY_VALUE_STRING || !*value_string(e)) {
			value_error(e, "`%s` must hold non-empty strings, not %s", v->key,
				    value_type(e) == ASSAY_VALUE_STRING ? "an empty string"
									: value_type_name(e));
			return false;
		}
	}
	return true;
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

	if (!want(t, ASSAY_VALUE_TABLE, "a table"))
		return;
	p->plugins = t;
	for (i = 0; i < value_len(t); i++) {
		const char *key;
		const assay_value *v = value_at(t, i, &key);

		if (strcmp(key, "load") == 0) {
			if (string_array(v, false))
				p->load = v;
		} else if (strcmp(key, "path") == 0) {
			if (string_array(v, true))
				p->plugin_path = v;
		} else if (value_type(v) != ASSAY_VALUE_TABLE)
			unknown_key(v, "[plugins]", plugins_keys, N(plugins_keys), NULL, 0);
	}
	/* Options for a plugin that is not loaded would be silently ignored. */
	for (i = 0; i < value_len(t); i++) {
		const char *key;
		const assay_value *v = value_at(t, i, &key);

		if (value_type(v) == ASSAY_VALUE_TABLE && !loads_plugin(p, key))
			value_key_error(v, "[plugins.%s] configures a plugin that is not in `load`", key);
	}
}

/* Grow *array (of *cap elements of size) to hold one more: doubling, so
 * that a million nodes or items cost O(n) copies, not O(n^2). */
static int grow(void *array, size_t *cap, size_t n, size_t size)
{
	void *grown;
	size_t want = *cap ? *cap * 2 : 16;

	if (n < *cap)
		return 0;
	grown = realloc(*(void **)array, want * size);
	if (!grown)
		return ASSAY_ENOMEM;
	*(void **)array = grown;
	*cap = want;
	return 0;
}

static plan_node *new_node(plan *p)
{
	if (p->n_nodes >= PLAN_MAX_NODES ||
	    grow(&p->nodes, &p->cap_nodes, p->n_nodes, sizeof *p->nodes) < 0)
		return NULL;
	memset(&p->nodes[p->n_nodes], 0, sizeof *p->nodes);
	return &p->nodes[p->n_nodes++];
}

static int add_group(plan *p, const char *name, unsigned max_parallel,
		     const assay_value *table)
{
	plan_group *g = realloc(p->groups, (p->n_groups + 1) * sizeof *g);

	if (!g)
		return ASSAY_ENOMEM;
	p->groups = g;
	g[p->n_groups].name = strdup(name);
	g[p->n_groups].max_parallel = max_parallel;
	g[p->n_groups].table = table;
	if (!g[p->n_groups].name)
		return ASSAY_ENOMEM;
	p->n_groups++;
	return 0;
}

/* Node and group names end up in ids, Prometheus labels and JUnit names:
 * keep them to characters that need no quoting anywhere. */
static bool valid_name(const assay_value *v)
{
	const char *s;

	for (s = v->key; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
			break;
	if (*s || !*v->key) {
		value_key_error(v, "`%s` is not a valid node or group name: use letters, digits, '_' and '-'",
				v->key);
		return false;
	}
	return true;
}

/* A matrix value as it appears in ids and {param}: the shortest text that
 * reads back as the same value. */
static char *format_param(const assay_value *v)
{
	char buf[64];
	int64_t i;
	double f;
	bool b;
	int prec;

	switch (value_type(v)) {
	case ASSAY_VALUE_STRING:
		return strdup(value_string(v));
	case ASSAY_VALUE_INTEGER:
		value_int(v, &i);
		snprintf(buf, sizeof buf, "%lld", (long long)i);
		break;
	case ASSAY_VALUE_FLOAT:
		value_float(v, &f);
		for (prec = 1; prec <= 17; prec++) {
			snprintf(buf, sizeof buf, "%.*g", prec, f);
			if (strtod(buf, NULL) == f)
				break;
		}
		break;
	case ASSAY_VALUE_BOOLEAN:
		value_bool(v, &b);
		return strdup(b ? "true" : "false");
	default:
		return NULL;
	}
	return strdup(buf);
}

static bool check_matrix(const assay_value *m, size_t *combinations)
{
	size_t i, j, total = 1;
	bool ok = true;

	if (!want(m, ASSAY_VALUE_TABLE, "a table of arrays (matrix = { lr = [0.1, 0.01] })"))
		return false;
	if (value_len(m) == 0) {
		value_error(m, "`matrix` is empty");
		return false;
	}
	for (i = 0; i < value_len(m); i++) {
		const assay_value *a = value_at(m, i, NULL);

		if (!valid_name(a)) {
			ok = false;
			continue;
		}
		if (value_type(a) != ASSAY_VALUE_ARRAY || value_len(a) == 0) {
			value_error(a, "matrix parameter `%s` must be a non-empty array", a->key);
			ok = false;
			continue;
		}
		for (j = 0; j < value_len(a); j++) {
			assay_value_type t = value_type(value_at(a, j, NULL));

			if (t == ASSAY_VALUE_TABLE || t == ASSAY_VALUE_ARRAY ||
			    t == ASSAY_VALUE_DATETIME) {
				value_error(value_at(a, j, NULL),
					    "matrix values must be strings, numbers or booleans, not %s",
					    value_type_name(value_at(a, j, NULL)));
				ok = false;
			}
		}
		if (total > PLAN_MAX_NODES / value_len(a))
			total = PLAN_MAX_NODES + 1;
		else
			total *= value_len(a);
	}
	if (ok && total > PLAN_MAX_NODES) {
		value_error(m, "`matrix` expands to more than %d trials", PLAN_MAX_NODES);
		ok = false;
	}
	*combinations = total;
	return ok;
}

static int add_item(plan_node *n, size_t *cap, const char *s, size_t len)
{
	if (grow(&n->items, cap, n->n_items, sizeof *n->items) < 0 ||
	    !(n->items[n->n_items] = strndup(s, len)))
		return ASSAY_ENOMEM;
	n->n_items++;
	return 0;
}

static int load_items(plan_node *n, const assay_value *t)
{
	const assay_value *glob_v = value_get(t, "glob"), *list = value_get(t, "list"),
			  *file = value_get(t, "file"), *empty = value_get(t, "allow_empty");
	static const char *const item_keys[] = { "glob", "list", "file", "allow_empty" };
	bool allow_empty = false;
	size_t i, cap = 0;
	int rc = 0;

	for (i = 0; i < value_len(t); i++) {
		const assay_value *v = value_at(t, i, NULL);

		if (!is_key(v->key, item_keys, N(item_keys)))
			unknown_key(v, "`items`", item_keys, N(item_keys), NULL, 0);
	}
	if (!!glob_v + !!list + !!file != 1) {
		value_error(t, "`items` needs exactly one of `glob`, `list` or `file`");
		return 0;
	}
	if (empty && want(empty, ASSAY_VALUE_BOOLEAN, "true or false"))
		value_bool(empty, &allow_empty);
	if (list) {
		if (!string_array(list, false))
			return 0;
		for (i = 0; i < value_len(list) && rc == 0; i++) {
			const char *s = value_string(value_at(list, i, NULL));

			rc = add_item(n, &cap, s, strlen(s));
		}
	} else if (glob_v) {
		glob_t g;
		char *pattern;
		int grc;

		if (!want(glob_v, ASSAY_VALUE_STRING, "a string"))
			return 0;
		if (!(pattern = value_path(glob_v, value_string(glob_v))))
			return ASSAY_ENOMEM;
		grc = glob(pattern, 0, NULL, &g);
		free(pattern);
		if (grc == GLOB_NOSPACE)
			return ASSAY_ENOMEM;
		if (grc == GLOB_ABORTED)
			value_error(glob_v, "cannot read the directories of `%s`", value_string(glob_v));
		for (i = 0; grc == 0 && i < g.gl_pathc && rc == 0; i++)
			rc = add_item(n, &cap, g.gl_pathv[i], strlen(g.gl_pathv[i]));
		if (grc == 0)
			globfree(&g);
	} else {
		char *path, *line = NULL;
		size_t line_cap = 0;
		ssize_t len;
		FILE *f;

		if (!want(file, ASSAY_VALUE_STRING, "a string"))
			return 0;
		if (!(path = value_path(file, value_string(file))))
			return ASSAY_ENOMEM;
		f = fopen(path, "re");
		free(path);
		if (!f) {
			value_error(file, "cannot read `%s`: %s", value_string(file), strerror(errno));
			return 0;
		}
		/* One item a line; blank lines and # comments are not items. */
		while (rc == 0 && (len = getline(&line, &line_cap, f)) >= 0) {
			char *s = line;

			while (len && (s[len - 1] == '\n' || s[len - 1] == '\r' ||
				       s[len - 1] == ' ' || s[len - 1] == '\t'))
				len--;
			while (len && (*s == ' ' || *s == '\t'))
				s++, len--;
			if (len && *s != '#')
				rc = add_item(n, &cap, s, (size_t)len);
		}
		free(line);
		fclose(f);
	}
	if (rc == 0 && n->n_items == 0 && !allow_empty)
		value_error(t, "`items` of `%s` is empty (set allow_empty = true if that is expected)",
			    n->id);
	return rc;
}

static bool load_objective(plan_node *n, const assay_value *o)
{
	const assay_value *metric, *goal;
	size_t i;
	static const char *const keys[] = { "metric", "goal" };

	if (!want(o, ASSAY_VALUE_TABLE, "a table (objective = { metric = \"accuracy\", goal = \"max\" })"))
		return false;
	for (i = 0; i < value_len(o); i++)
		if (!is_key(value_at(o, i, NULL)->key, keys, N(keys)))
			unknown_key(value_at(o, i, NULL), "`objective`", keys, N(keys), NULL, 0);
	metric = value_get(o, "metric");
	goal = value_get(o, "goal");
	if (!metric) {
		value_error(o, "`objective` needs `metric`");
		return false;
	}
	if (!want(metric, ASSAY_VALUE_STRING, "a string"))
		return false;
	n->objective_metric = value_string(metric);
	n->objective_max = true;
	if (goal) {
		static const char *const goals[] = { "max", "min" };
		int c = option_choice(goal, NULL, goals, N(goals));

		if (c < 0)
			return false;
		n->objective_max = c == 0;
	}
	return true;
}

/* `gate = true` (or "ok"): only OK lets the other nodes run; "warning":
 * WARNING does too.  A WARNING is a problem someone should look at, and a
 * gate is there to stop everything else on a problem, so the strict form
 * is the one spelt `true`. */
static void load_gate(plan_node *n, const assay_value *v)
{
	const char *s;

	if (value_type(v) == ASSAY_VALUE_BOOLEAN) {
		value_bool(v, &n->gate);
		return;
	}
	if (!want(v, ASSAY_VALUE_STRING, "true, false, \"ok\" or \"warning\""))
		return;
	s = value_string(v);
	if (strcmp(s, "ok") == 0) {
		n->gate = true;
	} else if (strcmp(s, "warning") == 0) {
		n->gate = true;
		n->gate_warning = true;
	} else {
		value_error(v, "`gate` must be true, false, \"ok\" or \"warning\", not \"%s\"", s);
	}
}

/* `skip = "reason"`: the node is reported SKIPPED with that reason and
 * never run; the reason is what the report says, so it must say something. */
static void load_skip(plan_node *n, const assay_value *v)
{
	const char *s;

	if (!want(v, ASSAY_VALUE_STRING, "a string: the reason the node is skipped"))
		return;
	s = value_string(v);
	if (!s[strspn(s, " \t\r\n")])
		value_error(v, "`skip` must give the reason the node is skipped, not an empty string");
	else
		n->skip = s;
}

/* The host's own options of a node table.  Unknown keys are checked later,
 * once the type (and so its option names) is known. */
static void load_node_options(plan_node *n)
{
	const assay_value *t = n->table, *v;
	size_t i;

	n->timeout_ms = 0;
	n->retry_delay_ms = 1000;
	n->run_if = RUN_IF_SUCCESS;
	for (i = 0; i < value_len(t); i++) {
		const char *key;

		v = value_at(t, i, &key);
		if (strcmp(key, "type") == 0) {
			if (want(v, ASSAY_VALUE_STRING, "a string"))
				n->type_name = value_string(v);
		} else if (strcmp(key, "description") == 0) {
			want(v, ASSAY_VALUE_STRING, "a string");
		} else if (strcmp(key, "after") == 0) {
			if (string_array(v, true))
				n->after = v;
		} else if (strcmp(key, "gate") == 0) {
			load_gate(n, v);
		} else if (strcmp(key, "skip") == 0) {
			load_skip(n, v);
		} else if (strcmp(key, "run_if") == 0) {
			/* In run_if's order. */
			static const char *const run_ifs[] = { "success", "failure", "always" };
			int c = option_choice(v, NULL, run_ifs, N(run_ifs));

			if (c >= 0)
				n->run_if = (run_if)c;
		} else if (strcmp(key, "timeout") == 0) {
			get_duration(v, false, &n->timeout_ms);
		} else if (strcmp(key, "retries") == 0) {
			get_uint(v, 0, 100, &n->retries);
		} else if (strcmp(key, "retry_delay") == 0) {
			get_duration(v, true, &n->retry_delay_ms);
		} else if (strcmp(key, "estimate") == 0) {
			int64_t ms;

			if (get_duration(v, true, &ms))
				n->estimate_s = (double)ms / 1000;
		} else if (strcmp(key, "resources") == 0) {
			size_t j;

			if (!want(v, ASSAY_VALUE_TABLE, "a table (resources = { gpu = 1 })"))
				continue;
			for (j = 0; j < value_len(v); j++) {
				const assay_value *r = value_at(v, j, NULL);
				int64_t amount;

				if (value_int(r, &amount) < 0 || amount < 0)
					value_error(r, "resource `%s` must be a non-negative integer", r->key);
			}
			n->resources = v;
		} else if (strcmp(key, "max_parallel") == 0) {
			if (n->kind != ASSAY_KIND_TRIAL || !value_get(t, "matrix"))
				value_key_error(v, "`max_parallel` limits a group: put it in a group table or on a trial with a `matrix`");
			else
				get_uint(v, 1, 1000000, &n->max_parallel);
		} else if (strcmp(key, "matrix") == 0 || strcmp(key, "objective") == 0) {
			if (n->kind != ASSAY_KIND_TRIAL)
				value_key_error(v, "`%s` is only for trials, and `%s` is a %s", key,
						n->id, status_kind_name(n->kind));
			else if (strcmp(key, "objective") == 0)
				load_objective(n, v);
		} else if (strcmp(key, "items") == 0) {
			if (n->kind != ASSAY_KIND_VALIDATION)
				value_key_error(v, "`items` is only for validations, and `%s` is a %s",
						n->id, status_kind_name(n->kind));
		}
	}
}

static char *join_id(const char *prefix, const char *name)
{
	char *id;

	if (!prefix)
		return strdup(name);
	if (asprintf(&id, "%s.%s", prefix, name) < 0)
		return NULL;
	return id;
}

/* One node table: a node, or a matrix of trials. */
static int load_node(plan *p, unsigned kind, const char *group,
		     const assay_value *t)
{
	const assay_value *matrix = kind == ASSAY_KIND_TRIAL ? value_get(t, "matrix") : NULL;
	const assay_value *items = value_get(t, "items");
	size_t combos = 1, c, j;
	plan_node proto, *n;
	int rc;

	memset(&proto, 0, sizeof proto);
	proto.kind = kind;
	proto.table = t;
	proto.id = join_id(group, t->key);
	if (!proto.id)
		return ASSAY_ENOMEM;
	load_node_options(&proto);
	if (matrix && !check_matrix(matrix, &combos))
		matrix = NULL;
	if (kind == ASSAY_KIND_VALIDATION) {
		if (!items)
			value_error(t, "validation `%s` needs `items` (a glob, a list or a file)", proto.id);
		else if (want(items, ASSAY_VALUE_TABLE, "a table (items = { glob = \"*.py\" })") &&
			 (rc = load_items(&proto, items)) < 0)
			goto fail;
	}
	if (!matrix) {
		proto.group = group ? strdup(group) : NULL;
		if (group && !proto.group)
			goto nomem;
		if (!(n = new_node(p)))
			goto full;
		*n = proto;
		return 0;
	}
	/* A matrix is a group of trials named after the node. */
	if (add_group(p, proto.id, proto.max_parallel, t) < 0)
		goto nomem;
	for (c = 0; c < combos; c++) {
		size_t rest = c, len = strlen(proto.id) + 3, np = value_len(matrix);
		char *id, *at;

		if (!(n = new_node(p)))
			goto full;
		*n = proto;
		n->params = calloc(np, sizeof *n->params);
		n->n_params = np;
		n->group = strdup(proto.id);
		n->id = NULL;
		n->items = NULL;
		n->n_items = 0;
		if (!n->params || !n->group)
			goto nomem;
		/* The last parameter varies fastest, like nested loops written
		 * in the order of the keys. */
		for (j = np; j-- > 0;) {
			const assay_value *a = value_at(matrix, j, NULL);
			size_t k = rest % value_len(a);

			rest /= value_len(a);
			n->params[j].name = a->key;
			n->params[j].value = format_param(value_at(a, k, NULL));
			if (!n->params[j].value)
				goto nomem;
		}
		for (j = 0; j < np; j++)
			len += strlen(n->params[j].name) + strlen(n->params[j].value) + 2;
		if (!(id = malloc(len)))
			goto nomem;
		at = id + sprintf(id, "%s[", proto.id);
		for (j = 0; j < np; j++)
			at += sprintf(at, "%s%s=%s", j ? "," : "", n->params[j].name,
				      n->params[j].value);
		strcpy(at, "]");
		n->id = id;
	}
	free(proto.id);
	for (j = 0; j < proto.n_items; j++)
		free(proto.items[j]);
	free(proto.items);
	return 0;
full:
	if (p->n_nodes >= PLAN_MAX_NODES) {
		value_key_error(t, "`%s` would make more than %d nodes in all", proto.id, PLAN_MAX_NODES);
		rc = ASSAY_EINVAL;
		goto fail;
	}
nomem:
	rc = ASSAY_ENOMEM;
fail:
	free(proto.id);
	free(proto.group);
	for (j = 0; j < proto.n_items; j++)
		free(proto.items[j]);
	free(proto.items);
	return rc;
}

static plan_group *plan_group_named(plan *p, const char *name)
{
	size_t i;

	for (i = p->n_groups; i-- > 0;)
		if (strcmp(p->groups[i].name, name) == 0)
			return &p->groups[i];
	return NULL; /* not reached: load_tree adds a group before its keys */
}

/* A table under check/trial/validation: a node if it has `type`, else a
 * group whose tables are nodes or groups in turn. */
static int load_tree(plan *p, unsigned kind, const char *group,
		     const assay_value *t, unsigned depth)
{
	size_t i;
	int rc;

	for (i = 0; i < value_len(t); i++) {
		const char *key;
		const assay_value *v = value_at(t, i, &key);
		char *id;

		if (value_type(v) != ASSAY_VALUE_TABLE) {
			unsigned mp;

			if (!group)
				value_key_error(v, "`%s.%s` is not a table: declare nodes as [%s.NAME] with a `type`",
						status_kind_name(kind), key, status_kind_name(kind));
			else if (strcmp(key, "max_parallel") == 0) {
				if (get_uint(v, 1, 1000000, &mp))
					plan_group_named(p, group)->max_parallel = mp;
			} else if (strcmp(key, "description") == 0)
				want(v, ASSAY_VALUE_STRING, "a string");
			else if (is_key(key, node_keys, N(node_keys)))
				value_key_error(v, "`%s` in group `%s`: a group is a table without `type`; add `type` to make `%s` a node",
						key, group, group);
			else
				unknown_key(v, "a group", group_keys, N(group_keys), NULL, 0);
			continue;
		}
		if (!valid_name(v))
			continue;
		if (value_get(v, "type")) {
			if ((rc = load_node(p, kind, group, v)) < 0)
				return rc;
			continue;
		}
		if (depth >= 16) {
			value_key_error(v, "groups nest deeper than 16 levels");
			continue;
		}
		if (!(id = join_id(group, key)))
			return ASSAY_ENOMEM;
		if (value_len(v) == 0)
			value_key_error(v, "`%s` has no `type` and no nodes: a node needs `type = \"...\"`", id);
		rc = add_group(p, id, 0, v);
		if (rc == 0)
			rc = load_tree(p, kind, id, v, depth + 1);
		free(id);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Of the groups named name (declared under two kinds), the table of the
 * later declaration: the mistake. */
static const assay_value *later_group(const plan *p, const char *name)
{
	const assay_value *t = NULL;
	size_t i;

	for (i = 0; i < p->n_groups; i++) {
		const assay_value *g = p->groups[i].table;

		if (strcmp(p->groups[i].name, name) == 0 &&
		    (!t || g->key_pos.line > t->key_pos.line ||
		     (g->key_pos.line == t->key_pos.line && g->key_pos.column > t->key_pos.column)))
			t = g;
	}
	return t;
}

/* Ids must be unique across kinds: `after` names them without the kind. */
static int check_unique_ids(plan *p, diag *d)
{
	size_t total = p->n_nodes + p->n_groups, i, k = 0;
	const char **names = malloc((total ? total : 1) * sizeof *names);

	if (!names)
		return ASSAY_ENOMEM;
	for (i = 0; i < p->n_nodes; i++)
		names[k++] = p->nodes[i].id;
	for (i = 0; i < p->n_groups; i++)
		names[k++] = p->groups[i].name;
	qsort(names, total, sizeof *names, cmp_str);
	for (i = 1; i < total; i++)
		if (strcmp(names[i - 1], names[i]) == 0 &&
		    (i < 2 || strcmp(names[i - 2], names[i]) != 0)) {
			const assay_value *t = NULL;
			size_t j;

			for (j = 0; j < p->n_nodes && !t; j++)
				if (strcmp(p->nodes[j].id, names[i]) == 0)
					t = p->nodes[j].table;
			if (!t)
				t = later_group(p, names[i]);
			diag_add(d, t->tree->file, t->key_pos.line, t->key_pos.column,
				 "`%s` names two nodes or groups (check, trial and validation share one namespace)",
				 names[i]);
		}
	free(names);
	return 0;
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

/* Nodes were collected kind by kind; results are reported in the order the
 * file declares them, whatever their kind (a matrix's trials stay in
 * expansion order: they share one table). */
static int sort_declaration_order(plan *p)
{
	node_order *order = malloc((p->n_nodes ? p->n_nodes : 1) * sizeof *order);
	plan_node *sorted = malloc((p->n_nodes ? p->n_nodes : 1) * sizeof *sorted);
	size_t i;

	if (!order || !sorted) {
		free(order);
		free(sorted);
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
	free(p->nodes);
	p->nodes = sorted;
	p->cap_nodes = p->n_nodes ? p->n_nodes : 1;
	return 0;
}

int config_load(plan *p, const char *path, unsigned default_workers, diag *d)
{
	const assay_value *root;
	toml_error err;
	size_t i;
	int rc;

	memset(p, 0, sizeof *p);
	p->jobs = 64;
	p->workers = default_workers ? default_workers : 1;
	p->timeout_ms = 60000;
	if (!(p->path = strdup(path)))
		return ASSAY_ENOMEM;
	p->doc = toml_parse_file(path, &err);
	if (!p->doc) {
		if (err.pos.line)
			diag_add(d, path, err.pos.line, err.pos.column, "%s", err.message);
		else
			diag_add(d, NULL, 0, 0, "%s", err.message);
		return ASSAY_EINVAL;
	}
	rc = value_tree_build(&p->values, toml_doc_root(p->doc), path, d);
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
		else if (!is_key(key, top_keys, N(top_keys)))
			unknown_key(v, "the top level", top_keys, N(top_keys), NULL, 0);
	}
	for (i = 0; i < value_len(root); i++) {
		const char *key;
		const assay_value *v = value_at(root, i, &key);
		unsigned kind = strcmp(key, "check") == 0 ? ASSAY_KIND_CHECK
			      : strcmp(key, "trial") == 0 ? ASSAY_KIND_TRIAL
			      : strcmp(key, "validation") == 0 ? ASSAY_KIND_VALIDATION : 0;

		if (!kind)
			continue;
		if (!want(v, ASSAY_VALUE_TABLE, "a table"))
			continue;
		if ((rc = load_tree(p, kind, NULL, v, 0)) < 0)
			return rc == ASSAY_ENOMEM ? rc : 0;
	}
	if ((rc = sort_declaration_order(p)) < 0)
		return rc;
	for (i = 0; i < p->n_nodes; i++)
		p->n_executions += p->nodes[i].kind == ASSAY_KIND_VALIDATION ? p->nodes[i].n_items : 1;
	return check_unique_ids(p, d);
}

/* --- prepare: everything that needs the plugins --------------------------- */

/* Every name `after` may use (node ids and group names), sorted once so
 * that checking a million references stays O(n log n). */
typedef struct name_index {
	const char **names;
	size_t n;
} name_index;

static int name_index_build(name_index *x, const plan *p)
{
	size_t i;

	x->n = 0;
	x->names = malloc((p->n_nodes + p->n_groups + 1) * sizeof *x->names);
	if (!x->names)
		return ASSAY_ENOMEM;
	for (i = 0; i < p->n_nodes; i++)
		x->names[x->n++] = p->nodes[i].id;
	for (i = 0; i < p->n_groups; i++)
		x->names[x->n++] = p->groups[i].name;
	qsort(x->names, x->n, sizeof *x->names, cmp_str);
	return 0;
}

static void check_after(const name_index *x, const plan_node *n)
{
	bool one = value_type(n->after) == ASSAY_VALUE_STRING;
	size_t j;

	for (j = 0; j < (one ? 1 : value_len(n->after)); j++) {
		const assay_value *v = one ? n->after : value_at(n->after, j, NULL);
		const char *name = value_string(v), *hint;

		if (bsearch(&name, x->names, x->n, sizeof *x->names, cmp_str))
			continue;
		hint = suggest_word(name, x->names, x->n);
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

		if (!is_key(v->key, node_keys, N(node_keys)) && !is_key(v->key, opts, n_opts)) {
			char where[160];

			snprintf(where, sizeof where, "%s `%s` (type `%s`)",
				 status_kind_name(n->kind), n->id, n->type_name);
			unknown_key(v, where, opts, n_opts, node_keys, N(node_keys));
		}
	}
}

/* Every resources key goes to the resource type it belongs to: `gpu` and
 * `gpu_*` to the type named gpu. */
static int prepare_resources(registry *r, plan_node *n)
{
	size_t i, j, ne = r->n_entries[REG_RESOURCE];
	const reg_entry *e = r->entries[REG_RESOURCE];
	int errors = 0;

	for (i = 0; i < value_len(n->resources); i++) {
		const assay_value *v = value_at(n->resources, i, NULL);
		bool found = false;

		for (j = 0; j < ne && !found; j++) {
			size_t len = strlen(e[j].name);

			found = strncmp(v->key, e[j].name, len) == 0 &&
				(v->key[len] == '\0' || v->key[len] == '_');
		}
		if (!found) {
			char known[512] = "";
			size_t k, used = 0;

			for (k = 0; k < ne; k++)
				used += (size_t)snprintf(known + used, used < sizeof known ? sizeof known - used : 0,
							 "%s%s", k ? ", " : "", e[k].name);
			if (ne)
				value_key_error(v, "unknown resource `%s` (resource types: %s)", v->key, known);
			else
				value_key_error(v, "unknown resource `%s`: no loaded plugin provides resources", v->key);
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
		size_t len = strlen(e[j].name);
		bool used = false;
		void *req = NULL;
		int rc;

		for (i = 0; i < value_len(n->resources) && !used; i++) {
			const char *key = value_at(n->resources, i, NULL)->key;

			used = strncmp(key, e[j].name, len) == 0 && (key[len] == '\0' || key[len] == '_');
		}
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
	bool matrix_failed = false;
	name_index names;
	size_t i;

	if (name_index_build(&names, p) < 0) {
		diag_add(d, p->path, 0, 0, "out of memory");
		return diag_count(d);
	}

	for (i = 0; i < p->n_nodes; i++) {
		plan_node *n = &p->nodes[i];
		const assay_value *tv = value_get(n->table, "type");
		/* The trials of one matrix share one table: check it with the
		 * first trial and report its errors once. */
		bool repeat = n->params && i > 0 && p->nodes[i - 1].params &&
			      strcmp(p->nodes[i - 1].group, n->group) == 0;
		size_t before = diag_count(d);
		const reg_entry *e;

		if (repeat && matrix_failed)
			continue;
		if (!repeat && n->after)
			check_after(&names, n);
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

void plan_release(plan *p)
{
	size_t i, j;

	for (i = 0; i < p->n_nodes; i++) {
		plan_node *n = &p->nodes[i];

		if (n->prepared && n->type->release && n->state)
			n->type->release(n->state, n->type->data);
		for (j = 0; j < n->n_resources; j++)
			if (n->resource_types[j]->release_request)
				n->resource_types[j]->release_request(n->resource_reqs[j],
								      n->resource_types[j]->data);
		free(n->resource_reqs);
		free(n->resource_types);
		for (j = 0; j < n->n_params; j++)
			free(n->params[j].value);
		free(n->params);
		for (j = 0; j < n->n_items; j++)
			free(n->items[j]);
		free(n->items);
		free(n->id);
		free(n->group);
	}
	free(p->nodes);
	for (i = 0; i < p->n_groups; i++)
		free(p->groups[i].name);
	free(p->groups);
	if (p->have_values)
		value_tree_release(&p->values);
	toml_doc_free(p->doc);
	free(p->state_dir);
	free(p->path);
	memset(p, 0, sizeof *p);
}

const char *plan_node_param(const plan_node *n, const char *name)
{
	size_t i;

	for (i = 0; i < n->n_params; i++)
		if (strcmp(n->params[i].name, name) == 0)
			return n->params[i].value;
	return NULL;
}
