/* fuzz_toml.c -- libFuzzer target: parse arbitrary bytes, then read every
 * value of the tree through the public getters. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "toml.h"

/* Touch every value so that a tree with a dangling pointer or a bad length
 * fails under ASan here, not later in a real caller. */
static void walk(const toml_value *v, int depth)
{
	size_t i, n, len;
	const char *key, *s;
	toml_pos pos;
	int64_t iv;
	double dv;
	bool bv;
	toml_datetime dt;

	if (depth > TOML_MAX_DEPTH + 8)
		abort(); /* the parser let through more nesting than it promises */
	pos = toml_value_pos(v);
	if (pos.line == 0 || pos.column == 0)
		abort();
	switch (toml_value_type(v)) {
	case TOML_TABLE:
		n = toml_table_len(v);
		for (i = 0; i < n; i++) {
			const toml_value *child = toml_table_at(v, i, &key, &pos);

			if (!child)
				abort();
			/* Lookup must find what iteration shows (a key holding
			 * U+0000 cannot be looked up by a C string). */
			if (strlen(key) == toml_table_key_len(v, i) &&
			    toml_table_get(v, key) != child)
				abort();
			walk(child, depth + 1);
		}
		break;
	case TOML_ARRAY:
		n = toml_array_len(v);
		for (i = 0; i < n; i++)
			walk(toml_array_at(v, i), depth + 1);
		break;
	case TOML_STRING:
		s = toml_value_string(v, &len);
		if (!s || s[len] != '\0')
			abort();
		break;
	case TOML_INTEGER:
		if (!toml_value_int(v, &iv))
			abort();
		break;
	case TOML_FLOAT:
		if (!toml_value_float(v, &dv))
			abort();
		break;
	case TOML_BOOLEAN:
		if (!toml_value_bool(v, &bv))
			abort();
		break;
	default:
		if (!toml_value_datetime(v, &dt))
			abort();
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	toml_error err;
	/* An exact-size copy, so that ASan catches any read past the end. */
	char *buf = malloc(size ? size : 1);
	toml_doc *doc;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	doc = toml_parse(buf, size, &err);
	if (doc) {
		walk(toml_doc_root(doc), 0);
		toml_doc_free(doc);
	} else if (err.message[0] == '\0' || strlen(err.message) >= sizeof err.message) {
		abort(); /* every failure must say why */
	}
	free(buf);
	return 0;
}
