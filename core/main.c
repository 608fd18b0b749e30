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

#include "builtin.h"
#include "commands.h"
#include "duration.h"
#include "listing.h"
#include "session.h"
#include "summary.h"
#include "trace.h"
#include "trials_list.h"

/* Exit codes: the monitoring-plugins states, then sysexits.h's. */
enum {
	EXIT_USAGE = 64,    /* EX_USAGE */
	EXIT_TEMPFAIL = 75, /* EX_TEMPFAIL: another run holds the lock */
	EXIT_CONFIG = 78    /* EX_CONFIG */
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
	bool formats;             /* its options take a report FORMAT */
} command_help;

static const command_help helps[] = {
	{ "run", "[FILE] [OPTION]...",
	  "run every node of FILE, as many at once as they allow",
	  "      --only ID             run ID (a node or group; repeatable) and what it needs\n"
	  "  -j, --jobs N              executions at once (default: [runner] jobs, 64)\n"
	  "  -w, --workers N           pool threads (default: [runner] workers, the cores)\n"
	  "  -f, --format FORMAT       the report on standard output (default: " BUILTIN_DEFAULT_FORMAT ")\n"
	  "      --report FORMAT:PATH  also write FORMAT to PATH (repeatable; a file is replaced atomically)\n"
	  "      --dry-run             check everything and show what would run, run nothing\n"
	  "      --allow-unset         with --dry-run: unset ${env:} variables are warnings\n"
	  "      --fail-fast           stop at the first CRITICAL or UNKNOWN node\n"
	  "      --progress MODE       auto (the display on a terminal), plain (a line to stderr\n"
	  "                            every --progress-interval, for logs) or none\n"
	  "      --progress-interval DURATION  plain's period (default: 30s)\n"
	  "      --resume              continue the last run if it was interrupted (killed,\n"
	  "                            stopped): reuse what ended OK or WARNING, run the rest\n"
	  "      --rerun-failed        run only what the last run did not end OK\n"
	  "      --explain             with --resume or --rerun-failed: say on stderr why each\n"
	  "                            node reruns or is reused (with --dry-run: and run nothing)\n"
	  "      --lock-wait DURATION  wait that long for another run of FILE to end\n"
	  "                            (default: exit 75 at once)\n"
	  "      --trace FILE          write a Chrome trace of every execution, wait and retry\n", true },
	{ "check-config", "[FILE] [OPTION]...",
	  "check FILE and the plugins it loads; print a summary",
	  "      --allow-unset         unset ${env:} variables are warnings, not errors\n", false },
	{ "graph", "[FILE] [OPTION]...",
	  "print the dependency graph",
	  "  -f, --format FORMAT       text (default) or dot\n"
	  "      --allow-unset         unset ${env:} variables are warnings, not errors\n", false },
	{ "plugins", "[FILE]",
	  "list the plugins on the search path and what they provide", NULL, false },
	{ "help", "[COMMAND]",
	  "show this help, or a command's", NULL, false },
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
	"64 usage error, 75 another run of the file holds its lock, 78 configuration error.\n";

static const command_help *find_help(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof helps / sizeof *helps; i++)
		if (strcmp(helps[i].name, name) == 0)
			return &helps[i];
	return NULL;
}

/* The report formats, from the registry's table. */
static void print_formats(const command_help *h)
{
	char formats[512];

	if (h->formats)
		printf("  FORMAT: %s, or a reporter of a plugin FILE loads\n",
		       session_formats(formats, sizeof formats));
}

/* With the commands of the plugins it finds (o: the global options). */
static int print_help(const session_options *o)
{
	size_t i;

	printf("usage: assay [OPTION]... COMMAND [ARG]...\n\ncommands:\n");
	for (i = 0; i < sizeof helps / sizeof *helps; i++) {
		printf("  %s %s\n      %s\n", helps[i].name, helps[i].args, helps[i].summary);
		if (helps[i].options)
			printf("%s", helps[i].options);
		print_formats(&helps[i]);
	}
	fflush(stdout);
	commands_print_all(o, DEFAULT_CONFIG, stdout);
	printf("\noptions:\n%s\n%s", global_options, help_footer);
	return 0;
}

static int print_command_help(const command_help *h)
{
	printf("usage: assay [OPTION]... %s %s\n%c%s.\n", h->name, h->args,
	       toupper((unsigned char)h->summary[0]), h->summary + 1);
	printf("\noptions:\n%s", h->options ? h->options : "");
	printf("  -h, --help                show this help\n");
	print_formats(h);
	printf("\nThe global OPTIONs are in 'assay --help'.\n%s", help_footer);
	return 0;
}

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

/* The file at path loaded, prepared and graphed into s, its errors and
 * warnings said; 0 or the exit status (s then released). */
static int open_file(session *s, const session_options *o, const char *path)
{
	int rc;

	session_init(s, o);
	rc = session_open(s, path);
	diag_print_total(&s->d, path, stderr);
	if (rc == 0)
		return 0;
	session_release(s);
	return EXIT_CONFIG;
}

static int cmd_plugins(const session_options *o, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	session s;
	int c, found, rc = 0;

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
	session_init(&s, o);
	/* The file is read for its [plugins] path only. */
	if (argc == 1 && (session_load(&s, argv[0]) < 0 || diag_count(&s.d))) {
		diag_print(&s.d, stderr);
		session_release(&s);
		return EXIT_CONFIG;
	}
	if ((found = session_load_every_plugin(&s)) >= 0)
		listing_print(&s.reg, (size_t)found, stdout);
	if (diag_count(&s.d)) {
		diag_print(&s.d, stderr);
		rc = EXIT_CONFIG;
	}
	session_release(&s);
	return rc;
}

static int cmd_check_config(const session_options *global, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "allow-unset", no_argument, NULL, 'U' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = DEFAULT_CONFIG;
	session_options o = *global;
	session s;
	int c, rc;

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
	if ((rc = open_file(&s, &o, path)))
		return rc;
	summary_print(&s.p, &s.reg, stdout);
	session_release(&s);
	return 0;
}

static int cmd_graph(const session_options *global, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "allow-unset", no_argument, NULL, 'U' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = DEFAULT_CONFIG, *format = "text";
	session_options o = *global;
	session s;
	int c, rc;

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
	if ((rc = open_file(&s, &o, path)))
		return rc;
	rc = session_print_graph(&s, strcmp(format, "dot") == 0, stdout) < 0 ? EXIT_CONFIG : 0;
	session_release(&s);
	return rc;
}

/* run's options, parsed. */
typedef struct run_args {
	session_options o;        /* the global ones too: welcome after `run` */
	const char *path, *format;
	char *only[256], *reports[TARGETS_MAX - 1];
	size_t n_only, n_reports;
	bool dry_run;
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

/* --progress MODE. */
static int parse_progress(const char *arg, progress_mode *out)
{
	static const char *const modes[] = { "auto", "plain", "none" };
	size_t i;

	for (i = 0; i < sizeof modes / sizeof *modes; i++)
		if (strcmp(arg, modes[i]) == 0) {
			*out = (progress_mode)i;
			return 0;
		}
	return usage_error("run", "--progress is auto, plain or none, not '%s'", arg);
}

/* 0, 1 after --help, or an exit status. */
/* run's options on the state dir: the journal, the lock, the trace.  0
 * or an exit status. */
static int parse_run_state(run_args *a, int c)
{
	switch (c) {
	case 'R':
		a->o.resume = true;
		break;
	case 'E':
		a->o.rerun_failed = true;
		break;
	case 'X':
		a->o.explain = true;
		break;
	case 'L':
		if (duration_parse(optarg, &a->o.lock_wait_ms) < 0)
			return usage_error("run", "--lock-wait takes a duration (200ms, 5s, 10m), not '%s'",
					   optarg);
		break;
	case 'T':
		if (!*optarg)
			return usage_error("run", "--trace takes a FILE, not ''");
		a->o.trace_path = optarg;
		break;
	}
	return 0;
}

/* The options that go together or not at all.  0 or an exit status. */
static int check_run_args(const run_args *a)
{
	if (a->o.resume && a->o.rerun_failed)
		return usage_error("run", "--resume and --rerun-failed: give one (--rerun-failed "
				   "continues the last run too, reusing only what ended OK)");
	if (a->o.explain && !a->o.resume && !a->o.rerun_failed)
		return usage_error("run", "--explain says why --resume or --rerun-failed reruns or "
				   "reuses each node: give one of them");
	/* What is left unset would be used: a run needs all of it. */
	if (a->o.allow_unset && !a->dry_run)
		return usage_error("run", "--allow-unset checks a file without running it: use it with --dry-run");
	return 0;
}

/* run's long options. */
static const struct option run_opts[] = {
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
	{ "progress", required_argument, NULL, 'P' },
	{ "progress-interval", required_argument, NULL, 'i' },
	{ "resume", no_argument, NULL, 'R' },
	{ "rerun-failed", no_argument, NULL, 'E' },
	{ "explain", no_argument, NULL, 'X' },
	{ "lock-wait", required_argument, NULL, 'L' },
	{ "trace", required_argument, NULL, 'T' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int parse_run(run_args *a, int argc, char **argv)
{
	long n;
	int c, rc;

	optind = 0; /* 0, not 1: GNU getopt then forgets the global options' scan */
	while ((c = getopt_long(argc, argv, ":j:w:f:vh", run_opts, NULL)) != -1) {
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
			if ((rc = parse_count("--jobs", optarg, 1000000, &n)))
				return rc;
			a->o.jobs = (unsigned)n;
			break;
		case 'w':
			if ((rc = parse_count("--workers", optarg, 1024, &n)))
				return rc;
			a->o.workers = (unsigned)n;
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
			a->o.fail_fast = true;
			break;
		case 'P':
			if ((rc = parse_progress(optarg, &a->o.progress)))
				return rc;
			break;
		case 'i':
			if (duration_parse(optarg, &a->o.progress_interval_ms) < 0 ||
			    a->o.progress_interval_ms < 1)
				return usage_error("run", "--progress-interval takes a duration (30s, 5m), not '%s'",
						   optarg);
			break;
		case 'R':
		case 'E':
		case 'X':
		case 'L':
		case 'T':
			if ((rc = parse_run_state(a, c)))
				return rc;
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
	return check_run_args(a);
}

/* The reports to write and the --only selection, checked before anything
 * runs.  0 or an exit status. */
static int run_checks(session *s, const run_args *a)
{
	char why[PATH_MAX + 600];
	size_t i;

	if (session_add_report(s, a->format, NULL, why, sizeof why) < 0)
		return usage_error("run", "--format %s: %s", a->format, why);
	for (i = 0; i < a->n_reports; i++) {
		char *colon = strchr(a->reports[i], ':');

		*colon = '\0';
		if (session_add_report(s, a->reports[i], colon + 1, why, sizeof why) < 0)
			return usage_error("run", "--report %s:%s: %s", a->reports[i], colon + 1, why);
	}
	if (a->o.trace_path && trace_check(a->o.trace_path, why, sizeof why) < 0)
		return usage_error("run", "--trace %s: %s", a->o.trace_path, why);
	if (a->n_only && session_select(s, a->only, a->n_only, why, sizeof why) < 0)
		return usage_error("run", "%s", why);
	return 0;
}

static int cmd_run(const session_options *global, int argc, char **argv)
{
	run_args a = { .o = *global, .path = DEFAULT_CONFIG, .format = BUILTIN_DEFAULT_FORMAT };
	session s;
	int status;

	if ((status = parse_run(&a, argc, argv)))
		return status == 1 ? 0 : status;
	if ((status = open_file(&s, &a.o, a.path)))
		return status;
	if ((status = run_checks(&s, &a)) == 0) {
		if (a.dry_run) {
			if (a.o.explain && session_explain(&s) < 0)
				status = EXIT_CONFIG;
			trials_print(&s.p, s.keep, a.o.verbosity > 0, stdout);
			session_print_graph(&s, false, stdout);
		}
		else if (session_run(&s) < 0)
			status = s.lock_busy ? EXIT_TEMPFAIL
			       : s.state_failed ? EXIT_CONFIG : ASSAY_UNKNOWN;
		else
			status = session_report(&s);
	}
	session_release(&s);
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
static int cmd_help(const session_options *o, int argc, char **argv)
{
	const command_help *h;

	if (argc < 2)
		return print_help(o);
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)
		return print_command_help(find_help("help"));
	if (argc > 2)
		return usage_error("help", "takes at most one COMMAND, got '%s'", argv[2]);
	if ((h = find_help(argv[1])))
		return print_command_help(h);
	if (commands_print_one(o, DEFAULT_CONFIG, argv[1], stdout) == 0)
		return 0;
	return usage_error("help", "unknown command '%s'", argv[1]);
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
	session_options o = { 0 };
	const char *cmd, *hint;
	int c, rc;

	if (hold_std_fds())
		return usage_error(NULL, "standard output is closed: what assay prints would be lost "
				   "(redirect it to /dev/null to discard it)");
	o.argv = argv; /* the journal's run record says how the run was started */
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
			return print_help(&o);
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
		return cmd_help(&o, argc, argv);
	/* A plugin's, or unknown among assay's own and the plugins'. */
	if ((rc = commands_run(&o, DEFAULT_CONFIG, argc, argv, &hint)) >= 0)
		return rc;
	if (hint)
		return usage_error(NULL, "unknown command '%s' (did you mean '%s'?)", cmd, hint);
	return usage_error(NULL, "unknown command '%s'", cmd);
}
