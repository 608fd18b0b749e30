/* main.c -- the assay command line and its exit codes; nothing else. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <signal.h>
#include <sys/signalfd.h>

#include "best.h"
#include "config.h"
#include "diag.h"
#include "duration.h"
#include "graph.h"
#include "host.h"
#include "plugin.h"
#include "progress.h"
#include "reactor.h"
#include "report.h"
#include "run.h"
#include "status.h"
#include "suggest.h"

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

/* Each command's help: `assay COMMAND --help` and `assay help COMMAND`
 * print one, `assay --help` all of them.  doc/assay.1 documents the same
 * options (tests/man-options.sh holds the two together). */
typedef struct command_help {
	const char *name;
	const char *args;         /* after the name in its usage line */
	const char *summary;
	const char *options;      /* its own, or NULL */
} command_help;

static const command_help helps[] = {
	{ "run", "[FILE] [OPTION]...",
	  "run every node of FILE, as many at once as they allow",
	  "      --only ID             run ID (a node or group; repeatable) and what it needs\n"
	  "  -j, --jobs N              executions at once (default: [runner] jobs, 64)\n"
	  "  -w, --workers N           pool threads (default: [runner] workers, the cores)\n"
	  "  -f, --format FORMAT       human (default) or json, on standard output\n"
	  "      --report FORMAT:PATH  also write FORMAT to PATH (repeatable; a file is replaced atomically)\n"
	  "      --dry-run             check everything and show what would run, run nothing\n"
	  "      --allow-unset         with --dry-run: unset ${env:} variables are warnings\n"
	  "      --fail-fast           stop at the first CRITICAL or UNKNOWN node\n" },
	{ "check-config", "[FILE] [OPTION]...",
	  "check FILE and the plugins it loads; print a summary",
	  "      --allow-unset         unset ${env:} variables are warnings, not errors\n" },
	{ "graph", "[FILE] [OPTION]...",
	  "print the dependency graph",
	  "  -f, --format FORMAT       text (default) or dot\n"
	  "      --allow-unset         unset ${env:} variables are warnings, not errors\n" },
	{ "plugins", "[FILE]",
	  "list the plugins on the search path and what they provide", NULL },
	{ "help", "[COMMAND]",
	  "show this help, or a command's", NULL },
};

static const char global_options[] =
	"      --allow-insecure-plugins  load plugin files that others can write\n"
	"  -v, --verbose                 print plugins' info messages (twice: debug)\n"
	"  -h, --help                    show this help\n"
	"  -V, --version                 show the version\n";

static const char help_footer[] =
	"FILE defaults to " DEFAULT_CONFIG ".\n"
	"Plugins are searched in $ASSAY_PLUGIN_PATH, [plugins] path, then " PLUGINDIR ".\n"
	"Exit status: the worst node's: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN;\n"
	"64 usage error, 78 configuration error.\n";

static const command_help *find_help(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof helps / sizeof *helps; i++)
		if (strcmp(helps[i].name, name) == 0)
			return &helps[i];
	return NULL;
}

static int print_help(void)
{
	size_t i;

	printf("usage: assay [OPTION]... COMMAND [ARG]...\n\ncommands:\n");
	for (i = 0; i < sizeof helps / sizeof *helps; i++) {
		printf("  %s %s\n      %s\n", helps[i].name, helps[i].args, helps[i].summary);
		if (helps[i].options)
			printf("%s", helps[i].options);
	}
	printf("\noptions:\n%s\n%s", global_options, help_footer);
	return 0;
}

static int print_command_help(const command_help *h)
{
	printf("usage: assay [OPTION]... %s %s\n%c%s.\n", h->name, h->args,
	       toupper((unsigned char)h->summary[0]), h->summary + 1);
	printf("\noptions:\n%s", h->options ? h->options : "");
	printf("  -h, --help                show this help\n\n"
	       "The global OPTIONs are in 'assay --help'.\n%s", help_footer);
	return 0;
}

typedef struct options {
	bool allow_insecure;
	bool allow_unset;
	int verbosity;
} options;

/* A usage error, of the command cmd or (NULL) of assay as a whole. */
static int usage_error(const char *cmd, const char *fmt, ...) ASSAY_PRINTF(2, 3);
static int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "assay: %s%s", cmd ? cmd : "", cmd ? ": " : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'assay %s%s--help'.\n", cmd ? cmd : "", cmd ? " " : "");
	return EXIT_USAGE;
}

/* What getopt_long() returned c (':' or '?') for, in assay's words: getopt
 * would name argv[0], the command or the binary's full path, and say it
 * twice with ours.  (opterr is 0 and optstring starts with ':'.) */
static int option_error(const char *cmd, int c, char *const *argv)
{
	const char *arg = argv[optind - 1];
	/* A long option is the argument just taken, unless getopt is still
	 * inside a cluster of short ones. */
	bool is_long = strncmp(arg, "--", 2) == 0 && (c == ':' || optopt == 0 || strchr(arg, '='));
	int len = is_long ? (int)strcspn(arg, "=") : 2;
	char short_opt[3] = { '-', (char)optopt, '\0' };
	const char *name = is_long ? arg : short_opt;

	if (c == ':')
		return usage_error(cmd, "option '%.*s' needs a value", len, name);
	if (is_long && optopt)
		return usage_error(cmd, "option '%.*s' takes no value", len, name);
	return usage_error(cmd, "unknown option '%.*s'", len, name);
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
			const assay_value *v = one ? p->plugin_path : value_at(p->plugin_path, i, NULL);
			char *full = value_path(v, value_string(v));

			if (!full)
				return ASSAY_ENOMEM;
			rc = registry_add_dirs(r, full);
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
		/* A path (not a name to search for) is read like every path
		 * in a config file. */
		if (base && !(full = value_path(v, name)))
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
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	diag d = DIAG_INIT;
	registry r;
	plan p;
	bool have_plan = false;
	char **paths = NULL;
	size_t i, n = 0;
	int c, rc = 0;

	optind = 0; /* 0, not 1: GNU getopt then forgets the global options' scan */
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c != 'h')
			return option_error("plugins", c, argv);
		return print_command_help(find_help("plugins"));
	}
	argc -= optind;
	argv += optind;
	if (argc > 1)
		return usage_error("plugins", "takes at most one FILE, got '%s'", argv[1]);
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

static void print_group(const plan *p, uint32_t ref, bool first)
{
	printf("%s %s (%u)", first ? "" : ",", plan_ref_name(p, ref), plan_span_of(p, ref).n);
}

/* The groups and the matrices (a group of their trials), in the order the
 * file was read, each with its number of nodes. */
static void print_groups(const plan *p)
{
	size_t g = 0, s, shown = 0;

	printf("  groups:");
	for (s = 0; s <= p->n_sweeps; s++) {
		size_t before = s < p->n_sweeps ? p->sweeps[s].groups_before : p->n_groups;

		for (; g < before; g++)
			print_group(p, (uint32_t)(p->n_nodes + g), shown++ == 0);
		if (s < p->n_sweeps && p->sweeps[s].matrix)
			print_group(p, (uint32_t)(p->n_nodes + p->n_groups + s), shown++ == 0);
	}
	printf("%s\n", shown ? "" : " none");
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
	       duration_format(p->timeout_ms, timeout), p->fail_fast ? ", fail_fast" : "");
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
	for (i = 0; i < p->n_nodes; i++)
		if (p->nodes[i].skip)
			printf("  skipped: %s (%s)\n", p->nodes[i].id, p->nodes[i].skip);
	print_groups(p);
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
	l->d.unset_is_warning = o->allow_unset;
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
	if (diag_count(&l->d))
		return -1;
	if (l->d.n_warnings) {
		diag_print(&l->d, stderr);
		fprintf(stderr, "%s: %zu warning%s\n", path, l->d.n_warnings,
			l->d.n_warnings == 1 ? "" : "s");
	}
	return 0;
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
	fprintf(stderr, "%s: %zu error%s", path, diag_count(&l->d),
		diag_count(&l->d) == 1 ? "" : "s");
	if (l->d.n_warnings)
		fprintf(stderr, ", %zu warning%s", l->d.n_warnings, l->d.n_warnings == 1 ? "" : "s");
	fputc('\n', stderr);
	loaded_release(l);
	return EXIT_CONFIG;
}

static int cmd_check_config(const options *global, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "allow-unset", no_argument, NULL, 'U' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = DEFAULT_CONFIG;
	options o = *global;
	loaded l;
	int c;

	optind = 0; /* 0, not 1: GNU getopt then forgets the global options' scan */
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == 'h')
			return print_command_help(find_help("check-config"));
		if (c != 'U')
			return option_error("check-config", c, argv);
		o.allow_unset = true;
	}
	if (optind < argc)
		path = argv[optind++];
	if (optind < argc)
		return usage_error("check-config", "takes at most one FILE, got '%s'", argv[optind]);
	if (load_all(&l, &o, path, true) < 0)
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
		s[i] = p->nodes[i].skip ? 0 : p->nodes[i].estimate_s; /* never runs */
	return s;
}

static int cmd_graph(const options *global, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "allow-unset", no_argument, NULL, 'U' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = DEFAULT_CONFIG, *format = "text";
	options o = *global;
	double *seconds;
	loaded l;
	int c;

	optind = 0; /* 0, not 1: GNU getopt then forgets the global options' scan */
	while ((c = getopt_long(argc, argv, ":f:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			format = optarg;
			break;
		case 'U':
			o.allow_unset = true;
			break;
		case 'h':
			return print_command_help(find_help("graph"));
		default:
			return option_error("graph", c, argv);
		}
	}
	if (strcmp(format, "text") != 0 && strcmp(format, "dot") != 0)
		return usage_error("graph", "--format is text or dot, not '%s'", format);
	if (optind < argc)
		path = argv[optind++];
	if (optind < argc)
		return usage_error("graph", "takes at most one FILE, got '%s'", argv[optind]);
	if (load_all(&l, &o, path, true) < 0)
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
	size_t i;
	uint32_t k;

	for (i = 0; i < n; i++) {
		uint32_t ref = plan_find(&l->p, names[i]);
		plan_span s = { NULL, 0, 0 };

		if (ref != PLAN_NONE) {
			s = plan_span_of(&l->p, ref);
			for (k = 0; k < s.n; k++)
				keep[plan_span_at(&s, k)] = true;
		}
		if (ref == PLAN_NONE || s.n == 0) {
			size_t n_names;
			const char **known = plan_names(&l->p, &n_names);
			const char *hint = NULL;

			if (known)
				hint = suggest_word(names[i], known, n_names);
			usage_error("run", "--only %s: no such node or group%s%s%s", names[i],
				    hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
			free(known);
			return -1;
		}
	}
	graph_closure(&l->g, keep);
	return 0;
}

typedef struct signal_watch {
	int fd;
	run *run;
	reactor *re;
	int count;
} signal_watch;

static const char *signal_name(int sig)
{
	return sig == SIGINT ? "SIGINT" : sig == SIGHUP ? "SIGHUP" : "SIGTERM";
}

/* First SIGINT, SIGTERM or SIGHUP (the terminal closed, the connection
 * dropped): stop the run, kill its children, report what finished.
 * Second: kill what still runs (a command that ignores SIGTERM, one within
 * its kill_grace) and leave at once -- reports are written atomically, so
 * nothing half-written is left, and nothing outlives assay. */
static void on_signal(int fd, unsigned events, void *arg)
{
	signal_watch *w = arg;
	struct signalfd_siginfo si;
	char reason[64];

	while (read(fd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (++w->count > 1) {
			reactor_kill_children(w->re, SIGKILL);
			_exit(128 + (int)si.ssi_signo);
		}
		/* Where the terminal or connection went, writing to it may
		 * raise SIGPIPE: the report files are still to be written. */
		if (si.ssi_signo == SIGHUP)
			signal(SIGPIPE, SIG_IGN);
		snprintf(reason, sizeof reason, "interrupted by %s", signal_name((int)si.ssi_signo));
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

/* run's options, parsed. */
typedef struct run_args {
	options o;                /* the global ones too: welcome after `run` */
	const char *path, *format;
	char *only[256], *reports[16];
	size_t n_only, n_reports;
	long jobs, workers;
	bool dry_run, fail_fast;
} run_args;

/* --jobs and --workers: a whole number in [1, max]. */
static int parse_count(const char *opt, const char *arg, long max, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(arg, &end, 10);
	if (errno || *end || end == arg || *out < 1 || *out > max)
		return usage_error("run", "%s takes a number from 1 to %ld, not '%s'", opt, max, arg);
	return 0;
}

/* 0, 1 after --help, or an exit status. */
static int parse_run(run_args *a, int argc, char **argv)
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
		{ "allow-unset", no_argument, NULL, 'U' },
		{ "fail-fast", no_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, rc;

	optind = 0; /* 0, not 1: GNU getopt then forgets the global options' scan */
	while ((c = getopt_long(argc, argv, ":j:w:f:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'v':
			a->o.verbosity++;
			break;
		case 'I':
			a->o.allow_insecure = true;
			break;
		case 'o':
			if (a->n_only == sizeof a->only / sizeof *a->only)
				return usage_error("run", "too many --only (at most %zu)", a->n_only);
			a->only[a->n_only++] = optarg;
			break;
		case 'j':
			if ((rc = parse_count("--jobs", optarg, 1000000, &a->jobs)))
				return rc;
			break;
		case 'w':
			if ((rc = parse_count("--workers", optarg, 1024, &a->workers)))
				return rc;
			break;
		case 'f':
			a->format = optarg;
			break;
		case 'r':
			if (a->n_reports == sizeof a->reports / sizeof *a->reports)
				return usage_error("run", "too many --report (at most %zu)", a->n_reports);
			if (!strchr(optarg, ':'))
				return usage_error("run", "--report takes FORMAT:PATH, not '%s'", optarg);
			a->reports[a->n_reports++] = optarg;
			break;
		case 'n':
			a->dry_run = true;
			break;
		case 'U':
			a->o.allow_unset = true;
			break;
		case 'F':
			a->fail_fast = true;
			break;
		case 'h':
			print_command_help(find_help("run"));
			return 1;
		default:
			return option_error("run", c, argv);
		}
	}
	if (optind < argc)
		a->path = argv[optind++];
	if (optind < argc)
		return usage_error("run", "takes at most one FILE, got '%s'", argv[optind]);
	/* What is left unset would be used: a run needs all of it. */
	if (a->o.allow_unset && !a->dry_run)
		return usage_error("run", "--allow-unset checks a file without running it: use it with --dry-run");
	return 0;
}

/* The reports to write, checked before anything runs: a typo or a
 * directory that cannot be written must not cost a run to find out.
 * targets[0] is standard output.  0 or an exit status. */
static int check_reports(const loaded *l, run_args *a, report_target *targets)
{
	char why[PATH_MAX + 64];
	size_t i;

	targets[0].reporter = find_reporter(&l->r, a->format);
	targets[0].path = "-";
	if (!targets[0].reporter)
		return usage_error("run", "unknown --format '%s' (human, json, or a plugin's reporter)",
				   a->format);
	for (i = 0; i < a->n_reports; i++) {
		char *colon = strchr(a->reports[i], ':');

		*colon = '\0';
		targets[i + 1].reporter = find_reporter(&l->r, a->reports[i]);
		targets[i + 1].path = colon + 1;
		if (!targets[i + 1].reporter || !*targets[i + 1].path)
			return usage_error("run", "--report %s: unknown format or empty path", a->reports[i]);
		if (report_check_target(targets[i + 1].path, why, sizeof why) < 0)
			return usage_error("run", "--report %s:%s: %s", a->reports[i],
					   targets[i + 1].path, why);
	}
	return 0;
}

/* Signals arrive through the reactor, on a signalfd: every thread
 * (created after this, inheriting the mask) leaves them blocked.  SIGCHLD
 * is blocked too, though nobody reads it: children are reaped through
 * pidfds in the reactor, and left unblocked every child's exit woke the
 * main thread from its wait in run_go() for nothing (measured: 683 futex
 * calls for 1,024 children, 44 with it blocked).  Children start with an
 * empty mask (exec resets it).  Returns the signalfd, or -1. */
static int block_signals(void)
{
	sigset_t sigs, chld;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &chld, NULL);
	return signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
}

/* Run the graph, then write every report; the exit status. */
static int run_graph(loaded *l, const run_args *a, const bool *keep,
		     const report_target *targets)
{
	run_options ro = { 0 };
	signal_watch sw = { -1, NULL, NULL, 0 };
	assay_watch *watch = NULL;
	progress *pr = NULL;
	best *tracker = NULL;
	reactor *re = NULL;
	run *r = NULL;
	report rep;
	size_t i;
	int status;

	ro.jobs = a->jobs ? (unsigned)a->jobs : l->p.jobs;
	ro.workers = a->workers ? (unsigned)a->workers : l->p.workers;
	ro.fail_fast = a->fail_fast || l->p.fail_fast;
	ro.keep = keep;
	ro.verbosity = ASSAY_LOG_WARNING + a->o.verbosity;
	sw.fd = block_signals();
	if (reactor_new(&re) < 0 || run_new(&r, &l->p, &l->g, &ro, re) < 0 ||
	    (best_wanted(&l->p) && (!(tracker = best_new(&l->p)) || best_subscribe(tracker, r) < 0))) {
		fprintf(stderr, "assay: cannot start: out of memory\n");
		status = ASSAY_UNKNOWN;
		goto out;
	}
	/* The live line is for a person at a terminal; cron mails what is
	 * printed.  Without it the run publishes no events. */
	if (isatty(STDERR_FILENO) && !getenv("NO_PROGRESS") &&
	    (pr = progress_new(&l->p, &l->g, keep, ro.jobs, stderr)) &&
	    progress_subscribe(pr, r) < 0) {
		progress_free(pr);
		pr = NULL;
	}
	sw.run = r;
	sw.re = re;
	if (sw.fd >= 0)
		reactor_fd_watch(re, sw.fd, ASSAY_READABLE, on_signal, &sw, &watch);
	if (pr && progress_start(pr, re) < 0)
		progress_stop(pr); /* no timer: no line */
	if (run_go(r) < 0) {
		fprintf(stderr, "assay: cannot start the worker threads\n");
		status = ASSAY_UNKNOWN;
		goto out;
	}
	if (pr)
		progress_stop(pr); /* erased before the report */
	if (report_build(&rep, &l->p, &l->g, r, tracker) < 0) {
		fprintf(stderr, "assay: out of memory writing the report\n");
		status = ASSAY_UNKNOWN;
		goto out;
	}
	status = report_exit_status(&rep);
	for (i = 0; i <= a->n_reports; i++) {
		int rc = report_write(targets[i].reporter, &rep, targets[i].path);

		if (rc == 0)
			continue;
		if (i == 0) /* report_write() speaks of files only */
			fprintf(stderr, "assay: cannot write the %s report to standard output: %s\n",
				targets[i].reporter->name, rc == ASSAY_ESYS ? strerror(errno) : status_strerror(rc));
		if (status == ASSAY_OK)
			status = ASSAY_UNKNOWN; /* a report that was asked for is missing */
	}
	report_release(&rep);
out:
	if (pr)
		progress_stop(pr);
	if (watch)
		reactor_fd_unwatch(re, watch);
	run_free(r);
	reactor_free(re);
	progress_free(pr);
	best_free(tracker);
	if (sw.fd >= 0)
		close(sw.fd);
	return status;
}

static int cmd_run(const options *global, int argc, char **argv)
{
	run_args a = { .o = *global, .path = DEFAULT_CONFIG, .format = "human" };
	report_target targets[17];
	bool *keep = NULL;
	loaded l;
	int status;

	if ((status = parse_run(&a, argc, argv)))
		return status == 1 ? 0 : status;
	if (load_all(&l, &a.o, a.path, true) < 0)
		return config_failed(&l, a.path);
	if ((status = check_reports(&l, &a, targets)))
		goto out;
	if (a.n_only) {
		keep = calloc(l.p.n_nodes ? l.p.n_nodes : 1, sizeof *keep);
		if (!keep || select_only(&l, a.only, a.n_only, keep) < 0) {
			status = EXIT_USAGE;
			goto out;
		}
	}
	if (a.dry_run) {
		double *seconds = estimates(&l.p);

		if (seconds)
			graph_print_text(&l.g, &l.p, seconds, keep, stdout);
		free(seconds);
	} else {
		status = run_graph(&l, &a, keep, targets);
	}
out:
	free(keep);
	loaded_release(&l);
	return status;
}

/* A standard descriptor left closed would be taken by the next file
 * opened (what is printed would then land in a report's temporary file):
 * each is held open on /dev/null.  Returns whether standard output was
 * closed. */
static bool hold_std_fds(void)
{
	bool out_closed = false;
	int fd;

	for (fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		out_closed |= fd == STDOUT_FILENO;
		if (open("/dev/null", fd ? O_WRONLY : O_RDONLY) != fd)
			_exit(EXIT_USAGE); /* the lowest free descriptor is fd's */
	}
	return out_closed;
}

/* `assay help [COMMAND]` */
static int cmd_help(int argc, char **argv)
{
	const command_help *h;

	if (argc < 2)
		return print_help();
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)
		return print_command_help(find_help("help"));
	if (argc > 2)
		return usage_error("help", "takes at most one COMMAND, got '%s'", argv[2]);
	if (!(h = find_help(argv[1])))
		return usage_error("help", "unknown command '%s'", argv[1]);
	return print_command_help(h);
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
	static const char *const commands[] = { "run", "check-config", "graph", "plugins", "help" };
	options o = { 0 };
	const char *cmd, *hint;
	int c;

	if (hold_std_fds())
		return usage_error(NULL, "standard output is closed: what assay prints would be lost "
				   "(redirect it to /dev/null to discard it)");
	opterr = 0; /* option_error() says it, once, as assay */
	/* Stop at the command: its own arguments follow it. */
	while ((c = getopt_long(argc, argv, "+:hVv", long_opts, NULL)) != -1) {
		switch (c) {
		case 'I':
			o.allow_insecure = true;
			break;
		case 'v':
			o.verbosity++;
			break;
		case 'h':
			return print_help();
		case 'V':
			printf("assay %s (plugin ABI %d)\n", PACKAGE_VERSION, ASSAY_ABI_VERSION);
			return 0;
		default:
			return option_error(NULL, c, argv);
		}
	}
	if (optind >= argc)
		return usage_error(NULL, "no command given");
	cmd = argv[optind];
	/* The command's own options are parsed from its name on. */
	argc -= optind;
	argv += optind;
	if (strcmp(cmd, "run") == 0)
		return cmd_run(&o, argc, argv);
	if (strcmp(cmd, "graph") == 0)
		return cmd_graph(&o, argc, argv);
	if (strcmp(cmd, "check-config") == 0)
		return cmd_check_config(&o, argc, argv);
	if (strcmp(cmd, "plugins") == 0)
		return cmd_plugins(&o, argc, argv);
	if (strcmp(cmd, "help") == 0)
		return cmd_help(argc, argv);
	hint = suggest_word(cmd, commands, sizeof commands / sizeof *commands);
	if (hint)
		return usage_error(NULL, "unknown command '%s' (did you mean '%s'?)", cmd, hint);
	return usage_error(NULL, "unknown command '%s'", cmd);
}
