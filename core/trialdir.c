/* trialdir.c -- a trial's directory: its escaped name, made with
 * params.json on the trial's first attempt, an earlier attempt's
 * metrics.jsonl removed at a retry, result.json at the end.  A few syscalls a trial and
 * no fsync: these are a record for people and the next step, not a
 * journal (the journal, when it comes, is what survives a crash). */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "diag.h"
#include "status.h"
#include "text.h"
#include "trialdir.h"

unsigned long long trialdir_hash(const char *s, size_t n)
{
	unsigned long long h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* The bytes a name keeps as they are. */
static bool trialdir_safe(unsigned char c, bool first)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	/* A leading '.' hides the file (or is "." or ".."), a leading '-'
	 * reads as an option to ls or rm. */
	if (first && (c == '.' || c == '-'))
		return false;
	return c && strchr("._-+=,@[]", c) != NULL;
}

char *trialdir_escape(const char *id)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t len = strlen(id), i, o = 0;
	char *out = malloc(3 * len + 2);

	if (!out)
		return NULL;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)id[i];

		if (trialdir_safe(c, i == 0)) {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	if (len == 0)
		out[o++] = '%'; /* never an escape's start: no other name is "%" */
	out[o] = '\0';
	if (o > TRIALDIR_NAME_MAX) {
		size_t cut = TRIALDIR_NAME_MAX - 17;

		/* Back off to a boundary: a '%' within the last two bytes kept
		 * starts an escape that the cut would split. */
		if (out[cut - 1] == '%')
			cut -= 1;
		else if (out[cut - 2] == '%')
			cut -= 2;
		snprintf(out + cut, 18, "~%016llx", trialdir_hash(id, len));
	}
	return out;
}

/* Node i's directory name.  An id with a secret in it (a parameter from
 * ${env:...}) is named for its masked text and the node's index, so the
 * secret is never a file name and two such trials stay apart. */
static char *trialdir_name(const plan *p, size_t i)
{
	const char *id = p->nodes[i].id;
	char *clean, *tagged, *name;

	if (!p->values.n_secrets)
		return trialdir_escape(id);
	if (!(clean = diag_scrub(id, (const char *const *)p->values.secrets, p->values.n_secrets)))
		return NULL;
	if (strcmp(clean, id) == 0) {
		free(clean);
		return trialdir_escape(id);
	}
	if (asprintf(&tagged, "%s~%zu", clean, i) < 0)
		tagged = NULL;
	free(clean);
	name = tagged ? trialdir_escape(tagged) : NULL;
	free(tagged);
	return name;
}

char **trialdir_paths(const plan *p, const bool *keep, const char *run_dir)
{
	size_t i, total = 0, dir_len = strlen(run_dir);
	char **paths, **names = calloc(p->n_nodes ? p->n_nodes : 1, sizeof *names), *at;

	if (!names)
		return NULL;
	for (i = 0; i < p->n_nodes; i++) {
		const plan_node *n = &p->nodes[i];

		if (n->kind != ASSAY_KIND_TRIAL || n->skip || (keep && !keep[i]))
			continue;
		if (!(names[i] = trialdir_name(p, i)))
			goto fail;
		total += dir_len + 1 + strlen(names[i]) + 1;
	}
	/* One block: the pointers, then the strings. */
	if (!(paths = malloc(p->n_nodes * sizeof *paths + total + 1)))
		goto fail;
	at = (char *)(paths + p->n_nodes);
	for (i = 0; i < p->n_nodes; i++) {
		paths[i] = NULL;
		if (!names[i])
			continue;
		paths[i] = at;
		at += sprintf(at, "%s/%s", run_dir, names[i]) + 1;
		free(names[i]);
	}
	free(names);
	return paths;
fail:
	for (i = 0; i < p->n_nodes; i++)
		free(names[i]);
	free(names);
	return NULL;
}

bool trialdir_json_number(const char *s)
{
	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		while (*s >= '0' && *s <= '9')
			s++;
	else
		return false;
	if (*s == '.') {
		if (!(*++s >= '0' && *s <= '9'))
			return false;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!(*s >= '0' && *s <= '9'))
			return false;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return *s == '\0';
}

/* text as a JSON string: valid UTF-8, secrets[0 .. n) masked. */
static cJSON *trialdir_masked(const char *text, const char *const *secrets, size_t n)
{
	char *valid = text_utf8(text), *clean = NULL;
	cJSON *s;

	if (valid && n)
		clean = diag_scrub(valid, secrets, n);
	s = cJSON_CreateString(clean ? clean : valid ? valid : "");
	free(valid);
	free(clean);
	return s;
}

/* The same with the plan's secrets (p may be NULL: none). */
static cJSON *trialdir_string(const plan *p, const char *text)
{
	return p ? trialdir_masked(text, (const char *const *)p->values.secrets,
				   p->values.n_secrets)
		 : trialdir_masked(text, NULL, 0);
}

/* dir/name with json's text, replaced whole; 0 or -1 (errno). */
static int trialdir_write_json(const char *dir, const char *name, cJSON *json)
{
	char path[4096], *text = json ? cJSON_Print(json) : NULL;
	size_t len;
	ssize_t w;
	int fd, saved;

	if (!text) {
		errno = ENOMEM;
		return -1;
	}
	len = strlen(text);
	text[len] = '\n'; /* cJSON's terminator: the file ends with a newline */
	snprintf(path, sizeof path, "%s/%s", dir, name);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) {
		free(text);
		return -1;
	}
	w = write(fd, text, len + 1);
	saved = errno;
	free(text);
	if (close(fd) < 0 || w != (ssize_t)(len + 1)) {
		errno = w < 0 ? saved : errno ? errno : EIO;
		return -1;
	}
	return 0;
}

static int trialdir_params(const char *dir, const plan *p, const plan_node *n)
{
	const plan_sweep *sw = plan_sweep_of(p, n);
	cJSON *o = cJSON_CreateObject(), *params;
	size_t i;
	int rc;

	if (!o)
		return -1;
	cJSON_AddItemToObject(o, "id", trialdir_string(p, n->id));
	cJSON_AddItemToObject(o, "sweep", sw ? trialdir_string(p, sw->id) : cJSON_CreateNull());
	params = cJSON_AddObjectToObject(o, "params");
	for (i = 0; params && i < n->n_params; i++) {
		const char *v = n->params[i].value ? n->params[i].value : "";

		/* The text as written: the full value, no rounding. */
		cJSON_AddItemToObject(params, n->params[i].name,
				      trialdir_json_number(v) ? cJSON_CreateRaw(v)
							      : trialdir_string(p, v));
	}
	cJSON_AddNumberToObject(o, "seed", n->seed);
	cJSON_AddNumberToObject(o, "point", n->point);
	rc = trialdir_write_json(dir, "params.json", o);
	cJSON_Delete(o);
	return rc;
}

/* An earlier attempt's dir/metrics.jsonl removed: the program makes the
 * file when it first appends to it (a trial that reports nothing through
 * it costs no file). */
static int trialdir_forget_metrics(const char *dir)
{
	char path[4096];

	snprintf(path, sizeof path, "%s/metrics.jsonl", dir);
	return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
}

int trialdir_enter(const char *dir, const plan *p, const plan_node *n, bool made, char *why,
		   size_t size)
{
	const char *what = "cannot create";

	if (strlen(dir) + sizeof "/metrics.jsonl" > 4096) {
		snprintf(why, size, "trial dir %s: path too long", dir);
		return -1;
	}
	if (!made && mkdir(dir, 0700) < 0 && errno != EEXIST)
		goto fail;
	what = "cannot write params.json in";
	if (!made && trialdir_params(dir, p, n) < 0)
		goto fail;
	what = "cannot remove the last attempt's metrics.jsonl in";
	if (made && trialdir_forget_metrics(dir) < 0)
		goto fail;
	return 0;
fail:
	snprintf(why, size, "trial dir %s: %s: %s", dir, what, strerror(errno));
	return -1;
}

/* As the JSON report writes times: RFC 3339, or null for "never". */
static cJSON *trialdir_time(double t)
{
	char buf[TEXT_TIME_SIZE];

	return text_time(t, buf) ? cJSON_CreateString(buf) : cJSON_CreateNull();
}

int trialdir_write_result(const char *dir, const trialdir_result *res)
{
	cJSON *o = cJSON_CreateObject(), *metrics;
	size_t i;
	int rc;

	if (!o) {
		errno = ENOMEM;
		return -1;
	}
	/* Messages and metrics were masked when the plugin reported them;
	 * the id holds the config's text. */
	cJSON_AddItemToObject(o, "id", trialdir_masked(res->id, res->secrets, res->n_secrets));
	cJSON_AddStringToObject(o, "status", status_name(res->status));
	cJSON_AddItemToObject(o, "message",
			      res->message ? trialdir_string(NULL, res->message)
					   : cJSON_CreateNull());
	cJSON_AddBoolToObject(o, "pruned", res->pruned);
	if (res->pruned)
		cJSON_AddNumberToObject(o, "pruned_step", (double)res->pruned_step);
	metrics = cJSON_AddObjectToObject(o, "metrics");
	for (i = 0; metrics && i < res->n_metrics; i++)
		cJSON_AddItemToObject(metrics, res->metrics[i].name,
				      isfinite(res->metrics[i].value)
					      ? cJSON_CreateNumber(res->metrics[i].value)
					      : cJSON_CreateNull());
	cJSON_AddNumberToObject(o, "attempts", res->attempts);
	cJSON_AddNumberToObject(o, "duration", res->duration);
	cJSON_AddItemToObject(o, "start", trialdir_time(res->start));
	cJSON_AddItemToObject(o, "end", trialdir_time(res->end));
	rc = trialdir_write_json(dir, "result.json", o);
	cJSON_Delete(o);
	return rc;
}
