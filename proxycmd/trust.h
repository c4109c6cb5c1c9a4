/* trust: the CA certificates the proxy's certificate is verified against.
 *
 * Sources, all added together (as pomerium-cli does):
 *   - the system store: $SSL_CERT_FILE and/or $SSL_CERT_DIR when set, else
 *     the first existing of the usual bundle files (Debian, Fedora, SUSE,
 *     Alpine, BSD locations), else /etc/ssl/certs as a hashed directory;
 *   - --alternate-ca-path FILE (PEM, one or more certificates);
 *   - --ca-cert BASE64PEM (the base64 encoding of a PEM text).
 *
 * Start-up cost: decoding the 144-certificate system bundle takes
 * milliseconds even with the fast PEM decoder, far more than a handshake.
 * Decoded anchors are therefore cached in one private binary file in the
 * cache directory (see auth/privfile.h), keyed by each source file's
 * device, inode, size and mtime (nanoseconds) and by the --ca-cert text;
 * a hit is one small read. Any change to a source (a package update, a
 * new file in SSL_CERT_DIR) misses, re-decodes and replaces the cache.
 * A cache that cannot be read or written is not an error: the anchors are
 * decoded from the sources as if there were no cache. */
#ifndef POM_TRUST_H
#define POM_TRUST_H

#include <stddef.h>
#include <bearssl.h>

struct trust_sources {
	const char *alternate_ca_path; /* --alternate-ca-path, or NULL */
	const char *ca_cert_b64;       /* --ca-cert, or NULL */
	int use_cache;                 /* 0 disables the binary cache */
};

struct trust_store {
	br_x509_trust_anchor *anchors; /* count entries */
	size_t count;
	void *storage;                 /* private: backs DNs and keys */
	size_t storage_len;
};

/* Load every anchor from the sources into ts. Certificates BearSSL cannot
 * decode are skipped; BR_X509_TA_CA is set only for CA certificates.
 * Returns 0 when at least one anchor was loaded. Otherwise it reports one
 * line with log_error (naming the places searched, and that
 * --alternate-ca-path / SSL_CERT_FILE can provide one) and returns -1;
 * an explicitly named file that cannot be read is also -1 with a line
 * naming it. */
int trust_load(struct trust_store *ts, const struct trust_sources *src);

/* Release what trust_load allocated; ts may be zeroed or already freed. */
void trust_free(struct trust_store *ts);

#endif
