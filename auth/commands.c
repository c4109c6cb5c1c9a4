#include "commands.h"
#include "privfile.h"
#include "token.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* "3d 4h", "5h 2m", "7m", "12s" */
static void span(long long s, char *buf, size_t size)
{
	if (s < 0)
		s = -s;
	if (s >= 86400)
		snprintf(buf, size, "%lldd %lldh", s / 86400, s % 86400 / 3600);
	else if (s >= 3600)
		snprintf(buf, size, "%lldh %lldm", s / 3600, s % 3600 / 60);
	else if (s >= 60)
		snprintf(buf, size, "%lldm", s / 60);
	else
		snprintf(buf, size, "%llds", s);
}

/* Open "<cache>/<sub>" as a directory: NULL when absent, or when unsafe
 * (a symlink, not private: then *bad is set after one log_error line). */
static DIR *open_sub(const char *sub, char *path, size_t size, int *bad)
{
	*bad = 0;
	path[0] = '\0';
	if (privfile_subdir(path, size, sub, 0) < 0) {
		if (errno == ELOOP || errno == ENOTDIR || errno == EPERM) {
			log_error("refusing the cache directory %s: %s", path[0] ? path : sub,
				  privfile_strerror(errno));
			*bad = 1;
		}
		return NULL;
	}
	return opendir(path);
}

enum pom_exit cmd_status(void)
{
	char dirpath[4200], path[4500], tok[TOKEN_MAX + 1];
	int bad;
	DIR *d = open_sub("tokens", dirpath, sizeof dirpath, &bad);
	struct dirent *e;
	int n = 0;
	long long now = (long long)time(NULL);
	if (bad)
		return EXIT_LOCAL;
	if (d) {
		while ((e = readdir(d)) != NULL) {
			struct stat st;
			struct token_claims c;
			char age[32], left[32];
			if (e->d_name[0] == '.' || strstr(e->d_name, ".tmp-"))
				continue;
			snprintf(path, sizeof path, "%s/%s", dirpath, e->d_name);
			ssize_t len = privfile_read(path, tok, sizeof tok - 1);
			if (len < 0 || stat(path, &st) < 0) {
				printf("%-32s  unusable: %s\n", e->d_name, privfile_strerror(errno));
				n++;
				continue;
			}
			tok[len] = '\0';
			int jwt = token_claims(tok, &c) == 0;
			explicit_bzero(tok, sizeof tok);
			span(now - (jwt && c.iat >= 0 ? c.iat : (long long)st.st_mtime), age, sizeof age);
			const char *user = !jwt ? "(not a JWT)" : c.email[0] ? c.email :
					   c.sub[0] ? c.sub : "-";
			if (jwt && c.exp >= 0) {
				span(c.exp - now, left, sizeof left);
				printf("%-32s  %-28s  signed in %s ago, %s %s%s\n", e->d_name, user, age,
				       c.exp < now ? "expired" : "expires in", left,
				       c.exp < now ? " ago" : "");
			} else {
				printf("%-32s  %-28s  signed in %s ago, no expiry in the token\n",
				       e->d_name, user, age);
			}
			n++;
		}
		closedir(d);
	}
	if (n == 0)
		printf("no cached tokens%s%s\n", dirpath[0] ? " in " : "", dirpath);
	return EXIT_OK;
}

enum pom_exit cmd_logout(const char *authority)
{
	char dirpath[4200], path[4500];
	int bad;
	DIR *d = open_sub("tokens", dirpath, sizeof dirpath, &bad);
	struct dirent *e;
	int n = 0;
	if (!d) {
		if (bad)
			return EXIT_LOCAL;
		printf("no cached tokens\n");
		return EXIT_OK;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || (authority && strcmp(e->d_name, authority) != 0))
			continue;
		snprintf(path, sizeof path, "%s/%s", dirpath, e->d_name);
		if (privfile_remove(path) < 0) {
			log_error("cannot remove %s: %s", path, strerror(errno));
			closedir(d);
			return EXIT_LOCAL;
		}
		printf("signed out of %s\n", e->d_name);
		n++;
	}
	closedir(d);
	if (n == 0)
		printf("no cached token for %s\n", authority ? authority : "any proxy");
	return EXIT_OK;
}

enum pom_exit cmd_cache_location(void)
{
	char dir[4096];
	if (privfile_cache_dir(dir, sizeof dir, 0) < 0) {
		log_error("no cache directory: set XDG_CACHE_HOME or HOME");
		return EXIT_LOCAL;
	}
	printf("%s\n", dir);
	return EXIT_OK;
}

/* Remove the regular files and symlinks in dirpath (which was checked to
 * be ours); count them in *n. A sign-in lock another process holds is
 * left alone. */
static int clear_dir(const char *dirpath, int *n)
{
	char path[4500];
	DIR *d = opendir(dirpath);
	struct dirent *e;
	if (!d)
		return errno == ENOENT ? 0 : -1;
	while ((e = readdir(d)) != NULL) {
		struct stat st;
		snprintf(path, sizeof path, "%s/%s", dirpath, e->d_name);
		if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
			continue;
		if (lstat(path, &st) < 0 || S_ISDIR(st.st_mode))
			continue;
		size_t nl = strlen(e->d_name);
		if (S_ISREG(st.st_mode) && nl > 5 && strcmp(e->d_name + nl - 5, ".lock") == 0) {
			int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			int busy = fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0;
			if (fd >= 0)
				close(fd);
			if (busy)
				continue; /* a sign-in is in progress */
		}
		if (unlink(path) < 0) {
			closedir(d);
			return -1;
		}
		(*n)++;
	}
	closedir(d);
	return 0;
}

enum pom_exit cmd_cache_clear(void)
{
	static const char *subs[] = { "tokens", "logins", "sessions" };
	char dir[4096], path[4200];
	int n = 0;
	if (privfile_cache_dir(dir, sizeof dir, 0) < 0) {
		log_error("cannot clear the cache %s: %s", dir[0] ? dir : "directory",
			  errno == ENOENT ? "set XDG_CACHE_HOME or HOME" : privfile_strerror(errno));
		return EXIT_LOCAL;
	}
	for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
		if (privfile_subdir(path, sizeof path, subs[i], 0) < 0) {
			log_error("refusing to clear %s: %s", path, privfile_strerror(errno));
			return EXIT_LOCAL;
		}
		if (clear_dir(path, &n) < 0) {
			log_error("cannot clear %s: %s", path, strerror(errno));
			return EXIT_LOCAL;
		}
	}
	if (clear_dir(dir, &n) < 0) {
		log_error("cannot clear %s: %s", dir, strerror(errno));
		return EXIT_LOCAL;
	}
	printf("removed %d file%s from %s\n", n, n == 1 ? "" : "s", dir);
	return EXIT_OK;
}
