/* exec_config.c -- the exec plugin's options: checked at load time into the node's state. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strndup */
#endif

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assay/plugin.h"
#include "exec.h"

#define EXEC_DEFAULT_LIMIT ((int64_t)64 * 1024) /* bytes kept per stream */
#define EXEC_MAX_LIMIT ((int64_t)1 << 30)
#define EXEC_DEFAULT_GRACE_MS 5000

/* Takes the string v as the template `what` into t; the host checks its
 * placeholders now, so that a bad one is a config error at its position
 * rather than a failed run.  A secret is never a template.  Returns the
 * number of errors reported (0 or 1) or ASSAY_ENOMEM. */
static int exec_template(const exec_plugin *pl, assay_node *node, const assay_value *v,
			 const char *what, exec_tmpl *t)
{
	const assay_host *h = pl->host;

	t->secret = h->value_secret(v);
	if (!(t->text = strdup(h->value_string(v))))
		return ASSAY_ENOMEM;
	if (t->secret)
		return 0;
	return (t->script ? h->check_shell_template(node, v, what) : h->check_template(node, v, what)) < 0;
}

/* Returns the number of errors reported, or ASSAY_ENOMEM. */
static int exec_prepare_command(const exec_plugin *pl, assay_node *node,
				const assay_value *opts, bool shell, exec_node *n)
{
	const assay_host *h = pl->host;
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
		} else if ((r = exec_template(pl, node, e, what, &n->argv[lead + i])) < 0) {
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

static int exec_prepare_env(const exec_plugin *pl, assay_node *node,
			    const assay_value *v, exec_node *n)
{
	const assay_host *h = pl->host;
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
		r = exec_template(pl, node, e, what, &n->env[n->n_env++].value);
		if (r < 0)
			return r;
		errors += r;
	}
	return errors;
}

/* A relative cwd is relative to the directory of the file it is written
 * in, as every path of a config is.  It is joined after expansion, since
 * a placeholder may stand for an absolute path. */
static int exec_prepare_cwd(const exec_plugin *pl, assay_node *node,
			    const assay_value *v, exec_node *n)
{
	const assay_host *h = pl->host;
	const char *file = NULL, *slash;

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
	h->value_pos(v, &file, NULL, NULL);
	if (file && (slash = strrchr(file, '/')) &&
	    !(n->cwd_base = strndup(file, (size_t)(slash - file) + (slash == file))))
		return ASSAY_ENOMEM;
	return exec_template(pl, node, v, "cwd", &n->cwd);
}

static int exec_prepare_ok_exit(const exec_plugin *pl, const assay_value *v,
				exec_node *n)
{
	const assay_host *h = pl->host;
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
		int64_t code;

		if (h->value_type(e) != ASSAY_VALUE_INTEGER || h->value_int(e, &code) < 0) {
			h->config_error(e, "`ok_exit[%zu]` must be an integer, not %s", i,
					h->value_type_name(e));
			errors++;
		} else if (code < 0 || code > 255) {
			h->config_error(e, "`ok_exit[%zu]` is %lld: an exit code is 0 to 255", i,
					(long long)code);
			errors++;
		} else {
			n->ok_exit[code / 8] |= (uint8_t)(1u << (code % 8));
		}
	}
	return errors;
}

/* "plain" or "monitoring-plugins" into *out; 0, or 1 after reporting. */
static int exec_parse_convention(const assay_host *h, const assay_value *v, const char *where,
				 exec_convention *out)
{
	const char *s = h->value_type(v) == ASSAY_VALUE_STRING ? h->value_string(v) : NULL;

	if (s && strcmp(s, "plain") == 0) {
		*out = EXEC_PLAIN;
		return 0;
	}
	if (s && strcmp(s, "monitoring-plugins") == 0) {
		*out = EXEC_MONITORING;
		return 0;
	}
	if (s && !h->value_secret(v))
		h->config_error(v, "%s`convention` must be \"plain\" (exit 0 is OK, any other CRITICAL) or \"monitoring-plugins\" (exit 0..3 are OK, WARNING, CRITICAL, UNKNOWN), not \"%s\"",
				where, s);
	else
		h->config_error(v, "%s`convention` must be \"plain\" or \"monitoring-plugins\", not %s",
				where, s ? "a secret" : h->value_type_name(v));
	return 1;
}

/* After ok_exit: it lists a plain command's codes, whatever the default. */
static int exec_prepare_convention(const exec_plugin *pl, const assay_value *v, exec_node *n)
{
	const assay_host *h = pl->host;

	n->convention = n->has_ok_exit ? EXEC_PLAIN : pl->convention;
	if (!v)
		return 0;
	if (exec_parse_convention(h, v, "", &n->convention))
		return 1;
	if (n->convention == EXEC_MONITORING && n->has_ok_exit) {
		h->config_error(v, "`convention` is \"monitoring-plugins\", but `ok_exit` is for plain commands: drop one of them");
		return 1;
	}
	return 0;
}

static int exec_prepare_limit(const exec_plugin *pl, const assay_value *v, exec_node *n)
{
	const assay_host *h = pl->host;
	int64_t limit;

	if (!v)
		return 0;
	if (h->value_type(v) != ASSAY_VALUE_INTEGER || h->value_int(v, &limit) < 0) {
		h->config_error(v, "`output_limit` must be an integer (bytes), not %s",
				h->value_type_name(v));
		return 1;
	}
	if (limit < 0 || limit > EXEC_MAX_LIMIT) {
		h->config_error(v, "`output_limit` is %lld: it must be 0 to %lld bytes",
				(long long)limit, (long long)EXEC_MAX_LIMIT);
		return 1;
	}
	n->output_limit = (size_t)limit;
	return 0;
}

static int exec_prepare_grace(const exec_plugin *pl, const assay_value *v, exec_node *n)
{
	const assay_host *h = pl->host;
	int64_t ms;

	if (!v)
		return 0;
	if (h->value_duration_ms(v, &ms) < 0) {
		if (h->value_type(v) == ASSAY_VALUE_STRING && !h->value_secret(v))
			h->config_error(v, "`kill_grace`: \"%s\" is not a duration (write \"5s\", \"500ms\" or \"1m30s\")",
					h->value_string(v));
		else
			h->config_error(v, "`kill_grace` must be a duration such as \"5s\", not %s",
					h->value_type_name(v));
		return 1;
	}
	if (ms < 0) {
		h->config_error(v, "`kill_grace` must not be negative");
		return 1;
	}
	n->kill_grace_ms = ms;
	return 0;
}

static void exec_node_free(exec_node *n)
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
	free(n->cwd_base);
	free(n);
}

int exec_prepare(assay_node *node, const assay_value *opts, void *data,
			void **state)
{
	const exec_plugin *pl = data;
	const assay_host *h = pl->host;
	const assay_value *v;
	exec_node *n = calloc(1, sizeof *n);
	bool shell = false;
	int errors = 0, r;

	if (!n)
		return ASSAY_ENOMEM;
	n->output_limit = (size_t)EXEC_DEFAULT_LIMIT;
	n->kill_grace_ms = EXEC_DEFAULT_GRACE_MS;

	v = h->value_get(opts, "shell");
	if (v && (h->value_type(v) != ASSAY_VALUE_BOOLEAN || h->value_bool(v, &shell) < 0)) {
		h->config_error(v, "`shell` must be true or false, not %s", h->value_type_name(v));
		errors++;
	}
	/* Each step reports its own errors and the next one still runs: the
	 * operator sees every bad option at once. */
	if ((r = exec_prepare_command(pl, node, opts, shell, n)) < 0)
		goto fail;
	errors += r;
	if ((r = exec_prepare_env(pl, node, h->value_get(opts, "env"), n)) < 0)
		goto fail;
	errors += r;
	if ((r = exec_prepare_cwd(pl, node, h->value_get(opts, "cwd"), n)) < 0)
		goto fail;
	errors += r;
	errors += exec_prepare_ok_exit(pl, h->value_get(opts, "ok_exit"), n);
	errors += exec_prepare_convention(pl, h->value_get(opts, "convention"), n);
	errors += exec_prepare_limit(pl, h->value_get(opts, "output_limit"), n);
	errors += exec_prepare_grace(pl, h->value_get(opts, "kill_grace"), n);
	if (errors) {
		r = ASSAY_EINVAL;
		goto fail;
	}
	*state = n;
	return 0;
fail:
	exec_node_free(n);
	return r;
}

void exec_release(void *state, void *data)
{
	(void)data;
	exec_node_free(state);
}

int exec_read_config(exec_plugin *pl, assay_plugin *plugin)
{
	const assay_host *h = pl->host;
	const assay_value *cfg = h->plugin_config(plugin);
	int errors = 0;

	pl->convention = EXEC_PLAIN;
	for (size_t i = 0; cfg && i < h->value_len(cfg); i++) {
		const char *key = NULL;
		const assay_value *v = h->value_at(cfg, i, &key);

		if (strcmp(key, "convention") == 0)
			errors += exec_parse_convention(h, v, "[plugins.exec] ", &pl->convention);
		else {
			h->config_error(v, "[plugins.exec] has no option `%s` (it knows `convention`)", key);
			errors++;
		}
	}
	return errors;
}
