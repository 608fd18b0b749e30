/* config_node.c -- a node table's host options: type, after, gate, skip,
 * run_if, timeout, retries, resources ...; a type's own options are its
 * prepare's. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <stdlib.h>
#include <string.h>

#include "config_read.h"
#include "option.h"
#include "status.h"

const char *const config_node_keys[] = {
	"type", "description", "after", "gate", "run_if", "skip", "timeout", "retries",
	"retry_delay", "max_parallel", "resources", "estimate",
	"matrix", "objective", "items",
	"space", "search", "repeat", "max_trials", "max_failures", "prune",
};
const size_t config_n_node_keys = N(config_node_keys);

/* A trial's search: config_search.c reads them; here they are refused
 * in the other kinds. */
static const char *const search_keys[] = {
	"space", "search", "repeat", "max_trials", "max_failures", "prune",
};

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
	if (!config_want(v, ASSAY_VALUE_STRING, "true, false, \"ok\" or \"warning\""))
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

	if (!config_want(v, ASSAY_VALUE_STRING, "a string: the reason the node is skipped"))
		return;
	s = value_string(v);
	if (!s[strspn(s, " \t\r\n")])
		value_error(v, "`skip` must give the reason the node is skipped, not an empty string");
	else
		n->skip = s;
}

static void load_run_if(plan_node *n, const assay_value *v)
{
	/* In run_if's order. */
	static const char *const run_ifs[] = { "success", "failure", "always" };
	int c = option_choice(v, NULL, run_ifs, N(run_ifs));

	if (c >= 0)
		n->run_if = (run_if)c;
}

/* Only the table is checked here: its keys and values belong to the
 * resource types, which check them once the plugins are loaded (each
 * value reported once, by its owner, in its own words). */
static void load_resources(plan_node *n, const assay_value *v)
{
	if (!config_want(v, ASSAY_VALUE_TABLE, "a table (resources = { gpu = 1 })"))
		return;
	n->resources = v;
}

/* The options only some kinds have. */
static void load_kind_option(plan_node *n, plan_sweep *sweep, const char *key,
			     const assay_value *v)
{
	if (strcmp(key, "max_parallel") == 0) {
		if (n->kind != ASSAY_KIND_TRIAL ||
		    (!value_get(n->table, "matrix") && !value_get(n->table, "space") &&
		     !value_get(n->table, "repeat")))
			value_key_error(v, "`max_parallel` limits a group: put it in a group table or on a sweep of trials (a trial with `matrix`, `space` or `repeat`)");
		else
			config_get_uint(v, 1, 1000000, &sweep->max_parallel);
	} else if (strcmp(key, "matrix") == 0 || strcmp(key, "objective") == 0) {
		if (n->kind != ASSAY_KIND_TRIAL)
			value_key_error(v, "`%s` is only for trials, and `%s` is a %s", key,
					 n->id, status_kind_name(n->kind));
		else if (strcmp(key, "objective") == 0)
			config_matrix_objective(sweep, v);
	} else if (config_is_key(key, search_keys, N(search_keys))) {
		if (n->kind != ASSAY_KIND_TRIAL)
			value_key_error(v, "`%s` is only for trials, and `%s` is a %s", key,
					 n->id, status_kind_name(n->kind));
	} else if (strcmp(key, "items") == 0) {
		if (n->kind != ASSAY_KIND_VALIDATION)
			value_key_error(v, "`items` is only for validations, and `%s` is a %s",
					 n->id, status_kind_name(n->kind));
	}
}

void config_node_options(plan_node *n, plan_sweep *sweep)
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
			if (config_want(v, ASSAY_VALUE_STRING, "a string"))
				n->type_name = value_string(v);
		} else if (strcmp(key, "description") == 0) {
			config_want(v, ASSAY_VALUE_STRING, "a string");
		} else if (strcmp(key, "after") == 0) {
			if (config_string_array(v, true))
				n->after = v;
		} else if (strcmp(key, "gate") == 0) {
			load_gate(n, v);
		} else if (strcmp(key, "skip") == 0) {
			load_skip(n, v);
		} else if (strcmp(key, "run_if") == 0) {
			load_run_if(n, v);
		} else if (strcmp(key, "timeout") == 0) {
			config_get_duration(v, false, &n->timeout_ms);
		} else if (strcmp(key, "retries") == 0) {
			config_get_uint(v, 0, 100, &n->retries);
		} else if (strcmp(key, "retry_delay") == 0) {
			config_get_duration(v, true, &n->retry_delay_ms);
		} else if (strcmp(key, "estimate") == 0) {
			int64_t ms;

			if (config_get_duration(v, true, &ms))
				n->estimate_s = (double)ms / 1000;
		} else if (strcmp(key, "resources") == 0) {
			load_resources(n, v);
		} else {
			load_kind_option(n, sweep, key, v);
		}
	}
}
