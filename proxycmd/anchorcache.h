/* anchorcache: decoded trust anchors as one blob, the same bytes in memory
 * and in the private cache file, so that a cache hit is one read and an
 * index over it.
 *
 * Blob layout, all integers big-endian:
 *   header: "POMTRUST" | u32 version | 32-byte source digest | u32 count
 *   count entries: u8 flags (bit 0: CA) | u8 key type (1 RSA, 2 EC) |
 *     u16 dn_len | dn |
 *     RSA: u16 n_len | n | u16 e_len | e
 *     EC:  u8 curve | u16 q_len | q
 * and nothing after the last entry. The source digest is trustsrc's
 * identity of every source (trustsrc.h): a blob is used only when it
 * equals the digest of the sources as they are now. */
#ifndef POM_ANCHORCACHE_H
#define POM_ANCHORCACHE_H

#include <stddef.h>
#include <stdint.h>
#include <bearssl.h>

#include "trust.h"

/* Largest blob, in memory or on disk. */
#define ANCHORCACHE_MAX (32u << 20)

/* A blob being built. Fields are private to anchorcache.c. */
struct anchor_blob {
	unsigned char *p;
	size_t len, cap;
	int failed;             /* a bound or malloc failed: the blob is unusable */
	size_t count;           /* entries */
	size_t dups;            /* identical anchors not added again */
	struct anchor_slot *seen; /* duplicate table, seen_cap a power of 2 */
	size_t seen_cap;
};

/* Start b empty, with room for the header. b must be zeroed first or
 * released with anchorblob_release. */
void anchorblob_start(struct anchor_blob *b);

/* Append one anchor (is_ca: the certificate is a CA; dn: its subject DN
 * in DER; pk: its key) unless an identical entry (flags, DN and key) is
 * already in b: SSL_CERT_FILE and SSL_CERT_DIR often hold the same
 * certificates, and x509_minimal hashes every anchor's DN in each
 * handshake. A bound or out of memory sets b->failed. */
void anchorblob_add(struct anchor_blob *b, int is_ca, const unsigned char *dn, size_t dn_len,
		    const br_x509_pkey *pk);

/* Write the header (with digest, the sources' identity) and index the
 * blob into ts, which then owns its bytes (b is left empty). Returns 0,
 * or -1 when b failed, holds no anchor or cannot be indexed. */
int anchorblob_finish(struct anchor_blob *b, const unsigned char digest[32],
		      struct trust_store *ts);

/* Free what b holds. */
void anchorblob_release(struct anchor_blob *b);

/* Put in buf the cache file for a configuration (config: trustsrc's
 * digest of the source paths and the --ca-cert text): "<cache dir>/
 * anchors-" and 16 hex digits of it, so that configurations do not evict
 * each other. Creates the cache directory. Returns 0, or -1 with errno. */
int anchorcache_path(char *buf, size_t size, const unsigned char config[32]);

/* Fill ts from the cache file at path when it is private (privfile.h),
 * well formed and made from sources whose identity is digest. Returns 0
 * on a hit (ts->from_cache set), 1 on a miss (log_debug says why; ts
 * untouched). */
int anchorcache_load(struct trust_store *ts, const char *path, const unsigned char digest[32]);

/* Replace the cache file at path with ts's blob (made by
 * anchorblob_finish). Failure only costs the next start-up a decode:
 * log_debug says why. */
void anchorcache_store(const struct trust_store *ts, const char *path);

#endif
