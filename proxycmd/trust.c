#include "trust.h"
#include "bigendian.h"

#include "log.h"
#include "pem.h"
#include "base64.h"
#include "privfile.h"
#include "readfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Bounds on everything read. */
#define MAX_SOURCE_FILE  (16u << 20) /* one PEM file */
#define MAX_DER          65536u      /* one certificate */
#define MAX_DN           4096u       /* one subject DN */
#define MAX_CACHE        (32u << 20) /* the cache file */
#define MAX_DIR_ENTRIES  100000u     /* accepted names in one directory */
#define MAX_CA_CERT_ARG  (1u << 20)  /* --ca-cert text */

/* Cache file layout, all integers big-endian:
 *   header: "POMTRUST" | u32 version | 32-byte key digest | u32 count
 *   count entries: u8 flags (bit 0: CA) | u8 key type (1 RSA, 2 EC) |
 *     u16 dn_len | dn |
 *     RSA: u16 n_len | n | u16 e_len | e
 *     EC:  u8 curve | u16 q_len | q
 * and nothing after the last entry. */
#define CACHE_MAGIC      "POMTRUST"
#define CACHE_VERSION    1u
#define CACHE_HDR        (8 + 4 + 32 + 4)
#define CACHE_MIN_ENTRY  (1 + 1 + 2 + 1 + 2 + 1) /* empty DN, 1-byte EC point */
#define CACHE_MAX_CURVE  BR_EC_curve448

static const char *const system_bundles[] = {
	"/etc/ssl/certs/ca-certificates.crt",                /* Debian, Ubuntu, Arch, Gentoo */
	"/etc/pki/tls/certs/ca-bundle.crt",                  /* Fedora, RHEL 6 */
	"/etc/ssl/ca-bundle.pem",                            /* openSUSE */
	"/etc/pki/tls/cacert.pem",                           /* OpenELEC */
	"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", /* CentOS, RHEL 7 */
	"/etc/ssl/cert.pem",                                 /* Alpine, BSDs, macOS */
};
static const char system_dir[] = "/etc/ssl/certs";

/* One place anchors come from. */
struct source {
	const char *path;
	int is_dir;
	const char *named_by; /* "SSL_CERT_FILE" or "--alternate-ca-path": it
				 must be readable and yield a certificate */
};

struct sources {
	struct source *v;
	size_t n;
	char *dirs;           /* copy of SSL_CERT_DIR, split at ':' */
	char searched[768];   /* the system places looked at, for the error */
};

/* Growable output buffer; failed is set once a bound or malloc fails. */
struct out {
	unsigned char *p;
	size_t len, cap;
	int failed;
};

/* One entry of the blob in the duplicate table; len 0 marks a free slot. */
struct slot {
	uint64_t hash;
	size_t off, len;
};

/* State of one pass over the sources. With decode == 0 a pass only
 * computes the key (the identity of every source); with decode != 0 it
 * also decodes every certificate into blob. Both passes feed the key the
 * same way, so a probe's key equals the key of a decode pass that read
 * the same files. */
struct loader {
	int decode;
	br_sha256_context key;
	struct out blob;
	size_t count;                   /* entries in blob */
	struct slot *seen;              /* open addressing, seen_cap a power of 2 */
	size_t seen_cap, dups;
	unsigned char der[MAX_DER];
	br_x509_decoder_context dc;
	unsigned char dn[MAX_DN];
	size_t dn_len;
	int dn_over;
};

struct dent {
	char name[20];        /* 8 hex digits, '.', up to 9 digits */
	struct stat st;
};

/* Append n bytes, growing the buffer up to MAX_CACHE. */
static void out_put(struct out *o, const void *data, size_t n)
{
	if (o->failed)
		return;
	if (n > MAX_CACHE - o->len) {
		o->failed = 1;
		return;
	}
	if (o->len + n > o->cap) {
		size_t cap = o->cap ? o->cap : 65536;
		while (cap < o->len + n)
			cap *= 2;
		if (cap > MAX_CACHE)
			cap = MAX_CACHE;
		unsigned char *p = realloc(o->p, cap);
		if (!p) {
			o->failed = 1;
			return;
		}
		o->p = p;
		o->cap = cap;
	}
	memcpy(o->p + o->len, data, n);
	o->len += n;
}

/* Append one byte. */
static void out_u8(struct out *o, unsigned v)
{
	unsigned char b = (unsigned char)v;
	out_put(o, &b, 1);
}

/* u16 length then the bytes; a length over 65535 fails the buffer. */
static void out_bytes16(struct out *o, const void *data, size_t n)
{
	unsigned char b[2];
	if (n > 0xffff) {
		o->failed = 1;
		return;
	}
	be_put(b, n, 2);
	out_put(o, b, 2);
	out_put(o, data, n);
}

/* Hash v as 8 big-endian bytes. */
static void key_u64(br_sha256_context *h, uint64_t v)
{
	unsigned char b[8];
	be_put(b, v, 8);
	br_sha256_update(h, b, 8);
}

/* Hash a string with its length, so that concatenations differ. */
static void key_str(br_sha256_context *h, const char *s)
{
	size_t n = strlen(s);
	key_u64(h, n);
	br_sha256_update(h, s, n);
}

/* Identity of one file or directory: tag, name, and (when st is not
 * NULL) device, inode, size, mtime and ctime to the nanosecond. ctime
 * catches a rewrite whose mtime was set back. */
static void key_stat(br_sha256_context *h, const char *tag, const char *name,
		     const struct stat *st)
{
	key_str(h, tag);
	key_str(h, name);
	key_u64(h, st != NULL);
	if (!st)
		return;
	key_u64(h, (uint64_t)st->st_dev);
	key_u64(h, (uint64_t)st->st_ino);
	key_u64(h, (uint64_t)st->st_size);
	key_u64(h, (uint64_t)st->st_mtim.tv_sec);
	key_u64(h, (uint64_t)st->st_mtim.tv_nsec);
	key_u64(h, (uint64_t)st->st_ctim.tv_sec);
	key_u64(h, (uint64_t)st->st_ctim.tv_nsec);
}

/* br_x509_decoder's DN receiver: copy up to MAX_DN bytes, then flag. */
static void dn_append(void *ctx, const void *buf, size_t len)
{
	struct loader *l = ctx;
	if (len > MAX_DN - l->dn_len) {
		l->dn_over = 1;
		return;
	}
	memcpy(l->dn + l->dn_len, buf, len);
	l->dn_len += len;
}

/* FNV-1a, 64 bits: spreads entries over the duplicate table. */
static uint64_t fnv1a(const unsigned char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325u;
	while (n--)
		h = (h ^ *p++) * 0x100000001b3u;
	return h;
}

/* Record the entry blob[off..off+len) in the duplicate table. Returns 1
 * when an identical entry (flags, DN and key) is already in the blob, 0
 * otherwise (the entry is now recorded; or the table could not grow, and
 * the entry is kept: a duplicate anchor is only redundant). */
static int seen_before(struct loader *l, size_t off, size_t len)
{
	const unsigned char *e = l->blob.p + off;
	uint64_t h = fnv1a(e, len);
	size_t i;

	if ((l->count + 1) * 2 > l->seen_cap) {
		size_t cap = l->seen_cap ? l->seen_cap * 2 : 512;
		struct slot *t = calloc(cap, sizeof *t);
		if (!t)
			return 0;
		for (size_t j = 0; j < l->seen_cap; j++) {
			if (!l->seen[j].len)
				continue;
			for (i = l->seen[j].hash & (cap - 1); t[i].len; i = (i + 1) & (cap - 1))
				;
			t[i] = l->seen[j];
		}
		free(l->seen);
		l->seen = t;
		l->seen_cap = cap;
	}
	for (i = h & (l->seen_cap - 1); l->seen[i].len; i = (i + 1) & (l->seen_cap - 1))
		if (l->seen[i].hash == h && l->seen[i].len == len &&
		    memcmp(l->blob.p + l->seen[i].off, e, len) == 0)
			return 1;
	l->seen[i] = (struct slot){h, off, len};
	return 0;
}

/* Decode one DER certificate and append it to the blob unless the same
 * anchor is already there (SSL_CERT_FILE and SSL_CERT_DIR often hold the
 * same certificates, and x509_minimal hashes every anchor's DN in each
 * handshake). Returns 1 for a usable certificate (added or duplicate), 0
 * when BearSSL cannot use it. */
static int add_der(struct loader *l, const unsigned char *der, size_t len, const char *where)
{
	const br_x509_pkey *pk;
	size_t start = l->blob.len;

	l->dn_len = 0;
	l->dn_over = 0;
	br_x509_decoder_init(&l->dc, dn_append, l);
	br_x509_decoder_push(&l->dc, der, len);
	pk = br_x509_decoder_get_pkey(&l->dc);
	if (!pk || l->dn_over) {
		log_debug(2, "trust: %s: skipping a certificate BearSSL cannot decode (error %d)",
			  where, l->dn_over ? 0 : br_x509_decoder_last_error(&l->dc));
		return 0;
	}
	out_u8(&l->blob, br_x509_decoder_isCA(&l->dc) ? 1 : 0);
	out_u8(&l->blob, pk->key_type);
	out_bytes16(&l->blob, l->dn, l->dn_len);
	if (pk->key_type == BR_KEYTYPE_RSA) {
		out_bytes16(&l->blob, pk->key.rsa.n, pk->key.rsa.nlen);
		out_bytes16(&l->blob, pk->key.rsa.e, pk->key.rsa.elen);
	} else {
		out_u8(&l->blob, (unsigned)pk->key.ec.curve);
		out_bytes16(&l->blob, pk->key.ec.q, pk->key.ec.qlen);
	}
	if (l->blob.failed)
		return 1;
	if (seen_before(l, start, l->blob.len - start)) {
		l->blob.len = start;
		l->dups++;
		return 1;
	}
	l->count++;
	return 1;
}

/* Append every certificate of a PEM text; returns how many BearSSL could
 * use (duplicates included). Malformed objects and other labels are
 * skipped. */
static size_t add_pem(struct loader *l, const char *text, size_t len, const char *where)
{
	struct pem_object obj;
	size_t pos = 0, added = 0;
	int r;

	while ((r = pem_next(text, len, &pos, &obj, l->der, sizeof l->der)) != 0) {
		if (r < 0)
			log_debug(2, "trust: %s: skipping a malformed PEM object", where);
		else if (strcmp(obj.label, "CERTIFICATE") == 0 ||
			 strcmp(obj.label, "X509 CERTIFICATE") == 0)
			added += (size_t)add_der(l, obj.der, obj.der_len, where);
	}
	return added;
}

/* Read the regular file name (relative to dirfd) whole, at most
 * MAX_SOURCE_FILE bytes, into a malloc'd buffer; its identity in *st.
 * Returns NULL with errno (EINVAL: not a regular file). */
static char *read_file(int dirfd, const char *name, struct stat *st, size_t *len)
{
	return readfile_alloc(dirfd, name, 0, MAX_SOURCE_FILE, st, len);
}

/* A file source. Returns the certificates added (0 in a key-only pass),
 * or -1 with errno when it cannot be read. */
static long do_file(struct loader *l, const struct source *s)
{
	struct stat st;
	size_t len;
	char *text;
	long n;

	if (!l->decode) {
		int e = stat(s->path, &st) < 0 ? errno : S_ISREG(st.st_mode) ? 0 : EINVAL;
		if (e) {
			key_stat(&l->key, "file", s->path, NULL);
			errno = e;
			return -1;
		}
		key_stat(&l->key, "file", s->path, &st);
		return 0;
	}
	text = read_file(AT_FDCWD, s->path, &st, &len);
	if (!text) {
		int e = errno;
		key_stat(&l->key, "file", s->path, NULL);
		errno = e;
		return -1;
	}
	key_stat(&l->key, "file", s->path, &st);
	n = (long)add_pem(l, text, len, s->path);
	free(text);
	return n;
}

int trust_hashed_name(const char *n)
{
	size_t i;
	for (i = 0; i < 8; i++)
		if (!((n[i] >= '0' && n[i] <= '9') || (n[i] >= 'a' && n[i] <= 'f')))
			return 0;
	if (n[i++] != '.')
		return 0;
	for (size_t d = 0; d < 10; d++, i++) {
		if (n[i] == '\0')
			return d > 0;
		if (n[i] < '0' || n[i] > '9')
			return 0;
	}
	return 0;
}

/* Order by device, inode, then name, so one inode's names are adjacent. */
static int dent_cmp(const void *a, const void *b)
{
	const struct dent *x = a, *y = b;
	if (x->st.st_dev != y->st.st_dev)
		return x->st.st_dev < y->st.st_dev ? -1 : 1;
	if (x->st.st_ino != y->st.st_ino)
		return x->st.st_ino < y->st.st_ino ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* A hashed directory: every regular file (symlinks followed) with a
 * hashed name, once per inode, in (device, inode, name) order. Returns
 * the certificates added (0 in a key-only pass), or -1 with errno. */
static long do_dir(struct loader *l, const struct source *s)
{
	DIR *d = opendir(s->path);
	struct dent *v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	struct stat st;
	long added = 0;
	int fd;

	if (!d || fstat(dirfd(d), &st) < 0) {
		int e = errno;
		if (d)
			closedir(d);
		key_stat(&l->key, "dir", s->path, NULL);
		errno = e;
		return -1;
	}
	fd = dirfd(d);
	key_stat(&l->key, "dir", s->path, &st);
	while ((de = readdir(d)) != NULL) {
		if (!trust_hashed_name(de->d_name) || fstatat(fd, de->d_name, &st, 0) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (n == cap) {
			struct dent *nv;
			if (cap >= MAX_DIR_ENTRIES)
				break;
			cap = cap ? cap * 2 : 256;
			nv = realloc(v, cap * sizeof *v);
			if (!nv) {
				l->blob.failed = 1;
				break;
			}
			v = nv;
		}
		memcpy(v[n].name, de->d_name, strlen(de->d_name) + 1); /* <= 19: trust_hashed_name */
		v[n++].st = st;
	}
	if (n)
		qsort(v, n, sizeof *v, dent_cmp);
	for (size_t i = 0; i < n; i++) {
		char *text;
		size_t len;
		if (i > 0 && v[i].st.st_dev == v[i - 1].st.st_dev && v[i].st.st_ino == v[i - 1].st.st_ino)
			continue;
		if (!l->decode) {
			key_stat(&l->key, "entry", v[i].name, &v[i].st);
			continue;
		}
		text = read_file(fd, v[i].name, &st, &len);
		key_stat(&l->key, "entry", v[i].name, text ? &st : &v[i].st);
		if (!text) {
			log_debug(2, "trust: cannot read %s/%s: %s", s->path, v[i].name, strerror(errno));
			continue;
		}
		added += (long)add_pem(l, text, len, v[i].name);
		free(text);
	}
	free(v);
	closedir(d);
	return added;
}

/* errno in words; EINVAL is read_file's "not a regular file". */
static const char *why(int e)
{
	return e == EINVAL ? "not a regular file" : strerror(e);
}

/* The --ca-cert text: base64 of a PEM text. Returns the certificates
 * added (0 in a key-only pass), or -1 after log_error. */
static long do_ca_cert(struct loader *l, const char *b64)
{
	size_t len = strlen(b64);
	unsigned char *text;
	long n;

	key_str(&l->key, "ca-cert");
	key_str(&l->key, b64);
	if (!l->decode)
		return 0;
	if (len > MAX_CA_CERT_ARG) {
		log_error("--ca-cert: longer than %u bytes", MAX_CA_CERT_ARG);
		return -1;
	}
	text = malloc(len / 4 * 3 + 3);
	if (!text) {
		log_error("--ca-cert: out of memory");
		return -1;
	}
	n = base64_decode(BASE64_PEM, b64, len, text, len / 4 * 3 + 3);
	if (n < 0) {
		log_error("--ca-cert: not valid base64 (expected the base64 encoding of a PEM text)");
		free(text);
		return -1;
	}
	n = (long)add_pem(l, (const char *)text, (size_t)n, "--ca-cert");
	free(text);
	if (n == 0)
		log_error("--ca-cert: holds no certificate BearSSL can use");
	return n ? n : -1;
}

/* One pass over every source. Returns 0, or -1 after log_error when a
 * named source cannot be read (or, decoding, yields no certificate). */
static int walk(struct loader *l, const struct sources *ss, const char *ca_b64)
{
	key_str(&l->key, CACHE_MAGIC);
	for (size_t i = 0; i < ss->n; i++) {
		const struct source *s = &ss->v[i];
		long n = s->is_dir ? do_dir(l, s) : do_file(l, s);
		if (n < 0 && s->named_by) {
			log_error("cannot read %s (%s): %s", s->path, s->named_by, why(errno));
			return -1;
		}
		if (n < 0)
			log_debug(1, "trust: cannot read %s: %s", s->path, why(errno));
		else if (l->decode && n == 0 && s->named_by) {
			log_error("%s (%s) holds no certificate BearSSL can use", s->path, s->named_by);
			return -1;
		} else if (l->decode)
			log_debug(2, "trust: %ld certificates from %s", n, s->path);
	}
	if (ca_b64 && do_ca_cert(l, ca_b64) < 0)
		return -1;
	if (l->blob.failed) {
		log_error("trust store: out of memory or larger than %u bytes", MAX_CACHE);
		return -1;
	}
	return 0;
}

/* Append a place to the list printed when no anchor loads. */
static void searched_add(struct sources *ss, const char *path)
{
	size_t n = strlen(ss->searched);
	snprintf(ss->searched + n, sizeof ss->searched - n, "%s%s", n ? ", " : "", path);
}

/* Decide the sources: environment or system defaults, then the options.
 * Returns 0, or -1 when out of memory. */
static int resolve(struct sources *ss, const struct trust_sources *src)
{
	const char *file = getenv("SSL_CERT_FILE");
	const char *dirs = getenv("SSL_CERT_DIR");
	size_t cap = 2;
	struct stat st;

	memset(ss, 0, sizeof *ss);
	if (file && !*file)
		file = NULL;
	if (dirs && !*dirs)
		dirs = NULL;
	if (dirs) {
		for (const char *p = dirs; *p; p++)
			cap += *p == ':';
		cap++;
		ss->dirs = strdup(dirs);
		if (!ss->dirs)
			return -1;
	}
	ss->v = calloc(cap, sizeof *ss->v);
	if (!ss->v) {
		free(ss->dirs);
		return -1;
	}
	if (file || dirs) {
		if (file) {
			ss->v[ss->n++] = (struct source){file, 0, "SSL_CERT_FILE"};
			searched_add(ss, file);
		}
		for (char *p = ss->dirs, *next; p; p = next) {
			next = strchr(p, ':');
			if (next)
				*next++ = '\0';
			if (!*p)
				continue;
			ss->v[ss->n++] = (struct source){p, 1, NULL};
			searched_add(ss, p);
		}
	} else {
		for (size_t i = 0; i < sizeof system_bundles / sizeof system_bundles[0]; i++) {
			searched_add(ss, system_bundles[i]);
			if (stat(system_bundles[i], &st) == 0 && S_ISREG(st.st_mode)) {
				ss->v[ss->n++] = (struct source){system_bundles[i], 0, NULL};
				break;
			}
		}
		if (ss->n == 0) {
			ss->v[ss->n++] = (struct source){system_dir, 1, NULL};
			searched_add(ss, system_dir);
		}
	}
	if (src->alternate_ca_path)
		ss->v[ss->n++] = (struct source){src->alternate_ca_path, 0, "--alternate-ca-path"};
	return 0;
}

void trust_system_paths(const char **bundle, const char **dir)
{
	struct trust_sources none = { NULL, NULL, 0 };
	struct sources ss;
	*bundle = *dir = NULL;
	if (resolve(&ss, &none) < 0)
		return;
	/* the paths point at the environment or at static strings, except
	 * the split copy of SSL_CERT_DIR: hand out the variable itself */
	for (size_t i = 0; i < ss.n; i++) {
		if (!ss.v[i].is_dir && !*bundle)
			*bundle = ss.v[i].path;
		else if (ss.v[i].is_dir && !*dir)
			*dir = ss.dirs ? getenv("SSL_CERT_DIR") : ss.v[i].path;
	}
	free(ss.v);
	free(ss.dirs);
}

/* A digest of the configuration: the source paths and the --ca-cert text
 * (not their contents or state). */
static void config_digest(const struct sources *ss, const char *ca_b64, unsigned char d[32])
{
	br_sha256_context h;
	br_sha256_init(&h);
	key_str(&h, "pom-proxy anchors");
	for (size_t i = 0; i < ss->n; i++) {
		key_u64(&h, (uint64_t)ss->v[i].is_dir);
		key_str(&h, ss->v[i].path);
	}
	key_u64(&h, ca_b64 != NULL);
	if (ca_b64)
		key_str(&h, ca_b64);
	br_sha256_out(&h, d);
}

int trust_config_id(const struct trust_sources *src, unsigned char id[32])
{
	struct sources ss;
	if (resolve(&ss, src) < 0)
		return -1;
	config_digest(&ss, src->ca_cert_b64, id);
	free(ss.v);
	free(ss.dirs);
	return 0;
}

/* The cache file for this list of sources: "anchors-" and 16 hex digits
 * of a SHA-256 over the paths and the --ca-cert text, so that different
 * configurations do not evict each other. Returns 0, or -1 with errno. */
static int cache_path(char *buf, size_t size, const struct sources *ss, const char *ca_b64)
{
	unsigned char d[32];
	size_t n;

	if (privfile_cache_dir(buf, size, 1) < 0)
		return -1;
	config_digest(ss, ca_b64, d);
	n = strlen(buf);
	if (size - n < sizeof "/anchors-" + 16) {
		errno = ENAMETOOLONG;
		return -1;
	}
	n += (size_t)snprintf(buf + n, size - n, "/anchors-");
	for (size_t i = 0; i < 8; i++)
		n += (size_t)snprintf(buf + n, size - n, "%02x", d[i]);
	return 0;
}

/* Take a u16 length and that many bytes at *p of blob[0..len). */
static int take16(const unsigned char *blob, size_t len, size_t *p,
		  unsigned char **data, size_t *n)
{
	if (len - *p < 2)
		return -1;
	*n = be_get(blob + *p, 2);
	*p += 2;
	if (len - *p < *n)
		return -1;
	*data = (unsigned char *)blob + *p;
	*p += *n;
	return 0;
}

/* Build ts from a cache blob whose key digest must equal digest. Every
 * length is checked against len; on success ts owns blob. Returns 0, or
 * -1 for anything malformed (ts untouched). */
static int parse_blob(struct trust_store *ts, unsigned char *blob, size_t len,
		      const unsigned char digest[32])
{
	br_x509_trust_anchor *tas;
	size_t count, p = CACHE_HDR;

	if (len < CACHE_HDR || memcmp(blob, CACHE_MAGIC, 8) != 0 ||
	    be_get(blob + 8, 4) != CACHE_VERSION || memcmp(blob + 12, digest, 32) != 0)
		return -1;
	count = be_get(blob + 44, 4);
	if (count == 0 || count > (len - CACHE_HDR) / CACHE_MIN_ENTRY)
		return -1;
	tas = calloc(count, sizeof *tas);
	if (!tas)
		return -1;
	for (size_t i = 0; i < count; i++) {
		br_x509_trust_anchor *ta = &tas[i];
		unsigned flags, type;
		if (len - p < 2)
			goto bad;
		flags = blob[p++];
		type = blob[p++];
		if (flags > 1 || take16(blob, len, &p, &ta->dn.data, &ta->dn.len) < 0)
			goto bad;
		ta->flags = flags ? BR_X509_TA_CA : 0;
		ta->pkey.key_type = (unsigned char)type;
		if (type == BR_KEYTYPE_RSA) {
			br_rsa_public_key *k = &ta->pkey.key.rsa;
			if (take16(blob, len, &p, &k->n, &k->nlen) < 0 ||
			    take16(blob, len, &p, &k->e, &k->elen) < 0 ||
			    k->nlen == 0 || k->elen == 0)
				goto bad;
		} else if (type == BR_KEYTYPE_EC) {
			br_ec_public_key *k = &ta->pkey.key.ec;
			if (len - p < 1)
				goto bad;
			k->curve = blob[p++];
			if (k->curve < 1 || k->curve > CACHE_MAX_CURVE ||
			    take16(blob, len, &p, &k->q, &k->qlen) < 0 || k->qlen == 0)
				goto bad;
		} else {
			goto bad;
		}
	}
	if (p != len)
		goto bad;
	ts->anchors = tas;
	ts->count = count;
	ts->storage = blob;
	ts->storage_len = len;
	return 0;
bad:
	free(tas);
	return -1;
}

/* Try the cache: returns 0 with ts filled on a hit, 1 on a miss, -1 after
 * log_error when a named source cannot be read. */
static int load_cached(struct trust_store *ts, struct loader *l, const struct sources *ss,
		       const char *ca_b64, const char *path)
{
	unsigned char digest[32], *blob;
	size_t len;

	l->decode = 0;
	br_sha256_init(&l->key);
	if (walk(l, ss, ca_b64) < 0)
		return -1;
	br_sha256_out(&l->key, digest);
	blob = privfile_read_alloc(path, MAX_CACHE, &len);
	if (!blob) {
		log_debug(1, "trust: no anchor cache %s: %s", path, strerror(errno));
		return 1;
	}
	if (parse_blob(ts, blob, len, digest) < 0) {
		log_debug(1, "trust: anchor cache %s is stale or corrupt", path);
		free(blob);
		return 1;
	}
	ts->from_cache = 1;
	log_debug(1, "trust: %zu anchors from the cache %s", ts->count, path);
	return 0;
}

/* Decode every source, write the cache when path is not NULL, and build
 * ts from the new blob. Returns 0, or -1 after log_error. */
static int load_sources(struct trust_store *ts, struct loader *l, const struct sources *ss,
			const char *ca_b64, const char *path)
{
	unsigned char digest[32], hdr[CACHE_HDR] = {0};

	l->decode = 1;
	l->count = 0;
	br_sha256_init(&l->key);
	out_put(&l->blob, hdr, sizeof hdr);
	if (walk(l, ss, ca_b64) < 0)
		return -1;
	if (l->count == 0) {
		log_error("no CA certificate found (searched %s): --alternate-ca-path FILE "
			  "or SSL_CERT_FILE can provide trust anchors", ss->searched);
		return -1;
	}
	br_sha256_out(&l->key, digest);
	memcpy(l->blob.p, CACHE_MAGIC, 8);
	be_put(l->blob.p + 8, CACHE_VERSION, 4);
	memcpy(l->blob.p + 12, digest, 32);
	be_put(l->blob.p + 44, l->count, 4); /* < 2^32: MAX_CACHE bounds it */
	if (path) {
		if (privfile_write(path, l->blob.p, l->blob.len) < 0)
			log_debug(1, "trust: cannot write the anchor cache %s: %s", path, strerror(errno));
		else
			log_debug(1, "trust: wrote the anchor cache %s", path);
	}
	if (parse_blob(ts, l->blob.p, l->blob.len, digest) < 0) {
		log_error("trust store: cannot index the decoded anchors");
		return -1;
	}
	log_debug(1, "trust: %zu anchors decoded from the sources (%zu duplicates dropped)",
		  ts->count, l->dups);
	l->blob.p = NULL; /* now owned by ts */
	return 0;
}

int trust_load(struct trust_store *ts, const struct trust_sources *src)
{
	struct sources ss;
	struct loader *l;
	char path[4096];
	int have_path = 0, r = 1;

	memset(ts, 0, sizeof *ts);
	l = calloc(1, sizeof *l);
	if (!l || resolve(&ss, src) < 0) {
		free(l);
		log_error("trust store: out of memory");
		return -1;
	}
	if (src->use_cache) {
		if (cache_path(path, sizeof path, &ss, src->ca_cert_b64) == 0)
			have_path = 1;
		else
			log_debug(1, "trust: no cache directory: %s", strerror(errno));
	}
	if (have_path)
		r = load_cached(ts, l, &ss, src->ca_cert_b64, path);
	if (r == 1)
		r = load_sources(ts, l, &ss, src->ca_cert_b64, have_path ? path : NULL);
	free(l->blob.p);
	free(l->seen);
	free(l);
	free(ss.v);
	free(ss.dirs);
	return r;
}

void trust_free(struct trust_store *ts)
{
	free(ts->anchors);
	free(ts->storage);
	memset(ts, 0, sizeof *ts);
}
