/* exec.h -- what the exec plugin's files share: the plugin, a prepared node, and prepare/release. */
#ifndef EXEC_H
#define EXEC_H

#include <locale.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "assay/plugin.h"

/* What an exit status means: the `convention` option. */
typedef enum exec_convention {
	EXEC_PLAIN,      /* 0 (or an ok_exit code) is OK, anything else CRITICAL */
	EXEC_MONITORING  /* the monitoring-plugins': 0..3 are OK..UNKNOWN */
} exec_convention;

/* The type struct lives here rather than in static storage so that every
 * callback finds the host table through `data`, with no global. */
typedef struct exec_plugin {
	assay_node_type type;
	const assay_host *host;
	locale_t c_locale; /* perfdata numbers are C-locale whatever ours is */
	exec_convention convention; /* [plugins.exec] convention: the nodes' default */
} exec_plugin;

/* A string of the node that is expanded per task, as host->expand() takes
 * it.  A secret one (it came through ${env:...}) is passed verbatim:
 * expanding it could turn a brace in a password into a placeholder, and
 * its text must not reach a message. */
typedef struct exec_tmpl {
	char *text; /* ours */
	bool secret;
	bool script; /* the script of shell = true: expanded for /bin/sh */
} exec_tmpl;

typedef struct exec_env {
	const char *name;
	exec_tmpl value;
} exec_env;

typedef struct exec_node {
	exec_tmpl *argv; /* argc elements; with shell: /bin/sh -c first */
	size_t argc;
	exec_env *env;
	size_t n_env;
	exec_tmpl cwd;       /* text NULL: the host's directory */
	char *cwd_base;      /* what a relative cwd is relative to: the config's directory */
	exec_convention convention;
	uint8_t ok_exit[32]; /* a bit per exit code */
	bool has_ok_exit;    /* plain, with these codes OK rather than just 0 */
	size_t output_limit;
	int64_t kill_grace_ms;
} exec_node;

/* The node type's prepare and release (exec_config.c). */
int exec_prepare(assay_node *node, const assay_value *opts, void *data, void **state);
void exec_release(void *state, void *data);
/* Reads [plugins.exec] into pl at init; returns the number of errors
 * reported. */
int exec_read_config(exec_plugin *pl, assay_plugin *plugin);

#endif /* EXEC_H */
