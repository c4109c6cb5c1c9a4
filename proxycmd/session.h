/* session: TLS session resumption across pom-proxy processes.
 *
 * pom-proxy runs once per ssh connection, so BearSSL's in-memory session
 * cache is useless; instead the session parameters of the last full
 * handshake with a proxy are kept in "<cache>/sessions/<host>:<port>"
 * (0600, written atomically) for at most SESSION_TTL seconds, and offered
 * on the next connection: a resumed handshake skips the certificate chain,
 * the key exchange and their signatures (~0.3 ms of CPU instead of
 * several). A server that declines simply does a full, verified handshake.
 *
 * A session is bound to what decided the first verification: proxy host
 * and port, the name checked (or the IP), and which trust sources were
 * configured; any change means no resumption. (A change inside a trust
 * source, such as a CA removed by a package update, takes effect for
 * sessions made after it: at most SESSION_TTL later.) It is never used or stored with
 * --disable-tls-verification (nothing was verified) nor with a client
 * certificate (the master secret would let whoever reads the file resume
 * as the client without its private key). */
#ifndef POM_SESSION_H
#define POM_SESSION_H

#include <bearssl.h>
#include "dest.h"

#define SESSION_TTL 3600

/* What a session is bound to (see above): filled by session_bind. */
struct session_binding {
	char authority[DEST_HOST_MAX + 8];
	unsigned char digest[32];
};

/* Compute the binding for proxy d verified against the trust sources
 * identified by trust_id (trust_config_id). */
void session_bind(struct session_binding *b, const struct dest *d,
		  const unsigned char trust_id[32]);

/* Load the cached session for b into sp if there is one that is fresh,
 * well-formed and bound to the same digest. Returns 1 when sp was filled,
 * 0 otherwise (a corrupt or stale file is removed). */
int session_load(const struct session_binding *b, br_ssl_session_parameters *sp);

/* Remember sp, from a handshake just verified in full, for b. Failures
 * are only logged at -v: resumption is an optimisation. */
void session_store(const struct session_binding *b, const br_ssl_session_parameters *sp);

/* Forget the session of b (after a handshake that failed). */
void session_forget(const struct session_binding *b);

#endif
