/* commands.h -- the commands plugins provide (`assay gpus`): found among
 * the plugins of the configuration, else of the whole search path; run
 * with the plugins loaded as `assay run` would load them; listed by
 * `assay help`. */
#ifndef ASSAY_COMMANDS_H
#define ASSAY_COMMANDS_H

#include <stdio.h>

#include "session.h"

/* `assay NAME [FILE] [ARG]...` for a NAME that is not assay's own
 * (argv[0] is NAME).  FILE is argv[1] unless it starts with '-';
 * without it default_config, when that file exists.  Loads the file and
 * its plugins (each with its [plugins.NAME] table) and, when none of
 * them provides NAME, every other plugin on the search path too; then
 * calls the command's main with FILE taken out of argv.  Returns its
 * exit status; 78 after printing the errors of a file that does not
 * load; -1 when no plugin provides NAME, with *hint set to a likely
 * intended command, assay's own or a plugin's (or NULL) -- a static
 * string or one valid until the next call. */
int commands_run(const session_options *o, const char *default_config, int argc, char **argv,
		 const char **hint);

/* The commands of every plugin that can be found (the default
 * configuration's search path, when that file exists), for `assay help`:
 * "  NAME USAGE\n      DESCRIPTION\n" each, under a heading; nothing when
 * there is none.  A plugin that does not load is passed over. */
void commands_print_all(const session_options *o, const char *default_config, FILE *out);

/* `assay help NAME` for a plugin's command: its usage and description.
 * 0, or -1 when no plugin provides NAME. */
int commands_print_one(const session_options *o, const char *default_config, const char *name,
		       FILE *out);

#endif /* ASSAY_COMMANDS_H */
