#include "anchorcache.h"
#include "bigendian.h"
#include "log.h"
#include "privfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAGIC     "POMTRUST"
#define VERSION   1u
#define HDR       (8 + 4 + 32 + 4)
#define MIN_ENTRY (1 + 1 + 2 + 1 + 2 + 1) /* empty DN, 1-byte EC point */
#define MAX_CURVE BR_EC_curve448

/* One entry of the blob in the duplicate table; len 0 marks a free slot. */
struct anchor_slot {
	uint64_t hash;
	size_t off, len;
};

/* Append n bytes, growing the buffer up to ANCHORCACHE_MAX. */
static void out_put(struct anchor_blob *o, const void *data, size_t n)
{
	if (o->failed)
		return;
	if (n > ANCHORCACHE_MAX - o->len) {
		o->failed = 1;
		return;
	}
	if (o->len + n > o->cap) {
		size_t cap = o->cap ? o->cap : 65536;
		while (cap < o->len + n)
			cap *= 2;
		if (cap > ANCHORCACHE_MAX)
			cap = ANCHORCACHE_MAX;
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
static void out_u8(struct anchor_blob *o, unsigned v)
{
	unsigned char b = (unsigned char)v;
	out_put(o, &b, 1);
}

/* u16 length then the bytes; a length over 65535 fails the buffer. */
static void out_bytes16(struct anchor_blob *o, const void *data, size_t n)
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

/* FNV-1a, 64 bits: spreads entries over the duplicate table. */
static uint64_t fnv1a(const unsigned char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325u;
	while (n--)
		h = (h ^ *p++) * 0x100000001b3u;
	return h;
}

/* Record the entry b->p[off..off+len) in the duplicate table. Returns 1
 * when an identical entry (flags, DN and key) is already in the blob, 0
 * otherwise (the entry is now recorded; or the table could not grow, and
 * the entry is kept: a duplicate anchor is only redundant). */
static int seen_before(struct anchor_blob *b, size_t off, size_t len)
{
	const unsigned char *e = b->p + off;
	uint64_t h = fnv1a(e, len);
	size_t i;

	if ((b->count + 1) * 2 > b->seen_cap) {
		size_t cap = b->seen_cap ? b->seen_cap * 2 : 512;
		struct anchor_slot *t = calloc(cap, sizeof *t);
		if (!t)
			return 0;
		for (size_t j = 0; j < b->seen_cap; j++) {
			if (!b->seen[j].len)
				continue;
			for (i = b->seen[j].hash & (cap - 1); t[i].len; i = (i + 1) & (cap - 1))
				;
			t[i] = b->seen[j];
		}
		free(b->seen);
		b->seen = t;
		b->seen_cap = cap;
	}
	for (i = h & (b->seen_cap - 1); b->seen[i].len; i = (i + 1) & (b->seen_cap - 1))
		if (b->seen[i].hash == h && b->seen[i].len == len &&
		    memcmp(b->p + b->seen[i].off, e, len) == 0)
			return 1;
	b->seen[i] = (struct anchor_slot){h, off, len};
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
	size_t count, p = HDR;

	if (len < HDR || memcmp(blob, MAGIC, 8) != 0 ||
	    be_get(blob + 8, 4) != VERSION || memcmp(blob + 12, digest, 32) != 0)
		return -1;
	count = be_get(blob + 44, 4);
	if (count == 0 || count > (len - HDR) / MIN_ENTRY)
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
			if (k->curve < 1 || k->curve > MAX_CURVE ||
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
	memcpy(ts->id, digest, 32);
	ts->storage = blob;
	ts->storage_len = len;
	return 0;
bad:
	free(tas);
	return -1;
}

void anchorblob_start(struct anchor_blob *b)
{
	unsigned char hdr[HDR] = {0};
	anchorblob_release(b);
	out_put(b, hdr, sizeof hdr);
}

void anchorblob_add(struct anchor_blob *b, int is_ca, const unsigned char *dn, size_t dn_len,
		    const br_x509_pkey *pk)
{
	size_t start = b->len;

	out_u8(b, is_ca ? 1 : 0);
	out_u8(b, pk->key_type);
	out_bytes16(b, dn, dn_len);
	if (pk->key_type == BR_KEYTYPE_RSA) {
		out_bytes16(b, pk->key.rsa.n, pk->key.rsa.nlen);
		out_bytes16(b, pk->key.rsa.e, pk->key.rsa.elen);
	} else {
		out_u8(b, (unsigned)pk->key.ec.curve);
		out_bytes16(b, pk->key.ec.q, pk->key.ec.qlen);
	}
	if (b->failed)
		return;
	if (seen_before(b, start, b->len - start)) {
		b->len = start;
		b->dups++;
		return;
	}
	b->count++;
}

int anchorblob_finish(struct anchor_blob *b, const unsigned char digest[32],
		      struct trust_store *ts)
{
	if (b->failed || b->count == 0)
		return -1;
	memcpy(b->p, MAGIC, 8);
	be_put(b->p + 8, VERSION, 4);
	memcpy(b->p + 12, digest, 32);
	be_put(b->p + 44, b->count, 4); /* < 2^32: ANCHORCACHE_MAX bounds it */
	if (parse_blob(ts, b->p, b->len, digest) < 0)
		return -1;
	b->p = NULL; /* now owned by ts */
	b->len = b->cap = 0;
	return 0;
}

void anchorblob_release(struct anchor_blob *b)
{
	free(b->p);
	free(b->seen);
	memset(b, 0, sizeof *b);
}

int anchorcache_path(char *buf, size_t size, const unsigned char config[32])
{
	size_t n;

	if (privfile_cache_dir(buf, size, 1) < 0)
		return -1;
	n = strlen(buf);
	if (size - n < sizeof "/anchors-" + 16) {
		errno = ENAMETOOLONG;
		return -1;
	}
	n += (size_t)snprintf(buf + n, size - n, "/anchors-");
	for (size_t i = 0; i < 8; i++)
		n += (size_t)snprintf(buf + n, size - n, "%02x", config[i]);
	return 0;
}

int anchorcache_load(struct trust_store *ts, const char *path, const unsigned char digest[32])
{
	unsigned char *blob;
	size_t len;

	blob = privfile_read_alloc(path, ANCHORCACHE_MAX, &len);
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

void anchorcache_store(const struct trust_store *ts, const char *path)
{
	if (privfile_write(path, ts->storage, ts->storage_len) < 0)
		log_debug(1, "trust: cannot write the anchor cache %s: %s", path, strerror(errno));
	else
		log_debug(1, "trust: wrote the anchor cache %s", path);
}
