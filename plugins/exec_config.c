/* exec_config.c -- exec's options, checked at load time into a prepared node; the plugin's default convention. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* newlocale */
#endif

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "exec_common.h"

#define EXEC_DEFAULT_LIMIT ((int64_t)64 * 1024) /* bytes kept per stream */
#define EXEC_MAX_LIMIT ((int64_t)1 << 30)
#define EXEC_DEFAULT_GRACE_MS 5000
#define EXEC_DEFAULT_LOG_LIMIT ((uint64_t)16 << 20) /* a trial's files: bytes kept in each */
#define EXEC_MAX_LOG_LIMIT ((uint64_t)1 << 40)

/* Takes the string v as the template `what` into t; the host checks its
 * placeholders now, so that a bad one is a config error at its position
 * rather than a failed run.  A secret is never a template.  Returns the
 * number of errors reported (0 or 1) or ASSAY_ENOMEM. */
static int exec_template(const exec_ctx *ctx, assay_node *node, const assay_value *v,
			 const char *what, exec_tmpl *t)
{
	const assay_host *h = ctx->host;

	t->secret = h->value_secret(v);
	if (!(t->text = strdup(h->value_string(v))))
		return ASSAY_ENOMEM;
	if (t->secret)
		return 0;
	return (t->script ? h->check_shell_template(node, v, what) : h->check_template(node, v, what)) < 0;
}

/* Returns the number of errors reported, or ASSAY_ENOMEM. */
static int exec_prepare_command(const exec_ctx *ctx, assay_node *node,
				const assay_value *opts, bool shell, exec_node *n)
{
	const assay_host *h = ctx->host;
	const assay_value *cmd = h->value_get(opts, "command");
	size_t lead = shell ? 2 : 0, len;
	int errors = 0, r;

	if (!cmd) {
		h->config_error(opts, "`command` is missing: the program and its arguments, as an array of strings");
		return 1;
	}
	switch (h->value_type(cmd)) {
	case ASSAY_VALUE_STRING:
		if (!shell) {
			h->config_error(cmd, "`command` is a string: write it as an array of arguments, or set `shell = true` to run it with /bin/sh -c");
			return 1;
		}
		len = 1;
		break;
	case ASSAY_VALUE_ARRAY:
		len = h->value_len(cmd);
		if (len == 0) {
			h->config_error(cmd, "`command` must not be empty");
			return 1;
		}
		break;
	default:
		h->config_error(cmd, shell ? "`command` must be a string or an array of strings, not %s"
					   : "`command` must be an array of strings, not %s",
				h->value_type_name(cmd));
		return 1;
	}
	n->argv = calloc(lead + len, sizeof *n->argv);
	if (!n->argv)
		return ASSAY_ENOMEM;
	n->argc = lead + len;
	if (shell && (!(n->argv[0].text = strdup("/bin/sh")) || !(n->argv[1].text = strdup("-c"))))
		return ASSAY_ENOMEM;
	for (size_t i = 0; i < len; i++) {
		bool whole = h->value_type(cmd) == ASSAY_VALUE_STRING;
		const assay_value *e = whole ? cmd : h->value_at(cmd, i, NULL);
		char what[32];

		/* The script; what follows it is $0, $1 ..., which no shell parses. */
		n->argv[lead + i].script = shell && i == 0;
		if (whole)
			snprintf(what, sizeof what, "command");
		else
			snprintf(what, sizeof what, "command[%zu]", i);
		if (h->value_type(e) != ASSAY_VALUE_STRING) {
			h->config_error(e, "`%s` must be a string, not %s", what,
					h->value_type_name(e));
			errors++;
		} else if (i == 0 && !*h->value_string(e)) {
			h->config_error(e, shell ? "`%s` must not be empty: it is the script /bin/sh runs"
						 : "`%s` must not be empty: it is the program to run",
					what);
			errors++;
		} else if ((r = exec_template(ctx, node, e, what, &n->argv[lead + i])) < 0) {
			return r;
		} else {
			errors += r;
		}
	}
	return errors;
}

static bool exec_env_name_ok(const char *name)
{
	return name && *name && !strchr(name, '=');
}

static int exec_prepare_env(const exec_ctx *ctx, assay_node *node,
			    const assay_value *v, exec_node *n)
{
	const assay_host *h = ctx->host;
	int errors = 0, r;

	if (!v)
		return 0;
	if (h->value_type(v) != ASSAY_VALUE_TABLE) {
		h->config_error(v, "`env` must be a table of strings, such as env = { LANG = \"C\" }, not %s",
				h->value_type_name(v));
		return 1;
	}
	size_t len = h->value_len(v);
	n->env = calloc(len ? len : 1, sizeof *n->env);
	if (!n->env)
		return ASSAY_ENOMEM;
	for (size_t i = 0; i < len; i++) {
		const char *key = NULL;
		const assay_value *e = h->value_at(v, i, &key);
		char what[256];

		if (!exec_env_name_ok(key)) {
			h->config_error(e, "`env`: `%s` is not a valid environment variable name",
					key ? key : "");
			errors++;
			continue;
		}
		snprintf(what, sizeof what, "env.%s", key);
		if (h->value_type(e) != ASSAY_VALUE_STRING) {
			h->config_error(e, "`%s` must be a string, not %s", what,
					h->value_type_name(e));
			errors++;
			continue;
		}
		n->env[n->n_env].name = key;
		r = exec_template(ctx, node, e, what, &n->env[n->n_env++].value);
		if (r < 0)
			return r;
		errors += r;
	}
	return errors;
}

/* A relative cwd is relative to the directory of the file it is written
 * in, as every path of a config is.  It is joined after expansion, since
 * a placeholder may stand for an absolute path. */
static int exec_prepare_cwd(const exec_ctx *ctx, assay_node *node,
			    const assay_value *v, exec_node *n)
{
	const assay_host *h = ctx->host;

	if (!v)
		return 0;
	if (h->value_type(v) != ASSAY_VALUE_STRING) {
		h->config_error(v, "`cwd` must be a string, not %s", h->value_type_name(v));
		return 1;
	}
	if (!*h->value_string(v)) {
		h->config_error(v, "`cwd` must not be empty");
		return 1;
	}
	n->cwd_at = v;
	return exec_template(ctx, node, v, "cwd", &n->cwd);
}

static int exec_prepare_ok_exit(const exec_ctx *ctx, const assay_value *v,
				exec_node *n)
{
	const assay_host *h = ctx->host;
	int errors = 0;

	if (!v)
		return 0;
	if (h->value_type(v) != ASSAY_VALUE_ARRAY) {
		h->config_error(v, "`ok_exit` must be an array of exit codes, such as [0, 1], not %s",
				h->value_type_name(v));
		return 1;
	}
	if (h->value_len(v) == 0) {
		h->config_error(v, "`ok_exit` must not be empty");
		return 1;
	}
	n->has_ok_exit = true;
	for (size_t i = 0; i < h->value_len(v); i++) {
		const assay_value *e = h->value_at(v, i, NULL);
		char what[32];
		int64_t code;

		snprintf(what, sizeof what, "ok_exit[%zu]", i);
		if (h->check_int(e, what, 0, 255, &code) < 0)
			errors++;
		else
			n->ok_exit[code / 8] |= (uint8_t)(1u << (code % 8));
	}
	return errors;
}

/* `convention` at v into *out: 0, or 1 after reporting. */
static int exec_parse_convention(const assay_host *h, const assay_value *v, exec_convention *out)
{
	/* In exec_convention's order. */
	static const char *const names[] = { "plain", "monitoring-plugins", NULL };
	int c = h->check_choice(v, NULL, names);

	if (c < 0)
		return 1;
	*out = (exec_convention)c;
	return 0;
}

/* After ok_exit: it lists a plain command's codes, whatever the default. */
static int exec_prepare_convention(const exec_ctx *ctx, const assay_value *v, exec_node *n)
{
	const assay_host *h = ctx->host;

	n->convention = n->has_ok_exit ? EXEC_PLAIN : ctx->convention;
	if (!v)
		return 0;
	if (exec_parse_convention(h, v, &n->convention))
		return 1;
	if (n->convention == EXEC_MONITORING && n->has_ok_exit) {
		h->config_error(v, "`convention` is \"monitoring-plugins\", but `ok_exit` is for plain commands: drop one of them");
		return 1;
	}
	return 0;
}

static int exec_prepare_limit(const exec_ctx *ctx, const assay_value *v, exec_node *n)
{
	int64_t limit;

	if (!v)
		return 0;
	if (ctx->host->check_int(v, NULL, 0, EXEC_MAX_LIMIT, &limit) < 0)
		return 1;
	n->output_limit = (size_t)limit;
	return 0;
}

/* The multiplier of a size's unit (any case; K, M, G, T and their KB,
 * KiB forms all powers of 1024, as ls and du read them), or 0. */
static uint64_t exec_size_unit(const char *u)
{
	static const char *const units[][3] = {
		{ "", "b", NULL }, { "k", "kb", "kib" }, { "m", "mb", "mib" },
		{ "g", "gb", "gib" }, { "t", "tb", "tib" },
	};

	for (size_t i = 0; i < sizeof units / sizeof *units; i++)
		for (size_t j = 0; j < 3 && units[i][j]; j++)
			if (strcasecmp(u, units[i][j]) == 0)
				return (uint64_t)1 << (10 * i);
	return 0;
}

/* `log_limit`: bytes as an integer, or a string such as "64MB" or
 * "16 MiB".  0, or 1 after reporting. */
static int exec_prepare_log_limit(const exec_ctx *ctx, const assay_value *v, exec_node *n)
{
	const assay_host *h = ctx->host;
	static const char hint[] = "a size in bytes, such as 1048576 or \"64MB\", from 0 to 1 TiB";
	int64_t bytes;

	if (!v)
		return 0;
	if (h->value_type(v) == ASSAY_VALUE_INTEGER) {
		if (h->check_int(v, NULL, 0, (int64_t)EXEC_MAX_LOG_LIMIT, &bytes) < 0)
			return 1;
		n->log_limit = (uint64_t)bytes;
		return 0;
	}
	if (h->value_type(v) != ASSAY_VALUE_STRING) {
		h->config_error(v, "`log_limit` must be %s, not %s", hint, h->value_type_name(v));
		return 1;
	}
	const char *s = h->value_string(v), *p = s;
	uint64_t number = 0, unit;
	while (*p >= '0' && *p <= '9' && number <= EXEC_MAX_LOG_LIMIT)
		number = number * 10 + (uint64_t)(*p++ - '0');
	const char *u = p;
	while (*u == ' ')
		u++;
	if (p == s || !(unit = exec_size_unit(u)) || number > EXEC_MAX_LOG_LIMIT / unit) {
		h->config_error(v, "`log_limit` must be %s, not \"%s\"", hint, s);
		return 1;
	}
	n->log_limit = number * unit;
	return 0;
}

static int exec_prepare_grace(const exec_ctx *ctx, const assay_value *v, exec_node *n)
{
	return v && ctx->host->check_duration(v, NULL, 0, INT64_MAX, &n->kill_grace_ms) < 0;
}

void exec_node_free(exec_node *n)
{
	if (!n)
		return;
	for (size_t i = 0; n->argv && i < n->argc; i++)
		free(n->argv[i].text);
	for (size_t i = 0; i < n->n_env; i++)
		free(n->env[i].value.text);
	free(n->argv);
	free(n->env);
	free(n->cwd.text);
	free(n);
}

int exec_node_prepare(const exec_ctx *ctx, assay_node *node, const assay_value *opts,
		      exec_node **out)
{
	const assay_host *h = ctx->host;
	const assay_value *v;
	exec_node *n = calloc(1, sizeof *n);
	bool shell = false;
	int errors = 0, r;

	if (!n)
		return ASSAY_ENOMEM;
	n->output_limit = (size_t)EXEC_DEFAULT_LIMIT;
	n->kill_grace_ms = EXEC_DEFAULT_GRACE_MS;
	n->log_limit = EXEC_DEFAULT_LOG_LIMIT;

	v = h->value_get(opts, "shell");
	if (v && (h->value_type(v) != ASSAY_VALUE_BOOLEAN || h->value_bool(v, &shell) < 0)) {
		h->config_error(v, "`shell` must be true or false, not %s", h->value_type_name(v));
		errors++;
	}
	/* Each step reports its own errors and the next one still runs: the
	 * operator sees every bad option at once. */
	if ((r = exec_prepare_command(ctx, node, opts, shell, n)) < 0)
		goto fail;
	errors += r;
	if ((r = exec_prepare_env(ctx, node, h->value_get(opts, "env"), n)) < 0)
		goto fail;
	errors += r;
	if ((r = exec_prepare_cwd(ctx, node, h->value_get(opts, "cwd"), n)) < 0)
		goto fail;
	errors += r;
	errors += exec_prepare_ok_exit(ctx, h->value_get(opts, "ok_exit"), n);
	errors += exec_prepare_convention(ctx, h->value_get(opts, "convention"), n);
	errors += exec_prepare_limit(ctx, h->value_get(opts, "output_limit"), n);
	errors += exec_prepare_grace(ctx, h->value_get(opts, "kill_grace"), n);
	errors += exec_prepare_log_limit(ctx, h->value_get(opts, "log_limit"), n);
	if (errors) {
		r = ASSAY_EINVAL;
		goto fail;
	}
	*out = n;
	return 0;
fail:
	exec_node_free(n);
	return r;
}

int exec_ctx_init(exec_ctx *ctx, const assay_host *host)
{
	*ctx = (exec_ctx){ .host = host, .convention = EXEC_PLAIN };
	ctx->c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
	return ctx->c_locale ? 0 : ASSAY_ENOMEM;
}

void exec_ctx_release(exec_ctx *ctx)
{
	if (ctx->c_locale)
		freelocale(ctx->c_locale);
	ctx->c_locale = (locale_t)0;
}

int exec_ctx_read_config(exec_ctx *ctx, const assay_value *cfg, const char *where)
{
	static const char *const keys[] = { "convention", NULL };
	const assay_host *h = ctx->host;
	int errors = 0;

	for (size_t i = 0; cfg && i < h->value_len(cfg); i++) {
		const assay_value *v = h->value_at(cfg, i, NULL);

		if (h->check_key(v, where, keys) < 0)
			errors++;
		else
			errors += exec_parse_convention(h, v, &ctx->convention);
	}
	return errors;
}
