/* registry.c -- the plugin loader and registry; the only user of libltdl. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <ltdl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef HAVE_DLFCN_H
#include <dlfcn.h>
#endif

#include "builtin.h"
#include "registry.h"
#include "status.h"
#include "value.h"

static const char *const what_names[REG_WHATS] = { "node type", "resource type", "reporter",
						   "command" };

const char *const registry_own_commands[] = { "run", "check-config", "graph", "plugins", "help",
					      NULL };

/* The registry set up last: host->check_file has no plugin to find it
 * through.  Main thread only, as check_file. */
static const registry *registry_current;

/* Errors while loading point at the `load` entry that asked for the plugin. */
static void load_error(registry *r, const assay_value *at, const char *fmt, ...)
	ASSAY_PRINTF(3, 4);
static void load_error(registry *r, const assay_value *at, const char *fmt, ...)
{
	const char *file = NULL;
	unsigned line = 0, col = 0;
	va_list ap;

	if (at)
		value_pos(at, &file, &line, &col);
	r->load_failed = true;
	va_start(ap, fmt);
	diag_addv(r->diag, file, line, col, fmt, ap);
	va_end(ap);
}

int registry_init(registry *r, const assay_host *host, diag *d)
{
	int rc;

	memset(r, 0, sizeof *r);
	r->host = host;
	r->diag = d;
	registry_current = r;
	r->verbosity = ASSAY_LOG_WARNING;
	/* libltdl keeps global state and is not thread-safe: it is set up and
	 * torn down here, on the main thread, around everything else. */
	if (lt_dlinit() != 0)
		return ASSAY_ESYS;
	r->builtin.reg = r;
	if (!(r->builtin.path = strdup(BUILTIN_PATH))) {
		registry_release(r);
		return ASSAY_ENOMEM;
	}
	r->builtin.initialising = true;
	rc = builtin_init(host, &r->builtin);
	r->builtin.initialising = false;
	if (rc < 0)
		registry_release(r);
	return rc;
}

int registry_add_dirs(registry *r, const char *dirs)
{
	const char *p = dirs;

	while (p && *p) {
		size_t len = strcspn(p, ":");
		char **grown;

		if (len) {
			grown = realloc(r->dirs, (r->n_dirs + 1) * sizeof *grown);
			if (!grown)
				return ASSAY_ENOMEM;
			r->dirs = grown;
			if (!(r->dirs[r->n_dirs] = strndup(p, len)))
				return ASSAY_ENOMEM;
			r->n_dirs++;
		}
		p += len;
		if (*p == ':')
			p++;
	}
	return 0;
}

const char *registry_check_file(const char *path, bool allow_insecure)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return "it cannot be read";
	if (!S_ISREG(st.st_mode))
		return "it is not a regular file";
	if (allow_insecure)
		return NULL;
	/* Anyone who can write the file, or who owns it, can run code as the
	 * user running assay -- often root from cron. */
	if (st.st_mode & S_IWOTH)
		return "it is world-writable";
	if (st.st_mode & S_IWGRP)
		return "it is group-writable";
	if (st.st_uid != 0 && st.st_uid != geteuid())
		return "it is owned by another user (neither root nor the user running assay)";
	return NULL;
}

char *registry_find(const registry *r, const char *name)
{
	size_t i;
	char *path;

	for (i = 0; i < r->n_dirs; i++) {
		if (asprintf(&path, "%s/%s.so", r->dirs[i], name) < 0)
			return NULL;
		if (access(path, F_OK) == 0)
			return path;
		free(path);
	}
	return NULL;
}

int registry_discover(const registry *r, char ***paths, size_t *n)
{
	size_t i, j;

	*paths = NULL;
	*n = 0;
	for (i = 0; i < r->n_dirs; i++) {
		struct dirent **list;
		int k, count = scandir(r->dirs[i], &list, NULL, alphasort);

		for (k = 0; k < count; k++) {
			const char *f = list[k]->d_name;
			size_t len = strlen(f);
			bool seen = false;
			char *path, **grown;

			if (len <= 3 || strcmp(f + len - 3, ".so") != 0)
				goto next;
			/* An earlier directory's plugin of the same name wins,
			 * as it would for `load`. */
			for (j = 0; j < *n && !seen; j++) {
				const char *base = strrchr((*paths)[j], '/') + 1;

				seen = strcmp(base, f) == 0;
			}
			if (seen)
				goto next;
			grown = realloc(*paths, (*n + 1) * sizeof *grown);
			if (!grown || asprintf(&path, "%s/%s", r->dirs[i], f) < 0) {
				if (grown)
					*paths = grown;
				for (; k < count; k++)
					free(list[k]);
				free(list);
				return ASSAY_ENOMEM;
			}
			*paths = grown;
			(*paths)[(*n)++] = path;
next:
			free(list[k]);
		}
		if (count >= 0)
			free(list);
	}
	return 0;
}

const reg_entry *registry_lookup(const registry *r, enum reg_what what,
				 const char *name)
{
	size_t i;

	/* From the last: a plugin's entry comes after the built-in one it
	 * replaces. */
	for (i = r->n_entries[what]; i-- > 0;)
		if (strcmp(r->entries[what][i].name, name) == 0)
			return &r->entries[what][i];
	return NULL;
}

char *registry_names(const registry *r, enum reg_what what, char *buf, size_t size)
{
	size_t i, j, used = 0;

	buf[0] = '\0';
	for (i = 0; i < r->n_entries[what]; i++) {
		const char *name = r->entries[what][i].name;

		for (j = 0; j < i && strcmp(r->entries[what][j].name, name) != 0; j++)
			;
		if (j < i)
			continue; /* a plugin's, replacing a built-in one */
		if (used >= size)
			break;
		used += (size_t)snprintf(buf + used, size - used, "%s%s", used ? ", " : "", name);
	}
	return buf;
}

static void entry_free_data(enum reg_what what, const reg_entry *e)
{
	void *data;
	void (*free_data)(void *);

	switch (what) {
	case REG_NODE:
		data = e->u.node->data;
		free_data = e->u.node->free_data;
		break;
	case REG_RESOURCE:
		data = e->u.resource->data;
		free_data = e->u.resource->free_data;
		break;
	case REG_COMMAND:
		data = e->u.command->data;
		free_data = e->u.command->free_data;
		break;
	default:
		data = e->u.reporter->data;
		free_data = e->u.reporter->free_data;
		break;
	}
	if (free_data)
		free_data(data);
}

int registry_declare(assay_plugin *p, const assay_plugin_info *info)
{
	if (!p->initialising || p->name)
		return ASSAY_ESTATE;
	/* Of a plugin built for another version, only abi_version can be
	 * read: its struct may be shorter than this one. */
	if (info->abi_version != ASSAY_ABI_VERSION) {
		load_error(p->reg, p->reg->loading_at,
			   "plugin %s is built for assay plugin ABI %d, but this assay has ABI %d: rebuild it against this assay's assay/plugin.h",
			   p->path, info->abi_version, ASSAY_ABI_VERSION);
		return ASSAY_EABI;
	}
	/* A plugin may use whatever its minor added: a host without it would
	 * hand it a shorter table, or ignore what it sets. */
	if (info->abi_minor > ASSAY_ABI_MINOR) {
		load_error(p->reg, p->reg->loading_at,
			   "plugin %s is built for assay plugin ABI %d.%u, but this assay has ABI %d.%u: use a newer assay, or rebuild the plugin against this assay's assay/plugin.h",
			   p->path, info->abi_version, info->abi_minor, ASSAY_ABI_VERSION,
			   ASSAY_ABI_MINOR);
		return ASSAY_EABI;
	}
	if (!info->name || !*info->name) {
		load_error(p->reg, p->reg->loading_at, "plugin %s declares no name", p->path);
		return ASSAY_EINVAL;
	}
	p->abi_minor = info->abi_minor;
	p->name = strdup(info->name);
	p->version = strdup(info->version ? info->version : "");
	p->description = strdup(info->description ? info->description : "");
	if (!p->name || !p->version || !p->description)
		return ASSAY_ENOMEM;
	return 0;
}

/* A 3.0 plugin's resource type ends before describe_wait: the entry
 * points at a copy grown to this ABI's struct (see reg_entry.grown). */
static int registry_resource(assay_plugin *p, reg_entry *e, const assay_resource_type *def)
{
	e->u.resource = def;
	if (p->abi_minor >= 1)
		return 0;
	if (!(e->grown = calloc(1, sizeof *e->grown))) {
		p->reg->n_entries[REG_RESOURCE]--;
		return ASSAY_ENOMEM;
	}
	memcpy(e->grown, def, offsetof(assay_resource_type, describe_wait));
	e->u.resource = e->grown;
	return 0;
}

int registry_register(assay_plugin *p, enum reg_what what, const char *name,
		      const void *def)
{
	registry *r = p->reg;
	const reg_entry *old;
	reg_entry *grown;

	if (!p->initialising || !p->name)
		return ASSAY_ESTATE;
	if (!name || !*name || !def)
		return ASSAY_EINVAL;
	if (what == REG_COMMAND) {
		size_t k;

		for (k = 0; registry_own_commands[k]; k++)
			if (strcmp(registry_own_commands[k], name) == 0) {
				load_error(r, r->loading_at, "command `%s` of %s is one of assay's own",
					   name, p->path);
				return ASSAY_EEXIST;
			}
	}
	old = registry_lookup(r, what, name);
	/* A plugin may replace a built-in reporter, not another plugin's. */
	if (old && old->owner != &r->builtin) {
		load_error(r, r->loading_at, "%s `%s` of %s is already registered by %s",
			   what_names[what], name, p->path, old->owner->path);
		return ASSAY_EEXIST;
	}
	grown = realloc(r->entries[what], (r->n_entries[what] + 1) * sizeof *grown);
	if (!grown)
		return ASSAY_ENOMEM;
	r->entries[what] = grown;
	grown += r->n_entries[what]++;
	grown->name = name;
	grown->owner = p;
	grown->grown = NULL;
	grown->u.node = def; /* the union's members are all pointers to const */
	if (what == REG_RESOURCE)
		return registry_resource(p, grown, def);
	if (what == REG_REPORTER)
		grown->u.reporter = def;
	else if (what == REG_COMMAND)
		grown->u.command = def;
	return 0;
}

static void registry_remove(registry *r, enum reg_what what, size_t i)
{
	entry_free_data(what, &r->entries[what][i]);
	free(r->entries[what][i].grown);
	memmove(&r->entries[what][i], &r->entries[what][i + 1],
		(r->n_entries[what] - i - 1) * sizeof r->entries[what][i]);
	r->n_entries[what]--;
}

int registry_unregister(assay_plugin *p, enum reg_what what, const char *name)
{
	registry *r = p->reg;
	size_t i;

	for (i = 0; i < r->n_entries[what]; i++)
		if (r->entries[what][i].owner == p &&
		    strcmp(r->entries[what][i].name, name) == 0) {
			registry_remove(r, what, i);
			return 0;
		}
	return ASSAY_EINVAL;
}

/* Everything p registered, in reverse order of registration. */
static void registry_unregister_all(registry *r, assay_plugin *p)
{
	int what;
	size_t i;

	for (what = REG_WHATS - 1; what >= 0; what--)
		for (i = r->n_entries[what]; i-- > 0;)
			if (r->entries[what][i].owner == p)
				registry_remove(r, (enum reg_what)what, i);
}

static void plugin_release(assay_plugin *p)
{
	if (p->handle)
		lt_dlclose(p->handle);
	free(p->path);
	free(p->name);
	free(p->version);
	free(p->description);
}

static void plugin_free(assay_plugin *p)
{
	if (!p)
		return;
	plugin_release(p);
	free(p);
}

/* Why lt_dlopen() refused path, a file that is there: libltdl says "file
 * not found" whatever went wrong, so look for the reason in the file's
 * header, then in the system loader's own words (without the path it
 * repeats).  The answer is in buf, or ltdl_says. */
static const char *plugin_open_failure(const char *path, const char *ltdl_says,
				       char *buf, size_t size)
{
	unsigned char head[SELFMAG];
	ssize_t got = -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		got = read(fd, head, sizeof head);
		close(fd);
	}
	if (got == 0)
		return "the file is empty, not a shared object";
	if (got > 0 && (got < SELFMAG || memcmp(head, ELFMAG, SELFMAG) != 0))
		return "not a shared object (the file has no ELF header)";
#ifdef HAVE_DLFCN_H
	{
		void *h = dlopen(path, RTLD_LAZY | RTLD_LOCAL);
		const char *why = h ? NULL : dlerror();
		size_t len = strlen(path);

		if (h)
			dlclose(h);
		if (why) {
			if (strncmp(why, path, len) == 0 && strncmp(why + len, ": ", 2) == 0)
				why += len + 2;
			snprintf(buf, size, "%s", why);
			return buf;
		}
	}
#endif
	return ltdl_says;
}

/* Open path, re-checking after the open that the file checked is the file
 * opened (it may have been replaced in between). */
static lt_dlhandle plugin_open(registry *r, const char *path, const char *name,
			       const assay_value *at)
{
	struct stat before, after;
	const char *why = registry_check_file(path, r->allow_insecure);
	lt_dlhandle h;

	if (stat(path, &before) < 0) {
		load_error(r, at, "cannot load plugin `%s` from %s: %s", name, path, strerror(errno));
		return NULL;
	}
	if (why) {
		load_error(r, at, "refusing to load plugin `%s` from %s: %s%s", name, path, why,
			   S_ISREG(before.st_mode) ? " (fix its owner and mode, or run with --allow-insecure-plugins)" : "");
		return NULL;
	}
	h = lt_dlopen(path);
	if (!h) {
		char reason[512];

		load_error(r, at, "cannot load plugin `%s` from %s: %s", name, path,
			   plugin_open_failure(path, lt_dlerror(), reason, sizeof reason));
		return NULL;
	}
	if (stat(path, &after) < 0 || after.st_ino != before.st_ino ||
	    after.st_dev != before.st_dev) {
		load_error(r, at, "refusing to load plugin `%s`: %s changed while it was being loaded",
			   name, path);
		lt_dlclose(h);
		return NULL;
	}
	return h;
}

int registry_load(registry *r, const char *name, const assay_value *config,
		  const assay_value *at)
{
	int (*init)(const assay_host *, assay_plugin *);
	assay_plugin *p, **grown;
	size_t i;
	int rc;

	for (i = 0; i < r->n_plugins; i++)
		if (strcmp(r->plugins[i]->name, name) == 0 || strcmp(r->plugins[i]->path, name) == 0)
			return 0; /* loaded already: `load` may repeat a name */
	p = calloc(1, sizeof *p);
	grown = p ? realloc(r->plugins, (r->n_plugins + 1) * sizeof *grown) : NULL;
	if (!grown) {
		free(p);
		return ASSAY_ENOMEM;
	}
	r->plugins = grown;
	p->reg = r;
	p->config = config;
	p->path = strchr(name, '/') ? strdup(name) : registry_find(r, name);
	if (!p->path) {
		if (r->n_dirs == 0)
			load_error(r, at, "plugin `%s` not found: no plugin directory is set", name);
		else {
			char dirs[1024] = "";
			size_t used = 0;

			for (i = 0; i < r->n_dirs; i++)
				used += (size_t)snprintf(dirs + used, used < sizeof dirs ? sizeof dirs - used : 0,
							 "%s%s", i ? ", " : "", r->dirs[i]);
			load_error(r, at, "plugin `%s` not found (looked for %s.so in %s)", name, name, dirs);
		}
		plugin_free(p);
		return ASSAY_EINVAL;
	}
	if (!(p->handle = plugin_open(r, p->path, name, at))) {
		plugin_free(p);
		return ASSAY_EINVAL;
	}
	init = (int (*)(const assay_host *, assay_plugin *))(uintptr_t)
		lt_dlsym(p->handle, "assay_plugin_init");
	if (!init) {
		load_error(r, at, "%s is not an assay plugin: it does not export assay_plugin_init",
			   p->path);
		plugin_free(p);
		return ASSAY_EINVAL;
	}
	r->loading_at = at;
	p->initialising = true;
	rc = init(r->host, p);
	p->initialising = false;
	r->loading_at = NULL;
	if (rc == 0 && !p->name) {
		load_error(r, at, "plugin %s did not declare itself (host->declare) in its init", p->path);
		rc = ASSAY_EINVAL;
	}
	if (rc != 0) {
		/* declare() already explained an ABI mismatch. */
		if (rc != ASSAY_EABI)
			load_error(r, at, "plugin `%s` (%s) failed to initialise: %s", name, p->path,
				   status_strerror(rc < 0 ? rc : ASSAY_EINVAL));
		registry_unregister_all(r, p);
		plugin_free(p);
		return rc < 0 ? rc : ASSAY_EINVAL;
	}
	r->plugins[r->n_plugins++] = p;
	return 0;
}

void registry_release(registry *r)
{
	size_t i;

	for (i = r->n_plugins; i-- > 0;) {
		registry_unregister_all(r, r->plugins[i]);
		plugin_free(r->plugins[i]);
	}
	registry_unregister_all(r, &r->builtin);
	plugin_release(&r->builtin);
	for (i = 0; i < REG_WHATS; i++)
		free(r->entries[i]);
	free(r->plugins);
	for (i = 0; i < r->n_dirs; i++)
		free(r->dirs[i]);
	free(r->dirs);
	lt_dlexit();
	if (registry_current == r)
		registry_current = NULL;
	memset(r, 0, sizeof *r);
}

const char *registry_check_file_current(const char *path)
{
	return registry_check_file(path, registry_current && registry_current->allow_insecure);
}
