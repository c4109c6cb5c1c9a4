/* Unit tests for token.c: the exp claim of hand-made JWTs (top level only,
 * numbers only, garbage and oversized payloads), token_chars_ok, the order
 * of token sources (arguments, environment, cache), and the cache file:
 * created 0600 under 0700 directories, read back, and skipped — not fatal
 * — when expired, a symlink, not private, a directory or garbage.
 * Everything happens under a mkdtemp directory set as XDG_CACHE_HOME.
 * token_find logs to stderr; nothing here looks at that. */
#include "token.h"
#include "privfile.h"
#include "tap.h"
#include "scratch.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define NOW 1700000000LL


/* base64url without padding of s[0..n) into a malloc'd string. */
static char *b64url(const char *s, size_t n)
{
	static const char al[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char *out = malloc(n / 3 * 4 + 5), *o = out;
	const unsigned char *p = (const unsigned char *)s;
	if (!out)
		abort();
	size_t i = 0;
	for (; i + 3 <= n; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
		*o++ = al[v >> 18];
		*o++ = al[(v >> 12) & 63];
		*o++ = al[(v >> 6) & 63];
		*o++ = al[v & 63];
	}
	if (n - i == 1) {
		unsigned v = (unsigned)p[i] << 16;
		*o++ = al[v >> 18];
		*o++ = al[(v >> 12) & 63];
	} else if (n - i == 2) {
		unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8;
		*o++ = al[v >> 18];
		*o++ = al[(v >> 12) & 63];
		*o++ = al[(v >> 6) & 63];
	}
	*o = '\0';
	return out;
}

/* "header.payload.sig" with payload = base64url(json); malloc'd. */
static char *jwt(const char *json)
{
	static const char *hdr = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
	char *h = b64url(hdr, strlen(hdr)), *p = b64url(json, strlen(json));
	size_t n = strlen(h) + strlen(p) + 32;
	char *t = malloc(n);
	if (!t)
		abort();
	snprintf(t, n, "%s.%s.c2lnbmF0dXJlLW5vdC1jaGVja2Vk", h, p);
	free(h);
	free(p);
	return t;
}

/* token_expired on a JWT whose payload is json. */
static int expired_json(const char *json, long long now)
{
	char *t = jwt(json);
	int r = token_expired(t, now);
	free(t);
	return r;
}

static void test_expired(void)
{
	is_int(expired_json("{\"exp\":1600000000}", NOW), 1, "exp in the past");
	is_int(expired_json("{\"exp\":1800000000}", NOW), 0, "exp in the future");
	is_int(expired_json("{\"exp\":1699999999}", NOW), 1, "exp one second ago");
	is_int(expired_json("{\"exp\":1700000001}", NOW), 0, "exp in one second");
	is_int(expired_json("{\"exp\":0}", NOW), 1, "exp 0");
	is_int(expired_json("{\"sub\":\"u\",\"iat\":1600000000,\"exp\":1600000100,\"aud\":[\"a\",\"b\"]}",
			    NOW), 1, "exp among other claims (past)");
	is_int(expired_json("{\"iss\":\"x\",\"aud\":[\"a\"],\"exp\":1800000000,\"sub\":\"u\"}", NOW), 0,
	       "exp among other claims (future)");
	is_int(expired_json("{ \"exp\" : 1600000000 }", NOW), 1, "whitespace around exp");
	is_int(expired_json("\n{\r\n\t\"exp\"\t:\n1600000000\n}\n", NOW), 1, "newlines and tabs");
	is_int(expired_json("{\"exp\":1600000000.5}", NOW), 1, "fractional exp in the past");
	is_int(expired_json("{\"exp\":1800000000.5}", NOW), 0, "fractional exp in the future");
	is_int(expired_json("{\"exp\":99999999999999999999999}", NOW), 0, "huge exp: not expired");

	/* no exp, or not a top-level number */
	is_int(expired_json("{}", NOW), 0, "empty payload");
	is_int(expired_json("{\"sub\":\"u\",\"iat\":1600000000}", NOW), 0, "no exp");
	is_int(expired_json("{\"a\":{\"exp\":1}}", NOW), 0, "exp nested in an object does not count");
	is_int(expired_json("{\"a\":[{\"exp\":1}],\"b\":[1,{\"c\":{\"exp\":2}}]}", NOW), 0,
	       "exp nested in arrays does not count");
	is_int(expired_json("{\"a\":\"{\\\"exp\\\":1}\"}", NOW), 0, "exp inside a string value does not count");
	is_int(expired_json("{\"a\\\"exp\":1}", NOW), 0, "key with an escaped quote then exp");
	is_int(expired_json("{\"ex\":1,\"expx\":1,\"xexp\":1,\"EXP\":1}", NOW), 0, "similar keys do not count");
	is_int(expired_json("{\"exp\":\"1600000000\"}", NOW), 0, "exp as a string does not count");
	is_int(expired_json("{\"exp\":null}", NOW), 0, "exp null");
	is_int(expired_json("{\"exp\":true}", NOW), 0, "exp true");
	is_int(expired_json("{\"exp\":[1]}", NOW), 0, "exp as an array");
	is_int(expired_json("{\"exp\":{\"v\":1}}", NOW), 0, "exp as an object");
	is_int(expired_json("[{\"exp\":1}]", NOW), 0, "payload is an array");
	is_int(expired_json("\"exp\"", NOW), 0, "payload is a string");

	/* the walker must continue past nested values to a top-level exp */
	is_int(expired_json("{\"a\":{\"exp\":9999999999,\"b\":[\"}\",\"]\",{}]},\"exp\":1}", NOW), 1,
	       "top-level exp after a nested one (past)");
	is_int(expired_json("{\"a\":{\"exp\":1},\"exp\":9999999999}", NOW), 0,
	       "top-level exp after a nested one (future)");
	is_int(expired_json("{\"s\":\"a,}\\\\\",\"exp\":1}", NOW), 1,
	       "exp after a string holding ',}' and an escaped backslash");

	/* JSON allows exponent notation for numbers: 1.8e9 is in 2027 */
	is_int(expired_json("{\"exp\":1.8e9}", NOW), 0, "exp 1.8e9 (future) is not expired");
	is_int(expired_json("{\"exp\":2E9}", NOW), 0, "exp 2E9 (future) is not expired");
	is_int(expired_json("{\"exp\":1.6e9}", NOW), 1, "exp 1.6e9 (past) is expired");

	/* garbage and non-JWTs */
	static const char *junk[] = {
		"", ".", "..", "...", "garbage", "a.b", "abc.def", ".e30.", "e30", "e30.e30",
		"x.!!!!.y", "x.eyJleHAiOjF9", /* no second dot */
		"x.eyJle.y",                 /* '{"e' truncated */
		"x.eyJleHAiO.y",             /* '{"exp"' truncated before ':' */
		"x.eyJleHAiOj.y",            /* '{"exp":' with no value */
		"x.e y.z", "x.\xff\xfe.z", "x.eyJle\nHAiOjF9.y",
		"x.W3siZXhwIjoxfV0.y",       /* [{"exp":1}] */
		"x.bnVsbA.y",                /* null */
		"x.eyJleHAiOiIxIn0.y",       /* {"exp":"1"} */
		"x.AAAA.y",                  /* NUL bytes */
	};
	for (size_t i = 0; i < sizeof junk / sizeof *junk; i++)
		is_int(token_expired(junk[i], NOW), 0, "not a JWT with exp #%zu", i);
	is_int(token_expired("x.eyJleHAiOjF9.y", NOW), 1, "sanity: x.{\"exp\":1}.y is expired");
	is_int(token_expired("x.eyJleHAiOjF9=.y", NOW), 1, "padding tolerated");
	is_int(token_expired("x.eyJleHAiOjF9", NOW), 0, "two segments only");

	/* bounded: a long payload within TOKEN_MAX, and far more than that */
	{
		size_t pad = 12000;
		char *json = malloc(pad + 64);
		if (json) {
			memcpy(json, "{\"pad\":\"", 8);
			memset(json + 8, 'p', pad);
			strcpy(json + 8 + pad, "\",\"exp\":1600000000}");
			is_int(expired_json(json, NOW), 1, "12000-byte payload, exp at the end (past)");
			strcpy(json + 8 + pad, "\",\"exp\":1800000000}");
			is_int(expired_json(json, NOW), 0, "12000-byte payload, exp at the end (future)");
			free(json);
		}
		pad = 200000;
		json = malloc(pad + 64);
		if (json) {
			memcpy(json, "{\"pad\":\"", 8);
			memset(json + 8, 'p', pad);
			strcpy(json + 8 + pad, "\",\"exp\":1800000000}");
			is_int(expired_json(json, NOW), 0, "200000-byte payload: no crash, not expired");
			free(json);
		}
		/* deep nesting and unterminated things do not run away */
		char deep[5000];
		memset(deep, '[', sizeof deep - 1);
		deep[sizeof deep - 1] = '\0';
		memcpy(deep, "{\"a\":", 5);
		is_int(expired_json(deep, NOW), 0, "5000 unclosed '['");
		is_int(expired_json("{\"a\":\"unterminated", NOW), 0, "unterminated string");
		is_int(expired_json("{\"a\":\"\\", NOW), 0, "string ending in a backslash");
		is_int(expired_json("{\"a\"", NOW), 0, "key without a value");
		is_int(expired_json("{\"a\":1 \"exp\":1}", NOW), 0, "missing comma: not trusted");
	}

	/* now itself: "earlier than now" */
	is_int(expired_json("{\"exp\":1700000000}", NOW), 0, "exp == now is not earlier than now");
	is_int(expired_json("{\"exp\":1}", 0), 0, "exp 1 with now 0");
}

static void test_chars(void)
{
	is_int(token_chars_ok(""), 0, "empty");
	is_int(token_chars_ok("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln-_x"), 1, "a JWT");
	is_int(token_chars_ok("AZaz09-._~+/="), 1, "token68 characters");
	static const char *bad[] = {
		"a b", "a\tb", "a\r", "a\n", "a\r\nb", "a:b", "a\"b", "a,b", "a;b", "a\\b",
		"a\x01", "a\x7f", "a\x80", "a\xff", "a@b", "a(b", "a%20b", "a{b",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		is_int(token_chars_ok(bad[i]), 0, "bad character #%zu", i);
}

/* ---- token_find ---- */

/* Write a file (mode given) with content s. */
static int put(const char *path, const char *s, mode_t mode)
{
	unlink(path);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd < 0)
		return -1;
	size_t n = strlen(s);
	int r = write(fd, s, n) == (ssize_t)n ? 0 : -1;
	close(fd);
	if (chmod(path, mode) < 0)
		r = -1;
	return r;
}

static char buf[TOKEN_MAX + 2];

static int find(const char *sa, const char *saf, const char *authority, enum token_source *src)
{
	struct token_options o = { sa, saf };
	memset(buf, 'Z', sizeof buf);
	buf[sizeof buf - 1] = '\0';
	*src = (enum token_source)-1;
	return token_find(buf, sizeof buf, &o, authority, src);
}

/* Expect token_find to succeed with source want and token tok. */
static void finds(const char *sa, const char *saf, const char *authority,
		  enum token_source want, const char *tok, const char *what)
{
	enum token_source src;
	int r = find(sa, saf, authority, &src);
	is_int(r, EXIT_OK, "%s: returns EXIT_OK", what);
	is_int(src, want, "%s: source %s", what, token_source_name(want));
	is_str(buf, tok, "%s: token", what);
}

/* Expect token_find to fail with EXIT_USAGE (unusable) or EXIT_SIGNIN
 * (expired). */
static void fails_with(int want, const char *sa, const char *saf, const char *what)
{
	enum token_source src;
	is_int(find(sa, saf, "proxy.example.com:443", &src), want, "%s: error", what);
}

static void fails(const char *sa, const char *saf, const char *what)
{
	fails_with(EXIT_USAGE, sa, saf, what);
}

static const char *A = "proxy.example.com:443";

static void test_precedence(void)
{
	unsetenv("POM_PROXY_SERVICE_ACCOUNT");
	unsetenv("POM_PROXY_SERVICE_ACCOUNT_FILE");
	setenv("XDG_CACHE_HOME", scratch_dir, 1);

	finds(NULL, NULL, A, TOKEN_NONE, "", "nothing anywhere");
	is_int(token_cache_store(A, "cache.tok.en"), 0, "store a cached token");
	finds(NULL, NULL, A, TOKEN_CACHE, "cache.tok.en", "cache only");

	put(scratch_at("envfile"), "envfile.tok.en\n", 0600);
	setenv("POM_PROXY_SERVICE_ACCOUNT_FILE", scratch_at("envfile"), 1);
	finds(NULL, NULL, A, TOKEN_ENV_FILE, "envfile.tok.en", "env file beats cache");

	setenv("POM_PROXY_SERVICE_ACCOUNT", "env.tok.en", 1);
	finds(NULL, NULL, A, TOKEN_ENV, "env.tok.en", "env beats env file");

	put(scratch_at("argfile"), "argfile.tok.en", 0600);
	finds(NULL, scratch_at("argfile"), A, TOKEN_ARG_FILE, "argfile.tok.en", "--service-account-file beats env");

	finds("arg.tok.en", scratch_at("argfile"), A, TOKEN_ARG, "arg.tok.en", "--service-account beats all");

	/* each higher source wins even when a lower one is broken */
	finds("arg.tok.en", scratch_at("nonexistent"), A, TOKEN_ARG, "arg.tok.en",
	      "--service-account beats a missing --service-account-file");
	setenv("POM_PROXY_SERVICE_ACCOUNT", "bad token", 1);
	finds(NULL, scratch_at("argfile"), A, TOKEN_ARG_FILE, "argfile.tok.en",
	      "--service-account-file beats a bad env token");
	setenv("POM_PROXY_SERVICE_ACCOUNT_FILE", scratch_at("nonexistent"), 1);
	setenv("POM_PROXY_SERVICE_ACCOUNT", "env.tok.en", 1);
	finds(NULL, NULL, A, TOKEN_ENV, "env.tok.en", "env beats a missing env file");

	/* an empty environment variable is as good as unset */
	setenv("POM_PROXY_SERVICE_ACCOUNT", "", 1);
	setenv("POM_PROXY_SERVICE_ACCOUNT_FILE", scratch_at("envfile"), 1);
	finds(NULL, NULL, A, TOKEN_ENV_FILE, "envfile.tok.en", "empty env var skipped");
	setenv("POM_PROXY_SERVICE_ACCOUNT_FILE", "", 1);
	finds(NULL, NULL, A, TOKEN_CACHE, "cache.tok.en", "empty env file var skipped");
	unsetenv("POM_PROXY_SERVICE_ACCOUNT");
	unsetenv("POM_PROXY_SERVICE_ACCOUNT_FILE");

	/* the cache is per proxy authority */
	finds(NULL, NULL, "other.example.com:443", TOKEN_NONE, "", "no cache for another proxy");
	finds(NULL, NULL, "proxy.example.com:8443", TOKEN_NONE, "", "no cache for another port");

	/* whitespace trimmed from files and values */
	put(scratch_at("ws"), "  \n\t ws.tok.en \r\n\n", 0600);
	finds(NULL, scratch_at("ws"), A, TOKEN_ARG_FILE, "ws.tok.en", "whitespace trimmed from a file");
	setenv("POM_PROXY_SERVICE_ACCOUNT_FILE", scratch_at("ws"), 1);
	finds(NULL, NULL, A, TOKEN_ENV_FILE, "ws.tok.en", "whitespace trimmed from the env file");
	unsetenv("POM_PROXY_SERVICE_ACCOUNT_FILE");
	finds(" arg.tok.en\n", NULL, A, TOKEN_ARG, "arg.tok.en", "whitespace trimmed from the argument");
	put(scratch_at("crlf"), "crlf.tok.en\r\n", 0600);
	finds(NULL, scratch_at("crlf"), A, TOKEN_ARG_FILE, "crlf.tok.en", "CRLF trimmed from a file");
	if (symlink(scratch_at("argfile"), scratch_at("link")) == 0)
		finds(NULL, scratch_at("link"), A, TOKEN_ARG_FILE, "argfile.tok.en",
		      "a named file may be a symlink (secret mounts)");

	/* a future exp is fine */
	char *fut = jwt("{\"sub\":\"u\",\"exp\":99999999999}");
	finds(fut, NULL, A, TOKEN_ARG, fut, "unexpired JWT");
	free(fut);
}

static void test_explicit_errors(void)
{
	unsetenv("POM_PROXY_SERVICE_ACCOUNT");
	unsetenv("POM_PROXY_SERVICE_ACCOUNT_FILE");
	char *old = jwt("{\"sub\":\"u\",\"exp\":1600000000}");

	fails_with(EXIT_SIGNIN, old, NULL, "expired --service-account");
	put(scratch_at("old"), old, 0600);
	fails_with(EXIT_SIGNIN, NULL, scratch_at("old"), "expired --service-account-file");
	setenv("POM_PROXY_SERVICE_ACCOUNT", old, 1);
	fails_with(EXIT_SIGNIN, NULL, NULL, "expired POM_PROXY_SERVICE_ACCOUNT");
	unsetenv("POM_PROXY_SERVICE_ACCOUNT");
	setenv("POM_PROXY_SERVICE_ACCOUNT_FILE", scratch_at("old"), 1);
	fails_with(EXIT_SIGNIN, NULL, NULL, "expired POM_PROXY_SERVICE_ACCOUNT_FILE");
	unsetenv("POM_PROXY_SERVICE_ACCOUNT_FILE");
	/* an expired explicit token does not fall back to the cache */
	token_cache_store(A, "cache.tok.en");
	fails_with(EXIT_SIGNIN, old, NULL, "expired --service-account with a cached token present");

	put(scratch_at("empty"), "", 0600);
	fails(NULL, scratch_at("empty"), "empty file");
	put(scratch_at("blank"), " \n\t\r\n", 0600);
	fails(NULL, scratch_at("blank"), "whitespace-only file");
	setenv("POM_PROXY_SERVICE_ACCOUNT_FILE", scratch_at("empty"), 1);
	fails(NULL, NULL, "empty env file");
	unsetenv("POM_PROXY_SERVICE_ACCOUNT_FILE");
	fails("", NULL, "empty --service-account");
	fails("  \n", NULL, "blank --service-account");

	fails(NULL, scratch_at("nonexistent"), "missing file");
	fails(NULL, scratch_dir, "a directory as the file");
	fails(NULL, scratch_at("argfile/x"), "a path through a regular file");
	setenv("POM_PROXY_SERVICE_ACCOUNT_FILE", scratch_at("nonexistent"), 1);
	fails(NULL, NULL, "missing env file");
	unsetenv("POM_PROXY_SERVICE_ACCOUNT_FILE");
	if (mkfifo(scratch_at("fifo"), 0600) == 0)
		fails(NULL, scratch_at("fifo"), "a FIFO (must not block)");
	if (geteuid() != 0) {
		put(scratch_at("noread"), "noread.tok.en", 0000);
		fails(NULL, scratch_at("noread"), "unreadable (mode 000) file");
	} else {
		/* root reads mode 000; /proc/self/mem is there but unreadable as a file */
		fails(NULL, "/proc/self/mem", "unreadable file (/proc/self/mem)");
	}

	fails("tok en", NULL, "a space inside the token");
	fails("tok\r\nX: y", NULL, "CRLF inside the token");
	fails("tok:en", NULL, "a colon inside the token");
	put(scratch_at("badchars"), "tok\"en\n", 0600);
	fails(NULL, scratch_at("badchars"), "a quote inside the file's token");
	put(scratch_at("twolines"), "tok.en\nsecond.line\n", 0600);
	fails(NULL, scratch_at("twolines"), "two lines in the file");

	/* too long */
	char *big = malloc(TOKEN_MAX + 100);
	if (big) {
		memset(big, 'a', TOKEN_MAX + 99);
		big[TOKEN_MAX + 99] = '\0';
		fails(big, NULL, "--service-account longer than TOKEN_MAX");
		put(scratch_at("big"), big, 0600);
		fails(NULL, scratch_at("big"), "token file longer than TOKEN_MAX");

		/* exactly TOKEN_MAX bytes, in a TOKEN_MAX + 1 buffer (as main.c
		 * has): fits, from every source */
		static char tb[TOKEN_MAX + 1];
		struct token_options o = { NULL, NULL };
		enum token_source s2;
		big[TOKEN_MAX] = '\0';
		o.service_account = big;
		is_int(token_find(tb, sizeof tb, &o, A, &s2), 0, "TOKEN_MAX-byte --service-account accepted");
		is_int(strlen(tb), TOKEN_MAX, "  whole");
		o.service_account = NULL;
		o.service_account_file = scratch_at("max");
		put(scratch_at("max"), big, 0600);
		memset(tb, 0, sizeof tb);
		int r = token_find(tb, sizeof tb, &o, A, &s2);
		is_int(r, 0, "TOKEN_MAX-byte --service-account-file accepted");
		is_int(r == 0 ? (long long)strlen(tb) : -1, TOKEN_MAX, "  whole");
		free(big);
	}
	free(old);
}

/* mode bits of path (lstat), or -1. */
static int mode_of(const char *path, int *isdir, int *isreg)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return -1;
	*isdir = S_ISDIR(st.st_mode);
	*isreg = S_ISREG(st.st_mode);
	return (int)(st.st_mode & 07777);
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;
	struct dirent *e;
	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void test_cache(void)
{
	char xdg[300], path[4096], want[600];
	int isdir, isreg;

	unsetenv("POM_PROXY_SERVICE_ACCOUNT");
	unsetenv("POM_PROXY_SERVICE_ACCOUNT_FILE");
	/* a fresh XDG_CACHE_HOME whose parents do not exist yet */
	snprintf(xdg, sizeof xdg, "%s/xdg/deeper", scratch_dir);
	setenv("XDG_CACHE_HOME", xdg, 1);

	is_int(token_cache_path(path, sizeof path, A, 0), 0, "cache path without creating");
	snprintf(want, sizeof want, "%s/pom-proxy/tokens/%s", xdg, A);
	is_str(path, want, "  is XDG_CACHE_HOME/pom-proxy/tokens/HOST:PORT");
	struct stat st;
	ok(stat(scratch_at("xdg"), &st) < 0 && errno == ENOENT, "  and created nothing");
	finds(NULL, NULL, A, TOKEN_NONE, "", "no cache directory: no token, no error");

	char *tok = jwt("{\"sub\":\"u\",\"exp\":99999999999}");
	mode_t old_umask = umask(0);  /* the code, not the umask, must make it private */
	is_int(token_cache_store(A, tok), 0, "token_cache_store");
	umask(old_umask);
	snprintf(want, sizeof want, "%s/pom-proxy", xdg);
	is_int(mode_of(want, &isdir, &isreg), 0700, "pom-proxy/ is 0700");
	ok(isdir, "  and a directory");
	snprintf(want, sizeof want, "%s/pom-proxy/tokens", xdg);
	is_int(mode_of(want, &isdir, &isreg), 0700, "pom-proxy/tokens/ is 0700");
	ok(isdir, "  and a directory");
	snprintf(want, sizeof want, "%s/pom-proxy/tokens/%s", xdg, A);
	is_int(mode_of(want, &isdir, &isreg), 0600, "tokens/%s is 0600", A);
	ok(isreg, "  and a regular file");
	char raw[TOKEN_MAX];
	ssize_t n = privfile_read(want, raw, sizeof raw - 1);
	if (n >= 0)
		raw[n] = '\0';
	is_str(n >= 0 ? raw : NULL, tok, "  holding the raw token");
	finds(NULL, NULL, A, TOKEN_CACHE, tok, "read back from the cache");

	/* replaced, atomically: no temp files left behind */
	is_int(token_cache_store(A, "second.tok.en"), 0, "store again");
	finds(NULL, NULL, A, TOKEN_CACHE, "second.tok.en", "  the new token replaces the old");
	snprintf(want, sizeof want, "%s/pom-proxy/tokens", xdg);
	is_int(count_entries(want), 1, "  one file in tokens/, no temp files");

	/* IPv6 proxy */
	is_int(token_cache_store("[::1]:443", "v6.tok.en"), 0, "store for [::1]:443");
	snprintf(want, sizeof want, "%s/pom-proxy/tokens/[::1]:443", xdg);
	is_int(mode_of(want, &isdir, &isreg), 0600, "  file tokens/[::1]:443, 0600");
	finds(NULL, NULL, "[::1]:443", TOKEN_CACHE, "v6.tok.en", "  read back");
	finds(NULL, NULL, A, TOKEN_CACHE, "second.tok.en", "  the other proxy keeps its token");

	/* refusals by token_cache_store */
	errno = 0;
	is_int(token_cache_store(A, "bad token"), -1, "store refuses a token with a space");
	is_int(errno, EINVAL, "  EINVAL");
	is_int(token_cache_store(A, ""), -1, "store refuses an empty token");
	finds(NULL, NULL, A, TOKEN_CACHE, "second.tok.en", "  the cached token is unchanged");

	/* a trailing newline in a cache file (written by hand) is trimmed */
	snprintf(path, sizeof path, "%s/pom-proxy/tokens/%s", xdg, A);
	put(path, "hand.tok.en\n", 0600);
	finds(NULL, NULL, A, TOKEN_CACHE, "hand.tok.en", "hand-written cache file, newline trimmed");

	/* unusable cache files are skipped, not fatal */
	char *old = jwt("{\"sub\":\"u\",\"exp\":1600000000}");
	is_int(token_cache_store(A, old), 0, "store an expired token");
	finds(NULL, NULL, A, TOKEN_NONE, "", "expired cached token skipped");
	free(old);

	unlink(path);
	put(scratch_at("elsewhere"), "linked.tok.en", 0600);
	ok(symlink(scratch_at("elsewhere"), path) == 0, "cache file replaced by a symlink");
	finds(NULL, NULL, A, TOKEN_NONE, "", "symlinked cache file skipped");

	unlink(path);
	put(path, "open.tok.en", 0644);
	finds(NULL, NULL, A, TOKEN_NONE, "", "cache file with mode 0644 skipped");
	chmod(path, 0640);
	finds(NULL, NULL, A, TOKEN_NONE, "", "cache file with mode 0640 skipped");
	chmod(path, 0602);
	finds(NULL, NULL, A, TOKEN_NONE, "", "cache file with mode 0602 skipped");

	unlink(path);
	ok(mkdir(path, 0700) == 0, "cache file replaced by a directory");
	finds(NULL, NULL, A, TOKEN_NONE, "", "directory in place of the cache file skipped");
	rmdir(path);

	put(path, "\x01\x02garbage, not a token\n\xff", 0600);
	finds(NULL, NULL, A, TOKEN_NONE, "", "garbage cache file skipped");
	put(path, "", 0600);
	finds(NULL, NULL, A, TOKEN_NONE, "", "empty cache file skipped");
	put(path, "two.tok\nlines.tok\n", 0600);
	finds(NULL, NULL, A, TOKEN_NONE, "", "two-line cache file skipped");

	if (mkfifo(scratch_at("cachefifo"), 0600) == 0) {
		unlink(path);
		if (rename(scratch_at("cachefifo"), path) == 0)
			finds(NULL, NULL, A, TOKEN_NONE, "", "FIFO in place of the cache file skipped");
	}
	unlink(path);

	/* too big for a token */
	char *big = malloc(TOKEN_MAX + 100);
	if (big) {
		memset(big, 'a', TOKEN_MAX + 99);
		big[TOKEN_MAX + 99] = '\0';
		put(path, big, 0600);
		enum token_source s2;
		struct token_options o = { NULL, NULL };
		char small[TOKEN_MAX + 1];
		is_int(token_find(small, sizeof small, &o, A, &s2), 0, "oversized cache file: not fatal");
		is_int(s2, TOKEN_NONE, "  skipped");
		is_str(small, "", "  buf empty");
		free(big);
	}
	unlink(path);

	/* a cache directory that is not private is refused for writing */
	snprintf(want, sizeof want, "%s/pom-proxy", xdg);
	chmod(want, 0755);
	errno = 0;
	is_int(token_cache_store(A, "x.tok.en"), -1, "store refuses a 0755 pom-proxy directory");
	chmod(want, 0700);
	is_int(token_cache_store(A, "x.tok.en"), 0, "  and works again at 0700");

	/* no usable cache root at all */
	unsetenv("XDG_CACHE_HOME");
	char *home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
	unsetenv("HOME");
	finds(NULL, NULL, A, TOKEN_NONE, "", "neither XDG_CACHE_HOME nor HOME: no token, no error");
	setenv("XDG_CACHE_HOME", "relative/dir", 1);
	is_int(token_cache_path(path, sizeof path, A, 0), -1, "relative XDG_CACHE_HOME without HOME refused");
	setenv("HOME", xdg, 1);
	is_int(token_cache_path(path, sizeof path, A, 0), 0, "relative XDG_CACHE_HOME: HOME/.cache used");
	snprintf(want, sizeof want, "%s/.cache/pom-proxy/tokens/%s", xdg, A);
	is_str(path, want, "  path under HOME/.cache");
	if (home) {
		setenv("HOME", home, 1);
		free(home);
	}
	setenv("XDG_CACHE_HOME", scratch_dir, 1);
	free(tok);
}

int main(void)
{
	alarm(60);
	if (scratch_make("pom-token") != 0) {
		ok(0, "mkdtemp: %s", strerror(errno));
		return done_testing();
	}
	test_expired();
	test_chars();
	test_precedence();
	test_explicit_errors();
	test_cache();
	scratch_remove();
	return done_testing();
}
