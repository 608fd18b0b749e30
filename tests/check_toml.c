/* check_toml.c -- unit tests for core/toml.c: API, positions, errors, bounds. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* mkstemp(), fdopen(), strdup() under -std=c11 */
#endif
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "toml.h"

/* Parses a private copy of exactly n bytes, so that ASan catches any read
 * past the end and the tree is shown not to point into the text. */
static toml_doc *parse_n(const char *s, size_t n, toml_error *err)
{
	char *buf = malloc(n ? n : 1);
	toml_doc *doc;

	ck_assert_ptr_nonnull(buf);
	if (n)
		memcpy(buf, s, n);
	doc = toml_parse(buf, n, err);
	if (n)
		memset(buf, '#', n);
	free(buf);
	return doc;
}

static toml_doc *parse(const char *s)
{
	toml_error err;
	toml_doc *doc = parse_n(s, strlen(s), &err);

	ck_assert_msg(doc != NULL, "%u:%u: %s", err.pos.line, err.pos.column,
		      err.message);
	return doc;
}

#define ck_pos(p, l, c)                                                        \
	do {                                                                   \
		toml_pos p_ = (p);                                             \
		ck_assert_msg(p_.line == (l) && p_.column == (c),              \
			      "position %u:%u, expected %u:%u", p_.line,       \
			      p_.column, (unsigned)(l), (unsigned)(c));        \
	} while (0)

static const toml_value *path(const toml_doc *doc, const char *p)
{
	const toml_value *v = toml_table_get_path(toml_doc_root(doc), p);

	ck_assert_msg(v != NULL, "no %s", p);
	return v;
}

static int64_t int_at(const toml_doc *doc, const char *p)
{
	int64_t n = 0;

	ck_assert(toml_value_int(path(doc, p), &n));
	return n;
}

/* Visits every value through the public getters; returns their count. */
static size_t walk(const toml_value *v)
{
	size_t i, n = 1, len;
	const char *key, *s;
	toml_datetime dt;
	toml_pos pos;
	double f;

	pos = toml_value_pos(v);
	ck_assert(pos.line >= 1 && pos.column >= 1);
	switch (toml_value_type(v)) {
	case TOML_TABLE:
		for (i = 0; i < toml_table_len(v); i++) {
			const toml_value *c = toml_table_at(v, i, &key, &pos);

			ck_assert_ptr_nonnull(c);
			ck_assert(pos.line >= 1 && pos.column >= 1);
			if (strlen(key) == toml_table_key_len(v, i))
				ck_assert_ptr_eq(toml_table_get(v, key), c);
			n += walk(c);
		}
		break;
	case TOML_ARRAY:
		for (i = 0; i < toml_array_len(v); i++)
			n += walk(toml_array_at(v, i));
		break;
	case TOML_STRING:
		s = toml_value_string(v, &len);
		ck_assert(s && s[len] == '\0');
		break;
	case TOML_INTEGER:
	case TOML_FLOAT:
		ck_assert(toml_value_float(v, &f));
		break;
	case TOML_BOOLEAN:
		break;
	default:
		ck_assert(toml_value_datetime(v, &dt));
	}
	return n;
}

/* --- the API --- */

static const char config[] =
	"# a config\n"
	"title = \"assay\"\n"
	"port = 8080\n"
	"ratio = 0.25\n"
	"debug = true\n"
	"when = 1979-05-27T07:32:00.5-07:00\n"
	"tags = [\"a\", \"b\"]\n"
	"[runner]\n"
	"jobs = 64\n"
	"timeout = \"60s\"\n"
	"[runner.limits]\n"
	"cpu = 4\n";

START_TEST(test_getters)
{
	toml_doc *doc = parse(config);
	const toml_value *root = toml_doc_root(doc), *a;
	int64_t n = 7;
	double f = 0;
	bool b = false;

	ck_assert_int_eq(toml_value_type(root), TOML_TABLE);
	ck_assert_uint_eq(toml_table_len(root), 7);

	ck_assert_str_eq(toml_value_string(toml_table_get(root, "title"), NULL), "assay");
	ck_pos(toml_value_pos(toml_table_get(root, "title")), 2, 9);
	ck_assert(toml_value_int(toml_table_get(root, "port"), &n));
	ck_assert_int_eq(n, 8080);
	ck_assert(toml_value_float(toml_table_get(root, "ratio"), &f));
	ck_assert(f == 0.25);
	/* An integer reads as a float too. */
	ck_assert(toml_value_float(toml_table_get(root, "port"), &f));
	ck_assert(f == 8080.0);
	ck_assert(toml_value_bool(toml_table_get(root, "debug"), &b));
	ck_assert(b);
	ck_assert_int_eq(toml_value_type(toml_table_get(root, "runner")), TOML_TABLE);
	ck_assert_int_eq(toml_value_type(toml_table_get(root, "when")), TOML_OFFSET_DATETIME);
	a = toml_table_get(root, "tags");
	ck_assert_int_eq(toml_value_type(a), TOML_ARRAY);
	ck_assert_uint_eq(toml_array_len(a), 2);
	ck_assert_str_eq(toml_value_string(toml_array_at(a, 1), NULL), "b");
	ck_assert_ptr_null(toml_array_at(a, 2));

	/* The scalar getters refuse other types and leave *out alone. */
	n = 7;
	ck_assert(!toml_value_int(toml_table_get(root, "ratio"), &n));
	ck_assert_int_eq(n, 7);
	ck_assert(!toml_value_bool(toml_table_get(root, "port"), &b));
	ck_assert(!toml_value_float(toml_table_get(root, "title"), &f));
	ck_assert_ptr_null(toml_value_string(toml_table_get(root, "port"), NULL));
	ck_assert_ptr_null(toml_table_get(root, "nope"));
	ck_assert_ptr_null(toml_table_at(root, 7, NULL, NULL));
	ck_assert_ptr_null(toml_table_at(toml_table_get(root, "port"), 0, NULL, NULL));
	ck_assert_uint_eq(toml_table_len(toml_table_get(root, "port")), 0);
	ck_assert_uint_eq(toml_array_len(root), 0);

	toml_doc_free(doc);
	toml_doc_free(NULL);
}
END_TEST

START_TEST(test_get_path)
{
	toml_doc *doc = parse(config);
	const toml_value *root = toml_doc_root(doc);
	toml_doc *d2;

	ck_assert_int_eq(int_at(doc, "runner.jobs"), 64);
	ck_assert_int_eq(int_at(doc, "runner.limits.cpu"), 4);
	ck_assert_ptr_eq(path(doc, "runner.limits"),
			 toml_table_get(toml_table_get(root, "runner"), "limits"));
	ck_assert_ptr_null(toml_table_get_path(root, "runner.nope"));
	ck_assert_ptr_null(toml_table_get_path(root, "port.x"));
	ck_assert_ptr_null(toml_table_get_path(root, "runner..jobs"));
	toml_doc_free(doc);

	/* A key holding '.' is not a path. */
	d2 = parse("\"a.b\" = 1\na.b = 2\n");
	ck_assert_int_eq(int_at(d2, "a.b"), 2);
	ck_assert_ptr_nonnull(toml_table_get(toml_doc_root(d2), "a.b"));
	ck_assert_int_eq(toml_value_type(toml_table_get(toml_doc_root(d2), "a")),
			 TOML_TABLE);
	toml_doc_free(d2);
}
END_TEST

START_TEST(test_type_names)
{
	static const char *names[] = { "table", "array", "string", "integer",
				       "float", "boolean", "offset date-time",
				       "local date-time", "local date",
				       "local time" };
	int t;

	for (t = TOML_TABLE; t <= TOML_LOCAL_TIME; t++)
		ck_assert_str_eq(toml_type_name((toml_type)t), names[t - 1]);
}
END_TEST

static void check_dt(const toml_value *v, toml_type type, int y, int mo,
		     int d, int h, int mi, int s, int ns, int off)
{
	toml_datetime dt;

	ck_assert_int_eq(toml_value_type(v), type);
	ck_assert(toml_value_datetime(v, &dt));
	ck_assert_int_eq(dt.year, y);
	ck_assert_int_eq(dt.month, mo);
	ck_assert_int_eq(dt.day, d);
	ck_assert_int_eq(dt.hour, h);
	ck_assert_int_eq(dt.minute, mi);
	ck_assert_int_eq(dt.second, s);
	ck_assert_int_eq(dt.nanosecond, ns);
	ck_assert_int_eq(dt.offset_minutes, off);
}

START_TEST(test_datetimes)
{
	toml_doc *doc = parse("a = 1979-05-27T07:32:00Z\n"
			      "b = 1979-05-27 00:32:00.999999-07:30\n"
			      "c = 1979-05-27t07:32:00.5z\n"
			      "d = 1979-05-27T07:32:00\n"
			      "e = 1979-05-27\n"
			      "f = 07:32:00.123456789123\n"
			      "g = 2000-02-29T23:59:60+14:00\n"
			      "h = 00:00:00.001\n");
	const toml_value *root = toml_doc_root(doc);
	toml_datetime dt;

	check_dt(path(doc, "a"), TOML_OFFSET_DATETIME, 1979, 5, 27, 7, 32, 0, 0, 0);
	check_dt(path(doc, "b"), TOML_OFFSET_DATETIME, 1979, 5, 27, 0, 32, 0,
		 999999000, -450);
	check_dt(path(doc, "c"), TOML_OFFSET_DATETIME, 1979, 5, 27, 7, 32, 0,
		 500000000, 0);
	check_dt(path(doc, "d"), TOML_LOCAL_DATETIME, 1979, 5, 27, 7, 32, 0, 0, 0);
	check_dt(path(doc, "e"), TOML_LOCAL_DATE, 1979, 5, 27, 0, 0, 0, 0, 0);
	check_dt(path(doc, "f"), TOML_LOCAL_TIME, 0, 0, 0, 7, 32, 0, 123456789, 0);
	check_dt(path(doc, "g"), TOML_OFFSET_DATETIME, 2000, 2, 29, 23, 59, 60, 0,
		 840);
	check_dt(path(doc, "h"), TOML_LOCAL_TIME, 0, 0, 0, 0, 0, 0, 1000000, 0);
	ck_assert(!toml_value_datetime(root, &dt));
	toml_doc_free(doc);
}
END_TEST

START_TEST(test_numbers)
{
	toml_doc *doc = parse("min = -9223372036854775808\n"
			      "max = 9223372036854775807\n"
			      "hex = 0x7FFF_ffff_FFFF_FFFF\n"
			      "oct = 0o755\n"
			      "bin = 0b1101_0110\n"
			      "us = 1_000_000\n"
			      "zero = -0\n"
			      "f1 = 0.1\n"
			      "f2 = -1_000.5e-3\n"
			      "f3 = 1e300\n"
			      "f4 = 5e-324\n"
			      "f5 = 3.141592653589793238462643383279\n"
			      "f6 = 0e10\n"
			      "f7 = 1E+2\n"
			      "inf1 = inf\ninf2 = -inf\ninf3 = +inf\n"
			      "nan1 = nan\nnan2 = -nan\n");
	double f;

	ck_assert(int_at(doc, "min") == INT64_MIN);
	ck_assert(int_at(doc, "max") == INT64_MAX);
	ck_assert(int_at(doc, "hex") == INT64_MAX);
	ck_assert_int_eq(int_at(doc, "oct"), 0755);
	ck_assert_int_eq(int_at(doc, "bin"), 0xD6);
	ck_assert_int_eq(int_at(doc, "us"), 1000000);
	ck_assert_int_eq(int_at(doc, "zero"), 0);
	ck_assert(toml_value_float(path(doc, "f1"), &f) && f == 0.1);
	ck_assert(toml_value_float(path(doc, "f2"), &f) && f == -1.0005);
	ck_assert(toml_value_float(path(doc, "f3"), &f) && f == 1e300);
	ck_assert(toml_value_float(path(doc, "f4"), &f) && f == 5e-324);
	ck_assert(toml_value_float(path(doc, "f5"), &f) && f == 3.141592653589793);
	ck_assert(toml_value_float(path(doc, "f6"), &f) && f == 0);
	ck_assert(toml_value_float(path(doc, "f7"), &f) && f == 100);
	ck_assert(toml_value_float(path(doc, "inf1"), &f) && isinf(f) && f > 0);
	ck_assert(toml_value_float(path(doc, "inf2"), &f) && isinf(f) && f < 0);
	ck_assert(toml_value_float(path(doc, "inf3"), &f) && isinf(f) && f > 0);
	ck_assert(toml_value_float(path(doc, "nan1"), &f) && isnan(f));
	ck_assert(toml_value_float(path(doc, "nan2"), &f) && isnan(f));
	ck_assert_int_eq(toml_value_type(path(doc, "f6")), TOML_FLOAT);
	toml_doc_free(doc);
}
END_TEST

START_TEST(test_strings)
{
	toml_doc *doc = parse(
		"basic = \"tab\\there \\\"q\\\" \\\\ \\b\\f\\n\\r \\u00e9 \\U0001F600\"\n"
		"literal = 'C:\\path\\n'\n"
		"ml = \"\"\"\nline one\n  line two \\\n     joined\"\"\"\n"
		"crlf = \"\"\"a\r\nb\"\"\"\n"
		"quotes = \"\"\"\"one\" \"\"two\"\"\"\"\"\n"
		"mllit = '''\n'q' ''x'' \\n'''''\n"
		"nul = \"a\\u0000b\"\n"
		"short = \"1234567\"\n"
		"empty = \"\"\n"
		"\"\\u0000\" = 1\n");
	const toml_value *root = toml_doc_root(doc);
	const char *s;
	size_t len, i;

	ck_assert_str_eq(toml_value_string(path(doc, "basic"), NULL),
			 "tab\there \"q\" \\ \b\f\n\r \xC3\xA9 \xF0\x9F\x98\x80");
	ck_assert_str_eq(toml_value_string(path(doc, "literal"), NULL), "C:\\path\\n");
	ck_assert_str_eq(toml_value_string(path(doc, "ml"), NULL),
			 "line one\n  line two joined");
	ck_assert_str_eq(toml_value_string(path(doc, "crlf"), NULL), "a\nb");
	ck_assert_str_eq(toml_value_string(path(doc, "quotes"), NULL),
			 "\"one\" \"\"two\"\"");
	ck_assert_str_eq(toml_value_string(path(doc, "mllit"), NULL),
			 "'q' ''x'' \\n''");
	s = toml_value_string(path(doc, "nul"), &len);
	ck_assert_uint_eq(len, 3);
	ck_assert(memcmp(s, "a\0b", 4) == 0);
	s = toml_value_string(path(doc, "short"), &len);
	ck_assert_uint_eq(len, 7);
	ck_assert_str_eq(s, "1234567");
	s = toml_value_string(path(doc, "empty"), &len);
	ck_assert_uint_eq(len, 0);
	ck_assert_str_eq(s, "");

	/* A key holding U+0000: its length tells it from "". */
	i = toml_table_len(root) - 1;
	ck_assert_uint_eq(toml_table_key_len(root, i), 1);
	ck_assert_uint_eq(toml_table_key_len(root, 99), 0);
	toml_doc_free(doc);
}
END_TEST

START_TEST(test_document_order)
{
	toml_doc *doc = parse("z = 1\n"
			      "x.y = 1\n"
			      "x.a = 2\n"
			      "m = 3\n"
			      "[b]\n"
			      "k = 1\n"
			      "[x.c]\n" /* a header under a dotted-key table */
			      "[a]\n"
			      "[b.sub]\n"
			      "[[p]]\n"
			      "n = 1\n"
			      "[p.q]\n"
			      "[[p]]\n"
			      "n = 2\n"
			      "[[p]]\n"
			      "n = 3\n");
	const toml_value *root = toml_doc_root(doc), *p, *x;
	static const char *want[] = { "z", "x", "m", "b", "a", "p" };
	static const char *xwant[] = { "y", "a", "c" };
	const char *key;
	size_t i;

	ck_assert_uint_eq(toml_table_len(root), 6);
	for (i = 0; i < 6; i++) {
		ck_assert_ptr_nonnull(toml_table_at(root, i, &key, NULL));
		ck_assert_str_eq(key, want[i]);
	}
	x = path(doc, "x");
	ck_assert_uint_eq(toml_table_len(x), 3);
	for (i = 0; i < 3; i++) {
		toml_table_at(x, i, &key, NULL);
		ck_assert_str_eq(key, xwant[i]);
	}
	toml_table_at(path(doc, "b"), 1, &key, NULL);
	ck_assert_str_eq(key, "sub");

	p = path(doc, "p");
	ck_assert_int_eq(toml_value_type(p), TOML_ARRAY);
	ck_assert_uint_eq(toml_array_len(p), 3);
	for (i = 0; i < 3; i++) {
		const toml_value *e = toml_array_at(p, i);
		int64_t n;

		ck_assert_int_eq(toml_value_type(e), TOML_TABLE);
		ck_assert(toml_value_int(toml_table_get(e, "n"), &n));
		ck_assert_int_eq(n, (int64_t)i + 1);
	}
	ck_assert_ptr_nonnull(toml_table_get(toml_array_at(p, 0), "q"));
	ck_assert_ptr_null(toml_table_get(toml_array_at(p, 1), "q"));
	ck_pos(toml_value_pos(toml_array_at(p, 1)), 13, 1);
	toml_doc_free(doc);
}
END_TEST

/* Tables past the linear-scan size, and tables reopened after their section
 * was sealed, must still find every key. */
START_TEST(test_big_tables)
{
	size_t cap = 1 << 20, n = 0, i;
	char *text = malloc(cap), key[32];
	toml_doc *doc;
	const toml_value *root, *t;

	for (i = 0; i < 3000; i++)
		n += (size_t)snprintf(text + n, cap - n, "k%zu = %zu\n", i, i);
	for (i = 0; i < 300; i++)
		n += (size_t)snprintf(text + n, cap - n,
				      "[t%zu]\nv = %zu\n[big.s%zu]\nw = %zu\n", i,
				      i, i, i);
	doc = parse(text);
	root = toml_doc_root(doc);
	ck_assert_uint_eq(toml_table_len(root), 3000 + 300 + 1);
	for (i = 0; i < 3000; i++) {
		int64_t v;

		snprintf(key, sizeof key, "k%zu", i);
		ck_assert(toml_value_int(toml_table_get(root, key), &v));
		ck_assert_int_eq(v, (int64_t)i);
	}
	t = path(doc, "big");
	ck_assert_uint_eq(toml_table_len(t), 300);
	for (i = 0; i < 300; i++) {
		snprintf(key, sizeof key, "big.s%zu.w", i);
		ck_assert_int_eq(int_at(doc, key), (int64_t)i);
		snprintf(key, sizeof key, "t%zu.v", i);
		ck_assert_int_eq(int_at(doc, key), (int64_t)i);
	}
	ck_assert_uint_eq(walk(root), 1 + 3000 + 300 * 2 + 1 + 300 * 2);
	toml_doc_free(doc);
	free(text);
}
END_TEST

/* --- positions --- */

START_TEST(test_positions)
{
	toml_doc *doc = parse("title = \"x\"\n"
			      "[server]\n"
			      "  port = 8080\n"
			      "  a.b.c = 1\n"
			      "  inline = { x = 1, y.z = [2] }\n"
			      "u = [\"\xC3\xA9\", \"\xE6\x97\xA5\xE6\x9C\xAC\", 3]\n"
			      "\"\xE2\x82\xAC\" = true\n"
			      "[[arr]]\n"
			      " [ arr . sub ]\n"
			      "ml = \"\"\"\nx\"\"\"\n"
			      "after = 1\n");
	const toml_value *root = toml_doc_root(doc), *v, *s;
	toml_pos kp;
	const char *key;

	ck_pos(toml_value_pos(root), 1, 1);
	ck_assert(toml_table_key_pos(root, "title", &kp));
	ck_pos(kp, 1, 1);
	ck_pos(toml_value_pos(path(doc, "title")), 1, 9);
	ck_assert(!toml_table_key_pos(root, "nope", &kp));

	/* A table defined by a header is where its '[' is. */
	s = path(doc, "server");
	ck_pos(toml_value_pos(s), 2, 1);
	ck_assert(toml_table_key_pos(root, "server", &kp));
	ck_pos(kp, 2, 2);
	ck_assert(toml_table_key_pos(s, "port", &kp));
	ck_pos(kp, 3, 3);
	ck_pos(toml_value_pos(path(doc, "server.port")), 3, 10);

	/* Tables made by a dotted key start at its first key. */
	ck_pos(toml_value_pos(path(doc, "server.a")), 4, 3);
	ck_pos(toml_value_pos(path(doc, "server.a.b")), 4, 3);
	ck_assert(toml_table_key_pos(path(doc, "server.a"), "b", &kp));
	ck_pos(kp, 4, 5);
	ck_assert(toml_table_key_pos(path(doc, "server.a.b"), "c", &kp));
	ck_pos(kp, 4, 7);
	ck_pos(toml_value_pos(path(doc, "server.a.b.c")), 4, 11);

	/* An inline table is where its '{' is. */
	ck_pos(toml_value_pos(path(doc, "server.inline")), 5, 12);
	ck_assert(toml_table_key_pos(path(doc, "server.inline"), "x", &kp));
	ck_pos(kp, 5, 14);
	ck_pos(toml_value_pos(path(doc, "server.inline.x")), 5, 18);
	ck_pos(toml_value_pos(path(doc, "server.inline.y")), 5, 21);
	v = path(doc, "server.inline.y.z");
	ck_pos(toml_value_pos(v), 5, 27);
	ck_pos(toml_value_pos(toml_array_at(v, 0)), 5, 28);

	/* Columns count code points, not bytes. */
	v = path(doc, "server.u");
	ck_pos(toml_value_pos(toml_array_at(v, 0)), 6, 6);
	ck_pos(toml_value_pos(toml_array_at(v, 1)), 6, 11);
	ck_pos(toml_value_pos(toml_array_at(v, 2)), 6, 17);
	v = toml_table_at(s, toml_table_len(s) - 1, &key, &kp);
	ck_assert_str_eq(key, "\xE2\x82\xAC");
	ck_pos(kp, 7, 1);
	ck_pos(toml_value_pos(v), 7, 7);

	/* Arrays of tables: the array and each element at their headers. */
	v = path(doc, "arr");
	ck_pos(toml_value_pos(v), 8, 1);
	ck_assert(toml_table_key_pos(root, "arr", &kp));
	ck_pos(kp, 8, 3);
	v = toml_array_at(v, 0);
	ck_pos(toml_value_pos(v), 8, 1);
	ck_pos(toml_value_pos(toml_table_get(v, "sub")), 9, 2);
	ck_assert(toml_table_key_pos(v, "sub", &kp));
	ck_pos(kp, 9, 10);

	/* Lines go on counting through multi-line strings. */
	v = toml_table_get(toml_table_get(toml_array_at(path(doc, "arr"), 0), "sub"),
			   "ml");
	ck_pos(toml_value_pos(v), 10, 6);
	v = toml_table_get(toml_table_get(toml_array_at(path(doc, "arr"), 0), "sub"),
			   "after");
	ck_pos(toml_value_pos(v), 12, 9);
	toml_doc_free(doc);
}
END_TEST

/* A table made by [a.b] is defined where [a] later says so. */
START_TEST(test_implicit_then_explicit)
{
	toml_doc *doc = parse("[a.b]\nx = 1\n\n[a]\ny = 2\n");
	const toml_value *root = toml_doc_root(doc);
	toml_pos kp;

	ck_pos(toml_value_pos(path(doc, "a")), 4, 1);
	ck_assert(toml_table_key_pos(root, "a", &kp));
	ck_pos(kp, 4, 2);
	ck_pos(toml_value_pos(path(doc, "a.b")), 1, 1);
	ck_assert_int_eq(int_at(doc, "a.y"), 2);
	toml_doc_free(doc);
}
END_TEST

/* --- errors --- */

static const struct bad {
	const char *doc;
	const char *want; /* "line:col: message" */
} bad[] = {
	{ "port 8080", "1:6: expected '=' after key `port`, found '8'" },
	{ "name = 1\nname = 2", "2:1: duplicate key `name` (first defined at 1:1)" },
	{ "[a.b]\n[a.b]", "2:1: table [a.b] already defined at 1:1" },
	{ "x = {a = 1}\n[x]", "2:1: cannot extend inline table `x` (defined at 1:5)" },
	{ "x = {a = 1}\nx.b = 2", "2:1: cannot extend inline table `x` (defined at 1:5)" },
	{ "a = [1]\n[[a]]", "2:1: cannot append to static array `a` (defined at 1:5)" },
	{ "[[a]]\n[a]", "2:1: table [a] already defined as an array of tables at 1:1" },
	{ "[a]\n[[a]]", "2:1: cannot define [[a]]: table `a` already defined at 1:1" },
	{ "a = 1\n[a]", "2:1: key `a` is already defined as an integer at 1:5" },
	{ "a.b = 1\n[a]", "2:1: table [a] already defined by dotted keys at 1:1" },
	{ "[a.b]\n[a]\nb.c = 1",
	  "3:1: cannot add to table `b` with a dotted key: it was defined by a header at 1:1" },
	{ "a = 01", "1:5: leading zeros are not allowed: `01`" },
	{ "a = 1__0", "1:5: underscores must sit between digits: `1__0`" },
	{ "a = 1.", "1:5: expected a digit after the decimal point: `1.`" },
	{ "a = 9223372036854775808", "1:5: integer `9223372036854775808` does not fit in 64 bits" },
	{ "a = -9223372036854775809", "1:5: integer `-9223372036854775809` does not fit in 64 bits" },
	{ "a = 0x8000000000000000", "1:5: integer `0x8000000000000000` does not fit in 64 bits" },
	{ "a = -0x1", "1:5: a sign is not allowed on a hexadecimal, octal or binary integer: `-0x1`" },
	{ "a = \"\\q\"", "1:6: invalid escape sequence '\\q'" },
	{ "a = \"\\uD800\"", "1:6: invalid escape '\\uD800': U+D800 is not a Unicode scalar value" },
	{ "a = \"\\U00110000\"", "1:6: invalid escape '\\U00110000': U+110000 is not a Unicode scalar value" },
	{ "a = \"\\u12\"", "1:6: invalid escape '\\u': expected 4 hexadecimal digits" },
	{ "a = \"x\x01\"", "1:7: control character U+0001 in string: write it as an escape" },
	{ "a = \"x\x7f\"", "1:7: control character U+007F in string: write it as an escape" },
	{ "a = 'x\x08'", "1:7: control character U+0008 in string: write it as an escape" },
	{ "# ok\t\xC3\xA9\n# x\x7f", "2:4: control character U+007F in comment" },
	{ "a = 1\rb = 2", "1:6: carriage return not followed by a newline" },
	{ "a = \"\xC0\xAF\"", "1:6: invalid UTF-8 byte 0xC0 in string" }, /* overlong */
	{ "a = \"\xED\xA0\x80\"", "1:6: invalid UTF-8 byte 0xED in string" }, /* surrogate */
	{ "a = \"\xF4\x90\x80\x80\"", "1:6: invalid UTF-8 byte 0xF4 in string" }, /* > U+10FFFF */
	{ "a = \"\xE2\x82\"", "1:6: invalid UTF-8 byte 0xE2 in string" }, /* cut short */
	{ "a = \"\xE2\x82", "1:6: invalid UTF-8 byte 0xE2 in string" }, /* at the end */
	{ "# \xFF", "1:3: invalid UTF-8 byte 0xFF in comment" },
	{ "a = \"abc", "1:5: unterminated string" },
	{ "a = \"abc\nb = 1", "1:9: unterminated string: newline before the closing quote (string opened at 1:5)" },
	{ "a = \"\"\"x\n\n", "1:5: unterminated multi-line string" },
	{ "a = '''x''''''", "1:14: too many quotes at the end of a multi-line string" },
	{ "a = \"\"\"x\\ y\"\"\"",
	  "1:9: invalid escape '\\ ': only a backslash at the end of a line may be followed by whitespace" },
	{ "a = [1, 2", "1:5: unterminated array: no closing ']'" },
	{ "a = [1 2]", "1:8: expected ',' or ']' after an array element, found '2'" },
	{ "a = {b = 1,}", "1:12: trailing comma not allowed in an inline table" },
	{ "a = {b = 1\n}",
	  "1:11: expected ',' or '}' in inline table, found end of line (an inline table must fit on one line)" },
	{ "a = {b = 1, b = 2}", "1:13: duplicate key `b` (first defined at 1:6)" },
	{ "a = 2023-02-29", "1:5: invalid date `2023-02-29`: 2023-02 has no day 29" },
	{ "a = 2023-13-01", "1:5: invalid date `2023-13-01`: month 13 is out of range" },
	{ "a = 24:00:00", "1:5: invalid time `24:00:00`: 24:00:00 is out of range" },
	{ "a = 1979-05-27T07:32Z", "1:5: invalid date-time `1979-05-27T07:32Z`: expected YYYY-MM-DDTHH:MM:SS" },
	{ "a = tru", "1:5: invalid value `tru` (strings must be quoted)" },
	{ "a =", "1:4: expected a value after '=' for key `a`, found end of input" },
	{ "a = 1 b", "1:7: expected end of line after the value of key `a`, found 'b'" },
	{ "[a] b", "1:5: expected end of line after the table header [a], found 'b'" },
	{ "[a", "1:3: expected ']' to close the header [a, found end of input" },
	{ "= 1", "1:1: expected a key or a [table], found '='" },
	{ "a. = 1", "1:4: expected a key after '.', found '='" },
	{ "\"\"\"k\"\"\" = 1", "1:1: a multi-line string cannot be a key" },
	{ "\"\xC3\xA9\" = 1 x", "1:9: expected end of line after the value of key `\"\xC3\xA9\"`, found 'x'" },
	{ "a = \"\xE6\x97\xA5\xE6\x9C\xAC\" \x01", "1:10: expected end of line after the value of key `a`, found control character U+0001" },
};

START_TEST(test_errors)
{
	const struct bad *b = &bad[_i];
	toml_error err;
	toml_doc *doc;
	char got[300];

	memset(&err, 0, sizeof err);
	doc = parse_n(b->doc, strlen(b->doc), &err);
	ck_assert_msg(doc == NULL, "accepted: %s", b->doc);
	snprintf(got, sizeof got, "%u:%u: %s", err.pos.line, err.pos.column,
		 err.message);
	ck_assert_str_eq(got, b->want);
}
END_TEST

static char *repeat(const char *head, const char *unit, size_t n,
		    const char *tail)
{
	size_t h = strlen(head), u = strlen(unit), t = strlen(tail), i;
	char *s = malloc(h + u * n + t + 1), *o = s;

	memcpy(o, head, h);
	o += h;
	for (i = 0; i < n; i++, o += u)
		memcpy(o, unit, u);
	memcpy(o, tail, t + 1);
	return s;
}

static void expect_error(const char *text, const char *want)
{
	toml_error err;
	toml_doc *doc = parse_n(text, strlen(text), &err);
	char got[300];

	ck_assert_ptr_null(doc);
	snprintf(got, sizeof got, "%u:%u: %s", err.pos.line, err.pos.column,
		 err.message);
	ck_assert_str_eq(got, want);
}

START_TEST(test_depth)
{
	char *s = repeat("a = ", "[", 100000, "");
	toml_doc *doc;

	expect_error(s, "1:261: nesting deeper than 256 levels");
	free(s);
	s = repeat("a = ", "{b=", 100000, "");
	expect_error(s, "1:773: nesting deeper than 256 levels");
	free(s);
	s = repeat("[a", ".a", 300, "]");
	expect_error(s, "1:1: nesting deeper than 256 levels");
	free(s);
	s = repeat("a", ".a", 300, " = 1");
	expect_error(s, "1:1: nesting deeper than 256 levels");
	free(s);

	/* 256 levels are fine. */
	s = repeat("a = ", "[", 256, "");
	s = realloc(s, strlen(s) + 257);
	memset(s + strlen(s), ']', 256);
	s[4 + 512] = '\0';
	doc = parse(s);
	ck_assert_uint_eq(walk(toml_doc_root(doc)), 1 + 256);
	toml_doc_free(doc);
	free(s);
}
END_TEST

/* --- files --- */

START_TEST(test_parse_file)
{
	char file[] = "/tmp/check_toml.XXXXXX";
	toml_error err;
	toml_doc *doc;
	size_t i, n = 0, cap = 4 << 20;
	char *text = malloc(cap), want[64];
	int fd;
	FILE *f;

	doc = toml_parse_file("/nonexistent/dir/assay.toml", &err);
	ck_assert_ptr_null(doc);
	ck_pos(err.pos, 0, 0);
	ck_assert_str_eq(err.message, "cannot open /nonexistent/dir/assay.toml: No such file or directory");

	doc = toml_parse_file("/", &err);
	ck_assert_ptr_null(doc);
	ck_assert_str_eq(err.message, "cannot read /: Is a directory");

	/* Big enough that toml_parse_file() hands text back as it goes. */
	for (i = 0; n < 3 << 20; i++)
		n += (size_t)snprintf(text + n, cap - n,
				      "[[item]]\nid = %zu\nname = \"item \\\"%zu\\\"\"\n"
				      "ml = \"\"\"\nx\ny\"\"\"\n", i, i);
	fd = mkstemp(file);
	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	fwrite(text, 1, n, f);
	fclose(f);
	doc = toml_parse_file(file, &err);
	ck_assert_msg(doc != NULL, "%s", err.message);
	ck_assert_uint_eq(toml_array_len(path(doc, "item")), i);
	snprintf(want, sizeof want, "item \"%zu\"", i - 1);
	ck_assert_str_eq(toml_value_string(toml_table_get(toml_array_at(path(doc, "item"), i - 1),
							 "name"), NULL), want);
	toml_doc_free(doc);

	/* A bad line far into a big file still has its place. */
	f = fopen(file, "a");
	fputs("oops\n", f);
	fclose(f);
	doc = toml_parse_file(file, &err);
	ck_assert_ptr_null(doc);
	ck_assert_uint_eq(err.pos.line, 6 * i + 1);
	ck_assert_uint_eq(err.pos.column, 5);
	unlink(file);
	free(text);
}
END_TEST

/* --- bounds --- */

static const char rich[] =
	"\xEF\xBB\xBF# every kind of value\n"
	"title = \"TOML \\\"x\\\" \\u00e9\"\n"
	"lit = 'C:\\x'\n"
	"ml = \"\"\"\r\n  a \\\n  b \"\"\"\"\n"
	"mll = '''\nraw ''line'''\n"
	"int = -0x0\n" /* invalid: checks a failing prefix too */
	"[owner]\n"
	"name = \"Tom\"\n"
	"dob = 1979-05-27T07:32:00.123456-08:00\n"
	"[database]\n"
	"ports = [ 8000, 8001, 8002 ]\n"
	"data = [ [\"delta\", \"phi\"], [3.14, -inf, nan] ]\n"
	"temp = { cpu = 79.5, case.x = 72.0 }\n"
	"a.b.\"c d\" = 1_000\n"
	"[[products]]\n"
	"name = \"Hammer\"\n"
	"sku = 738594937\n"
	"[[products]]  # empty\n"
	"[products.sub]\n"
	"t = 07:32:00\n"
	"d = 1979-05-27\n"
	"e = 0b1_0\n"
	"f = 6.626e-34\n";

START_TEST(test_not_past_len)
{
	toml_error err;
	toml_doc *doc;

	/* What lies past len must not count. */
	doc = parse_n("a = 12345", 6, &err);
	ck_assert_ptr_nonnull(doc);
	ck_assert_int_eq(int_at(doc, "a"), 12);
	toml_doc_free(doc);
	doc = parse_n("a = 1979-05-27T07:32:00Z", 14, &err);
	ck_assert_ptr_nonnull(doc);
	ck_assert_int_eq(toml_value_type(path(doc, "a")), TOML_LOCAL_DATE);
	toml_doc_free(doc);
	ck_assert_ptr_null(parse_n("a = \"abc\"", 8, &err));
	ck_assert_str_eq(err.message, "unterminated string");
	ck_assert_ptr_null(parse_n("a = true", 7, &err));
	ck_assert_ptr_null(parse_n("a = \"\\u00e9\"", 9, &err));
	ck_assert_ptr_null(parse_n("a = \"\xC3\xA9\"", 6, &err));
	ck_assert_ptr_null(parse_n("a = 1\r\n", 6, &err));
	ck_assert_str_eq(err.message, "carriage return not followed by a newline");
	doc = parse_n(NULL, 0, &err);
	ck_assert_ptr_nonnull(doc);
	ck_assert_uint_eq(toml_table_len(toml_doc_root(doc)), 0);
	toml_doc_free(doc);
	doc = toml_parse(NULL, 0, NULL);
	ck_assert_ptr_nonnull(doc);
	toml_doc_free(doc);
}
END_TEST

START_TEST(test_truncated)
{
	size_t n = strlen(rich), len, ok = 0;
	char *fixed = strdup(rich), *p = strstr(fixed, "-0x0");

	/* Every prefix, of the broken and of the fixed document, either parses
	 * or fails with a position. */
	memcpy(p, "  +0", 4);
	for (len = 0; len <= n; len++) {
		const char *texts[] = { rich, fixed };
		int k;

		for (k = 0; k < 2; k++) {
			toml_error err;
			toml_doc *doc;

			memset(&err, 0, sizeof err);
			doc = parse_n(texts[k], len, &err);
			if (doc) {
				walk(toml_doc_root(doc));
				toml_doc_free(doc);
				ok++;
			} else {
				ck_assert_uint_ge(err.pos.line, 1);
				ck_assert_uint_ge(err.pos.column, 1);
				ck_assert(err.message[0] != '\0');
			}
		}
	}
	ck_assert_uint_gt(ok, 10);
	/* The fixed one parses whole. */
	{
		toml_doc *doc = parse(fixed);

		ck_assert_uint_eq(toml_array_len(path(doc, "products")), 2);
		ck_assert_str_eq(toml_value_string(path(doc, "ml"), NULL), "  a b \"");
		toml_doc_free(doc);
	}
	free(fixed);
}
END_TEST

static Suite *toml_suite(void)
{
	Suite *s = suite_create("toml");
	TCase *tc;

	tc = tcase_create("api");
	tcase_add_test(tc, test_getters);
	tcase_add_test(tc, test_get_path);
	tcase_add_test(tc, test_type_names);
	tcase_add_test(tc, test_datetimes);
	tcase_add_test(tc, test_numbers);
	tcase_add_test(tc, test_strings);
	tcase_add_test(tc, test_document_order);
	tcase_add_test(tc, test_big_tables);
	suite_add_tcase(s, tc);

	tc = tcase_create("positions");
	tcase_add_test(tc, test_positions);
	tcase_add_test(tc, test_implicit_then_explicit);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_loop_test(tc, test_errors, 0, (int)(sizeof bad / sizeof bad[0]));
	tcase_add_test(tc, test_depth);
	suite_add_tcase(s, tc);

	tc = tcase_create("io");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_parse_file);
	tcase_add_test(tc, test_not_past_len);
	tcase_add_test(tc, test_truncated);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(toml_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
