#include "trustsrc.h"
#include "bigendian.h"
#include "log.h"
#include "pem.h"
#include "base64.h"
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
#define MAX_DIR_ENTRIES  100000u     /* accepted names in one directory */
#define MAX_CA_CERT_ARG  (1u << 20)  /* --ca-cert text */

/* State of one pass over the sources. With blob NULL a pass only
 * computes the identity digest; otherwise it also decodes every
 * certificate into blob. Both passes feed the digest the same way, so a
 * probe's digest equals that of a decode pass that read the same files. */
struct loader {
	struct anchor_blob *blob;
	br_sha256_context key;
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

/* Decode one DER certificate into the blob. Returns 1 for a usable
 * certificate (added, or a duplicate not added again), 0 when BearSSL
 * cannot use it. */
static int add_der(struct loader *l, const unsigned char *der, size_t len, const char *where)
{
	const br_x509_pkey *pk;

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
	anchorblob_add(l->blob, br_x509_decoder_isCA(&l->dc), l->dn, l->dn_len, pk);
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
static long do_file(struct loader *l, const struct trustplace *s)
{
	struct stat st;
	size_t len;
	char *text;
	long n;

	if (!l->blob) {
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

int trustsrc_hashed_name(const char *n)
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
static long do_dir(struct loader *l, const struct trustplace *s)
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
		if (!trustsrc_hashed_name(de->d_name) || fstatat(fd, de->d_name, &st, 0) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (n == cap) {
			struct dent *nv;
			if (cap >= MAX_DIR_ENTRIES)
				break;
			cap = cap ? cap * 2 : 256;
			nv = realloc(v, cap * sizeof *v);
			if (!nv) {
				l->blob->failed = 1;
				break;
			}
			v = nv;
		}
		memcpy(v[n].name, de->d_name, strlen(de->d_name) + 1); /* <= 19: trustsrc_hashed_name */
		v[n++].st = st;
	}
	if (n)
		qsort(v, n, sizeof *v, dent_cmp);
	for (size_t i = 0; i < n; i++) {
		char *text;
		size_t len;
		if (i > 0 && v[i].st.st_dev == v[i - 1].st.st_dev && v[i].st.st_ino == v[i - 1].st.st_ino)
			continue;
		if (!l->blob) {
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
	if (!l->blob)
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
static int walk(struct loader *l, const struct trustplaces *ss)
{
	key_str(&l->key, "POMTRUST");
	for (size_t i = 0; i < ss->n; i++) {
		const struct trustplace *s = &ss->v[i];
		long n = s->is_dir ? do_dir(l, s) : do_file(l, s);
		if (n < 0 && s->named_by) {
			log_error("cannot read %s (%s): %s", s->path, s->named_by, why(errno));
			return -1;
		}
		if (n < 0)
			log_debug(1, "trust: cannot read %s: %s", s->path, why(errno));
		else if (l->blob && n == 0 && s->named_by) {
			log_error("%s (%s) holds no certificate BearSSL can use", s->path, s->named_by);
			return -1;
		} else if (l->blob)
			log_debug(2, "trust: %ld certificates from %s", n, s->path);
	}
	if (ss->ca_b64 && do_ca_cert(l, ss->ca_b64) < 0)
		return -1;
	if (l->blob && l->blob->failed) {
		log_error("trust store: out of memory or larger than %u bytes", ANCHORCACHE_MAX);
		return -1;
	}
	return 0;
}

void trustsrc_config_digest(const struct trustplaces *ss, unsigned char d[32])
{
	br_sha256_context h;
	br_sha256_init(&h);
	key_str(&h, "pom-proxy anchors");
	for (size_t i = 0; i < ss->n; i++) {
		key_u64(&h, (uint64_t)ss->v[i].is_dir);
		key_str(&h, ss->v[i].path);
	}
	key_u64(&h, ss->ca_b64 != NULL);
	if (ss->ca_b64)
		key_str(&h, ss->ca_b64);
	br_sha256_out(&h, d);
}

/* One pass: the identity digest, and the anchors into b unless NULL. */
static int pass(const struct trustplaces *ss, struct anchor_blob *b, unsigned char digest[32])
{
	struct loader *l = calloc(1, sizeof *l);
	int r = -1;

	if (!l) {
		log_error("trust store: out of memory");
		return -1;
	}
	l->blob = b;
	br_sha256_init(&l->key);
	if (walk(l, ss) == 0) {
		br_sha256_out(&l->key, digest);
		r = 0;
	}
	free(l);
	return r;
}

int trustsrc_identity(const struct trustplaces *ss, unsigned char digest[32])
{
	return pass(ss, NULL, digest);
}

int trustsrc_decode(const struct trustplaces *ss, struct anchor_blob *b, unsigned char digest[32])
{
	return pass(ss, b, digest);
}
