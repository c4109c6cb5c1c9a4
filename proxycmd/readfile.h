/* readfile: reading files whole, bounded — the one read loop for the
 * certificate, key, CA, token and cache files. */
#ifndef POM_READFILE_H
#define POM_READFILE_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* read(2) from fd until want bytes or end of file, retrying EINTR.
 * Returns the count (less than want only at end of file), or -1 with
 * errno. */
ssize_t readfile_fd(int fd, void *buf, size_t want);

/* Open name (relative to dirfd; AT_FDCWD for a plain path) read-only
 * with O_CLOEXEC | O_NOCTTY | O_NONBLOCK and the extra open flags (say
 * O_NOFOLLOW), and read it whole into a malloc'd buffer with a NUL after
 * the *len bytes; its fstat() in *st. Only a regular file of at most max
 * bytes: else NULL with errno EINVAL (not a regular file) or EFBIG.
 * NULL with errno on any other failure. */
char *readfile_alloc(int dirfd, const char *name, int flags, size_t max, struct stat *st,
		     size_t *len);

#endif
