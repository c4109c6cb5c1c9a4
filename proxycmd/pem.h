/* pem: fast PEM decoding (table-driven base64), for CA bundles, client
 * certificates and keys.
 *
 * BearSSL's br_pem_decoder costs ~26 ms on the 144-certificate system
 * bundle; this decoder does the same job in a fraction of that. Input is
 * bounded by the caller's buffer; nothing is allocated. */
#ifndef POM_PEM_H
#define POM_PEM_H

#include <stddef.h>

/* One decoded PEM object. label points into the caller's label buffer. */
struct pem_object {
	char label[64];        /* text after "-----BEGIN " up to "-----" */
	unsigned char *der;    /* decoded bytes, in the caller's out buffer */
	size_t der_len;
};

/* Find the next PEM object in text[*pos..len) and decode its base64 body
 * into out (capacity out_size). Tolerates CRLF, spaces, a missing newline
 * after the last END line, and text between objects. Advances *pos past
 * the object. Returns 1 when an object was decoded, 0 at the end of the
 * text, -1 for a malformed object (bad base64, no END line, label too
 * long, body larger than out_size); after -1, *pos is past the bad object
 * so the caller may skip it and go on. */
int pem_next(const char *text, size_t len, size_t *pos,
	     struct pem_object *obj, unsigned char *out, size_t out_size);

/* Decode base64 (standard alphabet, padding optional, whitespace
 * ignored) from in[0..len) into out. Returns the decoded length, or -1 on
 * an invalid character or when out_size is too small. */
long pem_base64_decode(const char *in, size_t len, unsigned char *out, size_t out_size);

#endif
