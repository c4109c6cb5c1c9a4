#include "token.h"
#include "log.h"
#include "base64.h"
#include "chars.h"
#include "privfile.h"
#include "readfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

const char *token_source_name(enum token_source src)
{
	switch (src) {
	case TOKEN_ARG: return "--service-account";
	case TOKEN_ARG_FILE: return "--service-account-file";
	case TOKEN_ENV: return "POM_PROXY_SERVICE_ACCOUNT";
	case TOKEN_ENV_FILE: return "POM_PROXY_SERVICE_ACCOUNT_FILE";
	case TOKEN_CACHE: return "the token cache";
	default: return "no token";
	}
}

int token_chars_ok(const char *t)
{
	return chars_alnum_or(t, "-._~+/=");
}

/* A tiny bounded JSON walker: enough to find a top-level member. */
struct json { const unsigned char *p, *end; int depth; };

static void js_ws(struct json *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

/* Skip a string at j->p (which is '"'); set *s,*n to its raw content. */
static int js_string(struct json *j, const unsigned char **s, size_t *n)
{
	const unsigned char *start = ++j->p;
	while (j->p < j->end && *j->p != '"') {
		if (*j->p == '\\' && j->end - j->p < 2)
			return -1;
		j->p += *j->p == '\\' ? 2 : 1;
	}
	if (j->p >= j->end)
		return -1;
	*s = start;
	*n = (size_t)(j->p - start);
	j->p++;
	return 0;
}

static int js_skip_value(struct json *j)
{
	const unsigned char *s;
	size_t n;
	js_ws(j);
	if (j->p >= j->end)
		return -1;
	if (*j->p == '"')
		return js_string(j, &s, &n);
	if (*j->p == '{' || *j->p == '[') {
		int depth = 0;
		while (j->p < j->end) {
			unsigned char c = *j->p;
			if (c == '"') {
				if (js_string(j, &s, &n) < 0)
					return -1;
				continue;
			}
			if (c == '{' || c == '[') {
				if (++depth > 32)
					return -1;
			} else if (c == '}' || c == ']') {
				if (--depth == 0) {
					j->p++;
					return 0;
				}
			}
			j->p++;
		}
		return -1;
	}
	while (j->p < j->end && *j->p != ',' && *j->p != '}' && *j->p != ']' &&
	       *j->p != ' ' && *j->p != '\n' && *j->p != '\r' && *j->p != '\t')
		j->p++;
	return 0;
}

/* Walk the top-level members of a JSON object, handing each key and the
 * position of its value to visit (which must not move j). Returns 0, or
 * -1 on malformed input. */
static int json_members(const unsigned char *text, size_t len,
			void (*visit)(const unsigned char *k, size_t kn, struct json *j, void *arg),
			void *arg)
{
	struct json j = { text, text + len, 0 };
	js_ws(&j);
	if (j.p >= j.end || *j.p++ != '{')
		return -1;
	for (;;) {
		const unsigned char *k;
		size_t kn;
		js_ws(&j);
		if (j.p < j.end && *j.p == '}')
			return 0;
		if (j.p >= j.end || *j.p != '"' || js_string(&j, &k, &kn) < 0)
			return -1;
		js_ws(&j);
		if (j.p >= j.end || *j.p++ != ':')
			return -1;
		js_ws(&j);
		visit(k, kn, &j, arg);
		if (js_skip_value(&j) < 0)
			return -1;
		js_ws(&j);
		if (j.p < j.end && *j.p == ',') {
			j.p++;
			continue;
		}
		if (j.p < j.end && *j.p == '}')
			return 0;
		return -1;
	}
}

/* A non-negative number value at j (not advanced; fraction and exponent
 * allowed, as JSON permits "exp": 1.8e9), truncated to an integer; -1 if
 * the value is not such a number. */
static long long js_number_at(const struct json *j)
{
	char num[40];
	size_t n = 0;
	const unsigned char *p = j->p;
	if (p >= j->end || *p < '0' || *p > '9')
		return -1;
	while (p < j->end && n < sizeof num - 1 && strchr("0123456789.eE+-", *p) && *p)
		num[n++] = (char)*p++;
	num[n] = '\0';
	char *end;
	double v = strtod(num, &end);
	if (*end || !(v >= 0) || v > 1e15)
		return -1;
	return (long long)v;
}

/* A string value at j (not advanced) copied printable-only into out. */
static void js_string_at(const struct json *j, char *out, size_t size)
{
	struct json t = *j;
	const unsigned char *s;
	size_t n, o = 0;
	out[0] = '\0';
	if (t.p >= t.end || *t.p != '"' || js_string(&t, &s, &n) < 0)
		return;
	for (size_t i = 0; i < n && o + 1 < size; i++)
		out[o++] = (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\\') ? (char)s[i] : '?';
	out[o] = '\0';
}

static void visit_claims(const unsigned char *k, size_t kn, struct json *j, void *arg)
{
	struct token_claims *c = arg;
	if (kn == 3 && memcmp(k, "exp", 3) == 0 && js_number_at(j) >= 0)
		c->exp = js_number_at(j);
	else if (kn == 3 && memcmp(k, "iat", 3) == 0 && js_number_at(j) >= 0)
		c->iat = js_number_at(j);
	else if (kn == 3 && memcmp(k, "sub", 3) == 0)
		js_string_at(j, c->sub, sizeof c->sub);
	else if (kn == 5 && memcmp(k, "email", 5) == 0)
		js_string_at(j, c->email, sizeof c->email);
}

int token_claims(const char *token, struct token_claims *c)
{
	unsigned char payload[TOKEN_MAX];
	memset(c, 0, sizeof *c);
	c->iat = c->exp = -1;
	const char *dot1 = strchr(token, '.');
	const char *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
	if (!dot2)
		return -1;
	long n = base64_decode(BASE64_JWT, dot1 + 1, (size_t)(dot2 - dot1 - 1), payload, sizeof payload);
	if (n <= 0 || json_members(payload, (size_t)n, visit_claims, c) < 0) {
		memset(c, 0, sizeof *c);
		c->iat = c->exp = -1;
		return -1;
	}
	return 0;
}

int token_expired(const char *token, long long now)
{
	struct token_claims c;
	return token_claims(token, &c) == 0 && c.exp >= 0 && c.exp < now;
}

/* Strip surrounding whitespace in place. */
static void trim(char *s)
{
	size_t n = strlen(s), i = 0;
	while (n > 0 && strchr(" \t\r\n", s[n - 1]))
		s[--n] = '\0';
	while (s[i] && strchr(" \t\r\n", s[i]))
		i++;
	memmove(s, s + i, n - i + 1);
}

/* Read a user-named token file (symlinks allowed: secret mounts use them)
 * into buf (at most size-1 bytes, NUL-terminated). On failure the buffer
 * is wiped and -1 returned with errno (EFBIG when the file is larger). */
static int read_token_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	char extra;
	ssize_t got = -1;
	int e = EINVAL;
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		got = readfile_fd(fd, buf, size - 1);
		e = errno;
		if (got == (ssize_t)size - 1 && readfile_fd(fd, &extra, 1) != 0) {
			got = -1;
			e = EFBIG;
		}
	}
	close(fd);
	if (got < 0) {
		explicit_bzero(buf, size);
		errno = e;
		return -1;
	}
	buf[got] = '\0';
	return 0;
}

/* Check an explicitly given token: EXIT_OK, or after one log_error line
 * EXIT_USAGE (unusable) or EXIT_SIGNIN (expired). */
static enum pom_exit check_explicit(char *buf, const char *what)
{
	trim(buf);
	if (!*buf) {
		log_error("%s: the token is empty", what);
		return EXIT_USAGE;
	}
	if (!token_chars_ok(buf)) {
		log_error("%s: the token contains characters a JWT cannot have", what);
		return EXIT_USAGE;
	}
	if (token_expired(buf, (long long)time(NULL))) {
		log_error("%s: the token has expired (its exp claim is in the past)", what);
		return EXIT_SIGNIN;
	}
	return EXIT_OK;
}

static enum pom_exit copy_token(char *buf, size_t size, const char *t, const char *what)
{
	size_t n = strlen(t);
	if (n >= size || n > TOKEN_MAX) {
		log_error("%s: the token is too long", what);
		return EXIT_USAGE;
	}
	memcpy(buf, t, n + 1);
	return check_explicit(buf, what);
}

int token_cache_path(char *buf, size_t size, const char *authority, int create)
{
	char dir[4096];
	if (!*authority || authority[0] == '.' || strchr(authority, '/')) {
		errno = EINVAL;
		return -1;
	}
	if (privfile_subdir(dir, sizeof dir, "tokens", create) < 0)
		return -1;
	int n = snprintf(buf, size, "%s/%s", dir, authority);
	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int token_cache_store(const char *authority, const char *token)
{
	char path[4096];
	if (!token_chars_ok(token)) {
		errno = EINVAL;
		return -1;
	}
	if (token_cache_path(path, sizeof path, authority, 1) < 0)
		return -1;
	return privfile_write(path, token, strlen(token));
}

int token_env_set(void)
{
	const char *a = getenv("POM_PROXY_SERVICE_ACCOUNT");
	const char *b = getenv("POM_PROXY_SERVICE_ACCOUNT_FILE");
	return (a && *a) || (b && *b);
}

enum pom_exit token_find(char *buf, size_t size, const struct token_options *o,
	       const char *authority, enum token_source *src)
{
	static int warned; /* a process warns about an unusable cache file once */
	const char *env;
	buf[0] = '\0';
	*src = TOKEN_NONE;
	if (o->service_account) {
		*src = TOKEN_ARG;
		return copy_token(buf, size, o->service_account, "--service-account");
	}
	const char *file = o->service_account_file;
	enum token_source fsrc = TOKEN_ARG_FILE;
	if (!file && (env = getenv("POM_PROXY_SERVICE_ACCOUNT")) && *env) {
		*src = TOKEN_ENV;
		return copy_token(buf, size, env, "POM_PROXY_SERVICE_ACCOUNT");
	}
	if (!file && (env = getenv("POM_PROXY_SERVICE_ACCOUNT_FILE")) && *env) {
		file = env;
		fsrc = TOKEN_ENV_FILE;
	}
	if (file) {
		*src = fsrc;
		if (read_token_file(file, buf, size) < 0) {
			log_error("cannot read service account token file %s: %s", file,
				  errno == EINVAL ? "not a regular file" :
				  errno == EFBIG ? "too large for a token" : strerror(errno));
			return EXIT_USAGE;
		}
		return check_explicit(buf, file);
	}

	char path[4096];
	if (token_cache_path(path, sizeof path, authority, 0) < 0) {
		/* a sign-in, which needs the cache, says it if it comes to that */
		log_debug(1, "not using the token cache: %s", privfile_strerror(errno));
		return EXIT_OK;
	}
	ssize_t n = privfile_read(path, buf, size - 1);
	if (n < 0) {
		if (errno != ENOENT && !warned++)
			log_warn("ignoring cached token %s: %s", path,
				 errno == ELOOP ? "it is a symbolic link" :
				 errno == EINVAL ? "not a regular file" :
				 errno == EPERM ? "not private to this user (mode or owner)" :
				 errno == EFBIG ? "too large" : strerror(errno));
		else
			log_debug(1, "no cached token for %s", authority);
		buf[0] = '\0';
		return EXIT_OK;
	}
	buf[n] = '\0';
	trim(buf);
	if (!token_chars_ok(buf)) {
		if (!warned++)
			log_warn("ignoring cached token %s: it is not a token", path);
		buf[0] = '\0';
		return EXIT_OK;
	}
	if (token_expired(buf, (long long)time(NULL))) {
		log_debug(1, "cached token for %s has expired; not sending it", authority);
		buf[0] = '\0';
		return EXIT_OK;
	}
	*src = TOKEN_CACHE;
	log_debug(1, "using the cached token for %s", authority);
	return EXIT_OK;
}
