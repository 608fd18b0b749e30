/* exec_perfdata.c -- monitoring-plugins output read: perfdata as metrics, the long output as text. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strtod_l */
#endif

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "exec_common.h"

#define EXEC_MAX_WARNINGS 5 /* malformed items logged one by one */

typedef struct exec_perf {
	const assay_host *host;
	assay_task *task;
	locale_t c_locale;
	unsigned skipped;
	void (*seen)(void *arg, const char *name);
	void *seen_arg;
} exec_perf;

static bool exec_perf_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f' || c == '\0';
}

/* Length of the C-locale number at the start of s[0..len), or 0. */
static size_t exec_number_len(const char *s, size_t len)
{
	size_t i = 0, digits = 0;

	if (i < len && (s[i] == '+' || s[i] == '-'))
		i++;
	for (; i < len && (unsigned)(s[i] - '0') < 10; i++)
		digits++;
	if (i < len && s[i] == '.')
		for (i++; i < len && (unsigned)(s[i] - '0') < 10; i++)
			digits++;
	if (!digits)
		return 0;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		size_t j = i + 1;
		if (j < len && (s[j] == '+' || s[j] == '-'))
			j++;
		if (j < len && (unsigned)(s[j] - '0') < 10) {
			while (j < len && (unsigned)(s[j] - '0') < 10)
				j++;
			i = j;
		}
	}
	return i;
}

static bool exec_number(const exec_perf *pf, const char *s, size_t len, double *out)
{
	char tmp[64];

	if (len == 0 || len >= sizeof tmp)
		return false;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	*out = strtod_l(tmp, NULL, pf->c_locale);
	return true;
}

static bool exec_whole_number(const char *s, size_t len)
{
	return len > 0 && exec_number_len(s, len) == len;
}

/* A monitoring-plugins range: [@][start:][end], start may be ~. */
static bool exec_range(const char *s, size_t len)
{
	size_t i = 0;

	if (i < len && s[i] == '@')
		i++;
	const char *colon = memchr(s + i, ':', len - i);
	if (!colon)
		return exec_whole_number(s + i, len - i);
	size_t slen = (size_t)(colon - s) - i, elen = len - (size_t)(colon - s) - 1;
	bool start_ok = slen == 0 || (slen == 1 && s[i] == '~') || exec_whole_number(s + i, slen);
	bool end_ok = elen == 0 || exec_whole_number(colon + 1, elen);
	return start_ok && end_ok && (slen || elen);
}

static bool exec_unit(const char *s, size_t len)
{
	static const char *const units[] = {
		"s", "ms", "us", "%", "B", "KB", "MB", "GB", "TB", "c"
	};

	for (size_t i = 0; i < sizeof units / sizeof *units; i++)
		if (strlen(units[i]) == len && strncasecmp(units[i], s, len) == 0)
			return true;
	return false;
}

/* Parses value[UOM];warn;crit;min;max of the item named name and adds the
 * metric.  Returns NULL, or why the item is skipped. */
static const char *exec_perf_value(exec_perf *pf, const char *name, const char *s, const char *end)
{
	const assay_host *h = pf->host;
	const char *f[5] = { 0 };
	size_t flen[5] = { 0 }, nf = 0;
	assay_metric m = { .name = name };
	double value;

	for (const char *p = s;;) {
		const char *semi = memchr(p, ';', (size_t)(end - p));
		const char *fe = semi ? semi : end;
		if (nf < 5) {
			f[nf] = p;
			flen[nf++] = (size_t)(fe - p);
		} else if (fe > p) {
			return "more than five fields";
		}
		if (!semi)
			break;
		p = semi + 1;
	}
	if (flen[0] == 1 && f[0][0] == 'U') {
		h->task_log(pf->task, ASSAY_LOG_DEBUG, "perfdata: `%s` has no value (U)", name);
		return NULL;
	}
	size_t nlen = exec_number_len(f[0], flen[0]);
	if (!nlen || !exec_number(pf, f[0], nlen, &value))
		return "the value is not a number";
	if (nlen < flen[0] && !exec_unit(f[0] + nlen, flen[0] - nlen))
		return "unknown unit of measurement";
	if (flen[1] && !exec_range(f[1], flen[1]))
		return "the warning threshold is not a range";
	if (flen[2] && !exec_range(f[2], flen[2]))
		return "the critical threshold is not a range";
	if (flen[3] &&
	    (!exec_whole_number(f[3], flen[3]) || !exec_number(pf, f[3], flen[3], &m.min)))
		return "the minimum is not a number";
	if (flen[4] &&
	    (!exec_whole_number(f[4], flen[4]) || !exec_number(pf, f[4], flen[4], &m.max)))
		return "the maximum is not a number";

	char *unit = nlen < flen[0] ? strndup(f[0] + nlen, flen[0] - nlen) : NULL;
	char *warn = flen[1] ? strndup(f[1], flen[1]) : NULL;
	char *crit = flen[2] ? strndup(f[2], flen[2]) : NULL;
	m.value = value;
	m.unit = unit;
	m.warn = warn;
	m.crit = crit;
	m.flags = (flen[3] ? ASSAY_METRIC_MIN : 0) | (flen[4] ? ASSAY_METRIC_MAX : 0);
	int rc = ASSAY_ENOMEM;
	if ((nlen == flen[0] || unit) && (!flen[1] || warn) && (!flen[2] || crit))
		rc = h->add_metric(pf->task, &m);
	if (rc == 0 && pf->seen)
		pf->seen(pf->seen_arg, name);
	if (rc < 0)
		h->task_log(pf->task, ASSAY_LOG_WARNING, "perfdata: cannot add `%s`: %s", name,
			    h->strerror(rc));
	free(unit);
	free(warn);
	free(crit);
	return NULL;
}

/* Reads the label at *pp ('quoted' with '' for a quote, or bare up to
 * '='), leaving *pp after the '='.  Returns it malloc'd, or NULL with *why. */
static char *exec_perf_label(const char **pp, const char *end, const char **why)
{
	const char *p = *pp;
	char *name = malloc((size_t)(end - p) + 1);
	size_t k = 0;

	if (!name) {
		*why = "out of memory";
		return NULL;
	}
	if (*p == '\'') {
		for (p++;; p++) {
			if (p >= end) {
				*why = "unterminated quote";
				goto bad;
			}
			if (*p == '\'') {
				if (p + 1 < end && p[1] == '\'') {
					name[k++] = *p++;
					continue;
				}
				p++;
				break;
			}
			name[k++] = *p;
		}
	} else {
		while (p < end && *p != '=' && !exec_perf_space(*p))
			name[k++] = *p++;
	}
	name[k] = '\0';
	if (p >= end || *p != '=') {
		*why = "no `=` after the label";
		goto bad;
	}
	if (k == 0) {
		*why = "empty label";
		goto bad;
	}
	*pp = p + 1;
	return name;
bad:
	*pp = p;
	free(name);
	return NULL;
}

/* Every 'label'=value[UOM];[warn];[crit];[min];[max] in [p, end). */
static void exec_perf_items(exec_perf *pf, const char *p, const char *end)
{
	while (p < end) {
		if (exec_perf_space(*p) || *p == '|') {
			p++;
			continue;
		}
		const char *item = p, *why = NULL;
		char *name = exec_perf_label(&p, end, &why);
		const char *vstart = p;
		while (p < end && !exec_perf_space(*p))
			p++;
		if (name) {
			why = exec_perf_value(pf, name, vstart, p);
			free(name);
		}
		if (why && ++pf->skipped <= EXEC_MAX_WARNINGS) {
			int len = (int)(p - item);
			pf->host->task_log(pf->task, ASSAY_LOG_WARNING,
					   "perfdata: skipped `%.*s%s`: %s", len > 80 ? 80 : len,
					   item, len > 80 ? "..." : "", why);
		}
	}
}

/* Perfdata follows the first '|' of line one and, in the long output, the
 * first '|' of any later line; after a later '|', lines without one are
 * perfdata too, as Nagios reads them.  The long output is the text before
 * that. */
char *exec_perfdata_parse(const assay_host *host, assay_task *task, locale_t c_locale,
			  const char *buf, size_t n)
{
	return exec_perfdata_parse_seen(host, task, c_locale, buf, n, NULL, NULL);
}

char *exec_perfdata_parse_seen(const assay_host *host, assay_task *task, locale_t c_locale,
			       const char *buf, size_t n,
			       void (*seen)(void *arg, const char *name), void *arg)
{
	exec_perf pf = { .host = host, .task = task, .c_locale = c_locale, .seen = seen,
			 .seen_arg = arg };
	char *text = buf ? malloc(n + 1) : NULL;
	size_t start = 0, tlen = 0;
	bool in_perf = false;

	for (unsigned line = 0; buf && start < n; line++) {
		const char *s = buf + start, *nl = memchr(s, '\n', n - start);
		size_t len = nl ? (size_t)(nl - s) : n - start;
		const char *bar = memchr(s, '|', len);

		if (bar)
			exec_perf_items(&pf, bar + 1, s + len);
		else if (in_perf)
			exec_perf_items(&pf, s, s + len);
		if (text && line > 0 && !in_perf) {
			size_t keep = bar ? (size_t)(bar - s) : len;
			while (keep > 0 && exec_perf_space(s[keep - 1]))
				keep--;
			if (tlen > 0)
				text[tlen++] = '\n';
			memcpy(text + tlen, s, keep);
			tlen += keep;
		}
		in_perf = in_perf || (bar && line > 0);
		start += len + 1;
	}
	if (pf.skipped > EXEC_MAX_WARNINGS)
		host->task_log(task, ASSAY_LOG_WARNING, "perfdata: %u more malformed items skipped",
			       pf.skipped - EXEC_MAX_WARNINGS);
	while (tlen > 0 && (text[tlen - 1] == '\n' || exec_perf_space(text[tlen - 1])))
		tlen--;
	if (tlen == 0) {
		free(text);
		return NULL;
	}
	text[tlen] = '\0';
	return text;
}
