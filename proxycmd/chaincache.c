#include "chaincache.h"
#include "bigendian.h"
#include "der.h"
#include "log.h"
#include "privfile.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#ifndef POM_VERSION
#define POM_VERSION "dev"
#endif

#define MAGIC   "POMCHAIN"
#define VERSION 2u
#define HDR     16
#define RECORD  CHAINCACHE_RECORD

/* Part of every record's key: a record vouches for what this program's
 * full verification accepted, so another release, or a change to what it
 * checks (verify.c, the x509 set-up in tls.c, the BearSSL linked), must
 * not find it. Raise the policy number with any such change. */
#define POLICY "pom-proxy verified chain, policy 2, " POM_VERSION

_Static_assert(CHAINCACHE_MAX_CERTS <= 8, "a record's check mask is one byte");

static chaincache_context *cc_of(const br_x509_class **ctx)
{
	return (chaincache_context *)(void *)ctx;
}

/* Hash a length as 4 big-endian bytes, so that concatenations differ. */
static void hash_len(br_sha256_context *h, size_t n)
{
	unsigned char b[4];
	be_put(b, n, 4);
	br_sha256_update(h, b, 4);
}

/* ---- the cache file ------------------------------------------------- */

int chaincache_parse(const unsigned char *buf, size_t len,
		     struct chaincache_record rec[CHAINCACHE_ENTRIES], size_t *count)
{
	unsigned char sum[32];
	br_sha256_context h;
	size_t n;

	if (len < HDR + 32 || memcmp(buf, MAGIC, 8) != 0 || be_get(buf + 8, 4) != VERSION)
		return -1;
	n = be_get(buf + 12, 4);
	if (n > CHAINCACHE_ENTRIES || len != HDR + n * RECORD + 32)
		return -1;
	br_sha256_init(&h);
	br_sha256_update(&h, buf, len - 32);
	br_sha256_out(&h, sum);
	if (memcmp(sum, buf + len - 32, 32) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const unsigned char *r = buf + HDR + i * RECORD;
		memcpy(rec[i].key, r, CHAINCACHE_KEY);
		rec[i].usages = r[CHAINCACHE_KEY];
		rec[i].check = r[CHAINCACHE_KEY + 1];
	}
	*count = n;
	return 0;
}

/* The cache file's path; with create, the cache directory is made.
 * Returns 0, or -1 with errno. */
static int cache_path(char *buf, size_t size, int create)
{
	size_t n;
	if (privfile_cache_dir(buf, size, create) < 0)
		return -1;
	n = strlen(buf);
	if ((size_t)snprintf(buf + n, size - n, "/verified-chains") >= size - n) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* The records now in the file (count 0 when there is none or it is
 * unusable: log_debug says why). */
static void read_records(struct chaincache_record rec[CHAINCACHE_ENTRIES], size_t *count)
{
	unsigned char buf[CHAINCACHE_FILE_MAX];
	char path[4096];
	ssize_t len;

	*count = 0;
	if (cache_path(path, sizeof path, 0) < 0)
		return;
	len = privfile_read(path, buf, sizeof buf);
	if (len < 0) {
		if (errno != ENOENT)
			log_debug(1, "verified-chain cache %s unusable: %s", path,
				  privfile_strerror(errno));
		return;
	}
	if (chaincache_parse(buf, (size_t)len, rec, count) < 0) {
		log_debug(1, "verified-chain cache %s is corrupt: not used", path);
		*count = 0;
	}
}

/* Put record r at buf[0..RECORD). */
static void put_record(unsigned char *buf, const struct chaincache_record *r)
{
	memcpy(buf, r->key, CHAINCACHE_KEY);
	buf[CHAINCACHE_KEY] = r->usages;
	buf[CHAINCACHE_KEY + 1] = r->check;
}

/* Write the file: fresh first, then the n records read before except
 * fresh's older copy, up to CHAINCACHE_ENTRIES. Failure only costs a
 * later full verification (log_debug says why). */
static void store(const struct chaincache_record *fresh,
		  const struct chaincache_record old[CHAINCACHE_ENTRIES], size_t n)
{
	unsigned char buf[CHAINCACHE_FILE_MAX];
	char path[4096];
	size_t out = 1;
	br_sha256_context h;

	put_record(buf + HDR, fresh);
	for (size_t i = 0; i < n && out < CHAINCACHE_ENTRIES; i++) {
		if (memcmp(old[i].key, fresh->key, CHAINCACHE_KEY) == 0)
			continue;
		put_record(buf + HDR + out * RECORD, &old[i]);
		out++;
	}
	memcpy(buf, MAGIC, 8);
	be_put(buf + 8, VERSION, 4);
	be_put(buf + 12, out, 4);
	br_sha256_init(&h);
	br_sha256_update(&h, buf, HDR + out * RECORD);
	br_sha256_out(&h, buf + HDR + out * RECORD);
	if (cache_path(path, sizeof path, 1) < 0 ||
	    privfile_write(path, buf, HDR + out * RECORD + 32) < 0)
		log_debug(1, "cannot keep the verified chain: %s", privfile_strerror(errno));
}

/* ---- the engine ----------------------------------------------------- */

/* Hand the chain so far to the inner engine (start_chain, the complete
 * certificates, and the current one's start and bytes) and forward
 * everything from now on: the chain is too long to hold. */
static void go_through(chaincache_context *c, const char *server_name)
{
	const br_x509_class **in = c->inner;
	(*in)->start_chain(in, server_name);
	for (size_t i = 0; i < c->ncerts; i++) {
		(*in)->start_cert(in, (uint32_t)(c->off[i + 1] - c->off[i]));
		(*in)->append(in, c->chain + c->off[i], c->off[i + 1] - c->off[i]);
		(*in)->end_cert(in);
	}
	c->passthrough = 1;
}

static void cc_start_chain(const br_x509_class **ctx, const char *server_name)
{
	chaincache_context *c = cc_of(ctx);
	c->len = 0;
	c->off[0] = 0;
	c->ncerts = 0;
	c->declared = 0;
	c->passthrough = 0;
	c->hit = 0;
	c->server_name = server_name;
}

static void cc_start_cert(const br_x509_class **ctx, uint32_t length)
{
	chaincache_context *c = cc_of(ctx);
	if (!c->passthrough &&
	    (c->ncerts == CHAINCACHE_MAX_CERTS || length > sizeof c->chain - c->len))
		go_through(c, c->server_name);
	if (c->passthrough) {
		(*c->inner)->start_cert(c->inner, length);
		return;
	}
	c->declared = length;
}

static void cc_append(const br_x509_class **ctx, const unsigned char *buf, size_t len)
{
	chaincache_context *c = cc_of(ctx);
	if (!c->passthrough && len > sizeof c->chain - c->len) {
		/* more than announced: let the inner engine see it as sent */
		go_through(c, c->server_name);
		(*c->inner)->start_cert(c->inner, c->declared);
		(*c->inner)->append(c->inner, c->chain + c->off[c->ncerts],
				    c->len - c->off[c->ncerts]);
	}
	if (c->passthrough) {
		(*c->inner)->append(c->inner, buf, len);
		return;
	}
	memcpy(c->chain + c->len, buf, len);
	c->len += len;
}

static void cc_end_cert(const br_x509_class **ctx)
{
	chaincache_context *c = cc_of(ctx);
	if (c->passthrough) {
		(*c->inner)->end_cert(c->inner);
		return;
	}
	c->off[++c->ncerts] = c->len;
}

/* The record key of the held chain. */
static void chain_key(const chaincache_context *c, unsigned char key[CHAINCACHE_KEY])
{
	br_sha256_context h = c->name_key;
	hash_len(&h, c->ncerts);
	for (size_t i = 0; i < c->ncerts; i++) {
		hash_len(&h, c->off[i + 1] - c->off[i]);
		br_sha256_update(&h, c->chain + c->off[i], c->off[i + 1] - c->off[i]);
	}
	br_sha256_out(&h, key);
}

/* The validity period of held certificate i: 0, or -1 when it cannot be
 * read. */
static int validity(const chaincache_context *c, size_t i, int64_t *nb, int64_t *na)
{
	return der_cert_validity(c->chain + c->off[i], c->off[i + 1] - c->off[i], nb, na);
}

/* The check mask of a chain that full verification accepted at a time
 * between t0 and t1: bit i set unless certificate i was outside its
 * period at every such time (then verification cannot have used it); the
 * leaf's bit always, since every path starts with it. Returns 0, or -1
 * when a period cannot be read (then nothing is kept). */
static int check_mask(const chaincache_context *c, int64_t t0, int64_t t1, unsigned *mask)
{
	int64_t nb, na;
	*mask = 1;
	for (size_t i = 0; i < c->ncerts; i++) {
		if (validity(c, i, &nb, &na) < 0)
			return -1;
		if (!(na < t0 || nb > t1))
			*mask |= 1u << i;
	}
	return 0;
}

/* 1 when the held chain may be accepted from a record whose check mask
 * is check: every certificate it marks is inside its validity period now,
 * and the leaf's key decodes (into c->leaf_key, which points into
 * c->dec). 0, after log_debug saying why, otherwise. */
static int usable_now(chaincache_context *c, unsigned check)
{
	int64_t now = (int64_t)time(NULL), nb, na;

	for (size_t i = 0; i < c->ncerts; i++) {
		if (!(check & 1u << i))
			continue;
		if (validity(c, i, &nb, &na) < 0) {
			log_debug(1, "verified-chain cache: certificate %zu has no readable validity "
				  "period: full verification", i);
			return 0;
		}
		if (now < nb || now > na) {
			log_debug(1, "verified-chain cache: certificate %zu is outside its validity "
				  "period: full verification", i);
			return 0;
		}
	}
	br_x509_decoder_init(&c->dec, 0, NULL);
	br_x509_decoder_push(&c->dec, c->chain, c->off[1]);
	c->leaf_key = br_x509_decoder_get_pkey(&c->dec);
	if (c->leaf_key == NULL)
		log_debug(1, "verified-chain cache: the leaf's key does not decode: "
			  "full verification");
	return c->leaf_key != NULL;
}

static unsigned cc_end_chain(const br_x509_class **ctx)
{
	chaincache_context *c = cc_of(ctx);
	struct chaincache_record old[CHAINCACHE_ENTRIES], fresh;
	size_t n = 0;
	int64_t t0, t1;
	unsigned r, u = 0, mask;

	if (c->passthrough)
		return (*c->inner)->end_chain(c->inner);
	if (c->ncerts > 0) {
		chain_key(c, fresh.key);
		read_records(old, &n);
		for (size_t i = 0; i < n; i++) {
			if (memcmp(old[i].key, fresh.key, CHAINCACHE_KEY) != 0)
				continue;
			if (!usable_now(c, old[i].check))
				break;
			c->hit = 1;
			c->usages = old[i].usages;
			log_debug(1, "verified-chain cache: hit, %zu certificates: signatures "
				  "not checked again", c->ncerts);
			return 0;
		}
	}
	go_through(c, c->server_name);
	t0 = (int64_t)time(NULL);
	r = (*c->inner)->end_chain(c->inner);
	t1 = (int64_t)time(NULL);
	if (r != 0 || c->ncerts == 0 || (*c->inner)->get_pkey(c->inner, &u) == NULL)
		return r;
	if (check_mask(c, t0, t1, &mask) < 0) {
		log_debug(1, "verified-chain cache: a validity period does not read: not kept");
		return r;
	}
	fresh.usages = (unsigned char)u;
	fresh.check = (unsigned char)mask;
	store(&fresh, old, n);
	log_debug(1, "verified-chain cache: chain verified in full and kept");
	return r;
}

static const br_x509_pkey *cc_get_pkey(const br_x509_class *const *ctx, unsigned *usages)
{
	chaincache_context *c = cc_of((const br_x509_class **)ctx);
	if (!c->hit)
		return (*c->inner)->get_pkey(c->inner, usages);
	if (usages)
		*usages = c->usages;
	return c->leaf_key;
}

static const br_x509_class chaincache_vtable = {
	sizeof(chaincache_context), cc_start_chain, cc_start_cert, cc_append,
	cc_end_cert, cc_end_chain, cc_get_pkey,
};

void chaincache_init(chaincache_context *ctx, const br_x509_class **inner,
		     const unsigned char trust_id[32], enum chaincache_name kind,
		     const void *name, size_t name_len)
{
	static const char tag[] = POLICY;
	unsigned char k = (unsigned char)kind;
	ctx->vtable = &chaincache_vtable;
	ctx->inner = inner;
	br_sha256_init(&ctx->name_key);
	br_sha256_update(&ctx->name_key, tag, sizeof tag);
	br_sha256_update(&ctx->name_key, trust_id, 32);
	br_sha256_update(&ctx->name_key, &k, 1);
	hash_len(&ctx->name_key, name_len);
	br_sha256_update(&ctx->name_key, name, name_len);
}
