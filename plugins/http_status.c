/* http_status.c -- expected status codes: a code or a class ("2xx"), matched and described. */
#include <string.h>

#include "http.h"

bool http_status_parse(const char *s, http_status_range *r)
{
	if (strlen(s) != 3 || s[0] < '1' || s[0] > '5')
		return false;
	if ((s[1] == 'x' || s[1] == 'X') && (s[2] == 'x' || s[2] == 'X')) {
		r->lo = (s[0] - '0') * 100;
		r->hi = r->lo + 99;
		return true;
	}
	if (s[1] < '0' || s[1] > '9' || s[2] < '0' || s[2] > '9')
		return false;
	r->lo = r->hi = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
	return true;
}

bool http_status_match(const http_status_range *r, size_t n, long code)
{
	if (n == 0)
		return code >= 200 && code <= 399;
	for (size_t i = 0; i < n; i++)
		if (code >= r[i].lo && code <= r[i].hi)
			return true;
	return false;
}

static void describe_one(const http_status_range *r, http_buf *out)
{
	if (r->lo == r->hi)
		http_buf_printf(out, "%d", r->lo);
	else
		http_buf_printf(out, "%dxx", r->lo / 100);
}

void http_status_describe(const http_status_range *r, size_t n, http_buf *out)
{
	static const http_status_range dflt[] = { { 200, 299 }, { 300, 399 } };

	if (n == 0) {
		r = dflt;
		n = 2;
	}
	if (n > 2)
		http_buf_puts(out, "one of ");
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			http_buf_puts(out, i + 1 == n ? " or " : ", ");
		describe_one(&r[i], out);
	}
}
