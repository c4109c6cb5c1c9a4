/* privfile: secret files in the user's private cache directory.
 *
 * Tokens, session parameters and decoded trust anchors are all things a
 * stranger must neither read nor plant, so every file here is opened with
 * O_NOFOLLOW, must be a regular file owned by the user with no group/other
 * permission bits, and is replaced atomically (temp file, then rename). */
#ifndef POM_PRIVFILE_H
#define POM_PRIVFILE_H

#include <stddef.h>
#include <sys/types.h>

/* Put the cache directory path in buf: "$XDG_CACHE_HOME/pom-proxy" when
 * XDG_CACHE_HOME is an absolute path, else "$HOME/.cache/pom-proxy".
 * With create != 0 the directory (and missing parents) is created mode
 * 0700. When it exists it must be a real directory (not a symlink) owned
 * by the user without group/other access, else -1 with errno ELOOP,
 * ENOTDIR or EPERM. Without create, a missing directory is not an error.
 * Returns 0, or -1 with errno (ENOENT when neither variable is usable,
 * ENAMETOOLONG). */
int privfile_cache_dir(char *buf, size_t size, int create);

/* The same for "<cache dir>/<sub>" (tokens, logins, sessions): both the
 * cache directory and the subdirectory are checked (and created 0700 with
 * create != 0). */
int privfile_subdir(char *buf, size_t size, const char *sub, int create);

/* Words for an errno set by this module ("it is a symbolic link"...). */
const char *privfile_strerror(int e);

/* Read the whole file at path into buf (at most max bytes). Refuses
 * symlinks (ELOOP), non-regular files (EINVAL), files of another user or
 * with any group/other permission bit (EPERM), and files larger than max
 * (EFBIG). Returns the length read, or -1 with errno. */
ssize_t privfile_read(const char *path, void *buf, size_t max);

/* Like privfile_read, into a malloc'd buffer of the file's size (plus one
 * NUL byte, not counted) when it is at most max bytes. Returns the buffer
 * and sets *len, or returns NULL with errno. The caller frees it. */
unsigned char *privfile_read_alloc(const char *path, size_t max, size_t *len);

/* Replace the file at path with data: write a new 0600 file beside it
 * (O_CREAT|O_EXCL|O_NOFOLLOW), then rename() it over path, so readers see
 * the old or the new content, never a mix. Returns 0, or -1 with errno
 * (the temp file is removed on failure). */
int privfile_write(const char *path, const void *data, size_t len);

/* Remove the file at path if it exists; 0 when gone, -1 with errno. */
int privfile_remove(const char *path);

#endif
