/* config.h -- configuration file to plan: runner options, plugins to load,
 * nodes with their dependencies; all validation of the file happens here. */
#ifndef ASSAY_CONFIG_H
#define ASSAY_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "assay/plugin.h"
#include "diag.h"
#include "toml.h"
#include "value.h"

struct registry;

/* Past this many nodes a matrix or item list is a mistake, not a plan. */
#define PLAN_MAX_NODES 1000000

typedef enum run_if {
	RUN_IF_SUCCESS = 0, /* every dependency OK or WARNING (the default) */
	RUN_IF_FAILURE,     /* some dependency CRITICAL or UNKNOWN */
	RUN_IF_ALWAYS
} run_if;

typedef struct plan_param {
	const char *name;   /* the matrix key (owned by the document) */
	char *value;        /* as text: "0.01", "32", "adam" */
} plan_param;

typedef struct plan_node {
	/* What running the node reads comes first: one cache line. */
	const assay_node_type *type;     /* set by config_prepare() */
	void *state;                     /* from the type's prepare */
	unsigned kind;                   /* one ASSAY_KIND_* bit */
	run_if run_if;
	int64_t timeout_ms;              /* 0 when not set: the run applies [runner] timeout */
	size_t n_resources;
	size_t n_items;                  /* validations */
	unsigned retries;
	bool gate;
	bool gate_warning;               /* a gate that WARNING passes too */
	bool prepared;
	char *id;                        /* "gcp.buckets", "lr[lr=0.1,bs=32]" */

	char *group;                     /* enclosing group ("gcp"), a matrix's base id, or NULL */
	const assay_value *table;        /* the node's table; its keys are the options */
	const char *type_name;
	const assay_value *after;        /* array of ids or group names, or NULL */
	const char *skip;                /* `skip`: the reason it never runs, or NULL */
	int64_t retry_delay_ms;          /* base of the exponential backoff */
	unsigned max_parallel;           /* for a matrix's trials together; 0: no limit */
	double estimate_s;               /* declared duration for the critical path; 0: none */
	const assay_value *resources;    /* table, or NULL */
	void **resource_reqs;            /* one per resource type used, from its prepare */
	const assay_resource_type **resource_types;

	plan_param *params;              /* trials from a matrix */
	size_t n_params;
	const char *objective_metric;    /* trials: the metric to rank by, or NULL */
	bool objective_max;

	char **items;                    /* validations */
} plan_node;

typedef struct plan_group {
	char *name;                      /* "gcp", "gcp.eu", or a matrix's base id */
	unsigned max_parallel;           /* 0: no limit */
	const assay_value *table;        /* where it is declared */
} plan_group;

typedef struct plan {
	char *path;
	toml_doc *doc;
	value_tree values;
	bool have_values;

	/* [runner] */
	unsigned jobs;                   /* nodes running at once (make -j) */
	unsigned workers;                /* pool threads */
	int64_t timeout_ms;              /* per node, unless the node says */
	char *state_dir;
	bool fail_fast;

	/* [plugins] */
	const assay_value *load;         /* array of plugin names or paths, or NULL */
	const assay_value *plugin_path;  /* string or array of directories, or NULL */
	const assay_value *plugins;      /* the whole [plugins] table, or NULL */

	plan_node *nodes;                /* declaration order */
	size_t n_nodes, cap_nodes;
	size_t n_executions;             /* one per check and trial, one per validation item */
	plan_group *groups;
	size_t n_groups;
} plan;

/* Read and check the file at path: TOML, [runner], [plugins], the node
 * tables and their host options (after, timeout, matrix, items, ...).
 * Every error goes to d.  Returns 0 when the plan is complete enough to
 * continue with config_prepare() (d may already hold errors: all of a
 * file's errors are reported together), ASSAY_EINVAL when it is not (the
 * file cannot be read or is not TOML), or ASSAY_ENOMEM.  plan_release()
 * in every case. */
int config_load(plan *p, const char *path, unsigned default_workers, diag *d);

/* With the plugins loaded: resolve each node's type (an unknown one names
 * the plugins that were loaded), reject unknown keys with a suggestion,
 * check `after` references and resources, and run every type's prepare.
 * Returns the number of errors now in d (0: the plan can run). */
size_t config_prepare(plan *p, struct registry *r, diag *d);

/* Release every prepared node's state, then everything else. */
void plan_release(plan *p);

/* The value of a trial parameter, or NULL. */
const char *plan_node_param(const plan_node *n, const char *name);

#endif /* ASSAY_CONFIG_H */
