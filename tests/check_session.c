/* check_session.c -- Check suite for core/session.c and the parts of a
 * run's life it strings together: the search path (searchpath.c), --only
 * (select.c), the report targets (targets.c), check-config's summary
 * (summary.c) and the plugins listing (listing.c); files of the test
 * plugins `good` and `probe` loaded, prepared, graphed, run and reported. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "listing.h"
#include "session.h"
#include "summary.h"

static char workdir[] = "/tmp/assay-check-session-XXXXXX";

static const char *plugin_dir(void)
{
	const char *dir = getenv("TEST_PLUGIN_DIR");

	return dir ? dir : "tests/plugins/.libs";
}

static void write_file(const char *name, const char *text)
{
	FILE *f = fopen(name, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* What a file holds, malloc'd. */
static char *read_file(const char *name)
{
	FILE *f = fopen(name, "r");
	char *text = calloc(1, 65536);

	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_gt(fread(text, 1, 65535, f), 0);
	fclose(f);
	return text;
}

static void setup(void)
{
	setenv("ASSAY_PLUGIN_PATH", plugin_dir(), 1);
	ck_assert_ptr_nonnull(mkdtemp(workdir));
	ck_assert_int_eq(chdir(workdir), 0);
}

static void teardown(void)
{
	char cmd[128];

	ck_assert_int_eq(chdir("/"), 0);
	snprintf(cmd, sizeof cmd, "rm -rf %s", workdir);
	ck_assert_int_eq(system(cmd), 0);
	strcpy(workdir, "/tmp/assay-check-session-XXXXXX");
}

#define GOOD "[plugins]\nload = [\"good\"]\n"

/* Open text as c.toml; 0 or the diag count.  session_release() always. */
static size_t open_text(session *s, const session_options *o, const char *text)
{
	write_file("c.toml", text);
	session_init(s, o);
	session_open(s, "c.toml");
	return diag_count(&s->d);
}

/* {best.NAME} is known in a node after exactly one sweep: a parameter
 * of its trials, trial_dir, or a metric (known at run time); not in a
 * node after no sweep or after two. */
START_TEST(test_best_placeholders_checked)
{
	static const session_options o = { 0 };
	session s;

	ck_assert_uint_eq(open_text(&s, &o, "[plugins]\nload = [\"probe\"]\n"
				    "[trial.s]\ntype = \"probe\"\nmatrix = { x = [1, 2] }\n"
				    "[trial.one]\ntype = \"probe\"\n"
				    "[check.a]\ntype = \"probe\"\nafter = [\"s\"]\n"
				    "message = \"{best.x} {best.acc} {best.trial_dir}\"\n"
				    "[check.b]\ntype = \"probe\"\nafter = \"one\"\nmessage = \"{best.acc}\"\n"
				    "[check.c]\ntype = \"probe\"\nmessage = \"{best.x}\"\n"
				    "[check.d]\ntype = \"probe\"\nafter = [\"s\", \"one\"]\n"
				    "message = \"{best.x}\"\n"), 2);
	ck_assert_msg(strstr(s.d.lines[0], "18:11: `message`: unknown placeholder `{best.x}`: "
			     "{best.NAME} is a parameter or a metric of the best trial of the one "
			     "sweep the node is `after` (or {best.trial_dir}); this one is after no "
			     "sweep, or several"), "%s", s.d.lines[0]);
	ck_assert_msg(strstr(s.d.lines[1], "22:11: `message`: unknown placeholder `{best.x}`"),
		      "%s", s.d.lines[1]);
	session_release(&s);
}
END_TEST

/* A sweep whose axes are wrong is reported for them, not again for each
 * {NAME} of theirs its plugin's options use; a placeholder in a sound
 * sweep still is. */
START_TEST(test_broken_sweep_placeholders)
{
	static const session_options o = { 0 };
	session s;

	ck_assert_uint_eq(open_text(&s, &o, "[plugins]\nload = [\"probe\"]\n"
				    "[trial.s]\ntype = \"probe\"\nmessage = \"{lr} {x}\"\n"
				    "space = { lr = { loguniform = [0, 1] } }\n"
				    "search = { method = \"random\", samples = 2 }\n"
				    "[trial.t]\ntype = \"probe\"\nmatrix = { x = [1] }\nmessage = \"{y}\"\n"),
			  2);
	ck_assert_msg(strstr(s.d.lines[0], "`loguniform` bounds must be greater than 0"), "%s",
		      s.d.lines[0]);
	ck_assert_msg(strstr(s.d.lines[1], "unknown placeholder `{y}`"), "%s", s.d.lines[1]);
	session_release(&s);
}
END_TEST

START_TEST(test_open_and_summary)
{
	static const session_options o = { 0 };
	session s;
	char *buf;
	size_t len;
	FILE *mem;

	ck_assert_uint_eq(open_text(&s, &o, GOOD "[check.a]\ntype = \"good\"\nvalue = 0\ngate = true\n"
				    "[check.g.b]\ntype = \"good\"\nvalue = 1\n"), 0);
	ck_assert(s.have_plan && s.have_registry && s.have_graph);
	ck_assert_uint_eq(s.g.n, 2);
	mem = open_memstream(&buf, &len);
	summary_print(&s.p, &s.reg, mem);
	fclose(mem);
	ck_assert_msg(strncmp(buf, "c.toml: OK\n  runner: jobs 64, workers ", 38) == 0, "%s", buf);
	ck_assert_msg(strstr(buf, "\n  plugins: good 1.2.3 (") &&
		      strstr(buf, "\n  nodes: 2: 2 checks, 0 trials, 0 validations (0 items)\n"
			     "  gates: a\n  groups: g (1)\n"), "%s", buf);
	free(buf);
	session_release(&s);
}
END_TEST

/* Every error of a file at once: the file's own, a plugin that is not
 * found, a type nobody provides; no graph is built on them. */
START_TEST(test_open_collects_errors)
{
	static const session_options o = { 0 };
	session s;

	ck_assert_uint_eq(open_text(&s, &o, "[plugins]\nload = [\"good\", \"nosuch\"]\n"
				    "[runner]\njobs = 0\n[check.a]\ntype = \"nope\"\n"), 3);
	ck_assert_msg(strstr(s.d.lines[0], "`jobs` must be between 1 and 1000000, not 0"), "%s",
		      s.d.lines[0]);
	ck_assert_msg(strstr(s.d.lines[1], "plugin `nosuch` not found"), "%s", s.d.lines[1]);
	ck_assert_msg(strstr(s.d.lines[2], "unknown node type `nope`"), "%s", s.d.lines[2]);
	ck_assert(!s.have_graph);
	session_release(&s);
	/* A file that is not TOML stops at the first step. */
	write_file("c.toml", "[runner\n");
	session_init(&s, &o);
	ck_assert_int_eq(session_open(&s, "c.toml"), -1);
	ck_assert(!s.have_registry);
	session_release(&s);
}
END_TEST

/* [plugins] path is relative to the file, like every path in it. */
START_TEST(test_plugin_path_from_the_file)
{
	static const session_options o = { 0 };
	char cmd[1024];
	session s;

	unsetenv("ASSAY_PLUGIN_PATH");
	ck_assert_int_eq(mkdir("conf", 0755), 0);
	ck_assert_int_eq(mkdir("conf/plugs", 0755), 0);
	snprintf(cmd, sizeof cmd, "cp %s/good.so conf/plugs/", plugin_dir());
	ck_assert_int_eq(system(cmd), 0);
	write_file("conf/c.toml", "[plugins]\nload = [\"good\"]\npath = \"plugs\"\n"
		   "[check.a]\ntype = \"good\"\nvalue = 0\n");
	session_init(&s, &o);
	ck_assert_int_eq(session_open(&s, "conf/c.toml"), 0);
	ck_assert_uint_eq(s.reg.n_plugins, 1);
	ck_assert_msg(strstr(s.reg.plugins[0]->path, "conf/plugs/good.so"), "%s",
		      s.reg.plugins[0]->path);
	session_release(&s);
}
END_TEST

/* --only: what is named and what it waits for; a name that is nothing
 * says so, with a suggestion. */
START_TEST(test_select)
{
	static const session_options o = { 0 };
	char why[256];
	session s;

	ck_assert_uint_eq(open_text(&s, &o, GOOD "[check.gate]\ntype = \"good\"\nvalue = 0\ngate = true\n"
				    "[check.net.a]\ntype = \"good\"\nvalue = 0\n"
				    "[check.net.b]\ntype = \"good\"\nvalue = 0\n"
				    "[check.lone]\ntype = \"good\"\nvalue = 0\n"), 0);
	ck_assert_int_eq(session_select(&s, (char *[]){ "net.b" }, 1, why, sizeof why), 0);
	ck_assert(s.keep[0] && !s.keep[1] && s.keep[2] && !s.keep[3]);
	ck_assert_int_eq(session_select(&s, (char *[]){ "net" }, 1, why, sizeof why), 0);
	ck_assert(s.keep[0] && s.keep[1] && s.keep[2] && !s.keep[3]);
	ck_assert_int_eq(session_select(&s, (char *[]){ "lone", "lnoe" }, 2, why, sizeof why), -1);
	ck_assert_str_eq(why, "--only lnoe: no such node or group (did you mean 'lone'?)");
	session_release(&s);
}
END_TEST

/* Formats come from the registry: the built-in ones and a plugin's. */
START_TEST(test_report_targets)
{
	static const session_options o = { 0 };
	char why[256];
	session s;

	ck_assert_uint_eq(open_text(&s, &o, GOOD "[check.a]\ntype = \"good\"\nvalue = 0\n"), 0);
	ck_assert_int_eq(session_add_report(&s, "human", NULL, why, sizeof why), 0);
	ck_assert_int_eq(session_add_report(&s, "count", "n.txt", why, sizeof why), 0);
	ck_assert_int_eq(session_add_report(&s, "yaml", NULL, why, sizeof why), -1);
	ck_assert_str_eq(why, "unknown format (formats: human, json, csv, count)");
	ck_assert_int_eq(session_add_report(&s, "json", "", why, sizeof why), -1);
	ck_assert_str_eq(why, "the path is empty");
	ck_assert_int_eq(session_add_report(&s, "json", "nodir/r.json", why, sizeof why), -1);
	ck_assert_msg(strstr(why, "nodir"), "%s", why);
	ck_assert_uint_eq(s.out.n, 2);
	session_release(&s);
}
END_TEST

/* A run and its reports: the exit status is the worst node's, each report
 * is where it was asked for; then another plan on the same plugins, as a
 * benchmark runs one plan after another, with the plugin's [plugins.NAME]
 * table still readable (the plan it came from is kept). */
START_TEST(test_run_report_and_run_again)
{
	static const session_options o = { .jobs = 2, .workers = 1 };
	char why[256], *text;
	session s;

	ck_assert_uint_eq(open_text(&s, &o, GOOD "[plugins.good]\nlevel = 7\n"
				    "[check.a]\ntype = \"good\"\nvalue = 0\n"
				    "[check.b]\ntype = \"good\"\nvalue = 1\n"), 0);
	ck_assert_int_eq(session_add_report(&s, "json", "r.json", why, sizeof why), 0);
	ck_assert_int_eq(session_add_report(&s, "count", "n.txt", why, sizeof why), 0);
	ck_assert_int_eq(session_run(&s), 0);
	ck_assert_int_eq(session_report(&s), ASSAY_WARNING);
	text = read_file("r.json");
	ck_assert_msg(strstr(text, "\"status\":\t\"WARNING\""), "%s", text);
	free(text);
	text = read_file("n.txt");
	ck_assert_str_eq(text, "2\n");
	free(text);

	session_release_plan(&s);
	ck_assert(!s.have_plan && !s.have_graph && !s.run && s.have_loader);
	ck_assert_ptr_nonnull(s.reg.plugins[0]->config);
	ck_assert_ptr_nonnull(value_get(s.reg.plugins[0]->config, "level"));
	write_file("c.toml", GOOD "[check.c]\ntype = \"good\"\nvalue = 2\n");
	ck_assert_int_eq(session_load(&s, "c.toml"), 0);
	session_prepare(&s);
	ck_assert_int_eq(session_graph(&s), 0);
	ck_assert_int_eq(session_run(&s), 0);
	ck_assert_uint_eq(s.reg.n_plugins, 1);
	ck_assert_int_eq(run_results(s.run)[0].status, ASSAY_CRITICAL);
	ck_assert_int_eq(session_report(&s), ASSAY_CRITICAL);
	session_release(&s);
}
END_TEST

/* `assay graph`: the nodes and their edges, as text or dot. */
START_TEST(test_print_graph)
{
	static const session_options o = { 0 };
	session s;
	char *buf;
	size_t len;
	FILE *mem;

	ck_assert_uint_eq(open_text(&s, &o, GOOD "[check.a]\ntype = \"good\"\nvalue = 0\n"
				    "[check.b]\ntype = \"good\"\nvalue = 0\nafter = [\"a\"]\n"), 0);
	mem = open_memstream(&buf, &len);
	ck_assert_int_eq(session_print_graph(&s, true, mem), 0);
	fclose(mem);
	ck_assert_msg(strncmp(buf, "digraph", 7) == 0 && strstr(buf, "\"a\" -> \"b\""), "%s", buf);
	free(buf);
	session_release(&s);
}
END_TEST

/* `assay plugins`: the host's own first, then every file on the search
 * path; those that cannot load say why. */
START_TEST(test_every_plugin_listed)
{
	static const session_options o = { 0 };
	session s;
	char *buf;
	size_t len;
	FILE *mem;
	int found;

	session_init(&s, &o);
	found = session_load_every_plugin(&s);
	ck_assert_int_ge(found, 6);
	/* abi2, minor and failinit cannot load; dup, first, takes good's type. */
	ck_assert_uint_ge(diag_count(&s.d), 4);
	mem = open_memstream(&buf, &len);
	listing_print(&s.reg, (size_t)found, mem);
	fclose(mem);
	ck_assert_msg(strncmp(buf, "assay " PACKAGE_VERSION "\n  file: (built in)\n", 30) == 0 &&
		      strstr(buf, "\n  reporters: human, json, csv\n"), "%s", buf);
	ck_assert_msg(strstr(buf, "\nprobe 1.0\n  file: ") &&
		      strstr(buf, "  node types: probe, probe_quick\n  resources: slot\n"), "%s", buf);
	ck_assert_ptr_null(strstr(buf, "no plugins found"));
	free(buf);
	session_release(&s);
}
END_TEST

/* The formats for the usage text: the built-in ones, nothing loaded. */
START_TEST(test_formats)
{
	char buf[64];

	ck_assert_str_eq(session_formats(buf, sizeof buf), "human, json, csv");
}
END_TEST

static Suite *session_suite(void)
{
	Suite *s = suite_create("session");
	TCase *tc = tcase_create("session");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_open_and_summary);
	tcase_add_test(tc, test_broken_sweep_placeholders);
	tcase_add_test(tc, test_best_placeholders_checked);
	tcase_add_test(tc, test_open_collects_errors);
	tcase_add_test(tc, test_plugin_path_from_the_file);
	tcase_add_test(tc, test_select);
	tcase_add_test(tc, test_report_targets);
	tcase_add_test(tc, test_run_report_and_run_again);
	tcase_add_test(tc, test_print_graph);
	tcase_add_test(tc, test_every_plugin_listed);
	tcase_add_test(tc, test_formats);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(session_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
