/* resume_orphans.c -- what a killed run left running, killed before the
 * next run starts: each process group the journal has as in flight, only
 * while its leader is still the process the run started.  A pid is only
 * a number: after a reboot, or once the leader exited and the pid went to
 * another process, killing it would hit a stranger.  So the boot id must
 * be this boot's and the leader's start time within the window the
 * journal recorded around its spawn (journal_child()); and the
 * kernel never hands out a pid still in use as a process group's id, so
 * the group signalled after that check is the one that was checked. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "resume_int.h"

/* Process pid's state letter, process group and start time from
 * /proc/PID/stat.  0, or -1 when it is gone. */
static int resume_proc_stat(pid_t pid, char *state, pid_t *pgrp, uint64_t *start)
{
	char path[64], buf[1024], *p;
	unsigned long long ticks = 0;
	ssize_t n;
	int fd, field;

	/* open and read, not stdio: the journal asks once per child, and
	 * 100,000 items are 100,000 children. */
	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* The command name (field 2) may hold spaces and parentheses: the
	 * fields that follow start after its last ')'. */
	if (!(p = strrchr(buf, ')')))
		return -1;
	for (field = 3, p++; *p && field < 22; field++) {
		p += strspn(p, " ");
		if (field == 3)
			*state = *p;
		else if (field == 5)
			*pgrp = (pid_t)strtol(p, NULL, 10);
		p += strcspn(p, " ");
	}
	if (field != 22 || sscanf(p, " %llu", &ticks) != 1)
		return -1;
	*start = ticks;
	return 0;
}

uint64_t resume_proc_start(pid_t pid, pid_t *pgrp)
{
	pid_t group = 0;
	uint64_t start = 0;
	char state = 0;

	if (resume_proc_stat(pid, &state, &group, &start) < 0)
		return 0;
	if (pgrp)
		*pgrp = group;
	return start;
}

/* How many of groups[0 .. n) still have a process that runs, the others
 * set to 0; one pass over /proc for them all.  A zombie does not run:
 * with its parent gone it waits for a reaper (which, in a container, may
 * never come) and kill() still finds it. */
static size_t resume_groups_alive(pid_t *groups, size_t n)
{
	bool *alive = calloc(n ? n : 1, sizeof *alive);
	struct dirent *de;
	size_t i, left = 0;
	DIR *d;

	if (!alive || !(d = opendir("/proc"))) {
		free(alive);
		for (i = 0; i < n; i++)
			left += groups[i] != 0;
		return left; /* cannot tell: as if they ran */
	}
	while ((de = readdir(d))) {
		pid_t pid = (pid_t)strtol(de->d_name, NULL, 10), pgrp = 0;
		uint64_t start;
		char state = 0;

		if (pid <= 0 || resume_proc_stat(pid, &state, &pgrp, &start) < 0 || state == 'Z')
			continue;
		for (i = 0; i < n; i++)
			alive[i] |= groups[i] && groups[i] == pgrp;
	}
	closedir(d);
	for (i = 0; i < n; i++) {
		if (!alive[i])
			groups[i] = 0;
		left += alive[i];
	}
	free(alive);
	return left;
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
			snprintf(out, size, "%s `%s`",
				 pn->kind == ASSAY_KIND_TRIAL ? "trial" : "check", pn->id);
			return;
		}
		if (o->item != UINT32_MAX && pn->kind == ASSAY_KIND_VALIDATION &&
		    o->item < pn->n_items &&
		    nodekey_cmp(nodekeys_item(&r->keys, i, o->item), o->key) == 0) {
			snprintf(out, size, "item %u of `%s`", (unsigned)o->item, pn->id);
			return;
		}
	}
	snprintf(out, size, "an execution");
}

/* Whether orphan o's group is still the one its run started. */
static bool resume_orphan_ours(const resume *r, const journal_orphan *o)
{
	pid_t pgrp = 0, group = o->pgid;
	uint64_t start;

	return o->pgid > 1 && o->start_max && o->boot_id && strcmp(o->boot_id, r->boot_id) == 0 &&
	       (start = resume_proc_start(o->pgid, &pgrp)) >= o->start_min &&
	       start <= o->start_max && pgrp == o->pgid &&
	       resume_groups_alive(&group, 1) == 1;
}

void resume_kill_orphans(resume *r)
{
	const journal_view *v = &r->view;
	pid_t *killed = calloc(v->n_orphans ? v->n_orphans : 1, sizeof *killed);
	struct timespec tick = { 0, 20 * 1000000L };
	size_t i, n = 0;
	int waited;

	if (!killed)
		return;
	for (i = 0; i < v->n_orphans; i++) {
		const journal_orphan *o = &v->orphans[i];
		char name[512];

		if (!resume_orphan_ours(r, o) || kill(-o->pgid, SIGTERM) < 0)
			continue;
		resume_orphan_name(r, o, name, sizeof name);
		fprintf(r->o.err,
			"assay: killing process group %ld (%s, attempt %u), left running "
			"by run %s\n",
			(long)o->pgid, name, o->attempt, o->run_id ? o->run_id : "?");
		killed[n++] = o->pgid;
	}
	/* SIGTERM first, as a timeout does: a child may clean up.  Once
	 * checked, a group id stays its group's: the kernel hands out no pid
	 * still in use as one. */
	for (waited = 0; resume_groups_alive(killed, n) && waited < RESUME_KILL_GRACE_MS;
	     waited += 20)
		nanosleep(&tick, NULL);
	for (i = 0; i < n; i++)
		if (killed[i] && kill(-killed[i], SIGKILL) == 0)
			fprintf(r->o.err, "assay: process group %ld ignored SIGTERM: killed\n",
				(long)killed[i]);
	free(killed);
}
