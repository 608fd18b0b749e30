/* toml-decode.c -- toml-test decoder: TOML on stdin, tagged JSON on stdout. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "toml.h"

static cJSON *to_json(const toml_value *v);

/* cJSON strings end at the first NUL, and TOML strings may hold U+0000:
 * such strings are written out by hand. */
static void quote(char **o, const char *s, size_t n)
{
	char *p = *o;
	size_t i;

	*p++ = '"';
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			*p++ = '\\';
			*p++ = (char)c;
		} else if (c < 0x20) {
			p += sprintf(p, "\\u%04x", c);
		} else {
			*p++ = (char)c;
		}
	}
	*p++ = '"';
	*p = '\0';
	*o = p;
}

static cJSON *string_json(const char *s, size_t n)
{
	char *buf, *o;
	cJSON *j;

	if (!memchr(s, '\0', n))
		return cJSON_CreateString(s);
	buf = o = malloc(6 * n + 3);
	if (!buf)
		return NULL;
	quote(&o, s, n);
	j = cJSON_CreateRaw(buf);
	free(buf);
	return j;
}

static cJSON *tagged(const char *type, const char *value)
{
	cJSON *j = cJSON_CreateObject();

	cJSON_AddStringToObject(j, "type", type);
	cJSON_AddStringToObject(j, "value", value);
	return j;
}

static cJSON *datetime_json(const toml_value *v)
{
	toml_datetime d;
	toml_type t = toml_value_type(v);
	char buf[64], *o = buf;

	toml_value_datetime(v, &d);
	if (t != TOML_LOCAL_TIME)
		o += sprintf(o, "%04d-%02d-%02d", d.year, d.month, d.day);
	if (t == TOML_LOCAL_DATE)
		return tagged("date-local", buf);
	if (t != TOML_LOCAL_TIME)
		*o++ = 'T';
	o += sprintf(o, "%02d:%02d:%02d", d.hour, d.minute, d.second);
	if (d.nanosecond) {
		o += sprintf(o, ".%09d", d.nanosecond);
		while (o[-1] == '0')
			*--o = '\0';
	}
	if (t == TOML_LOCAL_TIME)
		return tagged("time-local", buf);
	if (t == TOML_LOCAL_DATETIME)
		return tagged("datetime-local", buf);
	if (d.offset_minutes == 0)
		sprintf(o, "Z");
	else
		sprintf(o, "%c%02d:%02d", d.offset_minutes < 0 ? '-' : '+',
			abs(d.offset_minutes) / 60, abs(d.offset_minutes) % 60);
	return tagged("datetime", buf);
}

static cJSON *table_json(const toml_value *t)
{
	size_t n = toml_table_len(t), i, size = 3;
	const char *key;
	char *buf, *o;
	bool plain = true;
	cJSON *j;

	for (i = 0; i < n; i++) {
		toml_table_at(t, i, &key, NULL);
		if (toml_table_key_len(t, i) != strlen(key))
			plain = false;
	}
	if (plain) {
		j = cJSON_CreateObject();
		for (i = 0; i < n; i++) {
			const toml_value *v = toml_table_at(t, i, &key, NULL);

			cJSON_AddItemToObject(j, key, to_json(v));
		}
		return j;
	}
	/* A key holds U+0000: cJSON cannot carry it, so print this table. */
	char **parts = calloc(n ? n : 1, sizeof *parts);

	for (i = 0; i < n; i++) {
		cJSON *c = to_json(toml_table_at(t, i, NULL, NULL));

		parts[i] = cJSON_PrintUnformatted(c);
		cJSON_Delete(c);
		size += 6 * toml_table_key_len(t, i) + strlen(parts[i]) + 4;
	}
	buf = o = malloc(size);
	*o++ = '{';
	for (i = 0; i < n; i++) {
		toml_table_at(t, i, &key, NULL);
		if (i)
			*o++ = ',';
		quote(&o, key, toml_table_key_len(t, i));
		*o++ = ':';
		memcpy(o, parts[i], strlen(parts[i]));
		o += strlen(parts[i]);
		free(parts[i]);
	}
	strcpy(o, "}");
	free(parts);
	j = cJSON_CreateRaw(buf);
	free(buf);
	return j;
}

static cJSON *to_json(const toml_value *v)
{
	char buf[64];
	const char *s;
	size_t len, i;
	int64_t n;
	double f;
	bool b;
	cJSON *j;

	switch (toml_value_type(v)) {
	case TOML_TABLE:
		return table_json(v);
	case TOML_ARRAY:
		j = cJSON_CreateArray();
		for (i = 0; i < toml_array_len(v); i++)
			cJSON_AddItemToArray(j, to_json(toml_array_at(v, i)));
		return j;
	case TOML_STRING:
		s = toml_value_string(v, &len);
		j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "type", "string");
		cJSON_AddItemToObject(j, "value", string_json(s, len));
		return j;
	case TOML_INTEGER:
		toml_value_int(v, &n);
		snprintf(buf, sizeof buf, "%" PRId64, n);
		return tagged("integer", buf);
	case TOML_FLOAT:
		toml_value_float(v, &f);
		if (isnan(f))
			snprintf(buf, sizeof buf, "nan");
		else if (isinf(f))
			snprintf(buf, sizeof buf, "%sinf", f < 0 ? "-" : "");
		else
			snprintf(buf, sizeof buf, "%.17g", f);
		return tagged("float", buf);
	case TOML_BOOLEAN:
		toml_value_bool(v, &b);
		return tagged("bool", b ? "true" : "false");
	default:
		return datetime_json(v);
	}
}

int main(void)
{
	size_t len = 0, cap = 1 << 16, n;
	char *buf = malloc(cap), *out;
	toml_error err;
	toml_doc *doc;
	cJSON *j;

	while (buf && (n = fread(buf + len, 1, cap - len, stdin)) > 0) {
		len += n;
		if (len == cap)
			buf = realloc(buf, cap *= 2);
	}
	if (!buf) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	doc = toml_parse(buf, len, &err);
	free(buf);
	if (!doc) {
		fprintf(stderr, "%u:%u: %s\n", err.pos.line, err.pos.column, err.message);
		return 1;
	}
	j = to_json(toml_doc_root(doc));
	out = cJSON_PrintUnformatted(j);
	puts(out);
	free(out);
	cJSON_Delete(j);
	toml_doc_free(doc);
	return 0;
}
