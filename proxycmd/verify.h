/* verify: the X.509 checks BearSSL 0.6 does not do itself.
 *
 * Both contexts are br_x509_class engines to pass to
 * br_ssl_engine_set_x509(); they must outlive the handshake. Their fields
 * are private to verify.c. */
#ifndef POM_VERIFY_H
#define POM_VERIFY_H

#include <stddef.h>
#include <bearssl.h>

/* Largest end-entity certificate verify_ip can inspect (bytes). */
#define VERIFY_MAX_CERT 16384

/* Verification for a proxy addressed by an IP literal. BearSSL 0.6
 * matches only dNSName/CN, so this runs br_x509_minimal (full chain
 * validation against the anchors, with no name check: the server_name
 * given to start_chain is ignored) and in addition requires the
 * end-entity certificate to have a subjectAltName iPAddress entry
 * byte-equal to the address. end_chain returns, in this order:
 *   - x509_minimal's error, unchanged, when the chain fails validation;
 *   - BR_ERR_X509_LIMIT_EXCEEDED when the end-entity certificate is longer
 *     than VERIFY_MAX_CERT (it cannot be inspected);
 *   - BR_ERR_X509_BAD_SERVER_NAME when no iPAddress entry matches
 *     (including no SAN, or a SAN that is not well-formed DER);
 *   - 0 otherwise.
 * get_pkey returns x509_minimal's key only after end_chain returned 0,
 * NULL otherwise. */
typedef struct {
	const br_x509_class *vtable;
	br_x509_minimal_context inner;
	unsigned char ip[16];
	size_t ip_len;                /* 4 or 16; 0 matches nothing */
	unsigned char ee[VERIFY_MAX_CERT];
	size_t ee_len;
	int ee_too_long;
	int cert_index;
	unsigned result;              /* end_chain's verdict */
} verify_ip_context;

/* Make xc (set up by br_x509_minimal_init_full) check ECDSA signatures
 * with BearSSL's default, P-256-specialised code instead of init_full's
 * generic i31 one: a third less of a full handshake. */
void verify_fast_ecdsa(br_x509_minimal_context *xc);

/* Set up ctx for the address ip (ip_len 4 for IPv4, 16 for IPv6, in
 * network byte order) and the given anchors (not copied: they must
 * outlive ctx). Any other ip_len makes every chain fail with
 * BR_ERR_X509_BAD_SERVER_NAME. */
void verify_ip_init(verify_ip_context *ctx, const br_x509_trust_anchor *tas,
		    size_t ta_count, const unsigned char *ip, size_t ip_len);

/* Return 1 when the DER certificate der[0..len) has a subjectAltName
 * extension (OID 2.5.29.17; the first one if there are several) with an
 * iPAddress entry byte-equal to ip[0..ip_len), 0 otherwise. Reads only
 * inside der[0..len): truncated or malformed DER, indefinite lengths and
 * multi-byte tags give 0. No signature or validity check: that is
 * x509_minimal's job. */
int verify_cert_has_ip(const unsigned char *der, size_t len,
		       const unsigned char *ip, size_t ip_len);

/* --disable-tls-verification: accepts any chain without checking it and
 * returns the end-entity certificate's public key (RSA or EC) for the key
 * exchange, with usages BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN. end_chain
 * returns BR_ERR_X509_EMPTY_CHAIN for an empty chain and the
 * br_x509_decoder error (e.g. BR_ERR_X509_TRUNCATED, BR_ERR_X509_UNSUPPORTED)
 * when the end-entity certificate cannot be decoded; get_pkey then
 * returns NULL. */
typedef struct {
	const br_x509_class *vtable;
	br_x509_decoder_context dec;
	br_x509_pkey pkey;
	unsigned char key_data[BR_X509_BUFSIZE_KEY]; /* copy of the key */
	int cert_index;
	int err;
} verify_none_context;

/* Set up ctx for one handshake. */
void verify_none_init(verify_none_context *ctx);

#endif
