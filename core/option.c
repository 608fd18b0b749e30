/* option.c -- options checked with the host's wording: durations, integers, choices, keys. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "duration.h"
#include "option.h"
#include "suggest.h"

static const char *option_name(const assay_value *v, const char *what)
{
	return what ? what : value_key(v) ? value_key(v) : "value";
}

int option_duration(const assay_value *v, const char *what, int64_t min_ms, int64_t max_ms,
		    int64_t *out)
{
	const char *name = option_name(v, what);
	char lim[32], got[32];
	double secs;
	int64_t ms;

	if (value_duration_ms(v, &ms) < 0) {
		if (value_type(v) == ASSAY_VALUE_STRING)
			value_error(v, "`%s` is not a duration: \"%s\" (write e.g. \"30s\", \"500ms\", \"2m\", \"1h30m\")",
				    name, value_string(v));
		else if (value_float(v, &secs) == 0) /* a number, out of range */
			value_error(v, "`%s` must be a number of seconds from 0 to 9e12, not %g",
				    name, secs);
		else
			value_error(v, "`%s` must be a duration such as \"30s\" or a number of seconds, not %s",
				    name, value_type_name(v));
		return ASSAY_EINVAL;
	}
	if (ms < min_ms && min_ms == 1) {
		value_error(v, "`%s` must be longer than 0", name);
		return ASSAY_EINVAL;
	}
	if (ms < min_ms || ms > max_ms) {
		value_error(v, "`%s` must be at %s %s, not %s", name, ms < min_ms ? "least" : "most",
			    duration_format(ms < min_ms ? min_ms : max_ms, lim),
			    duration_format(ms, got));
		return ASSAY_EINVAL;
	}
	*out = ms;
	return 0;
}

int option_int(const assay_value *v, const char *what, int64_t min, int64_t max, int64_t *out)
{
	const char *name = option_name(v, what);
	int64_t n;

	if (value_type(v) != ASSAY_VALUE_INTEGER || value_int(v, &n) < 0) {
		value_error(v, "`%s` must be an integer, not %s", name, value_type_name(v));
		return ASSAY_EINVAL;
	}
	if (n >= min && n <= max) {
		*out = n;
		return 0;
	}
	if (max == INT64_MAX)
		value_error(v, "`%s` must be at least %lld, not %lld", name, (long long)min,
			    (long long)n);
	else
		value_error(v, "`%s` must be between %lld and %lld, not %lld", name, (long long)min,
			    (long long)max, (long long)n);
	return ASSAY_EINVAL;
}

/* "\"a\", \"b\" or \"c\"" into buf; cut (with "...") when it does not fit. */
static const char *option_list(const char *const *choices, size_t n, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && used < size; i++)
		used += (size_t)snprintf(buf + used, size - used, "%s\"%s\"",
					 i == 0 ? "" : i + 1 == n ? " or " : ", ", choices[i]);
	if (used >= size)
		memcpy(buf + size - 4, "...", 4);
	return buf;
}

int option_choice(const assay_value *v, const char *what, const char *const *choices, size_t n)
{
	const char *name = option_name(v, what), *s, *hint;
	char list[512];

	if (value_type(v) != ASSAY_VALUE_STRING) {
		value_error(v, "`%s` must be %s, not %s", name, option_list(choices, n, list, sizeof list),
			    value_type_name(v));
		return ASSAY_EINVAL;
	}
	s = value_string(v);
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, choices[i]) == 0)
			return (int)i;
	hint = suggest_word(s, choices, n);
	value_error(v, "`%s` must be %s, not \"%s\"%s%s%s", name,
		    option_list(choices, n, list, sizeof list), s, hint ? " (did you mean \"" : "",
		    hint ? hint : "", hint ? "\"?)" : "");
	return ASSAY_EINVAL;
}

int option_key(const assay_value *v, const char *where, const char *const *known, size_t n)
{
	const char *key = value_key(v), *hint;

	if (!key) /* an array's element has no key to be wrong */
		return 0;
	for (size_t i = 0; i < n; i++)
		if (strcmp(key, known[i]) == 0)
			return 0;
	hint = suggest_word(key, known, n);
	if (hint)
		value_key_error(v, "unknown key `%s` in %s (did you mean `%s`?)", key, where, hint);
	else
		value_key_error(v, "unknown key `%s` in %s", key, where);
	return ASSAY_EINVAL;
}
