/* registry.h -- the plugin loader and registry: find a plugin on the
 * search path, check its file, open it with libltdl, check its ABI, run its
 * init, and keep what it registered -- beside what the host registers
 * itself, its built-in reporters.  registry.c is the only user of libltdl. */
#ifndef ASSAY_REGISTRY_H
#define ASSAY_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>

#include "assay/plugin.h"
#include "diag.h"

typedef struct registry registry;

struct assay_plugin {
	char *path;                 /* the file opened */
	char *name, *version, *description; /* from declare(); NULL before */
	/* The ABI minor it was built for: a member its structs gained in a
	 * later minor is not there to read. */
	unsigned abi_minor;
	void *handle;               /* lt_dlhandle */
	const assay_value *config;  /* [plugins.NAME], or NULL */
	registry *reg;
	bool initialising;          /* registration is allowed only now */
};

typedef struct reg_entry {
	const char *name;
	assay_plugin *owner;
	union {
		const assay_node_type *node;
		const assay_resource_type *resource;
		const assay_reporter *reporter;
		const assay_command *command;
	} u;
	/* A resource type of a plugin built for ABI 3.0: a copy of its
	 * shorter struct, grown to this ABI's with the new members NULL, so
	 * that nobody reads past what the plugin wrote.  u points at it;
	 * freed with the entry. */
	assay_resource_type *grown;
} reg_entry;

/* What a plugin can register. */
enum reg_what { REG_NODE = 0, REG_RESOURCE, REG_REPORTER, REG_COMMAND, REG_WHATS };

/* assay's own commands, NULL-terminated: a plugin's may not take their
 * names. */
extern const char *const registry_own_commands[];

struct registry {
	const assay_host *host;     /* handed to every init */
	assay_plugin builtin;       /* the host's own reporters, "assay" */
	assay_plugin **plugins;     /* the files loaded, in load order */
	size_t n_plugins;
	reg_entry *entries[REG_WHATS];
	size_t n_entries[REG_WHATS];
	char **dirs;                /* search path, in order */
	size_t n_dirs;
	bool allow_insecure;        /* --allow-insecure-plugins */
	int verbosity;              /* highest ASSAY_LOG_* level plugin_log prints */
	diag *diag;                 /* where load errors go */
	bool load_failed;           /* a plugin could not be loaded (said in diag) */
	const assay_value *loading_at; /* the `load` entry being loaded, for errors */
};

/* Set up libltdl and a registry reporting to d, which hands host to each
 * plugin's init, holding the host's own reporters (builtin.h), registered
 * the way a plugin's are.  0 or negative. */
int registry_init(registry *r, const assay_host *host, diag *d);

/* Unregister everything (calling free_data), close every plugin, shut
 * libltdl down.  Main thread, after every run and plan is released. */
void registry_release(registry *r);

/* Append a directory, or each of a colon-separated list, to the search
 * path.  Empty entries are skipped. */
int registry_add_dirs(registry *r, const char *dirs);

/* Load one plugin: `name` is a plugin name ("exec", looked up as exec.so in
 * each directory of the search path) or a path containing '/'.  The file
 * must pass registry_check_file(); then it is opened, its ABI checked and its
 * init run with config as its [plugins.NAME] table.  Errors go to the diag
 * at `at`'s position (or without one if at is NULL).  0 or negative; on
 * failure nothing the plugin registered stays registered. */
int registry_load(registry *r, const char *name, const assay_value *config,
		  const assay_value *at);

/* The path name resolves to on the search path, malloc'd, or NULL. */
char *registry_find(const registry *r, const char *name);

/* Every plugin file on the search path (*.so; the first of each name), as
 * malloc'd paths the caller frees.  0 or ASSAY_ENOMEM. */
int registry_discover(const registry *r, char ***paths, size_t *n);

/* What is registered as name: a plugin's before a built-in one of the
 * same name, which it replaces.  NULL when nothing is. */
const reg_entry *registry_lookup(const registry *r, enum reg_what what,
				 const char *name);

/* The names registered as what, each once, in registration order (the
 * built-in ones first), joined by ", " into buf (cut to size).  buf. */
char *registry_names(const registry *r, enum reg_what what, char *buf, size_t size);

/* Why path may not be loaded, or NULL when it may: a regular file, not
 * group- or world-writable, owned by root or by the user running assay.
 * The answer is a static string. */
const char *registry_check_file(const char *path, bool allow_insecure);

/* registry_check_file() with the --allow-insecure-plugins of the
 * registry set up last (the session's), for host->check_file. */
const char *registry_check_file_current(const char *path);

/* Host-table entry points (host.c forwards to these). */
int registry_declare(assay_plugin *p, const assay_plugin_info *info);
int registry_register(assay_plugin *p, enum reg_what what, const char *name,
		      const void *def);
int registry_unregister(assay_plugin *p, enum reg_what what, const char *name);

#endif /* ASSAY_REGISTRY_H */
