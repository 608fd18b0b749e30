/* http_json.c -- JSON assertions: paths such as items[0].name, walked with cJSON, and what must hold at them. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

#define HTTP_VALUE_SHOWN 80 /* bytes of a JSON value quoted in a message */

void http_json_steps_free(http_json_step *steps, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(steps[i].key);
	free(steps);
}

static int push_step(http_json_step **steps, size_t *n, char *key, size_t index)
{
	http_json_step *grown = realloc(*steps, (*n + 1) * sizeof *grown);

	if (!grown) {
		free(key);
		return ASSAY_ENOMEM;
	}
	*steps = grown;
	grown[*n].key = key;
	grown[*n].index = index;
	(*n)++;
	return 0;
}

/* `["a.b"]` with \" and \\ escapes; p is after the opening quote.  Returns
 * the key (malloc'd) and leaves *pp after the closing bracket. */
static char *quoted_key(const char **pp, const char **why)
{
	const char *p = *pp;
	http_buf key = { 0 };

	for (;; p++) {
		if (!*p) {
			*why = "unterminated quoted key (write [\"key\"])";
			goto bad;
		}
		if (*p == '"')
			break;
		if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
			p++;
		http_buf_add(&key, p, 1);
	}
	if (p[1] != ']') {
		*why = "a quoted key must be followed by `]`";
		goto bad;
	}
	*pp = p + 2;
	http_buf_add(&key, "", 0);
	if (key.failed)
		*why = "out of memory";
	return http_buf_take(&key);
bad:
	http_buf_release(&key);
	return NULL;
}

int http_json_path_parse(const char *path, http_json_step **steps, size_t *n,
			 const char **why)
{
	const char *p = path;
	bool first = true;

	*steps = NULL;
	*n = 0;
	if (*p == '$')
		p++, first = p[0] != '.';
	while (*p) {
		char *key;
		int rc;

		if (*p == '[') {
			p++;
			if (*p == '"') {
				p++;
				if (!(key = quoted_key(&p, why)))
					goto fail;
				rc = push_step(steps, n, key, 0);
			} else {
				size_t index = 0, digits = 0;

				for (; *p >= '0' && *p <= '9'; p++, digits++) {
					if (index > (SIZE_MAX - 9) / 10) {
						*why = "index too large";
						goto fail;
					}
					index = index * 10 + (size_t)(*p - '0');
				}
				if (!digits || *p != ']') {
					*why = "`[` must hold an index such as [0] or a quoted key such as [\"a.b\"]";
					goto fail;
				}
				p++;
				rc = push_step(steps, n, NULL, index);
			}
		} else {
			if (!first) {
				if (*p != '.') {
					*why = *p == ']' ? "unmatched `]`"
							 : "expected `.` or `[` between steps";
					goto fail;
				}
				p++;
			}
			size_t len = strcspn(p, ".[]");
			if (len == 0) {
				*why = p[0] == ']' ? "unmatched `]`" : "empty key (two dots, or a dot at the end)";
				goto fail;
			}
			if (!(key = strndup(p, len))) {
				*why = "out of memory";
				http_json_steps_free(*steps, *n);
				*steps = NULL;
				*n = 0;
				return ASSAY_ENOMEM;
			}
			p += len;
			rc = push_step(steps, n, key, 0);
		}
		if (rc < 0) {
			*why = "out of memory";
			http_json_steps_free(*steps, *n);
			*steps = NULL;
			*n = 0;
			return rc;
		}
		first = false;
	}
	return 0;
fail:
	http_json_steps_free(*steps, *n);
	*steps = NULL;
	*n = 0;
	return ASSAY_EINVAL;
}

static const char *type_of(const cJSON *v)
{
	if (cJSON_IsString(v))
		return "a string";
	if (cJSON_IsNumber(v))
		return "a number";
	if (cJSON_IsBool(v))
		return "a boolean";
	if (cJSON_IsNull(v))
		return "null";
	if (cJSON_IsArray(v))
		return "an array";
	if (cJSON_IsObject(v))
		return "an object";
	return "invalid";
}

/* The path up to (not including) step `upto`, as written in the config. */
static void path_prefix(http_buf *b, const http_json_step *steps, size_t upto)
{
	if (upto == 0) {
		http_buf_puts(b, "the document");
		return;
	}
	http_buf_puts(b, "`");
	for (size_t i = 0; i < upto; i++) {
		if (!steps[i].key)
			http_buf_printf(b, "[%zu]", steps[i].index);
		else if (strpbrk(steps[i].key, ".[]\""))
			http_buf_printf(b, "[\"%s\"]", steps[i].key);
		else
			http_buf_printf(b, "%s%s", i ? "." : "", steps[i].key);
	}
	http_buf_puts(b, "`");
}

const cJSON *http_json_walk(const cJSON *root, const http_json_step *steps, size_t n,
			    http_buf *why)
{
	const cJSON *v = root;

	for (size_t i = 0; i < n && v; i++) {
		const cJSON *next;

		if (steps[i].key) {
			next = cJSON_IsObject(v) ? cJSON_GetObjectItemCaseSensitive(v, steps[i].key)
						 : NULL;
			if (!next && why) {
				path_prefix(why, steps, i);
				if (cJSON_IsObject(v))
					http_buf_printf(why, " has no member `%s`", steps[i].key);
				else
					http_buf_printf(why, " is %s, not an object", type_of(v));
			}
		} else {
			int size = cJSON_IsArray(v) ? cJSON_GetArraySize(v) : -1;

			next = size >= 0 && steps[i].index < (size_t)size
				       ? cJSON_GetArrayItem(v, (int)steps[i].index) : NULL;
			if (!next && why) {
				path_prefix(why, steps, i);
				if (size >= 0)
					http_buf_printf(why, " has %d element%s", size, size == 1 ? "" : "s");
				else
					http_buf_printf(why, " is %s, not an array", type_of(v));
			}
		}
		v = next;
	}
	return v;
}

const char *const http_json_type_names[] = {
	"string", "number", "integer", "boolean", "null", "array", "object", NULL
};

const char *http_json_type_name(enum http_json_type t)
{
	return t >= HTTP_JT_STRING && t <= HTTP_JT_OBJECT ? http_json_type_names[t - HTTP_JT_STRING] : "";
}

static bool type_matches(const cJSON *v, enum http_json_type t)
{
	switch (t) {
	case HTTP_JT_STRING: return cJSON_IsString(v);
	case HTTP_JT_NUMBER: return cJSON_IsNumber(v);
	case HTTP_JT_INTEGER:
		return cJSON_IsNumber(v) && isfinite(v->valuedouble) &&
		       v->valuedouble == floor(v->valuedouble);
	case HTTP_JT_BOOLEAN: return cJSON_IsBool(v);
	case HTTP_JT_NULL: return cJSON_IsNull(v);
	case HTTP_JT_ARRAY: return cJSON_IsArray(v);
	case HTTP_JT_OBJECT: return cJSON_IsObject(v);
	default: return true;
	}
}

/* Masks every string of v (a copy) where it is still raw: printed, a
 * secret with a quote or a backslash in it would read differently. */
static bool mask_strings(cJSON *v, const http_masker *m)
{
	if (cJSON_IsString(v) && v->valuestring) {
		char *shown = http_mask(m, v->valuestring, strlen(v->valuestring), 0, NULL);
		bool ok = shown && cJSON_SetValuestring(v, shown);

		free(shown);
		if (!ok)
			return false;
	}
	if (v->string && !(v->type & cJSON_StringIsConst)) {
		char *shown = http_mask(m, v->string, strlen(v->string), 0, NULL);

		if (!shown)
			return false;
		cJSON_free(v->string);
		v->string = shown;
	}
	for (cJSON *c = v->child; c; c = c->next)
		if (!mask_strings(c, m))
			return false;
	return true;
}

/* A JSON value as compact JSON, masked by m, then cut after
 * HTTP_VALUE_SHOWN bytes. */
static void append_value(http_buf *b, const cJSON *v, const http_masker *m)
{
	cJSON *copy = cJSON_Duplicate(v, true);
	char *printed = copy && mask_strings(copy, m) ? cJSON_PrintUnformatted(copy) : NULL;
	char *s = printed ? http_mask(m, printed, strlen(printed), 0, NULL) : NULL;
	size_t len, cut;

	cJSON_Delete(copy);
	free(printed);
	if (!s) {
		http_buf_puts(b, "(unprintable)");
		return;
	}
	len = strlen(s);
	cut = len;
	if (cut > HTTP_VALUE_SHOWN) {
		cut = HTTP_VALUE_SHOWN;
		while (cut > 0 && ((unsigned char)s[cut] & 0xc0) == 0x80)
			cut--; /* not inside a UTF-8 sequence */
	}
	http_buf_add(b, s, cut);
	if (cut < len)
		http_buf_puts(b, "...");
	free(s);
}

static void start_fail(http_buf *fails, const http_json_check *c)
{
	if (fails->len)
		http_buf_puts(fails, "; ");
	http_buf_printf(fails, "json %s: ", c->path);
}

static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static const char *const cmp_ops[HTTP_CMP_N] = { ">", ">=", "<", "<=" };

static bool cmp_holds(int op, double got, double want)
{
	switch (op) {
	case HTTP_CMP_GT: return got > want;
	case HTTP_CMP_GE: return got >= want;
	case HTTP_CMP_LT: return got < want;
	default: return got <= want;
	}
}

unsigned http_json_check_eval(const http_json_check *c, const cJSON *root,
			      const http_masker *m, http_buf *fails)
{
	http_buf why = { 0 };
	const cJSON *v = http_json_walk(root, c->steps, c->n_steps, &why);
	unsigned failed = 0;

	if (c->exists == 0) {
		if (v) {
			start_fail(fails, c);
			http_buf_puts(fails, "expected to be absent, got ");
			append_value(fails, v, m);
			failed++;
		}
		http_buf_release(&why);
		return failed;
	}
	if (!v) {
		start_fail(fails, c);
		http_buf_printf(fails, "missing (%s)", http_buf_str(&why));
		http_buf_release(&why);
		return 1;
	}
	http_buf_release(&why);
	if (c->type != HTTP_JT_NONE && !type_matches(v, c->type)) {
		start_fail(fails, c);
		http_buf_printf(fails, "expected type %s, got %s ", http_json_type_name(c->type),
				type_of(v));
		append_value(fails, v, m);
		failed++;
	}
	for (int op = 0; op < HTTP_CMP_N; op++) {
		if (!c->has_cmp[op])
			continue;
		if (!cJSON_IsNumber(v)) {
			start_fail(fails, c);
			http_buf_printf(fails, "expected a number %s %.15g, got ", cmp_ops[op], c->cmp[op]);
			append_value(fails, v, m);
			failed++;
		} else if (!cmp_holds(op, v->valuedouble, c->cmp[op])) {
			start_fail(fails, c);
			http_buf_printf(fails, "expected %s %.15g, got %.15g", cmp_ops[op], c->cmp[op],
					v->valuedouble);
			failed++;
		}
	}
	if (c->has_length) {
		int64_t len = -1;

		if (cJSON_IsArray(v) || cJSON_IsObject(v))
			len = cJSON_GetArraySize(v);
		else if (cJSON_IsString(v))
			len = (int64_t)utf8_chars(v->valuestring);
		if (len != c->length) {
			start_fail(fails, c);
			if (len < 0) {
				http_buf_printf(fails, "expected length %lld, got %s ",
						(long long)c->length, type_of(v));
				append_value(fails, v, m);
			} else {
				http_buf_printf(fails, "expected length %lld, got %lld",
						(long long)c->length, (long long)len);
			}
			failed++;
		}
	}
	if (c->equals && !cJSON_Compare(v, c->equals, true)) {
		start_fail(fails, c);
		http_buf_puts(fails, "expected ");
		if (c->secret)
			http_buf_puts(fails, "the configured (secret) value");
		else
			append_value(fails, c->equals, m);
		http_buf_puts(fails, ", got ");
		append_value(fails, v, m);
		failed++;
	}
	return failed;
}

void http_json_check_release(http_json_check *c)
{
	free(c->path);
	http_json_steps_free(c->steps, c->n_steps);
	cJSON_Delete(c->equals);
	memset(c, 0, sizeof *c);
}
