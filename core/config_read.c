/* config_read.c -- reading a configuration's values with the host's
 * wording: types, ranges, durations, names, unknown keys. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_read.h"

void config_key_error(const assay_value *v, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_addv(v->tree->diag, v->tree->file, v->key_pos.line,
		  v->key_pos.column, fmt, ap);
	va_end(ap);
}

void config_unknown_key(const assay_value *v, const char *where,
			const char *const *known, size_t n_known,
			const char *const *more, size_t n_more)
{
	const char *all[64], *hint;
	size_t i, n = 0;

	for (i = 0; i < n_known && n < N(all); i++)
		all[n++] = known[i];
	for (i = 0; i < n_more && n < N(all); i++)
		all[n++] = more[i];
	hint = diag_suggest(v->key, all, n);
	if (hint)
		config_key_error(v, "unknown key `%s` in %s (did you mean `%s`?)", v->key, where, hint);
	else
		config_key_error(v, "unknown key `%s` in %s", v->key, where);
}

bool config_is_key(const char *key, const char *const *keys, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(key, keys[i]) == 0)
			return true;
	return false;
}

bool config_want(const assay_value *v, assay_value_type t, const char *what)
{
	if (value_type(v) == t)
		return true;
	value_error(v, "`%s` must be %s, not %s", v->key ? v->key : "value",
		    what, value_type_name(v));
	return false;
}

bool config_get_uint(const assay_value *v, int64_t min, int64_t max, unsigned *out)
{
	int64_t n;

	if (!config_want(v, ASSAY_VALUE_INTEGER, "an integer"))
		return false;
	value_int(v, &n);
	if (n < min || n > max) {
		value_error(v, "`%s` must be between %lld and %lld, not %lld", v->key,
			    (long long)min, (long long)max, (long long)n);
		return false;
	}
	*out = (unsigned)n;
	return true;
}

bool config_get_duration(const assay_value *v, bool zero_ok, int64_t *out)
{
	int64_t ms;

	if (value_duration_ms(v, &ms) < 0) {
		double secs;

		if (value_type(v) == ASSAY_VALUE_STRING)
			value_error(v, "`%s` is not a duration: \"%s\" (write e.g. \"30s\", \"500ms\", \"2m\", \"1h30m\")",
				    v->key, value_string(v));
		else if (value_float(v, &secs) == 0) /* a number, out of range */
			value_error(v, "`%s` must be a number of seconds from 0 to 9e12, not %g",
				    v->key, secs);
		else
			value_error(v, "`%s` must be a duration such as \"30s\" or a number of seconds, not %s",
				    v->key, value_type_name(v));
		return false;
	}
	if (ms == 0 && !zero_ok) {
		value_error(v, "`%s` must be longer than 0", v->key);
		return false;
	}
	*out = ms;
	return true;
}

bool config_string_array(const assay_value *v, bool single_ok)
{
	size_t i;

	if (single_ok && value_type(v) == ASSAY_VALUE_STRING)
		return true;
	if (!config_want(v, ASSAY_VALUE_ARRAY, single_ok ? "a string or an array of strings"
							  : "an array of strings"))
		return false;
	for (i = 0; i < value_len(v); i++) {
		const assay_value *e = value_at(v, i, NULL);

		if (value_type(e) != ASSAY_VALUE_STRING || !*value_string(e)) {
			value_error(e, "`%s` must hold non-empty strings, not %s", v->key,
				    value_type(e) == ASSAY_VALUE_STRING ? "an empty string"
									: value_type_name(e));
			return false;
		}
	}
	return true;
}

/* Node and group names end up in ids, Prometheus labels and JUnit names:
 * keep them to characters that need no quoting anywhere. */
bool config_valid_name(const assay_value *v)
{
	const char *s;

	for (s = v->key; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
			break;
	if (*s || !*v->key) {
		config_key_error(v, "`%s` is not a valid node or group name: use letters, digits, '_' and '-'",
				 v->key);
		return false;
	}
	return true;
}

int config_grow(void *array, size_t *cap, size_t n, size_t size)
{
	void *grown;
	size_t want = *cap ? *cap * 2 : 16;

	if (n < *cap)
		return 0;
	grown = realloc(*(void **)array, want * size);
	if (!grown)
		return ASSAY_ENOMEM;
	*(void **)array = grown;
	*cap = want;
	return 0;
}

/* Relative paths in a config are relative to the file's directory. */
char *config_relative(const plan *p, const char *path)
{
	char *out;

	if (path[0] == '/' || !p->values.dir)
		return strdup(path);
	if (asprintf(&out, "%s/%s", p->values.dir, path) < 0)
		return NULL;
	return out;
}
