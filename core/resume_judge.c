/* resume_judge.c -- which nodes and items --resume and --rerun-failed
 * reuse, and why each of the others reruns (--explain's lines). */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "duration.h"
#include "resume_int.h"
#include "status.h"

/* "12:01:07" today, "2026-12-06 12:01:07" another day: local time, as a
 * person reading --explain or a note thinks of it. */
static const char *resume_clock(double t, char buf[32])
{
	time_t when = (time_t)t, now = time(NULL);
	struct tm tm, today;

	localtime_r(&when, &tm);
	localtime_r(&now, &today);
	strftime(buf, 32,
		 tm.tm_year == today.tm_year && tm.tm_yday == today.tm_yday ? "%H:%M:%S"
									    : "%Y-%m-%d %H:%M:%S",
		 &tm);
	return buf;
}

/* 100,000: counts of items are read at a glance. */
static const char *resume_count(size_t n, char buf[32])
{
	char digits[24];
	size_t len = (size_t)snprintf(digits, sizeof digits, "%zu", n), i, k = 0;

	for (i = 0; i < len; i++) {
		if (i && (len - i) % 3 == 0)
			buf[k++] = ',';
		buf[k++] = digits[i];
	}
	buf[k] = '\0';
	return buf;
}

static int resume_orphan_find(const void *key, const void *o)
{
	return nodekey_cmp(*(const journal_key *)key, (*(const journal_orphan *const *)o)->key);
}

const journal_orphan *resume_in_flight(const resume *r, journal_key key)
{
	const journal_orphan *const *o = r->n_orphans
						 ? bsearch(&key, r->orphans, r->n_orphans,
							   sizeof *r->orphans, resume_orphan_find)
						 : NULL;

	return o ? *o : NULL;
}

bool resume_usable(const resume *r, const run_result *res, char *why, size_t size)
{
	const char *from = res->resumed_from ? res->resumed_from : "?";
	int64_t max_age = r->o.p->resume_max_age_ms;
	char when[32], age[32];
	bool usable = false;

	if (res->status != ASSAY_OK && res->status != ASSAY_WARNING) {
		if (why)
			snprintf(why, size, "%s in run %s", status_name(res->status), from);
	} else if (res->status == ASSAY_WARNING && r->mode == RESUME_FAILED) {
		if (why)
			snprintf(why, size,
				 "WARNING in run %s (--rerun-failed reruns what was not OK)", from);
	} else if (max_age && (r->now - res->end) * 1000.0 > (double)max_age) {
		if (why)
			snprintf(why, size,
				 "older than resume_max_age (%s): it ended at %s in run %s",
				 duration_format(max_age, age), resume_clock(res->end, when), from);
	} else {
		usable = true;
		if (why)
			snprintf(why, size, "%s in run %s at %s", status_name(res->status), from,
				 resume_clock(res->end, when));
	}
	return usable;
}

/* "its definition changed: command, timeout (key 1a2b3c4d was 5e6f7a8b)":
 * the parts whose hashes differ from the last run's, by name. */
static void resume_changed(const resume *r, size_t i, const resume_prev_node *prev, char *why,
			   size_t size)
{
	const nodekeys *k = &r->keys;
	char now_hex[NODEKEY_HEX_SIZE], was_hex[NODEKEY_HEX_SIZE];
	size_t j, m, len, named = 0;

	len = (size_t)snprintf(why, size, "reruns: its definition changed");
	for (j = k->part_at[i]; j < k->part_at[i + 1] && len < size; j++) {
		for (m = 0; m < prev->n_parts; m++)
			if (strcmp(prev->parts[m].name, k->parts[j].name) == 0)
				break;
		if (m < prev->n_parts && nodekey_cmp(prev->parts[m].hash, k->parts[j].hash) == 0)
			continue;
		len += (size_t)snprintf(why + len, size - len, "%s%s%s", named++ ? ", " : ": ",
					k->parts[j].name, m < prev->n_parts ? "" : " (new)");
	}
	for (m = 0; m < prev->n_parts && len < size; m++) {
		for (j = k->part_at[i]; j < k->part_at[i + 1]; j++)
			if (strcmp(prev->parts[m].name, k->parts[j].name) == 0)
				break;
		if (j == k->part_at[i + 1])
			len += (size_t)snprintf(why + len, size - len, "%s%s (removed)",
						named++ ? ", " : ": ", prev->parts[m].name);
	}
	if (!named && len < size)
		len += (size_t)snprintf(why + len, size - len, ": what it waits for");
	if (len < size)
		snprintf(why + len, size - len, " (key %.8s was %.8s)",
			 nodekey_hex(k->nodes[i], now_hex), nodekey_hex(prev->key, was_hex));
}

/* Whether run `id` of the chain has its end record: one that ended cut
 * what it ran (a signal, fail_fast, a deadline); one without was killed. */
static bool resume_run_ended(const resume *r, const char *id)
{
	size_t i;

	for (i = 0; id && i < r->view.n_runs; i++)
		if (strcmp(r->view.runs[i].run_id, id) == 0)
			return r->view.runs[i].end != 0;
	return false;
}

/* Why node i has no final result to reuse. */
static void resume_missing(const resume *r, size_t i, char *why, size_t size)
{
	const resume_prev_node *prev = resume_nodes_find(&r->prev, r->o.p->nodes[i].id);
	const journal_orphan *o = resume_in_flight(r, r->keys.nodes[i]);
	const char *last = r->last->run_id;

	if (o)
		snprintf(why, size, "reruns: in flight when run %s was %s",
			 o->run_id ? o->run_id : "?",
			 resume_run_ended(r, o->run_id) ? "stopped" : "killed");
	else if (prev && nodekey_cmp(prev->key, r->keys.nodes[i]) != 0)
		resume_changed(r, i, prev, why, size);
	else if (prev)
		snprintf(why, size, "reruns: it had not started when run %s ended", last);
	else
		snprintf(why, size, "reruns: not in run %s", last);
}

/* A validation: its items one by one.  RESUME_REUSE when every one is
 * reused; "reuses 60,000 of 100,000 items; 40,000 rerun (...)". */
static resume_verdict resume_items(const resume *r, size_t i, char *why, size_t size)
{
	const plan_node *pn = &r->o.p->nodes[i];
	size_t j, reused = 0, in_flight = 0, not_run = 0, failed = 0;
	char a[32], b[32], c[32], detail[256], *d = detail;

	for (j = 0; j < pn->n_items; j++) {
		journal_key key = nodekeys_item(&r->keys, i, j);
		const run_result *res = journal_find(&r->view, key);

		if (res && resume_usable(r, res, NULL, 0))
			reused++;
		else if (res)
			failed++;
		else if (resume_in_flight(r, key))
			in_flight++;
		else
			not_run++;
	}
	if (!pn->n_items) {
		snprintf(why, size, "reruns: it has no items to reuse");
		return RESUME_RUN;
	}
	if (reused == pn->n_items) {
		snprintf(why, size, "reused: all %s items", resume_count(reused, a));
		return RESUME_REUSE;
	}
	/* Each part is short: detail holds all three. */
	if (in_flight)
		d += sprintf(d, ", %s in flight when run %.64s ended", resume_count(in_flight, c),
			     r->last->run_id);
	if (failed)
		d += sprintf(d, ", %s not OK or too old", resume_count(failed, c));
	if (not_run)
		sprintf(d, ", %s not run", resume_count(not_run, c));
	snprintf(why, size, "reuses %s of %s items; %s rerun (%s)", resume_count(reused, a),
		 resume_count(pn->n_items, b), resume_count(pn->n_items - reused, c), detail + 2);
	return RESUME_ITEMS;
}

static resume_verdict resume_judge_node(const resume *r, size_t i, char *why, size_t size)
{
	const graph *g = r->o.g;
	const run_result *res;
	uint32_t k;

	/* What it waits for reruns: its inputs may differ (make's rule). */
	for (k = g->pred_at[i]; k < g->pred_at[i + 1]; k++)
		if (r->verdict[g->pred[k]] != RESUME_REUSE) {
			snprintf(why, size, "reruns: dependency `%s` reruns",
				 r->o.p->nodes[g->pred[k]].id);
			return RESUME_RUN;
		}
	if (r->o.p->nodes[i].kind == ASSAY_KIND_VALIDATION)
		return resume_items(r, i, why, size);
	if (!(res = journal_find(&r->view, r->keys.nodes[i]))) {
		resume_missing(r, i, why, size);
		return RESUME_RUN;
	}
	if (resume_usable(r, res, why + 8, size - 8)) {
		memcpy(why, "reused: ", 8);
		return RESUME_REUSE;
	}
	memcpy(why, "reruns: ", 8);
	return RESUME_RUN;
}

int resume_judge(resume *r)
{
	const plan *p = r->o.p;
	char **lines = NULL;
	size_t i, k;

	if (!(r->verdict = calloc(p->n_nodes ? p->n_nodes : 1, sizeof *r->verdict)))
		return ASSAY_ENOMEM;
	if (r->mode == RESUME_NONE)
		return 0; /* every node runs, as resume_pick() said */
	if (r->o.explain && !(lines = calloc(p->n_nodes ? p->n_nodes : 1, sizeof *lines)))
		return ASSAY_ENOMEM;
	/* Dependencies first: a node's verdict reads theirs. */
	for (k = 0; k < p->n_nodes; k++) {
		char why[1024];

		i = r->o.g->order[k];
		if (r->o.keep && !r->o.keep[i])
			continue;
		r->verdict[i] = (uint8_t)resume_judge_node(r, i, why, sizeof why);
		if (lines)
			lines[i] = strdup(why);
	}
	for (i = 0; lines && i < p->n_nodes; i++) {
		if (lines[i])
			fprintf(r->o.err, "assay: explain: %s: %s\n", p->nodes[i].id, lines[i]);
		free(lines[i]);
	}
	free(lines);
	return 0;
}
