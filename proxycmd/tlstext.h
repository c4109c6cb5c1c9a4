/* tlstext: BearSSL's TLS outcomes in words and in exit codes, for the one
 * stderr line a failed tunnel prints and for -v. Nothing here allocates
 * or keeps state beyond one static buffer (tls_error_text). */
#ifndef POM_TLSTEXT_H
#define POM_TLSTEXT_H

#include <stdint.h>
#include "exitcode.h"

/* A sentence for a br_ssl_engine_last_error() code (never NULL). The
 * text of an alert or an unknown code is formatted into a static buffer:
 * valid until the next call. */
const char *tls_error_text(int err);

/* The exit class for a handshake that failed with err: EXIT_VERIFY for
 * certificate checks, EXIT_CLIENTCERT when the proxy rejected our client
 * certificate, else EXIT_TLS. */
enum pom_exit tls_error_exit(int err);

/* IANA-style name of a negotiated cipher suite, e.g. "ECDHE-RSA-AES128-GCM-SHA256". */
const char *tls_suite_name(uint16_t suite);

/* The name of an ECDHE group by its TLS number ("X25519", "P-256",
 * "P-384", "P-521"), or "unknown group". */
const char *tls_group_name(int curve);

#endif
