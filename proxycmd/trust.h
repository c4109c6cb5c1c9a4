/* trust: the CA certificates the proxy's certificate is verified against.
 *
 * Sources, all added together (as pomerium-cli does):
 *   - the system store: $SSL_CERT_FILE and/or $SSL_CERT_DIR when set
 *     (non-empty), else the first existing of the usual bundle files
 *     (Debian, Fedora, SUSE, OpenELEC, RHEL 7, Alpine/BSD locations), else
 *     /etc/ssl/certs as a hashed directory. SSL_CERT_DIR is a ':'-separated
 *     list of hashed directories: only names "^[0-9a-f]{8}\.[0-9]{1,9}$"
 *     are read (symlinks followed), each file once however many names it
 *     has; a directory that cannot be read is skipped;
 *   - --alternate-ca-path FILE (PEM, one or more certificates);
 *   - --ca-cert BASE64PEM (the base64 encoding of a PEM text).
 * Only PEM objects labelled CERTIFICATE (or X509 CERTIFICATE) are used;
 * other objects and malformed ones are skipped.
 *
 * Start-up cost: decoding the 144-certificate system bundle takes
 * milliseconds even with the fast PEM decoder, far more than a handshake.
 * Decoded anchors are therefore cached in one private binary file in the
 * cache directory (anchorcache.h), valid while the sources' identity
 * (trustsrc.h) is unchanged: a hit is one stat per source, one small read
 * and an index over it. Any change to a source (a package update, a new
 * file in SSL_CERT_DIR) misses, re-decodes and replaces the cache. A cache
 * that cannot be read or written, or that is corrupt, is not an error:
 * the anchors are decoded from the sources as if there were no cache
 * (log_debug level 1 says why). */
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
	int from_cache;                /* 1 when read from the anchor cache */
	unsigned char id[32];          /* the identity of the sources these
					  anchors were read from (trustsrc.h) */
};

/* Load every anchor from the sources into ts (zeroed first; the anchors
 * point into ts->storage). Certificates BearSSL cannot decode are
 * skipped; BR_X509_TA_CA is set only for CA certificates. Returns 0 when
 * at least one anchor was loaded. Otherwise it reports one line with
 * log_error (naming the places searched, and that --alternate-ca-path /
 * SSL_CERT_FILE can provide one) and returns -1 with nothing allocated.
 * An explicitly named file (SSL_CERT_FILE, --alternate-ca-path) that
 * cannot be read or holds no usable certificate, and a --ca-cert that is
 * not base64 or holds none, are also -1 with a line naming it. */
int trust_load(struct trust_store *ts, const struct trust_sources *src);

/* The system store exactly as trust_load picks it, for another TLS
 * library: with SSL_CERT_FILE and/or SSL_CERT_DIR set, *bundle and *dir
 * are those (or NULL); else *bundle is the first existing usual bundle
 * file and *dir NULL, or, without one, *dir is /etc/ssl/certs. */
void trust_system_paths(const char **bundle, const char **dir);

/* Put in id a digest of which sources src designates (their paths and
 * the --ca-cert text, not their contents): cheap, no file is read.
 * Returns 0, or -1 when out of memory. */
int trust_config_id(const struct trust_sources *src, unsigned char id[32]);

/* Release what trust_load allocated; ts may be zeroed or already freed. */
void trust_free(struct trust_store *ts);

#endif
