/* trustsrc: what the places anchors come from (trustplace.h) are now, and
 * their certificates decoded.
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
#include "trustplace.h"

/* The config digest of ss (see above). */
void trustsrc_config_digest(const struct trustplaces *ss, unsigned char d[32]);

/* The identity digest of ss, by stat() alone. Returns 0, or -1 after
 * log_error when a named source (SSL_CERT_FILE, --alternate-ca-path)
 * cannot be read; other unreadable places are part of the identity. */
int trustsrc_identity(const struct trustplaces *ss, unsigned char digest[32]);

/* Decode every certificate of every source into b (started by the
 * caller) and put the identity digest of what was read in digest: equal
 * to trustsrc_identity's when nothing changed in between. Certificates
 * BearSSL cannot decode, malformed PEM objects and other labels are
 * skipped. Returns 0, or -1 after log_error when a named source cannot
 * be read or holds no usable certificate, when --ca-cert is not base64
 * of a PEM text with a certificate, or when b failed. */
int trustsrc_decode(const struct trustplaces *ss, struct anchor_blob *b, unsigned char digest[32]);

/* 1 when n is an OpenSSL hashed certificate name in a CA directory: 8
 * lowercase hex digits, '.', 1 to 9 digits (no CRLs, no other files). */
int trustsrc_hashed_name(const char *n);

#endif
