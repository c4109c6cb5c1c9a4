/* der: a bounded reader for the DER that X.509 certificates are made of,
 * and the two facts pom-proxy reads from them itself (BearSSL 0.6 reads
 * neither): the subjectAltName extension and the validity period. Every
 * function reads only inside the window it is given. */
#ifndef POM_DER_H
#define POM_DER_H

#include <stddef.h>
#include <stdint.h>

#define DER_BOOLEAN      0x01
#define DER_INTEGER      0x02
#define DER_OCTET_STRING 0x04
#define DER_OID          0x06
#define DER_UTCTIME      0x17
#define DER_GENTIME      0x18
#define DER_SEQUENCE     0x30

/* A window into DER bytes; reading advances p and shrinks len. */
struct der {
	const unsigned char *p;
	size_t len;
};

/* Read one TLV from in into *tag and *val and advance in past it.
 * Accepts single-byte tags and definite lengths of up to 4 length bytes;
 * the value must lie wholly inside in. Returns 0, or -1 on anything else
 * (in is then left unspecified). */
int der_next(struct der *in, unsigned *tag, struct der *val);

/* Read one TLV that must have tag want; as der_next otherwise. */
int der_expect(struct der *in, unsigned want, struct der *val);

/* Find the subjectAltName extension's value (the GeneralNames DER) in the
 * certificate cert. Returns 0 and sets *san, or -1 when it is absent or
 * the certificate is malformed on the way to it. */
int der_cert_san(struct der cert, struct der *san);

/* Read the validity period of the certificate der[0..len) as seconds
 * since 1970-01-01 UTC: *not_before and *not_after, both inclusive.
 * UTCTime (years 1950-2049) and GeneralizedTime are read in their DER
 * form only (seconds present, "Z", no fraction). Returns 0, or -1 when
 * the certificate or a time is malformed. */
int der_cert_validity(const unsigned char *der, size_t len, int64_t *not_before,
		      int64_t *not_after);

#endif
