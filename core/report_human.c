/* report_human.c -- the default report: one line per node in declaration
 * order (a trial its sweep pruned as PRUNED, with the step), the details
 * of what is not OK and the failing validation items under their node,
 * each sweep's best trial, then a summary; escaped, and cut to a width. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "builtin.h"
#include "status.h"
#include "text.h"

/* Failing items shown under a validation before "... and N more". */
#define ITEMS_SHOWN 10
/* Lines of details shown under a node or an item that is not OK: the
 * first and the last, which hold the first error and, in a traceback,
 * the exception; the lines between are counted. */
#define DETAIL_HEAD 5
#define DETAIL_TAIL 5
#define ITEM_DETAIL_HEAD 2
#define ITEM_DETAIL_TAIL 2
/* Where no terminal says how wide a line may be: long enough for any
 * real message, short enough that one 64 KiB line cannot flood a mail. */
#define PIPE_WIDTH 1024
/* The widest id that sets the column of the messages. */
#define ID_COLUMN_MAX 48
#define STATUS_COLS 8

static const char *const colours[] = {
	"\033[32m", /* OK: green */
	"\033[33m", /* WARNING: yellow */
	"\033[31m", /* CRITICAL: red */
	"\033[35m", /* UNKNOWN: magenta */
	"\033[2m",  /* SKIPPED: dim */
};
/* A pruned trial: neither a failure nor skipped for want of a reason. */
#define PRUNED_COLOUR "\033[36m" /* cyan */

typedef struct human {
	FILE *out;
	const assay_report *r;
	bool colour;
	size_t width;             /* columns a line may take */
	size_t id_cols;           /* the id column's width */
} human;

/* $COLUMNS when set (as for ls and systemctl), else the terminal's width,
 * else PIPE_WIDTH: a pipe or a file gets whole lines, within reason. */
static size_t line_width(FILE *out)
{
	const char *env = getenv("COLUMNS");
	struct winsize ws;
	char *end;
	long n;

	if (env && *env) {
		n = strtol(env, &end, 10);
		if (!*end && n > 0)
			return (size_t)n;
	}
	if (isatty(fileno(out)) && ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return isatty(fileno(out)) ? 80 : PIPE_WIDTH;
}

/* The state's word; a pruned trial's (SKIPPED to the status) is PRUNED. */
static void status_word(const human *h, assay_status s, bool pruned)
{
	const char *word = pruned ? "PRUNED" : status_name(s);

	if (h->colour)
		fprintf(h->out, "%s%-*s\033[0m", pruned ? PRUNED_COLOUR : colours[s], STATUS_COLS,
			word);
	else
		fprintf(h->out, "%-*s", STATUS_COLS, word);
}

/* text, escaped, into a new string (NULL when out of memory). */
static char *escaped(const char *text, size_t len)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	if (!f)
		return NULL;
	text_put(f, text, len, SIZE_MAX);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* One line: indent, state, then `lead` (the id, escaped and padded),
 * the first line of msg and `tail`, within the width: the message is cut
 * first, then, if that is not enough, the end of the line. */
static void put_line(const human *h, size_t indent, assay_status s, bool pruned,
		     const char *lead, const char *msg, const char *tail)
{
	size_t used = indent + STATUS_COLS + 2, room, msg_len = strcspn(msg, "\n");
	size_t fixed = used + text_width(lead, strlen(lead)) + text_width(tail, strlen(tail));
	char *line = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&line, &size);

	if (!f)
		return;
	/* A line that ends in \r\n shows no \r. */
	if (msg_len && msg[msg_len - 1] == '\r' && msg[msg_len] == '\n')
		msg_len--;
	room = h->width > fixed ? h->width - fixed : 0;
	fputs(lead, f);
	text_put(f, msg, msg_len, room);
	fputs(tail, f);
	if (fclose(f) != 0) {
		free(line);
		return;
	}
	fprintf(h->out, "%*s", (int)indent, "");
	status_word(h, s, pruned);
	fputs("  ", h->out);
	text_put(h->out, line, strlen(line), h->width > used ? h->width - used : 0);
	fputc('\n', h->out);
	free(line);
}

/* The id, escaped and padded to the column (at least two spaces after). */
static char *lead_of(const human *h, const char *id, const char *sep, size_t pad_to)
{
	char *e = escaped(id, strlen(id)), *lead = NULL;
	size_t cols;

	if (!e)
		return NULL;
	cols = text_width(e, strlen(e));
	if (asprintf(&lead, "%s%s%*s", e, sep, cols < pad_to ? (int)(pad_to - cols) : 0, "") < 0)
		lead = NULL;
	free(e);
	return lead;
}

/* One detail line, indented, within the width. */
static void put_detail(const human *h, size_t indent, const char *s, size_t len)
{
	if (len && s[len - 1] == '\r')
		len--;
	fprintf(h->out, "%*s", (int)indent, "");
	text_put(h->out, s, len, h->width > indent ? h->width - indent : 0);
	fputc('\n', h->out);
}

/* The devices a result that is not OK held ("devices: GPU-..., GPU-..."):
 * which GPU a failed trial ran on is the first thing to ask. */
static void put_devices(const human *h, size_t indent, const assay_result *res)
{
	char line[512];
	size_t i, used;

	if (!res->n_devices)
		return;
	used = (size_t)snprintf(line, sizeof line, "devices: ");
	for (i = 0; i < res->n_devices && used < sizeof line; i++)
		used += (size_t)snprintf(line + used, sizeof line - used, "%s%s", i ? ", " : "",
					 res->devices[i]);
	put_detail(h, indent, line, used < sizeof line ? used : sizeof line - 1);
}

/* What follows the first line of a result that is not OK -- the rest of
 * its message, then its details -- indented, its first `head` and last
 * `tail` lines, with the count of those hidden between. */
static void put_details(const human *h, size_t indent, const assay_result *res, size_t head,
			size_t tail)
{
	const char *parts[2] = { strchr(res->message, '\n'), res->details };
	const char **starts = NULL;
	size_t *lens = NULL, n = 0, cap = 0, i, k;

	if (parts[0])
		parts[0]++;
	for (k = 0; k < 2; k++) {
		const char *p = parts[k];

		while (p && *p) {
			size_t len = strcspn(p, "\n");

			if (n == cap) {
				const char **s2 = realloc(starts, (cap = cap ? cap * 2 : 16) * sizeof *s2);
				size_t *l2 = s2 ? realloc(lens, cap * sizeof *l2) : NULL;

				if (s2)
					starts = s2;
				if (!s2 || !l2)
					goto out;
				lens = l2;
			}
			starts[n] = p;
			lens[n++] = len;
			p += len + (p[len] == '\n');
		}
	}
	/* Blank lines at the end say nothing. */
	while (n && (lens[n - 1] == 0 || (lens[n - 1] == 1 && starts[n - 1][0] == '\r')))
		n--;
	for (i = 0; i < n; i++) {
		if (n > head + tail && i == head) {
			fprintf(h->out, "%*s... %zu more line%s (the json report has them all)\n",
				(int)indent, "", n - head - tail, n - head - tail == 1 ? "" : "s");
			i = n - tail;
		}
		put_detail(h, indent, starts[i], lens[i]);
	}
out:
	free(starts);
	free(lens);
}

static bool not_ok(assay_status s)
{
	return s == ASSAY_WARNING || s == ASSAY_CRITICAL || s == ASSAY_UNKNOWN;
}

/* " [best acc=0.93%]": the objective metric of the best trial, with its
 * unit as perfdata writes it; then the duration and the attempts. */
static char *tail_of(const human *h, const assay_result *res)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	if (!f)
		return NULL;
	if (res->best) {
		const assay_objective *o = res->objective;

		fputs(" [best", f);
		if (o && o->reported) {
			fputc(' ', f);
			text_put(f, o->metric, strlen(o->metric), SIZE_MAX);
			fprintf(f, "=%g", o->value);
			text_put(f, o->unit, strlen(o->unit), SIZE_MAX);
		}
		fputc(']', f);
	}
	/* The pruner's reason names the step; one that does not gets it. */
	if (res->pruned && strncmp(res->message, "pruned at step", 14) != 0)
		fprintf(f, " (step %lld)", (long long)res->pruned_step);
	if (res->pruned)
		fprintf(f, " (%.2fs)", res->duration);
	if (res->status != ASSAY_SKIPPED)
		fprintf(f, " (%.2fs", res->duration);
	if (res->status != ASSAY_SKIPPED && res->attempts > 1 && res->kind != ASSAY_KIND_VALIDATION)
		fprintf(f, ", %u attempts", res->attempts);
	if (res->status != ASSAY_SKIPPED)
		fputc(')', f);
	if (res->resumed)
		fprintf(f, " (resumed from %s)", res->resumed_from ? res->resumed_from : "?");
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static void put_items(const human *h, const assay_result *res)
{
	size_t j, shown = 0, more = 0;

	for (j = 0; j < res->n_items; j++) {
		const assay_result *item = res->items[j];
		char *lead, tail[32] = "";

		if (item->status == ASSAY_OK)
			continue;
		if (shown++ == ITEMS_SHOWN)
			break;
		if (item->attempts > 1)
			snprintf(tail, sizeof tail, " (%u attempts)", item->attempts);
		if (!(lead = lead_of(h, item->id, ": ", 0)))
			continue;
		put_line(h, 2, item->status, false, lead, item->message, tail);
		free(lead);
		if (not_ok(item->status))
			put_details(h, 2 + STATUS_COLS + 2, item, ITEM_DETAIL_HEAD, ITEM_DETAIL_TAIL);
	}
	for (; j < res->n_items; j++)
		more += res->items[j]->status != ASSAY_OK;
	if (more)
		fprintf(h->out, "  ... and %zu more item%s not OK\n", more, more == 1 ? "" : "s");
}

static size_t id_column(const assay_report *r)
{
	size_t i, w = 0;

	for (i = 0; i < r->n_results; i++) {
		size_t cols = text_width(r->results[i]->id, strlen(r->results[i]->id));

		if (cols > w)
			w = cols;
	}
	return w > ID_COLUMN_MAX ? ID_COLUMN_MAX : w;
}

/* "accuracy 0.962 +- 0.004 (mean of 3): lr[lr=3.2e-4,bs=64] lr=0.00032
 * bs=64": a sweep's best value first (what a cut line keeps), then its
 * trial and the point's parameters in full. */
static void put_best(FILE *f, const assay_sweep *sw)
{
	size_t j;

	if (!sw->best) {
		fputs("no best (no trial reported ", f);
		text_put(f, sw->metric, strlen(sw->metric), SIZE_MAX);
		fputc(')', f);
		return;
	}
	fputs("best ", f);
	text_put(f, sw->metric, strlen(sw->metric), SIZE_MAX);
	fprintf(f, " %.*g", sw->repeats > 1 ? 4 : 6, sw->value);
	if (sw->repeats > 1)
		fprintf(f, " +- %.2g (mean of %u)", sw->spread, sw->repeats);
	fputs(": ", f);
	text_put(f, sw->best, strlen(sw->best), SIZE_MAX);
	for (j = 0; j < sw->n_params; j++) {
		fputc(' ', f);
		text_put(f, sw->params[j].name, strlen(sw->params[j].name), SIZE_MAX);
		fputc('=', f);
		text_put(f, sw->params[j].value, strlen(sw->params[j].value), SIZE_MAX);
	}
}

/* Two lines per sweep worth them -- it has an objective or more than one
 * trial -- after the nodes, each cut to the width:
 *   sweep lr: best lr[lr=0.1] (lr=0.1): accuracy 0.962 +- 0.004 (mean of 3)
 *     20 trials: 12 ok, 2 failed, 4 pruned, 2 skipped; stopped after ... */
static void put_sweeps(const human *h)
{
	size_t i;

	for (i = 0; i < h->r->n_sweeps; i++) {
		const assay_sweep *sw = h->r->sweeps[i];
		char *line = NULL;
		size_t size = 0, first;
		FILE *f;

		if (!sw->trials || (!sw->metric && sw->trials < 2) || !(f = open_memstream(&line, &size)))
			continue;
		fputs("sweep ", f);
		text_put(f, sw->id, strlen(sw->id), SIZE_MAX);
		fputc(':', f);
		if (sw->metric) {
			fputc(' ', f);
			put_best(f, sw);
		}
		fflush(f);
		first = size;
		fprintf(f, "%zu trial%s: %zu ok, %zu failed, %zu pruned, %zu skipped", sw->trials,
			sw->trials == 1 ? "" : "s", sw->ok, sw->failed, sw->pruned, sw->skipped);
		if (sw->stopped) {
			fputs("; ", f);
			text_put(f, sw->stopped, strlen(sw->stopped), SIZE_MAX);
		}
		if (fclose(f) == 0) {
			put_detail(h, 0, line, first);
			put_detail(h, 2, line + first, strlen(line + first));
		}
		free(line);
	}
}

/* Where the time of a group or a validation went: what of it ran in this
 * run (a result reused by --resume took none of its time), from the
 * first start to the last end, and the sum of their durations. */
typedef struct span_sum {
	const char *name;
	size_t first;             /* its first node, for the order of the lines */
	size_t n;                 /* nodes or items that ran */
	double start, end, sum;
} span_sum;

static bool ran_here(const assay_result *res)
{
	return res->start > 0 && !res->resumed;
}

static void span_add(span_sum *s, const assay_result *res)
{
	if (!ran_here(res))
		return;
	if (!s->n++ || res->start < s->start)
		s->start = res->start;
	if (res->end > s->end)
		s->end = res->end;
	s->sum += res->duration;
}

/* head (escaped), cut to what the width leaves, then tail (ASCII):
 * a long name or path is cut, never the numbers after it. */
static void put_cut(const human *h, const char *head, const char *tail)
{
	size_t fixed = strlen(tail);

	text_put(h->out, head, strlen(head), h->width > fixed ? h->width - fixed : 0);
	fprintf(h->out, "%s\n", tail);
}

/* "solvers: 32 items in 1.61s (sum 12.80s, 7.9x)": worth a line when
 * more than one thing ran. */
static void put_span_sum(const human *h, const span_sum *s, const char *what)
{
	double wall = s->end > s->start ? s->end - s->start : 0;
	char tail[128], ratio[32] = "";

	if (s->n < 2)
		return;
	if (wall > 0)
		snprintf(ratio, sizeof ratio, ", %.1fx", s->sum / wall);
	snprintf(tail, sizeof tail, ": %zu %s in %.2fs (sum %.2fs%s)", s->n, what, wall, s->sum,
		 ratio);
	put_cut(h, s->name, tail);
}

static int span_by_name(const void *a, const void *b)
{
	const span_sum *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : x->first < y->first ? -1 : x->first > y->first;
}

static int span_by_first(const void *a, const void *b)
{
	const span_sum *x = a, *y = b;

	return x->first < y->first ? -1 : x->first > y->first;
}

/* The groups a result is in (sweeps: its sweep): how many. */
static size_t sets_of(const assay_result *res, bool sweeps)
{
	return sweeps ? res->sweep != NULL : res->n_groups;
}

/* The line of every group (sweeps: of every sweep, its trials), in the
 * order of their first nodes: each (node, enclosing group) pair, sorted
 * by group to add them up. */
static void put_sets(const human *h, bool sweeps)
{
	const assay_report *r = h->r;
	span_sum *pairs;
	size_t i, j, n = 0, out = 0;

	for (i = 0; i < r->n_results; i++)
		n += sets_of(r->results[i], sweeps);
	if (!n || !(pairs = calloc(n, sizeof *pairs)))
		return;
	for (i = 0, n = 0; i < r->n_results; i++)
		for (j = 0; j < sets_of(r->results[i], sweeps); j++) {
			pairs[n].name = sweeps ? r->results[i]->sweep : r->results[i]->groups[j];
			pairs[n].first = i;
			span_add(&pairs[n++], r->results[i]);
		}
	qsort(pairs, n, sizeof *pairs, span_by_name);
	for (i = 0; i < n; i = j) {
		span_sum g = { .name = pairs[i].name, .first = pairs[i].first };

		for (j = i; j < n && strcmp(pairs[j].name, g.name) == 0; j++)
			if (pairs[j].n) {
				g.n++;
				if (g.n == 1 || pairs[j].start < g.start)
					g.start = pairs[j].start;
				if (pairs[j].end > g.end)
					g.end = pairs[j].end;
				g.sum += pairs[j].sum;
			}
		pairs[out++] = g;
	}
	qsort(pairs, out, sizeof *pairs, span_by_first);
	for (i = 0; i < out; i++)
		put_span_sum(h, &pairs[i], sweeps ? "trials" : "nodes");
	free(pairs);
}

/* The critical path's nodes: "critical path: billing -> gcp.buckets ->
 * train (4.20s of 4.31s wall)", the middle of a long one elided. */
static void put_critical(const human *h)
{
	const assay_report *r = h->r;
	char *path = NULL, tail[96];
	size_t size = 0, i;
	FILE *f;

	if (r->n_critical < 2 || !(f = open_memstream(&path, &size)))
		return;
	fputs("critical path: ", f);
	for (i = 0; i < r->n_critical; i++) {
		if (r->n_critical > 8 && i == 3) {
			fprintf(f, " -> ... %zu more", r->n_critical - 6);
			i = r->n_critical - 3;
		}
		fprintf(f, "%s%s", i ? " -> " : "", r->critical[i]);
	}
	snprintf(tail, sizeof tail, " (%.2fs of %.2fs wall)", r->critical_path, r->wall);
	if (fclose(f) == 0)
		put_cut(h, path, tail);
	free(path);
}

/* Where the time went: each validation, sweep and group that ran more
 * than one thing, its wall time beside the sum of its parts, then the
 * critical path. */
static void put_times(const human *h)
{
	const assay_report *r = h->r;
	size_t i, j;

	for (i = 0; i < r->n_results; i++) {
		const assay_result *res = r->results[i];
		span_sum s = { .name = res->id };

		for (j = 0; j < res->n_items; j++)
			span_add(&s, res->items[j]);
		put_span_sum(h, &s, "items");
	}
	put_sets(h, true);
	put_sets(h, false);
	put_critical(h);
}

/* "5 nodes: 3 OK, 1 SKIPPED, 1 PRUNED in ...": pruned trials, SKIPPED
 * to the status, counted apart. */
static void put_summary(const human *h)
{
	const assay_report *r = h->r;
	size_t i, j = 0, pruned = 0;
	int s;

	for (i = 0; i < r->n_results; i++)
		pruned += r->results[i]->pruned;
	fprintf(h->out, "%zu node%s:", r->n_results, r->n_results == 1 ? "" : "s");
	for (s = 0; s <= ASSAY_SKIPPED; s++) {
		size_t n = r->counts[s] - (s == ASSAY_SKIPPED && pruned <= r->counts[s] ? pruned : 0);

		if (n)
			fprintf(h->out, "%s %zu %s", j++ ? "," : "", n, status_name((assay_status)s));
	}
	if (pruned)
		fprintf(h->out, "%s %zu PRUNED", j ? "," : "", pruned);
	fprintf(h->out, " in %.2fs (critical path %.2fs)%s\n", r->wall, r->critical_path,
		r->interrupted ? "; the run was stopped before the end" : "");
}

static int human_write(FILE *out, const assay_report *r, void *data)
{
	human h = {
		.out = out,
		.r = r,
		.colour = isatty(fileno(out)) && !getenv("NO_COLOR"),
		.width = line_width(out),
		.id_cols = id_column(r),
	};
	size_t i;

	for (i = 0; i < r->n_results; i++) {
		const assay_result *res = r->results[i];
		char *lead = lead_of(&h, res->id, "  ", h.id_cols), *tail = tail_of(&h, res);

		if (!lead || !tail) {
			free(lead);
			free(tail);
			return ASSAY_ENOMEM;
		}
		put_line(&h, 0, res->status, res->pruned, lead, res->message, tail);
		free(lead);
		free(tail);
		if (not_ok(res->status)) {
			put_devices(&h, STATUS_COLS + 2, res);
			put_details(&h, STATUS_COLS + 2, res, DETAIL_HEAD, DETAIL_TAIL);
		}
		put_items(&h, res);
	}
	put_sweeps(&h);
	put_times(&h);
	put_summary(&h);
	return ferror(out) ? ASSAY_ESYS : 0;
}

const assay_reporter report_human = {
	.name = "human",
	.description = "one line per node, the details of what is not OK, then a summary (the default)",
	.write = human_write,
};
