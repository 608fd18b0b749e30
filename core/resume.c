/* resume.c -- the journal's life in a run: opened with what the last
 * run left (resume.h), subscribed, ended, closed. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "resume_int.h"

/* This boot's id: a journaled process group is killed only on the boot
 * that started it.  "" when it cannot be read (then none is). */
static void resume_boot_id(char *out, size_t size)
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");

	out[0] = '\0';
	if (f && fgets(out, (int)size, f))
		out[strcspn(out, "\n")] = '\0';
	if (f)
		fclose(f);
}

static const char *resume_base(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* The run to continue, or RESUME_NONE with a note when there is none. */
static void resume_pick(resume *r)
{
	const char *file = resume_base(r->o.p->path);
	const char *what = r->mode == RESUME_FAILED ? "rerun" : "resume";
	const journal_run *last = r->view.n_runs ? &r->view.runs[r->view.n_runs - 1] : NULL;
	char when[64];

	if (!last) {
		fprintf(r->o.err,
			"assay: nothing to %s: the journal has no run of %s; running "
			"everything\n",
			what, file);
		r->mode = RESUME_NONE;
	} else if (r->mode == RESUME_CONTINUE && last->end && !last->stopped) {
		time_t t = (time_t)last->end;
		struct tm tm;

		strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", localtime_r(&t, &tm));
		fprintf(r->o.err,
			"assay: nothing to resume: the last run of %s (%s) finished at %s; "
			"running everything\n",
			file, last->run_id, when);
		r->mode = RESUME_NONE;
	} else {
		r->last = last;
	}
}

static int resume_orphan_order(const void *a, const void *b)
{
	return nodekey_cmp((*(const journal_orphan *const *)a)->key,
			   (*(const journal_orphan *const *)b)->key);
}

/* What was in flight, sorted by key for resume_in_flight(). */
static int resume_orphan_keys(resume *r)
{
	size_t i;

	if (!r->view.n_orphans)
		return 0;
	if (!(r->orphans = malloc(r->view.n_orphans * sizeof *r->orphans)))
		return ASSAY_ENOMEM;
	for (i = 0; i < r->view.n_orphans; i++)
		r->orphans[i] = &r->view.orphans[i];
	r->n_orphans = r->view.n_orphans;
	qsort(r->orphans, r->n_orphans, sizeof *r->orphans, resume_orphan_order);
	return 0;
}

/* The journal as the last runs left it, compacted first when large;
 * what to continue; what they left running killed.  0 or -1 said. */
static int resume_load(resume *r, const char *config_hash)
{
	char note[1024] = "", why[1024];

	if (!r->o.preview && journal_compact(r->journal_path, config_hash, RESUME_COMPACT_BYTES,
					     why, sizeof why) < 0)
		fprintf(r->o.err, "assay: %s (not compacted)\n", why);
	if (journal_load(&r->view, r->journal_path, config_hash, note, sizeof note, why,
			 sizeof why) < 0) {
		fprintf(r->o.err, "assay: %s\n", why);
		return -1;
	}
	r->have_view = true;
	if (note[0])
		fprintf(r->o.err, "assay: %s\n", note);
	resume_pick(r);
	if (r->mode == RESUME_NONE)
		return 0;
	if (resume_orphan_keys(r) < 0) {
		fprintf(r->o.err, "assay: cannot start: out of memory\n");
		return -1;
	}
	resume_nodes_read(&r->prev, r->o.config_dir);
	if (!r->o.preview)
		resume_kill_orphans(r);
	return 0;
}

/* The journal opened for this run: afresh, or continuing r->last. */
static int resume_start_journal(resume *r, const char *config_hash)
{
	journal_run_info info = {
		.run_id = r->o.run_id,
		.config_hash = config_hash,
		.version = PACKAGE_VERSION,
		.argv = r->o.argv,
		.boot_id = r->boot_id,
		.start = r->now,
		.continues = r->mode != RESUME_NONE ? r->last->run_id : NULL,
	};
	char why[1024];

	if (journal_open(&r->j, r->journal_path, r->mode == RESUME_NONE,
			 (journal_sync)r->o.p->journal_sync, &info, why, sizeof why) < 0) {
		fprintf(r->o.err, "assay: %s\n", why);
		return -1;
	}
	/* Only --explain reads it: a run goes on without. */
	if (resume_nodes_write(r, why, sizeof why) < 0)
		fprintf(r->o.err, "assay: %s (--explain will say less)\n", why);
	return 0;
}

int resume_open(resume **out, const resume_options *o)
{
	const char *config_hash = resume_base(o->config_dir);
	uint8_t key[NODEKEY_KEY_SIZE];
	char why[4200];
	struct timespec now;
	resume *r;

	*out = NULL;
	if (!(r = calloc(1, sizeof *r))) {
		fprintf(o->err, "assay: cannot start: out of memory\n");
		return -1;
	}
	*out = r;
	r->o = *o;
	r->mode = o->mode;
	clock_gettime(CLOCK_REALTIME, &now);
	r->now = (double)now.tv_sec + (double)now.tv_nsec / 1e9;
	resume_boot_id(r->boot_id, sizeof r->boot_id);
	if (nodekey_load(key, o->config_dir, why, sizeof why) < 0) {
		fprintf(o->err, "assay: %s\n", why);
		return -1;
	}
	if (!(r->journal_path = malloc(strlen(o->config_dir) + sizeof "/" JOURNAL_FILE)) ||
	    nodekeys_compute(&r->keys, o->p, o->g, key) < 0) {
		fprintf(o->err, "assay: cannot start: out of memory\n");
		return -1;
	}
	sprintf(r->journal_path, "%s/%s", o->config_dir, JOURNAL_FILE);
	if (r->mode != RESUME_NONE && resume_load(r, config_hash) < 0)
		return -1;
	if (resume_judge(r) < 0) {
		fprintf(o->err, "assay: cannot start: out of memory\n");
		return -1;
	}
	return r->o.preview ? 0 : resume_start_journal(r, config_hash);
}

void resume_set_options(resume *r, run_options *ro)
{
	if (r->mode == RESUME_NONE)
		return;
	ro->resume = resume_reuse;
	ro->resume_arg = r;
}

int resume_subscribe(resume *r, run *rn)
{
	return run_subscribe(rn,
			     RUN_EVENT_START | RUN_EVENT_CHILD | RUN_EVENT_ATTEMPT |
				     RUN_EVENT_ITEM | RUN_EVENT_FINAL,
			     resume_on_event, r);
}

void resume_end(resume *r, const run *rn)
{
	double start, end;
	bool stopped;

	run_times(rn, &start, &end, &stopped);
	journal_run_end(r->j, end, stopped);
}

void resume_free(resume *r)
{
	if (!r)
		return;
	if (r->j)
		journal_close(r->j);
	if (r->have_view)
		journal_view_release(&r->view);
	nodekeys_release(&r->keys);
	resume_nodes_release(&r->prev);
	free(r->verdict);
	free((void *)r->orphans);
	free(r->journal_path);
	free(r);
}
