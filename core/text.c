/* text.c -- text from plugins and commands made safe for an output: valid
 * UTF-8, visible escapes for control characters, lines cut to a width. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "text.h"

#define TAB_STOP 8

size_t text_decode(const char *str, size_t len, uint32_t *cp)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t need, i;
	uint32_t v;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	/* RFC 3629's table: the second byte's range excludes overlong
	 * forms, surrogates and what lies past U+10FFFF. */
	if (c >= 0xc2 && c <= 0xdf) {
		need = 1;
		v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 2;
		v = c & 0x0f;
		lo = c == 0xe0 ? 0xa0 : lo;
		hi = c == 0xed ? 0x9f : hi;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3;
		v = c & 0x07;
		lo = c == 0xf0 ? 0x90 : lo;
		hi = c == 0xf4 ? 0x8f : hi;
	} else {
		*cp = TEXT_INVALID;
		return 1;
	}
	for (i = 1; i <= need; i++) {
		unsigned char b = i < len ? s[i] : 0;

		if (b < lo || b > hi) {
			*cp = TEXT_INVALID;
			return i;
		}
		lo = 0x80;
		hi = 0xbf;
		v = v << 6 | (b & 0x3f);
	}
	*cp = v;
	return need + 1;
}

char *text_utf8(const char *s)
{
	size_t len = strlen(s), i = 0, n = 0;
	char *out = malloc(len * 3 + 1); /* a bad byte's U+FFFD takes three */
	uint32_t cp;

	if (!out)
		return NULL;
	while (i < len) {
		size_t k = text_decode(s + i, len - i, &cp);

		if (cp == TEXT_INVALID) {
			memcpy(out + n, "\xef\xbf\xbd", 3);
			n += 3;
		} else {
			memcpy(out + n, s + i, k);
			n += k;
		}
		i += k;
	}
	out[n] = '\0';
	return out;
}

typedef struct range {
	uint32_t lo, hi;
} range;

/* Characters that take no column (combining marks, zero-width spaces and
 * joiners, variation selectors) and those that take two (East Asian wide
 * and fullwidth, emoji): the common blocks, without a locale's tables. */
static const range zero_width[] = {
	{ 0x0300, 0x036f }, { 0x0483, 0x0489 }, { 0x0591, 0x05bd }, { 0x0610, 0x061a },
	{ 0x064b, 0x065f }, { 0x1ab0, 0x1aff }, { 0x1dc0, 0x1dff }, { 0x200b, 0x200d },
	{ 0x20d0, 0x20ff }, { 0xfe00, 0xfe0f }, { 0xfe20, 0xfe2f }, { 0xe0100, 0xe01ef },
};
static const range double_width[] = {
	{ 0x1100, 0x115f }, { 0x231a, 0x231b }, { 0x2329, 0x232a }, { 0x23e9, 0x23ec },
	{ 0x23f0, 0x23f0 }, { 0x23f3, 0x23f3 }, { 0x25fd, 0x25fe }, { 0x2614, 0x2615 },
	{ 0x2648, 0x2653 }, { 0x267f, 0x267f }, { 0x2693, 0x2693 }, { 0x26a1, 0x26a1 },
	{ 0x26aa, 0x26ab }, { 0x26bd, 0x26be }, { 0x26c4, 0x26c5 }, { 0x26ce, 0x26ce },
	{ 0x26d4, 0x26d4 }, { 0x26ea, 0x26ea }, { 0x26f2, 0x26f3 }, { 0x26f5, 0x26f5 },
	{ 0x26fa, 0x26fa }, { 0x26fd, 0x26fd }, { 0x2705, 0x2705 }, { 0x270a, 0x270b },
	{ 0x2728, 0x2728 }, { 0x274c, 0x274c }, { 0x274e, 0x274e }, { 0x2753, 0x2755 },
	{ 0x2757, 0x2757 }, { 0x2795, 0x2797 }, { 0x27b0, 0x27b0 }, { 0x27bf, 0x27bf },
	{ 0x2b1b, 0x2b1c }, { 0x2b50, 0x2b50 }, { 0x2b55, 0x2b55 }, { 0x2e80, 0x303e },
	{ 0x3041, 0x33ff }, { 0x3400, 0x4dbf }, { 0x4e00, 0x9fff }, { 0xa000, 0xa4cf },
	{ 0xa960, 0xa97f }, { 0xac00, 0xd7a3 }, { 0xf900, 0xfaff }, { 0xfe10, 0xfe19 },
	{ 0xfe30, 0xfe6f }, { 0xff00, 0xff60 }, { 0xffe0, 0xffe6 }, { 0x16fe0, 0x18aff },
	{ 0x1b000, 0x1b2ff }, { 0x1f004, 0x1f004 }, { 0x1f0cf, 0x1f0cf }, { 0x1f18e, 0x1f18e },
	{ 0x1f191, 0x1f19a }, { 0x1f200, 0x1f251 }, { 0x1f300, 0x1f64f }, { 0x1f680, 0x1f6ff },
	{ 0x1f7e0, 0x1f7eb }, { 0x1f90c, 0x1f9ff }, { 0x1fa70, 0x1faff }, { 0x20000, 0x2fffd },
	{ 0x30000, 0x3fffd },
};

static bool in_ranges(uint32_t cp, const range *r, size_t n)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cp < r[mid].lo)
			hi = mid;
		else if (cp > r[mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

/* The bidirectional controls reorder what follows them on screen (text
 * that reads as something else, "Trojan Source"); U+2028/9 break lines. */
static bool is_format_control(uint32_t cp)
{
	return cp == 0x061c || cp == 0x200e || cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

/* How the character at s shows: its bytes or an escape in buf, and its
 * columns; `col` is where it starts (for tabs).  Returns its length in s. */
static size_t render(const char *s, size_t len, size_t col, char buf[16], size_t *buf_len,
		     size_t *cols)
{
	static const char names[] = "\a\b\t\n\v\f\r\033";
	static const char letters[] = "abtnvfre";
	uint32_t cp;
	size_t k = text_decode(s, len, &cp);
	const char *named;

	if (cp == '\t') {
		*cols = TAB_STOP - col % TAB_STOP;
		memset(buf, ' ', *cols);
		*buf_len = *cols;
	} else if (cp < 0x20 && cp && (named = strchr(names, (int)cp))) {
		*buf_len = (size_t)snprintf(buf, 16, "\\%c", letters[named - names]);
		*cols = *buf_len;
	} else if (cp < 0x20 || cp == 0x7f) {
		*buf_len = (size_t)snprintf(buf, 16, "\\x%02x", (unsigned)cp);
		*cols = *buf_len;
	} else if ((cp >= 0x80 && cp <= 0x9f) || is_format_control(cp)) {
		*buf_len = (size_t)snprintf(buf, 16, "\\u%04x", (unsigned)cp);
		*cols = *buf_len;
	} else if (cp == TEXT_INVALID) {
		memcpy(buf, "\xef\xbf\xbd", 3);
		*buf_len = 3;
		*cols = 1;
	} else {
		memcpy(buf, s, k);
		*buf_len = k;
		*cols = in_ranges(cp, zero_width, sizeof zero_width / sizeof *zero_width) ? 0
		      : in_ranges(cp, double_width, sizeof double_width / sizeof *double_width) ? 2
		      : 1;
	}
	return k;
}

size_t text_width(const char *s, size_t len)
{
	size_t i = 0, col = 0, buf_len, cols;
	char buf[16];

	while (i < len) {
		i += render(s + i, len - i, col, buf, &buf_len, &cols);
		col += cols;
	}
	return col;
}

size_t text_put(FILE *out, const char *s, size_t len, size_t width)
{
	/* Room for the "…" if it does not all fit. */
	size_t limit = text_width(s, len) <= width ? width : width ? width - 1 : 0;
	size_t i = 0, col = 0, buf_len, cols;
	char buf[16];

	while (i < len) {
		size_t k = render(s + i, len - i, col, buf, &buf_len, &cols);

		if (col + cols > limit)
			break;
		fwrite(buf, 1, buf_len, out);
		col += cols;
		i += k;
	}
	if (i < len && width) {
		fputs("\xe2\x80\xa6", out);
		col++;
	}
	return col;
}

bool text_time(double t, char buf[TEXT_TIME_SIZE])
{
	time_t secs = (time_t)t;
	struct tm tm;

	if (t <= 0 || !gmtime_r(&secs, &tm))
		return false;
	snprintf(buf + strftime(buf, TEXT_TIME_SIZE, "%Y-%m-%dT%H:%M:%S", &tm), 12, ".%03dZ",
		 (int)((t - (double)secs) * 1000) % 1000);
	return true;
}
