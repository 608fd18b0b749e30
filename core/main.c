/* main.c -- the assay command line and its exit codes; nothing else. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <signal.h>
#include <sys/signalfd.h>

#include "config.h"
#include "diag.h"
#include "graph.h"
#include "host.h"
#include "plugin.h"
#include "reactor.h"
#include "report.h"
#include "run.h"

/* Exit codes: the monitoring-plugins states, then sysexits.h's. */
enum {
	EXIT_USAGE = 64,  /* EX_USAGE */
	EXIT_CONFIG = 78  /* EX_CONFIG */
};

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#ifndef PLUGINDIR
#define PLUGINDIR "/usr/local/lib/assay"
#endif

#define DEFAULT_CONFIG SYSCONFDIR "/assay/assay.toml"

static const char usage_text[] =
	"usage: assay [OPTION]... COMMAND [ARG]...\n"
	"\n"
	"commands:\n"
	"  run [FILE] [OPTION]...   run every node of FILE, as many at once as they allow\n"
	"      --only ID          run ID (a node or group; repeatable) and what it needs\n"
	"      --jobs N           executions at once (default: [runner] jobs, 64)\n"
	"      --workers N        pool threads (default: [runner] workers, the cores)\n"
	"      --format FORMAT    human (default) or json, on standard output\n"
	"      --report FORMAT:PATH  also write FORMAT to PATH, atomically (repeatable)\n"
	"      --dry-run          check everything and show what would run, run nothing\n"
	"      --fail-fast        stop at the first CRITICAL or UNKNOWN node\n"
	"  check-config [FILE]   check FILE and the plugins it loads; print a summary\n"
	"  graph [FILE] [--format text|dot]  print the dependency graph\n"
	"  plugins [FILE]        list the plugins on the search path and what they provide\n"
	"\n"
	"options:\n"
	"      --allow-insecure-plugins  load plugin files that others can write\n"
	"  -v, --verbose                 print plugins' info messages (twice: debug)\n"
	"  -h, --help                    show this help\n"
	"  -V, --version                 show the version\n"
	"\n"
	"FILE defaults to " DEFAULT_CONFIG ".\n"
	"Plugins are searched in $ASSAY_PLUGIN_PATH, [plugins] path, then " PLUGINDIR ".\n"
	"Exit status: the worst node's: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN;\n"
	"64 usage error, 78 configuration error.\n";

typedef struct options {
	bool allow_insecure;
	int verbosity;
} options;

static int usage_error(const char *fmt, ...) ASSAY_PRINTF(1, 2);
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "assay: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'assay --help'.\n");
	return EXIT_USAGE;
}

/* A binary run from its build tree (where configure left config.status)
 * finds the plugins built beside it, so ./assay works before make install.
 * An installed binary never matches: bindir has no config.status. */
static int add_build_tree_dir(registry *r)
{
	char exe[PATH_MAX], probe[PATH_MAX + 32], *slash;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	size_t len;

	if (n <= 0)
		return 0;
	exe[n] = '\0';
	if (!(slash = strrchr(exe, '/')))
		return 0;
	*slash = '\0';
	len = strlen(exe);
	if (len >= 6 && strcmp(exe + len - 6, "/.libs") == 0)
		exe[len - 6] = '\0'; /* libtool's wrapper runs .libs/lt-assay */
	snprintf(probe, sizeof probe, "%s/config.status", exe);
	if (access(probe, F_OK) != 0)
		return 0;
	snprintf(probe, sizeof probe, "%s/plugins/.libs", exe);
	return registry_add_dirs(r, probe);
}

/* The search path, in order: $ASSAY_PLUGIN_PATH, [plugins] path (relative
 * to the config file), the build tree, the installed plugin directory. */
static int set_search_path(registry *r, const plan *p)
{
	const char *env = getenv("ASSAY_PLUGIN_PATH");
	size_t i, n;
	int rc = 0;

	if (env)
		rc = registry_add_dirs(r, env);
	if (rc == 0 && p && p->plugin_path) {
		bool one = value_type(p->plugin_path) == ASSAY_VALUE_STRING;

		n = one ? 1 : value_len(p->plugin_path);
		for (i = 0; i < n && rc == 0; i++) {
			const char *dir = value_string(one ? p->plugin_path
							   : value_at(p->plugin_path, i, NULL));
			char *full = NULL;

			if (dir[0] != '/' && p->values.dir &&
			    asprintf(&full, "%s/%s", p->values.dir, dir) < 0)
				return ASSAY_ENOMEM;
			rc = registry_add_dirs(r, full ? full : dir);
			free(full);
		}
	}
	if (rc == 0)
		rc = add_build_tree_dir(r);
	if (rc == 0)
		rc = registry_add_dirs(r, PLUGINDIR);
	return rc;
}

static int load_plugins(registry *r, const plan *p)
{
	size_t i;

	for (i = 0; p->load && i < value_len(p->load); i++) {
		const assay_value *v = value_at(p->load, i, NULL);
		const char *name = value_string(v), *base = strrchr(name, '/');
		char short_name[256], *full = NULL;
		int rc;

		/* [plugins.NAME] configures the plugin loaded as NAME or
		 * .../NAME.so. */
		snprintf(short_name, sizeof short_name, "%.*s",
			 (int)strcspn(base ? base + 1 : name, "."), base ? base + 1 : name);
		/* Like every path in a config file, a relative one is relative
		 * to the file. */
		if (base && name[0] != '/' && p->values.dir &&
		    asprintf(&full, "%s/%s", p->values.dir, name) < 0)
			return ASSAY_ENOMEM;
		rc = registry_load(r, full ? full : name, value_get(p->plugins, short_name), v);
		free(full);
		if (rc == ASSAY_ENOMEM)
			return rc;
	}
	return 0;
}

static void print_list(const char *label, const registry *r, enum reg_what what,
		       const assay_plugin *owner)
{
	size_t i, shown = 0;

	for (i = 0; i < r->n_entries[what]; i++) {
		const reg_entry *e = &r->entries[what][i];

		if (e->owner != owner)
			continue;
		printf("%s%s", shown++ ? ", " : label, e->name);
	}
	if (shown)
		printf("\n");
}

static int cmd_plugins(const options *o, int argc, char **argv)
{
	diag d = DIAG_INIT;
	registry r;
	plan p;
	bool have_plan = false;
	char **paths = NULL;
	size_t i, n = 0;
	int rc = 0;

	if (argc > 1)
		return usage_error("plugins takes at most one FILE, got '%s'", argv[1]);
	if (argc == 1) {
		if (config_load(&p, argv[0], 1, &d) < 0 || diag_count(&d)) {
			diag_print(&d, stderr);
			diag_release(&d);
			plan_release(&p);
			return EXIT_CONFIG;
		}
		have_plan = true;
	}
	if (registry_init(&r, &d) < 0) {
		fprintf(stderr, "assay: cannot initialise libltdl\n");
		return EXIT_CONFIG;
	}
	r.allow_insecure = o->allow_insecure;
	if (set_search_path(&r, have_plan ? &p : NULL) < 0 ||
	    registry_discover(&r, &paths, &n) < 0) {
		fprintf(stderr, "assay: out of memory\n");
		rc = EXIT_CONFIG;
		goto out;
	}
	for (i = 0; i < n; i++)
		registry_load(&r, paths[i], NULL, NULL);
	for (i = 0; i < r.n_plugins; i++) {
		const assay_plugin *pl = r.plugins[i];

		printf("%s %s\n  file: %s\n  %s\n", pl->name, pl->version, pl->path,
		       pl->description);
		print_list("  node types: ", &r, REG_NODE, pl);
		print_list("  resources: ", &r, REG_RESOURCE, pl);
		print_list("  reporters: ", &r, REG_REPORTER, pl);
	}
	if (n == 0) {
		printf("no plugins found; searched:");
		for (i = 0; i < r.n_dirs; i++)
			printf(" %s", r.dirs[i]);
		printf("\n");
	}
	if (diag_count(&d)) {
		diag_print(&d, stderr);
		rc = EXIT_CONFIG;
	}
out:
	for (i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	registry_release(&r);
	if (have_plan)
		plan_release(&p);
	diag_release(&d);
	return rc;
}

static size_t count_kind(const plan *p, unsigned kind)
{
	size_t i, n = 0;

	for (i = 0; i < p->n_nodes; i++)
		n += p->nodes[i].kind == kind;
	return n;
}

static void print_summary(const plan *p, const registry *r)
{
	size_t i, items = 0, gates = 0, n_val = count_kind(p, ASSAY_KIND_VALIDATION);
	size_t n_check = count_kind(p, ASSAY_KIND_CHECK), n_trial = count_kind(p, ASSAY_KIND_TRIAL);
	char timeout[32];

	for (i = 0; i < p->n_nodes; i++) {
		items += p->nodes[i].n_items;
		gates += p->nodes[i].gate;
	}
	printf("%s: OK\n", p->path);
	printf("  runner: jobs %u, workers %u, timeout %s%s\n", p->jobs, p->workers,
	       value_format_duration(p->timeout_ms, timeout), p->fail_fast ? ", fail_fast" : "");
	printf("  plugins:");
	for (i = 0; i < r->n_plugins; i++)
		printf("%s %s %s (%s)", i ? "," : "", r->plugins[i]->name,
		       r->plugins[i]->version, r->plugins[i]->path);
	printf("%s\n", r->n_plugins ? "" : " none");
	printf("  nodes: %zu: %zu check%s, %zu trial%s, %zu validation%s (%zu item%s)\n",
	       p->n_nodes, n_check, n_check == 1 ? "" : "s", n_trial, n_trial == 1 ? "" : "s",
	       n_val, n_val == 1 ? "" : "s", items, items == 1 ? "" : "s");
	printf("  gates:");
	for (i = 0; i < p->n_nodes; i++)
		if (p->nodes[i].gate)
			printf(" %s", p->nodes[i].id);
	printf("%s\n", gates ? "" : " none");
	printf("  groups:");
	for (i = 0; i < p->n_groups; i++) {
		size_t j, members = 0, len = strlen(p->groups[i].name);

		for (j = 0; j < p->n_nodes; j++)
			members += strncmp(p->nodes[j].id, p->groups[i].name, len) == 0 &&
				   (p->nodes[j].id[len] == '.' || p->nodes[j].id[len] == '[');
		printf("%s %s (%zu)", i ? "," : "", p->groups[i].name, members);
	}
	printf("%s\n", p->n_groups ? "" : " none");
}

/* Everything a command needs from a file: the plan with its plugins
 * loaded and prepared, and its graph.  Errors are in d. */
typedef struct loaded {
	diag d;
	registry r;
	plan p;
	graph g;
	bool have_registry, have_graph;
} loaded;

static int load_all(loaded *l, const options *o, const char *path, bool want_graph)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	int rc;

	memset(l, 0, sizeof *l);
	rc = config_load(&l->p, path, cores > 0 ? (unsigned)cores : 1, &l->d);
	if (rc < 0) {
		if (rc == ASSAY_ENOMEM)
			diag_add(&l->d, path, 0, 0, "out of memory");
		return -1;
	}
	if (registry_init(&l->r, &l->d) < 0) {
		diag_add(&l->d, NULL, 0, 0, "cannot initialise libltdl");
		return -1;
	}
	l->have_registry = true;
	l->r.allow_insecure = o->allow_insecure;
	l->r.verbosity = ASSAY_LOG_WARNING + o->verbosity;
	if (set_search_path(&l->r, &l->p) < 0 || load_plugins(&l->r, &l->p) < 0)
		diag_add(&l->d, path, 0, 0, "out of memory");
	config_prepare(&l->p, &l->r, &l->d);
	if (want_graph && diag_count(&l->d) == 0) {
		l->have_graph = true;
		if (graph_build(&l->g, &l->p, &l->d) == ASSAY_ENOMEM)
			diag_add(&l->d, path, 0, 0, "out of memory");
	}
	return diag_count(&l->d) ? -1 : 0;
}

static void loaded_release(loaded *l)
{
	if (l->have_graph)
		graph_release(&l->g);
	/* Plans hold plugin state: release them before the plugins. */
	plan_release(&l->p);
	if (l->have_registry)
		registry_release(&l->r);
	diag_release(&l->d);
}

static int config_failed(loaded *l, const char *path)
{
	diag_print(&l->d, stderr);
	fprintf(stderr, "%s: %zu error%s\n", path, diag_count(&l->d),
		diag_count(&l->d) == 1 ? "" : "s");
	loaded_release(l);
	return EXIT_CONFIG;
}

static int cmd_check_config(const options *o, int argc, char **argv)
{
	const char *path = argc ? argv[0] : DEFAULT_CONFIG;
	loaded l;

	if (argc > 1)
		return usage_error("check-config takes at most one FILE, got '%s'", argv[1]);
	if (load_all(&l, o, path, true) < 0)
		return config_failed(&l, path);
	print_summary(&l.p, &l.r);
	loaded_release(&l);
	return 0;
}

/* Declared estimates, for the critical path of a run not yet made. */
static double *estimates(const plan *p)
{
	double *s = calloc(p->n_nodes ? p->n_nodes : 1, sizeof *s);
	size_t i;

	for (i = 0; s && i < p->n_nodes; i++)
		s[i] = p->nodes[i].estimate_s;
	return s;
}

static int cmd_graph(const options *o, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = DEFAULT_CONFIG, *format = "text";
	double *seconds;
	loaded l;
	int c;

	optind = 0; /* 0, not 1: GNU getopt then forgets the global options' scan */
	while ((c = getopt_long(argc, argv, "f:", opts, NULL)) != -1) {
		if (c != 'f')
			return usage_error("%s", "graph: unknown option");
		format = optarg;
	}
	if (strcmp(format, "text") != 0 && strcmp(format, "dot") != 0)
		return usage_error("graph --format is text or dot, not '%s'", format);
	if (optind < argc)
		path = argv[optind++];
	if (optind < argc)
		return usage_error("graph takes at most one FILE, got '%s'", argv[optind]);
	if (load_all(&l, o, path, true) < 0)
		return config_failed(&l, path);
	if (!(seconds = estimates(&l.p))) {
		loaded_release(&l);
		return EXIT_CONFIG;
	}
	if (strcmp(format, "dot") == 0)
		graph_print_dot(&l.g, &l.p, seconds, stdout);
	else
		graph_print_text(&l.g, &l.p, seconds, NULL, stdout);
	free(seconds);
	loaded_release(&l);
	return 0;
}

/* --only names: node ids or group names, each with what it waits for. */
static int select_only(const loaded *l, char **names, size_t n, bool *keep)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		size_t len = strlen(names[i]), hits = 0;

		for (j = 0; j < l->p.n_nodes; j++) {
			const char *id = l->p.nodes[j].id;

			if (strcmp(id, names[i]) == 0 ||
			    (strncmp(id, names[i], len) == 0 && (id[len] == '.' || id[len] == '['))) {
				keep[j] = true;
				hits++;
			}
		}
		if (!hits) {
			const char **ids = malloc((l->p.n_nodes ? l->p.n_nodes : 1) * sizeof *ids);
			const char *hint = NULL;

			for (j = 0; ids && j < l->p.n_nodes; j++)
				ids[j] = l->p.nodes[j].id;
			if (ids)
				hint = diag_suggest(names[i], ids, l->p.n_nodes);
			usage_error("--only %s: no such node or group%s%s%s", names[i],
				    hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
			free(ids);
			return -1;
		}
	}
	graph_closure(&l->g, keep);
	return 0;
}

/* The live line on a terminal: running, done, failed, ETA. */
typedef struct progress {
	bool on;
	double start, last;
} progress;

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void show_progress(const run *r, void *arg)
{
	progress *pr = arg;
	run_counts c = run_get_counts(r);
	double now = mono_now(), eta;

	/* Ten updates a second are plenty, and keep the terminal cheap. */
	if (now - pr->last < 0.1 && c.done < c.total)
		return;
	pr->last = now;
	eta = c.done ? (now - pr->start) / (double)c.done * (double)(c.total - c.done) : 0;
	fprintf(stderr, "\r\033[K[%zu/%zu done, %zu running, %zu failed, ETA %.0fs]",
		c.done, c.total, c.running, c.failed, eta);
	fflush(stderr);
}

typedef struct signal_watch {
	int fd;
	run *run;
	int count;
} signal_watch;

/* First SIGINT/SIGTERM: stop the run, kill its children, report what
 * finished.  Second: leave at once (reports are written atomically, so
 * nothing half-written is left). */
static void on_signal(int fd, unsigned events, void *arg)
{
	signal_watch *w = arg;
	struct signalfd_siginfo si;
	char reason[64];

	while (read(fd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (++w->count > 1)
			_exit(128 + (int)si.ssi_signo);
		snprintf(reason, sizeof reason, "interrupted by %s",
			 si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
		fprintf(stderr, "\nassay: %s: stopping (again to quit at once)\n", reason);
		run_stop(w->run, reason);
	}
}

typedef struct report_target {
	const assay_reporter *reporter;
	const char *path;
} report_target;

static const assay_reporter *find_reporter(const registry *r, const char *name)
{
	const reg_entry *e = registry_lookup(r, REG_REPORTER, name);

	return e ? e->u.reporter : report_builtin(name);
}

static int cmd_run(const options *global, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "verbose", no_argument, NULL, 'v' },
		{ "allow-insecure-plugins", no_argument, NULL, 'I' },
		{ "only", required_argument, NULL, 'o' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "workers", required_argument, NULL, 'w' },
		{ "format", required_argument, NULL, 'f' },
		{ "report", required_argument, NULL, 'r' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "fail-fast", no_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = DEFAULT_CONFIG, *format = "human";
	char *only[256], *report_args[16];
	size_t n_only = 0, n_reports = 0, i;
	long jobs = 0, workers = 0;
	bool dry_run = false, fail_fast = false;
	report_target targets[17];
	char why[PATH_MAX + 64];
	run_options ro = { 0 };
	signal_watch sw = { -1, NULL, 0 };
	assay_watch *watch = NULL;
	progress pr = { false, 0, 0 };
	reactor *re = NULL;
	bool *keep = NULL;
	sigset_t sigs, chld;
	run *r = NULL;
	report rep;
	loaded l;
	char *end;
	int c, status = 0;

	optind = 0; /* 0, not 1: GNU getopt then forgets the global options' scan */
	/* The global options are welcome after the command too. */
	options local = *global, *o = &local;

	while ((c = getopt_long(argc, argv, "j:w:f:v", opts, NULL)) != -1) {
		switch (c) {
		case 'v':
			local.verbosity++;
			break;
		case 'I':
			local.allow_insecure = true;
			break;
		case 'o':
			if (n_only == sizeof only / sizeof *only)
				return usage_error("%s", "too many --only");
			only[n_only++] = optarg;
			break;
		case 'j':
		case 'w':
			errno = 0;
			*(c == 'j' ? &jobs : &workers) = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || *(c == 'j' ? &jobs : &workers) < 1 ||
			    *(c == 'j' ? &jobs : &workers) > (c == 'j' ? 1000000 : 1024))
				return usage_error("--%s takes a number from 1 to %d, not '%s'",
						   c == 'j' ? "jobs" : "workers",
						   c == 'j' ? 1000000 : 1024, optarg);
			break;
		case 'f':
			format = optarg;
			break;
		case 'r':
			if (n_reports == sizeof report_args / sizeof *report_args)
				return usage_error("%s", "too many --report");
			if (!strchr(optarg, ':'))
				return usage_error("--report takes FORMAT:PATH, not '%s'", optarg);
			report_args[n_reports++] = optarg;
			break;
		case 'n':
			dry_run = true;
			break;
		case 'F':
			fail_fast = true;
			break;
		default:
			return usage_error("%s", "run: unknown option");
		}
	}
	if (optind < argc)
		path = argv[optind++];
	if (optind < argc)
		return usage_error("run takes at most one FILE, got '%s'", argv[optind]);
	if (load_all(&l, o, path, true) < 0)
		return config_failed(&l, path);

	/* Outputs are checked before anything runs: a typo must not cost a run. */
	targets[0].reporter = find_reporter(&l.r, format);
	targets[0].path = "-";
	if (!targets[0].reporter) {
		loaded_release(&l);
		return usage_error("unknown --format '%s' (human, json, or a plugin's reporter)", format);
	}
	for (i = 0; i < n_reports; i++) {
		char *colon = strchr(report_args[i], ':');

		*colon = '\0';
		targets[i + 1].reporter = find_reporter(&l.r, report_args[i]);
		targets[i + 1].path = colon + 1;
		if (!targets[i + 1].reporter || !*targets[i + 1].path) {
			loaded_release(&l);
			return usage_error("--report %s: unknown format or empty path", report_args[i]);
		}
		/* The report is written after the run: a path it cannot be
		 * written to must not cost a whole run to find out. */
		if (report_check_target(targets[i + 1].path, why, sizeof why) < 0) {
			loaded_release(&l);
			return usage_error("--report %s:%s: %s", report_args[i], targets[i + 1].path, why);
		}
	}
	if (n_only) {
		keep = calloc(l.p.n_nodes ? l.p.n_nodes : 1, sizeof *keep);
		if (!keep || select_only(&l, only, n_only, keep) < 0) {
			free(keep);
			loaded_release(&l);
			return EXIT_USAGE;
		}
	}
	if (dry_run) {
		double *seconds = estimates(&l.p);

		if (seconds)
			graph_print_text(&l.g, &l.p, seconds, keep, stdout);
		free(seconds);
		free(keep);
		loaded_release(&l);
		return 0;
	}

	ro.jobs = jobs ? (unsigned)jobs : l.p.jobs;
	ro.workers = workers ? (unsigned)workers : l.p.workers;
	ro.fail_fast = fail_fast || l.p.fail_fast;
	ro.keep = keep;
	ro.verbosity = ASSAY_LOG_WARNING + o->verbosity;
	if (isatty(STDERR_FILENO) && !getenv("NO_PROGRESS")) {
		pr.on = true;
		pr.start = mono_now();
		ro.progress = show_progress;
		ro.progress_arg = &pr;
	}
	/* Signals arrive through the reactor, on a signalfd: every thread
	 * (created below, inheriting this mask) leaves them blocked. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	sw.fd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	/* SIGCHLD is blocked too, though nobody reads it: children are
	 * reaped through pidfds in the reactor, and left unblocked every
	 * child's exit woke this thread from its wait in run_go() for
	 * nothing (measured: 683 futex calls for 1,024 children, 44 with it
	 * blocked).  Children start with an empty mask (exec resets it). */
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &chld, NULL);
	if (reactor_new(&re) < 0 || run_new(&r, &l.p, &l.g, &ro, re) < 0) {
		fprintf(stderr, "assay: cannot start: out of memory\n");
		status = ASSAY_UNKNOWN;
		goto out;
	}
	sw.run = r;
	if (sw.fd >= 0)
		reactor_fd_watch(re, sw.fd, ASSAY_READABLE, on_signal, &sw, &watch);
	host_set_reactor(re);
	if (run_go(r) < 0) {
		fprintf(stderr, "assay: cannot start the worker threads\n");
		status = ASSAY_UNKNOWN;
		goto out;
	}
	if (pr.on)
		fprintf(stderr, "\r\033[K");
	if (report_build(&rep, &l.p, &l.g, r) < 0) {
		fprintf(stderr, "assay: out of memory writing the report\n");
		status = ASSAY_UNKNOWN;
		goto out;
	}
	status = report_exit_status(&rep);
	for (i = 0; i <= n_reports; i++)
		if (report_write(targets[i].reporter, &rep, targets[i].path) < 0 &&
		    status == ASSAY_OK)
			status = ASSAY_UNKNOWN; /* a report that was asked for is missing */
	report_release(&rep);
out:
	if (watch)
		reactor_fd_unwatch(re, watch);
	run_free(r);
	/* Join the reactor before its pointer goes: a plugin callback still
	 * running may unwatch or stop a timer through the host table. */
	reactor_free(re);
	host_set_reactor(NULL);
	if (sw.fd >= 0)
		close(sw.fd);
	free(keep);
	loaded_release(&l);
	return status;
}

int main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "allow-insecure-plugins", no_argument, NULL, 'I' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const commands[] = { "run", "check-config", "graph", "plugins" };
	options o = { 0 };
	const char *cmd, *hint;
	int c;

	/* Stop at the command: its own arguments follow it. */
	while ((c = getopt_long(argc, argv, "+hVv", long_opts, NULL)) != -1) {
		switch (c) {
		case 'I':
			o.allow_insecure = true;
			break;
		case 'v':
			o.verbosity++;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case 'V':
			printf("assay %s (plugin ABI %d)\n", PACKAGE_VERSION, ASSAY_ABI_VERSION);
			return 0;
		default:
			fprintf(stderr, "Try 'assay --help'.\n");
			return EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return usage_error("%s", "no command given");
	cmd = argv[optind];
	/* The command's own options are parsed from its name on. */
	argc -= optind;
	argv += optind;
	if (strcmp(cmd, "run") == 0)
		return cmd_run(&o, argc, argv);
	if (strcmp(cmd, "graph") == 0)
		return cmd_graph(&o, argc, argv);
	argc--;
	argv++;
	optind = 0;
	if (strcmp(cmd, "check-config") == 0)
		return cmd_check_config(&o, argc, argv);
	if (strcmp(cmd, "plugins") == 0)
		return cmd_plugins(&o, argc, argv);
	hint = diag_suggest(cmd, commands, sizeof commands / sizeof *commands);
	if (hint) {
		fprintf(stderr, "assay: unknown command '%s' (did you mean '%s'?)\n", cmd, hint);
		return EXIT_USAGE;
	}
	return usage_error("unknown command '%s'", cmd);
}
