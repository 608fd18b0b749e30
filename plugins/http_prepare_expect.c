/* http_prepare_expect.c -- the http node's `expect` and `response_time` tables checked at load time. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

static const char *const expect_keys[] = {
	"status", "headers", "body_contains", "body_regex", "json", NULL
};
static const char *const assert_keys[] = {
	"exists", "type", ">", ">=", "<", "<=", "length", "equals", NULL
};
static const char *const time_keys[] = { "warn", "crit", NULL };

/* ---- status ------------------------------------------------------------- */

static int status_one(const assay_host *h, const assay_value *e, const char *what,
		      http_status_range *r)
{
	int64_t code;

	if (h->value_type(e) == ASSAY_VALUE_INTEGER && h->value_int(e, &code) == 0) {
		if (code < 100 || code > 599) {
			h->config_error(e, "`%s`: %lld is not an HTTP status (100 to 599)", what,
					(long long)code);
			return 1;
		}
		r->lo = r->hi = (int)code;
		return 0;
	}
	if (h->value_type(e) == ASSAY_VALUE_STRING) {
		if (http_status_parse(h->value_string(e), r))
			return 0;
		h->config_error(e, "`%s`: \"%s\" is not a status or a class (write 200, or \"2xx\" for 200 to 299)",
				what, h->value_secret(e) ? "(secret)" : h->value_string(e));
		return 1;
	}
	h->config_error(e, "`%s` must be a status such as 200, a class such as \"2xx\", or an array of them, not %s",
			what, h->value_type_name(e));
	return 1;
}

static int prepare_status(const assay_host *h, const assay_value *v, http_node *n)
{
	bool array = h->value_type(v) == ASSAY_VALUE_ARRAY;
	size_t len = array ? h->value_len(v) : 1;
	int errors = 0;

	if (array && len == 0) {
		h->config_error(v, "`expect.status` must not be an empty array");
		return 1;
	}
	n->status = calloc(len, sizeof *n->status);
	if (!n->status)
		return ASSAY_ENOMEM;
	for (size_t i = 0; i < len; i++) {
		char what[48];

		snprintf(what, sizeof what, array ? "expect.status[%zu]" : "expect.status", i);
		errors += status_one(h, array ? h->value_at(v, i, NULL) : v, what, &n->status[i]);
	}
	n->n_status = errors ? 0 : len;
	return errors;
}

/* ---- headers, body --------------------------------------------------------- */

static int prepare_headers(const assay_host *h, const assay_value *v, http_node *n)
{
	int errors = 0;

	if (h->value_type(v) != ASSAY_VALUE_TABLE) {
		h->config_error(v, "`expect.headers` must be a table, such as { Content-Type = \"application/json\" }, not %s",
				h->value_type_name(v));
		return 1;
	}
	n->hdr = calloc(h->value_len(v) + 1, sizeof *n->hdr);
	if (!n->hdr)
		return ASSAY_ENOMEM;
	for (size_t i = 0; i < h->value_len(v); i++) {
		const char *name = NULL;
		const assay_value *e = h->value_at(v, i, &name);

		if (!http_token(name)) {
			h->config_error(e, "`expect.headers`: \"%s\" is not a valid header name", name);
			errors++;
			continue;
		}
		if (h->value_type(e) != ASSAY_VALUE_STRING) {
			h->config_error(e, "`expect.headers.%s` must be a string (text the header must contain; \"\" for any value), not %s",
					name, h->value_type_name(e));
			errors++;
			continue;
		}
		http_header_expect *x = &n->hdr[n->n_hdr];
		x->name = strdup(name);
		x->value = strdup(h->value_string(e));
		x->secret = h->value_secret(e);
		n->n_hdr++;
		if (!x->name || !x->value)
			return ASSAY_ENOMEM;
	}
	return errors;
}

static int prepare_body_contains(const assay_host *h, const assay_value *v, http_node *n)
{
	if (h->value_type(v) != ASSAY_VALUE_STRING) {
		h->config_error(v, "`expect.body_contains` must be a string, not %s",
				h->value_type_name(v));
		return 1;
	}
	if (!*h->value_string(v)) {
		h->config_error(v, "`expect.body_contains` must not be empty");
		return 1;
	}
	n->body_contains_secret = h->value_secret(v);
	return (n->body_contains = strdup(h->value_string(v))) ? 0 : ASSAY_ENOMEM;
}

static int prepare_body_regex(const assay_host *h, const assay_value *v, http_node *n)
{
	const char *re;
	char why[256];
	int rc;

	if (h->value_type(v) != ASSAY_VALUE_STRING) {
		h->config_error(v, "`expect.body_regex` must be a string (a POSIX extended regular expression), not %s",
				h->value_type_name(v));
		return 1;
	}
	re = h->value_string(v);
	rc = regcomp(&n->body_re, re, REG_EXTENDED | REG_NOSUB);
	if (rc != 0) {
		regerror(rc, &n->body_re, why, sizeof why);
		regfree(&n->body_re);
		h->config_error(v, "`expect.body_regex`: /%s/ is not a POSIX extended regular expression: %s",
				h->value_secret(v) ? "(secret)" : re, why);
		return 1;
	}
	n->body_regex_secret = h->value_secret(v);
	if (!(n->body_regex = strdup(re))) {
		regfree(&n->body_re);
		return ASSAY_ENOMEM;
	}
	return 0;
}

/* ---- json ------------------------------------------------------------------------ */

static bool any_secret(const assay_host *h, const assay_value *v)
{
	assay_value_type t = h->value_type(v);

	if (t == ASSAY_VALUE_STRING)
		return h->value_secret(v);
	if (t == ASSAY_VALUE_ARRAY || t == ASSAY_VALUE_TABLE)
		for (size_t i = 0; i < h->value_len(v); i++)
			if (any_secret(h, h->value_at(v, i, NULL)))
				return true;
	return false;
}

cJSON *http_value_to_json(http_plugin *pl, const assay_value *v, const char *what)
{
	const assay_host *h = pl->host;
	cJSON *out = NULL;
	int64_t i;
	double d;
	bool b;

	switch (h->value_type(v)) {
	case ASSAY_VALUE_STRING:
		return cJSON_CreateString(h->value_string(v));
	case ASSAY_VALUE_INTEGER:
		h->value_int(v, &i);
		return cJSON_CreateNumber((double)i);
	case ASSAY_VALUE_FLOAT:
		h->value_float(v, &d);
		return cJSON_CreateNumber(d);
	case ASSAY_VALUE_BOOLEAN:
		h->value_bool(v, &b);
		return cJSON_CreateBool(b);
	case ASSAY_VALUE_ARRAY:
	case ASSAY_VALUE_TABLE: {
		bool table = h->value_type(v) == ASSAY_VALUE_TABLE;

		out = table ? cJSON_CreateObject() : cJSON_CreateArray();
		for (size_t k = 0; out && k < h->value_len(v); k++) {
			const char *key = NULL;
			const assay_value *e = h->value_at(v, k, &key);
			cJSON *item = http_value_to_json(pl, e, what);

			if (!item) {
				cJSON_Delete(out);
				return NULL;
			}
			if (table)
				cJSON_AddItemToObject(out, key, item);
			else
				cJSON_AddItemToArray(out, item);
		}
		return out;
	}
	default:
		h->config_error(v, "`%s`: a %s cannot be compared with JSON (write it as a string)",
				what, h->value_type_name(v));
		return NULL;
	}
}

static int json_number(const assay_host *h, const assay_value *v, const char *what,
		       double *out)
{
	assay_value_type t = h->value_type(v);

	if ((t != ASSAY_VALUE_INTEGER && t != ASSAY_VALUE_FLOAT) || h->value_float(v, out) < 0) {
		h->config_error(v, "`%s` must be a number, not %s", what, h->value_type_name(v));
		return 1;
	}
	return 0;
}

/* An assertion table: { exists = true, type = "array", length = 2, ... }. */
static int json_assertions(http_plugin *pl, const assay_value *t, const char *path,
			   http_json_check *c)
{
	const assay_host *h = pl->host;
	int errors = 0;
	char what[512];

	if (h->value_len(t) == 0) {
		h->config_error(t, "`expect.json.\"%s\"` is an empty table: give a value to compare with, or assertions such as { exists = true }",
				path);
		return 1;
	}
	for (size_t i = 0; i < h->value_len(t); i++) {
		const char *key = NULL;
		const assay_value *v = h->value_at(t, i, &key);
		int op = -1;

		snprintf(what, sizeof what, "expect.json.\"%s\".%s", path, key);
		if (strcmp(key, "exists") == 0) {
			bool b;

			if (h->value_type(v) != ASSAY_VALUE_BOOLEAN || h->value_bool(v, &b) < 0) {
				h->config_error(v, "`%s` must be true or false, not %s", what,
						h->value_type_name(v));
				errors++;
			} else {
				c->exists = b;
			}
		} else if (strcmp(key, "type") == 0) {
			int ty = h->check_choice(v, what, http_json_type_names);

			if (ty < 0)
				errors++;
			else
				c->type = (enum http_json_type)(HTTP_JT_STRING + ty);
		} else if (strcmp(key, ">") == 0) {
			op = HTTP_CMP_GT;
		} else if (strcmp(key, ">=") == 0) {
			op = HTTP_CMP_GE;
		} else if (strcmp(key, "<") == 0) {
			op = HTTP_CMP_LT;
		} else if (strcmp(key, "<=") == 0) {
			op = HTTP_CMP_LE;
		} else if (strcmp(key, "length") == 0) {
			int64_t len;

			if (h->value_type(v) != ASSAY_VALUE_INTEGER || h->value_int(v, &len) < 0 ||
			    len < 0) {
				h->config_error(v, "`%s` must be a whole number of elements (or characters, or members), not %s",
						what, h->value_type_name(v));
				errors++;
			} else {
				c->has_length = true;
				c->length = len;
			}
		} else if (strcmp(key, "equals") == 0) {
			if (!(c->equals = http_value_to_json(pl, v, what)))
				errors++;
			c->secret = any_secret(h, v);
		} else {
			char where[400];

			snprintf(where, sizeof where,
				 "the assertions of `expect.json.\"%s\"` (an object to compare with goes in `equals`)",
				 path);
			h->check_key(v, where, assert_keys);
			errors++;
		}
		if (op >= 0) {
			if (json_number(h, v, what, &c->cmp[op]) == 0)
				c->has_cmp[op] = true;
			else
				errors++;
		}
	}
	if (!errors && c->exists == 0 &&
	    (c->type || c->has_length || c->equals || c->has_cmp[0] || c->has_cmp[1] ||
	     c->has_cmp[2] || c->has_cmp[3])) {
		h->config_error(t, "`expect.json.\"%s\"`: exists = false cannot be combined with other assertions",
				path);
		errors++;
	}
	return errors;
}

static int prepare_json(http_plugin *pl, const assay_value *v, http_node *n)
{
	const assay_host *h = pl->host;
	int errors = 0;

	if (h->value_type(v) != ASSAY_VALUE_TABLE) {
		h->config_error(v, "`expect.json` must be a table of paths, such as { \"items[0].name\" = \"a\", count = { \">\" = 0 } }, not %s",
				h->value_type_name(v));
		return 1;
	}
	n->json = calloc(h->value_len(v) + 1, sizeof *n->json);
	if (!n->json)
		return ASSAY_ENOMEM;
	for (size_t i = 0; i < h->value_len(v); i++) {
		const char *path = NULL, *why = NULL;
		const assay_value *e = h->value_at(v, i, &path);
		http_json_check *c = &n->json[n->n_json];
		int rc;

		c->exists = -1;
		if ((rc = http_json_path_parse(path, &c->steps, &c->n_steps, &why)) < 0) {
			if (rc == ASSAY_ENOMEM)
				return rc;
			h->config_error(e, "`expect.json`: \"%s\" is not a path: %s (write a.b, items[0].name or a[\"dotted.key\"])",
					path, why);
			errors++;
			continue;
		}
		n->n_json++;
		if (!(c->path = strdup(path)))
			return ASSAY_ENOMEM;
		if (h->value_type(e) == ASSAY_VALUE_TABLE) {
			errors += json_assertions(pl, e, path, c);
		} else {
			char what[400];

			snprintf(what, sizeof what, "expect.json.\"%s\"", path);
			if (!(c->equals = http_value_to_json(pl, e, what)))
				errors++;
			c->secret = any_secret(h, e);
		}
	}
	return errors;
}

/* ---- the tables ----------------------------------------------------------- */

int http_prepare_expect(http_plugin *pl, const assay_value *expect, http_node *n)
{
	const assay_host *h = pl->host;
	int errors = 0;

	if (!expect)
		return 0;
	if (h->value_type(expect) != ASSAY_VALUE_TABLE) {
		h->config_error(expect, "`expect` must be a table, such as expect = { status = 200 }, not %s",
				h->value_type_name(expect));
		return 1;
	}
	for (size_t i = 0; i < h->value_len(expect); i++) {
		const char *key = NULL;
		const assay_value *v = h->value_at(expect, i, &key);
		int rc;

		if (strcmp(key, "status") == 0)
			rc = prepare_status(h, v, n);
		else if (strcmp(key, "headers") == 0)
			rc = prepare_headers(h, v, n);
		else if (strcmp(key, "body_contains") == 0)
			rc = prepare_body_contains(h, v, n);
		else if (strcmp(key, "body_regex") == 0)
			rc = prepare_body_regex(h, v, n);
		else if (strcmp(key, "json") == 0)
			rc = prepare_json(pl, v, n);
		else
			rc = h->check_key(v, "`expect`", expect_keys) < 0;
		if (rc < 0)
			return rc;
		errors += rc;
	}
	return errors;
}

int http_prepare_response_time(http_plugin *pl, const assay_value *v, http_node *n)
{
	const assay_host *h = pl->host;
	int errors = 0;

	if (!v)
		return 0;
	if (h->value_type(v) != ASSAY_VALUE_TABLE) {
		h->config_error(v, "`response_time` must be a table, such as response_time = { warn = \"500ms\", crit = \"2s\" }, not %s",
				h->value_type_name(v));
		return 1;
	}
	for (size_t i = 0; i < h->value_len(v); i++) {
		const char *key = NULL;
		const assay_value *e = h->value_at(v, i, &key);
		int64_t ms;

		char what[32];

		snprintf(what, sizeof what, "response_time.%s", key);
		if (h->check_key(e, "`response_time`", time_keys) < 0 ||
		    h->check_duration(e, what, 1, INT64_MAX, &ms) < 0) {
			errors++;
			continue;
		}
		if (key[0] == 'w')
			n->warn_ms = ms;
		else
			n->crit_ms = ms;
	}
	if (!errors && n->warn_ms > 0 && n->crit_ms > 0 && n->crit_ms < n->warn_ms) {
		char w[32], c[32];

		http_seconds(n->warn_ms, w, sizeof w);
		http_seconds(n->crit_ms, c, sizeof c);
		h->config_error(h->value_get(v, "crit"),
				"`response_time.crit` (%s s) is shorter than `warn` (%s s): CRITICAL must be the slower of the two",
				c, w);
		errors++;
	}
	return errors;
}
