/* value.c -- configuration values: interpolation, secrets, typed access. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "duration.h"
#include "value.h"

/* A secret file larger than this is a mistake (a key, not a disk image). */
#define SECRET_FILE_MAX (1 << 20)

typedef struct strbuf {
	char *p;
	size_t len, cap;
} strbuf;

static int sb_add(strbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p)
			return ASSAY_ENOMEM;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

static int value_add_secret(value_tree *t, const char *s, size_t n)
{
	char **secrets, *copy;

	if (n == 0)
		return 0;
	copy = strndup(s, n);
	secrets = copy ? realloc(t->secrets, (t->n_secrets + 1) * sizeof *secrets) : NULL;
	if (!secrets) {
		free(copy);
		return ASSAY_ENOMEM;
	}
	t->secrets = secrets;
	t->secrets[t->n_secrets++] = copy;
	/* Keep the diagnostics' view current: errors reported after this
	 * point are scrubbed of this secret too. */
	t->diag->secrets = (const char *const *)t->secrets;
	t->diag->n_secrets = t->n_secrets;
	return 0;
}

/* Read a ${file:PATH}: relative paths are from the config's directory;
 * one trailing newline is dropped, as files written with echo or by
 * secret stores end with one. */
static int value_read_file(value_tree *t, const assay_value *v,
			   const char *path, bool secret, strbuf *out)
{
	char *full = value_path(v, path), *buf;
	struct stat st;
	ssize_t got;
	size_t n = 0;
	int fd;

	if (!full)
		return ASSAY_ENOMEM;
	fd = open(full, O_RDONLY | O_CLOEXEC);
	free(full);
	if (fd < 0 || fstat(fd, &st) < 0) {
		value_error(v, "cannot read ${file:%s}: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > SECRET_FILE_MAX) {
		value_error(v, "${file:%s} is not a regular file of at most 1 MiB", path);
		close(fd);
		return 1;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return ASSAY_ENOMEM;
	}
	while (n < (size_t)st.st_size &&
	       ((got = read(fd, buf + n, (size_t)st.st_size - n)) > 0 ||
		(got < 0 && errno == EINTR)))
		if (got > 0)
			n += (size_t)got;
	close(fd);
	if (n && buf[n - 1] == '\n')
		n--;
	if (n && buf[n - 1] == '\r')
		n--;
	if (sb_add(out, buf, n) < 0 || (secret && value_add_secret(t, buf, n) < 0)) {
		free(buf);
		return ASSAY_ENOMEM;
	}
	free(buf);
	return 0;
}

/* The interpolations: the two secret ones, and the same sources in the
 * clear for what is not secret (a project name, a region), so that
 * masking does not eat every "p" of the output for PROJECT=p. */
static const char *const value_sources[] = {
	"${env:", "${file:", "${public-env:", "${public-file:", NULL
};

/* The length of the source prefix s starts with (of at most n bytes), or 0. */
static size_t value_source(const char *s, size_t n)
{
	for (const char *const *p = value_sources; *p; p++) {
		size_t len = strlen(*p);

		if (n > len && memcmp(s, *p, len) == 0)
			return len;
	}
	return 0;
}

/* An unset ${env:NAME} (name is NAME, ref what the braces hold): an error,
 * or a warning where the caller checks a file's structure without its
 * secrets (--allow-unset); the value is then read as if the variable were
 * empty.  Returns the errors reported. */
static int value_unset(const assay_value *v, const char *name, const char *ref)
{
	const char *file;
	unsigned line, column;

	if (!v->tree->diag->unset_is_warning) {
		value_error(v, "environment variable `%s` is not set (in `${%s}`)", name, ref);
		return 1;
	}
	value_pos(v, &file, &line, &column);
	diag_warn(v->tree->diag, file, line, column,
		  "environment variable `%s` is not set (in `${%s}`); read as empty", name, ref);
	return 0;
}

/* What one ${REF} stands for, appended to out: ref is what the braces
 * hold ("env:TOKEN", "public-file:name.txt").  *unresolved is set for an
 * unset variable.  Returns the errors reported, or ASSAY_ENOMEM. */
static int value_reference(value_tree *t, assay_value *v, const char *ref, strbuf *out,
			   bool *unresolved)
{
	bool public = strncmp(ref, "public-", 7) == 0;
	const char *src = ref + (public ? 7 : 0);
	int errors = 0;

	if (strncmp(src, "env:", 4) == 0 && src[4]) {
		const char *val = getenv(src + 4);

		if (!val) {
			errors = value_unset(v, src + 4, ref);
			*unresolved = true;
		} else if (sb_add(out, val, strlen(val)) < 0 ||
			   (!public && value_add_secret(t, val, strlen(val)) < 0)) {
			return ASSAY_ENOMEM;
		}
	} else if (strncmp(src, "file:", 5) == 0 && src[5]) {
		errors = value_read_file(t, v, src + 5, !public, out);
		if (errors < 0)
			return errors;
	} else {
		value_error(v, "`${%s}` names nothing to interpolate: write ${%sNAME} or ${%sPATH}",
			    ref, public ? "public-env:" : "env:", public ? "public-file:" : "file:");
		errors = 1;
	}
	if (!public)
		v->secret = true;
	return errors;
}

/* Expand ${env:NAME} and ${file:PATH} (secret) and ${public-env:NAME} and
 * ${public-file:PATH} in v's string; `$${` is a literal `${`.  Returns the
 * number of errors reported, or ASSAY_ENOMEM. */
static int value_interpolate(value_tree *t, assay_value *v, const char *s,
			     size_t len)
{
	const char *p = s, *end = s + len, *open, *close;
	strbuf out = { 0 };
	int errors = 0, rc;
	bool unresolved = false;

	/* Most strings interpolate nothing: they are read where they are. */
	if (!memchr(s, '$', len)) {
		v->str = s;
		return 0;
	}

	while (p < end) {
		open = memchr(p, '$', (size_t)(end - p));
		if (!open) {
			if (sb_add(&out, p, (size_t)(end - p)) < 0)
				goto nomem;
			break;
		}
		if (sb_add(&out, p, (size_t)(open - p)) < 0)
			goto nomem;
		if (open + 2 < end && open[1] == '$' && open[2] == '{') {
			if (sb_add(&out, "${", 2) < 0)
				goto nomem;
			p = open + 3;
			continue;
		}
		/* Only ${env:...}, ${file:...} and their public- forms are
		 * ours: a shell command's ${HOME} or ${n:-0} is left as written. */
		size_t prefix = value_source(open, (size_t)(end - open));

		if (!prefix) {
			if (sb_add(&out, "$", 1) < 0)
				goto nomem;
			p = open + 1;
			continue;
		}
		close = memchr(open, '}', (size_t)(end - open));
		if (!close) {
			value_error(v, "unterminated `%.*s` (write `$${` for a literal `${`)",
				    (int)prefix, open);
			errors++;
			break;
		}
		char *ref = strndup(open + 2, (size_t)(close - open - 2));

		rc = ref ? value_reference(t, v, ref, &out, &unresolved) : ASSAY_ENOMEM;
		free(ref);
		if (rc < 0)
			goto nomem;
		errors += rc;
		p = close + 1;
	}
	v->str = arena_strndup(&t->mem, out.p ? out.p : "", out.len);
	if (out.p && v->secret) /* one copy of a secret is enough */
		explicit_bzero(out.p, out.len);
	free(out.p);
	if (!v->str)
		return ASSAY_ENOMEM;
	/* After the reports above, which value_error() would drop. */
	v->unresolved = unresolved || errors;
	return errors;
nomem:
	free(out.p);
	return ASSAY_ENOMEM;
}

static assay_value_type value_type_of(const toml_value *src)
{
	switch (toml_value_type(src)) {
	case TOML_TABLE: return ASSAY_VALUE_TABLE;
	case TOML_ARRAY: return ASSAY_VALUE_ARRAY;
	case TOML_STRING: return ASSAY_VALUE_STRING;
	case TOML_INTEGER: return ASSAY_VALUE_INTEGER;
	case TOML_FLOAT: return ASSAY_VALUE_FLOAT;
	case TOML_BOOLEAN: return ASSAY_VALUE_BOOLEAN;
	default: return ASSAY_VALUE_DATETIME;
	}
}

static int value_build(value_tree *t, assay_value *v, const toml_value *src)
{
	size_t i, n, len;
	const char *s;
	int errors = 0, rc;

	v->src = src;
	v->tree = t;
	v->type = value_type_of(src);
	switch (toml_value_type(src)) {
	case TOML_STRING:
		s = toml_value_string(src, &len);
		return value_interpolate(t, v, s, len);
	case TOML_TABLE:
		n = toml_table_len(src);
		break;
	case TOML_ARRAY:
		n = toml_array_len(src);
		break;
	default:
		return 0;
	}
	v->items = n ? arena_calloc(&t->mem, n, sizeof *v->items) : NULL;
	if (n && !v->items)
		return ASSAY_ENOMEM;
	v->n = n;
	for (i = 0; i < n; i++) {
		const toml_value *child;

		if (toml_value_type(src) == TOML_TABLE)
			child = toml_table_at(src, i, &v->items[i].key,
					      &v->items[i].key_pos);
		else
			child = toml_array_at(src, i);
		rc = value_build(t, &v->items[i], child);
		if (rc < 0)
			return rc;
		errors += rc;
	}
	return errors;
}

int value_tree_build(value_tree *t, const toml_value *root, const char *file,
		     diag *d)
{
	const char *slash = strrchr(file, '/');

	memset(t, 0, sizeof *t);
	t->diag = d;
	t->file = strdup(file);
	t->dir = slash ? strndup(file, (size_t)(slash - file + (slash == file))) : NULL;
	if (!t->file || (slash && !t->dir))
		return ASSAY_ENOMEM;
	return value_build(t, &t->root, root);
}

void value_tree_release(value_tree *t)
{
	size_t i;

	arena_release(&t->mem);
	for (i = 0; i < t->n_secrets; i++) {
		/* Do not leave secrets in freed memory for a core dump. */
		explicit_bzero(t->secrets[i], strlen(t->secrets[i]));
		free(t->secrets[i]);
	}
	free(t->secrets);
	if (t->diag && t->diag->secrets == (const char *const *)t->secrets) {
		t->diag->secrets = NULL;
		t->diag->n_secrets = 0;
	}
	free(t->file);
	free(t->dir);
	memset(t, 0, sizeof *t);
}

assay_value_type value_type(const assay_value *v)
{
	return v->type;
}

const char *value_type_name(const assay_value *v)
{
	return toml_type_name(toml_value_type(v->src));
}

void value_pos(const assay_value *v, const char **file, unsigned *line,
	       unsigned *column)
{
	toml_pos pos = toml_value_pos(v->src);

	if (file)
		*file = v->tree->file;
	if (line)
		*line = pos.line;
	if (column)
		*column = pos.column;
}

const char *value_key(const assay_value *v)
{
	return v->key;
}

const char *value_string(const assay_value *v)
{
	return v->str;
}

bool value_secret(const assay_value *v)
{
	return v->secret;
}

int value_int(const assay_value *v, int64_t *out)
{
	return toml_value_int(v->src, out) ? 0 : ASSAY_EINVAL;
}

int value_float(const assay_value *v, double *out)
{
	return toml_value_float(v->src, out) ? 0 : ASSAY_EINVAL;
}

int value_bool(const assay_value *v, bool *out)
{
	return toml_value_bool(v->src, out) ? 0 : ASSAY_EINVAL;
}

int value_duration_ms(const assay_value *v, int64_t *out)
{
	double secs;
	int64_t ms;

	if (value_type(v) == ASSAY_VALUE_STRING)
		return duration_parse(v->str, out);
	if (value_float(v, &secs) < 0 || !isfinite(secs) || secs < 0 || secs > 9e12)
		return ASSAY_EINVAL;
	ms = (int64_t)ceil(secs * 1000);
	*out = ms;
	return 0;
}

size_t value_len(const assay_value *v)
{
	return v->n;
}

const assay_value *value_at(const assay_value *v, size_t i, const char **key)
{
	if (i >= v->n)
		return NULL;
	if (key)
		*key = v->items[i].key;
	return &v->items[i];
}

const assay_value *value_get(const assay_value *table, const char *key)
{
	size_t i;

	if (!table || value_type(table) != ASSAY_VALUE_TABLE)
		return NULL;
	for (i = 0; i < table->n; i++)
		if (strcmp(table->items[i].key, key) == 0)
			return &table->items[i];
	return NULL;
}

void value_error(const assay_value *v, const char *fmt, ...)
{
	toml_pos pos = toml_value_pos(v->src);
	va_list ap;

	if (v->unresolved)
		return;
	va_start(ap, fmt);
	diag_addv(v->tree->diag, v->tree->file, pos.line, pos.column, fmt, ap);
	va_end(ap);
}

void value_key_error(const assay_value *v, const char *fmt, ...)
{
	toml_pos pos = v->key ? v->key_pos : toml_value_pos(v->src);
	va_list ap;

	va_start(ap, fmt);
	diag_addv(v->tree->diag, v->tree->file, pos.line, pos.column, fmt, ap);
	va_end(ap);
}

char *value_path(const assay_value *v, const char *path)
{
	const char *dir = v->tree->dir;
	char *out;

	if (path[0] == '/' || !dir)
		return strdup(path);
	if (asprintf(&out, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", path) < 0)
		return NULL;
	return out;
}
