/* journal.c -- writing the journal (journal.h): open (fresh, or appended
 * to after its torn tail is cut), one write(2) per record from any
 * thread, the sync thread of JOURNAL_SYNC_BATCH, close. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "journal_int.h"

/* JOURNAL_SYNC_BATCH: how long records may wait for their sync, and how
 * soon after a node ends (nodes ending together share one). */
#define JOURNAL_BATCH_NS 100000000LL
#define JOURNAL_NODE_NS 10000000LL

/* Most records fit: built on the stack, no malloc. */
#define JOURNAL_STACK_RECORD 4096

struct journal {
	int fd;
	char *path;
	journal_sync sync;
	atomic_bool failed; /* a write or sync failed: said once, no more records */
	atomic_bool dirty;  /* records written since the sync thread last looked */
	atomic_ulong syncs; /* fdatasyncs done (journal_syncs) */
	/* The sync thread (JOURNAL_SYNC_BATCH); the rest under mu. */
	pthread_t thread;
	bool has_thread;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	bool node_done; /* a node ended: sync soon */
	bool closing;
};

/* One record to encode: which fields count depends on type. */
typedef struct journal_rec {
	enum journal_type type;
	journal_key key;
	uint32_t item;
	unsigned attempt;
	pid_t pgid;
	uint64_t start_min, start_max;
	const run_result *res;
	const journal_run_info *run;
	double end;
	bool stopped;
} journal_rec;

static void journal_put_run(journal_writer *w, const journal_run_info *info)
{
	size_t argc = 0, i;

	journal_put_str(w, info->run_id);
	journal_put_str(w, info->config_hash);
	journal_put_str(w, info->version);
	journal_put_str(w, info->boot_id);
	journal_put_str(w, info->continues);
	journal_put_double(w, info->start);
	while (info->argv && info->argv[argc])
		argc++;
	journal_put_uint(w, argc);
	for (i = 0; i < argc; i++)
		journal_put_str(w, info->argv[i]);
}

/* rec into w: its size, 0 when it did not fit (w->len says what would). */
static size_t journal_encode(journal_writer *w, const journal_rec *rec)
{
	journal_record_begin(w, rec->type);
	switch (rec->type) {
	case JOURNAL_REC_RUN:
		journal_put_run(w, rec->run);
		break;
	case JOURNAL_REC_RUN_END:
		journal_put_double(w, rec->end);
		journal_put_u8(w, rec->stopped);
		break;
	default:
		journal_put_key(w, rec->key);
		journal_put_uint(w, rec->item);
		if (rec->type != JOURNAL_REC_FINAL)
			journal_put_uint(w, rec->attempt);
		if (rec->type == JOURNAL_REC_CHILD) {
			journal_put_int(w, rec->pgid);
			journal_put_uint(w, rec->start_min);
			journal_put_uint(w, rec->start_max);
		}
		if (rec->res)
			journal_put_result(w, rec->res);
	}
	return journal_record_finish(w);
}

/* A write or sync failed: say so once; no record is written after. */
static void journal_fail(journal *j, const char *what, int err)
{
	if (!atomic_exchange(&j->failed, true))
		fprintf(stderr, "assay: journal %s: cannot %s: %s; this run cannot be resumed\n",
			j->path, what, strerror(err));
}

static void journal_mark_dirty(journal *j)
{
	/* Only the first record after a sync wakes the sync thread: the
	 * others cost one atomic load. */
	if (j->has_thread && !atomic_load_explicit(&j->dirty, memory_order_relaxed) &&
	    !atomic_exchange(&j->dirty, true)) {
		pthread_mutex_lock(&j->mu);
		pthread_cond_signal(&j->cond);
		pthread_mutex_unlock(&j->mu);
	}
}

/* rec encoded into w, on the stack buffer w holds or, when larger, on a
 * malloc'd one (the caller frees w->buf unless it is the stack's): its
 * size; 0 with errno when it cannot be. */
static size_t journal_build(journal_writer *w, const journal_rec *rec)
{
	size_t n = journal_encode(w, rec);

	if (n || w->len <= w->cap)
		return n;
	if (w->len - JOURNAL_FRAME_SIZE > JOURNAL_RECORD_MAX) {
		errno = EFBIG;
		return 0;
	}
	if (!(w->buf = malloc(w->len)))
		return 0;
	w->cap = w->len;
	return journal_encode(w, rec);
}

/* Why a write(2) to fd wrote less than it was given: the kernel says
 * nothing, but a regular file stops short at the size limit or on a full
 * disk. */
static int journal_short_write_errno(int fd)
{
	struct rlimit rl;
	struct stat st;

	if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    fstat(fd, &st) == 0 && (rlim_t)st.st_size >= rl.rlim_cur)
		return EFBIG;
	return ENOSPC;
}

/* Encode rec and write it with one write(2): O_APPEND puts it whole at
 * the end, whatever other threads write at the same time. */
static int journal_append(journal *j, const journal_rec *rec)
{
	uint8_t stack[JOURNAL_STACK_RECORD];
	journal_writer w = { stack, 0, sizeof stack };
	size_t n;
	ssize_t k;

	if (atomic_load_explicit(&j->failed, memory_order_relaxed))
		return -1;
	if (!(n = journal_build(&w, rec))) {
		journal_fail(j, "write", errno);
	} else {
		do
			k = write(j->fd, w.buf, n);
		while (k < 0 && errno == EINTR);
		if (k < 0 || (size_t)k != n)
			/* A short write leaves a torn record that ends what a
			 * load reads: nothing after it could be used. */
			journal_fail(j, "write", k < 0 ? errno : journal_short_write_errno(j->fd));
	}
	if (w.buf != stack)
		free(w.buf);
	if (atomic_load_explicit(&j->failed, memory_order_relaxed))
		return -1;
	journal_mark_dirty(j);
	return 0;
}

int journal_start(journal *j, journal_key key, uint32_t item, unsigned attempt)
{
	journal_rec rec = { .type = JOURNAL_REC_START, .key = key, .item = item,
			    .attempt = attempt };

	return journal_append(j, &rec);
}

int journal_child(journal *j, journal_key key, uint32_t item, unsigned attempt, pid_t pgid,
		  uint64_t start_min, uint64_t start_max)
{
	journal_rec rec = { .type = JOURNAL_REC_CHILD, .key = key, .item = item,
			    .attempt = attempt, .pgid = pgid, .start_min = start_min,
			    .start_max = start_max };

	return journal_append(j, &rec);
}

int journal_end(journal *j, journal_key key, uint32_t item, unsigned attempt, const run_result *res)
{
	journal_rec rec = { .type = JOURNAL_REC_END, .key = key, .item = item,
			    .attempt = attempt, .res = res };

	return res ? journal_append(j, &rec) : -1;
}

int journal_final(journal *j, journal_key key, uint32_t item, const run_result *res)
{
	journal_rec rec = { .type = JOURNAL_REC_FINAL, .key = key, .item = item, .res = res };

	/* No result is no record: a zeroed one would read as OK. */
	return res ? journal_append(j, &rec) : -1;
}

int journal_run_end(journal *j, double end, bool stopped)
{
	journal_rec rec = { .type = JOURNAL_REC_RUN_END, .end = end, .stopped = stopped };

	return journal_append(j, &rec);
}

/* --- syncing -------------------------------------------------------------- */

static int64_t journal_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void journal_fdatasync(journal *j)
{
	if (atomic_load(&j->failed))
		return;
	if (fdatasync(j->fd) < 0)
		journal_fail(j, "sync", errno);
	else
		atomic_fetch_add(&j->syncs, 1);
}

unsigned long journal_syncs(journal *j)
{
	return atomic_load(&j->syncs);
}

/* Wait, under mu, until ns on the monotonic clock or until woken. */
static void journal_wait_until(journal *j, int64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000), (long)(ns % 1000000000) };

	pthread_cond_timedwait(&j->cond, &j->mu, &ts);
}

/* JOURNAL_SYNC_BATCH: sync what was written, at most every 100 ms while
 * records come and 10 ms after a node ends, on this thread, never on the
 * one that wrote (a worker must not wait on the disk). */
static void *journal_sync_main(void *arg)
{
	journal *j = arg;
	int64_t last = journal_now_ns();

	pthread_mutex_lock(&j->mu);
	for (;;) {
		while (!j->closing && !atomic_load(&j->dirty))
			pthread_cond_wait(&j->cond, &j->mu);
		if (j->closing)
			break;
		for (;;) {
			int64_t due = last + (j->node_done ? JOURNAL_NODE_NS : JOURNAL_BATCH_NS);

			if (j->closing || journal_now_ns() >= due)
				break;
			journal_wait_until(j, due);
		}
		if (j->closing)
			break;
		j->node_done = false;
		pthread_mutex_unlock(&j->mu);
		/* Cleared first: what is written from now on is the next
		 * round's, what was written before is this sync's. */
		atomic_store(&j->dirty, false);
		journal_fdatasync(j);
		last = journal_now_ns();
		pthread_mutex_lock(&j->mu);
	}
	pthread_mutex_unlock(&j->mu);
	return NULL;
}

static int journal_start_sync(journal *j, char *why, size_t why_size)
{
	pthread_condattr_t attr;
	int err;

	if (pthread_condattr_init(&attr) != 0)
		goto fail;
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	err = pthread_cond_init(&j->cond, &attr);
	pthread_condattr_destroy(&attr);
	if (err != 0)
		goto fail;
	if (pthread_mutex_init(&j->mu, NULL) != 0) {
		pthread_cond_destroy(&j->cond);
		goto fail;
	}
	if (pthread_create(&j->thread, NULL, journal_sync_main, j) != 0) {
		pthread_mutex_destroy(&j->mu);
		pthread_cond_destroy(&j->cond);
		goto fail;
	}
	j->has_thread = true;
	return 0;
fail:
	snprintf(why, why_size, "journal %s: cannot start its sync thread", j->path);
	return -1;
}

void journal_node_done(journal *j)
{
	if (!j->has_thread)
		return;
	pthread_mutex_lock(&j->mu);
	j->node_done = true;
	pthread_cond_signal(&j->cond);
	pthread_mutex_unlock(&j->mu);
}

/* --- open and close ------------------------------------------------------- */

/* The run record written to fd (a journal's, just opened): 0, or -1
 * with why. */
static int journal_write_run(journal *j, int fd, const journal_rec *rec, char *why, size_t why_size)
{
	uint8_t stack[JOURNAL_STACK_RECORD];
	journal_writer w = { stack, 0, sizeof stack };
	size_t n = journal_build(&w, rec);
	int rc = n ? journal_write_all(fd, w.buf, n) : -1;

	if (rc < 0)
		snprintf(why, why_size, "journal %s: cannot write: %s", j->path, strerror(errno));
	if (w.buf != stack)
		free(w.buf);
	return rc;
}

/* A new journal at path, atomically in place of any there: its header and
 * run record, then open for appending. */
static int journal_create(journal *j, const journal_rec *rec, char *why, size_t why_size)
{
	uint8_t header[JOURNAL_STACK_RECORD];
	journal_writer w = { header, 0, sizeof header };
	char tmp[PATH_MAX];
	size_t n;
	int fd;

	if (!(n = journal_header_encode(&w, rec->run->config_hash, rec->run->version))) {
		snprintf(why, why_size, "journal %s: its config hash or version is too long",
			 j->path);
		return -1;
	}
	if ((fd = journal_temp(j->path, tmp, sizeof tmp, why, why_size)) < 0)
		return -1;
	if (journal_write_all(fd, header, n) < 0) {
		snprintf(why, why_size, "journal %s: cannot write: %s", tmp, strerror(errno));
		goto fail;
	}
	if (journal_write_run(j, fd, rec, why, why_size) < 0)
		goto fail;
	if (journal_replace(fd, tmp, j->path, j->sync, why, why_size) < 0) {
		close(fd);
		return -1;
	}
	/* Appended to from now on, by several threads at once. */
	if (fcntl(fd, F_SETFL, O_APPEND) < 0) {
		snprintf(why, why_size, "journal %s: cannot append: %s", j->path, strerror(errno));
		close(fd);
		return -1;
	}
	j->fd = fd;
	return 0;
fail:
	unlink(tmp);
	close(fd);
	return -1;
}

/* The journal at path, to append to: 0; 1 when there is none, or none
 * of this format and config (to be made afresh); -1 with why.  A torn or
 * corrupt tail is cut, or what is appended would follow it unread. */
static int journal_reopen(journal *j, const journal_rec *rec, char *why, size_t why_size)
{
	const uint8_t *data;
	size_t size, body;
	journal_scan scan;
	char note[512];
	int rc = journal_map(j->path, &data, &size, why, why_size);

	if (rc != 0)
		return rc;
	if (journal_header_check(data, size, j->path, rec->run->config_hash, &body, note,
				 sizeof note) < 0) {
		journal_unmap(data, size);
		return 1;
	}
	journal_scan_records(&scan, data, size, body, NULL, NULL);
	journal_unmap(data, size);
	if ((j->fd = open(j->path, O_WRONLY | O_APPEND | O_CLOEXEC)) < 0 ||
	    (scan.dropped && ftruncate(j->fd, (off_t)scan.good_end) < 0)) {
		snprintf(why, why_size, "journal %s: cannot open: %s", j->path, strerror(errno));
		return -1;
	}
	fchmod(j->fd, 0600);
	return journal_write_run(j, j->fd, rec, why, why_size);
}

int journal_open(journal **out, const char *path, bool fresh, journal_sync sync,
		 const journal_run_info *info, char *why, size_t why_size)
{
	journal_rec rec = { .type = JOURNAL_REC_RUN, .run = info };
	journal *j = calloc(1, sizeof *j);
	int rc = 1;

	*out = NULL;
	if (!j || !(j->path = strdup(path))) {
		snprintf(why, why_size, "out of memory");
		free(j);
		return -1;
	}
	j->fd = -1;
	j->sync = sync;
	atomic_init(&j->failed, false);
	atomic_init(&j->dirty, false);
	atomic_init(&j->syncs, 0);
	if (!fresh)
		rc = journal_reopen(j, &rec, why, why_size);
	if (rc == 1)
		rc = journal_create(j, &rec, why, why_size);
	if (rc == 0 && sync == JOURNAL_SYNC_BATCH)
		rc = journal_start_sync(j, why, why_size);
	if (rc < 0) {
		atomic_store(&j->failed, true); /* said in why, not again on stderr */
		journal_close(j);
		return -1;
	}
	*out = j;
	return 0;
}

int journal_close(journal *j)
{
	int rc;

	if (!j)
		return 0;
	if (j->has_thread) {
		pthread_mutex_lock(&j->mu);
		j->closing = true;
		pthread_cond_signal(&j->cond);
		pthread_mutex_unlock(&j->mu);
		pthread_join(j->thread, NULL);
		pthread_mutex_destroy(&j->mu);
		pthread_cond_destroy(&j->cond);
	}
	if (j->fd >= 0 && j->sync != JOURNAL_SYNC_NEVER)
		journal_fdatasync(j);
	if (j->fd >= 0 && close(j->fd) < 0)
		journal_fail(j, "close", errno);
	rc = atomic_load(&j->failed) ? -1 : 0;
	free(j->path);
	free(j);
	return rc;
}
