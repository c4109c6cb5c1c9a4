#include "readfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

ssize_t readfile_fd(int fd, void *buf, size_t want)
{
	unsigned char *p = buf;
	size_t got = 0;
	while (got < want) {
		ssize_t r = read(fd, p + got, want - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

char *readfile_alloc(int dirfd, const char *name, int flags, size_t max, struct stat *st,
		     size_t *len)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | flags);
	char *buf = NULL;
	ssize_t got = -1;
	int e;

	if (fd < 0)
		return NULL;
	if (fstat(fd, st) < 0)
		goto fail;
	errno = !S_ISREG(st->st_mode) ? EINVAL : (uint64_t)st->st_size > max ? EFBIG : 0;
	if (errno)
		goto fail;
	buf = malloc((size_t)st->st_size + 1);
	if (!buf || (got = readfile_fd(fd, buf, (size_t)st->st_size)) < 0)
		goto fail;
	close(fd);
	buf[got] = '\0';
	*len = (size_t)got;
	return buf;
fail:
	e = errno;
	free(buf);
	close(fd);
	errno = e;
	return NULL;
}
