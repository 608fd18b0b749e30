/* exec.c -- the exec plugin: a command in its own process group, read the monitoring-plugins way. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pipe2, posix_spawn_file_actions_addchdir_np, strtod_l */
#endif

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "assay/plugin.h"

#define EXEC_DEFAULT_LIMIT ((int64_t)64 * 1024) /* bytes kept per stream */
#define EXEC_MAX_LIMIT ((int64_t)1 << 30)
#define EXEC_DEFAULT_GRACE_MS 5000
/* The monitoring-plugins convention waits for the plugin, not for what it
 * left in the background: once the child has exited, whatever still holds
 * its stdout or stderr gets this long before its process group is killed
 * and the pipes are closed, so a stray `sleep 1000 &` cannot hang the task. */
#define EXEC_LINGER_MS 100
/* Timers round to milliseconds: a cancel this close to the deadline is the
 * deadline's. */
#define EXEC_DEADLINE_SLACK_NS (5 * 1000000LL)
#define EXEC_SCRATCH 65536 /* bytes read per call once a stream is over its limit */
#define EXEC_MAX_WARNINGS 5 /* malformed perfdata items logged one by one */
#define EXEC_DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

/* The type struct lives here rather than in static storage so that every
 * callback finds the host table through `data`, with no global. */
typedef struct exec_plugin {
	assay_node_type type;
	const assay_host *host;
	locale_t c_locale; /* perfdata numbers are C-locale whatever ours is */
} exec_plugin;

/* A string of the node that is expanded per task.  A secret one (it came
 * through ${env:...}) is passed verbatim: expanding it could turn a brace
 * in a password into a placeholder, and its text must not reach a message. */
typedef struct exec_tmpl {
	const char *text; /* the host's, valid until the plan is freed */
	bool secret;
} exec_tmpl;

typedef struct exec_env {
	const char *name;
	exec_tmpl value;
} exec_env;

typedef struct exec_node {
	exec_tmpl *argv; /* argc elements; with shell: /bin/sh -c first */
	size_t argc;
	exec_env *env;
	size_t n_env;
	exec_tmpl cwd;         /* text NULL: the host's directory */
	uint8_t ok_exit[32];   /* a bit per exit code */
	bool has_ok_exit;      /* else exit 0..3 are OK..UNKNOWN */
	size_t output_limit;
	int64_t kill_grace_ms;
	/* cancel() gets the task, not our per-run state: it finds the run
	 * here.  The node outlives every run, so the lock is always there. */
	pthread_mutex_t lock;
	struct exec_run *active;
} exec_node;

typedef struct exec_stream {
	struct exec_run *run;
	const char *name; /* "stdout" */
	int fd;           /* our read end; -1 once closed */
	assay_watch *watch;
	char *buf; /* the first output_limit bytes, NUL-terminated */
	size_t len, alloc;
	uint64_t total; /* every byte read, kept or not */
	bool eof;
} exec_stream;

enum { EXEC_NOT_CANCELLED, EXEC_TIMED_OUT, EXEC_CANCELLED };

typedef struct exec_run {
	exec_plugin *plugin;
	exec_node *node;
	assay_task *task;
	struct exec_run *prev, *next; /* node->active, under node->lock */
	pid_t pid;                    /* also the process group's id */
	int64_t start_ns;
	exec_stream out, err; /* read only on the reactor thread */
	char *scratch;        /* where bytes over output_limit go to be counted */

	/* Under lock: what the reactor callbacks and cancel() share. */
	pthread_mutex_t lock;
	bool exited;
	int wstatus;
	bool finishing; /* claimed by the one caller that completes the task */
	bool lingered;  /* the pipes were closed before end of file */
	bool cancel_seen;
	int cancel;
	double timeout_s;
	char *failure; /* an UNKNOWN message that overrides the exit status */
	assay_timer *kill_timer, *linger_timer;
} exec_run;

static const char *const exec_options[] = {
	"command", "shell", "env", "cwd", "ok_exit", "output_limit", "kill_grace",
	NULL
};

static int64_t exec_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void exec_free_strv(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

/* ---- prepare ------------------------------------------------------------ */

static bool exec_placeholder_known(const exec_plugin *pl, assay_node *node,
				   const char *name)
{
	const assay_host *h = pl->host;

	if (h->node_param(node, name))
		return true;
	return strcmp(name, "item") == 0 &&
	       h->node_kind(node) == ASSAY_KIND_VALIDATION;
}

/* Checks at load time what host->expand() would refuse at run time, so a
 * bad placeholder is a config error at its position, not a failed run.
 * Returns the number of errors reported (0 or 1). */
static int exec_check_template(const exec_plugin *pl, assay_node *node,
			       const assay_value *v, const char *what)
{
	const assay_host *h = pl->host;
	const char *s = h->value_string(v);
	unsigned kind = h->node_kind(node);

	if (h->value_secret(v))
		return 0;
	for (const char *p = s; *p; p++) {
		if (*p == '}') {
			if (p[1] == '}') {
				p++;
				continue;
			}
			h->config_error(v, "`%s`: unmatched `}` (write `}}` for a literal brace)", what);
			return 1;
		}
		if (*p != '{')
			continue;
		if (p[1] == '{') {
			p++;
			continue;
		}
		const char *close = strpbrk(p + 1, "{}");
		if (!close || *close == '{') {
			h->config_error(v, "`%s`: unmatched `{` (write `{{` for a literal brace)", what);
			return 1;
		}
		size_t len = (size_t)(close - p - 1);
		char *name = strndup(p + 1, len);
		bool known = name && exec_placeholder_known(pl, node, name);
		if (!known)
			h->config_error(v, "`%s`: unknown placeholder `{%.*s}`: %s (write `{{` and `}}` for literal braces)",
					what, (int)len, p + 1,
					kind == ASSAY_KIND_VALIDATION ? "a validation knows only {item}" :
					kind == ASSAY_KIND_TRIAL ? "the trial's matrix has no such parameter" :
					"a check has no parameters");
		free(name);
		if (!known)
			return 1;
		p = close;
	}
	return 0;
}

/* Returns the number of errors reported, or ASSAY_ENOMEM. */
static int exec_prepare_command(const exec_plugin *pl, assay_node *node,
				const assay_value *opts, bool shell, exec_node *n)
{
	const assay_host *h = pl->host;
	const assay_value *cmd = h->value_get(opts, "command");
	size_t lead = shell ? 2 : 0, len;
	int errors = 0;

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
	if (shell) {
		n->argv[0].text = "/bin/sh";
		n->argv[1].text = "-c";
	}
	for (size_t i = 0; i < len; i++) {
		bool whole = h->value_type(cmd) == ASSAY_VALUE_STRING;
		const assay_value *e = whole ? cmd : h->value_at(cmd, i, NULL);
		char what[32];

		if (whole)
			snprintf(what, sizeof what, "command");
		else
			snprintf(what, sizeof what, "command[%zu]", i);
		if (h->value_type(e) != ASSAY_VALUE_STRING) {
			h->config_error(e, "`%s` must be a string, not %s", what,
					h->value_type_name(e));
			errors++;
			continue;
		}
		n->argv[lead + i].text = h->value_string(e);
		n->argv[lead + i].secret = h->value_secret(e);
		if (i == 0 && !*n->argv[lead].text) {
			h->config_error(e, shell ? "`%s` must not be empty: it is the script /bin/sh runs"
						 : "`%s` must not be empty: it is the program to run",
					what);
			errors++;
			continue;
		}
		errors += exec_check_template(pl, node, e, what);
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
	int errors = 0;

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
		errors += exec_check_template(pl, node, e, what);
		n->env[n->n_env].name = key;
		n->env[n->n_env].value.text = h->value_string(e);
		n->env[n->n_env].value.secret = h->value_secret(e);
		n->n_env++;
	}
	return errors;
}

static int exec_prepare_cwd(const exec_plugin *pl, assay_node *node,
			    const assay_value *v, exec_node *n)
{
	const assay_host *h = pl->host;

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
	n->cwd.text = h->value_string(v);
	n->cwd.secret = h->value_secret(v);
	return exec_check_template(pl, node, v, "cwd");
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
	free(n->argv);
	free(n->env);
	pthread_mutex_destroy(&n->lock);
	free(n);
}

static int exec_prepare(assay_node *node, const assay_value *opts, void *data,
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
	pthread_mutex_init(&n->lock, NULL);
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
	errors += exec_prepare_cwd(pl, node, h->value_get(opts, "cwd"), n);
	errors += exec_prepare_ok_exit(pl, h->value_get(opts, "ok_exit"), n);
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

static void exec_release(void *state, void *data)
{
	(void)data;
	exec_node_free(state);
}

/* ---- starting the child --------------------------------------------------- */

/* What one spawn needs; everything is freed once the child runs. */
typedef struct exec_spawn_args {
	char **argv;     /* NULL-terminated, expanded */
	char **envp;     /* NULL-terminated; the host's strings plus own_env */
	char **own_env;  /* "NAME=value" for each `env` entry, NULL-terminated */
	char *path;      /* argv[0] as found in the child's PATH */
	char *cwd;
	const char *shown; /* argv[0] for messages, or "(secret)" */
} exec_spawn_args;

static void exec_spawn_args_release(exec_spawn_args *a)
{
	exec_free_strv(a->argv);
	exec_free_strv(a->own_env);
	free(a->envp);
	free(a->path);
	free(a->cwd);
}

static char *exec_expand(const assay_host *h, assay_task *task, exec_tmpl t, int *err)
{
	if (t.secret) {
		char *s = strdup(t.text);
		if (!s)
			*err = ASSAY_ENOMEM;
		return s;
	}
	return h->expand(task, t.text, err);
}

static const char *exec_getenv(char *const *envp, const char *name)
{
	size_t len = strlen(name);

	for (; envp && *envp; envp++)
		if (strncmp(*envp, name, len) == 0 && (*envp)[len] == '=')
			return *envp + len + 1;
	return NULL;
}

/* posix_spawnp would search the PATH of this process; the child's is the
 * one `env` and host->setenv() may have changed, as with a shell. */
static char *exec_find(const char *name, char *const *envp, int *err)
{
	const char *path = exec_getenv(envp, "PATH");
	bool denied = false;

	if (strchr(name, '/'))
		return strdup(name);
	if (!path)
		path = EXEC_DEFAULT_PATH;
	for (const char *p = path;; p++) {
		const char *end = strchr(p, ':');
		size_t dlen = end ? (size_t)(end - p) : strlen(p);
		size_t size = dlen + strlen(name) + 3;
		char *full = malloc(size);
		struct stat st;

		if (!full) {
			*err = ENOMEM;
			return NULL;
		}
		if (dlen == 0) /* an empty entry means the current directory */
			snprintf(full, size, "./%s", name);
		else
			snprintf(full, size, "%.*s/%s", (int)dlen, p, name);
		if (stat(full, &st) == 0 && S_ISREG(st.st_mode)) {
			if (access(full, X_OK) == 0)
				return full;
			denied = true;
		}
		free(full);
		if (!end)
			break;
		p = end;
	}
	*err = denied ? EACCES : ENOENT;
	return NULL;
}

/* Fills a, or returns an UNKNOWN message (malloc'd) saying why not. */
static char *exec_spawn_args_build(const exec_plugin *pl, const exec_node *n,
				   assay_task *task, exec_spawn_args *a)
{
	const assay_host *h = pl->host;
	char *msg = NULL, errbuf[128];
	int err = 0;

	a->shown = n->argv[0].secret ? "(secret)" : n->argv[0].text;
	a->argv = calloc(n->argc + 1, sizeof *a->argv);
	a->own_env = calloc(n->n_env + 1, sizeof *a->own_env);
	if (!a->argv || !a->own_env)
		goto nomem;
	for (size_t i = 0; i < n->argc; i++) {
		a->argv[i] = exec_expand(h, task, n->argv[i], &err);
		if (!a->argv[i]) {
			if (asprintf(&msg, "cannot expand `command[%zu]`: %s", i, h->strerror(err)) < 0)
				msg = NULL;
			return msg;
		}
	}
	if (n->cwd.text) {
		a->cwd = exec_expand(h, task, n->cwd, &err);
		if (!a->cwd) {
			if (asprintf(&msg, "cannot expand `cwd`: %s", h->strerror(err)) < 0)
				msg = NULL;
			return msg;
		}
	}
	for (size_t i = 0; i < n->n_env; i++) {
		char *value = exec_expand(h, task, n->env[i].value, &err);

		if (!value) {
			if (asprintf(&msg, "cannot expand `env.%s`: %s", n->env[i].name,
				     h->strerror(err)) < 0)
				msg = NULL;
			return msg;
		}
		if (asprintf(&a->own_env[i], "%s=%s", n->env[i].name, value) < 0)
			a->own_env[i] = NULL;
		free(value);
		if (!a->own_env[i])
			goto nomem;
	}

	/* The host's environment, less what `env` replaces, then `env`. */
	char *const *base = h->environ(task);
	size_t nb = 0, k = 0;
	while (base && base[nb])
		nb++;
	a->envp = calloc(nb + n->n_env + 1, sizeof *a->envp);
	if (!a->envp)
		goto nomem;
	for (size_t i = 0; i < nb; i++) {
		bool replaced = false;
		for (size_t j = 0; j < n->n_env && !replaced; j++) {
			size_t len = strlen(n->env[j].name);
			replaced = strncmp(base[i], n->env[j].name, len) == 0 &&
				   base[i][len] == '=';
		}
		if (!replaced)
			a->envp[k++] = base[i];
	}
	for (size_t i = 0; i < n->n_env; i++)
		a->envp[k++] = a->own_env[i];

	a->path = exec_find(a->argv[0], a->envp, &err);
	if (!a->path) {
		if (asprintf(&msg, "cannot run `%s`: %s", a->shown,
			     strerror_r(err, errbuf, sizeof errbuf)) < 0)
			msg = NULL;
		return msg;
	}
	/* posix_spawn cannot tell a bad directory from a bad program. */
	struct stat st;
	if (a->cwd && stat(a->cwd, &st) < 0)
		err = errno;
	else if (a->cwd && !S_ISDIR(st.st_mode))
		err = ENOTDIR;
	else
		err = 0;
	if (err) {
		if (asprintf(&msg, "cannot change to directory `%s`: %s",
			     n->cwd.secret ? "(secret)" : a->cwd,
			     strerror_r(err, errbuf, sizeof errbuf)) < 0)
			msg = NULL;
		return msg;
	}
	return NULL;
nomem:
	return strdup("out of memory");
}

/* A pipe whose ends stay off 0..2 (which the child's file actions rewrite)
 * and close on exec, so concurrent spawns never inherit them. */
static int exec_pipe(int fds[2])
{
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		if (fds[i] > 2)
			continue;
		int fd = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
		if (fd < 0)
			goto fail;
		close(fds[i]);
		fds[i] = fd;
	}
	int fl = fcntl(fds[0], F_GETFL);
	if (fl >= 0 && fcntl(fds[0], F_SETFL, fl | O_NONBLOCK) == 0)
		return 0;
fail:;
	int e = errno;
	close(fds[0]);
	close(fds[1]);
	fds[0] = fds[1] = -1;
	errno = e;
	return -1;
}

/* Returns 0 or an errno value (glibc reports a failed exec here too). */
static int exec_spawn(const exec_spawn_args *a, int out_w, int err_w, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	int rc;

	if ((rc = posix_spawn_file_actions_init(&fa)) != 0)
		return rc;
	if ((rc = posix_spawnattr_init(&at)) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return rc;
	}
	sigemptyset(&none);
	sigemptyset(&all);
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaddset(&all, sig);
	if ((rc = posix_spawn_file_actions_adddup2(&fa, out_w, 1)) ||
	    (rc = posix_spawn_file_actions_adddup2(&fa, err_w, 2)) ||
	    (rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)) ||
	    (a->cwd && (rc = posix_spawn_file_actions_addchdir_np(&fa, a->cwd))) ||
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
	    /* Descriptors some library forgot to mark close-on-exec. */
	    (rc = posix_spawn_file_actions_addclosefrom_np(&fa, 3)) ||
#endif
	    /* Its own group, so that a timeout kills grandchildren too; the
	     * signal mask and dispositions reset, since the host blocks or
	     * ignores signals the child must feel (SIGTERM, SIGPIPE). */
	    (rc = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
						     POSIX_SPAWN_SETSIGDEF)) ||
	    (rc = posix_spawnattr_setpgroup(&at, 0)) ||
	    (rc = posix_spawnattr_setsigmask(&at, &none)) ||
	    (rc = posix_spawnattr_setsigdefault(&at, &all)))
		goto out;
	rc = posix_spawn(pid, a->path, &fa, &at, a->argv, a->envp);
out:
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	return rc;
}

/* ---- the result ------------------------------------------------------------ */

static bool exec_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f' || c == '\0';
}

/* The first line of buf, up to a '|' when it may carry perfdata, trimmed;
 * NULL when blank. */
static const char *exec_first_line(const char *buf, size_t n, bool perf, int *len)
{
	size_t end = 0, start = 0;

	if (!buf)
		return NULL;
	while (end < n && buf[end] != '\n' && buf[end] != '\0' && !(perf && buf[end] == '|'))
		end++;
	while (start < end && exec_space(buf[start]))
		start++;
	while (end > start && exec_space(buf[end - 1]))
		end--;
	if (end == start)
		return NULL;
	*len = end - start > INT32_MAX ? INT32_MAX : (int)(end - start);
	return buf + start;
}

static void exec_describe_exit(int ws, char *buf, size_t size)
{
	if (WIFEXITED(ws)) {
		snprintf(buf, size, "exit status %d", WEXITSTATUS(ws));
		return;
	}
	int sig = WTERMSIG(ws);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
	const char *abbrev = sigabbrev_np(sig);
#else
	const char *abbrev = NULL;
#endif
	if (abbrev)
		snprintf(buf, size, "killed by signal SIG%s%s", abbrev,
			 WCOREDUMP(ws) ? " (core dumped)" : "");
	else
		snprintf(buf, size, "killed by signal %d%s", sig,
			 WCOREDUMP(ws) ? " (core dumped)" : "");
}

/* Any death by signal is UNKNOWN in both modes: the command never said
 * how things are.  With ok_exit it is a plain program: any other exit
 * code is a failure, CRITICAL. */
static assay_status exec_status(const exec_node *n, int ws)
{
	if (!WIFEXITED(ws))
		return ASSAY_UNKNOWN;
	int code = WEXITSTATUS(ws);
	if (n->has_ok_exit)
		return n->ok_exit[code / 8] & (1u << (code % 8)) ? ASSAY_OK : ASSAY_CRITICAL;
	return code <= 3 ? (assay_status)code : ASSAY_UNKNOWN;
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

static bool exec_number(const exec_plugin *pl, const char *s, size_t len, double *out)
{
	char tmp[64];

	if (len == 0 || len >= sizeof tmp)
		return false;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	*out = strtod_l(tmp, NULL, pl->c_locale);
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
static const char *exec_perf_value(exec_run *run, const char *name, const char *s,
				   const char *end)
{
	const assay_host *h = run->plugin->host;
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
		h->task_log(run->task, ASSAY_LOG_DEBUG, "perfdata: `%s` has no value (U)", name);
		return NULL;
	}
	size_t nlen = exec_number_len(f[0], flen[0]);
	if (!nlen || !exec_number(run->plugin, f[0], nlen, &value))
		return "the value is not a number";
	if (nlen < flen[0] && !exec_unit(f[0] + nlen, flen[0] - nlen))
		return "unknown unit of measurement";
	if (flen[1] && !exec_range(f[1], flen[1]))
		return "the warning threshold is not a range";
	if (flen[2] && !exec_range(f[2], flen[2]))
		return "the critical threshold is not a range";
	if (flen[3] && (!exec_whole_number(f[3], flen[3]) ||
			!exec_number(run->plugin, f[3], flen[3], &m.min)))
		return "the minimum is not a number";
	if (flen[4] && (!exec_whole_number(f[4], flen[4]) ||
			!exec_number(run->plugin, f[4], flen[4], &m.max)))
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
		rc = h->add_metric(run->task, &m);
	if (rc < 0)
		h->task_log(run->task, ASSAY_LOG_WARNING, "perfdata: cannot add `%s`: %s", name,
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
		while (p < end && *p != '=' && !exec_space(*p))
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
static void exec_perf_items(exec_run *run, const char *p, const char *end, unsigned *skipped)
{
	const assay_host *h = run->plugin->host;

	while (p < end) {
		if (exec_space(*p) || *p == '|') {
			p++;
			continue;
		}
		const char *item = p, *why = NULL;
		char *name = exec_perf_label(&p, end, &why);
		const char *vstart = p;
		while (p < end && !exec_space(*p))
			p++;
		if (name) {
			why = exec_perf_value(run, name, vstart, p);
			free(name);
		}
		if (why && ++*skipped <= EXEC_MAX_WARNINGS) {
			int len = (int)(p - item);
			h->task_log(run->task, ASSAY_LOG_WARNING, "perfdata: skipped `%.*s%s`: %s",
				    len > 80 ? 80 : len, item, len > 80 ? "..." : "", why);
		}
	}
}

/* Perfdata follows the first '|' of line one and, in the long-output
 * form, the first '|' of any later line; after a later '|', lines without
 * one are perfdata too, as Nagios reads them. */
static void exec_perfdata(exec_run *run)
{
	const char *buf = run->out.buf;
	size_t n = run->out.len, start = 0;
	unsigned skipped = 0;
	bool in_perf = false;

	for (unsigned line = 0; buf && start < n; line++) {
		const char *s = buf + start, *nl = memchr(s, '\n', n - start);
		size_t len = nl ? (size_t)(nl - s) : n - start;
		const char *bar = memchr(s, '|', len);

		if (bar) {
			exec_perf_items(run, bar + 1, s + len, &skipped);
			in_perf = in_perf || line > 0;
		} else if (in_perf) {
			exec_perf_items(run, s, s + len, &skipped);
		}
		start += len + 1;
	}
	if (skipped > EXEC_MAX_WARNINGS)
		run->plugin->host->task_log(run->task, ASSAY_LOG_WARNING,
					    "perfdata: %u more malformed items skipped",
					    skipped - EXEC_MAX_WARNINGS);
}

/* "5", "1.5", "0.25": the timeout as an operator wrote it.  It is known
 * only as deadline - start, a few milliseconds short: round to a tenth of
 * a second, or a hundredth under one second. */
static void exec_seconds(double s, char *buf, size_t size)
{
	snprintf(buf, size, "%.*f", s < 1 ? 2 : 1, s < 0 ? 0.0 : s);
	char *p = buf + strlen(buf) - 1;
	while (*p == '0')
		*p-- = '\0';
	if (*p == '.')
		*p = '\0';
}

static void exec_log_stream(exec_run *run, const exec_stream *s)
{
	const assay_host *h = run->plugin->host;

	if (s->len)
		h->task_log(run->task, ASSAY_LOG_DEBUG, "%s:\n%.*s", s->name,
			    s->len > INT32_MAX ? INT32_MAX : (int)s->len, s->buf);
	if (s->total > s->len)
		h->task_log(run->task, ASSAY_LOG_INFO, "%s: kept the first %zu of %llu bytes (output_limit)",
			    s->name, s->len, (unsigned long long)s->total);
}

static void exec_report(exec_run *run)
{
	const assay_host *h = run->plugin->host;
	assay_task *task = run->task;
	const char *line;
	char what[96];
	int len = 0;

	exec_log_stream(run, &run->out);
	exec_log_stream(run, &run->err);
	if (run->lingered && !run->failure)
		h->task_log(task, ASSAY_LOG_WARNING,
			    "output still open %d ms after the command exited: killed the rest of its process group",
			    EXEC_LINGER_MS);
	line = exec_first_line(run->out.buf, run->out.len, true, &len);
	if (!line)
		line = exec_first_line(run->err.buf, run->err.len, false, &len);

	if (run->failure) {
		h->set_status(task, ASSAY_UNKNOWN);
		h->set_message(task, "%s", run->failure);
		return;
	}
	if (run->cancel == EXEC_TIMED_OUT) {
		exec_seconds(run->timeout_s, what, sizeof what);
		h->set_status(task, ASSAY_CRITICAL);
		if (line)
			h->set_message(task, "timed out after %s s: %.*s", what, len, line);
		else
			h->set_message(task, "timed out after %s s", what);
		return;
	}
	if (run->cancel == EXEC_CANCELLED) {
		h->set_status(task, ASSAY_UNKNOWN);
		h->set_message(task, "cancelled");
		return;
	}
	h->set_status(task, exec_status(run->node, run->wstatus));
	exec_describe_exit(run->wstatus, what, sizeof what);
	if (!line)
		h->set_message(task, "%s", what);
	else if (WIFSIGNALED(run->wstatus))
		h->set_message(task, "%s: %.*s", what, len, line);
	else
		h->set_message(task, "%.*s", len, line);
	exec_perfdata(run);
}

/* ---- waiting: reactor callbacks ------------------------------------------- */

static void exec_run_free(exec_run *run)
{
	free(run->out.buf);
	free(run->err.buf);
	free(run->scratch);
	free(run->failure);
	pthread_mutex_destroy(&run->lock);
	free(run);
}

static void exec_node_add(exec_node *n, exec_run *run)
{
	pthread_mutex_lock(&n->lock);
	run->next = n->active;
	if (n->active)
		n->active->prev = run;
	n->active = run;
	pthread_mutex_unlock(&n->lock);
}

static void exec_node_remove(exec_node *n, exec_run *run)
{
	pthread_mutex_lock(&n->lock);
	if (run->prev)
		run->prev->next = run->next;
	else
		n->active = run->next;
	if (run->next)
		run->next->prev = run->prev;
	pthread_mutex_unlock(&n->lock);
}

/* Under run->lock: true for the one caller that gets to end the task,
 * once the child is reaped and both pipes are at end of file (or given
 * up on). */
static bool exec_claim_locked(exec_run *run)
{
	if (run->finishing || !run->exited ||
	    (!(run->out.eof && run->err.eof) && !run->lingered))
		return false;
	run->finishing = true;
	return true;
}

/* Ends the task: only the claimant calls it, without run->lock held (the
 * unwatches below may wait for a callback that wants it). */
static void exec_finish(exec_run *run, bool complete)
{
	const assay_host *h = run->plugin->host;
	exec_stream *streams[2] = { &run->out, &run->err };
	assay_watch *w[2];
	int fd[2];

	pthread_mutex_lock(&run->lock);
	assay_timer *t[2] = { run->kill_timer, run->linger_timer };
	run->kill_timer = run->linger_timer = NULL;
	for (int i = 0; i < 2; i++) {
		w[i] = streams[i]->watch;
		fd[i] = streams[i]->fd;
		streams[i]->watch = NULL;
		streams[i]->fd = -1;
	}
	pthread_mutex_unlock(&run->lock);
	for (int i = 0; i < 2; i++) {
		if (t[i])
			h->timer_stop(t[i]);
		if (w[i])
			h->fd_unwatch(w[i]);
		if (fd[i] >= 0)
			close(fd[i]);
	}
	exec_node_remove(run->node, run);
	exec_report(run);
	if (complete)
		h->complete(run->task);
	exec_run_free(run);
}

/* Reads what fd holds now into s, keeping up to output_limit bytes and
 * counting the rest.  Returns true at end of file, or on an error, which
 * ends the stream just the same.  Reads until EAGAIN so that it works
 * whether the reactor is edge- or level-triggered. */
static bool exec_stream_read(exec_run *run, exec_stream *s, int fd)
{
	size_t limit = run->node->output_limit;
	char small[1024];

	for (;;) {
		char *dst;
		size_t room;
		bool keep;

		if (s->len < limit && s->alloc <= s->len + 1) {
			size_t want = s->alloc ? s->alloc * 2 : 4097;
			if (want > limit + 1)
				want = limit + 1;
			char *nb = realloc(s->buf, want);
			if (nb) {
				s->buf = nb;
				s->alloc = want;
			}
		}
		keep = s->len < limit && s->alloc > s->len + 1;
		if (keep) {
			dst = s->buf + s->len;
			room = s->alloc - 1 - s->len;
		} else {
			if (!run->scratch)
				run->scratch = malloc(EXEC_SCRATCH);
			dst = run->scratch ? run->scratch : small;
			room = run->scratch ? EXEC_SCRATCH : sizeof small;
		}
		ssize_t got = read(fd, dst, room);
		if (got > 0) {
			s->total += (uint64_t)got;
			if (keep) {
				s->len += (size_t)got;
				s->buf[s->len] = '\0';
			}
			continue;
		}
		if (got < 0 && errno == EINTR)
			continue;
		return !(got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
	}
}

static void exec_on_output(int fd, unsigned events, void *arg)
{
	exec_stream *s = arg;
	exec_run *run = s->run;
	const assay_host *h = run->plugin->host;

	(void)events; /* readable or hung up: read tells which */
	if (!exec_stream_read(run, s, fd))
		return;
	/* run() holds the lock while it registers, so s->watch is set here. */
	pthread_mutex_lock(&run->lock);
	assay_watch *w = s->watch;
	int own = s->fd;
	s->watch = NULL;
	s->fd = -1;
	s->eof = true;
	bool claim = exec_claim_locked(run);
	pthread_mutex_unlock(&run->lock);
	if (w)
		h->fd_unwatch(w);
	if (own >= 0)
		close(own);
	if (claim)
		exec_finish(run, true);
}

static void exec_on_linger(void *arg)
{
	exec_run *run = arg;

	pthread_mutex_lock(&run->lock);
	run->linger_timer = NULL;
	bool go = !run->finishing;
	pthread_mutex_unlock(&run->lock);
	if (!go)
		return;
	kill(-run->pid, SIGKILL);
	/* What is already in the pipes is the command's: keep it. */
	if (run->out.fd >= 0)
		exec_stream_read(run, &run->out, run->out.fd);
	if (run->err.fd >= 0)
		exec_stream_read(run, &run->err, run->err.fd);
	pthread_mutex_lock(&run->lock);
	run->lingered = true;
	bool claim = exec_claim_locked(run);
	pthread_mutex_unlock(&run->lock);
	if (claim)
		exec_finish(run, true);
}

static void exec_on_exit(pid_t pid, int status, void *arg)
{
	exec_run *run = arg;
	const assay_host *h = run->plugin->host;

	(void)pid;
	pthread_mutex_lock(&run->lock);
	run->exited = true;
	run->wstatus = status;
	bool claim = exec_claim_locked(run);
	if (!claim && !run->finishing &&
	    h->timer_start(EXEC_LINGER_MS, exec_on_linger, run, &run->linger_timer) < 0) {
		kill(-run->pid, SIGKILL);
		run->lingered = true;
		claim = exec_claim_locked(run);
	}
	pthread_mutex_unlock(&run->lock);
	if (claim)
		exec_finish(run, true);
}

static void exec_on_kill_timer(void *arg)
{
	exec_run *run = arg;

	pthread_mutex_lock(&run->lock);
	run->kill_timer = NULL;
	bool go = !run->finishing && !run->exited;
	pthread_mutex_unlock(&run->lock);
	if (!go)
		return;
	kill(-run->pid, SIGKILL);
	run->plugin->host->task_log(run->task, ASSAY_LOG_WARNING,
				    "still running %lld ms after SIGTERM (kill_grace): sent SIGKILL",
				    (long long)run->node->kill_grace_ms);
}

/* Under node->lock. */
static void exec_cancel_run(exec_run *run)
{
	const assay_host *h = run->plugin->host;

	pthread_mutex_lock(&run->lock);
	if (run->finishing || run->cancel_seen)
		goto out;
	run->cancel_seen = true;
	if (run->exited) { /* only leftovers hold the pipes: no grace for them */
		kill(-run->pid, SIGKILL);
		goto out;
	}
	int64_t deadline = h->deadline_ns(run->task);
	if (deadline != INT64_MAX && exec_now_ns() + EXEC_DEADLINE_SLACK_NS >= deadline) {
		run->cancel = EXEC_TIMED_OUT;
		run->timeout_s = (double)(deadline - run->start_ns) / 1e9;
	} else {
		run->cancel = EXEC_CANCELLED;
	}
	if (run->node->kill_grace_ms == 0) {
		kill(-run->pid, SIGKILL);
		goto out;
	}
	kill(-run->pid, SIGTERM);
	kill(-run->pid, SIGCONT); /* a stopped process acts on SIGTERM only once continued */
	if (h->timer_start((uint64_t)run->node->kill_grace_ms, exec_on_kill_timer, run,
			   &run->kill_timer) < 0)
		kill(-run->pid, SIGKILL);
out:
	pthread_mutex_unlock(&run->lock);
}

static void exec_cancel(assay_task *task, void *state, void *data)
{
	exec_node *n = state;

	(void)data;
	pthread_mutex_lock(&n->lock);
	for (exec_run *run = n->active; run; run = run->next)
		if (run->task == task) {
			exec_cancel_run(run);
			break;
		}
	pthread_mutex_unlock(&n->lock);
}

/* ---- run --------------------------------------------------------------------- */

static int exec_unknown(const assay_host *h, assay_task *task, const char *msg)
{
	h->set_status(task, ASSAY_UNKNOWN);
	h->set_message(task, "%s", msg ? msg : "out of memory");
	return ASSAY_DONE;
}

/* Under run->lock, before the child is watched: the task ends UNKNOWN
 * with msg once the (killed) child is reaped. */
static void exec_fail_locked(exec_run *run, const char *what, int code)
{
	const assay_host *h = run->plugin->host;

	if (!run->failure && asprintf(&run->failure, "cannot watch the %s of `%s`: %s", what,
				       run->node->argv[0].secret ? "(secret)" : run->node->argv[0].text,
				       h->strerror(code)) < 0)
		run->failure = NULL;
	kill(-run->pid, SIGKILL);
}

static int exec_run_task(assay_task *task, void *state, void *data)
{
	exec_plugin *pl = data;
	const assay_host *h = pl->host;
	exec_node *n = state;
	exec_spawn_args a = { 0 };
	int out[2] = { -1, -1 }, err[2] = { -1, -1 }, rc;
	char *msg, errbuf[128];
	exec_run *run = NULL;
	pid_t pid = 0;

	int64_t start_ns = exec_now_ns();

	if (h->cancelled(task))
		return exec_unknown(h, task, "cancelled");
	msg = exec_spawn_args_build(pl, n, task, &a);
	if (msg)
		goto fail;
	run = calloc(1, sizeof *run);
	if (!run) {
		msg = strdup("out of memory");
		goto fail;
	}
	if (exec_pipe(out) < 0 || exec_pipe(err) < 0)
		rc = errno;
	else
		rc = exec_spawn(&a, out[1], err[1], &pid);
	if (rc) {
		if (asprintf(&msg, "cannot run `%s`: %s", a.shown,
			     strerror_r(rc, errbuf, sizeof errbuf)) < 0)
			msg = NULL;
		free(run);
		for (int i = 0; i < 2; i++) {
			if (out[i] >= 0)
				close(out[i]);
			if (err[i] >= 0)
				close(err[i]);
		}
		goto fail;
	}
	h->task_log(task, ASSAY_LOG_DEBUG, "started `%s` as process %d", a.shown, (int)pid);
	exec_spawn_args_release(&a);
	close(out[1]);
	close(err[1]);

	pthread_mutex_init(&run->lock, NULL);
	run->plugin = pl;
	run->node = n;
	run->task = task;
	run->pid = pid;
	run->start_ns = start_ns;
	run->out = (exec_stream){ .run = run, .name = "stdout", .fd = out[0] };
	run->err = (exec_stream){ .run = run, .name = "stderr", .fd = err[0] };
	exec_node_add(n, run);
	if (h->cancelled(task)) { /* it may have come before cancel could find us */
		pthread_mutex_lock(&n->lock);
		exec_cancel_run(run);
		pthread_mutex_unlock(&n->lock);
	}

	/* Watches first, the child last: the task can only end after the
	 * child is reaped, so nothing here races with exec_finish(). */
	pthread_mutex_lock(&run->lock);
	exec_stream *streams[2] = { &run->out, &run->err };
	for (int i = 0; i < 2; i++) {
		exec_stream *s = streams[i];
		rc = h->fd_watch(s->fd, ASSAY_READABLE, exec_on_output, s, &s->watch);
		if (rc < 0) {
			s->watch = NULL;
			close(s->fd);
			s->fd = -1;
			s->eof = true;
			exec_fail_locked(run, s->name, rc);
		}
	}
	pthread_mutex_unlock(&run->lock);
	rc = h->child_watch(pid, exec_on_exit, run);
	if (rc < 0) {
		/* Nobody else will reap it: we must, and it must die first. */
		int status = 0;
		kill(-pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		pthread_mutex_lock(&run->lock);
		exec_fail_locked(run, "exit", rc);
		run->exited = true;
		run->wstatus = status;
		run->lingered = true;
		bool claim = exec_claim_locked(run);
		pthread_mutex_unlock(&run->lock);
		if (claim) {
			exec_finish(run, false);
			return ASSAY_DONE;
		}
	}
	return ASSAY_PENDING;
fail:
	exec_spawn_args_release(&a);
	exec_unknown(h, task, msg);
	free(msg);
	return ASSAY_DONE;
}

/* ---- init ------------------------------------------------------------------- */

static void exec_plugin_free(void *data)
{
	exec_plugin *pl = data;

	if (!pl)
		return;
	if (pl->c_locale)
		freelocale(pl->c_locale);
	free(pl);
}

__attribute__((visibility("default")))
int assay_plugin_init(const assay_host *host, assay_plugin *plugin)
{
	static const assay_plugin_info info = {
		.abi_version = ASSAY_ABI_VERSION,
		.name = "exec",
		.version = "1.0.0",
		.description = "runs a command: argv or /bin/sh, own process group, monitoring-plugins output",
	};
	int rc = host->declare(plugin, &info);

	if (rc < 0)
		return rc;
	exec_plugin *pl = calloc(1, sizeof *pl);
	if (!pl || !(pl->c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0))) {
		host->plugin_log(plugin, ASSAY_LOG_ERROR, "cannot initialise: out of memory");
		exec_plugin_free(pl);
		return ASSAY_ENOMEM;
	}
	pl->host = host;
	pl->type = (assay_node_type){
		.name = "exec",
		.kinds = ASSAY_KIND_CHECK | ASSAY_KIND_TRIAL | ASSAY_KIND_VALIDATION,
		.description = "run a command; exit 0..3 and `text | perfdata` as the monitoring-plugins",
		.options = exec_options,
		.prepare = exec_prepare,
		.run = exec_run_task,
		.cancel = exec_cancel,
		.release = exec_release,
		.data = pl,
		/* Frees the type struct too: the host's last use of it. */
		.free_data = exec_plugin_free,
	};
	rc = host->register_node_type(plugin, &pl->type);
	if (rc < 0) {
		host->plugin_log(plugin, ASSAY_LOG_ERROR, "cannot register node type `exec`: %s",
				 host->strerror(rc));
		exec_plugin_free(pl);
		return rc;
	}
	return 0;
}
