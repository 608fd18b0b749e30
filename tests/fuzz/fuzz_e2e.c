/* fuzz_e2e.c -- libFuzzer target for the whole of `assay run` on a fuzzed
 * configuration: load it, load its plugins (exec and http, built beside
 * this binary) and prepare every node, build the graph, print it as the dry
 * run does, run the plan, build the report and write it in every built-in
 * format, checking what comes out.
 *
 * Nothing the configuration names is executed: the run swaps every node's
 * type for `fuzz`, which makes up a result in-process (status, message,
 * details, metrics; a hash of the input and the node picks them, so an
 * input always reproduces), and only plugins named exec or http are
 * loaded, from this binary's directory. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <dlfcn.h>

#include "builtin.h"
#include "config.h"
#include "diag.h"
#include "graph.h"
#include "host.h"
#include "registry.h"
#include "reactor.h"
#include "report.h"
#include "run.h"
#include "sweep.h"
#include "task.h"
#include "text.h"
#include "trials_list.h"

/* Bigger plans are valid, but a few of them would eat the fuzzing time
 * that small, varied ones use better: they are loaded and prepared, not
 * run. */
#define MAX_RUN_NODES 256
#define MAX_RUN_EXECUTIONS 2048

static char plugin_dir[PATH_MAX];
static const char *device = "/dev/null"; /* a device to write a report into */
static uint64_t input_hash;
static const plan *running;     /* the plan run_plan() runs, for fuzz_run */

static uint64_t hash_bytes(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ull; /* FNV-1a */
	return h;
}

static uint64_t hash_str(uint64_t h, const char *s)
{
	return s ? hash_bytes(h, s, strlen(s)) : h;
}

/* What a run could print: the hostile (escapes, carriage returns, bytes
 * that are not UTF-8, a cut sequence, long lines) beside the plain. */
static const char *const texts[] = {
	"all good",
	"",
	"caf\xe9 latin-1",
	"\033[2J\033[32mOK\033[0m   fake",
	"half\rwritten",
	"cut \xe2\x82",
	"tab\there\x7f and \xc2\x9b""31m C1",
	"two\nlines",
	"surrogate \xed\xa0\x80 overlong \xc0\xaf",
	"Traceback (most recent call last):\n  File \"x.py\", line 1\nValueError: bad",
};

static const char *const units[] = { "", "%", "s", "ms", "B", "\xff" };

static const char *pick_text(uint64_t h)
{
	return texts[h % (sizeof texts / sizeof *texts)];
}

static int fuzz_run(assay_task *task, void *state, void *data)
{
	const assay_host *host = host_table();
	const plan_sweep *sweep = plan_sweep_of(running, task->node);
	const char *objective = sweep ? sweep->objective : NULL;
	uint64_t h = hash_str(hash_str(input_hash ^ host->task_attempt(task), host->task_id(task)),
			      host->task_item(task));
	char *long_line;
	size_t i;

	if ((h & 7) != 7) /* sometimes no status at all: UNKNOWN */
		host->set_status(task, (assay_status)((h >> 3) % 4));
	if ((h >> 5) % 16 == 0 && (long_line = malloc(6000))) {
		memset(long_line, 'x', 5999);
		long_line[5999] = '\0';
		host->set_message(task, "%s", long_line);
		free(long_line);
	} else {
		host->set_message(task, "%s %s", host->task_id(task), pick_text(h >> 9));
	}
	if ((h >> 13) % 3 == 0) {
		char details[1024] = "";

		for (i = 0; i < (h >> 15) % 24; i++)
			snprintf(details + strlen(details), sizeof details - strlen(details), "%s\n",
				 pick_text(h >> (17 + i % 40)));
		host->set_details(task, "%s", details);
	}
	/* A trial mostly reports its objective, not always; anyone may
	 * report others, values not always finite. */
	if (objective && (h >> 21) % 5 != 0) {
		assay_metric m = { .name = objective,
				   .value = (double)((h >> 24) % 1000) / 10,
				   .unit = units[(h >> 34) % (sizeof units / sizeof *units)] };

		if ((h >> 37) % 13 == 0)
			m.value = (h >> 41) & 1 ? NAN : INFINITY;
		host->add_metric(task, &m);
	}
	if ((h >> 42) % 4 == 0) {
		assay_metric m = { .name = pick_text(h >> 44), .value = (double)(h >> 50),
				   .unit = units[(h >> 46) % (sizeof units / sizeof *units)] };

		host->add_metric(task, &m);
	}
	return ASSAY_DONE;
}

static const assay_node_type fuzz_type = {
	.name = "fuzz",
	.kinds = ASSAY_KIND_CHECK | ASSAY_KIND_TRIAL | ASSAY_KIND_VALIDATION,
	.description = "results made up in-process",
	.run = fuzz_run,
};

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);

static void preload(const char *name)
{
	char path[PATH_MAX + 16];

	snprintf(path, sizeof path, "%s/%s", plugin_dir, name);
	if (!dlopen(path, RTLD_NOW | RTLD_NODELETE)) {
		fprintf(stderr, "fuzz_e2e: %s\n", dlerror());
		exit(2);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char exe[PATH_MAX], *slash;
	const char *work = getenv("ASSAY_FUZZ_WORK");
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);

	if (n <= 0)
		abort();
	exe[n] = '\0';
	if ((slash = strrchr(exe, '/')))
		*slash = '\0';
	snprintf(plugin_dir, sizeof plugin_dir, "%s/plugins", exe);
	/* Loaded for good now, so that libFuzzer's coverage counters in them
	 * stay mapped when the registry closes them after each input. */
	preload("exec.so");
	preload("http.so");
	/* Relative globs, item files and reports land in a directory of our
	 * own (run-e2e-fuzz makes it); the link checks that a report follows
	 * it to its file. */
	if (!work || chdir(work) != 0 || (symlink("real.json", "link.json") != 0 && errno != EEXIST)) {
		fprintf(stderr, "fuzz_e2e: set ASSAY_FUZZ_WORK to an empty directory\n");
		exit(2);
	}
	/* Root writes into a copy: should that break, the machine's
	 * /dev/null stays whole. */
	if (mknod("null", S_IFCHR | 0666, makedev(1, 3)) == 0 || errno == EEXIST)
		device = "null";
	setenv("NO_COLOR", "1", 1);
	unsetenv("COLUMNS");
	return 0;
}

/* The start of the line after the one at `at`, or size. */
static size_t line_end(const uint8_t *data, size_t size, size_t at)
{
	const uint8_t *nl = memchr(data + at, '\n', size - at);

	return nl ? (size_t)(nl - data) + 1 : size;
}

/* Where a unit of the text starts: any line, or with `tables` only a
 * table's header (a line starting with '[').  The end of the text counts
 * as one, a place to insert at. */
static bool unit_start(const uint8_t *data, size_t size, size_t at, bool tables)
{
	return at == size || !tables || data[at] == '[';
}

/* The n-th place a unit starts (n modulo their number, the end included
 * when `with_end`). */
static size_t nth_unit(const uint8_t *data, size_t size, unsigned n, bool tables, bool with_end)
{
	size_t count = 0, at;

	for (at = 0; at < size; at = line_end(data, size, at))
		count += unit_start(data, size, at, tables);
	count += with_end;
	if (count == 0)
		return size;
	n %= count;
	for (at = 0;; at = line_end(data, size, at))
		if (unit_start(data, size, at, tables) && n-- == 0)
			return at;
}

/* Where the unit starting at `at` ends: the next line, or the next
 * header. */
static size_t unit_end(const uint8_t *data, size_t size, size_t at, bool tables)
{
	at = line_end(data, size, at);
	while (tables && at < size && data[at] != '[')
		at = line_end(data, size, at);
	return at;
}

/* Byte-level mutations seldom make a second valid table: half the time,
 * edit the text as someone editing a config would -- delete a line or a
 * whole table (its header to the next one), copy one to another place, or
 * move one there (a table, to a table's place). */
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
	bool tables;
	size_t from, to, len, at;
	uint8_t *moved;
	int op;

	srand(seed);
	if (size == 0 || rand() % 2)
		return LLVMFuzzerMutate(data, size, max_size);
	tables = rand() % 2;
	from = nth_unit(data, size, (unsigned)rand(), tables, false);
	to = unit_end(data, size, from, tables);
	len = to - from;
	op = rand() % 3;
	if (op == 0) { /* delete */
		memmove(data + from, data + to, size - to);
		return size - len;
	}
	at = nth_unit(data, size, (unsigned)rand(), tables, true);
	if (op == 1) { /* copy */
		if (size + len > max_size)
			return size;
		memmove(data + at + len, data + at, size - at);
		memmove(data + at, data + from + (from >= at ? len : 0), len);
		return size + len;
	}
	/* move: out, then in where `at` now is */
	if ((at >= from && at <= to) || !(moved = malloc(len ? len : 1)))
		return size;
	memcpy(moved, data + from, len);
	memmove(data + from, data + to, size - to);
	if (at > from)
		at -= len;
	memmove(data + at + len, data + at, size - len - at);
	memcpy(data + at, moved, len);
	free(moved);
	return size;
}

/* The strict UTF-8 of RFC 3629: no overlong forms, no surrogates, nothing
 * past U+10FFFF.  Written apart from core/text.c, as the oracle. */
static bool utf8_valid(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		unsigned need, cp, k;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			need = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			need = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			need = 3, cp = c & 0x07;
		else
			return false;
		for (k = 1; k <= need; k++) {
			if (i + k >= len || (s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += need + 1;
	}
	return true;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
	    !(buf = malloc((size_t)n + 1)) || fread(buf, 1, (size_t)n, f) != (size_t)n)
		abort();
	fclose(f);
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

/* The human report: valid UTF-8 without a control character but the
 * newline (no escape sequence, no carriage return reaches a terminal),
 * no line wider than a pipe's 1024 columns. */
static void check_human(const char *path)
{
	size_t len, i, line = 0;
	unsigned char *text = (unsigned char *)slurp(path, &len);

	if (!utf8_valid(text, len))
		abort();
	for (i = 0; i < len; i++) {
		if ((text[i] < 0x20 && text[i] != '\n') || text[i] == 0x7f ||
		    (text[i] == 0xc2 && i + 1 < len && text[i + 1] >= 0x80 && text[i + 1] <= 0x9f))
			abort();
		if (text[i] == '\n') {
			if (text_width((char *)text + line, i - line) > 1024)
				abort();
			line = i + 1;
		}
	}
	free(text);
}

/* The csv report: valid UTF-8, every row ended by CRLF. */
static void check_csv(const char *path)
{
	size_t len;
	char *text = slurp(path, &len);

	if (!utf8_valid((unsigned char *)text, len) || len < 2 || text[len - 2] != '\r' ||
	    text[len - 1] != '\n')
		abort();
	free(text);
}

/* The json report: valid UTF-8 that JSON readers parse. */
static void check_json(const char *path)
{
	size_t len;
	char *text = slurp(path, &len);
	cJSON *root;

	if (!utf8_valid((unsigned char *)text, len) || !(root = cJSON_Parse(text)))
		abort();
	cJSON_Delete(root);
	free(text);
}

/* A retried result's duration covers its attempts, whose history the
 * report has in full. */
static void check_attempts(const assay_result *res)
{
	double sum = 0;
	size_t i;

	if (res->duration < 0)
		abort();
	if (res->n_history == 0)
		return;
	if (res->n_history != res->attempts || res->attempts < 2)
		abort();
	for (i = 0; i < res->n_history; i++) {
		if (res->history[i]->number != i + 1)
			abort();
		sum += res->history[i]->duration;
	}
	if (res->duration + 1e-3 < sum)
		abort();
}

/* What a result says of its node: its innermost group last of its
 * groups, a trial's sweep and parameters. */
static void check_identity(const plan *p, const plan_node *pn, const assay_result *out)
{
	const plan_sweep *s = plan_sweep_of(p, pn);

	if ((pn->group == PLAN_NONE) != (out->group == NULL) ||
	    (out->group && (out->n_groups == 0 || strcmp(out->groups[out->n_groups - 1], out->group) != 0)))
		abort();
	if ((s == NULL) != (out->sweep == NULL) || out->n_params != pn->n_params ||
	    (s && (s->objective == NULL) != (out->objective == NULL)))
		abort();
}

/* At most one best per sweep (the trials of one [trial.X] table), and
 * only one that ended OK or WARNING. */
static void check_best(const report *rep, const plan *p, const run_result *res)
{
	size_t i, k = 0, best_in_sweep = 0;
	uint32_t sweep = PLAN_NONE;

	for (i = 0; i < p->n_nodes; i++) {
		const plan_sweep *s = plan_sweep_of(p, &p->nodes[i]);
		const assay_result *out;

		if (!res[i].kept)
			continue;
		out = rep->r.results[k++];
		check_attempts(out);
		for (size_t j = 0; j < out->n_items; j++)
			check_attempts(out->items[j]);
		check_identity(p, &p->nodes[i], out);
		if (p->nodes[i].sweep != sweep) {
			sweep = p->nodes[i].sweep;
			best_in_sweep = 0;
		}
		if (!out->best)
			continue;
		if (!s || !s->objective ||
		    (out->status != ASSAY_OK && out->status != ASSAY_WARNING) || ++best_in_sweep > 1)
			abort();
	}
}

static void run_plan(plan *p, const graph *g)
{
	run_options o = { .jobs = p->jobs, .workers = 2, .verbosity = ASSAY_LOG_ERROR - 1 };
	const assay_node_type **types;
	void **states;
	struct stat st;
	reactor *re;
	report rep;
	sweeps *b;
	run *r;
	size_t i;
	int status;

	types = malloc(p->n_nodes * sizeof *types);
	states = malloc(p->n_nodes * sizeof *states);
	if (!types || !states)
		abort();
	for (i = 0; i < p->n_nodes; i++) {
		types[i] = p->nodes[i].type;
		states[i] = p->nodes[i].state;
		p->nodes[i].type = &fuzz_type;
		p->nodes[i].state = NULL;
		p->nodes[i].retry_delay_ms = 0; /* retries, but no waiting */
	}
	running = p;
	/* The trial tracker, as assay run has it: it judges the sweeps for
	 * the nodes after them, prunes and closes them. */
	if (!(b = sweeps_new(p)))
		abort();
	sweeps_judge(b, &o);
	if (reactor_new(&re) < 0 || run_new(&r, p, g, &o, re) < 0 ||
	    sweeps_subscribe(b, r) < 0 || run_go(r) < 0 ||
	    report_build(&rep, p, g, r, b, NULL) < 0)
		abort();
	status = report_exit_status(&rep);
	if (status < 0 || status > 3)
		abort();
	check_best(&rep, p, run_results(r));
	if (report_write(&report_human, &rep, "human.txt") < 0 ||
	    report_write(&report_json, &rep, "link.json") < 0 ||
	    report_write(&report_json, &rep, device) < 0 ||
	    report_write(&report_csv, &rep, "r.csv") < 0)
		abort();
	check_human("human.txt");
	check_csv("r.csv");
	check_json("real.json");
	/* What was written into or through stays what it was. */
	if (lstat("link.json", &st) != 0 || !S_ISLNK(st.st_mode) || lstat(device, &st) != 0 ||
	    !S_ISCHR(st.st_mode))
		abort();
	report_release(&rep);
	run_free(r);
	sweeps_free(b);
	reactor_free(re);
	for (i = 0; i < p->n_nodes; i++) {
		p->nodes[i].type = types[i];
		p->nodes[i].state = states[i];
	}
	free(types);
	free(states);
}

/* [plugins] load, as assay does it, but only exec and http and only from
 * plugin_dir: a fuzzed path must not open any shared object it names. */
static void load_plugins(registry *reg, const plan *p, diag *d)
{
	size_t i;

	for (i = 0; p->load && i < value_len(p->load); i++) {
		const assay_value *v = value_at(p->load, i, NULL);
		const char *name = value_string(v);

		if (strcmp(name, "exec") == 0 || strcmp(name, "http") == 0)
			registry_load(reg, name, value_get(p->plugins, name), v);
		else
			diag_add(d, NULL, 0, 0, "the fuzzer loads exec and http only");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	diag d = DIAG_INIT;
	registry reg;
	plan p;
	graph g;
	FILE *f = fopen("c.toml", "wb"), *devnull;
	bool have_graph = false;

	if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
	input_hash = hash_bytes(0xcbf29ce484222325ull, data, size);
	if (config_load(&p, "c.toml", 2, &d) < 0 || diag_count(&d)) {
		plan_release(&p);
		diag_release(&d);
		return 0;
	}
	if (registry_init(&reg, host_table(), &d) < 0)
		abort();
	registry_add_dirs(&reg, plugin_dir);
	load_plugins(&reg, &p, &d);
	if (diag_count(&d) == 0)
		config_prepare(&p, &reg, &d);
	if (diag_count(&d) == 0) {
		have_graph = true;
		graph_build(&g, &p, &d);
	}
	if (diag_count(&d) == 0) {
		double *seconds = calloc(p.n_nodes ? p.n_nodes : 1, sizeof *seconds);

		/* What --dry-run prints. */
		if (!seconds || !(devnull = fopen("/dev/null", "w")))
			abort();
		trials_print(&p, NULL, true, devnull);
		graph_print_text(&g, &p, seconds, NULL, devnull);
		graph_print_dot(&g, &p, seconds, devnull);
		fclose(devnull);
		free(seconds);
		if (p.n_nodes <= MAX_RUN_NODES && p.n_executions <= MAX_RUN_EXECUTIONS)
			run_plan(&p, &g);
	}
	if (have_graph)
		graph_release(&g);
	plan_release(&p);
	registry_release(&reg);
	diag_release(&d);
	return 0;
}
