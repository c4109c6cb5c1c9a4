/* testtls: test-only TLS helpers — PEM loading with BearSSL's own
 * decoders, and an in-process BearSSL echo server for handshake tests.
 *
 * Every loader reports a failure as one line on stderr naming the file,
 * and leaves nothing allocated behind when it fails. */
#ifndef POM_TESTTLS_H
#define POM_TESTTLS_H

#include <stddef.h>
#include <sys/types.h>
#include <bearssl.h>

/* Most certificates one PEM file may hold for these helpers. */
#define TESTTLS_MAX_CERTS 8

/* Certificates (DER, heap-allocated) in file order. */
struct testtls_certs {
	br_x509_certificate cert[TESTTLS_MAX_CERTS];
	size_t n;
};

/* Trust anchors (DN and key data heap-allocated). */
struct testtls_anchors {
	br_x509_trust_anchor ta[TESTTLS_MAX_CERTS];
	size_t n;
};

/* Load every CERTIFICATE object of the PEM file path into out (other
 * objects are ignored). Returns 0 when at least one was loaded, -1 on a
 * read or PEM error, no certificate, or more than TESTTLS_MAX_CERTS. */
int testtls_load_certs(const char *path, struct testtls_certs *out);

/* Release what testtls_load_certs allocated; out is left empty. */
void testtls_free_certs(struct testtls_certs *out);

/* Load every certificate of the PEM file path as a trust anchor (subject
 * DN and public key; BR_X509_TA_CA when it is a CA). Returns 0 when at
 * least one was loaded, -1 otherwise (as testtls_load_certs, or a
 * certificate br_x509_decoder rejects). */
int testtls_load_anchors(const char *path, struct testtls_anchors *out);

/* Release what testtls_load_anchors allocated; out is left empty. */
void testtls_free_anchors(struct testtls_anchors *out);

/* Decode the first private key of the PEM file path ("RSA PRIVATE KEY",
 * "EC PRIVATE KEY" or unencrypted "PRIVATE KEY") into key; the key stays
 * inside key, so key must outlive its users. Returns 0, or -1 when the
 * file has no such object or br_skey_decoder rejects it. */
int testtls_load_key(const char *path, br_skey_decoder_context *key);

/* Fork a child running a BearSSL TLS 1.2 server on fd (e.g. one end of a
 * socketpair), with the certificate chain and private key (EC or RSA)
 * from the PEM files chain_pem and key_pem. If client_ca_pem is not NULL
 * the server requires a client certificate that chains to a certificate
 * in that file. After the handshake it echoes every application byte
 * back, flushing after each read, until the client sends close_notify or
 * the socket reaches EOF.
 * The child closes every descriptor above 2 except fd (so the peer sees
 * EOF once the parent closes its own copies), ignores SIGPIPE, writes
 * nothing on stdout, kills itself after 30 s (SIGALRM), and exits with
 *   0  the handshake succeeded and the session ended by close_notify or EOF,
 *   1  the handshake failed,
 *   2  a TLS or I/O error after the handshake.
 * The files are loaded before the fork: a load error returns -1 with a
 * line on stderr. The parent's copy of fd is NOT closed. Returns the
 * child's pid, or -1. */
pid_t testtls_echo_server(int fd, const char *chain_pem, const char *key_pem,
			  const char *client_ca_pem);

/* Wait for the child pid; return its exit status (0..255), 128 + the
 * signal number if a signal killed it, or -1 if waitpid fails. */
int testtls_wait(pid_t pid);

#endif
