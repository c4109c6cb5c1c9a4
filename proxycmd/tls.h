/* tls: BearSSL configured as pom-proxy's TLS client (its errors in words:
 * tlstext.h). Everything is caller-owned; nothing here allocates except
 * tls_identity_load. */
#ifndef POM_TLS_H
#define POM_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <bearssl.h>
#include "log.h"
#include "verify.h"
#include "chaincache.h"
#include "trust.h"

#define TLS_CHAIN_MAX 8

/* A client certificate chain and its private key (mutual TLS). */
struct tls_identity {
	br_x509_certificate chain[TLS_CHAIN_MAX]; /* end-entity first */
	size_t chain_len;
	unsigned char *storage;                  /* backs the chain's DER */
	br_skey_decoder_context key;             /* the decoded private key */
	int key_type;                            /* BR_KEYTYPE_RSA or _EC */
};

/* Load the PEM certificate chain at cert_path and the PEM private key
 * (RSA PRIVATE KEY, EC PRIVATE KEY or unencrypted PRIVATE KEY) at
 * key_path. Returns 0, or -1 after one log_error line naming the file. */
int tls_identity_load(struct tls_identity *id, const char *cert_path, const char *key_path);

/* Make cc present id (before its reset): the chain and an RSA or EC
 * signing key. Also used for libcurl built on BearSSL (the sign-in). */
void tls_identity_apply(br_ssl_client_context *cc, const struct tls_identity *id);

/* Wipe the key and free the storage. */
void tls_identity_free(struct tls_identity *id);

/* How the proxy's certificate is checked. */
struct tls_params {
	const char *server_name;          /* host name (SNI + name check), or NULL for an IP */
	const unsigned char *ip;          /* IP literal bytes when server_name is NULL */
	size_t ip_len;                    /* 4 or 16 */
	const br_x509_trust_anchor *tas;  /* the anchors, or NULL to load them lazily: */
	size_t ta_count;
	/* With tas NULL, called when the server sends its certificate (a
	 * resumed handshake never does, and then costs no trust store at all):
	 * set *ts to the loaded store and return 0, or return -1 after
	 * log_error. */
	int (*load_anchors)(void *arg, const struct trust_store **ts);
	void *load_arg;
	int chain_cache;                  /* with load_anchors: use chaincache.h */
	int insecure;                     /* --disable-tls-verification */
	const struct tls_identity *identity; /* or NULL */
	const br_ssl_session_parameters *resume; /* session to offer, or NULL */
};

/* One TLS client connection: contexts and the full-size bidirectional
 * buffer (BR_SSL_BUFSIZE_BIDI). */
struct tls_client {
	br_ssl_client_context cc;
	br_x509_minimal_context xc;
	verify_ip_context xip;
	verify_none_context xnone;
	chaincache_context xcache;        /* in front of xc or xip when p.chain_cache */
	struct {                          /* loads the anchors at the first certificate */
		const br_x509_class *vtable;
		const br_x509_class **inner;
		struct tls_params p;
		int loaded;
	} lazy;
	int trust_failed;                 /* load_anchors failed (already reported) */
	unsigned char iobuf[BR_SSL_BUFSIZE_BIDI];
};

/* Configure t for one handshake: TLS 1.2 only, ECDHE with AES-GCM first
 * then ChaCha20-Poly1305, ALPN "http/1.1", no renegotiation, 32 bytes of
 * getrandom() entropy, the verification p asks for, and the session to
 * offer for resumption if p->resume is set. Returns 0, or -1
 * (after log_error) when the engine cannot be set up. */
int tls_client_init(struct tls_client *t, const struct tls_params *p);

/* The engine of t. */
static inline br_ssl_engine_context *tls_engine(struct tls_client *t)
{
	return &t->cc.eng;
}

enum tls_pump_result {
	TLS_PUMP_OK,      /* the state has a wanted bit */
	TLS_PUMP_CLOSED,  /* the engine closed (see br_ssl_engine_last_error) */
	TLS_PUMP_TIMEOUT, /* deadline passed */
	TLS_PUMP_EOF,     /* the peer closed the connection */
	TLS_PUMP_IOERR,   /* poll/read/write failed: errno */
};

/* Drive the engine's record I/O on the non-blocking socket fd until its
 * state has one of the bits in want (e.g. BR_SSL_SENDAPP once the
 * handshake is done), it closes, the peer hangs up, or the monotonic
 * clock (monotonic_ms, clock.h) reaches deadline_ms. Application data is not moved. */
enum tls_pump_result tls_pump_until(br_ssl_engine_context *eng, int fd, unsigned want,
				    long deadline_ms);

#endif
