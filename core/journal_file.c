/* journal_file.c -- the journal's file operations: reading one whole
 * (mapped), and replacing one atomically (a temporary file beside it,
 * synced, renamed over it, the directory synced) so that a crash leaves
 * the old journal or the new one, never half of either. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal_int.h"

int journal_map(const char *path, const uint8_t **data, size_t *size, char *why,
		size_t why_size)
{
	struct stat st;
	void *p;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*data = NULL;
	*size = 0;
	if (fd < 0 && errno == ENOENT)
		return 1;
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(why, why_size, "journal %s: cannot open: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, why_size, "journal %s: not a regular file", path);
		close(fd);
		return -1;
	}
	if (st.st_size == 0) {
		close(fd);
		return 0;
	}
	/* Mapped, not read: a journal of 100,000 items is tens of MB that
	 * the page cache holds already.  Nobody truncates it under us: the
	 * caller holds the run lock. */
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		snprintf(why, why_size, "journal %s: cannot read: %s", path, strerror(errno));
		return -1;
	}
	*data = p;
	*size = (size_t)st.st_size;
	return 0;
}

void journal_unmap(const uint8_t *data, size_t size)
{
	if (data)
		munmap((void *)data, size);
}

int journal_write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n) {
		ssize_t k = write(fd, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1;
		if (k == 0) {
			errno = ENOSPC;
			return -1;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* The directory holding path (malloc'd), NULL when out of memory. */
static char *journal_dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
}

/* Remove what a kill -9 between journal_temp() and the rename left
 * beside path ("path.XXXXXX"): under the run lock, no other run is
 * making one.  Read from the directory, not globbed: the state dir's
 * path may hold glob's metacharacters. */
static void journal_temp_sweep(const char *path)
{
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
	char *dir = journal_dir_of(path);
	size_t len = strlen(base);
	struct dirent *e;
	DIR *d = dir ? opendir(dir) : NULL;
	int dfd = d ? dirfd(d) : -1;

	while (d && (e = readdir(d)))
		if (strncmp(e->d_name, base, len) == 0 && e->d_name[len] == '.' &&
		    strlen(e->d_name + len + 1) == 6)
			unlinkat(dfd, e->d_name, 0);
	if (d)
		closedir(d);
	free(dir);
}

int journal_temp(const char *path, char *tmp, size_t tmp_size, char *why, size_t why_size)
{
	int fd;

	journal_temp_sweep(path);

	if ((size_t)snprintf(tmp, tmp_size, "%s.XXXXXX", path) >= tmp_size) {
		snprintf(why, why_size, "journal %s: path too long", path);
		return -1;
	}
	/* mkostemp makes it 0600 whatever the umask: the journal holds
	 * commands' output. */
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0)
		snprintf(why, why_size, "journal %s: cannot create: %s", path, strerror(errno));
	return fd;
}

/* Sync the directory holding path, so that a rename in it survives a
 * power cut. */
static int journal_sync_dir(const char *path)
{
	char *dir = journal_dir_of(path);
	int fd, rc = -1;

	if (!dir)
		return -1;
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		rc = fsync(fd);
		close(fd);
	}
	free(dir);
	return rc;
}

int journal_replace(int fd, const char *tmp, const char *path, journal_sync sync, char *why,
		    size_t why_size)
{
	if (sync != JOURNAL_SYNC_NEVER && fdatasync(fd) < 0) {
		snprintf(why, why_size, "journal %s: cannot sync: %s", tmp, strerror(errno));
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) < 0) {
		snprintf(why, why_size, "journal %s: cannot rename %s to it: %s", path, tmp,
			 strerror(errno));
		unlink(tmp);
		return -1;
	}
	if (sync != JOURNAL_SYNC_NEVER && journal_sync_dir(path) < 0) {
		snprintf(why, why_size, "journal %s: cannot sync its directory: %s", path,
			 strerror(errno));
		return -1;
	}
	return 0;
}
