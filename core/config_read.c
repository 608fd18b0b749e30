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
#include "option.h"

void config_unknown_key(const assay_value *v, const char *where,
			const char *const *known, size_t n_known,
			const char *const *more, size_t n_more)
{
	const char *all[64];
	size_t i, n = 0;

	for (i = 0; i < n_known && n < N(all); i++)
		all[n++] = known[i];
	for (i = 0; i < n_more && n < N(all); i++)
		all[n++] = more[i];
	option_key(v, where, all, n);
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

	if (option_int(v, NULL, min, max, &n) < 0)
		return false;
	*out = (unsigned)n;
	return true;
}

bool config_get_duration(const assay_value *v, bool zero_ok, int64_t *out)
{
	return option_duration(v, NULL, zero_ok ? 0 : 1, INT64_MAX, out) == 0;
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
		value_key_error(v, "`%s` is not a valid node or group name: use letters, digits, '_' and '-'",
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
