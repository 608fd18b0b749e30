/* http_headers.c -- response headers: finding one, reading Retry-After, telling credentials and tokens. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* timegm */
#endif

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "http.h"

static bool hspace(char c)
{
	return c == ' ' || c == '\t';
}

const char *http_header_find(const char *block, size_t block_len, const char *name,
			     const char *after, size_t *len)
{
	size_t nlen = strlen(name), pos = 0;

	if (!block)
		return NULL;
	while (pos < block_len) {
		const char *line = block + pos;
		const char *nl = memchr(line, '\n', block_len - pos);
		size_t llen = nl ? (size_t)(nl - line) : block_len - pos;

		pos += llen + 1;
		if (after && line <= after)
			continue;
		if (llen <= nlen || line[nlen] != ':' || strncasecmp(line, name, nlen) != 0)
			continue;
		const char *v = line + nlen + 1, *end = line + llen;
		while (v < end && hspace(*v))
			v++;
		while (end > v && (hspace(end[-1]) || end[-1] == '\r'))
			end--;
		*len = (size_t)(end - v);
		return v;
	}
	return NULL;
}

static int month_index(const char *m)
{
	static const char *const months[] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
	};

	for (int i = 0; i < 12; i++)
		if (strcmp(months[i], m) == 0)
			return i;
	return -1;
}

/* The three forms RFC 9110 5.6.7 says a recipient must accept:
 * "Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT" and
 * "Sun Nov  6 08:49:37 1994".  Parsed by hand: strptime's %a and %b
 * follow the locale, and HTTP's names are English whatever ours is. */
static bool parse_http_date(const char *s, time_t *out)
{
	struct tm tm = { 0 };
	char mon[4] = "";
	int day, year, h, m, sec, used = 0;
	const char *p = s;

	while (*p && *p != ',' && *p != ' ')
		p++;
	if (*p == ',') {
		p++;
		if (sscanf(p, " %2d %3[A-Za-z] %4d %2d:%2d:%2d GMT%n", &day, mon, &year, &h, &m,
			   &sec, &used) == 6 && used) {
		} else if (sscanf(p, " %2d-%3[A-Za-z]-%2d %2d:%2d:%2d GMT%n", &day, mon, &year, &h,
				  &m, &sec, &used) == 6 && used) {
			year += year < 70 ? 2000 : 1900; /* RFC 9110: 50 years ahead at most; close enough */
		} else {
			return false;
		}
	} else if (sscanf(p, " %3[A-Za-z] %2d %2d:%2d:%2d %4d%n", mon, &day, &h, &m, &sec, &year,
			  &used) != 6 || !used) {
		return false;
	}
	for (p += used; *p; p++)
		if (!hspace(*p))
			return false;
	tm.tm_mon = month_index(mon);
	if (tm.tm_mon < 0 || day < 1 || day > 31 || h > 23 || m > 59 || sec > 60 || year < 1970)
		return false;
	tm.tm_mday = day;
	tm.tm_year = year - 1900;
	tm.tm_hour = h;
	tm.tm_min = m;
	tm.tm_sec = sec;
	*out = timegm(&tm);
	return *out != (time_t)-1;
}

int64_t http_retry_after_ms(const char *value, size_t len, int64_t now_s)
{
	char buf[64];
	size_t i;

	while (len && hspace(*value))
		value++, len--;
	while (len && hspace(value[len - 1]))
		len--;
	if (len == 0 || len >= sizeof buf)
		return -1;
	memcpy(buf, value, len);
	buf[len] = '\0';
	for (i = 0; i < len && buf[i] >= '0' && buf[i] <= '9'; i++)
		;
	if (i == len) {
		int64_t s = 0;

		for (i = 0; i < len; i++) {
			if (s > INT64_MAX / 10000)
				return INT64_MAX; /* absurdly long: the caller caps it */
			s = s * 10 + (buf[i] - '0');
		}
		return s * 1000;
	}
	time_t when;
	if (!parse_http_date(buf, &when))
		return -1;
	return (int64_t)when > now_s ? ((int64_t)when - now_s) * 1000 : 0;
}

bool http_header_sensitive(const char *name)
{
	return strcasecmp(name, "Authorization") == 0 ||
	       strcasecmp(name, "Proxy-Authorization") == 0 ||
	       strcasecmp(name, "Cookie") == 0 || strcasecmp(name, "Set-Cookie") == 0;
}

bool http_token(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      strchr("!#$%&'*+-.^_`|~", c)))
			return false;
	}
	return true;
}
