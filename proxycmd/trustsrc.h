/* trustsrc: where the trust anchors come from, what those places are now,
 * and their certificates decoded (trust.h lists the sources).
 *
 * Two digests name a configuration:
 *   - the config digest: which sources (their paths and the --ca-cert
 *     text), with no file read: it names the anchor cache file and binds
 *     TLS sessions;
 *   - the identity digest: a SHA-256 over each source's path, device,
 *     inode, size, mtime and ctime (nanoseconds; ctime catches a rewrite
 *     whose mtime was set back), each directory's own identity and that of
 *     every file read from it, and the --ca-cert text. It changes whenever
 *     an anchor may have: a package update, a new file in SSL_CERT_DIR. */
#ifndef POM_TRUSTSRC_H
#define POM_TRUSTSRC_H

#include <stddef.h>

#include "anchorcache.h"
#include "trust.h"

/* One place anchors come from. */
struct trustsrc_place {
	const char *path;
	int is_dir;
	const char *named_by; /* "SSL_CERT_FILE" or "--alternate-ca-path": it
				 must be readable and yield a certificate */
};

/* The sources of one configuration. */
struct trustsrc {
	struct trustsrc_place *v;
	size_t n;
	const char *ca_b64;   /* --ca-cert, or NULL */
	char *dirs;           /* copy of SSL_CERT_DIR, split at ':' */
	char searched[768];   /* the system places looked at, for the error */
};

/* Decide the sources of src: SSL_CERT_FILE / SSL_CERT_DIR or the system
 * defaults, then --alternate-ca-path and --ca-cert. Returns 0, or -1 when
 * out of memory (nothing to release then). */
int trustsrc_resolve(struct trustsrc *ss, const struct trust_sources *src);

/* Free what trustsrc_resolve allocated. */
void trustsrc_release(struct trustsrc *ss);

/* The config digest of ss (see above). */
void trustsrc_config_digest(const struct trustsrc *ss, unsigned char d[32]);

/* The identity digest of ss, by stat() alone. Returns 0, or -1 after
 * log_error when a named source (SSL_CERT_FILE, --alternate-ca-path)
 * cannot be read; other unreadable places are part of the identity. */
int trustsrc_identity(const struct trustsrc *ss, unsigned char digest[32]);

/* Decode every certificate of every source into b (started by the
 * caller) and put the identity digest of what was read in digest: equal
 * to trustsrc_identity's when nothing changed in between. Certificates
 * BearSSL cannot decode, malformed PEM objects and other labels are
 * skipped. Returns 0, or -1 after log_error when a named source cannot
 * be read or holds no usable certificate, when --ca-cert is not base64
 * of a PEM text with a certificate, or when b failed. */
int trustsrc_decode(const struct trustsrc *ss, struct anchor_blob *b, unsigned char digest[32]);

/* 1 when n is an OpenSSL hashed certificate name in a CA directory: 8
 * lowercase hex digits, '.', 1 to 9 digits (no CRLs, no other files). */
int trustsrc_hashed_name(const char *n);

#endif
