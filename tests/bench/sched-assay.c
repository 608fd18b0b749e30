/* sched-assay.c -- benchmark driver for tests/bench/sched: runs one DAG
 * file (tests/bench/dag-gen.py's format) through assay's real config,
 * registry, graph and run code, with the bench-nodes plugin.
 *
 * usage: sched-assay --plugin PATH [--work noop|spin] [--reps R | --serve]
 *                    [--workers W] [--jobs J] DAGFILE
 *        sched-assay --serial N [--work noop|spin] [--reps R | --serve]
 *
 * The DAG becomes an assay config in a temporary file ([check.nI] with
 * type = "noop" or "spin" and after = ["nJ", ...]; [runner] jobs = J,
 * workers = W), which is loaded and prepared once, untimed, like
 * `assay run` does before it runs anything.  Then one warm-up repetition
 * runs and checks the run (every node OK, none started before its
 * predecessors ended), and each timed repetition prints one line
 *
 *     graph_build_seconds run_seconds run_new_seconds
 *
 * where run_seconds is run_new() + run_go(): instantiating the run's
 * nodes, starting the pool, executing every node, stopping the pool;
 * run_new_seconds is the part of it run_new() took.
 * With --reps, R repetitions follow at once; with --serve, the driver
 * prints "ready" after the warm-up and then one repetition per "run" line
 * on standard input, until end of file -- so that a script can alternate
 * it with its peer repetition by repetition.
 * --serial instead times a plain loop doing the node work N times and
 * prints "0 seconds 0" per repetition: the floor for a chain. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench-work.h"
#include "config.h"
#include "diag.h"
#include "graph.h"
#include "plugin.h"
#include "reactor.h"
#include "run.h"

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
	plan p;
	diag d;
	reactor *re;
	unsigned jobs, workers;
} bench;

static void rep_serial(bench *b, bool check, double *build_s, double *run_s, double *new_s)
{
	int64_t t0 = bench_now_ns(), t1;
	size_t i;

	for (i = 0; i < b->n; i++)
		serial_work();
	t1 = bench_now_ns();
	*build_s = *new_s = 0;
	*run_s = seconds(t0, t1);
}

static void rep_assay(bench *b, bool check, double *build_s, double *run_s, double *new_s)
{
	run_options o = { .jobs = b->jobs, .workers = b->workers, .verbosity = ASSAY_LOG_ERROR };
	int64_t t0, t1, t2, t3;
	graph g;
	run *r;

	t0 = bench_now_ns();
	if (graph_build(&g, &b->p, &b->d) < 0) {
		diag_print(&b->d, stderr);
		die("graph_build failed");
	}
	t1 = bench_now_ns();
	if (run_new(&r, &b->p, &g, &o, b->re) < 0)
		die("run_new failed");
	t2 = bench_now_ns();
	if (run_go(r) < 0)
		die("the run could not start");
	t3 = bench_now_ns();
	if (check)
		check_run(r, &g, b->n, b->edges);
	run_free(r);
	graph_release(&g);
	*build_s = seconds(t0, t1);
	*run_s = seconds(t1, t3);
	*new_s = seconds(t1, t2);
}

/* The warm-up (checked, not printed), then the timed repetitions. */
static void drive(bench *b, void (*rep)(bench *, bool, double *, double *, double *),
		  unsigned reps, bool serve)
{
	char line[64];
	double build_s, run_s, new_s;
	unsigned i;

	rep(b, true, &build_s, &run_s, &new_s);
	if (serve) {
		printf("ready\n");
		fflush(stdout);
	}
	for (i = 0; serve ? fgets(line, sizeof line, stdin) != NULL : i < reps; i++) {
		if (serve && strcmp(line, "run\n") != 0)
			die("--serve reads \"run\" lines");
		rep(b, false, &build_s, &run_s, &new_s);
		printf("%.9f %.9f %.9f\n", build_s, run_s, new_s);
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
	static bench b;
	registry reg;
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

	/* Untimed, as `assay run` does before anything runs. */
	if ((fd = mkstemps(cfg_path, 5)) < 0 || !(cfg = fdopen(fd, "w")))
		die("cannot create the config file");
	b.n = write_config(dag_path, cfg, plugin, work, b.jobs, b.workers, &b.edges);
	fclose(cfg);
	if (config_load(&b.p, cfg_path, b.workers, &b.d) < 0 || diag_count(&b.d))
		goto config_error;
	if (registry_init(&reg, &b.d) < 0)
		die("cannot initialise libltdl");
	for (i = 0; b.p.load && i < value_len(b.p.load); i++) {
		const assay_value *v = value_at(b.p.load, i, NULL);

		registry_load(&reg, value_string(v), NULL, v);
	}
	if (diag_count(&b.d) || config_prepare(&b.p, &reg, &b.d))
		goto config_error;
	unlink(cfg_path);
	if (b.p.n_nodes != b.n)
		die("the plan does not have a node per DAG line");
	if (reactor_new(&b.re) < 0)
		die("cannot start the reactor");

	drive(&b, rep_assay, reps, serve);

	reactor_free(b.re);
	plan_release(&b.p);
	registry_release(&reg);
	diag_release(&b.d);
	return 0;

config_error:
	unlink(cfg_path);
	diag_print(&b.d, stderr);
	die("the generated config was refused");
	return 1;
}
