/* exec_spawn.c -- one attempt's child: argv and environment, posix_spawn in its own process group, output on pipes, reaping, kill and linger. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pipe2, posix_spawn_file_actions_addchdir_np */
#endif

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec_common.h"

#define EXEC_SCRATCH 65536 /* bytes read per call once a stream is over its limit */
#define EXEC_DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

static void exec_free_strv(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
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
	return t.script ? h->expand_shell(task, t.text, err) : h->expand(task, t.text, err);
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

/* a->envp: the host's environment, less what `env` replaces, then `env`
 * expanded.  NULL, or an UNKNOWN message (malloc'd) saying why not. */
static char *exec_spawn_env(const assay_host *h, const exec_node *n, assay_task *task,
			    exec_spawn_args *a)
{
	char *msg = NULL;
	int err = 0;

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
			return strdup("out of memory");
	}
	char *const *base = h->environ(task);
	size_t nb = 0, k = 0;
	while (base && base[nb])
		nb++;
	a->envp = calloc(nb + n->n_env + 1, sizeof *a->envp);
	if (!a->envp)
		return strdup("out of memory");
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
	return NULL;
}

/* Fills a, or returns an UNKNOWN message (malloc'd) saying why not. */
static char *exec_spawn_args_build(const exec_ctx *ctx, const exec_node *n,
				   assay_task *task, exec_spawn_args *a)
{
	const assay_host *h = ctx->host;
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
		/* Joined after expansion: a placeholder may stand for an
		 * absolute path. */
		char *full = h->config_path(n->cwd_at, a->cwd);
		if (!full)
			goto nomem;
		free(a->cwd);
		a->cwd = full;
	}
	if ((msg = exec_spawn_env(h, n, task, a)))
		return msg;
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
	/* Our end only: the child's stays blocking, as programs expect.  A
	 * fresh pipe's status flags are just O_RDONLY, so no F_GETFL first. */
	if (fcntl(fds[0], F_SETFL, O_NONBLOCK) == 0)
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

/* ---- waiting: reactor callbacks ------------------------------------------- */

static void exec_run_free(exec_run *run)
{
	free(run->out.buf);
	free(run->err.buf);
	free(run->scratch);
	free(run->failure);
	exec_trial_free(run);
	pthread_cond_destroy(&run->tail_done);
	pthread_mutex_destroy(&run->lock);
	free(run);
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
	const assay_host *h = run->ctx->host;
	exec_stream *streams[2] = { &run->out, &run->err };
	assay_watch *w[2];
	int fd[2];

	pthread_mutex_lock(&run->lock);
	assay_timer *t[3] = { run->kill_timer, run->linger_timer, run->tail_timer };
	run->kill_timer = run->linger_timer = run->tail_timer = NULL;
	for (int i = 0; i < 2; i++) {
		w[i] = streams[i]->watch;
		fd[i] = streams[i]->fd;
		streams[i]->watch = NULL;
		streams[i]->fd = -1;
	}
	pthread_mutex_unlock(&run->lock);
	if (t[2])
		h->timer_stop(t[2]);
	exec_trial_wait(run);
	for (int i = 0; i < 2; i++) {
		if (t[i])
			h->timer_stop(t[i]);
		if (w[i])
			h->fd_unwatch(w[i]);
		if (fd[i] >= 0)
			close(fd[i]);
	}
	/* A trial's files and lines read to the end, a pruned one's too. */
	exec_trial_stop(run);
	run->report(run);
	/* Freed after complete(), which waits for a cancel() still running on
	 * another thread: that cancel may be looking at run. */
	if (complete)
		h->complete(run->task);
	else
		h->task_set_data(run->task, NULL);
	exec_run_free(run);
}

/* One read() of fd into s, keeping up to output_limit bytes and counting
 * the rest (the watch is level-triggered: what is left comes back).
 * Returns 1 after reading, 0 when nothing is there now, -1 at end of file
 * or on an error, which ends the stream just the same. */
static int exec_stream_read(exec_run *run, exec_stream *s, int fd)
{
	size_t limit = run->node->output_limit, room;
	char small[1024], *dst;
	ssize_t got;

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
	bool keep = s->len < limit && s->alloc > s->len + 1;
	if (keep) {
		dst = s->buf + s->len;
		room = s->alloc - 1 - s->len;
	} else {
		if (!run->scratch)
			run->scratch = malloc(EXEC_SCRATCH);
		dst = run->scratch ? run->scratch : small;
		room = run->scratch ? EXEC_SCRATCH : sizeof small;
	}
	while ((got = read(fd, dst, room)) < 0 && errno == EINTR)
		;
	if (got > 0) {
		s->total += (uint64_t)got;
		/* All of it, kept or not: a trial's metric lines and files. */
		if (run->metrics || s->log)
			exec_trial_feed(run, s, dst, (size_t)got);
		if (keep) {
			s->len += (size_t)got;
			s->buf[s->len] = '\0';
		}
		return 1;
	}
	return got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
}

static void exec_on_output(int fd, unsigned events, void *arg)
{
	exec_stream *s = arg;
	exec_run *run = s->run;
	const assay_host *h = run->ctx->host;

	(void)events; /* readable or hung up: read tells which */
	if (exec_stream_read(run, s, fd) >= 0)
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
	/* What is already in the pipes is the command's: keep it (a pipe
	 * holds 1 MiB at most). */
	for (int i = 0; i < 16 && run->out.fd >= 0 && exec_stream_read(run, &run->out, run->out.fd) > 0; i++)
		;
	for (int i = 0; i < 16 && run->err.fd >= 0 && exec_stream_read(run, &run->err, run->err.fd) > 0; i++)
		;
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
	const assay_host *h = run->ctx->host;

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
	run->ctx->host->task_log(run->task, ASSAY_LOG_WARNING,
				    "still running %lld ms after SIGTERM (kill_grace): sent SIGKILL",
				    (long long)run->node->kill_grace_ms);
}

/* Any thread, at most once (the host's word), before the task completes:
 * run is alive until then. */
void exec_spawn_cancel(const exec_ctx *ctx, assay_task *task)
{
	const assay_host *h = ctx->host;
	exec_run *run = h->task_data(task);

	if (!run)
		return;
	pthread_mutex_lock(&run->lock);
	if (run->finishing || run->cancel_seen)
		goto out;
	run->cancel_seen = true;
	if (run->exited) { /* only leftovers hold the pipes: no grace for them */
		kill(-run->pid, SIGKILL);
		goto out;
	}
	/* A pruned trial is stopped as a timed-out one is, and keeps what it
	 * reported (exec_output_report). */
	run->cancel = h->task_pruned(task)      ? EXEC_PRUNED
		      : h->task_timed_out(task) ? EXEC_TIMED_OUT
						: EXEC_CANCELLED;
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

/* ---- start ------------------------------------------------------------------ */

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
	const assay_host *h = run->ctx->host;

	if (!run->failure && asprintf(&run->failure, "cannot watch the %s of `%s`: %s", what,
				       run->node->argv[0].secret ? "(secret)" : run->node->argv[0].text,
				       h->strerror(code)) < 0)
		run->failure = NULL;
	kill(-run->pid, SIGKILL);
}

/* Watches the child's output, then the child: ASSAY_PENDING, or
 * ASSAY_DONE when it cannot be watched and the task ended here.  The
 * child last: the task can only end after it is reaped, so nothing here
 * races with exec_finish(), and run is not touched once it is watched. */
static int exec_watch(exec_run *run)
{
	const assay_host *h = run->ctx->host;
	exec_stream *streams[2] = { &run->out, &run->err };
	int rc;

	pthread_mutex_lock(&run->lock);
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
	rc = h->child_watch(run->pid, exec_on_exit, run);
	if (rc < 0) {
		/* Nobody else will reap it: we must, and it must die first. */
		int status = 0;
		kill(-run->pid, SIGKILL);
		while (waitpid(run->pid, &status, 0) < 0 && errno == EINTR)
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
}

int exec_spawn_start(const exec_ctx *ctx, const exec_node *n, assay_task *task,
		     exec_report_fn report)
{
	const assay_host *h = ctx->host;
	exec_spawn_args a = { 0 };
	int out[2] = { -1, -1 }, err[2] = { -1, -1 }, rc;
	char *msg, errbuf[128];
	exec_run *run = NULL;
	pid_t pid = 0;

	if (h->cancelled(task))
		return exec_unknown(h, task, "cancelled");
	msg = exec_spawn_args_build(ctx, n, task, &a);
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
	/* Its own group's leader (exec_spawn): the journal records it, so that
	 * a --resume after assay was killed kills what is left of it. */
	h->task_child(task, pid);
	h->task_log(task, ASSAY_LOG_DEBUG, "started `%s` as process %d", a.shown, (int)pid);
	exec_spawn_args_release(&a);
	close(out[1]);
	close(err[1]);

	pthread_mutex_init(&run->lock, NULL);
	pthread_cond_init(&run->tail_done, NULL);
	run->ctx = ctx;
	run->report = report;
	run->node = n;
	run->task = task;
	run->pid = pid;
	run->out = (exec_stream){ .run = run, .name = "stdout", .fd = out[0] };
	run->err = (exec_stream){ .run = run, .name = "stderr", .fd = err[0] };
	exec_trial_start(run);
	/* For cancel, which the host calls only once run has returned. */
	h->task_set_data(task, run);
	return exec_watch(run);
fail:
	exec_spawn_args_release(&a);
	exec_unknown(h, task, msg);
	free(msg);
	return ASSAY_DONE;
}
