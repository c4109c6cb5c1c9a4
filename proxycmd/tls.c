#include "log.h"
#include "clock.h"
#include "tls.h"
#include "pem.h"
#include "readfile.h"

#include <errno.h>
#include <stddef.h>
#include <poll.h>
#include <time.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define TLS_FILE_MAX (1u << 20)

/* AES-GCM first: ChaCha20-Poly1305 is ~7x slower with BearSSL on AES-NI. */
static const uint16_t tls_suites[] = {
	BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
};

/* The engine keeps a pointer to this array: it must be static. */
static const char *tls_alpn[] = { "http/1.1" };

/* Read a whole (public) file, at most TLS_FILE_MAX bytes, NUL-terminated. */
static char *read_file(const char *path, size_t *len)
{
	struct stat st;
	return readfile_alloc(AT_FDCWD, path, 0, TLS_FILE_MAX, &st, len);
}

int tls_identity_load(struct tls_identity *id, const char *cert_path, const char *key_path)
{
	size_t len, pos = 0, used = 0;
	struct pem_object obj;
	int r;

	memset(id, 0, sizeof *id);
	char *text = read_file(cert_path, &len);
	if (!text) {
		log_error("cannot read client certificate %s: %s", cert_path, strerror(errno));
		return -1;
	}
	id->storage = malloc(len + 1);
	if (!id->storage) {
		free(text);
		log_error("out of memory");
		return -1;
	}
	while ((r = pem_next(text, len, &pos, &obj, id->storage + used, len + 1 - used)) != 0) {
		if (r < 0 || strcmp(obj.label, "CERTIFICATE") != 0)
			continue;
		if (id->chain_len == TLS_CHAIN_MAX)
			break;
		id->chain[id->chain_len].data = obj.der;
		id->chain[id->chain_len].data_len = obj.der_len;
		id->chain_len++;
		used += obj.der_len;
	}
	free(text);
	if (id->chain_len == 0) {
		log_error("client certificate %s: no PEM CERTIFICATE found", cert_path);
		goto fail;
	}

	text = read_file(key_path, &len);
	if (!text) {
		log_error("cannot read client key %s: %s", key_path, strerror(errno));
		goto fail;
	}
	unsigned char *der = malloc(len + 1);
	int found = 0;
	pos = 0;
	while (der && (r = pem_next(text, len, &pos, &obj, der, len + 1)) != 0) {
		if (r < 0)
			continue;
		if (strcmp(obj.label, "RSA PRIVATE KEY") && strcmp(obj.label, "EC PRIVATE KEY") &&
		    strcmp(obj.label, "PRIVATE KEY"))
			continue;
		br_skey_decoder_init(&id->key);
		br_skey_decoder_push(&id->key, obj.der, obj.der_len);
		found = br_skey_decoder_last_error(&id->key) == 0 ? 1 : -1;
		break;
	}
	if (der) {
		explicit_bzero(der, len + 1);
		free(der);
	}
	explicit_bzero(text, len);
	free(text);
	if (found <= 0) {
		log_error("client key %s: %s", key_path,
			  found < 0 ? "cannot decode the private key (encrypted keys are not supported)"
				    : "no unencrypted RSA or EC PRIVATE KEY found");
		goto fail;
	}
	id->key_type = br_skey_decoder_key_type(&id->key);
	return 0;
fail:
	tls_identity_free(id);
	return -1;
}

void tls_identity_apply(br_ssl_client_context *cc, const struct tls_identity *id)
{
	if (id->key_type == BR_KEYTYPE_RSA)
		br_ssl_client_set_single_rsa(cc, id->chain, id->chain_len,
					     br_skey_decoder_get_rsa(&id->key),
					     br_rsa_pkcs1_sign_get_default());
	else if (id->key_type == BR_KEYTYPE_EC)
		br_ssl_client_set_single_ec(cc, id->chain, id->chain_len,
					    br_skey_decoder_get_ec(&id->key), BR_KEYTYPE_SIGN,
					    0, br_ec_get_default(),
					    br_ecdsa_sign_asn1_get_default());
}

void tls_identity_free(struct tls_identity *id)
{
	explicit_bzero(&id->key, sizeof id->key);
	free(id->storage);
	id->storage = NULL;
	id->chain_len = 0;
}

/* The lazy X.509 engine: the first call (start_chain) loads the anchors
 * and sets up the real engine; every call is then forwarded to it. */
static struct tls_client *lazy_owner(const br_x509_class **ctx)
{
	return (struct tls_client *)((char *)ctx - offsetof(struct tls_client, lazy.vtable));
}

static void lazy_start_chain(const br_x509_class **ctx, const char *server_name)
{
	struct tls_client *t = lazy_owner(ctx);
	if (!t->lazy.loaded) {
		const struct trust_store *ts = NULL;
		const br_x509_trust_anchor *tas = NULL;
		size_t n = 0;
		if (t->lazy.p.load_anchors(t->lazy.p.load_arg, &ts) < 0) {
			t->trust_failed = 1;
			ts = NULL;
		} else {
			tas = ts->anchors;
			n = ts->count;
		}
		if (t->lazy.p.server_name) {
			br_x509_minimal_init_full(&t->xc, tas, n);
			verify_fast_ecdsa(&t->xc);
			t->lazy.inner = &t->xc.vtable;
		} else {
			verify_ip_init(&t->xip, tas, n, t->lazy.p.ip, t->lazy.p.ip_len);
			t->lazy.inner = &t->xip.vtable;
		}
		if (ts && t->lazy.p.chain_cache) {
			const char *name = t->lazy.p.server_name;
			if (name)
				chaincache_init(&t->xcache, t->lazy.inner, ts->id, name, strlen(name));
			else
				chaincache_init(&t->xcache, t->lazy.inner, ts->id, t->lazy.p.ip,
						t->lazy.p.ip_len);
			t->lazy.inner = &t->xcache.vtable;
		}
		t->lazy.loaded = 1;
	}
	(*t->lazy.inner)->start_chain(t->lazy.inner, server_name);
}

static void lazy_start_cert(const br_x509_class **ctx, uint32_t length)
{
	const br_x509_class **in = lazy_owner(ctx)->lazy.inner;
	(*in)->start_cert(in, length);
}

static void lazy_append(const br_x509_class **ctx, const unsigned char *buf, size_t len)
{
	const br_x509_class **in = lazy_owner(ctx)->lazy.inner;
	(*in)->append(in, buf, len);
}

static void lazy_end_cert(const br_x509_class **ctx)
{
	const br_x509_class **in = lazy_owner(ctx)->lazy.inner;
	(*in)->end_cert(in);
}

static unsigned lazy_end_chain(const br_x509_class **ctx)
{
	const br_x509_class **in = lazy_owner(ctx)->lazy.inner;
	return (*in)->end_chain(in);
}

static const br_x509_pkey *lazy_get_pkey(const br_x509_class *const *ctx, unsigned *usages)
{
	const br_x509_class **in = lazy_owner((const br_x509_class **)ctx)->lazy.inner;
	return (*in)->get_pkey(in, usages);
}

static const br_x509_class lazy_vtable = {
	sizeof(const br_x509_class *), lazy_start_chain, lazy_start_cert, lazy_append,
	lazy_end_cert, lazy_end_chain, lazy_get_pkey,
};

int tls_client_init(struct tls_client *t, const struct tls_params *p)
{
	br_ssl_engine_context *eng = &t->cc.eng;
	unsigned char seed[32];

	br_ssl_client_init_full(&t->cc, &t->xc, p->tas, p->ta_count);
	verify_fast_ecdsa(&t->xc);
	br_ssl_engine_set_suites(eng, tls_suites, sizeof tls_suites / sizeof tls_suites[0]);
	br_ssl_engine_set_versions(eng, BR_TLS12, BR_TLS12);
	if (getrandom(seed, sizeof seed, 0) != (ssize_t)sizeof seed) {
		log_error("cannot get random bytes for TLS: %s", strerror(errno));
		return -1;
	}
	br_ssl_engine_inject_entropy(eng, seed, sizeof seed);
	explicit_bzero(seed, sizeof seed);
	br_ssl_engine_set_buffer(eng, t->iobuf, sizeof t->iobuf, 1);
	br_ssl_engine_set_protocol_names(eng, tls_alpn, 1);
	br_ssl_engine_add_flags(eng, BR_OPT_NO_RENEGOTIATION);

	t->trust_failed = 0;
	if (p->insecure) {
		verify_none_init(&t->xnone);
		br_ssl_engine_set_x509(eng, &t->xnone.vtable);
	} else if (!p->tas && p->load_anchors) {
		t->lazy.vtable = &lazy_vtable;
		t->lazy.p = *p;
		t->lazy.loaded = 0;
		br_ssl_engine_set_x509(eng, &t->lazy.vtable);
	} else if (!p->server_name) {
		verify_ip_init(&t->xip, p->tas, p->ta_count, p->ip, p->ip_len);
		br_ssl_engine_set_x509(eng, &t->xip.vtable);
	}

	if (p->identity)
		tls_identity_apply(&t->cc, p->identity);

	if (p->resume)
		br_ssl_engine_set_session_parameters(eng, p->resume);
	if (!br_ssl_client_reset(&t->cc, p->server_name, p->resume != NULL)) {
		log_error("cannot start TLS: %s", tls_error_text(br_ssl_engine_last_error(eng)));
		return -1;
	}
	return 0;
}

static const char *alert_name(int a)
{
	switch (a) {
	case 0: return "close_notify";
	case 10: return "unexpected_message";
	case 20: return "bad_record_mac";
	case 22: return "record_overflow";
	case 40: return "handshake_failure";
	case 42: return "bad_certificate";
	case 43: return "unsupported_certificate";
	case 44: return "certificate_revoked";
	case 45: return "certificate_expired";
	case 46: return "certificate_unknown";
	case 47: return "illegal_parameter";
	case 48: return "unknown_ca";
	case 49: return "access_denied";
	case 50: return "decode_error";
	case 51: return "decrypt_error";
	case 70: return "protocol_version";
	case 71: return "insufficient_security";
	case 80: return "internal_error";
	case 86: return "inappropriate_fallback";
	case 90: return "user_canceled";
	case 100: return "no_renegotiation";
	case 109: return "missing_extension";
	case 110: return "unsupported_extension";
	case 112: return "unrecognized_name";
	case 116: return "certificate_required";
	case 120: return "no_application_protocol";
	default: return "unknown alert";
	}
}

/* Received alerts that mean "your client certificate": */
static int client_cert_alert(int a)
{
	return a == 42 || a == 43 || a == 44 || a == 45 || a == 46 || a == 48 || a == 116;
}

const char *tls_error_text(int err)
{
	static char buf[256];
	if (err >= BR_ERR_SEND_FATAL_ALERT) {
		snprintf(buf, sizeof buf, "pom-proxy sent TLS alert %s (%d)",
			 alert_name(err - BR_ERR_SEND_FATAL_ALERT), err - BR_ERR_SEND_FATAL_ALERT);
		return buf;
	}
	if (err >= BR_ERR_RECV_FATAL_ALERT) {
		int a = err - BR_ERR_RECV_FATAL_ALERT;
		const char *hint =
			a == 70 ? " (the proxy may accept only TLS 1.3; pom-proxy speaks TLS 1.2)" :
			a == 40 ? " (no common TLS version or cipher suite: the proxy may be older than "
				  "TLS 1.2; or it requires a client certificate: --client-cert/--client-key)" :
			a == 116 ? " (the proxy requires a client certificate: --client-cert/--client-key)" :
			client_cert_alert(a) ? " (the proxy rejected the client certificate)" : "";
		snprintf(buf, sizeof buf, "the proxy sent TLS alert %s (%d)%s", alert_name(a), a, hint);
		return buf;
	}
	switch (err) {
	case BR_ERR_OK: return "no error";
	case BR_ERR_BAD_PARAM: return "bad parameter in TLS setup";
	case BR_ERR_BAD_STATE: return "TLS engine in a bad state";
	case BR_ERR_UNSUPPORTED_VERSION:
		return "the proxy chose a TLS version other than TLS 1.2, the only one pom-proxy "
		       "speaks (it may accept only TLS 1.3, or only versions older than 1.2)";
	case BR_ERR_BAD_VERSION: return "the proxy changed TLS version mid-stream";
	case BR_ERR_BAD_LENGTH: return "malformed TLS record length";
	case BR_ERR_TOO_LARGE: return "TLS record too large for the buffer";
	case BR_ERR_BAD_MAC: return "TLS record failed its integrity check (bad MAC)";
	case BR_ERR_NO_RANDOM: return "no random source for TLS";
	case BR_ERR_UNKNOWN_TYPE: return "unknown TLS record type (is the proxy speaking TLS?)";
	case BR_ERR_UNEXPECTED: return "unexpected TLS message from the proxy";
	case BR_ERR_BAD_CCS: return "bad ChangeCipherSpec from the proxy";
	case BR_ERR_BAD_ALERT: return "malformed TLS alert from the proxy";
	case BR_ERR_BAD_HANDSHAKE: return "malformed TLS handshake message from the proxy";
	case BR_ERR_OVERSIZED_ID: return "oversized TLS session ID from the proxy";
	case BR_ERR_BAD_CIPHER_SUITE:
		return "the proxy chose a cipher suite pom-proxy did not offer";
	case BR_ERR_BAD_COMPRESSION: return "the proxy chose TLS compression";
	case BR_ERR_BAD_FRAGLEN: return "the proxy sent a bad max_fragment_length";
	case BR_ERR_BAD_SECRENEG: return "TLS secure renegotiation failed";
	case BR_ERR_EXTRA_EXTENSION: return "the proxy sent an unrequested TLS extension";
	case BR_ERR_BAD_SNI: return "the proxy sent a bad SNI extension";
	case BR_ERR_BAD_HELLO_DONE: return "malformed ServerHelloDone";
	case BR_ERR_LIMIT_EXCEEDED: return "a TLS limit was exceeded";
	case BR_ERR_BAD_FINISHED: return "TLS Finished message did not verify";
	case BR_ERR_RESUME_MISMATCH: return "TLS session resumption mismatch";
	case BR_ERR_INVALID_ALGORITHM: return "the proxy used an unsupported signature algorithm";
	case BR_ERR_BAD_SIGNATURE: return "the proxy's key exchange signature is invalid";
	case BR_ERR_WRONG_KEY_USAGE: return "the proxy's certificate key cannot be used for this key exchange";
	case BR_ERR_NO_CLIENT_AUTH:
		return "the proxy requires a client certificate (--client-cert/--client-key)";
	case BR_ERR_IO: return "I/O error on the TLS connection";
	case BR_ERR_X509_INVALID_VALUE: case BR_ERR_X509_TRUNCATED:
	case BR_ERR_X509_INNER_TRUNC: case BR_ERR_X509_BAD_TAG_CLASS:
	case BR_ERR_X509_BAD_TAG_VALUE: case BR_ERR_X509_INDEFINITE_LENGTH:
	case BR_ERR_X509_EXTRA_ELEMENT: case BR_ERR_X509_UNEXPECTED:
	case BR_ERR_X509_NOT_CONSTRUCTED: case BR_ERR_X509_NOT_PRIMITIVE:
	case BR_ERR_X509_PARTIAL_BYTE: case BR_ERR_X509_BAD_BOOLEAN:
	case BR_ERR_X509_OVERFLOW: case BR_ERR_X509_BAD_DN: case BR_ERR_X509_BAD_TIME:
		return "the proxy's certificate is malformed";
	case BR_ERR_X509_EMPTY_CHAIN: return "the proxy sent no certificate";
	case BR_ERR_X509_UNSUPPORTED:
		return "the proxy's certificate uses an unsupported algorithm (RSA-PSS and Ed25519 are not supported)";
	case BR_ERR_X509_LIMIT_EXCEEDED: return "the proxy's certificate chain is too long (or, for a proxy "
		       "addressed by IP, its certificate is over 16 KiB)";
	case BR_ERR_X509_WRONG_KEY_TYPE: return "the proxy's certificate has an unexpected key type";
	case BR_ERR_X509_BAD_SIGNATURE: return "a signature in the proxy's certificate chain is invalid";
	case BR_ERR_X509_TIME_UNKNOWN: return "the current time is unknown";
	case BR_ERR_X509_EXPIRED:
		return "the proxy's certificate has expired or is not yet valid";
	case BR_ERR_X509_DN_MISMATCH: return "the proxy's certificate chain is out of order";
	case BR_ERR_X509_BAD_SERVER_NAME:
		return "the proxy's certificate is for another host name";
	case BR_ERR_X509_CRITICAL_EXTENSION:
		return "the proxy's certificate has an unsupported critical extension";
	case BR_ERR_X509_NOT_CA: return "a certificate in the proxy's chain is not a CA";
	case BR_ERR_X509_FORBIDDEN_KEY_USAGE: return "the proxy's certificate forbids server use";
	case BR_ERR_X509_WEAK_PUBLIC_KEY: return "the proxy's certificate key is too weak";
	case BR_ERR_X509_NOT_TRUSTED:
		return "certificate signed by unknown authority (add it with --alternate-ca-path)";
	default:
		snprintf(buf, sizeof buf, "TLS error %d", err);
		return buf;
	}
}

enum pom_exit tls_error_exit(int err)
{
	if (err >= BR_ERR_SEND_FATAL_ALERT)
		return EXIT_TLS;
	if (err >= BR_ERR_RECV_FATAL_ALERT)
		return client_cert_alert(err - BR_ERR_RECV_FATAL_ALERT) ? EXIT_CLIENTCERT : EXIT_TLS;
	if (err >= BR_ERR_X509_OK && err < BR_ERR_RECV_FATAL_ALERT)
		return EXIT_VERIFY;
	if (err == BR_ERR_NO_CLIENT_AUTH)
		return EXIT_CLIENTCERT;
	return EXIT_TLS;
}

const char *tls_suite_name(uint16_t suite)
{
	switch (suite) {
	case BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: return "ECDHE-ECDSA-AES128-GCM-SHA256";
	case BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: return "ECDHE-RSA-AES128-GCM-SHA256";
	case BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: return "ECDHE-ECDSA-AES256-GCM-SHA384";
	case BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: return "ECDHE-RSA-AES256-GCM-SHA384";
	case BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: return "ECDHE-ECDSA-CHACHA20-POLY1305";
	case BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: return "ECDHE-RSA-CHACHA20-POLY1305";
	default: return "unknown suite";
	}
}

const char *tls_group_name(int curve)
{
	switch (curve) {
	case BR_EC_curve25519: return "X25519";
	case BR_EC_secp256r1: return "P-256";
	case BR_EC_secp384r1: return "P-384";
	case BR_EC_secp521r1: return "P-521";
	default: return "unknown group";
	}
}

/* The peer stopped reading: feed the engine what it sent before, so that
 * a fatal alert it sent (e.g. "certificate required") becomes the error. */
static void read_pending(br_ssl_engine_context *eng, int fd)
{
	size_t len;
	unsigned char *buf;
	for (int i = 0; i < 64 && (buf = br_ssl_engine_recvrec_buf(eng, &len)) != NULL; i++) {
		ssize_t r = read(fd, buf, len);
		if (r <= 0)
			break;
		br_ssl_engine_recvrec_ack(eng, (size_t)r);
	}
}

enum tls_pump_result tls_pump_until(br_ssl_engine_context *eng, int fd, unsigned want,
				   long deadline)
{
	for (;;) {
		unsigned st = br_ssl_engine_current_state(eng);
		if (st & BR_SSL_CLOSED)
			return TLS_PUMP_CLOSED;
		if (st & want)
			return TLS_PUMP_OK;
		struct pollfd pfd = { fd, 0, 0 };
		if (st & BR_SSL_SENDREC)
			pfd.events |= POLLOUT;
		if (st & BR_SSL_RECVREC)
			pfd.events |= POLLIN;
		long left = deadline - monotonic_ms();
		if (left <= 0)
			return TLS_PUMP_TIMEOUT;
		int r = poll(&pfd, 1, (int)left);
		if (r < 0 && errno != EINTR)
			return TLS_PUMP_IOERR;
		if (r <= 0)
			continue;
		size_t len;
		unsigned char *buf;
		if ((pfd.revents & (POLLOUT | POLLERR | POLLHUP)) &&
		    (buf = br_ssl_engine_sendrec_buf(eng, &len)) != NULL) {
			ssize_t w = write(fd, buf, len);
			if (w > 0) {
				br_ssl_engine_sendrec_ack(eng, (size_t)w);
			} else if (!(w < 0 && (errno == EAGAIN || errno == EINTR))) {
				int e = errno;
				read_pending(eng, fd); /* the alert that explains it */
				errno = e;
				return TLS_PUMP_IOERR;
			}
		}
		if ((pfd.revents & (POLLIN | POLLERR | POLLHUP)) &&
		    (buf = br_ssl_engine_recvrec_buf(eng, &len)) != NULL) {
			ssize_t rd = read(fd, buf, len);
			if (rd > 0)
				br_ssl_engine_recvrec_ack(eng, (size_t)rd);
			else if (rd == 0)
				return TLS_PUMP_EOF;
			else if (errno != EAGAIN && errno != EINTR)
				return TLS_PUMP_IOERR;
		}
	}
}

