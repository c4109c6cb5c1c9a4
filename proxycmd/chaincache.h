/* chaincache: the verified-chain cache. A full TLS handshake with a
 * Let's Encrypt-shaped chain spends most of its client CPU checking the
 * chain's P-384 and RSA signatures, though the proxy sends the same bytes
 * every time. When the proxy presents, byte for byte, a chain that passed
 * full verification before, under the same trust anchors and for the
 * same server name, its signatures are not checked again.
 *
 * What a hit still does: the leaf's key is decoded from the bytes just
 * received (the handshake's signature or key exchange is verified with it
 * by the engine as always), and the validity period of every certificate
 * that full verification could have used is checked against the clock.
 * (x509_minimal stops at the first certificate an anchor issued and
 * ignores the rest, so a certificate that was already outside its period
 * when the chain verified, such as a stale cross-sign sent after the
 * path, was not used: the record marks it, and it is not checked.)
 * What makes a miss, and a full verification: any other chain bytes,
 * another trust identity (trustsrc.h: any change to any anchor source),
 * another server name or IP address (a name and an address never share a
 * key), another release of pom-proxy or of its verification policy, a
 * checked certificate outside its validity period, a cache file that is
 * not private (privfile.h) or fails its own SHA-256, a chain over
 * CHAINCACHE_MAX_BYTES or CHAINCACHE_MAX_CERTS (never cached). A chain
 * that fails verification is never stored. Not used with
 * --disable-tls-verification.
 *
 * The file "<cache dir>/verified-chains" holds at most CHAINCACHE_ENTRIES
 * records, newest first, each a SHA-256 over the policy, the trust
 * identity, the name and the chain, the key usages full verification
 * granted, and which certificates to check the validity of (bit i:
 * certificate i, the leaf being 0):
 *   "POMCHAIN" | u32 version | u32 count
 *   | count x (32-byte key | u8 usages | u8 check mask)
 *   | SHA-256 of everything before it
 * Whoever can write this file could as well replace the anchor cache
 * beside it: the cache trusts no one the anchor cache does not. */
#ifndef POM_CHAINCACHE_H
#define POM_CHAINCACHE_H

#include <stddef.h>
#include <stdint.h>
#include <bearssl.h>

#define CHAINCACHE_MAX_BYTES 24576 /* a chain longer than this is never cached */
#define CHAINCACHE_MAX_CERTS 8
#define CHAINCACHE_ENTRIES   32
#define CHAINCACHE_KEY       32
#define CHAINCACHE_RECORD    (CHAINCACHE_KEY + 2)
#define CHAINCACHE_FILE_MAX  (16 + CHAINCACHE_ENTRIES * CHAINCACHE_RECORD + 32)

/* One record of the file. */
struct chaincache_record {
	unsigned char key[CHAINCACHE_KEY];
	unsigned char usages;     /* BR_KEYTYPE_* usages of the leaf's key */
	unsigned char check;      /* bit i: check certificate i's validity */
};

/* What the name of a chain is: a DNS name or an IP address's bytes. */
enum chaincache_name { CHAINCACHE_DNS_NAME = 'D', CHAINCACHE_IP_ADDRESS = 'I' };

/* A br_x509_class engine in front of the one that verifies (x509_minimal
 * or verify_ip): it holds the chain back until end_chain, then either
 * accepts it from the cache or replays it into the inner engine and,
 * when that accepts, records it. Fields are private to chaincache.c. */
typedef struct {
	const br_x509_class *vtable;
	const br_x509_class **inner;
	br_sha256_context name_key;   /* trust identity + name, hashed */
	unsigned char chain[CHAINCACHE_MAX_BYTES];
	size_t len;
	size_t off[CHAINCACHE_MAX_CERTS + 1]; /* certificate i is [off[i], off[i+1]) */
	uint32_t declared;            /* length announced for the current one */
	size_t ncerts;
	int passthrough;              /* too long to hold: the inner engine decides */
	const char *server_name;      /* as given to start_chain */
	int hit;
	unsigned usages;
	br_x509_decoder_context dec;  /* the leaf, on a hit */
	const br_x509_pkey *leaf_key;
} chaincache_context;

/* Set ctx up for one handshake in front of inner, for anchors whose
 * identity is trust_id and the server's name[0..name_len) of the given
 * kind (the SNI host name, or the IP address bytes when the proxy is an
 * IP literal). */
void chaincache_init(chaincache_context *ctx, const br_x509_class **inner,
		     const unsigned char trust_id[32], enum chaincache_name kind,
		     const void *name, size_t name_len);

/* The records of a cache file's bytes buf[0..len): 0 with rec[0..*count)
 * filled (at most CHAINCACHE_ENTRIES), or -1 when it is not a well-formed
 * file whose checksum holds. */
int chaincache_parse(const unsigned char *buf, size_t len,
		     struct chaincache_record rec[CHAINCACHE_ENTRIES], size_t *count);

#endif
