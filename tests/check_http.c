/* check_http.c -- Check suite for the http plugin's pure logic (status classes, JSON paths and assertions, token bucket, circuit breaker, Retry-After, quoting, masking), compiled from its sources: no host but the mask, no network. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "mask.h"

/* ---- helpers ------------------------------------------------------------ */

static char *quoted(const char *s, size_t n, size_t max)
{
	static char out[1024];
	http_buf b = { 0 };

	ck_assert_int_eq(http_quote(&b, s, n, max), 0);
	snprintf(out, sizeof out, "%s", http_buf_str(&b));
	http_buf_release(&b);
	return out;
}

/* One assertion, given as JSON config {"path": ..., "exists": ..., ...}
 * the way prepare builds it; evaluated against doc.  Returns the failure
 * text ("" when it holds) in a static buffer. */
static const char *eval(const char *path, const char *doc, void (*setup)(http_json_check *))
{
	static char out[2048];
	http_json_check c = { .exists = -1 };
	const char *why = NULL;
	http_buf fails = { 0 };
	cJSON *root = cJSON_Parse(doc);

	ck_assert_ptr_nonnull(root);
	ck_assert_int_eq(http_json_path_parse(path, &c.steps, &c.n_steps, &why), 0);
	c.path = strdup(path);
	setup(&c);
	unsigned n = http_json_check_eval(&c, root, NULL, &fails);
	snprintf(out, sizeof out, "%s", http_buf_str(&fails));
	ck_assert_uint_eq(n == 0, out[0] == '\0');
	http_buf_release(&fails);
	http_json_check_release(&c);
	cJSON_Delete(root);
	return out;
}

static const char *doc =
	"{\"enabled\": true, \"count\": 3, \"ratio\": 0.5, \"name\": \"h\\u00e9llo\","
	" \"nothing\": null, \"items\": [{\"name\": \"a\"}, {\"name\": \"b\"}],"
	" \"nested\": {\"a.b\": {\"c\": [10, 20]}}, \"empty\": {}}";

/* ---- text ----------------------------------------------------------------- */

START_TEST(buf_grows_and_formats)
{
	http_buf b = { 0 };
	char big[1000];

	ck_assert_str_eq(http_buf_str(&b), "");
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	ck_assert_int_eq(http_buf_printf(&b, "%d-%s", 42, big), 0);
	ck_assert_uint_eq(b.len, 3 + sizeof big - 1);
	ck_assert_int_eq(strncmp(b.data, "42-xxx", 6), 0);
	char *s = http_buf_take(&b);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(strlen(s), b.len + 1002);
	free(s);
	s = http_buf_take(&b); /* empty: "" not NULL */
	ck_assert_str_eq(s, "");
	free(s);
}
END_TEST

START_TEST(quote_escapes_and_cuts)
{
	ck_assert_str_eq(quoted("a\"b\\c", 5, 200), "\"a\\\"b\\\\c\"");
	ck_assert_str_eq(quoted("l1\nl2\r\t", 7, 200), "\"l1\\nl2\\r\\t\"");
	ck_assert_str_eq(quoted("\x01\x7f\0z", 4, 200), "\"\\x01\\x7f\\x00z\"");
	/* Valid UTF-8 is kept; a stray continuation byte or a truncated
	 * sequence is escaped. */
	ck_assert_str_eq(quoted("h\xc3\xa9llo", 6, 200), "\"h\xc3\xa9llo\"");
	ck_assert_str_eq(quoted("\x80\xc3", 2, 200), "\"\\x80\\xc3\"");
	ck_assert_str_eq(quoted("\xed\xa0\x80", 3, 200), "\"\\xed\\xa0\\x80\""); /* a surrogate */
	ck_assert_str_eq(quoted("abcdef", 6, 3), "\"abc\"...");
	ck_assert_str_eq(quoted("abc", 3, 3), "\"abc\"");
	/* Never cut inside a character: the whole é is kept past max. */
	ck_assert_str_eq(quoted("ab\xc3\xa9z", 5, 3), "\"ab\xc3\xa9\"...");
}
END_TEST

START_TEST(urlencode_keeps_unreserved)
{
	http_buf b = { 0 };

	http_urlencode(&b, "a b&c=d/é~-._");
	ck_assert_str_eq(http_buf_str(&b), "a%20b%26c%3Dd%2F%C3%A9~-._");
	http_buf_release(&b);
}
END_TEST

/* The host's mask_secrets() for the masker: the host's rule
 * (core/mask.c), with no run and so no run secrets. */
static char *test_mask_secrets(const assay_task *task, const char *s, size_t n,
			       const char *const *secrets, size_t n_secrets, unsigned flags, size_t *len)
{
	(void)task;
	return mask_text(s, n, secrets, n_secrets, flags, len);
}

static const assay_host test_host = { .mask_secrets = test_mask_secrets };

/* The credentials of the node and of the request, in any case. */
START_TEST(mask_own_credentials)
{
	const char *node[] = { "abc", "Bearer abc" }, *req[] = { "q%2Fx" };
	http_masker mk = { .host = &test_host, .own = { node, req }, .n_own = { 2, 1 } };
	const char *text = "x Bearer abc y abc z ABC Q%2fX";
	size_t len;
	char *s = http_mask(&mk, text, strlen(text), 0, &len);

	ck_assert_str_eq(s, "x *** y *** z *** ***");
	ck_assert_uint_eq(len, strlen(s));
	free(s);
	/* No masker: a copy. */
	s = http_mask(NULL, "a\0abc", 5, 0, &len);
	ck_assert_uint_eq(len, 5);
	ck_assert_mem_eq(s, "a\0abc", 5);
	free(s);
}
END_TEST

/* The leak: a body quoted and cut at 200 bytes with a secret
 * across the cut, and a JSON value longer than 80 bytes. */
START_TEST(quote_masks_before_cutting)
{
	const char *secrets[] = { "S3cr3t-Tok3n-xyz" };
	http_masker mk = { .host = &test_host, .own = { secrets }, .n_own = { 1 } };
	char body[400];
	http_buf b = { 0 };

	for (int pad = 180; pad < 200; pad++) {
		snprintf(body, sizeof body, "%*s\"X-Api-Key\": \"S3cr3t-Tok3n-xyz\"}", pad, "{");
		http_quote_masked(&b, &mk, body, strlen(body), HTTP_BODY_SHOWN, 0);
		ck_assert_msg(!strstr(http_buf_str(&b), "S3cr") && !strstr(http_buf_str(&b), "Tok3n"),
			      "pad %d: %s", pad, http_buf_str(&b));
		b.len = 0;
	}
	/* A capture that ended inside the secret: masked, and shown as cut. */
	http_quote_masked(&b, &mk, "key S3cr3t-Tok", 14, HTTP_BODY_SHOWN, ASSAY_MASK_CUT_END);
	ck_assert_str_eq(http_buf_str(&b), "\"key ***\"...");
	http_buf_release(&b);

	/* A JSON value: masked as a string (the quote in the secret would be
	 * escaped once printed), then cut. */
	const char *q[] = { "pa\"ss" };
	http_masker mq = { .host = &test_host, .own = { q }, .n_own = { 1 } };
	cJSON *root = cJSON_Parse("{\"k\": \"the pa\\\"ss\", \"long\": \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxS3cr3t-Tok3n-xyz\"}");
	http_json_check c = { .exists = 0, .path = (char *)"k" };
	ck_assert_ptr_nonnull(root);
	ck_assert_int_eq(http_json_path_parse("k", &c.steps, &c.n_steps, &(const char *){ NULL }), 0);
	ck_assert_uint_eq(http_json_check_eval(&c, root, &mq, &b), 1);
	ck_assert_str_eq(http_buf_str(&b), "json k: expected to be absent, got \"the ***\"");
	http_json_steps_free(c.steps, c.n_steps);
	b.len = 0;
	c = (http_json_check){ .exists = 0, .path = (char *)"long" };
	ck_assert_int_eq(http_json_path_parse("long", &c.steps, &c.n_steps, &(const char *){ NULL }), 0);
	ck_assert_uint_eq(http_json_check_eval(&c, root, &mk, &b), 1);
	ck_assert_msg(!strstr(http_buf_str(&b), "S3cr"), "%s", http_buf_str(&b));
	http_json_steps_free(c.steps, c.n_steps);
	http_buf_release(&b);
	cJSON_Delete(root);
}
END_TEST

START_TEST(base64_vectors)
{
	static const char *const in[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar", "alice:pw" };
	static const char *const out[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy",
					   "YWxpY2U6cHc=" };

	for (size_t i = 0; i < sizeof in / sizeof *in; i++) {
		char *s = http_base64(in[i], strlen(in[i]));
		ck_assert_str_eq(s, out[i]);
		free(s);
	}
}
END_TEST

START_TEST(seconds)
{
	char buf[32];

	http_seconds(5000, buf, sizeof buf);
	ck_assert_str_eq(buf, "5");
	http_seconds(1500, buf, sizeof buf);
	ck_assert_str_eq(buf, "1.5");
	http_seconds(250, buf, sizeof buf);
	ck_assert_str_eq(buf, "0.25");
	http_seconds(1, buf, sizeof buf);
	ck_assert_str_eq(buf, "0.001");
}
END_TEST

/* ---- headers and Retry-After ------------------------------------------------ */

START_TEST(header_find)
{
	const char *block = "HTTP/1.1 200 OK\r\nContent-Type:  text/html \r\nSet-Cookie: a=1\r\n"
			    "set-cookie: b=2\r\nX-Empty:\r\n\r\n";
	size_t n = strlen(block), len;
	const char *v = http_header_find(block, n, "content-type", NULL, &len);

	ck_assert_ptr_nonnull(v);
	ck_assert_int_eq((int)len, 9);
	ck_assert_int_eq(strncmp(v, "text/html", len), 0);
	v = http_header_find(block, n, "Set-Cookie", NULL, &len);
	ck_assert_int_eq(strncmp(v, "a=1", len), 0);
	v = http_header_find(block, n, "Set-Cookie", v, &len);
	ck_assert_int_eq(strncmp(v, "b=2", len), 0);
	ck_assert_ptr_null(http_header_find(block, n, "Set-Cookie", v, &len));
	v = http_header_find(block, n, "X-Empty", NULL, &len);
	ck_assert_ptr_nonnull(v);
	ck_assert_uint_eq(len, 0);
	ck_assert_ptr_null(http_header_find(block, n, "Content", NULL, &len));
	ck_assert_ptr_null(http_header_find(NULL, 0, "X", NULL, &len));
}
END_TEST

static int64_t ra(const char *s, int64_t now)
{
	return http_retry_after_ms(s, strlen(s), now);
}

START_TEST(retry_after_forms)
{
	/* 784111777 is Sun, 06 Nov 1994 08:49:37 GMT. */
	const int64_t t = 784111777;

	ck_assert_int_eq(ra("120", t), 120000);
	ck_assert_int_eq(ra(" 0 ", t), 0);
	ck_assert_int_eq(ra("Sun, 06 Nov 1994 08:49:47 GMT", t), 10000);
	ck_assert_int_eq(ra("Sunday, 06-Nov-94 08:49:57 GMT", t), 20000);
	ck_assert_int_eq(ra("Sun Nov  6 08:50:37 1994", t), 60000);
	ck_assert_int_eq(ra("Sun, 06 Nov 1994 08:49:00 GMT", t), 0); /* past */
	ck_assert_int_eq(ra("-5", t), -1);
	ck_assert_int_eq(ra("1.5", t), -1);
	ck_assert_int_eq(ra("soon", t), -1);
	ck_assert_int_eq(ra("", t), -1);
	ck_assert_int_eq(ra("Sun, 06 Foo 1994 08:49:47 GMT", t), -1);
	ck_assert_int_eq(ra("Sun, 06 Nov 1994 08:49:47 GMT trailing", t), -1);
	ck_assert_int_eq(ra("99999999999999999999999", t), INT64_MAX);
}
END_TEST

START_TEST(sensitive_and_tokens)
{
	ck_assert(http_header_sensitive("authorization"));
	ck_assert(http_header_sensitive("Proxy-Authorization"));
	ck_assert(http_header_sensitive("COOKIE"));
	ck_assert(http_header_sensitive("set-cookie"));
	ck_assert(!http_header_sensitive("X-Api-Key"));
	ck_assert(http_token("X-Custom_1"));
	ck_assert(http_token("GET"));
	ck_assert(!http_token("GE T"));
	ck_assert(!http_token(""));
	ck_assert(!http_token("a:b"));
}
END_TEST

/* ---- status ------------------------------------------------------------------- */

START_TEST(status_parse_match_describe)
{
	http_status_range r[3];
	http_buf b = { 0 };

	ck_assert(http_status_parse("200", &r[0]) && r[0].lo == 200 && r[0].hi == 200);
	ck_assert(http_status_parse("2xx", &r[1]) && r[1].lo == 200 && r[1].hi == 299);
	ck_assert(http_status_parse("3XX", &r[2]) && r[2].lo == 300 && r[2].hi == 399);
	ck_assert(!http_status_parse("6xx", &r[0]));
	ck_assert(!http_status_parse("20", &r[0]));
	ck_assert(!http_status_parse("2x0", &r[0]));
	ck_assert(!http_status_parse("abc", &r[0]));
	/* The default: 2xx and 3xx. */
	ck_assert(http_status_match(NULL, 0, 204));
	ck_assert(http_status_match(NULL, 0, 302));
	ck_assert(!http_status_match(NULL, 0, 404));
	ck_assert(!http_status_match(NULL, 0, 0));
	r[0] = (http_status_range){ 200, 200 };
	r[1] = (http_status_range){ 204, 204 };
	r[2] = (http_status_range){ 400, 499 };
	ck_assert(http_status_match(r, 3, 204));
	ck_assert(http_status_match(r, 3, 418));
	ck_assert(!http_status_match(r, 3, 201));
	http_status_describe(r, 1, &b);
	ck_assert_str_eq(http_buf_str(&b), "200");
	b.len = 0;
	http_status_describe(r, 2, &b);
	ck_assert_str_eq(http_buf_str(&b), "200 or 204");
	b.len = 0;
	http_status_describe(r, 3, &b);
	ck_assert_str_eq(http_buf_str(&b), "one of 200, 204 or 4xx");
	b.len = 0;
	http_status_describe(NULL, 0, &b);
	ck_assert_str_eq(http_buf_str(&b), "2xx or 3xx");
	http_buf_release(&b);
}
END_TEST

/* ---- JSON ------------------------------------------------------------------------ */

static void path_ok(const char *path, size_t n, const char *k0, size_t i1)
{
	http_json_step *s;
	size_t got;
	const char *why = NULL;

	ck_assert_msg(http_json_path_parse(path, &s, &got, &why) == 0, "%s: %s", path, why);
	ck_assert_uint_eq(got, n);
	if (n > 0 && k0)
		ck_assert_str_eq(s[0].key, k0);
	if (n > 1 && i1 != SIZE_MAX) {
		ck_assert_ptr_null(s[1].key);
		ck_assert_uint_eq(s[1].index, i1);
	}
	http_json_steps_free(s, got);
}

static void path_bad(const char *path, const char *why_part)
{
	http_json_step *s;
	size_t got;
	const char *why = NULL;

	ck_assert_int_eq(http_json_path_parse(path, &s, &got, &why), ASSAY_EINVAL);
	ck_assert_ptr_null(s);
	ck_assert_msg(why && strstr(why, why_part), "%s: %s", path, why);
}

START_TEST(json_paths)
{
	path_ok("a", 1, "a", SIZE_MAX);
	path_ok("items[0].name", 3, "items", 0);
	path_ok("a[12][3]", 3, "a", 12);
	path_ok("$", 0, NULL, SIZE_MAX);
	path_ok("", 0, NULL, SIZE_MAX);
	path_ok("$.a.b", 2, "a", SIZE_MAX);
	path_ok("$[1]", 1, NULL, SIZE_MAX);
	path_ok("[\"a.b\"].c", 2, "a.b", SIZE_MAX);
	path_ok("x[\"q\\\"uote\"]", 2, "x", SIZE_MAX);
	path_bad("a..b", "empty key");
	path_bad("a.", "empty key");
	path_bad("a[", "index");
	path_bad("a[x]", "index");
	path_bad("a[1", "index");
	path_bad("a]", "unmatched");
	path_bad("a[\"b]", "unterminated");
	path_bad("a[\"b\"", "followed by `]`");
	path_bad("a[0]b", "expected `.`");
}
END_TEST

START_TEST(json_walk_explains)
{
	cJSON *root = cJSON_Parse(doc);
	http_json_step *s;
	size_t n;
	const char *why = NULL;
	http_buf b = { 0 };

	ck_assert_int_eq(http_json_path_parse("nested[\"a.b\"].c[1]", &s, &n, &why), 0);
	const cJSON *v = http_json_walk(root, s, n, &b);
	ck_assert(cJSON_IsNumber(v) && v->valuedouble == 20);
	http_json_steps_free(s, n);
	ck_assert_int_eq(http_json_path_parse("items[2].name", &s, &n, &why), 0);
	ck_assert_ptr_null(http_json_walk(root, s, n, &b));
	ck_assert_str_eq(http_buf_str(&b), "`items` has 2 elements");
	http_json_steps_free(s, n);
	b.len = 0;
	ck_assert_int_eq(http_json_path_parse("count.x", &s, &n, &why), 0);
	ck_assert_ptr_null(http_json_walk(root, s, n, &b));
	ck_assert_str_eq(http_buf_str(&b), "`count` is a number, not an object");
	http_json_steps_free(s, n);
	b.len = 0;
	ck_assert_int_eq(http_json_path_parse("nested[\"a.b\"].d", &s, &n, &why), 0);
	ck_assert_ptr_null(http_json_walk(root, s, n, &b));
	ck_assert_str_eq(http_buf_str(&b), "`nested[\"a.b\"]` has no member `d`");
	http_json_steps_free(s, n);
	b.len = 0;
	ck_assert_int_eq(http_json_path_parse("[0]", &s, &n, &why), 0);
	ck_assert_ptr_null(http_json_walk(root, s, n, &b));
	ck_assert_str_eq(http_buf_str(&b), "the document is an object, not an array");
	http_json_steps_free(s, n);
	http_buf_release(&b);
	cJSON_Delete(root);
}
END_TEST

static void set_equals_3(http_json_check *c) { c->equals = cJSON_CreateNumber(3); }
static void set_equals_3_0(http_json_check *c) { c->equals = cJSON_Parse("3.0"); }
static void set_equals_str(http_json_check *c) { c->equals = cJSON_CreateString("b"); }
static void set_equals_obj(http_json_check *c) { c->equals = cJSON_Parse("{\"name\":\"b\"}"); }
static void set_equals_secret(http_json_check *c)
{
	c->equals = cJSON_CreateString("tok");
	c->secret = true;
}
static void set_exists(http_json_check *c) { c->exists = 1; }
static void set_absent(http_json_check *c) { c->exists = 0; }
static void set_type_int(http_json_check *c) { c->type = HTTP_JT_INTEGER; }
static void set_type_null(http_json_check *c) { c->type = HTTP_JT_NULL; }
static void set_type_string(http_json_check *c) { c->type = HTTP_JT_STRING; }
static void set_gt5(http_json_check *c)
{
	c->has_cmp[HTTP_CMP_GT] = true;
	c->cmp[HTTP_CMP_GT] = 5;
}
static void set_range(http_json_check *c)
{
	c->has_cmp[HTTP_CMP_GE] = true;
	c->cmp[HTTP_CMP_GE] = 0.5;
	c->has_cmp[HTTP_CMP_LT] = true;
	c->cmp[HTTP_CMP_LT] = 1;
}
static void set_len2(http_json_check *c)
{
	c->has_length = true;
	c->length = 2;
}
static void set_len5(http_json_check *c)
{
	c->has_length = true;
	c->length = 5;
}
static void set_len0(http_json_check *c)
{
	c->has_length = true;
	c->length = 0;
}

START_TEST(json_assertions)
{
	ck_assert_str_eq(eval("count", doc, set_equals_3), "");
	ck_assert_str_eq(eval("count", doc, set_equals_3_0), "");
	ck_assert_str_eq(eval("items[1].name", doc, set_equals_str), "");
	ck_assert_str_eq(eval("items[0].name", doc, set_equals_str),
			 "json items[0].name: expected \"b\", got \"a\"");
	ck_assert_str_eq(eval("items[1]", doc, set_equals_obj), "");
	ck_assert_str_eq(eval("name", doc, set_equals_secret),
			 "json name: expected the configured (secret) value, got \"h\xc3\xa9llo\"");
	ck_assert_str_eq(eval("items", doc, set_exists), "");
	ck_assert_str_eq(eval("nope", doc, set_exists),
			 "json nope: missing (the document has no member `nope`)");
	ck_assert_str_eq(eval("nope", doc, set_absent), "");
	ck_assert_str_eq(eval("nothing", doc, set_absent), "json nothing: expected to be absent, got null");
	ck_assert_str_eq(eval("count", doc, set_type_int), "");
	ck_assert_str_eq(eval("ratio", doc, set_type_int),
			 "json ratio: expected type integer, got a number 0.5");
	ck_assert_str_eq(eval("nothing", doc, set_type_null), "");
	ck_assert_str_eq(eval("count", doc, set_type_string),
			 "json count: expected type string, got a number 3");
	ck_assert_str_eq(eval("count", doc, set_gt5), "json count: expected > 5, got 3");
	ck_assert_str_eq(eval("name", doc, set_gt5),
			 "json name: expected a number > 5, got \"h\xc3\xa9llo\"");
	ck_assert_str_eq(eval("ratio", doc, set_range), "");
	ck_assert_str_eq(eval("count", doc, set_range), "json count: expected < 1, got 3");
	ck_assert_str_eq(eval("items", doc, set_len2), "");
	ck_assert_str_eq(eval("name", doc, set_len5), ""); /* characters, not bytes */
	ck_assert_str_eq(eval("empty", doc, set_len0), "");
	ck_assert_str_eq(eval("nested", doc, set_len2), "json nested: expected length 2, got 1");
	ck_assert_str_eq(eval("count", doc, set_len2),
			 "json count: expected length 2, got a number 3");
	ck_assert_str_eq(eval("nothing", doc, set_type_string),
			 "json nothing: expected type string, got null null");
}
END_TEST

START_TEST(json_long_values_cut)
{
	char big[400];

	snprintf(big, sizeof big, "{\"s\": \"%0300d\"}", 7);
	const char *f = eval("s", big, set_gt5);
	ck_assert_msg(strstr(f, "...") && strlen(f) < 140, "%s", f);
}
END_TEST

START_TEST(json_type_names)
{
	ck_assert_str_eq(http_json_type_name(HTTP_JT_STRING), "string");
	ck_assert_str_eq(http_json_type_name(HTTP_JT_OBJECT), "object");
	ck_assert_str_eq(http_json_type_name(HTTP_JT_NONE), "");
	for (int t = HTTP_JT_STRING; t <= HTTP_JT_OBJECT; t++)
		ck_assert_str_eq(http_json_type_name((enum http_json_type)t),
				 http_json_type_names[t - HTTP_JT_STRING]);
	ck_assert_ptr_null(http_json_type_names[HTTP_JT_OBJECT]);
}
END_TEST

/* ---- rate limit and circuit breaker ------------------------------------------------ */

#define MS 1000000LL

START_TEST(bucket_spaces_requests)
{
	http_bucket b = { 0 };
	int64_t t = 1000 * MS;

	/* Five at once at 10/s: 0, 100, 200, 300, 400 ms. */
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(http_bucket_take(&b, 10, 1, t), i * 100 * MS);
	/* Later takers queue behind the debt... */
	ck_assert_int_eq(http_bucket_take(&b, 10, 1, t + 250 * MS), 250 * MS);
	/* ...and once it is paid, a token accrues again. */
	http_bucket q = { 0 };
	ck_assert_int_eq(http_bucket_take(&q, 2, 1, t), 0);
	ck_assert_int_eq(http_bucket_take(&q, 2, 1, t + 500 * MS), 0);
	ck_assert_int_eq(http_bucket_take(&q, 2, 1, t + 600 * MS), 400 * MS);
	/* A long idle time refills to the burst, not beyond. */
	http_bucket r = { 0 };
	ck_assert_int_eq(http_bucket_take(&r, 10, 3, t), 0);
	ck_assert_int_eq(http_bucket_take(&r, 10, 3, t + 60000 * MS), 0);
	ck_assert_int_eq(http_bucket_take(&r, 10, 3, t + 60000 * MS), 0);
	ck_assert_int_eq(http_bucket_take(&r, 10, 3, t + 60000 * MS), 0);
	ck_assert_int_eq(http_bucket_take(&r, 10, 3, t + 60000 * MS), 100 * MS);
	/* A clock read out of order does not refill backwards. */
	http_bucket s = { 0 };
	ck_assert_int_eq(http_bucket_take(&s, 10, 1, t), 0);
	ck_assert_int_eq(http_bucket_take(&s, 10, 1, t - 50 * MS), 100 * MS);
	/* No limit. */
	ck_assert_int_eq(http_bucket_take(&s, 0, 1, t), 0);
}
END_TEST

START_TEST(breaker_opens_and_stays_open)
{
	http_breaker b = { 0 };

	ck_assert(!http_breaker_record(&b, true, 3));
	ck_assert(!http_breaker_record(&b, false, 3)); /* a success resets */
	ck_assert_uint_eq(b.failures, 0);
	ck_assert(!http_breaker_record(&b, true, 3));
	ck_assert(!http_breaker_record(&b, true, 3));
	ck_assert(!http_breaker_open(&b, 3));
	ck_assert(http_breaker_open(&b, 2)); /* a stricter node sees it open */
	ck_assert(http_breaker_record(&b, true, 3));
	ck_assert(http_breaker_open(&b, 3));
	ck_assert(http_breaker_open(&b, 10));
	ck_assert(!http_breaker_open(&b, 0)); /* no breaker for that node */
	ck_assert(!http_breaker_record(&b, false, 3)); /* no half-open */
	ck_assert(http_breaker_open(&b, 3));
	ck_assert_uint_eq(b.opened_after, 3);

	http_breaker off = { 0 };
	for (int i = 0; i < 100; i++)
		ck_assert(!http_breaker_record(&off, true, 0));
	ck_assert(!http_breaker_open(&off, 0));
}
END_TEST

START_TEST(queue_time_from_curl_timings)
{
	int64_t t = 5000 * MS;

	/* Queued 3 s for a connection, then 0.1 s to the first byte and
	 * 0.05 s of body: libcurl's total says 3.15 s. */
	ck_assert_double_eq_tol(http_queue_seconds(3.15, 0.1, t, t + 50 * MS), 3.0, 1e-9);
	/* Never queued: nothing to take off, even with the clocks' jitter. */
	ck_assert_double_eq_tol(http_queue_seconds(0.15, 0.1, t, t + 50 * MS), 0, 1e-9);
	ck_assert_double_eq_tol(http_queue_seconds(0.15, 0.1, t, t + 51 * MS), 0, 1e-9);
	/* No response (a transport error), or clocks out of order. */
	ck_assert_double_eq_tol(http_queue_seconds(2.0, 0, 0, t), 0, 1e-9);
	ck_assert_double_eq_tol(http_queue_seconds(2.0, 0.1, t, t - MS), 0, 1e-9);
}
END_TEST

START_TEST(hosts_table)
{
	http_hosts t = { 0 };
	char key[64];

	http_hostent *a = http_hosts_get(&t, "http://a:80");
	ck_assert_ptr_nonnull(a);
	a->breaker.failures = 7;
	for (int i = 0; i < 1000; i++) {
		snprintf(key, sizeof key, "https://h%d:443", i);
		ck_assert_ptr_nonnull(http_hosts_get(&t, key));
	}
	ck_assert_uint_eq(t.n, 1001);
	http_hostent *again = http_hosts_get(&t, "http://a:80");
	ck_assert_uint_eq(again->breaker.failures, 7);
	ck_assert_str_eq(http_hosts_get(&t, "https://h999:443")->key, "https://h999:443");
	ck_assert_uint_eq(t.n, 1001);
	http_hosts_release(&t);
	ck_assert_ptr_null(t.slots);
}
END_TEST

/* ---- expectations on a whole response --------------------------------------------- */

START_TEST(expect_eval_names_every_failure)
{
	http_node n = { .warn_ms = -1, .crit_ms = -1 };
	http_status_range st[] = { { 200, 200 } };
	http_header_expect hx[] = {
		{ .name = "Content-Type", .value = "json" },
		{ .name = "X-Missing", .value = "" },
		{ .name = "Authorization", .value = "x" },
	};
	const char *headers = "HTTP/1.1 503 Unavailable\r\nContent-Type: text/html\r\n"
			      "Authorization: Bearer leaked\r\n\r\n";
	const char *body = "<html>down</html>";
	http_buf f = { 0 };

	n.status = st;
	n.n_status = 1;
	n.hdr = hx;
	n.n_hdr = 3;
	n.body_contains = "up";
	ck_assert_int_eq(regcomp(&n.body_re, "^\\{", REG_EXTENDED | REG_NOSUB), 0);
	n.body_regex = "^\\{";
	http_json_check jc = { .exists = 1, .path = "a" };
	const char *why;
	ck_assert_int_eq(http_json_path_parse("a", &jc.steps, &jc.n_steps, &why), 0);
	n.json = &jc;
	n.n_json = 1;

	unsigned k = http_expect_eval(&n, 503, headers, strlen(headers), body, strlen(body), false, NULL, &f);
	ck_assert_uint_eq(k, 7);
	ck_assert_str_eq(http_buf_str(&f),
			 "status 503, expected 200; "
			 "header Content-Type is \"text/html\", expected it to contain \"json\"; "
			 "header X-Missing missing; "
			 "header Authorization is (not shown), expected it to contain \"x\"; "
			 "body does not contain \"up\"; "
			 "body does not match /^\\{/; "
			 "body is not JSON (error at byte 0: \"<html>down</html>\")");
	http_buf_release(&f);

	/* The same node against a good response. */
	const char *good_h = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Missing: here\r\n"
			     "Authorization: xx\r\n";
	const char *good_b = "{\"a\": \"up\"}";
	k = http_expect_eval(&n, 200, good_h, strlen(good_h), good_b, strlen(good_b), false, NULL, &f);
	ck_assert_msg(k == 0, "%s", http_buf_str(&f));

	/* A NUL in the body: not JSON, and the regex sees past it. */
	const char nul_b[] = "{\"a\": 1}\0tail";
	k = http_expect_eval(&n, 200, good_h, strlen(good_h), nul_b, sizeof nul_b - 1, false, NULL, &f);
	ck_assert_uint_eq(k, 2); /* "up" missing, not JSON */
	ck_assert_msg(strstr(http_buf_str(&f), "body is not JSON (error at byte 8"), "%s", f.data);
	http_buf_release(&f);

	/* Cut bodies say so. */
	k = http_expect_eval(&n, 200, good_h, strlen(good_h), "x", 1, true, NULL, &f);
	ck_assert_msg(strstr(http_buf_str(&f), "only its first 8 MiB were kept") &&
		      strstr(http_buf_str(&f), "JSON not checked"), "%s", f.data);
	http_buf_release(&f);

	/* A secret expectation is never shown. */
	n.body_contains_secret = true;
	n.body_contains = "tok-secret";
	k = http_expect_eval(&n, 200, good_h, strlen(good_h), good_b, strlen(good_b), false, NULL, &f);
	ck_assert_uint_eq(k, 1);
	ck_assert_str_eq(http_buf_str(&f), "body does not contain the configured (secret) text");
	http_buf_release(&f);

	http_json_steps_free(jc.steps, jc.n_steps);
	regfree(&n.body_re);
}
END_TEST

START_TEST(test_url_without_userinfo)
{
	static const char *const cases[][2] = {
		{ "ftp://alice:pw@host/x", "ftp://***@host/x" },
		{ "https://user@example.com:8443/a@b", "https://***@example.com:8443/a@b" },
		{ "http://example.com/p?q=a@b", "http://example.com/p?q=a@b" },
		{ "not a url at:all@x", "***@x" },
		{ "http://a:b@c@d/e", "http://***@d/e" },
	};
	size_t i;

	for (i = 0; i < sizeof cases / sizeof *cases; i++) {
		char *out = http_url_without_userinfo(cases[i][0]);

		ck_assert_str_eq(out, cases[i][1]);
		free(out);
	}
}
END_TEST

static Suite *http_suite(void)
{
	Suite *s = suite_create("http");
	TCase *t;

	t = tcase_create("text");
	tcase_add_test(t, buf_grows_and_formats);
	tcase_add_test(t, quote_escapes_and_cuts);
	tcase_add_test(t, urlencode_keeps_unreserved);
	tcase_add_test(t, mask_own_credentials);
	tcase_add_test(t, quote_masks_before_cutting);
	tcase_add_test(t, base64_vectors);
	tcase_add_test(t, seconds);
	suite_add_tcase(s, t);

	t = tcase_create("headers");
	tcase_add_test(t, header_find);
	tcase_add_test(t, retry_after_forms);
	tcase_add_test(t, sensitive_and_tokens);
	suite_add_tcase(s, t);

	t = tcase_create("status");
	tcase_add_test(t, status_parse_match_describe);
	suite_add_tcase(s, t);

	t = tcase_create("json");
	tcase_add_test(t, json_paths);
	tcase_add_test(t, json_walk_explains);
	tcase_add_test(t, json_assertions);
	tcase_add_test(t, json_long_values_cut);
	tcase_add_test(t, json_type_names);
	suite_add_tcase(s, t);

	t = tcase_create("limits");
	tcase_add_test(t, bucket_spaces_requests);
	tcase_add_test(t, breaker_opens_and_stays_open);
	tcase_add_test(t, hosts_table);
	tcase_add_test(t, queue_time_from_curl_timings);
	suite_add_tcase(s, t);

	t = tcase_create("expect");
	tcase_add_test(t, expect_eval_names_every_failure);
	tcase_add_test(t, test_url_without_userinfo);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(http_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
