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
#include <unistd.h>

#include "config.h"
#include "diag.h"
#include "host.h"
#include "plugin.h"

/* Exit codes: the monitoring-plugins states, then sysexits.h's. */
enum {
	EXIT_USAGE = 64,  /* EX_USAGE */
	EXIT_LOCKED = 75, /* EX_TEMPFAIL: another run holds the lock */
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
	"  check-config [FILE]   check FILE and the plugins it loads; print a summary\n"
	"  plugins [FILE]        list the plugins on the search path and what they provide\n"
	"\n"
	"options:\n"
	"      --allow-insecure-plugins  load plugin files that others can write\n"
	"  -h, --help                    show this help\n"
	"  -V, --version                 show the version\n"
	"\n"
	"FILE defaults to " DEFAULT_CONFIG ".\n"
	"Plugins are searched in $ASSAY_PLUGIN_PATH, [plugins] path, then " PLUGINDIR ".\n"
	"Exit status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN, 64 usage,\n"
	"75 locked, 78 configuration error.\n";

typedef struct options {
	bool allow_insecure;
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
		char short_name[256];

		/* [plugins.NAME] configures the plugin loaded as NAME or
		 * .../NAME.so. */
		snprintf(short_name, sizeof short_name, "%.*s",
			 (int)strcspn(base ? base + 1 : name, "."), base ? base + 1 : name);
		if (registry_load(r, name, value_get(p->plugins, short_name), v) == ASSAY_ENOMEM)
			return ASSAY_ENOMEM;
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

	for (i = 0; i < p->n_nodes; i++) {
		items += p->nodes[i].n_items;
		gates += p->nodes[i].gate;
	}
	printf("%s: OK\n", p->path);
	printf("  runner: jobs %u, workers %u, timeout %.3gs%s\n", p->jobs, p->workers,
	       (double)p->timeout_ms / 1000, p->fail_fast ? ", fail_fast" : "");
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

static int cmd_check_config(const options *o, int argc, char **argv)
{
	const char *path = argc ? argv[0] : DEFAULT_CONFIG;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	diag d = DIAG_INIT;
	registry r;
	plan p;
	int rc = 0;

	if (argc > 1)
		return usage_error("check-config takes at most one FILE, got '%s'", argv[1]);
	rc = config_load(&p, path, cores > 0 ? (unsigned)cores : 1, &d);
	if (rc == ASSAY_ENOMEM || rc == -1) {
		diag_print(&d, stderr);
		plan_release(&p);
		diag_release(&d);
		return EXIT_CONFIG;
	}
	if (registry_init(&r, &d) < 0) {
		fprintf(stderr, "assay: cannot initialise libltdl\n");
		plan_release(&p);
		diag_release(&d);
		return EXIT_CONFIG;
	}
	r.allow_insecure = o->allow_insecure;
	if (set_search_path(&r, &p) < 0 || load_plugins(&r, &p) < 0)
		diag_add(&d, path, 0, 0, "out of memory");
	config_prepare(&p, &r, &d);
	if (diag_count(&d)) {
		diag_print(&d, stderr);
		fprintf(stderr, "%s: %zu error%s\n", path, diag_count(&d),
			diag_count(&d) == 1 ? "" : "s");
		rc = EXIT_CONFIG;
	} else {
		print_summary(&p, &r);
	}
	/* Plans hold plugin state: release them before the plugins. */
	plan_release(&p);
	registry_release(&r);
	diag_release(&d);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "allow-insecure-plugins", no_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const commands[] = { "check-config", "plugins" };
	options o = { 0 };
	const char *cmd, *hint;
	int c;

	/* Stop at the command: its own arguments follow it. */
	while ((c = getopt_long(argc, argv, "+hV", long_opts, NULL)) != -1) {
		switch (c) {
		case 'I':
			o.allow_insecure = true;
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
	cmd = argv[optind++];
	if (strcmp(cmd, "check-config") == 0)
		return cmd_check_config(&o, argc - optind, argv + optind);
	if (strcmp(cmd, "plugins") == 0)
		return cmd_plugins(&o, argc - optind, argv + optind);
	hint = diag_suggest(cmd, commands, sizeof commands / sizeof *commands);
	if (hint) {
		fprintf(stderr, "assay: unknown command '%s' (did you mean '%s'?)\n", cmd, hint);
		return EXIT_USAGE;
	}
	return usage_error("unknown command '%s'", cmd);
}
