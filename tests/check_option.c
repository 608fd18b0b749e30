/* check_option.c -- Check suite for core/option.c and value_path(): options checked with the host's wording, through the host table too, and paths read relative to the config file. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "option.h"
#include "value.h"

static toml_doc *doc;
static value_tree tree;
static diag d;

/* The values of text, as if read from file. */
static const assay_value *parse(const char *text, const char *file)
{
	doc = toml_parse(text, strlen(text), NULL);
	ck_assert_ptr_nonnull(doc);
	memset(&d, 0, sizeof d);
	ck_assert_int_eq(value_tree_build(&tree, toml_doc_root(doc), file, &d), 0);
	return &tree.root;
}

static void teardown(void)
{
	value_tree_release(&tree);
	toml_doc_free(doc);
	diag_release(&d);
	doc = NULL;
}

/* The only diagnostic so far, and none after it. */
static void ck_error(const char *want)
{
	ck_assert_uint_eq(d.n, 1);
	ck_assert_str_eq(d.lines[0], want);
	diag_release(&d);
}

static const assay_value *get(const char *key)
{
	const assay_value *v = value_get(&tree.root, key);

	ck_assert_ptr_nonnull(v);
	return v;
}

START_TEST(durations)
{
	int64_t ms = -1;

	parse("a = \"1m30s\"\nb = 0\nc = \"soon\"\nd = true\ne = \"2h\"\nf = 1e13\ng = \"1s\"\n", "c.toml");
	ck_assert_int_eq(option_duration(get("a"), NULL, 1, INT64_MAX, &ms), 0);
	ck_assert_int_eq(ms, 90000);
	ck_assert_int_eq(option_duration(get("b"), NULL, 0, INT64_MAX, &ms), 0);
	ck_assert_int_eq(ms, 0);
	ck_assert_uint_eq(d.n, 0);

	ck_assert_int_eq(option_duration(get("b"), NULL, 1, INT64_MAX, &ms), ASSAY_EINVAL);
	ck_error("c.toml:2:5: `b` must be longer than 0");
	ck_assert_int_eq(option_duration(get("c"), "kill_grace", 0, INT64_MAX, &ms), ASSAY_EINVAL);
	ck_error("c.toml:3:5: `kill_grace` is not a duration: \"soon\" (write e.g. \"30s\", \"500ms\", \"2m\", \"1h30m\")");
	ck_assert_int_eq(option_duration(get("d"), NULL, 0, INT64_MAX, &ms), ASSAY_EINVAL);
	ck_error("c.toml:4:5: `d` must be a duration such as \"30s\" or a number of seconds, not boolean");
	ck_assert_int_eq(option_duration(get("e"), NULL, 0, 3600000, &ms), ASSAY_EINVAL);
	ck_error("c.toml:5:5: `e` must be at most 1h, not 2h");
	ck_assert_int_eq(option_duration(get("f"), NULL, 0, INT64_MAX, &ms), ASSAY_EINVAL);
	ck_error("c.toml:6:5: `f` must be a number of seconds from 0 to 9e12, not 1e+13");
	ck_assert_int_eq(option_duration(get("g"), NULL, 1500, INT64_MAX, &ms), ASSAY_EINVAL);
	ck_error("c.toml:7:5: `g` must be at least 1.5s, not 1s");
	ck_assert_int_eq(ms, 0); /* untouched by a bad value */
}
END_TEST

START_TEST(integers)
{
	int64_t n = -1;

	parse("a = 3\nb = 7\nc = \"7\"\nd = -2\n", "c.toml");
	ck_assert_int_eq(option_int(get("a"), NULL, 0, 3, &n), 0);
	ck_assert_int_eq(n, 3);
	ck_assert_int_eq(option_int(get("b"), NULL, 0, 3, &n), ASSAY_EINVAL);
	ck_error("c.toml:2:5: `b` must be between 0 and 3, not 7");
	ck_assert_int_eq(option_int(get("c"), "limits.c", 0, 3, &n), ASSAY_EINVAL);
	ck_error("c.toml:3:5: `limits.c` must be an integer, not string");
	ck_assert_int_eq(option_int(get("d"), NULL, 0, INT64_MAX, &n), ASSAY_EINVAL);
	ck_error("c.toml:4:5: `d` must be at least 0, not -2");
	ck_assert_int_eq(n, 3);
}
END_TEST

START_TEST(choices)
{
	static const char *const goals[] = { "max", "min" };
	static const char *const three[] = { "success", "failure", "always" };

	parse("a = \"min\"\nb = \"sucess\"\nc = \"never\"\nd = 1\n", "c.toml");
	ck_assert_int_eq(option_choice(get("a"), NULL, goals, 2), 1);
	ck_assert_int_eq(option_choice(get("b"), "run_if", three, 3), ASSAY_EINVAL);
	ck_error("c.toml:2:5: `run_if` must be \"success\", \"failure\" or \"always\", not \"sucess\" (did you mean \"success\"?)");
	ck_assert_int_eq(option_choice(get("c"), NULL, three, 3), ASSAY_EINVAL);
	ck_error("c.toml:3:5: `c` must be \"success\", \"failure\" or \"always\", not \"never\"");
	ck_assert_int_eq(option_choice(get("d"), NULL, goals, 2), ASSAY_EINVAL);
	ck_error("c.toml:4:5: `d` must be \"max\" or \"min\", not integer");
}
END_TEST

START_TEST(keys)
{
	static const char *const known[] = { "status", "headers" };
	const assay_value *t;

	t = get("expect");
	ck_assert_int_eq(option_key(value_at(t, 0, NULL), "`expect`", known, 2), 0);
	ck_assert_int_eq(option_key(value_at(t, 1, NULL), "`expect`", known, 2), ASSAY_EINVAL);
	/* At the key, not at its value. */
	ck_error("c.toml:3:5: unknown key `statuz` in `expect` (did you mean `status`?)");
	ck_assert_int_eq(option_key(value_at(t, 2, NULL), "`expect`", known, 2), ASSAY_EINVAL);
	ck_error("c.toml:4:1: unknown key `zzz` in `expect`");
}
END_TEST

static void keys_setup(void)
{
	parse("[expect]\nstatus = 200\n    statuz = 200\nzzz = 1\n", "c.toml");
}

START_TEST(through_the_host)
{
	static const char *const known[] = { "rate_limit", "circuit_breaker", NULL };
	static const char *const modes[] = { "plain", "monitoring-plugins", NULL };
	const assay_host *h = host_table();
	int64_t ms;

	parse("[p]\nrate_limt = 1\nmode = \"monitoring-plugins\"\nwait = \"5s\"\n", "c.toml");
	const assay_value *t = get("p");
	ck_assert_int_eq(h->check_key(value_get(t, "rate_limt"), "[plugins.http]", known), ASSAY_EINVAL);
	ck_error("c.toml:2:1: unknown key `rate_limt` in [plugins.http] (did you mean `rate_limit`?)");
	ck_assert_int_eq(h->check_choice(value_get(t, "mode"), NULL, modes), 1);
	ck_assert_int_eq(h->check_duration(value_get(t, "wait"), NULL, 1, INT64_MAX, &ms), 0);
	ck_assert_int_eq(ms, 5000);
	ck_assert_str_eq(h->suggest("convnetion", (const char *const[]){ "convention", NULL }), "convention");
	ck_assert_ptr_null(h->suggest("x", (const char *const[]){ NULL }));
	ck_assert_int_eq(h->status_worse(ASSAY_UNKNOWN, ASSAY_WARNING), ASSAY_WARNING);
}
END_TEST

START_TEST(paths)
{
	static const struct { const char *file, *path, *want; } cases[] = {
		{ "conf/c.toml", "items.txt", "conf/items.txt" },
		{ "conf/c.toml", "/abs/items.txt", "/abs/items.txt" },
		{ "c.toml", "items.txt", "items.txt" },
		{ "/c.toml", "items.txt", "/items.txt" },
		{ "/etc/assay/c.toml", "../x", "/etc/assay/../x" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char *p;

		parse("a = 1\n", cases[i].file);
		p = value_path(get("a"), cases[i].path);
		ck_assert_str_eq(p, cases[i].want);
		free(p);
		p = host_table()->config_path(get("a"), cases[i].path);
		ck_assert_str_eq(p, cases[i].want);
		free(p);
		teardown();
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("option");
	TCase *t = tcase_create("option"), *k = tcase_create("keys"), *p = tcase_create("paths");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(t, NULL, teardown);
	tcase_add_test(t, durations);
	tcase_add_test(t, integers);
	tcase_add_test(t, choices);
	tcase_add_test(t, through_the_host);
	suite_add_tcase(s, t);
	tcase_add_checked_fixture(k, keys_setup, teardown);
	tcase_add_test(k, keys);
	suite_add_tcase(s, k);
	tcase_add_test(p, paths);
	suite_add_tcase(s, p);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
