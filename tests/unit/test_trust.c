/* Unit tests for trust.c: anchors from SSL_CERT_FILE, SSL_CERT_DIR,
 * --alternate-ca-path, --ca-cert and the system bundle, CA flags, and the
 * binary anchor cache (0600 file in a 0700 directory, hits, misses on
 * change, corrupt/truncated/symlinked/foreign-mode cache files refused).
 * Certificates are made with the openssl CLI in a mkdtemp directory. */
#include "log.h"
#include "trust.h"
#include "tap.h"
#include "scratch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>


/* Run a shell command in scratch_dir (output to its cmd.log); 1 on exit status 0. */
static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
	char cmd[2048];
	int n;
	va_list ap;
	n = snprintf(cmd, sizeof cmd, "cd '%s' && { ", scratch_dir);
	va_start(ap, fmt);
	n += vsnprintf(cmd + n, sizeof cmd - (size_t)n, fmt, ap);
	va_end(ap);
	snprintf(cmd + n, sizeof cmd - (size_t)n, "; } >>cmd.log 2>&1");
	int st = system(cmd);
	return st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;
	long n;
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf) {
		buf[n] = '\0';
		*len = (size_t)n;
	}
	return buf;
}

static int spit(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, mode);
	if (fd < 0)
		return -1;
	int ok_ = write(fd, data, len) == (ssize_t)len && fchmod(fd, mode) == 0;
	return close(fd) == 0 && ok_ ? 0 : -1;
}

static int load(struct trust_store *ts, const char *alt, const char *ca, int cache)
{
	struct trust_sources src = {alt, ca, cache};
	return trust_load(ts, &src);
}

/* Use a fresh cache root scratch_dir/NAME (XDG_CACHE_HOME). */
static void cache_root(const char *name)
{
	setenv("XDG_CACHE_HOME", scratch_at(name), 1);
}

/* The path of the only anchors-* file under $XDG_CACHE_HOME/pom-proxy,
 * or NULL when there is none or more than one. */
static const char *cache_file(void)
{
	static char path[1024];
	char dir[600];
	struct dirent *de;
	int found = 0;
	DIR *d;
	snprintf(dir, sizeof dir, "%s/pom-proxy", getenv("XDG_CACHE_HOME"));
	d = opendir(dir);
	if (!d)
		return NULL;
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, "anchors-", 8) == 0) {
			found++;
			snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		}
	closedir(d);
	return found == 1 ? path : NULL;
}

/* Anchors equal in order, flags, DN and key bytes. */
static int same_anchors(const struct trust_store *a, const struct trust_store *b)
{
	if (a->count != b->count)
		return 0;
	for (size_t i = 0; i < a->count; i++) {
		const br_x509_trust_anchor *x = &a->anchors[i], *y = &b->anchors[i];
		if (x->flags != y->flags || x->pkey.key_type != y->pkey.key_type ||
		    x->dn.len != y->dn.len || memcmp(x->dn.data, y->dn.data, x->dn.len) != 0)
			return 0;
		if (x->pkey.key_type == BR_KEYTYPE_RSA) {
			const br_rsa_public_key *p = &x->pkey.key.rsa, *q = &y->pkey.key.rsa;
			if (p->nlen != q->nlen || p->elen != q->elen ||
			    memcmp(p->n, q->n, p->nlen) != 0 || memcmp(p->e, q->e, p->elen) != 0)
				return 0;
		} else {
			const br_ec_public_key *p = &x->pkey.key.ec, *q = &y->pkey.key.ec;
			if (p->curve != q->curve || p->qlen != q->qlen || memcmp(p->q, q->q, p->qlen) != 0)
				return 0;
		}
	}
	return 1;
}

/* The anchor whose DN contains the text cn, or NULL. */
static const br_x509_trust_anchor *find(const struct trust_store *ts, const char *cn)
{
	for (size_t i = 0; i < ts->count; i++)
		if (memmem(ts->anchors[i].dn.data, ts->anchors[i].dn.len, cn, strlen(cn)))
			return &ts->anchors[i];
	return NULL;
}

/* stderr into scratch_dir/stderr while f runs; returns what was written. */
static int saved_stderr = -1;
static void capture_begin(void)
{
	int fd = open(scratch_at("stderr"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	fflush(stderr);
	saved_stderr = dup(2);
	dup2(fd, 2);
	close(fd);
}

static const char *capture_end(void)
{
	static char text[2048];
	size_t len = 0;
	unsigned char *s;
	dup2(saved_stderr, 2);
	close(saved_stderr);
	s = slurp(scratch_at("stderr"), &len);
	snprintf(text, sizeof text, "%s", s ? (char *)s : "");
	free(s);
	return text;
}

static int make_certs(void)
{
	const char *ec = "-newkey ec -pkeyopt ec_paramgen_curve:P-256";
	return run("openssl req -x509 -newkey rsa:2048 -nodes -keyout ca-rsa.key -out ca-rsa.pem "
		   "-subj '/CN=Test RSA CA' -days 30 -addext basicConstraints=critical,CA:TRUE") &&
	       run("openssl req -x509 %s -nodes -keyout ca-ec.key -out ca-ec.pem "
		   "-subj '/CN=Test EC CA' -days 30 -addext basicConstraints=critical,CA:TRUE", ec) &&
	       run("openssl req -x509 %s -nodes -keyout leaf-ec.key -out leaf-ec.pem "
		   "-subj '/CN=Test EC Leaf' -days 30 -addext basicConstraints=critical,CA:FALSE", ec) &&
	       run("openssl req -x509 -newkey rsa:2048 -nodes -keyout leaf-rsa.key -out leaf-rsa.pem "
		   "-subj '/CN=Test RSA Leaf' -days 30 -config /dev/null") &&
	       run("openssl req -x509 -newkey ed25519 -nodes -keyout ed.key -out ed.pem "
		   "-subj '/CN=Test Ed25519 CA' -days 30") &&
	       run("openssl req -x509 %s -nodes -keyout extra.key -out extra.pem "
		   "-subj '/CN=Test Extra CA' -days 30", ec) &&
	       run("openssl req -x509 %s -nodes -keyout other.key -out other.pem "
		   "-subj '/CN=Test Other CA' -days 30", ec) &&
	       /* bundle: CRLF, junk, a key, an undecodable Ed25519 cert */
	       run("{ echo 'junk before'; cat ca-rsa.pem; echo 'junk between'; "
		   "sed 's/$/\\r/' ca-ec.pem; cat leaf-ec.key ed.pem; "
		   "printf '%%s' \"$(cat leaf-ec.pem)\"; } >bundle.pem") &&
	       run("echo 'no certificate here' >junk.pem && : >empty.pem") &&
	       run("openssl base64 -A -in ca-ec.pem >ca-ec.b64 && openssl base64 -A -in junk.pem >junk.b64");
}

static void test_bundle_and_flags(void)
{
	struct trust_store ts;
	const br_x509_trust_anchor *a;

	setenv("SSL_CERT_FILE", scratch_at("bundle.pem"), 1);
	is_int(load(&ts, NULL, NULL, 0), 0, "bundle loads without the cache");
	is_int(ts.count, 3, "3 anchors: RSA CA, EC CA, EC leaf (Ed25519 skipped)");
	is_int(ts.from_cache, 0, "not from the cache");
	a = find(&ts, "Test RSA CA");
	ok(a && a->flags == BR_X509_TA_CA && a->pkey.key_type == BR_KEYTYPE_RSA &&
	   a->pkey.key.rsa.nlen == 256 && a->pkey.key.rsa.elen == 3, "RSA CA: CA flag, 2048-bit key");
	a = find(&ts, "Test EC CA");
	ok(a && a->flags == BR_X509_TA_CA && a->pkey.key_type == BR_KEYTYPE_EC &&
	   a->pkey.key.ec.curve == BR_EC_secp256r1 && a->pkey.key.ec.qlen == 65,
	   "EC CA (CRLF lines): CA flag, P-256 key");
	a = find(&ts, "Test EC Leaf");
	ok(a && a->flags == 0 && a->pkey.key_type == BR_KEYTYPE_EC,
	   "EC leaf (CA:FALSE, no final newline): no CA flag");
	ok(find(&ts, "Ed25519") == NULL, "Ed25519 certificate skipped");
	ok(a && (unsigned char *)a->dn.data >= (unsigned char *)ts.storage &&
	   (unsigned char *)a->dn.data + a->dn.len <= (unsigned char *)ts.storage + ts.storage_len,
	   "DN copied into the store's storage");
	trust_free(&ts);
	ok(ts.anchors == NULL && ts.count == 0 && ts.storage == NULL, "trust_free zeroes");
	trust_free(&ts);
	ok(1, "trust_free twice is harmless");
}

static void test_cache(void)
{
	struct trust_store ref, ts;
	struct stat st, dst;
	const char *cf;
	char dir[600];
	unsigned char *blob;
	size_t blen;
	struct timespec times[2] = {{0, UTIME_OMIT}, {1000000000, 123456789}};

	setenv("SSL_CERT_FILE", scratch_at("bundle.pem"), 1);
	cache_root("c1");
	load(&ref, NULL, NULL, 0);

	is_int(load(&ts, NULL, NULL, 1), 0, "cold load with the cache");
	ok(ts.from_cache == 0 && same_anchors(&ts, &ref), "cold: decoded, same anchors");
	trust_free(&ts);
	cf = cache_file();
	ok(cf != NULL, "one cache file written: %s", cf ? strrchr(cf, '/') + 1 : "none");
	if (!cf)
		return;
	ok(strlen(strrchr(cf, '/')) == strlen("/anchors-") + 16, "named anchors-<16 hex>");
	snprintf(dir, sizeof dir, "%s/pom-proxy", getenv("XDG_CACHE_HOME"));
	ok(lstat(cf, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0600,
	   "cache file is a regular file, mode 0600");
	ok(stat(dir, &dst) == 0 && (dst.st_mode & 07777) == 0700, "cache directory mode 0700");

	is_int(load(&ts, NULL, NULL, 1), 0, "warm load");
	ok(ts.from_cache == 1, "warm: from the cache");
	ok(same_anchors(&ts, &ref), "warm: identical anchors (flags, DN, key bytes)");
	ok((unsigned char *)ts.anchors[0].dn.data > (unsigned char *)ts.storage,
	   "warm: anchors point into the loaded blob");
	trust_free(&ts);

	/* Same size, different mtime: miss, then hit again. */
	ok(utimensat(AT_FDCWD, scratch_at("bundle.pem"), times, 0) == 0, "set the bundle's mtime");
	load(&ts, NULL, NULL, 1);
	ok(ts.from_cache == 0 && same_anchors(&ts, &ref), "changed mtime: miss, same anchors");
	trust_free(&ts);
	load(&ts, NULL, NULL, 1);
	ok(ts.from_cache == 1, "then a hit again");
	trust_free(&ts);

	/* Different size: a new certificate appears. */
	ok(run("cp bundle.pem bundle-saved.pem && { echo; cat extra.pem; } >>bundle.pem"), "append a CA to the bundle");
	load(&ts, NULL, NULL, 1);
	ok(ts.from_cache == 0 && ts.count == 4 && find(&ts, "Test Extra CA"), "changed size: miss, 4 anchors");
	trust_free(&ts);
	load(&ts, NULL, NULL, 1);
	ok(ts.from_cache == 1 && ts.count == 4, "then a hit with 4");
	trust_free(&ts);

	/* Replaced by another file (new inode) with the old content. */
	ok(run("cp bundle-saved.pem bundle.new && mv bundle.new bundle.pem"), "replace the bundle");
	load(&ts, NULL, NULL, 1);
	ok(ts.from_cache == 0 && same_anchors(&ts, &ref), "replaced: miss, original anchors");
	trust_free(&ts);
	ok(cache_file() != NULL, "still one cache file for this source list");

	/* Corrupt caches: every truncation, bad magic, version, count, a
	 * trailing byte. Each must be a miss that rewrites a good cache. */
	blob = slurp(cf, &blen);
	if (!ok(blob != NULL && blen > 48, "read the cache file (%zu bytes)", blen))
		return;
	{
		int bad = 0, crashed_or_hit = 0;
		for (size_t l = 0; l < blen; l++) {
			if (spit(cf, blob, l, 0600) < 0) {
				bad++;
				continue;
			}
			if (load(&ts, NULL, NULL, 1) != 0 || !same_anchors(&ts, &ref))
				bad++;
			if (ts.from_cache)
				crashed_or_hit++;
			trust_free(&ts);
		}
		is_int(bad, 0, "each of %zu truncations: correct anchors", blen);
		is_int(crashed_or_hit, 0, "each truncation: a miss");
	}
	{
		static const size_t offs[] = {0, 8, 11, 12, 43, 44, 47, 48, 49};
		unsigned char *c = malloc(blen + 1);
		int bad = 0;
		for (size_t i = 0; c && i < sizeof offs / sizeof offs[0]; i++) {
			memcpy(c, blob, blen);
			c[offs[i]] ^= 0x80;
			spit(cf, c, blen, 0600);
			if (load(&ts, NULL, NULL, 1) != 0 || ts.from_cache || !same_anchors(&ts, &ref))
				bad++;
			trust_free(&ts);
		}
		if (c) {
			memcpy(c, blob, blen);
			c[blen] = 0;
			spit(cf, c, blen + 1, 0600);
			if (load(&ts, NULL, NULL, 1) != 0 || ts.from_cache || !same_anchors(&ts, &ref))
				bad++;
			trust_free(&ts);
		}
		is_int(bad, 0, "flipped magic/version/digest/count/type byte, trailing byte: misses");
		free(c);
	}
	{
		size_t l2;
		unsigned char *again = slurp(cf, &l2);
		ok(again && l2 == blen && memcmp(again, blob, blen) == 0, "cache rewritten to the good content");
		free(again);
	}
	load(&ts, NULL, NULL, 1);
	ok(ts.from_cache == 1, "and it hits");
	trust_free(&ts);

	/* A symlink in place of the cache file is refused, then replaced. */
	spit(scratch_at("good-cache"), blob, blen, 0600);
	ok(unlink(cf) == 0 && symlink(scratch_at("good-cache"), cf) == 0, "cache file replaced by a symlink");
	load(&ts, NULL, NULL, 1);
	ok(ts.from_cache == 0 && same_anchors(&ts, &ref), "symlinked cache refused (miss)");
	trust_free(&ts);
	ok(lstat(cf, &st) == 0 && S_ISREG(st.st_mode), "symlink replaced by a regular file");

	/* Group/other permission bits: refused. */
	ok(chmod(cf, 0644) == 0, "chmod 0644 the cache file");
	load(&ts, NULL, NULL, 1);
	ok(ts.from_cache == 0, "0644 cache refused (miss)");
	trust_free(&ts);
	ok(lstat(cf, &st) == 0 && (st.st_mode & 07777) == 0600, "rewritten 0600");

	/* use_cache == 0 neither reads nor writes. */
	ok(unlink(cf) == 0, "remove the cache file");
	load(&ts, NULL, NULL, 0);
	ok(ts.count == 3 && cache_file() == NULL, "use_cache 0: no cache file written");
	trust_free(&ts);

	/* Unusable cache directories: loads anyway. */
	cache_root("c-open");
	ok(mkdir(scratch_at("c-open"), 0700) == 0 && mkdir(scratch_at("c-open/pom-proxy"), 0755) == 0,
	   "cache directory with mode 0755");
	ok(load(&ts, NULL, NULL, 1) == 0 && ts.count == 3 && !ts.from_cache && cache_file() == NULL,
	   "non-private cache directory: loads, writes no cache");
	trust_free(&ts);
	setenv("XDG_CACHE_HOME", "/proc", 1);
	ok(load(&ts, NULL, NULL, 1) == 0 && ts.count == 3 && !ts.from_cache,
	   "cache directory that cannot be created (/proc/pom-proxy): loads");
	trust_free(&ts);
	unsetenv("XDG_CACHE_HOME");
	{
		char *home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
		unsetenv("HOME");
		ok(load(&ts, NULL, NULL, 1) == 0 && ts.count == 3, "no HOME, no XDG_CACHE_HOME: loads");
		trust_free(&ts);
		if (home)
			setenv("HOME", home, 1);
		free(home);
	}
	trust_free(&ref);
	free(blob);
}

static void test_options(void)
{
	struct trust_store ts, ts2;
	size_t len;
	char *ca_b64, *junk_b64;
	const char *err;

	setenv("SSL_CERT_FILE", scratch_at("bundle-saved.pem"), 1);
	cache_root("c2");
	is_int(load(&ts, scratch_at("ca-ec.pem"), NULL, 1), 0, "--alternate-ca-path repeating a bundle CA");
	ok(ts.count == 3, "duplicate anchor dropped: 3 (got %zu)", ts.count);
	trust_free(&ts);
	is_int(load(&ts, scratch_at("leaf-rsa.pem"), NULL, 1), 0, "--alternate-ca-path adds to the bundle");
	ok(ts.count == 4 && find(&ts, "Test RSA Leaf") && find(&ts, "Test RSA Leaf")->flags == 0,
	   "4 anchors; the leaf without basicConstraints is not a CA");
	trust_free(&ts);
	load(&ts, scratch_at("leaf-rsa.pem"), NULL, 1);
	ok(ts.from_cache == 1 && ts.count == 4, "hit with --alternate-ca-path");
	trust_free(&ts);
	ok(run("cat extra.pem >>leaf-rsa.pem"), "change the --alternate-ca-path file");
	load(&ts, scratch_at("leaf-rsa.pem"), NULL, 1);
	ok(ts.from_cache == 0 && ts.count == 5, "its change misses: 5 anchors");
	trust_free(&ts);

	capture_begin();
	is_int(load(&ts, scratch_at("missing.pem"), NULL, 1), -1, "missing --alternate-ca-path: -1");
	err = capture_end();
	ok(strstr(err, "missing.pem") && strstr(err, "--alternate-ca-path") &&
	   strstr(err, "No such file"), "error names the file and the option: %.*s",
	   (int)strcspn(err, "\n"), err);
	ok(ts.count == 0 && ts.anchors == NULL, "nothing loaded on error");

	capture_begin();
	is_int(load(&ts, scratch_at("junk.pem"), NULL, 0), -1, "--alternate-ca-path without a certificate: -1");
	err = capture_end();
	ok(strstr(err, "junk.pem") && strstr(err, "no certificate"), "error says so: %.*s",
	   (int)strcspn(err, "\n"), err);
	capture_begin();
	is_int(load(&ts, scratch_at("ed.pem"), NULL, 0), -1, "--alternate-ca-path with only an Ed25519 certificate: -1");
	capture_end();
	capture_begin();
	is_int(load(&ts, scratch_dir, NULL, 0), -1, "--alternate-ca-path naming a directory: -1");
	err = capture_end();
	ok(strstr(err, "not a regular file") != NULL, "error: %.*s", (int)strcspn(err, "\n"), err);

	/* --ca-cert */
	ca_b64 = (char *)slurp(scratch_at("ca-ec.b64"), &len);
	junk_b64 = (char *)slurp(scratch_at("junk.b64"), &len);
	if (!ok(ca_b64 && junk_b64, "base64 texts made by openssl"))
		return;
	ca_b64[strcspn(ca_b64, "\n")] = '\0';
	junk_b64[strcspn(junk_b64, "\n")] = '\0';
	setenv("SSL_CERT_FILE", scratch_at("leaf-rsa.pem"), 1);
	is_int(load(&ts, NULL, ca_b64, 1), 0, "--ca-cert loads");
	ok(ts.count == 3 && find(&ts, "Test EC CA") && find(&ts, "Test EC CA")->flags == BR_X509_TA_CA,
	   "--ca-cert's CA added to SSL_CERT_FILE's two");
	ok(!ts.from_cache, "cold");
	load(&ts2, NULL, ca_b64, 1);
	ok(ts2.from_cache && same_anchors(&ts, &ts2), "--ca-cert warm: identical");
	trust_free(&ts);
	trust_free(&ts2);
	load(&ts, NULL, NULL, 1);
	ok(!ts.from_cache && ts.count == 2, "without --ca-cert: another cache entry, 2 anchors");
	trust_free(&ts);
	load(&ts, NULL, ca_b64, 1);
	ok(ts.from_cache && ts.count == 3, "the --ca-cert entry is still there");
	trust_free(&ts);

	capture_begin();
	is_int(load(&ts, NULL, "not base64!", 1), -1, "--ca-cert not base64: -1");
	err = capture_end();
	ok(strstr(err, "--ca-cert") && strstr(err, "base64"), "error: %.*s", (int)strcspn(err, "\n"), err);
	capture_begin();
	is_int(load(&ts, NULL, junk_b64, 1), -1, "--ca-cert without a certificate: -1");
	err = capture_end();
	ok(strstr(err, "--ca-cert") && strstr(err, "no certificate"), "error: %.*s",
	   (int)strcspn(err, "\n"), err);
	free(ca_b64);
	free(junk_b64);

	/* SSL_CERT_FILE itself */
	capture_begin();
	setenv("SSL_CERT_FILE", scratch_at("missing.pem"), 1);
	is_int(load(&ts, NULL, NULL, 1), -1, "missing SSL_CERT_FILE: -1");
	err = capture_end();
	ok(strstr(err, "missing.pem") && strstr(err, "SSL_CERT_FILE"), "error: %.*s",
	   (int)strcspn(err, "\n"), err);
	capture_begin();
	setenv("SSL_CERT_FILE", scratch_at("empty.pem"), 1);
	is_int(load(&ts, NULL, NULL, 1), -1, "empty SSL_CERT_FILE: -1");
	err = capture_end();
	ok(strstr(err, "empty.pem") && strstr(err, "no certificate"), "error: %.*s",
	   (int)strcspn(err, "\n"), err);
	capture_begin();
	is_int(load(&ts, scratch_at("ca-ec.pem"), NULL, 1), -1,
	       "empty SSL_CERT_FILE is an error even with --alternate-ca-path");
	capture_end();
	unsetenv("SSL_CERT_FILE");
}

static void test_dir(void)
{
	struct trust_store ts;
	char env[1024];
	const char *err;

	unsetenv("SSL_CERT_FILE");
	cache_root("c3");
	ok(run("mkdir hashed empty-dir && cp ca-rsa.pem hashed/0123abcd.0 && "
	       "ln -s 0123abcd.0 hashed/0123abcd.1 && ln hashed/0123abcd.0 hashed/89abcdef.0 && "
	       "cp ca-ec.pem hashed/deadbeef.0 && cp extra.pem hashed/extra.pem && "
	       "cp leaf-ec.pem hashed/DEADBEEF.0 && cp leaf-ec.pem hashed/deadbeef.0.bak && "
	       "ln -s nowhere hashed/cafebabe.0 && mkdir hashed/feedface.0"),
	   "hashed directory: 2 certificates under 4 names, other names, a dangling link, a directory");
	snprintf(env, sizeof env, "%s:%s::%s", scratch_at("hashed"), scratch_at("no-such-dir"), scratch_at("empty-dir"));
	setenv("SSL_CERT_DIR", env, 1);
	is_int(load(&ts, NULL, NULL, 1), 0, "SSL_CERT_DIR list loads");
	ok(ts.count == 2 && find(&ts, "Test RSA CA") && find(&ts, "Test EC CA"),
	   "2 anchors: hashed names only, one per inode (got %zu)", ts.count);
	ok(!ts.from_cache, "cold");
	trust_free(&ts);
	load(&ts, NULL, NULL, 1);
	ok(ts.from_cache && ts.count == 2, "warm: hit");
	trust_free(&ts);

	ok(run("cp extra.pem empty-dir/00000000.0"), "new file in the second directory");
	load(&ts, NULL, NULL, 1);
	ok(!ts.from_cache && ts.count == 3, "miss: 3 anchors");
	trust_free(&ts);
	load(&ts, NULL, NULL, 1);
	ok(ts.from_cache && ts.count == 3, "hit again");
	trust_free(&ts);
	ok(run("cat leaf-ec.pem >>hashed/deadbeef.0 && touch -d '2001-01-01' hashed/deadbeef.0"),
	   "an entry changes (mtime set back)");
	load(&ts, NULL, NULL, 1);
	ok(!ts.from_cache && ts.count == 4, "miss: 4 anchors");
	trust_free(&ts);
	ok(run("cp ca-rsa.pem ca-copy.pem && ln -sf ../ca-copy.pem hashed/0123abcd.1"),
	   "a symlink is retargeted to a copy of a certificate already there");
	load(&ts, NULL, NULL, 1);
	ok(!ts.from_cache && ts.count == 4, "miss, duplicate anchor dropped: 4 (got %zu)", ts.count);
	trust_free(&ts);
	ok(run("ln -sf ../other.pem hashed/0123abcd.1"), "retargeted to another certificate");
	load(&ts, NULL, NULL, 1);
	ok(!ts.from_cache && ts.count == 5 && find(&ts, "Test Other CA"),
	   "miss: 5 anchors (got %zu)", ts.count);
	trust_free(&ts);

	setenv("SSL_CERT_FILE", scratch_at("leaf-rsa.pem"), 1);
	load(&ts, NULL, NULL, 0);
	ok(ts.count == 6, "SSL_CERT_FILE (RSA leaf, Extra CA) and SSL_CERT_DIR together: "
	   "Extra CA once, 6 (got %zu)", ts.count);
	trust_free(&ts);
	unsetenv("SSL_CERT_FILE");

	/* No anchor at all: one line naming the places and the remedies. */
	snprintf(env, sizeof env, "%s:%s", scratch_at("no-such-dir"), scratch_at("hashed/feedface.0"));
	setenv("SSL_CERT_DIR", env, 1);
	capture_begin();
	is_int(load(&ts, NULL, NULL, 1), -1, "no anchor at all: -1");
	err = capture_end();
	ok(strstr(err, "no-such-dir") && strstr(err, "feedface.0") &&
	   strstr(err, "--alternate-ca-path FILE") && strstr(err, "SSL_CERT_FILE") &&
	   strchr(err, '\n') == err + strlen(err) - 1,
	   "one line naming the places and the remedies: %.*s", (int)strcspn(err, "\n"), err);
	is_int(load(&ts, scratch_at("ca-ec.pem"), NULL, 1), 0, "--alternate-ca-path alone suffices");
	is_int(ts.count, 1, "1 anchor");
	trust_free(&ts);
	unsetenv("SSL_CERT_DIR");
}

static void test_system(void)
{
	struct trust_store cold, warm, ref;
	unsetenv("SSL_CERT_FILE");
	unsetenv("SSL_CERT_DIR");
	cache_root("c4");
	is_int(load(&ref, NULL, NULL, 0), 0, "system store loads");
	ok(ref.count > 100, "system store: %zu anchors", ref.count);
	is_int(load(&cold, NULL, NULL, 1), 0, "system store, cold");
	is_int(load(&warm, NULL, NULL, 1), 0, "system store, warm");
	ok(!cold.from_cache && warm.from_cache, "cold decoded, warm from the cache");
	ok(same_anchors(&ref, &cold) && same_anchors(&ref, &warm), "identical anchors");
	{
		size_t ca = 0;
		for (size_t i = 0; i < warm.count; i++)
			ca += warm.anchors[i].flags == BR_X509_TA_CA;
		ok(ca > 100, "%zu of them are CAs", ca);
	}
	trust_free(&cold);
	trust_free(&warm);
	setenv("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt", 1);
	setenv("SSL_CERT_DIR", "/etc/ssl/certs", 1);
	is_int(load(&cold, NULL, NULL, 1), 0, "SSL_CERT_FILE and SSL_CERT_DIR naming the system store");
	is_int(load(&warm, NULL, NULL, 1), 0, "again");
	ok(!cold.from_cache && warm.from_cache && same_anchors(&cold, &warm) && cold.count == ref.count,
	   "each certificate once: %zu anchors, cold and warm identical", cold.count);
	unsetenv("SSL_CERT_FILE");
	unsetenv("SSL_CERT_DIR");
	trust_free(&ref);
	trust_free(&cold);
	trust_free(&warm);
}

int main(void)
{
	alarm(300); /* this test's own bound */
	if (scratch_make("test_trust") != 0) {
		ok(0, "mkdtemp: %s", strerror(errno));
		return done_testing();
	}
	unsetenv("SSL_CERT_FILE");
	unsetenv("SSL_CERT_DIR");
	if (!ok(make_certs(), "certificates made with the openssl CLI in %s", scratch_dir)) {
		size_t n;
		unsigned char *log = slurp(scratch_at("cmd.log"), &n);
		fprintf(stderr, "# openssl said:\n%s\n", log ? (char *)log : "(nothing)");
		free(log);
		scratch_remove();
		return done_testing();
	}
	test_bundle_and_flags();
	test_cache();
	test_options();
	test_dir();
	test_system();
	scratch_remove();
	return done_testing();
}
