/* base64: RFC 4648 base64, the one codec for PEM bodies and --ca-cert
 * (standard alphabet), JWT parts (base64url) and Basic credentials. */
#ifndef POM_BASE64_H
#define POM_BASE64_H

#include <stddef.h>

enum base64_variant {
	/* standard alphabet; padding optional; ASCII white space ignored
	 * anywhere; padding, when present, must complete the last quantum
	 * and end the data */
	BASE64_PEM,
	/* base64url as JWTs use it (RFC 7515, unpadded), '+' and '/'
	 * accepted too; no white space; the data ends at the first '=' */
	BASE64_JWT,
};

/* Decode in[0..len) as variant v into out. A lone digit in the last
 * quantum is invalid; unused low bits are ignored. Returns the decoded
 * length, or -1 on an invalid character or padding, or when size is too
 * small (out may then hold partial output). */
long base64_decode(enum base64_variant v, const char *in, size_t len, unsigned char *out,
		   size_t size);

/* Encode in[0..len) with the standard alphabet and padding into out,
 * NUL-terminated. Returns 0, or -1 when it does not fit in size. */
int base64_encode(const unsigned char *in, size_t len, char *out, size_t size);

#endif
