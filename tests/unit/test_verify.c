/* test_verify: verify_ip / verify_none against a BearSSL server, the SAN
 * walker on well-formed, truncated and garbage DER, and the test PKI
 * itself (tests/lib/mkcerts.sh, run into a temporary directory; the
 * script is found under $SRCDIR, default ".", the repository root). */
#include "tap.h"
#include "scratch.h"
#include "testtls.h"
#include "verify.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define HANDSHAKE_SECONDS 10
#define WALKER_SECONDS 60

static char pki[PATH_MAX];
static struct testtls_anchors anchors; /* ca-only.pem: the test root CA */

static const unsigned char ip4_lo[4] = { 127, 0, 0, 1 };
static const unsigned char ip4_lo2[4] = { 127, 0, 0, 2 };
static const unsigned char ip4_doc[4] = { 192, 0, 2, 1 };
static const unsigned char ip6_lo[16] = { [15] = 1 };

/* ---- helpers ---------------------------------------------------------- */

/* "DIR/name" for a PKI file; the result lives until the 4th next call. */
static const char *pki_path(const char *name)
{
	static char buf[4][PATH_MAX];
	static unsigned slot;
	char *p = buf[slot++ % 4];

	if ((size_t)snprintf(p, PATH_MAX, "%s/%s", pki, name) >= PATH_MAX)
		abort();
	return p;
}

/* br_sslio callbacks: blocking read/write on the int fd at ctx. */
static int sock_read(void *ctx, unsigned char *buf, size_t len)
{
	int fd = *(int *)ctx;

	for (;;) {
		ssize_t r = read(fd, buf, len);
		if (r > 0)
			return (int)r;
		if (r == 0 || errno != EINTR)
			return -1;
	}
}

static int sock_write(void *ctx, const unsigned char *buf, size_t len)
{
	int fd = *(int *)ctx;

	for (;;) {
		ssize_t r = write(fd, buf, len);
		if (r >= 0)
			return (int)r;
		if (errno != EINTR)
			return -1;
	}
}

/* A client certificate and key (PKI file names) to present. */
struct client_id {
	const char *cert, *key;
};

struct hs_result {
	int err;     /* br_ssl_engine_last_error after the exchange, or -1 */
	int echo_ok; /* one round trip of application data worked */
	int server;  /* the echo server's exit status */
};

/* One TLS 1.2 handshake over a socketpair against testtls_echo_server
 * (chain, key, client_ca: PKI file names). The client trusts ca-only.pem
 * through x509_minimal, or uses xc as its X.509 engine when not NULL,
 * and presents cid when not NULL. On success it sends a few bytes,
 * expects them back and closes with close_notify. */
static struct hs_result handshake(const br_x509_class **xc, const char *server_name,
				  const char *chain, const char *key,
				  const char *client_ca, const struct client_id *cid)
{
	static br_ssl_client_context cc;
	static br_x509_minimal_context xm;
	static unsigned char iobuf[BR_SSL_BUFSIZE_BIDI];
	static br_skey_decoder_context ckey;
	static const unsigned char ping[] = "ping\n";
	unsigned char back[sizeof ping];
	struct testtls_certs ccerts = { .n = 0 };
	struct hs_result res = { -1, 0, -1 };
	br_sslio_context ioc;
	int sv[2], fd;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return res;
	pid = testtls_echo_server(sv[1], pki_path(chain), pki_path(key),
				  client_ca ? pki_path(client_ca) : NULL);
	close(sv[1]);
	fd = sv[0];
	if (pid < 0) {
		close(fd);
		return res;
	}
	alarm(HANDSHAKE_SECONDS);

	br_ssl_client_init_full(&cc, &xm, anchors.ta, anchors.n);
	br_ssl_engine_set_versions(&cc.eng, BR_TLS12, BR_TLS12);
	br_ssl_engine_set_buffer(&cc.eng, iobuf, sizeof iobuf, 1);
	if (xc)
		br_ssl_engine_set_x509(&cc.eng, xc);
	if (cid) {
		if (testtls_load_certs(pki_path(cid->cert), &ccerts) < 0 ||
		    testtls_load_key(pki_path(cid->key), &ckey) < 0)
			goto out;
		if (br_skey_decoder_key_type(&ckey) == BR_KEYTYPE_RSA)
			br_ssl_client_set_single_rsa(&cc, ccerts.cert, ccerts.n,
						     br_skey_decoder_get_rsa(&ckey),
						     br_rsa_pkcs1_sign_get_default());
		else
			br_ssl_client_set_single_ec(&cc, ccerts.cert, ccerts.n,
						    br_skey_decoder_get_ec(&ckey), BR_KEYTYPE_SIGN,
						    BR_KEYTYPE_EC, br_ec_get_default(),
						    br_ecdsa_sign_asn1_get_default());
	}
	if (!br_ssl_client_reset(&cc, server_name, 0))
		goto out;
	br_sslio_init(&ioc, &cc.eng, sock_read, &fd, sock_write, &fd);
	if (br_sslio_flush(&ioc) == 0) {
		if (br_sslio_write_all(&ioc, ping, sizeof ping) == 0 &&
		    br_sslio_flush(&ioc) == 0 &&
		    br_sslio_read_all(&ioc, back, sizeof back) == 0 &&
		    memcmp(back, ping, sizeof ping) == 0)
			res.echo_ok = 1;
		br_sslio_close(&ioc);
	}
	res.err = br_ssl_engine_last_error(&cc.eng);
out:
	close(fd);
	res.server = testtls_wait(pid);
	alarm(0);
	testtls_free_certs(&ccerts);
	return res;
}

/* Assert a handshake that must succeed: no error, echo, server exit 0. */
static void expect_ok(struct hs_result r, const char *what)
{
	is_int(r.err, 0, "%s: handshake ok", what);
	ok(r.echo_ok, "%s: echo round trip", what);
	is_int(r.server, 0, "%s: server ended cleanly", what);
}

/* Assert a handshake the client must refuse with error want; the server
 * then sees EOF mid-handshake and exits 1. */
static void expect_err(struct hs_result r, int want, const char *what)
{
	is_int(r.err, want, "%s: client error", what);
	ok(!r.echo_ok, "%s: no application data", what);
	is_int(r.server, 1, "%s: server saw a failed handshake", what);
}

/* verify_ip_context is large: one static instance, re-initialised. */
static verify_ip_context vip;
static verify_none_context vnone;

static struct hs_result via_ip(const unsigned char *ip, size_t ip_len,
			       const char *chain, const char *key)
{
	verify_ip_init(&vip, anchors.ta, anchors.n, ip, ip_len);
	return handshake(&vip.vtable, NULL, chain, key, NULL, NULL);
}

static struct hs_result via_none(const char *chain, const char *key)
{
	verify_none_init(&vnone);
	return handshake(&vnone.vtable, NULL, chain, key, NULL, NULL);
}

/* Feed a chain straight through an X.509 class, in 100-byte pieces;
 * returns end_chain's result. */
static unsigned feed(const br_x509_class **xc, const br_x509_certificate *certs, size_t n)
{
	size_t i, off;

	(*xc)->start_chain(xc, "ignored.example");
	for (i = 0; i < n; i++) {
		(*xc)->start_cert(xc, (uint32_t)certs[i].data_len);
		for (off = 0; off < certs[i].data_len; off += 100) {
			size_t len = certs[i].data_len - off;
			(*xc)->append(xc, certs[i].data + off, len < 100 ? len : 100);
		}
		(*xc)->end_cert(xc);
	}
	return (*xc)->end_chain(xc);
}

/* verify_cert_has_ip on an exact-size heap copy, so that ASan sees any
 * read past the end. */
static int has_ip(const unsigned char *der, size_t len, const unsigned char *ip, size_t ip_len)
{
	unsigned char *copy = malloc(len ? len : 1);
	int r;

	if (!copy)
		abort();
	memcpy(copy, der, len);
	r = verify_cert_has_ip(copy, len, ip, ip_len);
	free(copy);
	return r;
}

/* ---- the tests -------------------------------------------------------- */

static int make_pki(void)
{
	if (!ok(scratch_make("test_verify") == 0, "a scratch directory"))
		return -1;
	if (!ok(scratch_pki("pki") == 0, "mkcerts.sh created the test PKI"))
		return -1;
	snprintf(pki, sizeof pki, "%s", scratch_at("pki"));
	if (!ok(testtls_load_anchors(pki_path("ca-only.pem"), &anchors) == 0 && anchors.n == 1,
		"ca-only.pem loads as one trust anchor"))
		return -1;
	return 0;
}

/* The fixtures as plain x509_minimal sees them, with a DNS name. */
static void test_fixtures(void)
{
	static const struct client_id ec = { "client-ec.pem", "client-ec.key" };
	static const struct client_id pk8 = { "client-ec.pem", "client-ec.pk8" };
	static const struct client_id rsa = { "client-rsa.pem", "client-rsa.key" };
	static const struct client_id other = { "client-other.pem", "client-other.key" };
	struct hs_result r;

	expect_ok(handshake(NULL, "localhost", "server.pem", "server.key", NULL, NULL),
		  "x509_minimal localhost, server.pem (EC)");
	expect_ok(handshake(NULL, "localhost", "server-rsa.pem", "server-rsa.key", NULL, NULL),
		  "x509_minimal localhost, server-rsa.pem (RSA)");
	expect_ok(handshake(NULL, "proxy.test", "chain.pem", "chain.key", NULL, NULL),
		  "x509_minimal proxy.test, chain.pem (intermediate)");
	expect_ok(handshake(NULL, "localhost", "big.pem", "big.key", NULL, NULL),
		  "x509_minimal localhost, big.pem");
	expect_err(handshake(NULL, "localhost", "wrongname.pem", "wrongname.key", NULL, NULL),
		   BR_ERR_X509_BAD_SERVER_NAME, "x509_minimal localhost, wrongname.pem");
	expect_err(handshake(NULL, "127.0.0.1", "server.pem", "server.key", NULL, NULL),
		   BR_ERR_X509_BAD_SERVER_NAME,
		   "x509_minimal cannot match an IP literal (why verify_ip exists)");
	expect_err(handshake(NULL, "localhost", "expired.pem", "expired.key", NULL, NULL),
		   BR_ERR_X509_EXPIRED, "x509_minimal, expired.pem");

	expect_ok(handshake(NULL, "localhost", "server.pem", "server.key", "client-ca.pem", &ec),
		  "client certificate EC");
	expect_ok(handshake(NULL, "localhost", "server.pem", "server.key", "client-ca.pem", &pk8),
		  "client certificate EC, PKCS#8 key");
	expect_ok(handshake(NULL, "localhost", "server-rsa.pem", "server-rsa.key",
			    "client-ca.pem", &rsa),
		  "client certificate RSA");

	r = handshake(NULL, "localhost", "server.pem", "server.key", "client-ca.pem", &other);
	ok(r.err != 0 && !r.echo_ok, "client certificate from other-ca refused (error %d)", r.err);
	is_int(r.server, 1, "server failed that handshake");
	r = handshake(NULL, "localhost", "server.pem", "server.key", "client-ca.pem", NULL);
	ok(r.err != 0 && !r.echo_ok, "no client certificate refused (error %d)", r.err);
	is_int(r.server, 1, "server failed that handshake");
}

static void test_verify_ip(void)
{
	expect_ok(via_ip(ip4_lo, 4, "server.pem", "server.key"), "verify_ip 127.0.0.1, server.pem");
	expect_ok(via_ip(ip6_lo, 16, "server.pem", "server.key"), "verify_ip ::1, server.pem");
	expect_ok(via_ip(ip4_lo, 4, "server-rsa.pem", "server-rsa.key"),
		  "verify_ip 127.0.0.1, server-rsa.pem");
	expect_ok(via_ip(ip4_lo, 4, "chain.pem", "chain.key"), "verify_ip 127.0.0.1, chain.pem");
	expect_ok(via_ip(ip4_doc, 4, "wrongname.pem", "wrongname.key"),
		  "verify_ip 192.0.2.1, wrongname.pem");
	expect_err(via_ip(ip4_lo2, 4, "server.pem", "server.key"), BR_ERR_X509_BAD_SERVER_NAME,
		   "verify_ip 127.0.0.2, server.pem");
	expect_err(via_ip(ip4_lo, 4, "wrongname.pem", "wrongname.key"),
		   BR_ERR_X509_BAD_SERVER_NAME, "verify_ip 127.0.0.1, wrongname.pem");
	expect_err(via_ip(ip4_lo, 4, "dnsonly.pem", "dnsonly.key"), BR_ERR_X509_BAD_SERVER_NAME,
		   "verify_ip 127.0.0.1, dnsonly.pem");
	expect_err(via_ip(ip4_lo, 4, "untrusted.pem", "untrusted.key"), BR_ERR_X509_NOT_TRUSTED,
		   "verify_ip 127.0.0.1, untrusted.pem");
	expect_err(via_ip(ip4_lo, 4, "expired.pem", "expired.key"), BR_ERR_X509_EXPIRED,
		   "verify_ip 127.0.0.1, expired.pem");
	expect_err(via_ip(ip4_lo, 4, "big.pem", "big.key"), BR_ERR_X509_LIMIT_EXCEEDED,
		   "verify_ip 127.0.0.1, big.pem (over VERIFY_MAX_CERT)");
	expect_err(via_ip(ip4_lo, 5, "server.pem", "server.key"), BR_ERR_X509_BAD_SERVER_NAME,
		   "verify_ip with a 5-byte address matches nothing");

	/* One context, several handshakes: each start_chain starts afresh. */
	verify_ip_init(&vip, anchors.ta, anchors.n, ip4_lo, 4);
	expect_err(handshake(&vip.vtable, NULL, "dnsonly.pem", "dnsonly.key", NULL, NULL),
		   BR_ERR_X509_BAD_SERVER_NAME, "reused verify_ip, first dnsonly.pem");
	expect_ok(handshake(&vip.vtable, NULL, "server.pem", "server.key", NULL, NULL),
		  "reused verify_ip, then server.pem");
}

static void test_verify_none(void)
{
	expect_ok(via_none("untrusted.pem", "untrusted.key"), "verify_none, untrusted.pem");
	expect_ok(via_none("expired.pem", "expired.key"), "verify_none, expired.pem");
	expect_ok(via_none("wrongname.pem", "wrongname.key"), "verify_none, wrongname.pem");
	expect_ok(via_none("server-rsa.pem", "server-rsa.key"), "verify_none, server-rsa.pem (RSA)");
	expect_ok(via_none("chain.pem", "chain.key"), "verify_none, chain.pem");
	expect_ok(via_none("big.pem", "big.key"), "verify_none, big.pem");
}

/* The classes driven directly, without TLS. */
static void test_class_api(void)
{
	struct testtls_certs server, chain, big;
	static const unsigned char junk[] = { 0x30, 0x03, 0x02, 0x01, 0x05 };
	br_x509_certificate bad = { (unsigned char *)junk, sizeof junk };
	br_x509_certificate half;
	const br_x509_pkey *pk;
	unsigned usages = 0;

	if (testtls_load_certs(pki_path("server.pem"), &server) < 0 ||
	    testtls_load_certs(pki_path("chain.pem"), &chain) < 0 ||
	    testtls_load_certs(pki_path("big.pem"), &big) < 0) {
		ok(0, "load server.pem, chain.pem, big.pem");
		return;
	}
	half.data = server.cert[0].data;
	half.data_len = server.cert[0].data_len / 2;

	verify_ip_init(&vip, anchors.ta, anchors.n, ip4_lo, 4);
	is_int(feed(&vip.vtable, server.cert, server.n), 0, "verify_ip fed server.pem: ok");
	pk = vip.vtable->get_pkey(&vip.vtable, &usages);
	ok(pk && pk->key_type == BR_KEYTYPE_EC && (usages & BR_KEYTYPE_SIGN),
	   "verify_ip get_pkey: the EC key, usable for signatures");
	is_int(feed(&vip.vtable, chain.cert, chain.n), 0, "verify_ip fed chain.pem: ok");
	is_int(feed(&vip.vtable, big.cert, big.n), BR_ERR_X509_LIMIT_EXCEEDED,
	       "verify_ip fed big.pem: limit exceeded");
	ok(vip.vtable->get_pkey(&vip.vtable, NULL) == NULL, "verify_ip get_pkey after failure: NULL");
	ok(feed(&vip.vtable, &bad, 1) != 0, "verify_ip fed junk: error");
	is_int(feed(&vip.vtable, NULL, 0), BR_ERR_X509_EMPTY_CHAIN, "verify_ip empty chain");
	verify_ip_init(&vip, anchors.ta, anchors.n, ip4_lo2, 4);
	is_int(feed(&vip.vtable, server.cert, server.n), BR_ERR_X509_BAD_SERVER_NAME,
	       "verify_ip 127.0.0.2 fed server.pem: bad server name");
	ok(vip.vtable->get_pkey(&vip.vtable, NULL) == NULL, "no key after a name mismatch");

	verify_none_init(&vnone);
	is_int(feed(&vnone.vtable, NULL, 0), BR_ERR_X509_EMPTY_CHAIN, "verify_none empty chain");
	ok(vnone.vtable->get_pkey(&vnone.vtable, NULL) == NULL, "verify_none: no key then");
	is_int(feed(&vnone.vtable, &half, 1), BR_ERR_X509_TRUNCATED,
	       "verify_none fed half a certificate: truncated");
	ok(feed(&vnone.vtable, &bad, 1) != 0, "verify_none fed junk: error");
	ok(vnone.vtable->get_pkey(&vnone.vtable, NULL) == NULL, "verify_none: no key then");
	is_int(feed(&vnone.vtable, chain.cert, chain.n), 0, "verify_none fed chain.pem: ok");
	usages = 0;
	pk = vnone.vtable->get_pkey(&vnone.vtable, &usages);
	ok(pk && pk->key_type == BR_KEYTYPE_EC && pk->key.ec.q == vnone.key_data &&
	   usages == (BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN),
	   "verify_none get_pkey: its own copy of the EC key, KEYX|SIGN");

	testtls_free_certs(&server);
	testtls_free_certs(&chain);
	testtls_free_certs(&big);
}

/* A minimal certificate-shaped DER: Certificate{ tbs{ [3]{ exts{ ext } } } }
 * around one extension whose bytes are given. Returns the length. */
static size_t wrap_ext(unsigned char *out, size_t cap, const unsigned char *ext, size_t ext_len)
{
	/* All lengths here stay below 128: short form only. */
	size_t n = ext_len;

	if (n + 8 > cap || n + 6 > 127)
		abort();
	out[0] = 0x30; out[1] = (unsigned char)(n + 6);
	out[2] = 0x30; out[3] = (unsigned char)(n + 4);
	out[4] = 0xa3; out[5] = (unsigned char)(n + 2);
	out[6] = 0x30; out[7] = (unsigned char)n;
	memcpy(out + 8, ext, n);
	return n + 8;
}

static void test_walker_crafted(void)
{
	/* Extension{ OID 2.5.29.17, OCTET STRING{ SEQUENCE{ [7] 127.0.0.1 } } } */
	static const unsigned char san[] = {
		0x30, 0x0f, 0x06, 0x03, 0x55, 0x1d, 0x11, 0x04, 0x08,
		0x30, 0x06, 0x87, 0x04, 127, 0, 0, 1 };
	static const unsigned char san_critical[] = {
		0x30, 0x12, 0x06, 0x03, 0x55, 0x1d, 0x11, 0x01, 0x01, 0xff, 0x04, 0x08,
		0x30, 0x06, 0x87, 0x04, 127, 0, 0, 1 };
	static const unsigned char san_longform[] = {
		0x30, 0x81, 0x0f, 0x06, 0x03, 0x55, 0x1d, 0x11, 0x04, 0x08,
		0x30, 0x06, 0x87, 0x04, 127, 0, 0, 1 };
	static const unsigned char san_dns_then_ip[] = {
		0x30, 0x14, 0x06, 0x03, 0x55, 0x1d, 0x11, 0x04, 0x0d,
		0x30, 0x0b, 0x82, 0x03, 'a', '.', 'b', 0x87, 0x04, 127, 0, 0, 1 };
	static const unsigned char other_ext[] = {
		0x30, 0x0f, 0x06, 0x03, 0x55, 0x1d, 0x12, 0x04, 0x08, /* issuerAltName */
		0x30, 0x06, 0x87, 0x04, 127, 0, 0, 1 };
	static const unsigned char ip_too_long[] = {
		0x30, 0x0f, 0x06, 0x03, 0x55, 0x1d, 0x11, 0x04, 0x08,
		0x30, 0x06, 0x87, 0x05, 127, 0, 0, 1 };
	static const unsigned char indefinite[] = {
		0x30, 0x80, 0x06, 0x03, 0x55, 0x1d, 0x11, 0x04, 0x08,
		0x30, 0x06, 0x87, 0x04, 127, 0, 0, 1, 0, 0 };
	static const unsigned char five_len_bytes[] = {
		0x30, 0x14, 0x06, 0x03, 0x55, 0x1d, 0x11, 0x04, 0x85, 0, 0, 0, 0, 0x08,
		0x30, 0x06, 0x87, 0x04, 127, 0, 0, 1 };
	static const unsigned char high_tag[] = {
		0x30, 0x10, 0x06, 0x03, 0x55, 0x1d, 0x11, 0x04, 0x09,
		0x30, 0x07, 0x9f, 0x07, 0x04, 127, 0, 0, 1 };
	static const unsigned char not_a_sequence[] = {
		0x30, 0x0f, 0x06, 0x03, 0x55, 0x1d, 0x11, 0x04, 0x08,
		0x31, 0x06, 0x87, 0x04, 127, 0, 0, 1 };
	static const unsigned char huge_len[] = {
		0x30, 0x13, 0x06, 0x03, 0x55, 0x1d, 0x11, 0x04, 0x0c,
		0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x87, 0x04, 127, 0, 0, 1 };
	static const unsigned char ip6_entry[] = {
		0x30, 0x1b, 0x06, 0x03, 0x55, 0x1d, 0x11, 0x04, 0x14,
		0x30, 0x12, 0x87, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
	static const struct {
		const unsigned char *ext;
		size_t len;
		const unsigned char *ip;
		size_t ip_len;
		int want;
		const char *what;
	} cases[] = {
		{ san, sizeof san, ip4_lo, 4, 1, "plain iPAddress" },
		{ san, sizeof san, ip4_lo2, 4, 0, "other address" },
		{ san, sizeof san, ip4_lo, 3, 0, "3-byte address" },
		{ san, sizeof san, ip6_lo, 16, 0, "IPv6 against an IPv4 entry" },
		{ san_critical, sizeof san_critical, ip4_lo, 4, 1, "critical flag" },
		{ san_longform, sizeof san_longform, ip4_lo, 4, 1, "long-form length" },
		{ san_dns_then_ip, sizeof san_dns_then_ip, ip4_lo, 4, 1, "dNSName then iPAddress" },
		{ other_ext, sizeof other_ext, ip4_lo, 4, 0, "issuerAltName is not SAN" },
		{ ip_too_long, sizeof ip_too_long, ip4_lo, 4, 0, "entry overruns its SEQUENCE" },
		{ indefinite, sizeof indefinite, ip4_lo, 4, 0, "indefinite length" },
		{ five_len_bytes, sizeof five_len_bytes, ip4_lo, 4, 0, "5 length bytes" },
		{ high_tag, sizeof high_tag, ip4_lo, 4, 0, "multi-byte tag" },
		{ not_a_sequence, sizeof not_a_sequence, ip4_lo, 4, 0, "GeneralNames not a SEQUENCE" },
		{ huge_len, sizeof huge_len, ip4_lo, 4, 0, "length 0xffffffff" },
		{ ip6_entry, sizeof ip6_entry, ip6_lo, 16, 1, "IPv6 entry" },
		{ ip6_entry, sizeof ip6_entry, ip4_lo, 4, 0, "IPv4 against an IPv6 entry" },
	};
	unsigned char der[160];
	size_t i, len, cut;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int prefixes_ok = 1;

		len = wrap_ext(der, sizeof der, cases[i].ext, cases[i].len);
		is_int(has_ip(der, len, cases[i].ip, cases[i].ip_len), cases[i].want,
		       "walker: %s", cases[i].what);
		for (cut = 0; cut < len; cut++)
			prefixes_ok &= has_ip(der, cut, cases[i].ip, cases[i].ip_len) == 0;
		ok(prefixes_ok, "walker: %s, every truncation gives 0", cases[i].what);
	}
	is_int(verify_cert_has_ip(NULL, 0, ip4_lo, 4), 0, "walker: empty input");
	is_int(has_ip((const unsigned char *)"\x30", 1, ip4_lo, 4), 0, "walker: one byte");
}

/* Corrupt each byte of a real certificate in a few ways, cut it at every
 * length, and feed pseudo-random garbage: the walker must stay inside the
 * buffer (ASan) and answer 0 or 1. */
static void test_walker_real(void)
{
	struct testtls_certs server, dnsonly, wrong, big;
	unsigned char *der, *buf;
	size_t len, i, cut;
	int all_zero = 1, all_bool = 1;
	uint32_t x = 12345;
	static const unsigned char pokes[] = { 0x00, 0xff, 0x80, 0x84, 0x1f };

	if (testtls_load_certs(pki_path("server.pem"), &server) < 0 ||
	    testtls_load_certs(pki_path("dnsonly.pem"), &dnsonly) < 0 ||
	    testtls_load_certs(pki_path("wrongname.pem"), &wrong) < 0 ||
	    testtls_load_certs(pki_path("big.pem"), &big) < 0) {
		ok(0, "load server.pem, dnsonly.pem, wrongname.pem, big.pem");
		return;
	}
	der = server.cert[0].data;
	len = server.cert[0].data_len;
	is_int(has_ip(der, len, ip4_lo, 4), 1, "server.pem has IP 127.0.0.1");
	is_int(has_ip(der, len, ip6_lo, 16), 1, "server.pem has IP ::1");
	is_int(has_ip(der, len, ip4_lo2, 4), 0, "server.pem lacks 127.0.0.2");
	is_int(has_ip(dnsonly.cert[0].data, dnsonly.cert[0].data_len, ip4_lo, 4), 0,
	       "dnsonly.pem has no IP");
	is_int(has_ip(wrong.cert[0].data, wrong.cert[0].data_len, ip4_doc, 4), 1,
	       "wrongname.pem has IP 192.0.2.1");
	is_int(has_ip(wrong.cert[0].data, wrong.cert[0].data_len, ip4_lo, 4), 0,
	       "wrongname.pem lacks 127.0.0.1");
	is_int(has_ip(big.cert[0].data, big.cert[0].data_len, ip4_lo, 4), 1,
	       "big.pem (multi-byte lengths) has IP 127.0.0.1");

	alarm(WALKER_SECONDS);
	for (cut = 0; cut < len; cut++)
		all_zero &= has_ip(der, cut, ip4_lo, 4) == 0;
	ok(all_zero, "every truncation of server.pem gives 0");

	buf = malloc(len);
	if (!buf)
		abort();
	for (i = 0; i < len; i++) {
		size_t p;
		for (p = 0; p < sizeof pokes; p++) {
			int r;
			memcpy(buf, der, len);
			buf[i] = pokes[p];
			r = verify_cert_has_ip(buf, len, ip4_lo, 4);
			all_bool &= r == 0 || r == 1;
		}
	}
	ok(all_bool, "every single-byte corruption of server.pem: 0 or 1, in bounds");

	all_bool = 1;
	for (i = 0; i < 20000; i++) {
		size_t n, k;
		int r;
		x = x * 1103515245u + 12345u;
		n = (x >> 16) % (len + 1);
		memcpy(buf, der, len);
		for (k = 0; k < 1 + i % 8; k++) {
			x = x * 1103515245u + 12345u;
			buf[(x >> 8) % len] = (unsigned char)(x >> 24);
		}
		r = has_ip(buf, n, ip4_lo, 4);
		all_bool &= r == 0 || r == 1;
	}
	ok(all_bool, "20000 random corruptions and cuts: 0 or 1, in bounds");
	alarm(0);

	free(buf);
	testtls_free_certs(&server);
	testtls_free_certs(&dnsonly);
	testtls_free_certs(&wrong);
	testtls_free_certs(&big);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	if (make_pki() == 0) {
		test_fixtures();
		test_verify_ip();
		test_verify_none();
		test_class_api();
		test_walker_crafted();
		test_walker_real();
	}
	testtls_free_anchors(&anchors);
	scratch_remove();
	return done_testing();
}
