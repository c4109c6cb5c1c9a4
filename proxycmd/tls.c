#include "log.h"
#include "clock.h"
#include "tls.h"
#include "tlstext.h"
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
				chaincache_init(&t->xcache, t->lazy.inner, ts->id,
						CHAINCACHE_DNS_NAME, name, strlen(name));
			else
				chaincache_init(&t->xcache, t->lazy.inner, ts->id,
						CHAINCACHE_IP_ADDRESS, t->lazy.p.ip, t->lazy.p.ip_len);
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

