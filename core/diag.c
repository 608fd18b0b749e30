/* diag.c -- configuration diagnostics: collect, scrub, print. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "mask.h"

char *diag_scrub(const char *s, const char *const *secrets, size_t n_secrets)
{
	return mask_text(s, strlen(s), secrets, n_secrets, 0, NULL);
}

/* One line, error or warning.  The message is never cut: a long one (a
 * cycle through many nodes) is the caller's to shorten where it reads best. */
static void diag_line(diag *d, const char *file, unsigned line, unsigned column, bool warning,
		      const char *fmt, va_list ap)
{
	const char *kind = warning ? "warning: " : "";
	char *msg = NULL, *full = NULL, **lines, *clean = NULL;
	diag_pos *pos;
	int rc;

	if (d->n >= DIAG_MAX) {
		d->dropped += !warning;
		return;
	}
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	if (!msg)
		rc = -1;
	else if (file && line)
		rc = asprintf(&full, "%s:%u:%u: %s%s", file, line, column, kind, msg);
	else if (file)
		rc = asprintf(&full, "%s: %s%s", file, kind, msg);
	else
		rc = asprintf(&full, "%s%s", kind, msg);
	free(msg);
	if (rc >= 0) {
		clean = diag_scrub(full, d->secrets, d->n_secrets);
		free(full);
	}
	lines = clean ? realloc(d->lines, (d->n + 1) * sizeof *lines) : NULL;
	if (lines)
		d->lines = lines;
	pos = lines ? realloc(d->pos, (d->n + 1) * sizeof *pos) : NULL;
	if (!pos) {
		/* Out of memory while reporting: count it so the run still fails. */
		free(clean);
		d->dropped += !warning;
		return;
	}
	d->pos = pos;
	d->pos[d->n] = (diag_pos){ line, column, warning };
	d->lines[d->n++] = clean;
	d->n_warnings += warning;
}

void diag_addv(diag *d, const char *file, unsigned line, unsigned column, const char *fmt,
	       va_list ap)
{
	diag_line(d, file, line, column, false, fmt, ap);
}

void diag_add(diag *d, const char *file, unsigned line, unsigned column, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_addv(d, file, line, column, fmt, ap);
	va_end(ap);
}

void diag_warnv(diag *d, const char *file, unsigned line, unsigned column, const char *fmt,
		va_list ap)
{
	diag_line(d, file, line, column, true, fmt, ap);
}

void diag_warn(diag *d, const char *file, unsigned line, unsigned column, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_warnv(d, file, line, column, fmt, ap);
	va_end(ap);
}

size_t diag_count(const diag *d)
{
	return d->n - d->n_warnings + d->dropped;
}

static int cmp_pos(const void *a, const void *b, void *arg)
{
	const diag *d = arg;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	const diag_pos *p = &d->pos[x], *q = &d->pos[y];

	if (p->line != q->line)
		return p->line < q->line ? -1 : 1;
	if (p->column != q->column)
		return p->column < q->column ? -1 : 1;
	return x < y ? -1 : x > y; /* stable: as reported */
}

void diag_print(const diag *d, FILE *out)
{
	size_t *order = malloc((d->n ? d->n : 1) * sizeof *order), i;

	for (i = 0; order && i < d->n; i++)
		order[i] = i;
	if (order)
		qsort_r(order, d->n, sizeof *order, cmp_pos, (void *)d);
	for (i = 0; i < d->n; i++)
		fprintf(out, "%s\n", d->lines[order ? order[i] : i]);
	free(order);
	if (d->dropped)
		fprintf(out, "... and %zu more error%s\n", d->dropped, d->dropped == 1 ? "" : "s");
}

void diag_print_total(const diag *d, const char *path, FILE *out)
{
	size_t errors = diag_count(d);

	if (!errors && !d->n_warnings)
		return;
	diag_print(d, out);
	fprintf(out, "%s: ", path);
	if (errors)
		fprintf(out, "%zu error%s%s", errors, errors == 1 ? "" : "s",
			d->n_warnings ? ", " : "");
	if (d->n_warnings)
		fprintf(out, "%zu warning%s", d->n_warnings, d->n_warnings == 1 ? "" : "s");
	fputc('\n', out);
}

void diag_release(diag *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		free(d->lines[i]);
	free(d->lines);
	free(d->pos);
	d->lines = NULL;
	d->pos = NULL;
	d->n = d->n_warnings = d->dropped = 0;
}
