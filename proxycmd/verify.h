/* verify: the X.509 checks BearSSL 0.6 does not do itself.
 *
 * Both contexts are br_x509_class engines to pass to
 * br_ssl_engine_set_x509(); they must outlive the handshake. */
#ifndef POM_VERIFY_H
#define POM_VERIFY_H

#include <stddef.h>
#include <bearssl.h>

/* Largest end-entity certificate verify_ip can inspect (bytes). */
#define VERIFY_MAX_CERT 16384

/* Verification for a proxy addressed by an IP literal. BearSSL 0.6
 * matches only dNSName/CN, so this runs br_x509_minimal (full chain
 * validation against the anchors, with no name check) and in addition
 * requires the end-entity certificate to have a subjectAltName iPAddress
 * entry equal to the address; otherwise end_chain reports
 * BR_ERR_X509_BAD_SERVER_NAME. A chain error from x509_minimal is
 * reported unchanged. */
typedef struct {
	const br_x509_class *vtable;
	br_x509_minimal_context inner;
	unsigned char ip[16];
	size_t ip_len;                /* 4 or 16 */
	unsigned char ee[VERIFY_MAX_CERT];
	size_t ee_len;
	int ee_too_long;
	int cert_index;
} verify_ip_context;

/* Set up ctx for the address ip (ip_len 4 for IPv4, 16 for IPv6) and the
 * given anchors (not copied: they must outlive ctx). */
void verify_ip_init(verify_ip_context *ctx, const br_x509_trust_anchor *tas,
		    size_t ta_count, const unsigned char *ip, size_t ip_len);

/* --disable-tls-verification: accepts any chain without checking it and
 * returns the end-entity certificate's public key (RSA or EC) for the key
 * exchange, with usages BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN. A certificate
 * that cannot be decoded still fails the handshake. */
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
