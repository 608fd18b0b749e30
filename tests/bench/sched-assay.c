/* sched-assay.c -- benchmark driver for tests/bench/sched: runs one DAG
 * file (tests/bench/dag-gen.py's format) through assay's session (the real
 * config, registry, graph and run code), with the bench-nodes plugin.
 *
 * usage: sched-assay --plugin PATH [--work noop|spin] [--reps R | --serve]
 *                    [--workers W] [--jobs J] DAGFILE
 *        sched-assay --serial N [--work noop|spin] [--reps R | --serve]
 *
 * The DAG becomes an assay config in a temporary file ([check.nI] with
 * type = "noop" or "spin" and after = ["nJ", ...]; [runner] jobs = J,
 * workers = W), which is parsed once, untimed, and loaded once to load
 * the plugin it names (`assay run` does both before anything runs, and
 * TBB's side reads its DAG file untimed too).  Then one warm-up
 * repetition runs and checks the run (every node OK, none started before
 * its predecessors ended), and each timed repetition prints one line
 *
 *     total_seconds plan_seconds graph_build_seconds run_seconds run_new_seconds
 *
 * where total_seconds is all that follows the parsed document, timed as
 * one span: the plan (session_load_doc(): values, interpolation, nodes,
 * groups, names; session_prepare()), session_graph(), the run
 * (session_start(): run_new() and its subscribers; session_go(): starting
 * the pool, executing every node, stopping the pool), and releasing the
 * run, the graph and the plan (session_release_plan()).  The other
 * columns are its parts, for reading; run_new_seconds is the part of
 * run_seconds that session_start() took.
 * With --reps, R repetitions follow at once; with --serve, the driver
 * prints "ready" after the warm-up and then one repetition per "run" line
 * on standard input, until end of file -- so that a script can alternate
 * it with its peer repetition by repetition.
 * --serial instead times a plain loop doing the node work N times and
 * prints "S 0 0 S 0" per repetition: the floor for a chain. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench-work.h"
#include "session.h"

static void die(const char *what)
{
	fprintf(stderr, "sched-assay: %s\n", what);
	exit(1);
}

static double seconds(int64_t from_ns, int64_t to_ns)
{
	return (double)(to_ns - from_ns) / 1e9;
}

/* The DAG file, copied into a config file, node by node. */
static size_t write_config(const char *dag_path, FILE *out, const char *plugin,
			   const char *work, unsigned jobs, unsigned workers, size_t *edges)
{
	FILE *in = fopen(dag_path, "r");
	char *line = NULL, *p, *end;
	size_t cap = 0, n, i;
	ssize_t len;

	if (!in)
		die(strerror(errno));
	if (getline(&line, &cap, in) < 0 || sscanf(line, "%zu", &n) != 1 || n == 0)
		die("the DAG file does not start with its node count");
	fprintf(out, "[runner]\njobs = %u\nworkers = %u\n\n[plugins]\nload = [\"%s\"]\n\n",
		jobs, workers, plugin);
	*edges = 0;
	for (i = 0; i < n; i++) {
		const char *sep = "";

		if ((len = getline(&line, &cap, in)) < 0)
			die("the DAG file has fewer lines than nodes");
		fprintf(out, "[check.n%zu]\ntype = \"%s\"\n", i, work);
		for (p = line; ; p = end) {
			unsigned long pred = strtoul(p, &end, 10);

			if (end == p)
				break;
			if (pred >= i)
				die("a predecessor index is not below its node's");
			if (!*sep)
				fputs("after = [", out);
			fprintf(out, "%s\"n%lu\"", sep, pred);
			sep = ", ";
			++*edges;
		}
		fputs(*sep ? "]\n" : "", out);
	}
	free(line);
	fclose(in);
	if (fflush(out) != 0)
		die("cannot write the config");
	return n;
}

/* The graph has the file's edges; every node ran and is OK, and none
 * started before a predecessor ended. */
static void check_run(const run *r, const graph *g, size_t n, size_t edges)
{
	const run_result *res = run_results(r);
	size_t i, k;

	if (g->n != n || g->pred_at[n] != edges) {
		fprintf(stderr, "sched-assay: the graph has %zu nodes and %u edges, the file %zu and %zu\n",
			g->n, (unsigned)g->pred_at[g->n], n, edges);
		exit(1);
	}
	for (i = 0; i < n; i++) {
		if (!res[i].ran || res[i].status != ASSAY_OK || res[i].attempts != 1) {
			fprintf(stderr, "sched-assay: node n%zu: ran %d, status %d: %s\n", i,
				res[i].ran, res[i].status,
				res[i].skip_reason ? res[i].skip_reason
						   : res[i].message ? res[i].message : "");
			exit(1);
		}
		for (k = g->pred_at[i]; k < g->pred_at[i + 1]; k++)
			if (res[i].start < res[g->pred[k]].end) {
				fprintf(stderr, "sched-assay: n%zu started before n%u ended\n", i,
					g->pred[k]);
				exit(1);
			}
	}
}

static void noop_work(void)
{
}

static void spin_work(void)
{
	bench_spin(1000);
}

/* Called through a pointer the compiler cannot see through, like a
 * plugin's run: the loop cannot be folded away. */
static void (*volatile serial_work)(void);

/* What one repetition needs. */
typedef struct bench {
	size_t n, edges;
	const char *path;
	toml_doc *doc;
	session s;               /* its plugins loaded; a plan per repetition */
	unsigned jobs, workers;
} bench;

/* The seconds of one repetition: total, and its parts. */
typedef struct rep_times {
	double total, plan, build, run, new;
} rep_times;

static void rep_serial(bench *b, bool check, rep_times *t)
{
	int64_t t0 = bench_now_ns(), t1;
	size_t i;

	for (i = 0; i < b->n; i++)
		serial_work();
	t1 = bench_now_ns();
	*t = (rep_times){ .total = seconds(t0, t1), .run = seconds(t0, t1) };
}

static void config_refused(diag *d)
{
	diag_print(d, stderr);
	die("the generated config was refused");
}

/* One repetition through the session's steps, as `assay run` takes them
 * after reading the file. */
static void rep_assay(bench *b, bool check, rep_times *t)
{
	session *s = &b->s;
	int64_t t0, t1, t2, t3, t4, t5;

	t0 = bench_now_ns();
	if (session_load_doc(s, b->doc, b->path) < 0 || diag_count(&s->d))
		config_refused(&s->d);
	session_prepare(s);
	if (diag_count(&s->d))
		config_refused(&s->d);
	t1 = bench_now_ns();
	if (session_graph(s) < 0)
		config_refused(&s->d);
	t2 = bench_now_ns();
	if (session_start(s) < 0)
		die("the run could not be set up");
	t3 = bench_now_ns();
	if (session_go(s) < 0)
		die("the run could not start");
	t4 = bench_now_ns();
	if (check) {
		if (s->p.n_nodes != b->n)
			die("the plan does not have a node per DAG line");
		check_run(s->run, &s->g, b->n, b->edges);
	}
	session_release_plan(s);
	t5 = bench_now_ns();
	*t = (rep_times){ .total = seconds(t0, t5), .plan = seconds(t0, t1),
			  .build = seconds(t1, t2), .run = seconds(t2, t4),
			  .new = seconds(t2, t3) };
}

/* The warm-up (checked, not printed), then the timed repetitions. */
static void drive(bench *b, void (*rep)(bench *, bool, rep_times *), unsigned reps, bool serve)
{
	char line[64];
	rep_times t;
	unsigned i;

	rep(b, true, &t);
	if (serve) {
		printf("ready\n");
		fflush(stdout);
	}
	for (i = 0; serve ? fgets(line, sizeof line, stdin) != NULL : i < reps; i++) {
		if (serve && strcmp(line, "run\n") != 0)
			die("--serve reads \"run\" lines");
		rep(b, false, &t);
		printf("%.9f %.9f %.9f %.9f %.9f\n", t.total, t.plan, t.build, t.run, t.new);
		fflush(stdout);
	}
}

static unsigned parse_uint(const char *s, const char *what)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || end == s || v == 0 || v > 1000000)
		die(what);
	return (unsigned)v;
}

int main(int argc, char **argv)
{
	const char *plugin = NULL, *work = "noop", *dag_path = NULL;
	unsigned reps = 10;
	size_t serial_n = 0, i;
	char cfg_path[] = "/tmp/sched-assay-XXXXXX.toml";
	bool serve = false;
	static const session_options o = { 0 }; /* jobs and workers: the file's */
	static bench b;
	toml_error err;
	FILE *cfg;
	int fd;

	b.workers = 2;
	b.jobs = 1000000;
	for (i = 1; i < (size_t)argc; i++) {
		const char *a = argv[i], *v = i + 1 < (size_t)argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--plugin") == 0 && v)
			plugin = v, i++;
		else if (strcmp(a, "--work") == 0 && v)
			work = v, i++;
		else if (strcmp(a, "--reps") == 0 && v)
			reps = parse_uint(v, "--reps takes a number"), i++;
		else if (strcmp(a, "--serve") == 0)
			serve = true;
		else if (strcmp(a, "--workers") == 0 && v)
			b.workers = parse_uint(v, "--workers takes a number"), i++;
		else if (strcmp(a, "--jobs") == 0 && v)
			b.jobs = parse_uint(v, "--jobs takes a number"), i++;
		else if (strcmp(a, "--serial") == 0 && v)
			serial_n = parse_uint(v, "--serial takes a number"), i++;
		else if (a[0] != '-' && !dag_path)
			dag_path = a;
		else
			die("usage: sched-assay --plugin PATH [--work noop|spin] [--reps R | --serve] "
			    "[--workers W] [--jobs J] DAGFILE\n"
			    "       sched-assay --serial N [--work noop|spin] [--reps R | --serve]");
	}
	if (strcmp(work, "noop") != 0 && strcmp(work, "spin") != 0)
		die("--work is noop or spin");
	if (serial_n) {
		serial_work = strcmp(work, "spin") == 0 ? spin_work : noop_work;
		b.n = serial_n;
		drive(&b, rep_serial, reps, serve);
		return 0;
	}
	if (!plugin || !dag_path)
		die("--plugin PATH and a DAG file are required");
	if (!strchr(plugin, '/'))
		die("--plugin wants a path (with a '/')");

	/* Untimed, as `assay run` does before anything runs: the text
	 * parsed, the plugin loaded (the session keeps the plan it was
	 * loaded from until the plugin is unloaded). */
	if ((fd = mkstemps(cfg_path, 5)) < 0 || !(cfg = fdopen(fd, "w")))
		die("cannot create the config file");
	b.n = write_config(dag_path, cfg, plugin, work, b.jobs, b.workers, &b.edges);
	fclose(cfg);
	b.path = cfg_path;
	b.doc = toml_parse_file(cfg_path, &err);
	unlink(cfg_path);
	if (!b.doc) {
		fprintf(stderr, "sched-assay: %s:%u:%u: %s\n", cfg_path, err.pos.line,
			err.pos.column, err.message);
		die("the generated config is not TOML");
	}
	session_init(&b.s, &o);
	if (session_load_doc(&b.s, b.doc, cfg_path) < 0 || diag_count(&b.s.d) ||
	    session_load_plugins(&b.s) < 0 || diag_count(&b.s.d))
		config_refused(&b.s.d);
	session_release_plan(&b.s);

	drive(&b, rep_assay, reps, serve);

	session_release(&b.s);
	toml_doc_free(b.doc);
	return 0;
}
