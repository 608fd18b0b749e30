/* gpu_lease.c -- who holds which device, across every assay process of the
 * machine: an flock per device for a whole-device lease, and a ledger of
 * memory bookings for gpu_shared.
 *
 * Why kernel locks and nothing else: the kernel frees them when their
 * holder dies, kill -9 included, so no lease or booking is ever stale and
 * nothing needs cleaning.  The files live in one machine-wide directory
 * (lock_dir, /run/lock/assay by default: every user and root lock in the
 * same place), created sticky and world-writable like /run/lock itself;
 * each file is opened O_CLOEXEC (a node's command must not inherit, and
 * so outlive us holding, a lease) and made 0666 whatever the umask, so
 * another user's assay can open it; files are never unlinked (unlinking
 * a locked file would let a second process lock a new file of the same
 * name).  What is written inside -- the holder's pid, host, node, since --
 * is for people and messages only: the lock is the truth.
 *
 * flock belongs to an open file description: two open()s of one file in
 * one process conflict like two processes, and one fd shared by threads
 * does not conflict with itself.  So the process keeps one fd per device
 * and a table of what its own threads hold, under one mutex; only the
 * table says "held here", only the kernel "held elsewhere".
 *
 * The ledger (<uuid>.ledger): slot 0 is its mutex, slots 1.. are bookings,
 * each an OFD byte-range lock (F_OFD_SETLK) held by an open file
 * description of its own, with the booked MB and the time written in the
 * slot.  Only locked slots count, so a dead process's bookings vanish with
 * its locks.  A booking is made under slot 0's lock, taken without
 * waiting: another process updating the ledger means "not now", asked
 * again in a few milliseconds, never a blocked thread. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gpu.h"

#define LEDGER_SLOT 64    /* bytes per slot */
#define LEDGER_SLOTS 1024 /* bookings per device, every process together */
#define HOLDER_LINE 160   /* a lease file's diagnostics line, padded */

/* A booking as written in its slot. */
typedef struct ledger_rec {
	uint64_t mb;
	int64_t since_ns; /* CLOCK_MONOTONIC: one clock for every process */
	int32_t pid;
	char node[LEDGER_SLOT - 20];
} ledger_rec;

typedef struct lease_dev {
	char uuid[GPU_UUID_MAX];
	int fd;              /* <uuid>.lock, -1 until first needed */
	int ledger_fd;       /* <uuid>.ledger for reading and slot 0, -1 likewise */
	bool held;           /* this process's exclusive lease */
	unsigned booked;     /* this process's bookings (a shared flock while > 0) */
	uint64_t booked_mb;
	pid_t elsewhere_pid; /* the other holder, as last seen */
	int64_t released_ns;
} lease_dev;

struct gpu_leases {
	pthread_mutex_t lock;
	char *dir;
	bool dir_ready;
	char host[64];
	pid_t pid;            /* getpid() is a system call, and a grant writes it */
	lease_dev **devs;
	size_t n, cap;
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Owned by the caller: gpu_leases_free(). */
gpu_leases *gpu_leases_new(const char *lock_dir)
{
	gpu_leases *l = calloc(1, sizeof *l);

	if (!l || !(l->dir = strdup(lock_dir))) {
		free(l);
		return NULL;
	}
	pthread_mutex_init(&l->lock, NULL);
	l->pid = getpid();
	if (gethostname(l->host, sizeof l->host) < 0)
		strcpy(l->host, "?");
	l->host[sizeof l->host - 1] = '\0';
	return l;
}

/* Closing the fds gives back whatever is still held. */
void gpu_leases_free(gpu_leases *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++) {
		if (l->devs[i]->fd >= 0)
			close(l->devs[i]->fd);
		if (l->devs[i]->ledger_fd >= 0)
			close(l->devs[i]->ledger_fd);
		free(l->devs[i]);
	}
	free(l->devs);
	pthread_mutex_destroy(&l->lock);
	free(l->dir);
	free(l);
}

const char *gpu_leases_dir(const gpu_leases *l)
{
	return l->dir;
}

/* A UUID goes into a file name: letters, digits and '-' only. */
static bool uuid_ok(const char *uuid)
{
	if (!*uuid)
		return false;
	for (const char *p = uuid; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-'))
			return false;
	return true;
}

/* The table's entry for uuid, added when missing (lock held).  NULL with
 * errno set. */
static lease_dev *dev_get(gpu_leases *l, const char *uuid)
{
	lease_dev *d;

	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->devs[i]->uuid, uuid) == 0)
			return l->devs[i];
	if (!uuid_ok(uuid) || strlen(uuid) >= GPU_UUID_MAX) {
		errno = EINVAL;
		return NULL;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		lease_dev **nd = realloc(l->devs, cap * sizeof *nd);

		if (!nd)
			return NULL;
		l->devs = nd;
		l->cap = cap;
	}
	if (!(d = calloc(1, sizeof *d)))
		return NULL;
	strcpy(d->uuid, uuid);
	d->fd = d->ledger_fd = -1;
	l->devs[l->n++] = d;
	return d;
}

/* lock_dir, made like /run/lock (sticky, world-writable) when missing. */
static int dir_ensure(gpu_leases *l)
{
	if (l->dir_ready)
		return 0;
	if (mkdir(l->dir, 01777) == 0) {
		if (chmod(l->dir, 01777) < 0) /* mkdir's mode went through the umask */
			return -1;
	} else if (errno != EEXIST) {
		return -1;
	}
	l->dir_ready = true;
	return 0;
}

/* Opens <dir>/<uuid><suffix>, creating it 0666 (any user may lock it). */
static int file_open(gpu_leases *l, const char *uuid, const char *suffix)
{
	char path[PATH_MAX];
	struct stat st;
	int fd;

	if (dir_ensure(l) < 0)
		return -1;
	if (snprintf(path, sizeof path, "%s/%s%s", l->dir, uuid, suffix) >= (int)sizeof path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0666);
	if (fd < 0 && errno == EACCES) /* another user's file made without 0666 */
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) == 0 && st.st_uid == geteuid() && (st.st_mode & 0777) != 0666)
		(void)fchmod(fd, 0666); /* against the umask; best effort on a foreign fs */
	return fd;
}

/* The pid in a lock file's diagnostics line (0 when it does not say). */
static pid_t read_holder(int fd, char *line, size_t size)
{
	char buf[160];
	ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
	char *p;

	if (n <= 0)
		n = 0;
	buf[n] = '\0';
	if ((p = strchr(buf, '\n')))
		*p = '\0';
	for (p = buf + strlen(buf); p > buf && p[-1] == ' ';)
		*--p = '\0';
	if (line)
		snprintf(line, size, "%s", buf);
	p = strstr(buf, "pid=");
	return p ? (pid_t)atol(p + 4) : 0;
}

/* The diagnostics line: who holds it, for `assay gpus` and messages.
 * Padded to a fixed width with blanks so that one pwrite replaces the
 * last holder's line without a truncate: a grant costs two system calls
 * (flock, pwrite), not four. */
static void write_holder(gpu_leases *l, int fd, const char *node)
{
	char line[HOLDER_LINE + 1], when[32];
	time_t t = time(NULL);
	struct tm tm;
	int n;

	gmtime_r(&t, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	n = snprintf(line, sizeof line, "pid=%ld host=%s node=%s since=%s", (long)l->pid,
		     l->host, node ? node : "-", when);
	if (n < 0)
		return;
	if (n > HOLDER_LINE - 1)
		n = HOLDER_LINE - 1;
	memset(line + n, ' ', (size_t)(HOLDER_LINE - 1 - n));
	line[HOLDER_LINE - 1] = '\n';
	/* Diagnostics only: a read-only fd or a full disk changes nothing. */
	(void)!pwrite(fd, line, HOLDER_LINE, 0);
}

int gpu_lease_take(gpu_leases *l, const char *uuid, const char *node, pid_t *holder_pid)
{
	int rc = GPU_TAKEN, fd = -1;
	lease_dev *d;

	*holder_pid = 0;
	pthread_mutex_lock(&l->lock);
	if (!(d = dev_get(l, uuid))) {
		rc = errno == ENOMEM ? ASSAY_ENOMEM : ASSAY_ESYS;
	} else if (d->held || d->booked) {
		rc = GPU_BUSY_HERE;
	} else if (d->fd < 0 && (d->fd = file_open(l, uuid, ".lock")) < 0) {
		rc = ASSAY_ESYS;
	} else if (flock(d->fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK) {
			rc = GPU_BUSY_ELSEWHERE;
			*holder_pid = d->elsewhere_pid = read_holder(d->fd, NULL, 0);
		} else {
			rc = ASSAY_ESYS;
		}
	} else {
		d->held = true;
		d->elsewhere_pid = 0;
		fd = d->fd; /* open until gpu_leases_free(); ours until we give it */
	}
	pthread_mutex_unlock(&l->lock);
	/* Outside the lock: the other threads' tries need not wait for it. */
	if (fd >= 0)
		write_holder(l, fd, node);
	return rc;
}

void gpu_lease_give(gpu_leases *l, const char *uuid)
{
	lease_dev *d;
	int fd = -1;

	pthread_mutex_lock(&l->lock);
	if ((d = dev_get(l, uuid)) && d->held)
		fd = d->fd;
	pthread_mutex_unlock(&l->lock);
	if (fd < 0)
		return;
	/* Unlocked outside the table's lock, still `held` meanwhile: a thread
	 * that asks now hears "held here" and is asked again after this
	 * release, as the host does for every release. */
	flock(fd, LOCK_UN);
	pthread_mutex_lock(&l->lock);
	d->held = false;
	d->released_ns = now_ns();
	pthread_mutex_unlock(&l->lock);
}

void gpu_leases_view(gpu_leases *l, const gpu_device *devs, size_t n, gpu_lease_view *out)
{
	pthread_mutex_lock(&l->lock);
	for (size_t i = 0; i < n; i++) {
		out[i] = (gpu_lease_view){ 0 };
		for (size_t j = 0; j < l->n; j++) {
			const lease_dev *d = l->devs[j];

			if (strcmp(d->uuid, devs[i].uuid) != 0)
				continue;
			out[i] = (gpu_lease_view){ .here = d->held, .here_booked = d->booked,
						   .elsewhere_pid = d->elsewhere_pid,
						   .released_ns = d->released_ns };
			break;
		}
	}
	pthread_mutex_unlock(&l->lock);
}

int64_t gpu_lease_released_ns(gpu_leases *l, const char *uuid)
{
	int64_t ns = 0;

	pthread_mutex_lock(&l->lock);
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->devs[i]->uuid, uuid) == 0)
			ns = l->devs[i]->released_ns;
	pthread_mutex_unlock(&l->lock);
	return ns;
}

/* ---- the ledger ---------------------------------------------------------- */

/* An OFD lock on slot's bytes: F_WRLCK / F_UNLCK, never waiting. */
static int slot_lock(int fd, unsigned slot, short type)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET,
			    .l_start = (off_t)slot * LEDGER_SLOT, .l_len = LEDGER_SLOT };

	return fcntl(fd, F_OFD_SETLK, &fl);
}

/* Sums the locked slots: every booking of every process (fd: an open file
 * description that holds no slot, so each booking shows as a conflict).
 * Slots are asked one by one (F_OFD_GETLK names one conflicting lock, not
 * the first), up to the file's size: a slot is written as it is booked,
 * so none past it was ever locked.  used[] (LEDGER_SLOTS, may be NULL)
 * marks the slots taken. */
static int ledger_scan(int fd, int64_t since_ns, uint64_t *since_mb, uint64_t *all_mb,
		       unsigned *count, bool *used)
{
	struct stat st;
	off_t slots;

	*since_mb = *all_mb = 0;
	*count = 0;
	if (fstat(fd, &st) < 0)
		return ASSAY_ESYS;
	slots = st.st_size / LEDGER_SLOT;
	for (unsigned slot = 1; slot < slots && slot < LEDGER_SLOTS; slot++) {
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
				    .l_start = (off_t)slot * LEDGER_SLOT, .l_len = LEDGER_SLOT };
		ledger_rec rec;

		if (fcntl(fd, F_OFD_GETLK, &fl) < 0)
			return ASSAY_ESYS;
		if (fl.l_type == F_UNLCK)
			continue;
		if (pread(fd, &rec, sizeof rec, (off_t)slot * LEDGER_SLOT) == (ssize_t)sizeof rec) {
			*all_mb += rec.mb;
			if (rec.since_ns >= since_ns)
				*since_mb += rec.mb;
		}
		(*count)++;
		if (used)
			used[slot] = true;
	}
	return 0;
}

int gpu_ledger_sum(gpu_leases *l, const char *uuid, int64_t since_ns, uint64_t *since_mb,
		   uint64_t *all_mb, unsigned *count)
{
	int rc = 0;
	lease_dev *d;

	pthread_mutex_lock(&l->lock);
	if (!(d = dev_get(l, uuid)))
		rc = errno == ENOMEM ? ASSAY_ENOMEM : ASSAY_ESYS;
	else if (d->ledger_fd < 0 && (d->ledger_fd = file_open(l, uuid, ".ledger")) < 0)
		rc = ASSAY_ESYS;
	else
		rc = ledger_scan(d->ledger_fd, since_ns, since_mb, all_mb, count, NULL);
	pthread_mutex_unlock(&l->lock);
	return rc;
}

/* Takes a free slot for mb with an open file description of its own
 * (ledger mutex held).  0 with b set, or a negative code. */
static int ledger_add(gpu_leases *l, lease_dev *d, const bool *used, uint64_t mb,
		      const char *node, gpu_booking *b)
{
	ledger_rec rec = { .mb = mb, .since_ns = now_ns(), .pid = (int32_t)l->pid };
	unsigned slot = 1;
	int fd;

	while (slot < LEDGER_SLOTS && used[slot])
		slot++;
	if (slot == LEDGER_SLOTS) {
		errno = ENOSPC;
		return ASSAY_ESYS;
	}
	if ((fd = file_open(l, d->uuid, ".ledger")) < 0)
		return ASSAY_ESYS;
	snprintf(rec.node, sizeof rec.node, "%s", node ? node : "-");
	if (slot_lock(fd, slot, F_WRLCK) < 0 ||
	    pwrite(fd, &rec, sizeof rec, (off_t)slot * LEDGER_SLOT) != (ssize_t)sizeof rec) {
		close(fd);
		return ASSAY_ESYS;
	}
	*b = (gpu_booking){ .fd = fd, .slot = slot, .mb = mb };
	return 0;
}

/* The booking itself, with the device's shared flock and the ledger's
 * mutex held (process lock held).  GPU_TAKEN, a reason, or a code. */
static int book_locked(gpu_leases *l, lease_dev *d, uint64_t mb, uint64_t total_mb,
		       uint64_t free_mb, int64_t snapshot_ns, const char *node, gpu_booking *b)
{
	bool used[LEDGER_SLOTS] = { false };
	uint64_t since_mb, all_mb;
	unsigned count;
	int rc = ledger_scan(d->ledger_fd, snapshot_ns, &since_mb, &all_mb, &count, used);

	if (rc < 0)
		return rc;
	/* NVML's free memory does not yet show what was booked after it was
	 * read: those nodes may not have allocated yet (task-spooler #59). */
	if (all_mb + mb > total_mb || since_mb + mb > free_mb) {
		uint64_t ours = d->booked_mb;
		bool others_fit = all_mb - ours + mb <= total_mb &&
				  since_mb - (ours < since_mb ? ours : since_mb) + mb <= free_mb;

		/* Only this process's bookings in the way: its releases will
		 * make the host ask again. */
		return others_fit ? GPU_BUSY_HERE : GPU_BUSY_ELSEWHERE;
	}
	return ledger_add(l, d, used, mb, node, b);
}

int gpu_book(gpu_leases *l, const char *uuid, uint64_t mb, uint64_t total_mb, uint64_t free_mb,
	     int64_t snapshot_ns, const char *node, gpu_booking *b, pid_t *holder_pid)
{
	int rc;
	lease_dev *d;

	*holder_pid = 0;
	pthread_mutex_lock(&l->lock);
	if (!(d = dev_get(l, uuid))) {
		rc = errno == ENOMEM ? ASSAY_ENOMEM : ASSAY_ESYS;
		goto out;
	}
	if (d->held) {
		rc = GPU_BUSY_HERE;
		goto out;
	}
	if ((d->fd < 0 && (d->fd = file_open(l, uuid, ".lock")) < 0) ||
	    (d->ledger_fd < 0 && (d->ledger_fd = file_open(l, uuid, ".ledger")) < 0)) {
		rc = ASSAY_ESYS;
		goto out;
	}
	if (!d->booked && flock(d->fd, LOCK_SH | LOCK_NB) < 0) {
		rc = errno == EWOULDBLOCK ? GPU_BUSY_ELSEWHERE : ASSAY_ESYS;
		if (rc == GPU_BUSY_ELSEWHERE)
			*holder_pid = d->elsewhere_pid = read_holder(d->fd, NULL, 0);
		goto out;
	}
	if (slot_lock(d->ledger_fd, 0, F_WRLCK) < 0) {
		rc = errno == EAGAIN || errno == EACCES ? GPU_NOT_NOW : ASSAY_ESYS;
	} else {
		rc = book_locked(l, d, mb, total_mb, free_mb, snapshot_ns, node, b);
		slot_lock(d->ledger_fd, 0, F_UNLCK);
	}
	if (rc == GPU_TAKEN) {
		d->booked++;
		d->booked_mb += mb;
		d->elsewhere_pid = 0;
	} else if (!d->booked) {
		flock(d->fd, LOCK_UN);
	}
out:
	pthread_mutex_unlock(&l->lock);
	return rc;
}

void gpu_unbook(gpu_leases *l, const char *uuid, gpu_booking *b)
{
	lease_dev *d;

	if (b->fd < 0)
		return;
	close(b->fd); /* the slot's lock goes with its open file description */
	b->fd = -1;
	pthread_mutex_lock(&l->lock);
	if ((d = dev_get(l, uuid)) && d->booked) {
		d->booked_mb -= b->mb;
		if (--d->booked == 0)
			flock(d->fd, LOCK_UN);
		d->released_ns = now_ns();
	}
	pthread_mutex_unlock(&l->lock);
}

/* Whether another process holds uuid's lease (probe), and what it wrote. */
static void probe_elsewhere(lease_dev *d, gpu_holders *out)
{
	if (d->held || d->booked)
		return;
	if (flock(d->fd, LOCK_EX | LOCK_NB) == 0) {
		flock(d->fd, LOCK_UN);
		return;
	}
	if (errno == EWOULDBLOCK)
		out->elsewhere_pid = read_holder(d->fd, out->holder, sizeof out->holder);
}

void gpu_lease_holders(gpu_leases *l, const char *uuid, bool probe, gpu_holders *out)
{
	lease_dev *d;

	memset(out, 0, sizeof *out);
	pthread_mutex_lock(&l->lock);
	if (!(d = dev_get(l, uuid)))
		goto out;
	out->here = d->held;
	out->here_booked = d->booked;
	out->elsewhere_pid = d->elsewhere_pid;
	if (!probe)
		goto out;
	out->elsewhere_pid = 0;
	if (d->fd < 0)
		d->fd = file_open(l, uuid, ".lock");
	if (d->fd >= 0)
		probe_elsewhere(d, out);
	if (d->ledger_fd < 0)
		d->ledger_fd = file_open(l, uuid, ".ledger");
	if (d->ledger_fd >= 0) {
		uint64_t since;

		ledger_scan(d->ledger_fd, INT64_MAX, &since, &out->booked_mb, &out->bookings,
			    NULL);
	}
out:
	pthread_mutex_unlock(&l->lock);
}
