/* resume_nodes.c -- the last run's node keys by id, beside the journal
 * (RESUME_NODES_FILE), so that --explain can tell a node whose definition
 * changed, and which of its options did, from one the last run never had.
 * The journal names executions by key alone; this file is what ties a key
 * to a node id.  It holds keyed hashes and ids, never an option's value.
 *
 *   assay-nodes 1
 *   KEY N PARTHASH:NAME ... ID        (names and ids %XX-escaped)
 */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "resume_int.h"

#define RESUME_NODES_MAGIC "assay-nodes 1\n"

static void resume_nodes_put(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c <= ' ' || c == 0x7f || c == '%' || c == ':')
			fprintf(f, "%%%02X", c);
		else
			fputc(c, f);
	}
}

/* Undo resume_nodes_put() in place. */
static char *resume_nodes_unescape(char *s)
{
	char *in = s, *out = s;

	while (*in) {
		unsigned v;

		if (in[0] == '%' && in[1] && in[2] && sscanf(in + 1, "%2x", &v) == 1) {
			*out++ = (char)v;
			in += 3;
		} else
			*out++ = *in++;
	}
	*out = '\0';
	return s;
}

int resume_nodes_write(const resume *r, char *why, size_t size)
{
	const nodekeys *k = &r->keys;
	char path[4200], tmp[4300], hex[NODEKEY_HEX_SIZE];
	size_t i, j;
	FILE *f;
	int fd, bad;

	snprintf(path, sizeof path, "%s/%s", r->o.config_dir, RESUME_NODES_FILE);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	/* 0600, as everything in the state dir. */
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0 ||
	    !(f = fdopen(fd, "w"))) {
		snprintf(why, size, "%s: cannot create: %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	fputs(RESUME_NODES_MAGIC, f);
	for (i = 0; i < r->o.p->n_nodes; i++) {
		fprintf(f, "%s %zu", nodekey_hex(k->nodes[i], hex),
			k->part_at[i + 1] - k->part_at[i]);
		for (j = k->part_at[i]; j < k->part_at[i + 1]; j++) {
			fprintf(f, " %s:", nodekey_hex(k->parts[j].hash, hex));
			resume_nodes_put(f, k->parts[j].name);
		}
		fputc(' ', f);
		resume_nodes_put(f, r->o.p->nodes[i].id);
		fputc('\n', f);
	}
	bad = fflush(f) != 0 || ferror(f) || fsync(fileno(f)) < 0;
	if (fclose(f) != 0 || bad || rename(tmp, path) < 0) {
		snprintf(why, size, "%s: cannot write: %s", path, strerror(errno ? errno : EIO));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* One line: "KEY N HASH:NAME ... ID".  0, or -1 when it is not one. */
static int resume_nodes_line(char *line, resume_prev_node *out)
{
	char *save = NULL, *tok = strtok_r(line, " ", &save), *end;
	size_t j, n;

	if (!tok || nodekey_parse(tok, &out->key) < 0 || !(tok = strtok_r(NULL, " ", &save)))
		return -1;
	n = strtoul(tok, &end, 10);
	if (*end || n > 4096 || !(out->parts = calloc(n ? n : 1, sizeof *out->parts)))
		return -1;
	for (j = 0; j < n; j++) {
		if (!(tok = strtok_r(NULL, " ", &save)) || strlen(tok) < 34 || tok[32] != ':' ||
		    nodekey_parse(tok, &out->parts[j].hash) < 0 ||
		    !(out->parts[j].name = strdup(resume_nodes_unescape(tok + 33))))
			return -1;
		out->n_parts++;
	}
	if (!(tok = strtok_r(NULL, " ", &save)) || strtok_r(NULL, " ", &save))
		return -1;
	return (out->id = strdup(resume_nodes_unescape(tok))) ? 0 : -1;
}

static void resume_nodes_free_node(resume_prev_node *n)
{
	size_t j;

	for (j = 0; j < n->n_parts; j++)
		free((char *)n->parts[j].name);
	free(n->parts);
	free(n->id);
}

static int resume_nodes_cmp(const void *a, const void *b)
{
	return strcmp(((const resume_prev_node *)a)->id, ((const resume_prev_node *)b)->id);
}

void resume_nodes_read(resume_prev *prev, const char *config_dir)
{
	char path[4200], *line = NULL;
	size_t cap = 0, room = 0;
	ssize_t len;
	FILE *f;

	memset(prev, 0, sizeof *prev);
	snprintf(path, sizeof path, "%s/%s", config_dir, RESUME_NODES_FILE);
	if (!(f = fopen(path, "re")))
		return;
	if ((len = getline(&line, &cap, f)) < 0 || strcmp(line, RESUME_NODES_MAGIC) != 0)
		goto done; /* another version's: --explain says less */
	while ((len = getline(&line, &cap, f)) > 0) {
		resume_prev_node node = { 0 };

		line[len - 1] = line[len - 1] == '\n' ? '\0' : line[len - 1];
		if (prev->n == room) {
			resume_prev_node *more =
				realloc(prev->nodes, (room = room * 2 + 64) * sizeof *more);

			if (!more)
				break;
			prev->nodes = more;
		}
		if (resume_nodes_line(line, &node) < 0) {
			resume_nodes_free_node(&node);
			continue;
		}
		prev->nodes[prev->n++] = node;
	}
	qsort(prev->nodes, prev->n, sizeof *prev->nodes, resume_nodes_cmp);
done:
	free(line);
	fclose(f);
}

const resume_prev_node *resume_nodes_find(const resume_prev *prev, const char *id)
{
	resume_prev_node key = { .id = (char *)id };

	return prev->n ? bsearch(&key, prev->nodes, prev->n, sizeof key, resume_nodes_cmp) : NULL;
}

void resume_nodes_release(resume_prev *prev)
{
	size_t i;

	for (i = 0; i < prev->n; i++)
		resume_nodes_free_node(&prev->nodes[i]);
	free(prev->nodes);
	memset(prev, 0, sizeof *prev);
}
