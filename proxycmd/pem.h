/* pem: fast PEM decoding (table-driven base64), for CA bundles, client
 * certificates and keys.
 *
 * BearSSL's br_pem_decoder costs ~26 ms on the 144-certificate system
 * bundle; this decoder does the same job in a fraction of that. Input is
 * bounded by the caller's buffer; nothing is allocated. */
#ifndef POM_PEM_H
#define POM_PEM_H

#include <stddef.h>

/* One decoded PEM object. */
struct pem_object {
	char label[64];        /* text after "-----BEGIN " up to "-----", NUL-terminated */
	unsigned char *der;    /* decoded bytes: the caller's out buffer */
	size_t der_len;
};

/* Find the next PEM object in text[*pos..len) and decode its base64 body
 * into out (capacity out_size). A BEGIN or END line starts a line (after
 * optional spaces/tabs); the END label must equal the BEGIN label.
 * Tolerates CRLF, spaces, a missing newline after the last END line, and
 * text between objects. Advances *pos past the object. Returns 1 when an
 * object was decoded, 0 at the end of the text, -1 for a malformed object
 * (bad base64 or RFC 1421 headers in the body, no END line, END label
 * differs, empty label or one of 64 bytes or more, body larger than
 * out_size); after -1, *pos is past the bad object so the caller may skip
 * it and go on (when a new BEGIN line comes before any END line, *pos is
 * at that BEGIN line). text need not be NUL-terminated. */
int pem_next(const char *text, size_t len, size_t *pos,
	     struct pem_object *obj, unsigned char *out, size_t out_size);

#endif
