/* session.c -- one run's life: the file, its plugins, the plan prepared and
 * graphed, the run with its subscribers, the reports; released in reverse. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "host.h"
#include "lock.h"
#include "report.h"
#include "resume.h"
#include "searchpath.h"
#include "select.h"
#include "session.h"
#include "trace.h"
#include "trialdir.h"

void session_init(session *s, const session_options *o)
{
	memset(s, 0, sizeof *s);
	s->o = *o;
	s->d.unset_is_warning = o->allow_unset;
	s->sig.fd = -1;
}

static unsigned session_cores(void)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);

	return cores > 0 ? (unsigned)cores : 1;
}

int session_load(session *s, const char *path)
{
	int rc = config_load(&s->p, path, session_cores(), &s->d);

	s->have_plan = true; /* plan_release() whatever config_load() said */
	if (rc == ASSAY_ENOMEM)
		diag_add(&s->d, path, 0, 0, "out of memory");
	return rc < 0 ? -1 : 0;
}

int session_load_doc(session *s, const toml_doc *doc, const char *path)
{
	int rc = config_load_doc(&s->p, doc, path, session_cores(), &s->d);

	s->have_plan = true;
	if (rc == ASSAY_ENOMEM)
		diag_add(&s->d, path, 0, 0, "out of memory");
	return rc < 0 ? -1 : 0;
}

/* The registry, with the host's reporters and the search path. */
static int session_registry(session *s)
{
	const char *file = s->have_plan ? s->p.path : NULL;
	int rc;

	if (s->have_registry)
		return 0; /* the plan's plugins, then every other one */
	rc = registry_init(&s->reg, host_table(), &s->d);

	if (rc < 0) {
		diag_add(&s->d, NULL, 0, 0, "%s",
			 rc == ASSAY_ENOMEM ? "out of memory" : "cannot initialise libltdl");
		return -1;
	}
	s->have_registry = true;
	s->reg.allow_insecure = s->o.allow_insecure;
	s->reg.verbosity = ASSAY_LOG_WARNING + s->o.verbosity;
	if (searchpath_set(&s->reg, s->have_plan ? &s->p : NULL) < 0) {
		diag_add(&s->d, file, 0, 0, "out of memory");
		return -1;
	}
	return 0;
}

/* One entry of `load`: a name to search for, or a path. */
static int session_load_plugin(session *s, const assay_value *v)
{
	const char *name = value_string(v), *base = strrchr(name, '/');
	char short_name[256], *full = NULL;
	int rc;

	/* [plugins.NAME] configures the plugin loaded as NAME or .../NAME.so. */
	snprintf(short_name, sizeof short_name, "%.*s",
		 (int)strcspn(base ? base + 1 : name, "."), base ? base + 1 : name);
	/* A path (not a name to search for) is read like every path in a
	 * config file. */
	if (base && !(full = value_path(v, name)))
		return ASSAY_ENOMEM;
	rc = registry_load(&s->reg, full ? full : name, value_get(s->p.plugins, short_name), v);
	free(full);
	return rc;
}

int session_load_plugins(session *s)
{
	size_t i;

	if (session_registry(s) < 0)
		return -1;
	for (i = 0; s->p.load && i < value_len(s->p.load); i++)
		if (session_load_plugin(s, value_at(s->p.load, i, NULL)) == ASSAY_ENOMEM) {
			diag_add(&s->d, s->p.path, 0, 0, "out of memory");
			return -1;
		}
	return 0;
}

int session_load_every_plugin(session *s)
{
	char **paths;
	size_t i, n;

	if (session_registry(s) < 0)
		return -1;
	if (registry_discover(&s->reg, &paths, &n) < 0) {
		diag_add(&s->d, NULL, 0, 0, "out of memory");
		return -1;
	}
	for (i = 0; i < n; i++) {
		const char *base = strrchr(paths[i], '/');
		char short_name[256];

		/* [plugins.NAME] configures it here too (`assay gpus` with a
		 * config whose `load` does not name gpu). */
		base = base ? base + 1 : paths[i];
		snprintf(short_name, sizeof short_name, "%.*s", (int)strcspn(base, "."), base);
		registry_load(&s->reg, paths[i],
			      s->have_plan ? value_get(s->p.plugins, short_name) : NULL, NULL);
		free(paths[i]);
	}
	free(paths);
	return (int)n;
}

void session_prepare(session *s)
{
	config_prepare(&s->p, &s->reg, &s->d);
}

int session_graph(session *s)
{
	s->have_graph = true; /* graph_release() whatever graph_build() said */
	if (graph_build(&s->g, &s->p, &s->d) == ASSAY_ENOMEM)
		diag_add(&s->d, s->p.path, 0, 0, "out of memory");
	return diag_count(&s->d) ? -1 : 0;
}

int session_open(session *s, const char *path)
{
	if (session_load(s, path) < 0 || session_load_plugins(s) < 0)
		return -1;
	session_prepare(s);
	if (diag_count(&s->d) == 0)
		session_graph(s);
	return diag_count(&s->d) ? -1 : 0;
}

int session_select(session *s, char *const *names, size_t n, char *why, size_t why_size)
{
	free(s->keep);
	if (!(s->keep = calloc(s->p.n_nodes ? s->p.n_nodes : 1, sizeof *s->keep))) {
		snprintf(why, why_size, "out of memory");
		return -1;
	}
	return select_only(&s->p, &s->g, names, n, s->keep, why, why_size);
}

int session_add_report(session *s, const char *format, const char *path,
		       char *why, size_t why_size)
{
	return targets_add(&s->out, &s->reg, format, path, why, why_size);
}

int session_print_graph(const session *s, bool dot, FILE *out)
{
	double *seconds = calloc(s->p.n_nodes ? s->p.n_nodes : 1, sizeof *seconds);
	size_t i;

	if (!seconds)
		return ASSAY_ENOMEM;
	/* The declared estimates: the critical path of a run not yet made. */
	for (i = 0; i < s->p.n_nodes; i++)
		seconds[i] = s->p.nodes[i].skip ? 0 : s->p.nodes[i].estimate_s; /* never runs */
	if (dot)
		graph_print_dot(&s->g, &s->p, seconds, out);
	else
		graph_print_text(&s->g, &s->p, seconds, s->keep, out);
	free(seconds);
	return 0;
}

/* The trial tracker (made by session_start()), which prunes, closes and
 * ranks the sweeps; the journal; --trace; the live line, for a person at
 * a terminal (cron mails what is printed), or --progress plain's lines
 * for a log.  Without a subscriber the run publishes no events.  0 or
 * -1. */
static int session_subscribe(session *s, unsigned jobs)
{
	if (s->sweeps && sweeps_subscribe(s->sweeps, s->run) < 0)
		return -1;
	if (s->resume && resume_subscribe(s->resume, s->run) < 0)
		return -1;
	if (s->o.trace_path &&
	    (!(s->trace = trace_new(&s->p)) || trace_subscribe(s->trace, s->run) < 0))
		return -1;
	if (s->o.progress == PROGRESS_NONE ||
	    (s->o.progress == PROGRESS_AUTO && (!isatty(STDERR_FILENO) || getenv("NO_PROGRESS"))))
		return 0;
	if ((s->progress = progress_new(&s->p, &s->g, s->keep, s->sweeps, jobs, stderr)) &&
	    s->o.progress == PROGRESS_PLAIN)
		progress_set_plain(s->progress, s->o.progress_interval_ms ? s->o.progress_interval_ms
									 : PROGRESS_PLAIN_MS);
	if (s->progress && progress_subscribe(s->progress, s->run) < 0) {
		progress_free(s->progress);
		s->progress = NULL;
	}
	return 0;
}

/* Whether a trial will run: a kept one not skipped. */
static bool session_has_trials(const session *s)
{
	size_t i;

	for (i = 0; i < s->p.n_sweeps; i++) {
		const plan_sweep *sw = &s->p.sweeps[i];
		uint32_t k;

		for (k = sw->first; k < sw->first + sw->n_trials; k++)
			if (!s->p.nodes[k].skip && (!s->keep || s->keep[k]))
				return true;
	}
	return false;
}

/* Every run has its config's directory in the state dir (the run lock,
 * the journal) and an id; a run with trials also its run directory and
 * the trials' paths in it (made as each starts).  0, or -1 said on
 * stderr (state_failed: the state dir is unusable, exit 78). */
static int session_state(session *s)
{
	bool trials = session_has_trials(s);
	char why[8192];

	if (statedir_open_run(&s->state, s->p.state_dir, s->p.path, trials, why, sizeof why) < 0) {
		s->state_failed = strcmp(why, "out of memory") != 0;
		if (s->state_failed)
			fprintf(stderr, "assay: %s; set [runner] state_dir or $STATE_DIRECTORY\n",
				why);
		else
			fprintf(stderr, "assay: cannot start: out of memory\n");
		return -1;
	}
	s->run_id = s->state.run_id;
	if (trials && !(s->trial_dirs = trialdir_paths(&s->p, s->keep, s->state.run_dir))) {
		fprintf(stderr, "assay: cannot start: out of memory\n");
		return -1;
	}
	return 0;
}

/* What the journal is to do for this run, by the command line. */
static resume_options session_resume_options(const session *s)
{
	resume_options o = {
		.p = &s->p,
		.g = &s->g,
		.keep = s->keep,
		.config_dir = s->state.config_dir,
		.run_id = s->state.run_id,
		.argv = s->o.argv,
		.mode = s->o.rerun_failed ? RESUME_FAILED : s->o.resume ? RESUME_CONTINUE : RESUME_NONE,
		.explain = s->o.explain,
		.err = stderr,
	};

	return o;
}

/* Whether the journal is off though --resume or --rerun-failed asks for
 * it (said). */
static bool session_no_journal(const session *s)
{
	if (s->p.journal)
		return false;
	if (s->o.resume || s->o.rerun_failed)
		fprintf(stderr, "assay: nothing to %s: [runner] journal is false in %s; running "
			"everything\n", s->o.rerun_failed ? "rerun" : "resume", s->p.path);
	return true;
}

/* The journal, under the run lock: what --resume and --rerun-failed
 * reuse set in ro (resume.h).  0, or -1 said on stderr (state_failed:
 * the journal cannot be written, as a state dir that cannot). */
static int session_resume(session *s, run_options *ro)
{
	resume_options o = session_resume_options(s);

	if (session_no_journal(s))
		return 0;
	if (resume_open(&s->resume, &o) < 0) {
		s->state_failed = true;
		return -1;
	}
	resume_set_options(s->resume, ro);
	return 0;
}

int session_explain(session *s)
{
	resume_options o;
	resume *r = NULL;
	char why[8192];
	int rc;

	if (session_no_journal(s))
		return 0;
	/* The config's directory and the key, nothing else: no run. */
	if (statedir_open_run(&s->state, s->p.state_dir, s->p.path, false, why, sizeof why) < 0) {
		fprintf(stderr, "assay: %s\n", why);
		return -1;
	}
	o = session_resume_options(s);
	o.preview = true;
	rc = resume_open(&r, &o);
	resume_free(r);
	return rc;
}

/* The run lock (lock.h): one run of the config at a time, taken before
 * the journal is opened, so that only its holder writes it.  0, or -1
 * said on stderr (lock_busy: another run holds it, exit 75). */
static int session_lock(session *s)
{
	const char *base = strrchr(s->p.path, '/');
	char why[PATH_MAX + 256];
	int signo = 0, rc;

	rc = lock_take(&s->lock, s->state.config_dir, base ? base + 1 : s->p.path,
		       s->o.lock_wait_ms, s->sig.fd, &signo, why, sizeof why);
	if (rc == 0)
		return 0;
	fprintf(stderr, "assay: %s\n", why);
	/* Nothing ran, nothing is to be reported: leave as a second signal
	 * does (signals.c), with its status. */
	if (rc == LOCK_INTERRUPTED)
		_exit(128 + signo);
	s->lock_busy = rc == LOCK_BUSY;
	s->state_failed = rc == LOCK_ERROR && strcmp(why, "out of memory") != 0;
	return -1;
}

int session_start(session *s)
{
	run_options ro = {
		.jobs = s->o.jobs ? s->o.jobs : s->p.jobs,
		.workers = s->o.workers ? s->o.workers : s->p.workers,
		.fail_fast = s->o.fail_fast || s->p.fail_fast,
		.keep = s->keep,
		.verbosity = ASSAY_LOG_WARNING + s->o.verbosity,
	};

	/* Before the reactor's thread and the pool's start: they inherit the
	 * signal mask. */
	if (!s->re) {
		signals_block(&s->sig);
		if (reactor_new(&s->re) < 0) {
			fprintf(stderr, "assay: cannot start the reactor thread\n");
			return -1;
		}
	}
	/* With the plan known good and nothing run yet: the state dir, then
	 * the run lock (lock.h), then the journal under it (resume.h). */
	if (session_state(s) < 0)
		return -1;
	if (session_lock(s) < 0 || session_resume(s, &ro) < 0)
		return -1;
	ro.trial_dirs = (const char *const *)s->trial_dirs;
	/* The tracker judges, for a node after a sweep, the sweep as a
	 * whole: the options say so before the run is made. */
	if (s->p.n_sweeps) {
		if (!(s->sweeps = sweeps_new(&s->p))) {
			fprintf(stderr, "assay: cannot start: out of memory\n");
			return -1;
		}
		sweeps_judge(s->sweeps, &ro);
	}
	if (run_new(&s->run, &s->p, &s->g, &ro, s->re) < 0 || session_subscribe(s, ro.jobs) < 0) {
		fprintf(stderr, "assay: cannot start: out of memory\n");
		return -1;
	}
	signals_watch(&s->sig, s->re, s->run);
	return 0;
}

int session_go(session *s)
{
	int rc;

	if (s->progress && progress_start(s->progress, s->re) < 0)
		progress_stop(s->progress); /* no timer: no line */
	rc = run_go(s->run);
	if (rc == 0 && s->resume)
		resume_end(s->resume, s->run);
	if (s->progress)
		progress_stop(s->progress); /* erased before the report */
	if (rc < 0) {
		fprintf(stderr, "assay: cannot start the worker threads\n");
		return -1;
	}
	/* After the run, never during: the run's own directory is the
	 * newest, and kept. */
	if (s->state.run_dir)
		statedir_prune_runs(s->state.config_dir, s->p.keep_runs, s->state.run_id, stderr);
	return 0;
}

int session_run(session *s)
{
	return session_start(s) < 0 ? -1 : session_go(s);
}

int session_report(session *s)
{
	report rep;
	int status = ASSAY_UNKNOWN;

	if (report_build(&rep, &s->p, &s->g, s->run, s->sweeps, s->run_id) < 0) {
		fprintf(stderr, "assay: out of memory writing the report\n");
	} else {
		status = report_exit_status(&rep);
		/* A report that was asked for is missing (the trace too). */
		if (targets_write(&s->out, &rep) < 0 && status == ASSAY_OK)
			status = ASSAY_UNKNOWN;
		if (s->trace && trace_write(s->trace, &rep, s->o.trace_path) < 0 && status == ASSAY_OK)
			status = ASSAY_UNKNOWN;
	}
	report_release(&rep);
	return status;
}

void session_release_plan(session *s)
{
	/* Read until the reports are written: a second signal while one
	 * waits on a FIFO still leaves at once. */
	signals_unwatch(&s->sig);
	if (s->progress)
		progress_stop(s->progress);
	run_free(s->run);
	/* After the run: its results borrow the ids of the runs reused. */
	resume_free(s->resume);
	s->resume = NULL;
	trace_free(s->trace);
	s->trace = NULL;
	progress_free(s->progress);
	sweeps_free(s->sweeps);
	s->run = NULL;
	s->progress = NULL;
	s->sweeps = NULL;
	if (s->have_graph)
		graph_release(&s->g);
	/* The plan the plugins were loaded from holds their [plugins.NAME]
	 * tables, which plugin_config() answers until they are unloaded: it
	 * is kept, the later ones released.  Plans hold plugin state:
	 * released before the plugins. */
	if (s->have_plan && s->have_registry && !s->have_loader) {
		s->loader = s->p;
		s->have_loader = true;
	} else if (s->have_plan) {
		plan_release(&s->p);
	}
	free(s->keep);
	s->keep = NULL;
	free(s->trial_dirs);
	s->trial_dirs = NULL;
	/* After the reports: the next run reads the last result written. */
	lock_release(s->lock);
	s->lock = NULL;
	statedir_release(&s->state);
	s->run_id = NULL;
	s->have_graph = s->have_plan = false;
}

void session_release(session *s)
{
	session_release_plan(s);
	reactor_free(s->re);
	s->re = NULL;
	signals_release(&s->sig);
	if (s->have_loader)
		plan_release(&s->loader);
	s->have_loader = false;
	if (s->have_registry)
		registry_release(&s->reg);
	s->have_registry = false;
	diag_release(&s->d);
}

char *session_formats(char *buf, size_t size)
{
	diag d = DIAG_INIT;
	registry r;

	buf[0] = '\0';
	if (registry_init(&r, host_table(), &d) == 0) {
		registry_names(&r, REG_REPORTER, buf, size);
		registry_release(&r);
	}
	diag_release(&d);
	return buf;
}
