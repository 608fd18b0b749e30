/* statedir.c -- the state dir: resolved as DESIGN.md's "Resume" says, a
 * directory per config inside it, runs/<run-id>/ for each run that needs
 * one, and keep_runs's retention of the old ones. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "statedir.h"
#include "trialdir.h"

/* An environment variable, NULL when unset or empty. */
static const char *statedir_env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

static char *statedir_join(const char *dir, const char *name)
{
	char *s;

	return asprintf(&s, "%s/%s", dir, name) < 0 ? NULL : s;
}

char *statedir_base(const char *setting, uid_t euid, char *why, size_t size)
{
	const char *v;
	char *s;

	if (setting && *setting)
		s = strdup(setting);
	else if ((v = statedir_env("STATE_DIRECTORY")))
		s = strndup(v, strcspn(v, ":")); /* systemd's StateDirectory= may list several */
	else if (euid == 0)
		s = strdup("/var/lib/assay");
	else if ((v = statedir_env("XDG_STATE_HOME")) && v[0] == '/')
		s = statedir_join(v, "assay"); /* a relative one is invalid: ignored */
	else if ((v = statedir_env("HOME")))
		s = statedir_join(v, ".local/state/assay");
	else {
		snprintf(why, size, "no state dir: $HOME is not set");
		return NULL;
	}
	if (!s)
		snprintf(why, size, "out of memory");
	return s;
}

char *statedir_config_name(const char *config_path)
{
	char *real = realpath(config_path, NULL), *base_name, *name = NULL;
	const char *path = real ? real : config_path, *base = strrchr(path, '/');
	size_t len;

	base = base ? base + 1 : path;
	len = strlen(base);
	if (len > 5 && strcmp(base + len - 5, ".toml") == 0)
		len -= 5;
	if ((base_name = strndup(base, len))) {
		char *escaped = trialdir_escape(base_name);

		if (escaped &&
		    asprintf(&name, "%s-%016llx", escaped, trialdir_hash(path, strlen(path))) < 0)
			name = NULL;
		free(escaped);
	}
	free(base_name);
	free(real);
	return name;
}

/* One directory of the chain: made 0700 unless it is there. */
static int statedir_mkdir(const char *path, char *why, size_t size)
{
	struct stat st;

	if (mkdir(path, 0700) == 0 ||
	    (errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode)))
		return 0;
	if (errno == EEXIST)
		errno = ENOTDIR;
	snprintf(why, size, "state dir %s: cannot create: %s", path, strerror(errno));
	return -1;
}

int statedir_make(const char *path, char *why, size_t size)
{
	char *copy = strdup(path), *p;
	int rc = 0;

	if (!copy) {
		snprintf(why, size, "out of memory");
		return -1;
	}
	/* Each parent in turn: mkdir -p, without the umask's say on the mode
	 * of what is made (mkdir's 0700 is below any umask). */
	for (p = copy + 1; rc == 0 && (p = strchr(p, '/')); p++) {
		*p = '\0';
		rc = statedir_mkdir(copy, why, size);
		*p = '/';
	}
	if (rc == 0)
		rc = statedir_mkdir(copy, why, size);
	if (rc == 0 && access(copy, W_OK | X_OK) < 0) {
		snprintf(why, size, "state dir %s: cannot write: %s", copy, strerror(errno));
		rc = -1;
	}
	free(copy);
	return rc;
}

void statedir_format_run_id(char buf[STATEDIR_RUN_ID_SIZE], time_t now, unsigned random16)
{
	struct tm tm;

	if (!gmtime_r(&now, &tm))
		memset(&tm, 0, sizeof tm);
	/* Each field bounded, so that the compiler sees it fits. */
	snprintf(buf, STATEDIR_RUN_ID_SIZE, "%04u%02u%02uT%02u%02u%02uZ-%04x",
		 (unsigned)(tm.tm_year + 1900) % 10000u, (unsigned)(tm.tm_mon + 1) % 100u,
		 (unsigned)tm.tm_mday % 100u, (unsigned)tm.tm_hour % 100u,
		 (unsigned)tm.tm_min % 100u, (unsigned)tm.tm_sec % 100u, random16 & 0xffffu);
}

bool statedir_is_run_id(const char *name)
{
	static const char shape[] = "DDDDDDDDTDDDDDDZ-XXXX";
	size_t i;

	for (i = 0; shape[i]; i++) {
		char c = name[i];

		if (shape[i] == 'D'   ? !(c >= '0' && c <= '9')
		    : shape[i] == 'X' ? !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))
				      : c != shape[i])
			return false;
	}
	return name[i] == '\0';
}

/* Random bits: a clash with another run only costs another try. */
static unsigned statedir_random16(void)
{
	unsigned short r;
	struct timespec ts;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	bool got = fd >= 0 && read(fd, &r, sizeof r) == (ssize_t)sizeof r;

	if (fd >= 0)
		close(fd);
	if (got)
		return r;
	/* No /dev/urandom (a chroot): the clock and the pid, and a clash
	 * only costs another try. */
	clock_gettime(CLOCK_REALTIME, &ts);
	return (unsigned short)((unsigned long)ts.tv_nsec ^ ((unsigned long)getpid() << 4));
}

/* config_dir/runs/<fresh id>, made: mkdir fails when the name exists,
 * so two runs of one second never share one. */
static int statedir_new_run(statedir_run *r, bool with_dir, char *why, size_t size)
{
	char id[STATEDIR_RUN_ID_SIZE], *runs = statedir_join(r->config_dir, "runs");
	int tries, rc = -1;

	if (!runs || (with_dir && statedir_make(runs, why, size) < 0)) {
		if (!runs)
			snprintf(why, size, "out of memory");
		free(runs);
		return -1;
	}
	for (tries = 0; tries < 1000 && rc < 0; tries++) {
		struct timespec now;

		/* The suffix: the millisecond times 64 and 6 random bits, so
		 * that ids sort by start to the millisecond (what retention
		 * keeps) and two runs of one millisecond rarely clash. */
		clock_gettime(CLOCK_REALTIME, &now);
		statedir_format_run_id(id, now.tv_sec,
				       (unsigned)(now.tv_nsec / 1000000) * 64u +
					       (statedir_random16() & 63u));
		free(r->run_dir);
		if (!(r->run_dir = statedir_join(runs, id))) {
			snprintf(why, size, "out of memory");
			break;
		}
		if (!with_dir) {
			/* Only the id: the run lock keeps runs of this config
			 * apart, and ids differ by the millisecond. */
			free(r->run_dir);
			r->run_dir = NULL;
			rc = 0;
		} else if (mkdir(r->run_dir, 0700) == 0) {
			rc = 0;
		} else if (errno != EEXIST) {
			snprintf(why, size, "state dir %s: cannot create: %s", r->run_dir,
				 strerror(errno));
			break;
		}
	}
	if (rc < 0 && tries == 1000)
		snprintf(why, size, "state dir %s: no free run id", runs);
	if (rc == 0 && !(r->run_id = strdup(id))) {
		snprintf(why, size, "out of memory");
		rc = -1;
	}
	free(runs);
	return rc;
}

int statedir_open_run(statedir_run *r, const char *setting, const char *config_path,
		      bool with_run_dir, char *why, size_t size)
{
	char *name;

	memset(r, 0, sizeof *r);
	if (!(r->base = statedir_base(setting, geteuid(), why, size)))
		return -1;
	/* {trial_dir} must name the directory from wherever a command runs. */
	if (r->base[0] != '/') {
		char *cwd = getcwd(NULL, 0), *abs = cwd ? statedir_join(cwd, r->base) : NULL;

		free(cwd);
		if (!abs) {
			snprintf(why, size, "state dir %s: cannot find the current directory",
				 r->base);
			return -1;
		}
		free(r->base);
		r->base = abs;
	}
	if (!(name = statedir_config_name(config_path)) ||
	    !(r->config_dir = statedir_join(r->base, name))) {
		free(name);
		snprintf(why, size, "out of memory");
		return -1;
	}
	free(name);
	if (statedir_make(r->config_dir, why, size) < 0 || statedir_new_run(r, with_run_dir, why, size) < 0)
		return -1;
	return 0;
}

void statedir_release(statedir_run *r)
{
	free(r->base);
	free(r->config_dir);
	free(r->run_id);
	free(r->run_dir);
	memset(r, 0, sizeof *r);
}

/* nftw's callback: remove what it walks, depth first, links as links. */
static int statedir_remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path) < 0 ? -1 : 0;
}

static int statedir_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The run ids in runs, sorted (oldest first); *n set.  NULL when there
 * are none or it cannot be read. */
static char **statedir_list_runs(const char *runs, size_t *n)
{
	DIR *d = opendir(runs);
	struct dirent *de;
	char **names = NULL, **grown;
	size_t cap = 0;

	*n = 0;
	if (!d)
		return NULL;
	while ((de = readdir(d))) {
		if (!statedir_is_run_id(de->d_name))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 32;
			if (!(grown = realloc(names, cap * sizeof *names)))
				break;
			names = grown;
		}
		if (!(names[*n] = strdup(de->d_name)))
			break;
		++*n;
	}
	closedir(d);
	if (*n)
		qsort(names, *n, sizeof *names, statedir_cmp);
	return names;
}

size_t statedir_prune_runs(const char *config_dir, unsigned keep, const char *current, FILE *warn)
{
	char *runs = statedir_join(config_dir, "runs"), **names;
	size_t n, i, removed = 0, excess;

	if (!runs)
		return 0;
	names = statedir_list_runs(runs, &n);
	/* The current run is one of the keep newest, wherever it sorts. */
	excess = keep && n > keep ? n - keep : 0;
	for (i = 0; i < n; i++) {
		char *path;

		if (removed < excess && !(current && strcmp(names[i], current) == 0) &&
		    (path = statedir_join(runs, names[i]))) {
			if (nftw(path, statedir_remove_entry, 16, FTW_DEPTH | FTW_PHYS) < 0 && warn)
				fprintf(warn, "assay: warning: keep_runs: cannot remove %s: %s\n",
					path, strerror(errno));
			else
				removed++;
			free(path);
		}
		free(names[i]);
	}
	free(names);
	free(runs);
	return removed;
}
