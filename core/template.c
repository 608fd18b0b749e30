/* template.c -- placeholders in a node's strings: {NAME}, {item},
 * {NAME:raw}, {{ and }}; expanded as text, or for a /bin/sh script. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assay/plugin.h"
#include "template.h"

#define TPL_NAME_MAX 128 /* a longer {NAME} is text */
#define SH_DEPTH 64      /* nested quotes and substitutions followed */
#define SH_DOCS 8        /* here-documents pending on one line */

/* Where in a script a placeholder stands, as the shell will read it. */
typedef enum tpl_ctx {
	TPL_TEXT,   /* not a script */
	TPL_WORD,   /* unquoted */
	TPL_SQUOTE, /* inside '...' */
	TPL_DQUOTE, /* inside "...", an unquoted here-document, or a comment */
	TPL_LITERAL /* a here-document whose delimiter is quoted: nothing expands */
} tpl_ctx;

typedef struct tpl_ref {
	char name[TPL_NAME_MAX];
	bool raw;
	tpl_ctx ctx;
} tpl_ref;

typedef int (*tpl_text_fn)(const char *s, size_t n, void *arg);
typedef int (*tpl_ref_fn)(const tpl_ref *r, void *arg);

/* ---- a shell's quoting, followed far enough to place a placeholder ------ */

/* The shell's lexer in small: quotes, backslashes, $( ), ` `, comments
 * and here-documents.  Anything it gets wrong (a `case` pattern's `)` in
 * a $( ), say) only misplaces a placeholder, and every context expands to
 * a variable reference: the worst outcome is a wrong word, never a value
 * parsed as code. */
enum { SH_TOP, SH_PAREN, SH_BACKTICK, SH_DQUOTE, SH_ARITH };

typedef struct sh_doc {
	char delim[TPL_NAME_MAX];
	size_t len;
	bool quoted, strip_tabs;
} sh_doc;

typedef struct sh_state {
	unsigned char frame[SH_DEPTH];
	unsigned parens[SH_DEPTH];
	unsigned depth;
	bool squote, comment;
	sh_doc doc[SH_DOCS];
	unsigned n_docs;
	unsigned in_doc; /* 1 + the here-document whose body is being read; 0: none */
} sh_state;

static void sh_push(sh_state *st, unsigned char frame)
{
	if (st->depth + 1 < SH_DEPTH) {
		st->frame[++st->depth] = frame;
		st->parens[st->depth] = 0;
	}
}

static void sh_pop(sh_state *st)
{
	if (st->depth > 0)
		st->depth--;
}

static tpl_ctx sh_ctx(const sh_state *st)
{
	if (st->in_doc)
		return st->doc[st->in_doc - 1].quoted ? TPL_LITERAL : TPL_DQUOTE;
	if (st->comment)
		return TPL_DQUOTE; /* a reference cannot end the comment; a newline could */
	if (st->squote)
		return TPL_SQUOTE;
	/* $(( )) is read as in double quotes, and dash refuses quotes there */
	return st->frame[st->depth] == SH_DQUOTE || st->frame[st->depth] == SH_ARITH ? TPL_DQUOTE
										     : TPL_WORD;
}

/* p is at `<<` (not `<<<`): note the here-document whose body starts
 * after this line; returns what follows its delimiter word. */
static const char *sh_heredoc(sh_state *st, const char *p)
{
	sh_doc d = { .strip_tabs = p[2] == '-' };
	const char *q = p + 2 + d.strip_tabs;
	char in = 0;

	while (*q == ' ' || *q == '\t')
		q++;
	for (; *q && (in || !strchr(" \t\n;&|<>()", *q)); q++) {
		if (in && *q == in) {
			in = 0;
			continue;
		}
		if (!in && (*q == '\'' || *q == '"')) {
			in = *q;
			d.quoted = true;
			continue;
		}
		if (!in && *q == '\\' && q[1]) {
			d.quoted = true;
			q++;
		}
		if (d.len < sizeof d.delim - 1)
			d.delim[d.len++] = *q;
	}
	if (st->n_docs < SH_DOCS)
		st->doc[st->n_docs++] = d;
	return q;
}

/* Inside a here-document's body: its delimiter line ends it. */
static const char *sh_doc_step(sh_state *st, const char *s, const char *p)
{
	const sh_doc *d = &st->doc[st->in_doc - 1];

	if (p == s || p[-1] == '\n') {
		const char *q = p;
		size_t len;

		while (d->strip_tabs && *q == '\t')
			q++;
		len = strcspn(q, "\n");
		if (len == d->len && memcmp(q, d->delim, len) == 0) {
			if (++st->in_doc > st->n_docs)
				st->in_doc = st->n_docs = 0;
			return q[len] ? q + len + 1 : q + len;
		}
	}
	if (!d->quoted && *p == '\\' && p[1])
		return p + 2;
	return p + 1;
}

/* Past the shell's reading of the character(s) at p; s is the script. */
static const char *sh_step(sh_state *st, const char *s, const char *p)
{
	unsigned char f = st->frame[st->depth];

	if (st->in_doc)
		return sh_doc_step(st, s, p);
	if (st->comment && *p != '\n')
		return p + 1;
	st->comment = false;
	if (st->squote) {
		st->squote = *p != '\'';
		return p + 1;
	}
	if (*p == '\\')
		return p[1] ? p + 2 : p + 1;
	if (*p == '$' && p[1] == '(') {
		sh_push(st, p[2] == '(' ? SH_ARITH : SH_PAREN);
		return p + 2 + (p[2] == '(');
	}
	if (f == SH_ARITH) { /* only parentheses count: 1<<2 is no here-document */
		if (*p == '(')
			st->parens[st->depth]++;
		else if (*p == ')' && st->parens[st->depth])
			st->parens[st->depth]--;
		else if (*p == ')') {
			sh_pop(st);
			return p[1] == ')' ? p + 2 : p + 1;
		}
		return p + 1;
	}
	if (f == SH_DQUOTE) {
		if (*p == '"')
			sh_pop(st);
		else if (*p == '`')
			sh_push(st, SH_BACKTICK);
		return p + 1;
	}
	switch (*p) {
	case '\'':
		st->squote = true;
		break;
	case '"':
		sh_push(st, SH_DQUOTE);
		break;
	case '`':
		if (f == SH_BACKTICK)
			sh_pop(st);
		else
			sh_push(st, SH_BACKTICK);
		break;
	case '(':
		if (f == SH_PAREN)
			st->parens[st->depth]++;
		break;
	case ')':
		if (f == SH_PAREN && st->parens[st->depth])
			st->parens[st->depth]--;
		else if (f == SH_PAREN)
			sh_pop(st);
		break;
	case '#':
		st->comment = p == s || strchr(" \t\n;&|()<>", p[-1]);
		break;
	case '<':
		if (p[1] == '<' && p[2] != '<')
			return sh_heredoc(st, p);
		break;
	case '\n':
		if (st->n_docs)
			st->in_doc = 1;
		break;
	}
	return p + 1;
}

/* ---- the walk ---------------------------------------------------------------- */

static bool tpl_name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool tpl_name_char(char c)
{
	return tpl_name_start(c) || (c >= '0' && c <= '9');
}

/* The placeholder at p, `{NAME}` or `{NAME:raw}` -- NAME may be
 * `best.NAME`, the best trial's of the sweep before -- : its length, or 0. */
static size_t tpl_placeholder(const char *p, tpl_ref *r)
{
	size_t n = 1;

	if (p[0] != '{' || !tpl_name_start(p[1]))
		return 0;
	while (tpl_name_char(p[n]))
		n++;
	if (n == 5 && strncmp(p + 1, "best", 4) == 0 && p[5] == '.' && tpl_name_start(p[6]))
		for (n = 6; tpl_name_char(p[n]); n++)
			;
	if (n - 1 >= sizeof r->name)
		return 0;
	memcpy(r->name, p + 1, n - 1);
	r->name[n - 1] = '\0';
	r->raw = strncmp(p + n, ":raw}", 5) == 0;
	if (r->raw)
		return n + 5;
	return p[n] == '}' ? n + 1 : 0;
}

/* Calls text() for the literal runs of tmpl and ref() for each
 * placeholder, in order.  Returns how many places expansion changes
 * (placeholders, {{ and }}), or the first negative callback result. */
static int tpl_walk(const char *tmpl, bool shell, tpl_text_fn text, tpl_ref_fn ref, void *arg)
{
	const char *p = tmpl, *run = tmpl;
	sh_state st;
	tpl_ref r;
	int changes = 0, rc;
	size_t n;

	memset(&st, 0, sizeof st);
	while (*p) {
		bool brace = (p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}');

		/* Not after `$`: the shell's ${NAME} is its own. */
		n = brace || (p > tmpl && p[-1] == '$') ? 0 : tpl_placeholder(p, &r);
		if (!brace && !n) {
			p = shell ? sh_step(&st, tmpl, p) : p + 1;
			continue;
		}
		if ((rc = text(run, (size_t)(p - run), arg)) < 0)
			return rc;
		if (brace) {
			rc = text(p, 1, arg);
			p += 2;
		} else {
			r.ctx = shell ? sh_ctx(&st) : TPL_TEXT;
			rc = ref(&r, arg);
			p += n;
		}
		if (rc < 0)
			return rc;
		changes++;
		run = p;
	}
	rc = text(run, (size_t)(p - run), arg);
	return rc < 0 ? rc : changes;
}

/* ---- check ------------------------------------------------------------------- */

typedef struct tpl_checker {
	unsigned kind;
	template_lookup lookup;
	void *arg;
	char **msg;
} tpl_checker;

static int tpl_check_text(const char *s, size_t n, void *arg)
{
	return 0;
}

static int tpl_check_ref(const tpl_ref *r, void *arg)
{
	tpl_checker *c = arg;
	int rc;

	if (!c->lookup(r->name, c->arg) && strncmp(r->name, "best.", 5) == 0)
		rc = asprintf(c->msg, "unknown placeholder `{%s}`: {best.NAME} is a parameter or a metric of "
			      "the best trial of the one sweep the node is `after` (or {best.trial_dir}); "
			      "this one is after no sweep, or several",
			      r->name);
	else if (!c->lookup(r->name, c->arg))
		rc = asprintf(c->msg, "unknown placeholder `{%s}`: %s (write `{{` and `}}` for literal braces)",
			      r->name,
			      c->kind != ASSAY_KIND_TRIAL && (strcmp(r->name, "trial_dir") == 0 ||
							      strcmp(r->name, "seed") == 0)
			      ? "only a trial has {trial_dir} and {seed}"
			      : c->kind == ASSAY_KIND_VALIDATION ? "a validation knows only {item}"
			      : c->kind == ASSAY_KIND_TRIAL ? "the trial's matrix has no such parameter"
			      : "a check has no parameters");
	else if (r->ctx == TPL_LITERAL && !r->raw)
		rc = asprintf(c->msg, "`{%s}` is in a here-document whose delimiter is quoted, where the shell expands nothing: unquote the delimiter, or write `{%s:raw}` to paste the text as it is",
			      r->name, r->name);
	else
		return 0;
	if (rc < 0)
		*c->msg = NULL;
	return -1;
}

int template_check(const char *tmpl, bool shell, unsigned kind, template_lookup lookup,
		   void *arg, char **msg)
{
	tpl_checker c = { kind, lookup, arg, msg };

	int rc;

	*msg = NULL;
	rc = tpl_walk(tmpl, shell, tpl_check_text, tpl_check_ref, &c);
	return rc < 0 ? -1 : rc;
}

/* ---- expand ----------------------------------------------------------------- */

typedef struct tpl_out {
	char *s;
	size_t len, cap;
	template_lookup lookup;
	template_setenv setenv;
	void *arg;
} tpl_out;

static int tpl_put(const char *s, size_t n, void *arg)
{
	tpl_out *o = arg;

	if (o->len + n + 1 > o->cap) {
		size_t cap = (o->len + n + 1) * 2;
		char *grown = realloc(o->s, cap);

		if (!grown)
			return ASSAY_ENOMEM;
		o->s = grown;
		o->cap = cap;
	}
	memcpy(o->s + o->len, s, n);
	o->len += n;
	o->s[o->len] = '\0';
	return 0;
}

static int tpl_puts(tpl_out *o, const char *s)
{
	return tpl_put(s, strlen(s), o);
}

/* A placeholder in a script: the value goes to the environment, and the
 * script gets a reference to it quoted for where it stands. */
static int tpl_put_ref(const tpl_ref *r, void *arg)
{
	tpl_out *o = arg;
	const char *value = o->lookup(r->name, o->arg);
	char var[sizeof r->name + 16];
	int rc;

	if (!value)
		return ASSAY_EINVAL;
	if (r->ctx == TPL_TEXT || r->raw)
		return tpl_puts(o, value);
	if (r->ctx == TPL_LITERAL)
		return ASSAY_EINVAL; /* template_check() refuses it */
	if (strcmp(r->name, "item") == 0)
		snprintf(var, sizeof var, "ASSAY_ITEM");
	else if (strncmp(r->name, "best.", 5) == 0)
		snprintf(var, sizeof var, "ASSAY_BEST_%s", r->name + 5);
	else
		snprintf(var, sizeof var, "ASSAY_PARAM_%s", r->name);
	if ((rc = o->setenv(var, value, o->arg)) < 0)
		return rc;
	if ((rc = tpl_puts(o, r->ctx == TPL_WORD ? "\"${" : r->ctx == TPL_SQUOTE ? "'\"${" : "${")) < 0 ||
	    (rc = tpl_puts(o, var)) < 0)
		return rc;
	return tpl_puts(o, r->ctx == TPL_WORD ? "}\"" : r->ctx == TPL_SQUOTE ? "}\"'" : "}");
}

char *template_expand(const char *tmpl, bool shell, template_lookup lookup,
		      template_setenv setenv, void *arg, int *err)
{
	tpl_out o = { .lookup = lookup, .setenv = setenv, .arg = arg };
	int rc = tpl_put("", 0, &o);

	if (rc == 0)
		rc = tpl_walk(tmpl, shell, tpl_put, tpl_put_ref, &o);
	if (err)
		*err = rc < 0 ? rc : 0;
	if (rc < 0) {
		free(o.s);
		return NULL;
	}
	return o.s;
}
