/* resume_orphans.c -- what a killed run left running, killed before the
 * next run starts: each process group the journal has as in flight, only
 * while its leader is still the process the run started.  A pid is only
 * a number: after a reboot, or once the leader exited and the pid went to
 * another process, killing it would hit a stranger.  So the boot id must
 * be this boot's and the leader's start time the journaled one; and the
 * kernel never hands out a pid still in use as a process group's id, so
 * the group signalled after that check is the one that was checked. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "resume_int.h"

uint64_t resume_proc_start(pid_t pid, pid_t *pgrp)
{
	char path[64], buf[1024], *p;
	unsigned long long start = 0;
	FILE *f;
	size_t n;
	int field;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if (!(f = fopen(path, "re")))
		return 0;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name (field 2) may hold spaces and parentheses: the
	 * fields that follow start after its last ')'. */
	if (!(p = strrchr(buf, ')')))
		return 0;
	for (field = 3, p++; *p && field < 22; field++) {
		p += strspn(p, " ");
		if (field == 5 && pgrp)
			*pgrp = (pid_t)strtol(p, NULL, 10);
		p += strcspn(p, " ");
	}
	if (field == 22 && sscanf(p, " %llu", &start) != 1)
		start = 0;
	return start;
}

/* Which execution key is: "check `slow`", "item 17 of `files`", or
 * "an execution" when this plan has no such key any more. */
static void resume_orphan_name(const resume *r, const journal_orphan *o, char *out, size_t size)
{
	const plan *p = r->o.p;
	size_t i;

	for (i = 0; i < p->n_nodes; i++) {
		const plan_node *pn = &p->nodes[i];

		if (o->item == UINT32_MAX && nodekey_cmp(r->keys.nodes[i], o->key) == 0) {
			snprintf(out, size, "%s `%s`", pn->kind == ASSAY_KIND_TRIAL ? "trial" : "check",
				 pn->id);
			return;
		}
		if (o->item != UINT32_MAX && pn->kind == ASSAY_KIND_VALIDATION && o->item < pn->n_items &&
		    nodekey_cmp(nodekeys_item(&r->keys, i, o->item), o->key) == 0) {
			snprintf(out, size, "item %u of `%s`", (unsigned)o->item, pn->id);
			return;
		}
	}
	snprintf(out, size, "an execution");
}

/* Whether orphan o's group is still the one its run started. */
static bool resume_orphan_alive(const resume *r, const journal_orphan *o)
{
	pid_t pgrp = 0;

	return o->pgid > 1 && o->start_ticks && o->boot_id && strcmp(o->boot_id, r->boot_id) == 0 &&
	       resume_proc_start(o->pgid, &pgrp) == o->start_ticks && pgrp == o->pgid;
}

static bool resume_group_gone(pid_t pgid)
{
	return kill(-pgid, 0) < 0 && errno == ESRCH;
}

void resume_kill_orphans(resume *r)
{
	const journal_view *v = &r->view;
	pid_t *killed = calloc(v->n_orphans ? v->n_orphans : 1, sizeof *killed);
	struct timespec tick = { 0, 20 * 1000000L };
	size_t i, n = 0, left;
	int waited;

	if (!killed)
		return;
	for (i = 0; i < v->n_orphans; i++) {
		const journal_orphan *o = &v->orphans[i];
		char name[512];

		if (!resume_orphan_alive(r, o) || kill(-o->pgid, SIGTERM) < 0)
			continue;
		resume_orphan_name(r, o, name, sizeof name);
		fprintf(r->o.err, "assay: killing process group %ld (%s, attempt %u), left running "
			"by run %s\n", (long)o->pgid, name, o->attempt, o->run_id ? o->run_id : "?");
		killed[n++] = o->pgid;
	}
	/* SIGTERM first, as a timeout does: a child may clean up. */
	for (waited = 0, left = n; left && waited < RESUME_KILL_GRACE_MS; waited += 20) {
		nanosleep(&tick, NULL);
		for (i = 0, left = 0; i < n; i++)
			left += killed[i] && !resume_group_gone(killed[i]);
	}
	for (i = 0; i < n; i++)
		if (!resume_group_gone(killed[i]) && kill(-killed[i], SIGKILL) == 0)
			fprintf(r->o.err, "assay: process group %ld ignored SIGTERM: killed\n",
				(long)killed[i]);
	free(killed);
}
