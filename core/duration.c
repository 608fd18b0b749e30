/* duration.c -- durations as an operator writes them ("1h30m", "1.5s", "200ms") and back. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"

int duration_parse(const char *s, int64_t *out)
{
	static const struct { const char *unit; double ms; } units[] = {
		{ "ms", 1 }, { "s", 1e3 }, { "m", 60e3 }, { "h", 3600e3 }, { "d", 86400e3 },
	};
	double total = 0;
	bool any = false;

	while (*s) {
		char *end;
		double n;
		size_t i, best = 0, best_len = 0;

		if (*s < '0' || *s > '9')
			return ASSAY_EINVAL; /* no sign, no space, no bare unit */
		errno = 0;
		n = strtod(s, &end);
		if (errno || end == s)
			return ASSAY_EINVAL;
		/* The longest unit that matches, so "ms" is not "m" + "s". */
		for (i = 0; i < sizeof units / sizeof *units; i++) {
			size_t len = strlen(units[i].unit);

			if (strncmp(end, units[i].unit, len) == 0 && len > best_len) {
				best = i;
				best_len = len;
			}
		}
		if (!best_len)
			return ASSAY_EINVAL;
		total += n * units[best].ms;
		s = end + best_len;
		any = true;
	}
	if (!any || !isfinite(total) || total > 9e15)
		return ASSAY_EINVAL;
	*out = (int64_t)ceil(total);
	return 0;
}

const char *duration_format(int64_t ms, char buf[32])
{
	static const struct { const char *unit; int64_t ms; } units[] = {
		{ "d", 86400000 }, { "h", 3600000 }, { "m", 60000 }, { "s", 1000 },
	};
	size_t i, used = 0;

	if (ms < 1000 || ms % 1000) {
		/* Below a second, or fractional: one number is clearer. */
		if (ms < 1000)
			snprintf(buf, 32, "%lldms", (long long)ms);
		else
			snprintf(buf, 32, "%gs", (double)ms / 1000);
		return buf;
	}
	buf[0] = '\0';
	for (i = 0; i < sizeof units / sizeof *units; i++)
		if (ms >= units[i].ms) {
			used += (size_t)snprintf(buf + used, 32 - used, "%lld%s",
						 (long long)(ms / units[i].ms), units[i].unit);
			ms %= units[i].ms;
		}
	return buf;
}
