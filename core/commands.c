/* commands.c -- the commands plugins provide (`assay gpus`): found among
 * the plugins of the configuration, else of the whole search path, so
 * that `assay gpus` works with a default configuration that does not
 * load gpu; run; listed by `assay help`. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "suggest.h"

enum { EXIT_CONFIG = 78 };

/* The plugin's command `name`, or NULL. */
static const assay_command *commands_find(const session *s, const char *name)
{
	const reg_entry *e = s->have_registry ? registry_lookup(&s->reg, REG_COMMAND, name) : NULL;

	return e ? e->u.command : NULL;
}

/* s with the plugins of path (NULL: none) loaded: 0, or EXIT_CONFIG
 * with the errors in s->d, for the caller to say (or not) and release. */
static int commands_load_config(session *s, const session_options *o, const char *path)
{
	session_init(s, o);
	if (path && session_load(s, path) < 0)
		return EXIT_CONFIG;
	if (session_load_plugins(s) < 0 || diag_count(&s->d))
		return EXIT_CONFIG;
	return 0;
}

/* The file a command reads when none is given: the default
 * configuration, when there is one. */
static const char *commands_default(const char *default_config)
{
	return access(default_config, F_OK) == 0 ? default_config : NULL;
}

/* Every plugin of the search path loaded too; a plugin that does not
 * load is not the command's business (`assay plugins` says why), nor
 * are the plugins' logs while they load: they are silenced. */
static void commands_load_every(session *s)
{
	int verbosity;

	if (session_load_plugins(s) < 0) /* the registry, when none is yet */
		return;
	verbosity = s->reg.verbosity;
	s->reg.verbosity = -1;
	session_load_every_plugin(s);
	s->reg.verbosity = verbosity;
	diag_release(&s->d);
	memset(&s->d, 0, sizeof s->d);
	s->d.unset_is_warning = s->o.allow_unset;
}

/* The likeliest command meant by name: assay's own or a plugin's. */
static const char *commands_hint(const session *s, const char *name)
{
	static char kept[256];
	const char **names;
	const char *hint;
	size_t n = 0, i, n_own = 0, n_cmd = s->reg.n_entries[REG_COMMAND];

	while (registry_own_commands[n_own])
		n_own++;
	if (!(names = malloc((n_own + n_cmd + 1) * sizeof *names)))
		return NULL;
	for (i = 0; i < n_own; i++)
		names[n++] = registry_own_commands[i];
	for (i = 0; i < n_cmd; i++)
		names[n++] = s->reg.entries[REG_COMMAND][i].name;
	hint = suggest_word(name, names, n);
	/* The plugin's string goes with it when the session is released. */
	if (hint)
		snprintf(kept, sizeof kept, "%s", hint);
	free(names);
	return hint ? kept : NULL;
}

/* Call the command with FILE (argv[1], when given) taken out. */
static int commands_call(const assay_command *c, int argc, char **argv, bool file_given)
{
	char **args = malloc((size_t)(argc + 1) * sizeof *args);
	int n = 0, i, rc;

	if (!args) {
		fprintf(stderr, "assay: %s: out of memory\n", argv[0]);
		return ASSAY_UNKNOWN;
	}
	args[n++] = argv[0];
	for (i = file_given ? 2 : 1; i < argc; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	optind = 1; /* the plugin's getopt starts afresh */
	rc = c->main(n, args, stdout, c->data);
	fflush(stdout);
	free(args);
	return rc;
}

/* The config did not load (its errors are in bad): whether it matters
 * depends on whether any plugin provides name at all -- a mistyped
 * command is "unknown", whatever the default configuration holds. */
static int commands_bad_config(session *bad, const session_options *o, const char *path,
			       const char *name, const char **hint)
{
	session s;
	bool known;

	session_init(&s, o);
	commands_load_every(&s);
	known = commands_find(&s, name) != NULL;
	if (!known)
		*hint = commands_hint(&s, name);
	else
		diag_print_total(&bad->d, path ? path : "assay", stderr);
	session_release(&s);
	session_release(bad);
	return known ? EXIT_CONFIG : -1;
}

int commands_run(const session_options *o, const char *default_config, int argc, char **argv,
		 const char **hint)
{
	bool file_given = argc > 1 && argv[1][0] != '-';
	const char *path = file_given ? argv[1] : commands_default(default_config);
	const assay_command *c;
	session s;
	int rc;

	*hint = NULL;
	if (commands_load_config(&s, o, path))
		return commands_bad_config(&s, o, path, argv[0], hint);
	if (!(c = commands_find(&s, argv[0]))) {
		commands_load_every(&s);
		c = commands_find(&s, argv[0]);
	}
	if (!c) {
		*hint = commands_hint(&s, argv[0]);
		session_release(&s);
		return -1;
	}
	rc = commands_call(c, argc, argv, file_given);
	session_release(&s);
	return rc;
}

/* A session with every plugin that can be found, for help; false when
 * there is none to be had. */
static bool commands_load_for_help(session *s, const session_options *o,
				   const char *default_config)
{
	const char *path = commands_default(default_config);

	session_init(s, o);
	/* The default config names the search path; help works without it. */
	if (path && (session_load(s, path) < 0 || diag_count(&s->d))) {
		session_release(s);
		session_init(s, o);
	}
	if (session_load_plugins(s) < 0) {
		session_release(s);
		return false;
	}
	commands_load_every(s);
	return true;
}

void commands_print_all(const session_options *o, const char *default_config, FILE *out)
{
	session s;
	size_t i;

	if (!commands_load_for_help(&s, o, default_config))
		return;
	for (i = 0; i < s.reg.n_entries[REG_COMMAND]; i++) {
		const reg_entry *e = &s.reg.entries[REG_COMMAND][i];

		if (i == 0)
			fprintf(out, "\nplugin commands:\n");
		fprintf(out, "  %s %s\n      %s (plugin %s)\n", e->name,
			e->u.command->usage ? e->u.command->usage : "",
			e->u.command->description ? e->u.command->description : "", e->owner->name);
	}
	session_release(&s);
}

int commands_print_one(const session_options *o, const char *default_config, const char *name,
		       FILE *out)
{
	const assay_command *c;
	session s;
	int rc = -1;

	if (!commands_load_for_help(&s, o, default_config))
		return -1;
	if ((c = commands_find(&s, name))) {
		fprintf(out, "usage: assay [OPTION]... %s %s\n%s\n", name, c->usage ? c->usage : "",
			c->description ? c->description : "");
		fprintf(out, "\nA plugin's command: FILE, when given, is the configuration whose\n"
			     "[plugins.NAME] tables configure it (default: the default configuration).\n");
		rc = 0;
	}
	session_release(&s);
	return rc;
}
