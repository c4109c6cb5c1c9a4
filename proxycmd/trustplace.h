/* trustplace: which places the trust anchors come from for one
 * configuration (trust.h lists the options): SSL_CERT_FILE and
 * SSL_CERT_DIR, or else the first system bundle that exists (or the
 * system directory), then --alternate-ca-path and --ca-cert. Nothing is
 * read here but stat() of the system bundles. */
#ifndef POM_TRUSTPLACE_H
#define POM_TRUSTPLACE_H

#include <stddef.h>

#include "trust.h"

/* One place anchors come from. */
struct trustplace {
	const char *path;
	int is_dir;
	const char *named_by; /* "SSL_CERT_FILE" or "--alternate-ca-path": it
				 must be readable and yield a certificate */
};

/* The sources of one configuration. */
struct trustplaces {
	struct trustplace *v;
	size_t n;
	const char *ca_b64;   /* --ca-cert, or NULL */
	char *dirs;           /* copy of SSL_CERT_DIR, split at ':' */
	char searched[768];   /* the system places looked at, for the error */
};

/* Decide the sources of src: SSL_CERT_FILE / SSL_CERT_DIR or the system
 * defaults, then --alternate-ca-path and --ca-cert. Returns 0, or -1 when
 * out of memory (nothing to release then). */
int trustplace_resolve(struct trustplaces *ss, const struct trust_sources *src);

/* Free what trustplace_resolve allocated. */
void trustplace_release(struct trustplaces *ss);

#endif
