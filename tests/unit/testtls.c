#include "testtls.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Bounds on what the loaders accept. */
#define MAX_PEM_FILE (1 << 20)
#define MAX_DER 65536
#define MAX_DN 2048
#define MAX_LABEL 128

/* ---- files and PEM --------------------------------------------------- */

/* Read the file path into a new buffer with one '\n' appended (BearSSL's
 * PEM decoder sees no END line that lacks its newline). Returns the
 * buffer and sets *len, or NULL with a message. */
static char *read_text(const char *path, size_t *len)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, "testtls: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > MAX_PEM_FILE) {
		fprintf(stderr, "testtls: %s: not a regular file of at most %d bytes\n",
			path, MAX_PEM_FILE);
		goto fail;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		goto fail;
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			fprintf(stderr, "testtls: %s: short read\n", path);
			goto fail;
		}
		got += (size_t)r;
	}
	close(fd);
	buf[got] = '\n';
	*len = got + 1;
	return buf;
fail:
	free(buf);
	close(fd);
	return NULL;
}

/* Where br_pem_decoder puts an object's bytes: bounded. */
struct der_sink {
	unsigned char data[MAX_DER];
	size_t len;
	int overflow;
};

static void sink_append(void *ctx, const void *src, size_t len)
{
	struct der_sink *s = ctx;

	if (len > sizeof s->data - s->len) {
		s->overflow = 1;
		return;
	}
	memcpy(s->data + s->len, src, len);
	s->len += len;
}

/* Called once per PEM object; returns 0 to go on, 1 to stop, -1 on error. */
typedef int (*pem_fn)(void *arg, const char *label, const unsigned char *der, size_t len);

/* Decode the PEM file path and call fn for each object in order.
 * Returns fn's 1 or -1 when it stops the walk, 0 when every object was
 * seen, -1 on a read or PEM error (with a message). */
static int pem_foreach(const char *path, pem_fn fn, void *arg)
{
	br_pem_decoder_context pc;
	struct der_sink *sink = malloc(sizeof *sink);
	char label[MAX_LABEL] = "";
	size_t len = 0, off = 0;
	char *text = read_text(path, &len);
	int inobj = 0, rc = 0;

	if (!text || !sink) {
		rc = -1;
		goto out;
	}
	br_pem_decoder_init(&pc);
	while (off < len && rc == 0) {
		off += br_pem_decoder_push(&pc, text + off, len - off);
		switch (br_pem_decoder_event(&pc)) {
		case BR_PEM_BEGIN_OBJ:
			snprintf(label, sizeof label, "%s", br_pem_decoder_name(&pc));
			sink->len = 0;
			sink->overflow = 0;
			br_pem_decoder_setdest(&pc, sink_append, sink);
			inobj = 1;
			break;
		case BR_PEM_END_OBJ:
			inobj = 0;
			if (sink->overflow) {
				fprintf(stderr, "testtls: %s: object over %d bytes\n", path, MAX_DER);
				rc = -1;
			} else {
				rc = fn(arg, label, sink->data, sink->len);
			}
			break;
		case BR_PEM_ERROR:
			fprintf(stderr, "testtls: %s: bad PEM\n", path);
			rc = -1;
			break;
		default:
			break;
		}
	}
	if (rc == 0 && inobj) {
		fprintf(stderr, "testtls: %s: PEM object without END line\n", path);
		rc = -1;
	}
out:
	free(text);
	free(sink);
	return rc;
}

/* ---- certificates, anchors, keys ------------------------------------- */

static int is_cert_label(const char *label)
{
	return strcmp(label, "CERTIFICATE") == 0 || strcmp(label, "X509 CERTIFICATE") == 0;
}

static int add_cert(void *arg, const char *label, const unsigned char *der, size_t len)
{
	struct testtls_certs *out = arg;
	unsigned char *copy;

	if (!is_cert_label(label))
		return 0;
	if (out->n == TESTTLS_MAX_CERTS) {
		fprintf(stderr, "testtls: more than %d certificates\n", TESTTLS_MAX_CERTS);
		return -1;
	}
	copy = malloc(len ? len : 1);
	if (!copy)
		return -1;
	memcpy(copy, der, len);
	out->cert[out->n].data = copy;
	out->cert[out->n].data_len = len;
	out->n++;
	return 0;
}

void testtls_free_certs(struct testtls_certs *out)
{
	size_t i;

	for (i = 0; i < out->n; i++)
		free(out->cert[i].data);
	memset(out, 0, sizeof *out);
}

int testtls_load_certs(const char *path, struct testtls_certs *out)
{
	memset(out, 0, sizeof *out);
	if (pem_foreach(path, add_cert, out) < 0 || out->n == 0) {
		if (out->n == 0)
			fprintf(stderr, "testtls: %s: no certificate loaded\n", path);
		testtls_free_certs(out);
		return -1;
	}
	return 0;
}

struct dn_sink {
	unsigned char data[MAX_DN];
	size_t len;
	int overflow;
};

static void dn_append(void *ctx, const void *src, size_t len)
{
	struct dn_sink *s = ctx;

	if (len > sizeof s->data - s->len) {
		s->overflow = 1;
		return;
	}
	memcpy(s->data + s->len, src, len);
	s->len += len;
}

/* A heap copy of n bytes (at least one byte is allocated). */
static unsigned char *dup_bytes(const unsigned char *src, size_t n)
{
	unsigned char *p = malloc(n ? n : 1);

	if (p)
		memcpy(p, src, n);
	return p;
}

/* Turn one DER certificate into the anchor ta. Returns 0 or -1. */
static int make_anchor(const br_x509_certificate *cert, br_x509_trust_anchor *ta)
{
	br_x509_decoder_context dc;
	struct dn_sink dn = { .len = 0 };
	const br_x509_pkey *pk;

	memset(ta, 0, sizeof *ta);
	br_x509_decoder_init(&dc, dn_append, &dn);
	br_x509_decoder_push(&dc, cert->data, cert->data_len);
	pk = br_x509_decoder_get_pkey(&dc);
	if (!pk || dn.overflow) {
		fprintf(stderr, "testtls: certificate not decodable (error %d)\n",
			br_x509_decoder_last_error(&dc));
		return -1;
	}
	ta->dn.data = dup_bytes(dn.data, dn.len);
	ta->dn.len = dn.len;
	ta->flags = br_x509_decoder_isCA(&dc) ? BR_X509_TA_CA : 0;
	ta->pkey.key_type = pk->key_type;
	if (pk->key_type == BR_KEYTYPE_RSA) {
		ta->pkey.key.rsa.n = dup_bytes(pk->key.rsa.n, pk->key.rsa.nlen);
		ta->pkey.key.rsa.nlen = pk->key.rsa.nlen;
		ta->pkey.key.rsa.e = dup_bytes(pk->key.rsa.e, pk->key.rsa.elen);
		ta->pkey.key.rsa.elen = pk->key.rsa.elen;
		if (ta->dn.data && ta->pkey.key.rsa.n && ta->pkey.key.rsa.e)
			return 0;
	} else {
		ta->pkey.key.ec.curve = pk->key.ec.curve;
		ta->pkey.key.ec.q = dup_bytes(pk->key.ec.q, pk->key.ec.qlen);
		ta->pkey.key.ec.qlen = pk->key.ec.qlen;
		if (ta->dn.data && ta->pkey.key.ec.q)
			return 0;
	}
	return -1;
}

static void free_anchor(br_x509_trust_anchor *ta)
{
	free(ta->dn.data);
	if (ta->pkey.key_type == BR_KEYTYPE_RSA) {
		free(ta->pkey.key.rsa.n);
		free(ta->pkey.key.rsa.e);
	} else {
		free(ta->pkey.key.ec.q);
	}
	memset(ta, 0, sizeof *ta);
}

void testtls_free_anchors(struct testtls_anchors *out)
{
	size_t i;

	for (i = 0; i < out->n; i++)
		free_anchor(&out->ta[i]);
	memset(out, 0, sizeof *out);
}

int testtls_load_anchors(const char *path, struct testtls_anchors *out)
{
	struct testtls_certs certs;
	size_t i;

	memset(out, 0, sizeof *out);
	if (testtls_load_certs(path, &certs) < 0)
		return -1;
	for (i = 0; i < certs.n; i++) {
		if (make_anchor(&certs.cert[i], &out->ta[i]) < 0) {
			free_anchor(&out->ta[i]);
			fprintf(stderr, "testtls: %s: certificate %zu unusable as anchor\n", path, i);
			testtls_free_anchors(out);
			testtls_free_certs(&certs);
			return -1;
		}
		out->n++;
	}
	testtls_free_certs(&certs);
	return 0;
}

static int add_key(void *arg, const char *label, const unsigned char *der, size_t len)
{
	br_skey_decoder_context *key = arg;

	if (strcmp(label, "RSA PRIVATE KEY") != 0 && strcmp(label, "EC PRIVATE KEY") != 0 &&
	    strcmp(label, "PRIVATE KEY") != 0)
		return 0;
	br_skey_decoder_init(key);
	br_skey_decoder_push(key, der, len);
	if (br_skey_decoder_last_error(key) != 0) {
		fprintf(stderr, "testtls: private key rejected (error %d)\n",
			br_skey_decoder_last_error(key));
		return -1;
	}
	return 1;
}

int testtls_load_key(const char *path, br_skey_decoder_context *key)
{
	int rc = pem_foreach(path, add_key, key);

	if (rc == 0)
		fprintf(stderr, "testtls: %s: no private key\n", path);
	return rc == 1 ? 0 : -1;
}

/* ---- the echo server -------------------------------------------------- */

/* Everything the child needs, loaded by the parent before the fork. */
struct server_setup {
	struct testtls_certs chain;
	br_skey_decoder_context key;
	struct testtls_anchors cas;
	unsigned issuer_key_type; /* signer of chain[0], for ECDH suites */
};

struct sock_io {
	int fd;
	int eof;
};

static int sock_read(void *ctx, unsigned char *buf, size_t len)
{
	struct sock_io *io = ctx;

	for (;;) {
		ssize_t r = read(io->fd, buf, len);
		if (r > 0)
			return (int)r;
		if (r == 0) {
			io->eof = 1;
			return -1;
		}
		if (errno != EINTR)
			return -1;
	}
}

static int sock_write(void *ctx, const unsigned char *buf, size_t len)
{
	struct sock_io *io = ctx;

	for (;;) {
		ssize_t r = write(io->fd, buf, len);
		if (r >= 0)
			return (int)r;
		if (errno != EINTR)
			return -1;
	}
}

/* Close every descriptor above 2 except keep. */
static void close_others(int keep)
{
	if (keep > 3)
		close_range(3, (unsigned)keep - 1, 0);
	close_range(keep < 3 ? 3 : (unsigned)keep + 1, ~0U, 0);
}

/* The child's whole life; returns its exit status. */
static int echo_child(int fd, struct server_setup *s)
{
	static br_ssl_server_context sc;
	static br_x509_minimal_context xc;
	static unsigned char iobuf[BR_SSL_BUFSIZE_BIDI];
	static unsigned char data[4096];
	br_sslio_context ioc;
	struct sock_io io = { fd, 0 };
	int n;

	if (br_skey_decoder_key_type(&s->key) == BR_KEYTYPE_RSA)
		br_ssl_server_init_full_rsa(&sc, s->chain.cert, s->chain.n,
					    br_skey_decoder_get_rsa(&s->key));
	else
		br_ssl_server_init_full_ec(&sc, s->chain.cert, s->chain.n,
					   s->issuer_key_type, br_skey_decoder_get_ec(&s->key));
	br_ssl_engine_set_versions(&sc.eng, BR_TLS12, BR_TLS12);
	br_ssl_engine_set_buffer(&sc.eng, iobuf, sizeof iobuf, 1);
	if (s->cas.n > 0) {
		br_x509_minimal_init_full(&xc, s->cas.ta, s->cas.n);
		br_ssl_engine_set_default_rsavrfy(&sc.eng);
		br_ssl_engine_set_default_ecdsa(&sc.eng);
		br_ssl_server_set_trust_anchor_names_alt(&sc, s->cas.ta, s->cas.n);
		br_ssl_engine_set_x509(&sc.eng, &xc.vtable);
	}
	if (!br_ssl_server_reset(&sc))
		return 1;
	br_sslio_init(&ioc, &sc.eng, sock_read, &io, sock_write, &io);
	if (br_sslio_flush(&ioc) < 0)
		return 1;
	while ((n = br_sslio_read(&ioc, data, sizeof data)) > 0) {
		if (br_sslio_write_all(&ioc, data, (size_t)n) < 0 || br_sslio_flush(&ioc) < 0)
			return 2;
	}
	return (br_ssl_engine_last_error(&sc.eng) == 0 || io.eof) ? 0 : 2;
}

static void free_setup(struct server_setup *s)
{
	testtls_free_certs(&s->chain);
	testtls_free_anchors(&s->cas);
	free(s);
}

pid_t testtls_echo_server(int fd, const char *chain_pem, const char *key_pem,
			  const char *client_ca_pem)
{
	struct server_setup *s = calloc(1, sizeof *s);
	br_x509_decoder_context dc;
	pid_t pid;

	if (!s)
		return -1;
	if (testtls_load_certs(chain_pem, &s->chain) < 0 ||
	    testtls_load_key(key_pem, &s->key) < 0 ||
	    (client_ca_pem && testtls_load_anchors(client_ca_pem, &s->cas) < 0)) {
		free_setup(s);
		return -1;
	}
	br_x509_decoder_init(&dc, 0, NULL);
	br_x509_decoder_push(&dc, s->chain.cert[0].data, s->chain.cert[0].data_len);
	if (br_x509_decoder_last_error(&dc) != 0) {
		fprintf(stderr, "testtls: %s: first certificate not decodable\n", chain_pem);
		free_setup(s);
		return -1;
	}
	s->issuer_key_type = br_x509_decoder_get_signer_key_type(&dc);
	pid = fork();
	if (pid == 0) {
		close_others(fd);
		signal(SIGPIPE, SIG_IGN);
		alarm(30);
		_exit(echo_child(fd, s));
	}
	free_setup(s);
	return pid;
}

int testtls_wait(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -1;
}
