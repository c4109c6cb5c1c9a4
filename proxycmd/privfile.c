#include "privfile.h"
#include "readfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

/* A file or directory we may trust: ours, and no group/other bits. */
static int private_enough(const struct stat *st)
{
	return st->st_uid == geteuid() && (st->st_mode & 077) == 0;
}

/* mkdir -p for the parents (mode 0700 for what we create). */
static int make_dirs(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		int r = mkdir(path, 0700);
		*p = '/';
		if (r < 0 && errno != EEXIST)
			return -1;
	}
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

/* Is path a directory we may keep secrets in: a real directory (not a
 * symlink), ours, no group/other access? 0, or -1 with errno (ENOENT,
 * ELOOP for a symlink, ENOTDIR, EPERM). */
static int check_private_dir(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return -1;
	if (S_ISLNK(st.st_mode)) {
		errno = ELOOP;
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	if (!private_enough(&st)) {
		errno = EPERM;
		return -1;
	}
	return 0;
}

int privfile_cache_dir(char *buf, size_t size, int create)
{
	const char *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");
	int n;

	if (xdg && xdg[0] == '/')
		n = snprintf(buf, size, "%s/pom-proxy", xdg);
	else if (home && home[0] == '/')
		n = snprintf(buf, size, "%s/.cache/pom-proxy", home);
	else {
		errno = ENOENT;
		return -1;
	}
	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (create && make_dirs(buf) < 0)
		return -1;
	if (check_private_dir(buf) < 0)
		return !create && errno == ENOENT ? 0 : -1;
	return 0;
}

int privfile_subdir(char *buf, size_t size, const char *sub, int create)
{
	char dir[4096];
	if (privfile_cache_dir(dir, sizeof dir, create) < 0)
		return -1;
	int n = snprintf(buf, size, "%s/%s", dir, sub);
	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (create && mkdir(buf, 0700) < 0 && errno != EEXIST)
		return -1;
	if (check_private_dir(buf) < 0)
		return !create && errno == ENOENT ? 0 : -1;
	return 0;
}

const char *privfile_strerror(int e)
{
	switch (e) {
	case ELOOP: return "it is a symbolic link";
	case ENOTDIR: return "it is not a directory";
	case EINVAL: return "it is not a regular file";
	case EPERM: return "it must be yours and private (mode 0700 for a directory, 0600 for a file)";
	case EFBIG: return "it is too large";
	default: return strerror(e);
	}
}

/* Open path for reading and check it is a private regular file whose size
 * is at most max. Returns the fd (size in *size) or -1 with errno. */
static int open_private(const char *path, size_t max, size_t *size)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto fail;
	}
	if (!private_enough(&st)) {
		errno = EPERM;
		goto fail;
	}
	if ((unsigned long long)st.st_size > max) {
		errno = EFBIG;
		goto fail;
	}
	*size = (size_t)st.st_size;
	return fd;
fail:;
	int e = errno;
	close(fd);
	errno = e;
	return -1;
}

ssize_t privfile_read(const char *path, void *buf, size_t max)
{
	size_t size;
	int fd = open_private(path, max, &size);
	if (fd < 0)
		return -1;
	ssize_t r = readfile_fd(fd, buf, size);
	int e = errno;
	close(fd);
	errno = e;
	return r;
}

unsigned char *privfile_read_alloc(const char *path, size_t max, size_t *len)
{
	size_t size;
	int fd = open_private(path, max, &size);
	if (fd < 0)
		return NULL;
	unsigned char *buf = malloc(size + 1);
	ssize_t r = buf ? readfile_fd(fd, buf, size) : -1;
	int e = buf ? errno : ENOMEM;
	close(fd);
	if (r < 0) {
		free(buf);
		errno = e;
		return NULL;
	}
	buf[r] = '\0';
	*len = (size_t)r;
	return buf;
}

int privfile_write(const char *path, const void *data, size_t len)
{
	char tmp[4096];
	unsigned char rnd[6];
	int fd = -1, e;

	if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
		return -1;
	int n = snprintf(tmp, sizeof tmp, "%s.tmp-%02x%02x%02x%02x%02x%02x", path,
			 rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
	if (n < 0 || (size_t)n >= sizeof tmp) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	const unsigned char *p = data;
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, p + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto fail;
		off += (size_t)w;
	}
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		goto fail;
	return 0;
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	errno = e;
	return -1;
}

int privfile_remove(const char *path)
{
	if (unlink(path) < 0 && errno != ENOENT)
		return -1;
	return 0;
}
