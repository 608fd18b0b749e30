/* check_config.c -- Check suite for core/config.c and core/value.c: a table
 * of bad configurations, each with the exact error it must produce, and
 * what good ones turn into. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "diag.h"
#include "session.h"

static char workdir[] = "/tmp/assay-check-config-XXXXXX";

static void write_file(const char *name, const char *text)
{
	FILE *f = fopen(name, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* Load and prepare text as c.toml in a session, with the test plugin
 * `good` loaded after whatever the file loads itself.  The diagnostics are
 * in s->d; session_release() in every case. */
static void run_config(const char *text, session *s, bool allow_unset)
{
	session_options o = { .allow_unset = allow_unset };

	write_file("c.toml", text);
	session_init(s, &o);
	if (session_load(s, "c.toml") < 0)
		return;
	ck_assert_int_eq(session_load_plugins(s), 0);
	ck_assert_int_eq(registry_load(&s->reg, "good", NULL, NULL), 0);
	session_prepare(s);
}

static void setup(void)
{
	const char *dir = getenv("TEST_PLUGIN_DIR");

	/* The session's search path starts there. */
	setenv("ASSAY_PLUGIN_PATH", dir ? dir : "tests/plugins/.libs", 1);
	ck_assert_ptr_nonnull(mkdtemp(workdir));
	ck_assert_int_eq(chdir(workdir), 0);
	write_file("items.txt", "# shards\nshard-1\n\n  shard-2  \n");
	write_file("token", "s3cr3t-token\n");
	setenv("ASSAY_TEST_TOKEN", "hunter2-secret", 1);
	unsetenv("ASSAY_NOT_SET");
}

static void teardown(void)
{
	unlink("c.toml");
	unlink("items.txt");
	unlink("token");
	ck_assert_int_eq(chdir("/"), 0);
	rmdir(workdir);
	strcpy(workdir, "/tmp/assay-check-config-XXXXXX");
}

struct bad {
	const char *toml;
	const char *error; /* the first error, exactly */
	size_t count;      /* how many errors in all */
};

#define NODE "[check.a]\ntype = \"good\"\nvalue = 1\n"
#define TRIAL "[trial.t]\ntype = \"good\"\nvalue = 1\n"

static const struct bad bad_configs[] = {
	/* the top level and [runner] */
	{ "[chek.a]\ntype = \"good\"\n",
	  "c.toml:1:2: unknown key `chek` in the top level (did you mean `check`?)", 1 },
	{ "[runner]\njobs = 0\n",
	  "c.toml:2:8: `jobs` must be between 1 and 1000000, not 0", 1 },
	{ "[runner]\njobs = \"4\"\n",
	  "c.toml:2:8: `jobs` must be an integer, not string", 1 },
	{ "[runner]\nworkers = 5000\n",
	  "c.toml:2:11: `workers` must be between 1 and 1024, not 5000", 1 },
	{ "[runner]\ntimeout = \"5 s\"\n",
	  "c.toml:2:11: `timeout` is not a duration: \"5 s\" (write e.g. \"30s\", \"500ms\", \"2m\", \"1h30m\")", 1 },
	{ "[runner]\ntimeout = \"0s\"\n",
	  "c.toml:2:11: `timeout` must be longer than 0", 1 },
	{ "[runner]\ntiemout = \"5s\"\n",
	  "c.toml:2:1: unknown key `tiemout` in [runner] (did you mean `timeout`?)", 1 },
	{ "[runner]\nfail_fast = \"yes\"\n",
	  "c.toml:2:13: `fail_fast` must be true or false, not string", 1 },
	{ "[runner]\nkeep_runs = -1\n",
	  "c.toml:2:13: `keep_runs` must be between 0 and 1000000, not -1", 1 },
	{ "[runner]\nstate_dir = 5\n",
	  "c.toml:2:13: `state_dir` must be a string, not integer", 1 },
	/* [plugins] */
	{ "[plugins]\nload = \"good\"\n",
	  "c.toml:2:8: `load` must be an array of strings, not string", 1 },
	{ "[plugins]\nload = [\"\"]\n",
	  "c.toml:2:9: `load` must hold non-empty strings, not an empty string", 1 },
	{ "[plugins]\nlod = []\n",
	  "c.toml:2:1: unknown key `lod` in [plugins] (did you mean `load`?)", 1 },
	{ "[plugins.gpu]\nlock_dir = \"/run/lock\"\n",
	  "c.toml:1:10: [plugins.gpu] configures a plugin that is not in `load`", 1 },
	/* node structure */
	{ "[check]\na = 5\n",
	  "c.toml:2:1: `check.a` is not a table: declare nodes as [check.NAME] with a `type`", 1 },
	{ "[check.\"a b\"]\ntype = \"good\"\nvalue = 1\n",
	  "c.toml:1:8: `a b` is not a valid node or group name: use letters, digits, '_' and '-'", 1 },
	{ "[check.grp]\ntimeout = \"1s\"\n[check.grp.a]\ntype = \"good\"\nvalue = 1\n",
	  "c.toml:2:1: `timeout` in group `grp`: a group is a table without `type`; add `type` to make `grp` a node", 1 },
	{ "[check.empty]\n",
	  "c.toml:1:8: `empty` has no `type` and no nodes: a node needs `type = \"...\"`", 1 },
	{ NODE "[trial.a]\ntype = \"good\"\nvalue = 1\n",
	  "c.toml:1:8: `a` names two nodes or groups (check, trial and validation share one namespace)", 1 },
	{ "[check.g.a]\ntype = \"good\"\nvalue = 1\n[trial.g.b]\ntype = \"good\"\nvalue = 1\n",
	  "c.toml:4:8: `g` names two nodes or groups (check, trial and validation share one namespace)", 1 },
	/* types and options */
	{ "[check.a]\ntype = 5\n",
	  "c.toml:2:8: `type` must be a string, not integer", 1 },
	{ "[check.a]\ntype = \"goood\"\n",
	  "c.toml:2:8: unknown node type `goood` (did you mean `good`?); plugins loaded: good", 1 },
	{ "[check.a]\ntype = \"prob\"\n",
	  "c.toml:2:8: unknown node type `prob`; plugins loaded: good (the plugin `probe` is on the search path: add it to [plugins] load)", 1 },
	{ "[validation.a]\ntype = \"good\"\nvalue = 1\nitems = { list = [\"x\"] }\n",
	  "c.toml:2:8: type `good` does not run validations", 1 },
	{ "[check.a]\ntype = \"good\"\n",
	  "c.toml:1:1: `a` needs `value`", 1 },
	{ "[check.a]\ntype = \"good\"\nvalue = 7\n",
	  "c.toml:3:9: `value` must be between 0 and 3, not 7", 1 },
	{ NODE "valeu = 2\n",
	  "c.toml:4:1: unknown key `valeu` in check `a` (type `good`) (did you mean `value`?)", 1 },
	{ NODE "tmeout = \"5s\"\n",
	  "c.toml:4:1: unknown key `tmeout` in check `a` (type `good`) (did you mean `timeout`?)", 1 },
	{ NODE "timeout = -5\n",
	  "c.toml:4:11: `timeout` must be a number of seconds from 0 to 9e12, not -5", 1 },
	{ NODE "retry_delay = -0.5\n",
	  "c.toml:4:15: `retry_delay` must be a number of seconds from 0 to 9e12, not -0.5", 1 },
	{ NODE "timeout = true\n",
	  "c.toml:4:11: `timeout` must be a duration such as \"30s\" or a number of seconds, not boolean", 1 },
	{ NODE "retries = 101\n",
	  "c.toml:4:11: `retries` must be between 0 and 100, not 101", 1 },
	{ NODE "run_if = \"sometimes\"\n",
	  "c.toml:4:10: `run_if` must be \"success\", \"failure\" or \"always\", not \"sometimes\"", 1 },
	{ NODE "gate = \"true\"\n",
	  "c.toml:4:8: `gate` must be true, false, \"ok\" or \"warning\", not \"true\"", 1 },
	{ NODE "gate = 1\n",
	  "c.toml:4:8: `gate` must be true, false, \"ok\" or \"warning\", not integer", 1 },
	{ NODE "skip = true\n",
	  "c.toml:4:8: `skip` must be a string: the reason the node is skipped, not boolean", 1 },
	{ NODE "skip = \"\"\n",
	  "c.toml:4:8: `skip` must give the reason the node is skipped, not an empty string", 1 },
	{ NODE "skip = \" \\t\"\n",
	  "c.toml:4:8: `skip` must give the reason the node is skipped, not an empty string", 1 },
	{ "[check.g]\nskip = \"off\"\n[check.g.a]\ntype = \"good\"\nvalue = 1\n",
	  "c.toml:2:1: `skip` in group `g`: a group is a table without `type`; add `type` to make `g` a node", 1 },
	{ NODE "after = [\"nosuch\"]\n",
	  "c.toml:4:10: `after` of `a` names `nosuch`, which is no node or group", 1 },
	{ NODE "after = [\"billng\"]\n[check.billing]\ntype = \"good\"\nvalue = 0\n",
	  "c.toml:4:10: `after` of `a` names `billng`, which is no node or group (did you mean `billing`?)", 1 },
	{ NODE "matrix = { x = [1] }\n",
	  "c.toml:4:1: `matrix` is only for trials, and `a` is a check", 1 },
	{ NODE "items = { list = [\"x\"] }\n",
	  "c.toml:4:1: `items` is only for validations, and `a` is a check", 1 },
	{ NODE "max_parallel = 2\n",
	  "c.toml:4:1: `max_parallel` limits a group: put it in a group table or on a sweep of trials (a trial with `matrix`, `space` or `repeat`)", 1 },
	/* trials */
	{ "[trial.t]\ntype = \"good\"\nvalue = 1\nmatrix = 5\n",
	  "c.toml:4:10: `matrix` must be a table of arrays (matrix = { lr = [0.1, 0.01] }), not integer", 1 },
	{ "[trial.t]\ntype = \"good\"\nvalue = 1\nmatrix = { lr = [] }\n",
	  "c.toml:4:17: matrix parameter `lr` must be a non-empty array", 1 },
	{ "[trial.t]\ntype = \"good\"\nvalue = 1\nmatrix = { lr = [[1]] }\n",
	  "c.toml:4:18: matrix values must be strings, numbers or booleans, not array", 1 },
	{ "[trial.t]\ntype = \"good\"\nvalue = 1\nobjective = { metric = \"acc\", goal = \"up\" }\n",
	  "c.toml:4:38: `goal` must be \"max\" or \"min\", not \"up\"", 1 },
	{ "[trial.t]\ntype = \"good\"\nvalue = 1\nobjective = { goal = \"max\" }\n",
	  "c.toml:4:13: `objective` needs `metric`", 1 },
	/* a trial's search (config_search.c) */
	{ TRIAL "space = 5\nsearch = { method = \"random\", samples = 2 }\n",
	  "c.toml:4:9: `space` must be a table of axes (space = { lr = { loguniform = [1e-5, 1e-1] } }), not integer", 1 },
	{ TRIAL "space = {}\nsearch = { method = \"random\", samples = 2 }\n",
	  "c.toml:4:9: `space` is empty", 1 },
	{ TRIAL "space = { lr = 0.1 }\nsearch = { method = \"random\", samples = 2 }\n",
	  "c.toml:4:16: space axis `lr` must be a table: { uniform = [0.0, 0.5] }, { loguniform = [1e-5, 1e-1] }, { int = [1, 8] } or { choice = [\"adam\", \"sgd\"] }", 1 },
	{ TRIAL "space = { lr = {} }\nsearch = { method = \"random\", samples = 2 }\n",
	  "c.toml:4:16: space axis `lr` needs one of `uniform`, `loguniform`, `int` or `choice`", 1 },
	{ TRIAL "space = { lr = { unifrom = [0, 1] } }\nsearch = { method = \"random\", samples = 2 }\n",
	  "c.toml:4:18: unknown key `unifrom` in a space axis (did you mean `uniform`?)", 1 },
	{ TRIAL "space = { lr = { uniform = [0, 1], int = [0, 1] } }\nsearch = { method = \"random\", samples = 2 }\n",
	  "c.toml:4:36: space axis `lr` has both `uniform` and `int`: give one", 1 },
	{ TRIAL "space = { lr = { uniform = [1, 0] } }\nsearch = { method = \"random\", samples = 2 }\n",
	  "c.toml:4:28: `uniform` bounds must be ordered, low < high: [1, 0]", 1 },
	{ TRIAL "space = { lr = { uniform = [0.5, 0.5] } }\nsearch = { method = \"random\", samples = 2 }\n",
	  "c.toml:4:28: `uniform` bounds must be ordered, low < high: [0.5, 0.5]", 1 },
	{ TRIAL "space = { lr = { uniform = [0, \"x\"] } }\nsearch = { method = \"random\", samples = 2 }\n",
	  "c.toml:4:32: `uniform` bounds must be finite numbers", 1 },
	{ TRIAL "space = { lr = { uniform = [0, 1, 2] } }\nsearch = { method = \"random\", samples = 2 }\n",
	  "c.toml:4:28: `uniform` must be [low, high], two numbers", 1 },
	{ TRIAL "space = { lr = { uniform = [0, inf] } }\nsearch = { method = \"random\", samples = 2 }\n",
	  "c.toml:4:32: `uniform` bounds must be finite numbers", 1 },
	{ TRIAL "space = { lr = { loguniform = [0, 1] } }\nsearch = { method = \"random\", samples = 2 }\n",
	  "c.toml:4:31: `loguniform` bounds must be greater than 0, not 0", 1 },
	{ TRIAL "space = { lr = { loguniform = [0.1, 0.01] } }\nsearch = { method = \"random\", samples = 2 }\n",
	  "c.toml:4:31: `loguniform` bounds must be ordered, low < high: [0.1, 0.01]", 1 },
	{ TRIAL "space = { n = { int = [1.5, 8] } }\nsearch = { method = \"random\", samples = 2 }\n",
	  "c.toml:4:24: `int` bounds must be integers, not float", 1 },
	{ TRIAL "space = { n = { int = [8, 1] } }\nsearch = { method = \"random\", samples = 2 }\n",
	  "c.toml:4:23: `int` bounds must be ordered, low <= high: [8, 1]", 1 },
	{ TRIAL "space = { n = { int = [0, 8], log = true } }\nsearch = { method = \"random\", samples = 2 }\n",
	  "c.toml:4:23: `int` with `log = true` needs bounds of at least 1, not 0", 1 },
	{ TRIAL "space = { n = { int = [1, 8], log = \"yes\" } }\nsearch = { method = \"random\", samples = 2 }\n",
	  "c.toml:4:37: `log` must be true or false, not string", 1 },
	{ TRIAL "space = { lr = { uniform = [0, 1], log = true } }\nsearch = { method = \"random\", samples = 2 }\n",
	  "c.toml:4:36: `log` is for `int` axes: use `loguniform` for floats", 1 },
	{ TRIAL "space = { o = { choice = [] } }\nsearch = { method = \"random\", samples = 2 }\n",
	  "c.toml:4:26: `choice` must be a non-empty array", 1 },
	{ TRIAL "space = { o = { choice = [\"a\", [1]] } }\nsearch = { method = \"random\", samples = 2 }\n",
	  "c.toml:4:32: `choice` values must be strings, numbers or booleans, not array", 1 },
	{ TRIAL "space = { o = { choice = \"a\" } }\nsearch = { method = \"random\", samples = 2 }\n",
	  "c.toml:4:26: `choice` must be a non-empty array", 1 },
	{ TRIAL "space = { \"a b\" = { choice = [\"a\"] } }\nsearch = { method = \"random\", samples = 2 }\n",
	  "c.toml:4:11: `a b` is not a valid node or group name: use letters, digits, '_' and '-'", 1 },
	{ TRIAL "matrix = { lr = [1] }\nspace = { lr = { uniform = [0, 1] } }\nsearch = { method = \"random\", samples = 2 }\n",
	  "c.toml:5:11: `lr` is both a space axis and a matrix parameter: give it once", 1 },
	{ TRIAL "space = { lr = { uniform = [0, 1] } }\n",
	  "c.toml:4:1: `space` is sampled by a random search: add search = { method = \"random\", samples = N }", 1 },
	{ TRIAL "space = { lr = { uniform = [0, 1] } }\nsearch = { method = \"grid\" }\n",
	  "c.toml:4:1: `space` is sampled by a random search: add search = { method = \"random\", samples = N } (this search is a grid)", 1 },
	{ TRIAL "matrix = { x = [1] }\nsearch = { method = \"random\", samples = 2 }\n",
	  "c.toml:5:1: a random search samples `space`, and `t` has none: add space = { NAME = { uniform = [LOW, HIGH] } }", 1 },
	{ TRIAL "space = { lr = { uniform = [0, 1] } }\nsearch = { method = \"random\" }\n",
	  "c.toml:5:10: a random search needs `samples`, the number of points to draw", 1 },
	{ TRIAL "space = { lr = { uniform = [0, 1] } }\nsearch = { method = \"bayes\", samples = 2 }\n",
	  "c.toml:5:21: `method` must be \"grid\" or \"random\", not \"bayes\"", 1 },
	{ TRIAL "space = { lr = { uniform = [0, 1] } }\nsearch = { method = \"random\", samples = 0 }\n",
	  "c.toml:5:41: `samples` must be between 1 and 1000000, not 0", 1 },
	{ TRIAL "space = { lr = { uniform = [0, 1] } }\nsearch = { method = \"random\", samples = 2, seed = -1 }\n",
	  "c.toml:5:51: `seed` must be at least 0, not -1", 1 },
	{ TRIAL "space = { lr = { uniform = [0, 1] } }\nsearch = { method = \"random\", sample = 2 }\n",
	  "c.toml:5:31: unknown key `sample` in `search` (did you mean `samples`?)", 2 },
	{ TRIAL "matrix = { x = [1] }\nsearch = { samples = 2 }\n",
	  "c.toml:5:12: `samples` is for a random search: add method = \"random\"", 1 },
	{ TRIAL "search = \"random\"\n",
	  "c.toml:4:10: `search` must be a table (search = { method = \"random\", samples = 20 }), not string", 1 },
	{ TRIAL "repeat = 0\n",
	  "c.toml:4:10: `repeat` must be between 1 and 1000000, not 0", 1 },
	{ TRIAL "repeat = 2\nmatrix = { seed = [1, 2] }\n",
	  "c.toml:5:12: an axis named `seed` is {seed} itself, and `repeat` = 2 sets {seed} to 0 .. 1: drop one", 1 },
	{ TRIAL "repeat = 3\nspace = { seed = { int = [0, 9] } }\nsearch = { method = \"random\", samples = 2 }\n",
	  "c.toml:5:11: an axis named `seed` is {seed} itself, and `repeat` = 3 sets {seed} to 0 .. 2: drop one", 1 },
	{ TRIAL "max_trials = 0\n",
	  "c.toml:4:14: `max_trials` must be between 1 and 1000000, not 0", 1 },
	{ TRIAL "max_failures = 0\n",
	  "c.toml:4:16: `max_failures` must be between 1 and 1000000, not 0", 1 },
	{ TRIAL "repeat = 3\nmax_trials = 2\n",
	  "c.toml:5:14: `max_trials` = 2 keeps no point: each point runs `repeat` = 3 times, and the cap keeps whole points", 1 },
	{ TRIAL "space = { lr = { uniform = [0, 1] } }\nsearch = { method = \"random\", samples = 1000000 }\nmatrix = { x = [1, 2] }\n",
	  "c.toml:1:8: `t` expands to more than 1000000 trials (add `max_trials` to cap it)", 1 },
	{ TRIAL "objective = { metric = \"acc\", target = \"high\" }\n",
	  "c.toml:4:40: `target` must be a number, not string", 1 },
	{ TRIAL "objective = { metric = \"acc\", targt = 1 }\n",
	  "c.toml:4:31: unknown key `targt` in `objective` (did you mean `target`?)", 1 },
	{ TRIAL "prune = { rule = \"median\" }\n",
	  "c.toml:4:1: `prune` compares the trials' `objective` metric: add objective = { metric = \"NAME\", goal = \"max\" }", 1 },
	{ TRIAL "objective = { metric = \"acc\" }\nprune = { }\n",
	  "c.toml:5:9: `prune` needs `rule`: \"median\" or \"asha\"", 1 },
	{ TRIAL "objective = { metric = \"acc\" }\nprune = { rule = \"hyperband\" }\n",
	  "c.toml:5:18: `rule` must be \"median\" or \"asha\", not \"hyperband\"", 1 },
	{ TRIAL "objective = { metric = \"acc\" }\nprune = { rule = \"median\", warmup_step = 1 }\n",
	  "c.toml:5:28: unknown key `warmup_step` in `prune` with rule = \"median\" (did you mean `warmup_steps`?)", 1 },
	{ TRIAL "objective = { metric = \"acc\" }\nprune = { rule = \"median\", min_resource = 1 }\n",
	  "c.toml:5:28: `min_resource` is for rule = \"asha\", and this rule is \"median\"", 1 },
	{ TRIAL "objective = { metric = \"acc\" }\nprune = { rule = \"asha\", reduction_factor = 1 }\n",
	  "c.toml:5:45: `reduction_factor` must be between 2 and 2147483647, not 1", 1 },
	{ TRIAL "objective = { metric = \"acc\" }\nprune = { rule = \"asha\", min_resource = 0 }\n",
	  "c.toml:5:41: `min_resource` must be between 1 and 2147483647, not 0", 1 },
	{ TRIAL "objective = { metric = \"acc\" }\nprune = { rule = \"median\", warmup_steps = -1 }\n",
	  "c.toml:5:43: `warmup_steps` must be between 0 and 2147483647, not -1", 1 },
	{ TRIAL "objective = { metric = \"acc\" }\nprune = \"median\"\n",
	  "c.toml:5:9: `prune` must be a table (prune = { rule = \"median\" }), not string", 1 },
	{ "[check.a]\ntype = \"good\"\nvalue = 1\nrepeat = 2\n",
	  "c.toml:4:1: `repeat` is only for trials, and `a` is a check", 1 },
	{ "[check.a]\ntype = \"good\"\nvalue = 1\nspace = { }\n",
	  "c.toml:4:1: `space` is only for trials, and `a` is a check", 1 },
	/* validations */
	{ "[validation.v]\ntype = \"good\"\n",
	  "c.toml:1:1: validation `v` needs `items` (a glob, a list or a file)", 2 },
	{ "[validation.v]\ntype = \"good\"\nitems = { glob = \"nomatch/*.py\" }\n",
	  "c.toml:3:9: `items` of `v` is empty (set allow_empty = true if that is expected)", 2 },
	{ "[validation.v]\ntype = \"good\"\nitems = { glob = \"*\", list = [] }\n",
	  "c.toml:3:9: `items` needs exactly one of `glob`, `list` or `file`", 2 },
	{ "[validation.v]\ntype = \"good\"\nitems = { file = \"missing.txt\" }\n",
	  "c.toml:3:18: cannot read `missing.txt`: No such file or directory", 2 },
	/* resources */
	{ NODE "resources = { gpu = 1 }\n",
	  "c.toml:4:15: unknown resource `gpu` (resource types: slot)", 1 },
	{ NODE "resources = { slot = 3 }\n",
	  "c.toml:4:22: 3 slots requested, this machine has 2", 1 },
	/* values are the type's to check, each reported once, in its words */
	{ NODE "resources = { slot = -1 }\n",
	  "c.toml:4:22: `slot` must be at least 0, not -1", 1 },
	/* one error per type a request needs, with the likely fix */
	{ NODE "resources = { gpu = 1, gpu_memory_mb = 2 }\n",
	  "c.toml:4:15: unknown resource `gpu` (resource types: slot)", 1 },
	{ NODE "resources = { lane = 1, lane_width = 2 }\n",
	  "c.toml:4:15: unknown resource `lane` (the plugin `lanes` is on the search path: add it to [plugins] load)", 1 },
	/* interpolation */
	{ NODE "description = \"${env:ASSAY_NOT_SET}\"\n",
	  "c.toml:4:15: environment variable `ASSAY_NOT_SET` is not set (in `${env:ASSAY_NOT_SET}`)", 1 },
	/* one error per value: nothing more about what an unset variable left */
	{ NODE "timeout = \"${env:ASSAY_NOT_SET}\"\n",
	  "c.toml:4:11: environment variable `ASSAY_NOT_SET` is not set (in `${env:ASSAY_NOT_SET}`)", 1 },
	{ NODE "run_if = \"${env:ASSAY_NOT_SET}\"\n",
	  "c.toml:4:10: environment variable `ASSAY_NOT_SET` is not set (in `${env:ASSAY_NOT_SET}`)", 1 },
	{ NODE "description = \"${file:nofile}\"\n",
	  "c.toml:4:15: cannot read ${file:nofile}: No such file or directory", 1 },
	{ NODE "description = \"${env:}\"\n",
	  "c.toml:4:15: `${env:}` names nothing to interpolate: write ${env:NAME} or ${file:PATH}", 1 },
	{ NODE "description = \"${env:X\"\n",
	  "c.toml:4:15: unterminated `${env:` (write `$${` for a literal `${`)", 1 },
	{ NODE "description = \"${public-env:}\"\n",
	  "c.toml:4:15: `${public-env:}` names nothing to interpolate: write ${public-env:NAME} or ${public-file:PATH}", 1 },
	{ NODE "description = \"${public-file:x\"\n",
	  "c.toml:4:15: unterminated `${public-file:` (write `$${` for a literal `${`)", 1 },
	{ NODE "description = \"${public-env:ASSAY_NOT_SET}\"\n",
	  "c.toml:4:15: environment variable `ASSAY_NOT_SET` is not set (in `${public-env:ASSAY_NOT_SET}`)", 1 },
	/* plugins that cannot load */
	{ "[plugins]\nload = [\"nosuch\"]\n",
	  "c.toml:2:9: plugin `nosuch` not found (looked for nosuch.so in ", 1 },
};

START_TEST(test_bad_config)
{
	const struct bad *b = &bad_configs[_i];
	session s;

	run_config(b->toml, &s, false);
	ck_assert_msg(diag_count(&s.d) >= 1, "case %d: no error for:\n%s", _i, b->toml);
	/* The last case names a directory that differs per build: prefix. */
	if (strstr(b->error, "looked for"))
		ck_assert_msg(strncmp(s.d.lines[0], b->error, strlen(b->error)) == 0,
			      "case %d:\n got: %s\nwant: %s...", _i, s.d.lines[0], b->error);
	else
		ck_assert_msg(strcmp(s.d.lines[0], b->error) == 0,
			      "case %d:\n got: %s\nwant: %s", _i, s.d.lines[0], b->error);
	ck_assert_msg(diag_count(&s.d) == b->count, "case %d: %zu errors, want %zu (first: %s)",
		      _i, diag_count(&s.d), b->count, s.d.lines[0]);
	session_release(&s);
}
END_TEST

START_TEST(test_all_errors_reported)
{
	session s;

	run_config("[runner]\njobs = 0\nworkers = 0\n[check.a]\ntype = \"good\"\nvalue = 9\n"
		   "[check.b]\ntype = \"nope\"\n", &s, false);
	ck_assert_uint_eq(diag_count(&s.d), 4);
	ck_assert_str_eq(s.d.lines[0], "c.toml:2:8: `jobs` must be between 1 and 1000000, not 0");
	ck_assert_str_eq(s.d.lines[1], "c.toml:3:11: `workers` must be between 1 and 1024, not 0");
	ck_assert_str_eq(s.d.lines[2], "c.toml:6:9: `value` must be between 0 and 3, not 9");
	ck_assert_str_eq(s.d.lines[3], "c.toml:8:8: unknown node type `nope`; plugins loaded: good");
	session_release(&s);
}
END_TEST

/* A resource of a plugin that failed: the failure is the error to read,
 * and the request says so rather than send the reader elsewhere. */
START_TEST(test_resource_of_a_failed_plugin)
{
	session s;

	run_config("[plugins]\nload = [\"good\", \"failinit\"]\n"
		   "[check.a]\ntype = \"good\"\nvalue = 1\nresources = { gpu = 1, gpu_memory_mb = 2 }\n",
		   &s, false);
	ck_assert_uint_eq(diag_count(&s.d), 2);
	ck_assert_msg(strstr(s.d.lines[0], "plugin `failinit`") != NULL, "%s", s.d.lines[0]);
	ck_assert_str_eq(s.d.lines[1], "c.toml:6:15: unknown resource `gpu` (resource types: slot; "
				       "a plugin failed to load, above)");
	session_release(&s);
}
END_TEST

START_TEST(test_error_cap)
{
	char text[20000] = "";
	session s;
	int i;

	for (i = 0; i < 80; i++)
		snprintf(text + strlen(text), sizeof text - strlen(text),
			 "[check.n%d]\ntype = \"good\"\nvalue = 9\n", i);
	run_config(text, &s, false);
	ck_assert_uint_eq(diag_count(&s.d), 80);
	ck_assert_uint_eq(s.d.n, DIAG_MAX);
	ck_assert_uint_eq(s.d.dropped, 80 - DIAG_MAX);
	session_release(&s);
}
END_TEST

START_TEST(test_errors_print_in_file_order)
{
	diag d = DIAG_INIT;
	char *buf;
	size_t len;
	FILE *mem = open_memstream(&buf, &len);

	diag_add(&d, "f", 9, 1, "third");
	diag_add(&d, "f", 2, 7, "second");
	diag_add(&d, NULL, 0, 0, "no position");
	diag_add(&d, "f", 2, 3, "first");
	diag_print(&d, mem);
	fclose(mem);
	ck_assert_str_eq(buf, "no position\nf:2:3: first\nf:2:7: second\nf:9:1: third\n");
	free(buf);
	diag_release(&d);
}
END_TEST

START_TEST(test_toml_error)
{
	diag d = DIAG_INIT;
	plan p;

	write_file("c.toml", "[runner]\njobs = \n");
	ck_assert_int_eq(config_load(&p, "c.toml", 2, &d), ASSAY_EINVAL);
	ck_assert_uint_eq(diag_count(&d), 1);
	ck_assert_msg(strncmp(d.lines[0], "c.toml:2:", 9) == 0, "%s", d.lines[0]);
	plan_release(&p);
	diag_release(&d);
}
END_TEST

START_TEST(test_missing_file)
{
	diag d = DIAG_INIT;
	plan p;

	ck_assert_int_eq(config_load(&p, "nonexistent.toml", 2, &d), ASSAY_EINVAL);
	ck_assert_msg(strstr(d.lines[0], "nonexistent.toml") &&
		      strstr(d.lines[0], "No such file or directory"), "%s", d.lines[0]);
	plan_release(&p);
	diag_release(&d);
}
END_TEST

/* [runner] state_dir is relative to the file's directory; keep_runs 0
 * keeps every run. */
START_TEST(test_runner_state_dir)
{
	static const session_options o = { 0 };
	session s;

	ck_assert_int_eq(mkdir("sub", 0700), 0);
	write_file("sub/c.toml", "[runner]\nstate_dir = \"st\"\nkeep_runs = 0\n");
	session_init(&s, &o);
	ck_assert_int_eq(session_load(&s, "sub/c.toml"), 0);
	ck_assert_uint_eq(diag_count(&s.d), 0);
	ck_assert_str_eq(s.p.state_dir, "sub/st");
	ck_assert_uint_eq(s.p.keep_runs, 0);
	session_release(&s);
	write_file("sub/c.toml", "[runner]\nstate_dir = \"/var/tmp/x\"\n");
	session_init(&s, &o);
	ck_assert_int_eq(session_load(&s, "sub/c.toml"), 0);
	ck_assert_str_eq(s.p.state_dir, "/var/tmp/x");
	session_release(&s);
	unlink("sub/c.toml");
	rmdir("sub");
}
END_TEST

START_TEST(test_good_plan)
{
	session s;
	const plan_node *n;

	run_config("[runner]\njobs = 8\nworkers = 3\ntimeout = \"1m30s\"\nfail_fast = true\n"
		   "[check.billing]\ntype = \"good\"\nvalue = 0\ngate = true\n"
		   "[check.gcp.buckets]\ntype = \"good\"\nvalue = 0\nretries = 2\nretry_delay = \"250ms\"\n"
		   "[check.gcp.quota]\ntype = \"good\"\nvalue = 1\nrun_if = \"always\"\n"
		   "[trial.lr]\ntype = \"good\"\nvalue = 0\nmax_parallel = 2\nafter = [\"gcp\"]\n"
		   "matrix = { lr = [0.1, 0.01], bs = [32, 64], opt = [\"adam\"] }\n"
		   "objective = { metric = \"accuracy\", goal = \"min\" }\n"
		   "[check.late]\ntype = \"good\"\nvalue = 0\nafter = \"lr\"\ntimeout = 2.5\n"
		   "[check.soft]\ntype = \"good\"\nvalue = 0\ngate = \"warning\"\n"
		   "[check.off]\ntype = \"good\"\nvalue = 0\nskip = \"no GPU here\"\ngate = \"ok\"\n",
		   &s, false);
	if (diag_count(&s.d))
		ck_abort_msg("unexpected error: %s", s.d.lines[0]);
	ck_assert_uint_eq(s.p.jobs, 8);
	ck_assert_uint_eq(s.p.workers, 3);
	ck_assert_int_eq(s.p.timeout_ms, 90000);
	ck_assert(s.p.fail_fast);
	ck_assert_uint_eq(s.p.keep_runs, 20); /* bounded by default */
	ck_assert_ptr_null(s.p.state_dir);
	ck_assert_uint_eq(s.p.n_nodes, 10);
	/* Declaration order across kinds, matrix expanded with the last key
	 * fastest: check.late comes last although checks came first. */
	ck_assert_str_eq(s.p.nodes[0].id, "billing");
	ck_assert(s.p.nodes[0].gate && !s.p.nodes[0].gate_warning);
	ck_assert_ptr_null(s.p.nodes[0].skip);
	ck_assert(s.p.nodes[8].gate && s.p.nodes[8].gate_warning);
	ck_assert(s.p.nodes[9].gate && !s.p.nodes[9].gate_warning);
	ck_assert_str_eq(s.p.nodes[9].skip, "no GPU here");
	ck_assert(s.p.nodes[9].prepared); /* a skipped node is checked all the same */
	ck_assert_str_eq(s.p.nodes[1].id, "gcp.buckets");
	ck_assert_str_eq(s.p.groups[s.p.nodes[1].group].name, "gcp");
	ck_assert_uint_eq(s.p.nodes[1].sweep, PLAN_NONE);
	ck_assert_uint_eq(s.p.nodes[1].retries, 2);
	ck_assert_int_eq(s.p.nodes[1].retry_delay_ms, 250);
	ck_assert_int_eq(s.p.nodes[2].run_if, RUN_IF_ALWAYS);
	ck_assert_str_eq(s.p.nodes[3].id, "lr[lr=0.1,bs=32,opt=adam]");
	ck_assert_str_eq(s.p.nodes[4].id, "lr[lr=0.1,bs=64,opt=adam]");
	ck_assert_str_eq(s.p.nodes[5].id, "lr[lr=0.01,bs=32,opt=adam]");
	ck_assert_str_eq(s.p.nodes[6].id, "lr[lr=0.01,bs=64,opt=adam]");
	n = &s.p.nodes[5];
	ck_assert_str_eq(plan_node_param(n, "lr"), "0.01");
	ck_assert_str_eq(plan_node_param(n, "bs"), "32");
	ck_assert_ptr_null(plan_node_param(n, "nope"));
	ck_assert_uint_eq(n->group, PLAN_NONE);
	ck_assert(n->prepared);
	ck_assert_int_eq(s.p.nodes[7].timeout_ms, 2500);
	/* The matrix is a sweep, not a group: its trials a range. */
	ck_assert_uint_eq(s.p.n_groups, 1);
	ck_assert_str_eq(s.p.groups[0].name, "gcp");
	ck_assert_uint_eq(s.p.n_sweeps, 1);
	ck_assert_uint_eq(n->sweep, 0);
	ck_assert_str_eq(s.p.sweeps[0].id, "lr");
	ck_assert_uint_eq(s.p.sweeps[0].first, 3);
	ck_assert_uint_eq(s.p.sweeps[0].n_trials, 4);
	ck_assert_uint_eq(s.p.sweeps[0].max_parallel, 2);
	ck_assert_str_eq(s.p.sweeps[0].objective, "accuracy");
	ck_assert(!s.p.sweeps[0].maximise);
	ck_assert_uint_eq(s.p.sweeps[0].n_params, 3);
	ck_assert_str_eq(s.p.sweeps[0].params[1].name, "bs");
	ck_assert_ptr_eq(n->params, s.p.sweeps[0].params + 2 * 3);
	session_release(&s);
}
END_TEST

/* A random search crossed with the grid and repeated: points are samples
 * x grid in that order (the grid fastest), the repeats of a point
 * consecutive, capped by whole points; the space's axes come first in
 * the parameters and ids; the draws are pinned (ids must not change
 * between versions). */
START_TEST(test_search_expansion)
{
	session s;
	const plan_sweep *sw;
	const plan_node *n;

	run_config(TRIAL "matrix = { bs = [32, 64] }\n"
		   "space = { lr = { loguniform = [1e-5, 1e-1] }, n = { int = [1, 8] }, opt = { choice = [\"adam\", \"sgd\"] } }\n"
		   "search = { method = \"random\", samples = 3, seed = 7 }\n"
		   "repeat = 2\nmax_trials = 9\nmax_failures = 3\nmax_parallel = 2\n"
		   "objective = { metric = \"acc\", target = 0.99 }\n"
		   "prune = { rule = \"median\", warmup_steps = 2 }\n", &s, false);
	if (diag_count(&s.d))
		ck_abort_msg("unexpected error: %s", s.d.lines[0]);
	sw = &s.p.sweeps[0];
	/* 3 samples x 2 = 6 points; the cap keeps 9 / 2 = 4 whole points. */
	ck_assert_uint_eq(s.p.n_nodes, 8);
	ck_assert_uint_eq(sw->n_trials, 8);
	ck_assert_uint_eq(sw->n_points, 4);
	ck_assert_uint_eq(sw->repeat, 2);
	ck_assert(sw->random);
	ck_assert_uint_eq(sw->samples, 3);
	ck_assert_uint_eq(sw->seed, 7);
	ck_assert_uint_eq(sw->max_trials, 9);
	ck_assert_uint_eq(sw->max_failures, 3);
	ck_assert_uint_eq(sw->max_parallel, 2);
	ck_assert(sw->has_target);
	ck_assert_double_eq(sw->target, 0.99);
	ck_assert_int_eq(sw->prune, PRUNE_MEDIAN);
	ck_assert_uint_eq(sw->warmup_steps, 2);
	ck_assert_uint_eq(sw->startup_trials, 5);
	ck_assert_ptr_nonnull(sw->space);
	ck_assert_uint_eq(sw->n_params, 4);
	ck_assert_str_eq(s.p.nodes[0].id, "t[lr=5.43e-5,n=4,opt=adam,bs=32,seed=0]");
	ck_assert_str_eq(s.p.nodes[1].id, "t[lr=5.43e-5,n=4,opt=adam,bs=32,seed=1]");
	ck_assert_str_eq(s.p.nodes[2].id, "t[lr=5.43e-5,n=4,opt=adam,bs=64,seed=0]");
	ck_assert_str_eq(s.p.nodes[4].id, "t[lr=0.00687,n=4,opt=adam,bs=32,seed=0]");
	ck_assert_str_eq(s.p.nodes[7].id, "t[lr=0.00687,n=4,opt=adam,bs=64,seed=1]");
	n = &s.p.nodes[3];
	ck_assert_uint_eq(n->point, 1);
	ck_assert_uint_eq(n->seed, 1);
	ck_assert_uint_eq(s.p.nodes[6].point, 3);
	ck_assert_uint_eq(s.p.nodes[6].seed, 0);
	/* Full values in the parameters, every axis. */
	ck_assert_str_eq(plan_node_param(n, "lr"), "5.4316388538509654e-05");
	ck_assert_str_eq(plan_node_param(n, "n"), "4");
	ck_assert_str_eq(plan_node_param(n, "opt"), "adam");
	ck_assert_str_eq(plan_node_param(n, "bs"), "64");
	ck_assert_ptr_eq(n->params, sw->params + 3 * 4);
	ck_assert_str_eq(sw->params[3 * 4 + 3].name, "bs");
	/* The trials are found by their ids, and the sweep by its own. */
	ck_assert_uint_eq(plan_find(&s.p, "t[lr=0.00687,n=4,opt=adam,bs=64,seed=1]"), 7);
	ck_assert_uint_eq(plan_span_of(&s.p, plan_find(&s.p, "t")).n, 8);
	ck_assert(n->prepared);
	session_release(&s);
}
END_TEST

/* The draws depend on the seed, the sample's number and the axis: more
 * samples keep the first ones, another axis changes no other value, and
 * without a seed the default one is used (the same ids on every run). */
START_TEST(test_search_stable)
{
	session s;
	char first[4][128];
	size_t i;

	run_config(TRIAL "space = { lr = { uniform = [0, 1] } }\nsearch = { method = \"random\", samples = 4 }\n",
		   &s, false);
	ck_assert_uint_eq(diag_count(&s.d), 0);
	ck_assert_uint_eq(s.p.sweeps[0].seed, 0);
	for (i = 0; i < 4; i++)
		strcpy(first[i], s.p.nodes[i].id);
	ck_assert_str_eq(first[0], "t[lr=0.431]");
	session_release(&s);
	run_config(TRIAL "space = { lr = { uniform = [0, 1] }, d = { int = [1, 3] } }\n"
		   "search = { method = \"random\", samples = 6, seed = 0 }\n", &s, false);
	ck_assert_uint_eq(diag_count(&s.d), 0);
	ck_assert_uint_eq(s.p.n_nodes, 6);
	for (i = 0; i < 4; i++)
		ck_assert_msg(strncmp(s.p.nodes[i].id, first[i], strlen(first[i]) - 1) == 0,
			      "%s after %s", s.p.nodes[i].id, first[i]);
	session_release(&s);
	run_config(TRIAL "space = { lr = { uniform = [0, 1] } }\nsearch = { method = \"random\", samples = 4, seed = 1 }\n",
		   &s, false);
	ck_assert_str_ne(s.p.nodes[0].id, first[0]);
	session_release(&s);
}
END_TEST

/* Values that look alike once shortened: every such point's ids get its
 * number, so every id is unique and found. */
START_TEST(test_search_collision)
{
	session s;
	size_t i;

	run_config(TRIAL "space = { x = { uniform = [0.1, 0.1000001] }, o = { choice = [1] } }\n"
		   "matrix = { b = [true, false] }\nsearch = { method = \"random\", samples = 3 }\n"
		   "repeat = 2\nmax_trials = 10\n", &s, false);
	if (diag_count(&s.d))
		ck_abort_msg("unexpected error: %s", s.d.lines[0]);
	/* Every sample shortens to x=0.1: the points of b=true look alike,
	 * and so do those of b=false; each id gets its point's number. */
	ck_assert_uint_eq(s.p.n_nodes, 10);
	ck_assert_str_eq(s.p.nodes[0].id, "t[x=0.1,o=1,b=true,#1,seed=0]");
	ck_assert_str_eq(s.p.nodes[1].id, "t[x=0.1,o=1,b=true,#1,seed=1]");
	ck_assert_str_eq(s.p.nodes[2].id, "t[x=0.1,o=1,b=false,#2,seed=0]");
	ck_assert_str_eq(s.p.nodes[4].id, "t[x=0.1,o=1,b=true,#3,seed=0]");
	ck_assert_str_eq(s.p.nodes[8].id, "t[x=0.1,o=1,b=true,#5,seed=0]");
	for (i = 0; i < 10; i++)
		ck_assert_uint_eq(plan_find(&s.p, s.p.nodes[i].id), i);
	ck_assert(strcmp(plan_node_param(&s.p.nodes[0], "x"), "0.1") != 0);
	session_release(&s);
}
END_TEST

/* repeat alone: ids end with the seed; {seed} 0 .. K-1; max_parallel is
 * for any sweep.  An axis named seed is {seed} without repeat. */
START_TEST(test_repeat)
{
	session s;

	run_config(TRIAL "repeat = 3\nmax_parallel = 1\n", &s, false);
	if (diag_count(&s.d))
		ck_abort_msg("unexpected error: %s", s.d.lines[0]);
	ck_assert_uint_eq(s.p.n_nodes, 3);
	ck_assert_str_eq(s.p.nodes[0].id, "t[seed=0]");
	ck_assert_str_eq(s.p.nodes[2].id, "t[seed=2]");
	ck_assert_uint_eq(s.p.nodes[2].seed, 2);
	ck_assert_uint_eq(s.p.nodes[2].point, 0);
	ck_assert_uint_eq(s.p.sweeps[0].n_points, 1);
	ck_assert_uint_eq(s.p.sweeps[0].n_params, 0);
	ck_assert_uint_eq(plan_span_of(&s.p, plan_find(&s.p, "t")).n, 3);
	session_release(&s);
	run_config(TRIAL "matrix = { seed = [11, 12], x = [\"a\"] }\nmax_trials = 1\n", &s, false);
	ck_assert_uint_eq(diag_count(&s.d), 0);
	ck_assert_uint_eq(s.p.n_nodes, 1);
	ck_assert_str_eq(s.p.nodes[0].id, "t[seed=11,x=a]");
	ck_assert_uint_eq(s.p.nodes[0].seed, 11);
	ck_assert_uint_eq(s.p.sweeps[0].max_trials, 1);
	session_release(&s);
	/* A trial alone: its id, one point, {seed} 0; asha's defaults. */
	run_config(TRIAL "objective = { metric = \"acc\" }\nprune = { rule = \"asha\" }\n", &s, false);
	ck_assert_uint_eq(diag_count(&s.d), 0);
	ck_assert_str_eq(s.p.nodes[0].id, "t");
	ck_assert_uint_eq(s.p.sweeps[0].repeat, 1);
	ck_assert_uint_eq(s.p.sweeps[0].n_points, 1);
	ck_assert(!s.p.sweeps[0].has_target);
	ck_assert_int_eq(s.p.sweeps[0].prune, PRUNE_ASHA);
	ck_assert_int_eq(s.p.sweeps[0].min_resource, 1);
	ck_assert_uint_eq(s.p.sweeps[0].reduction_factor, 4);
	ck_assert_uint_eq(plan_find(&s.p, "t"), 0);
	session_release(&s);
}
END_TEST

/* The plan's groups and sweeps as objects: members at any depth, in
 * plan order, whatever order the tables come in; a matrix is a sweep with
 * a range of trials; names find nodes, groups and matrices; max_parallel
 * becomes limits taken outermost first. */
START_TEST(test_groups_and_sweeps)
{
	session s;
	plan_span span;
	uint32_t limits[PLAN_MAX_DEPTH + 1];
	const char **names;
	size_t n;

	run_config("[check.gcp.eu.a]\ntype = \"good\"\nvalue = 0\n"
		   "[trial.single]\ntype = \"good\"\nvalue = 0\nobjective = { metric = \"m\" }\n"
		   "[check.gcp.b]\ntype = \"good\"\nvalue = 0\n"
		   "[check.gcp]\nmax_parallel = 3\n"
		   "[trial.ml]\nmax_parallel = 2\n"
		   "[trial.ml.lr]\ntype = \"good\"\nvalue = 0\nmatrix = { x = [1, 2] }\nmax_parallel = 1\n",
		   &s, false);
	if (diag_count(&s.d))
		ck_abort_msg("unexpected error: %s", s.d.lines[0]);
	ck_assert_uint_eq(s.p.n_nodes, 5);
	ck_assert_str_eq(s.p.nodes[1].id, "single");
	ck_assert_str_eq(s.p.nodes[4].id, "ml.lr[x=2]");

	ck_assert_uint_eq(s.p.n_groups, 3);
	ck_assert_str_eq(s.p.groups[0].name, "gcp");
	ck_assert_str_eq(s.p.groups[1].name, "gcp.eu");
	ck_assert_str_eq(s.p.groups[2].name, "ml");
	ck_assert_uint_eq(s.p.groups[0].parent, PLAN_NONE);
	ck_assert_uint_eq(s.p.groups[1].parent, 0);
	ck_assert_uint_eq(s.p.nodes[0].group, 1);
	ck_assert_uint_eq(s.p.nodes[2].group, 0);
	ck_assert_uint_eq(s.p.nodes[3].group, 2);
	ck_assert_uint_eq(s.p.groups[0].n_members, 2);
	ck_assert_uint_eq(s.p.groups[0].members[0], 0);
	ck_assert_uint_eq(s.p.groups[0].members[1], 2);
	ck_assert_uint_eq(s.p.groups[1].n_members, 1);
	ck_assert_uint_eq(s.p.groups[2].n_members, 2);
	ck_assert_uint_eq(s.p.groups[0].max_parallel, 3);

	/* A trial alone is a sweep of one, named by its id. */
	ck_assert_uint_eq(s.p.n_sweeps, 2);
	ck_assert_str_eq(s.p.sweeps[0].id, "single");
	ck_assert_ptr_null(s.p.sweeps[0].matrix);
	ck_assert_uint_eq(s.p.sweeps[0].first, 1);
	ck_assert_uint_eq(s.p.sweeps[0].n_trials, 1);
	ck_assert_str_eq(s.p.sweeps[0].objective, "m");
	ck_assert(s.p.sweeps[0].maximise);
	ck_assert_ptr_eq(plan_sweep_of(&s.p, &s.p.nodes[1]), &s.p.sweeps[0]);
	ck_assert_ptr_null(plan_sweep_of(&s.p, &s.p.nodes[0]));
	ck_assert_str_eq(s.p.sweeps[1].id, "ml.lr");
	ck_assert_uint_eq(s.p.sweeps[1].first, 3);
	ck_assert_uint_eq(s.p.sweeps[1].n_trials, 2);
	ck_assert_ptr_null(s.p.sweeps[1].objective);
	ck_assert_str_eq(plan_node_param(&s.p.nodes[4], "x"), "2");

	/* Limits: a node takes its groups' outermost first, then its sweep's. */
	ck_assert_uint_eq(s.p.n_limits, 3);
	ck_assert_uint_eq(plan_node_limits(&s.p, &s.p.nodes[4], limits), 2);
	ck_assert_uint_eq(s.p.limits[limits[0]], 2);
	ck_assert_uint_eq(s.p.limits[limits[1]], 1);
	ck_assert_uint_eq(plan_node_limits(&s.p, &s.p.nodes[0], limits), 1);
	ck_assert_uint_eq(s.p.limits[limits[0]], 3);
	ck_assert_uint_eq(plan_node_limits(&s.p, &s.p.nodes[1], limits), 0);

	/* Names: nodes, groups and matrices, each standing for its nodes. */
	ck_assert_uint_eq(plan_find(&s.p, "ml.lr[x=2]"), 4);
	ck_assert_uint_eq(plan_find(&s.p, "single"), 1);
	ck_assert_uint_eq(plan_find(&s.p, "nope"), PLAN_NONE);
	ck_assert_uint_eq(plan_find(&s.p, "gcp.e"), PLAN_NONE);
	span = plan_span_of(&s.p, plan_find(&s.p, "gcp"));
	ck_assert_uint_eq(span.n, 2);
	ck_assert_uint_eq(plan_span_at(&span, 1), 2);
	span = plan_span_of(&s.p, plan_find(&s.p, "ml.lr"));
	ck_assert_uint_eq(span.n, 2);
	ck_assert_uint_eq(plan_span_at(&span, 0), 3);
	ck_assert_str_eq(plan_ref_name(&s.p, plan_find(&s.p, "ml.lr")), "ml.lr");
	span = plan_span_of(&s.p, plan_find(&s.p, "gcp.b"));
	ck_assert_uint_eq(span.n, 1);
	ck_assert_uint_eq(plan_span_at(&span, 0), 2);
	ck_assert_ptr_nonnull(names = plan_names(&s.p, &n));
	ck_assert_uint_eq(n, 5 + 3 + 1);
	free(names);
	session_release(&s);
}
END_TEST

START_TEST(test_items)
{
	session s;

	write_file("a.py", "");
	write_file("b.py", "");
	run_config("[validation.files]\ntype = \"good\"\nitems = { file = \"items.txt\" }\n"
		   "[validation.globbed]\ntype = \"good\"\nitems = { glob = \"*.py\" }\n"
		   "[validation.none]\ntype = \"good\"\nitems = { list = [], allow_empty = true }\n",
		   &s, false);
	unlink("a.py");
	unlink("b.py");
	/* good does not serve validations: only that error, per node. */
	ck_assert_uint_eq(diag_count(&s.d), 3);
	ck_assert_uint_eq(s.p.nodes[0].n_items, 2);
	ck_assert_str_eq(s.p.nodes[0].items[0], "shard-1");
	ck_assert_str_eq(s.p.nodes[0].items[1], "shard-2");
	ck_assert_uint_eq(s.p.nodes[1].n_items, 2);
	ck_assert_str_eq(s.p.nodes[1].items[0], "a.py");
	ck_assert_str_eq(s.p.nodes[1].items[1], "b.py");
	ck_assert_uint_eq(s.p.nodes[2].n_items, 0);
	session_release(&s);

	/* A NUL byte would cut an item short: its line is named. */
	{
		FILE *f = fopen("nul.txt", "w");

		ck_assert_ptr_nonnull(f);
		ck_assert_uint_eq(fwrite("a\nb\0c\n", 1, 6, f), 6);
		fclose(f);
	}
	run_config("[validation.nul]\ntype = \"good\"\nitems = { file = \"nul.txt\" }\n", &s,
		   false);
	unlink("nul.txt");
	ck_assert_uint_ge(diag_count(&s.d), 1);
	ck_assert_str_eq(s.d.lines[0], "c.toml:3:18: `nul.txt`, line 2: an item holds a NUL byte");
	session_release(&s);
}
END_TEST

START_TEST(test_interpolation_and_secrets)
{
	session s;
	const assay_value *desc, *file, *plain, *lit;

	run_config(NODE "description = \"Bearer ${env:ASSAY_TEST_TOKEN}\"\n"
		   "[check.b]\ntype = \"good\"\nvalue = 0\ndescription = \"${file:token}\"\n"
		   "[check.c]\ntype = \"good\"\nvalue = 0\ndescription = \"plain $HOME ${HOME} ${n:-0} $${env:X}\"\n"
		   "[check.d]\ntype = \"good\"\nvalue = 9\ndescription = \"x\"\n",
		   &s, false);
	desc = value_get(s.p.nodes[0].table, "description");
	ck_assert_str_eq(value_string(desc), "Bearer hunter2-secret");
	ck_assert(value_secret(desc));
	file = value_get(s.p.nodes[1].table, "description");
	ck_assert_str_eq(value_string(file), "s3cr3t-token");
	ck_assert(value_secret(file));
	plain = value_get(s.p.nodes[2].table, "description");
	/* A shell's own ${...} is not ours to interpolate. */
	ck_assert_str_eq(value_string(plain), "plain $HOME ${HOME} ${n:-0} ${env:X}");
	ck_assert(!value_secret(plain));
	lit = value_get(s.p.nodes[3].table, "value");
	ck_assert(!value_secret(lit));
	/* Every error line is scrubbed of every secret. */
	ck_assert_uint_eq(diag_count(&s.d), 1);
	diag_add(&s.d, "c.toml", 1, 1, "leak hunter2-secret and s3cr3t-token");
	ck_assert_str_eq(s.d.lines[1], "c.toml:1:1: leak *** and ***");
	session_release(&s);
}
END_TEST

/* What is not secret is said so: the public- forms interpolate the same
 * sources in the clear, and a short value then masks nothing. */
START_TEST(test_public_interpolation)
{
	session s;
	const assay_value *pub, *mixed;

	setenv("ASSAY_TEST_PROJECT", "p", 1);
	run_config(NODE "description = \"${public-env:ASSAY_TEST_PROJECT}/${public-file:token}\"\n"
		   "[check.b]\ntype = \"good\"\nvalue = 0\n"
		   "description = \"${public-env:ASSAY_TEST_PROJECT} ${env:ASSAY_TEST_TOKEN}\"\n",
		   &s, false);
	pub = value_get(s.p.nodes[0].table, "description");
	ck_assert_str_eq(value_string(pub), "p/s3cr3t-token");
	ck_assert(!value_secret(pub));
	/* Any secret part makes the whole string secret. */
	mixed = value_get(s.p.nodes[1].table, "description");
	ck_assert_str_eq(value_string(mixed), "p hunter2-secret");
	ck_assert(value_secret(mixed));
	/* Only the secret text is masked. */
	diag_add(&s.d, "c.toml", 1, 1, "project p timed out after 30 s with hunter2-secret");
	ck_assert_str_eq(s.d.lines[diag_count(&s.d) - 1], "c.toml:1:1: project p timed out after 30 s with ***");
	session_release(&s);
	unsetenv("ASSAY_TEST_PROJECT");
}
END_TEST

/* --allow-unset: an unset variable is a warning, what it left is not
 * checked, and the rest of the file is. */
START_TEST(test_unset_is_a_warning)
{
	session s;
	char *buf;
	size_t len;
	FILE *mem;

	run_config(NODE "description = \"${env:ASSAY_NOT_SET}\"\ntimeout = \"${env:ASSAY_NOT_SET}\"\n"
		   "retries = 101\n", &s, true);
	ck_assert_uint_eq(diag_count(&s.d), 1);
	ck_assert_uint_eq(s.d.n_warnings, 2);
	mem = open_memstream(&buf, &len);
	diag_print(&s.d, mem);
	fclose(mem);
	ck_assert_str_eq(buf,
		"c.toml:4:15: warning: environment variable `ASSAY_NOT_SET` is not set (in `${env:ASSAY_NOT_SET}`); read as empty\n"
		"c.toml:5:11: warning: environment variable `ASSAY_NOT_SET` is not set (in `${env:ASSAY_NOT_SET}`); read as empty\n"
		"c.toml:6:11: `retries` must be between 0 and 100, not 101\n");
	free(buf);
	session_release(&s);
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_bad_config, 0,
			    (int)(sizeof bad_configs / sizeof *bad_configs));
	tcase_add_test(tc, test_all_errors_reported);
	tcase_add_test(tc, test_resource_of_a_failed_plugin);
	tcase_add_test(tc, test_error_cap);
	tcase_add_test(tc, test_errors_print_in_file_order);
	tcase_add_test(tc, test_toml_error);
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_good_plan);
	tcase_add_test(tc, test_runner_state_dir);
	tcase_add_test(tc, test_groups_and_sweeps);
	tcase_add_test(tc, test_search_expansion);
	tcase_add_test(tc, test_search_stable);
	tcase_add_test(tc, test_search_collision);
	tcase_add_test(tc, test_repeat);
	tcase_add_test(tc, test_items);
	tcase_add_test(tc, test_interpolation_and_secrets);
	tcase_add_test(tc, test_unset_is_a_warning);
	tcase_add_test(tc, test_public_interpolation);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(config_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
