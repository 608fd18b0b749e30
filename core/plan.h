/* plan.h -- what a configuration asks for, as objects: the nodes in
 * declaration order, the groups that contain them, the sweeps of trials,
 * and the names that `after` and --only may use. */
#ifndef ASSAY_PLAN_H
#define ASSAY_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "assay/plugin.h"
#include "diag.h"
#include "toml.h"
#include "value.h"

/* Past this many nodes a matrix or item list is a mistake, not a plan. */
#define PLAN_MAX_NODES 1000000

/* Groups nest at most this deep. */
#define PLAN_MAX_DEPTH 16

/* No group, no sweep, no such name. */
#define PLAN_NONE UINT32_MAX

typedef enum run_if {
	RUN_IF_SUCCESS = 0, /* every dependency OK or WARNING (the default) */
	RUN_IF_FAILURE,     /* some dependency CRITICAL or UNKNOWN */
	RUN_IF_ALWAYS
} run_if;

typedef struct plan_node {
	/* What running the node reads comes first: one cache line. */
	const assay_node_type *type;     /* set by config_prepare() */
	void *state;                     /* from the type's prepare */
	unsigned kind;                   /* one ASSAY_KIND_* bit */
	run_if run_if;
	int64_t timeout_ms;              /* 0: the runner's default */
	size_t n_resources;
	size_t n_items;                  /* validations */
	unsigned retries;
	bool gate;
	bool gate_warning;               /* a gate that WARNING passes too */
	bool prepared;
	char *id;                        /* "gcp.buckets", "lr[lr=0.1,bs=32]" */

	uint32_t group;                  /* the innermost enclosing group, or PLAN_NONE */
	uint32_t sweep;                  /* a trial's sweep; PLAN_NONE for other kinds */
	const assay_value *table;        /* the node's table; its keys are the options */
	const char *type_name;
	const assay_value *after;        /* array of ids or group names, or NULL */
	const uint32_t *after_refs;      /* each name of after as plan_find() finds it */
	size_t n_after;
	/* The one sweep `after` follows whole (its name, or a trial of its
	 * own), whose best trial {best.NAME} names; PLAN_NONE when it names
	 * none or several.  after_trial: its first trial, for its params. */
	uint32_t after_sweep;
	const struct plan_node *after_trial;
	const char *skip;                /* `skip`: the reason it never runs, or NULL */
	int64_t retry_delay_ms;          /* base of the exponential backoff */
	double estimate_s;               /* declared duration for the critical path; 0: none */
	const assay_value *resources;    /* table, or NULL */
	void **resource_reqs;            /* one per resource type used, from its prepare */
	const assay_resource_type **resource_types;

	const assay_param *params;       /* a matrix's trial: its row of the sweep's params */
	size_t n_params;
	uint32_t point;                  /* a trial's point in its sweep: its repeats share it */
	unsigned seed;                   /* a trial's repeat index, {seed}: 0 .. repeat - 1 */
	bool params_unknown;             /* its sweep (matrix, space, search, caps) had errors:
					  * any {NAME} may be one of its parameters */

	char **items;                    /* validations: each into items_text */
	char *items_text;                /* the items, one after another */
} plan_node;

/* A table without `type` under check, trial or validation. */
typedef struct plan_group {
	char *name;                      /* "gcp", "gcp.eu" */
	uint32_t parent;                 /* the enclosing group, or PLAN_NONE */
	uint32_t limit;                  /* its max_parallel's index in the plan's limits */
	unsigned max_parallel;           /* 0: no limit */
	const assay_value *table;        /* where it is declared */
	const uint32_t *members;         /* the nodes in it, at any depth, in plan order */
	size_t n_members;
} plan_group;

/* How a sweep stops trials early on their intermediate values. */
typedef enum prune_rule {
	PRUNE_NONE = 0,
	PRUNE_MEDIAN,                    /* Optuna's MedianPruner */
	PRUNE_ASHA                       /* asynchronous successive halving */
} prune_rule;

/* The trials of one [trial.X] table: its matrix's, space's and repeats',
 * or the trial alone (plan_sweep_expands()). */
typedef struct plan_sweep {
	const char *id;                  /* "lr"; a sweep's trials are "lr[...]" */
	const assay_value *table;
	const assay_value *matrix;       /* grid axes, or NULL */
	uint32_t first, n_trials;        /* its trials: nodes[first .. first + n_trials) */
	/* A sweep's parameters: n_trials rows of n_params, a row per trial
	 * in expansion order; each row names the space's axes, then the
	 * matrix's, in key order (the repeats of a point have equal rows).
	 * The values are texts of `values` (full values: a sampled float's
	 * shortest round-trip text); NULL for a trial alone. */
	assay_param *params;
	size_t n_params;
	char **values;
	size_t n_values;
	const char *objective;           /* the metric the trials are ranked by, or NULL */
	bool maximise;
	bool has_target;                 /* objective.target: once a trial reaches it, */
	double target;                   /* no new trial of the sweep starts */

	/* The search (config_search.c).  Trials are points x repeat, in
	 * expansion order: the repeats of a point are consecutive. */
	const assay_value *space;        /* sampled axes, or NULL */
	bool random;                     /* search.method = "random" */
	unsigned samples;                /* random: points drawn from space */
	uint64_t seed;                   /* random: the sampler's seed (a fixed default) */
	unsigned repeat;                 /* runs of each point (1: no repeat) */
	size_t n_points;                 /* distinct points among its trials */
	size_t max_trials;               /* the cap applied; 0: none */
	unsigned max_failures;           /* consecutive failures that stop it; 0: none */

	/* prune = { rule, ... } */
	prune_rule prune;
	unsigned warmup_steps;           /* median: steps before a trial may be pruned */
	unsigned startup_trials;         /* median: trials finished before any is pruned */
	int64_t min_resource;            /* asha: the first rung's step */
	unsigned reduction_factor;       /* asha: eta, >= 2 */
	unsigned max_parallel;           /* for the trials together; 0: no limit */
	uint32_t limit;                  /* its max_parallel's index in the plan's limits */
	uint32_t groups_before;          /* groups read before its table: where a list of
					  * groups and matrices places it */
} plan_sweep;

typedef struct plan {
	char *path;
	toml_doc *doc;                   /* what config_load() parsed; NULL when borrowed */
	value_tree values;
	bool have_values;

	/* [runner] */
	unsigned jobs;                   /* nodes running at once (make -j) */
	unsigned workers;                /* pool threads */
	int64_t timeout_ms;              /* per node, unless the node says */
	char *state_dir;                 /* absolute (relative ones are to the file's directory) */
	unsigned keep_runs;              /* runs/ kept in the state dir; 0: every one */
	bool fail_fast;
	bool journal;                    /* write the journal (default true; false: no --resume) */
	unsigned journal_sync;           /* a journal_sync (journal.h): batch, run or never */
	int64_t resume_max_age_ms;       /* the oldest result --resume reuses; 0: any age */

	/* [plugins] */
	const assay_value *load;         /* array of plugin names or paths, or NULL */
	const assay_value *plugin_path;  /* string or array of directories, or NULL */
	const assay_value *plugins;      /* the whole [plugins] table, or NULL */

	plan_node *nodes;                /* declaration order */
	size_t n_nodes, cap_nodes;
	size_t n_executions;             /* one per check and trial, one per validation item */
	plan_group *groups;              /* outer before inner */
	size_t n_groups, cap_groups;
	plan_sweep *sweeps;              /* in the order of their tables in the file */
	size_t n_sweeps, cap_sweeps;

	arena mem;                       /* ids, names, the nodes' after_refs */

	/* Made by plan_index(). */
	uint32_t *members;               /* the groups' members, one block */
	uint64_t *names;                 /* hash of the names: refs (see plan_find) */
	size_t names_mask;
	unsigned *limits;                /* every max_parallel, by index */
	size_t n_limits;
} plan;

/* Once the nodes, groups and sweeps are loaded and the nodes sorted:
 * the sweeps' ranges, the groups' members, the limits, the name index and
 * the nodes' after_refs (each name found once, for config_prepare() to
 * check and graph_build() to follow).
 * A name given twice (a node and a group, two groups) is reported to d.
 * 0 or ASSAY_ENOMEM. */
int plan_index(plan *p, diag *d);

/* Release every prepared node's state, then everything else. */
void plan_release(plan *p);

/* A name that `after` and --only may use -- a node id, a group name or a
 * matrix's id -- as a ref: a node's index, n_nodes + a group's index, or
 * n_nodes + n_groups + a sweep's index.  PLAN_NONE when there is none. */
uint32_t plan_find(const plan *p, const char *name);
const char *plan_ref_name(const plan *p, uint32_t ref);

/* Every name plan_find() knows, for a "did you mean": malloc'd (free()
 * the array, not the names), *n set; NULL when out of memory. */
const char **plan_names(const plan *p, size_t *n);

/* The nodes a ref stands for: the node, a group's members, a matrix's
 * trials.  list[0 .. n) when list is set, else first .. first + n. */
typedef struct plan_span {
	const uint32_t *list;
	uint32_t first, n;
} plan_span;

plan_span plan_span_of(const plan *p, uint32_t ref);

static inline uint32_t plan_span_at(const plan_span *s, uint32_t k)
{
	return s->list ? s->list[k] : s->first + k;
}

/* The limits node n runs under, outermost first -- its groups' and its
 * sweep's max_parallel -- into out; how many (at most PLAN_MAX_DEPTH + 1).
 * Every node takes them in this order, so none waits for a limit while
 * holding one another node waits for it to release. */
size_t plan_node_limits(const plan *p, const plan_node *n, uint32_t *out);

/* n's sweep, or NULL for a node that is no trial. */
static inline const plan_sweep *plan_sweep_of(const plan *p, const plan_node *n)
{
	return n->sweep == PLAN_NONE ? NULL : &p->sweeps[n->sweep];
}

/* Whether the sweep's table expands into trials of their own ids,
 * "lr[...]" -- a matrix, a space or a repeat -- rather than being one
 * trial of the table's id. */
static inline bool plan_sweep_expands(const plan_sweep *s)
{
	return s->matrix || s->space || s->repeat > 1;
}

/* The value of a trial parameter, or NULL. */
const char *plan_node_param(const plan_node *n, const char *name);

#endif /* ASSAY_PLAN_H */
