/* listing.c -- `assay plugins`: every plugin and what it provides. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include "listing.h"

static void listing_entries(const char *label, const registry *r, enum reg_what what,
			    const assay_plugin *owner, FILE *out)
{
	size_t i, shown = 0;

	for (i = 0; i < r->n_entries[what]; i++) {
		const reg_entry *e = &r->entries[what][i];

		if (e->owner != owner)
			continue;
		fprintf(out, "%s%s", shown++ ? ", " : label, e->name);
	}
	if (shown)
		fprintf(out, "\n");
}

static void listing_plugin(const registry *r, const assay_plugin *pl, FILE *out)
{
	fprintf(out, "%s %s\n  file: %s\n  %s\n", pl->name, pl->version, pl->path,
		pl->description);
	listing_entries("  node types: ", r, REG_NODE, pl, out);
	listing_entries("  resources: ", r, REG_RESOURCE, pl, out);
	listing_entries("  reporters: ", r, REG_REPORTER, pl, out);
	listing_entries("  commands: ", r, REG_COMMAND, pl, out);
}

void listing_print(const registry *r, size_t found, FILE *out)
{
	size_t i;

	listing_plugin(r, &r->builtin, out);
	for (i = 0; i < r->n_plugins; i++)
		listing_plugin(r, r->plugins[i], out);
	if (found == 0) {
		fprintf(out, "no plugins found; searched:");
		for (i = 0; i < r->n_dirs; i++)
			fprintf(out, " %s", r->dirs[i]);
		fprintf(out, "\n");
	}
}
