/* relay: one whole tunnel for one local connection — find the token, open
 * the tunnel, sign in and retry once when the proxy asks for it, then
 * splice until the session ends. stdio mode runs it once on (0, 1);
 * listener mode runs it in a child process per accepted connection. */
#ifndef POM_RELAY_H
#define POM_RELAY_H

#include <stddef.h>
#include "dest.h"
#include "fwdproxy.h"
#include "log.h"
#include "session.h"
#include "tls.h"
#include "token.h"

/* The sign-in the relay calls when the proxy asks for one (a redirect or
 * 401) and the token was the cached one or none: obtain a fresh token for
 * the proxy of d into token (size > TOKEN_MAX) and cache it. refused is
 * the token the proxy just refused, or NULL; ctx is the config's
 * sign_in_ctx. Returns EXIT_OK, or an exit class after one log_error line.
 * The sign-in lives in auth/, above this folder: main.c connects them. */
typedef enum pom_exit (*relay_sign_in_fn)(const void *ctx, const struct dest *d,
					  const char *refused, char *token, size_t size);

struct relay_config {
	const struct dest *dest;
	struct token_options token;
	struct tls_params tls;                 /* base TLS parameters (see tunnel.h) */
	const struct session_binding *session; /* or NULL: no resumption */
	relay_sign_in_fn sign_in;              /* or NULL: a sign-in request is final */
	const void *sign_in_ctx;
	int timeout_ms;
	const struct fwdproxy *fwd;            /* forward proxy to go through, or NULL */
};

/* Run one tunnel between local_in/local_out (made non-blocking here and
 * restored afterwards) and DEST. When they are one descriptor (a listener's
 * socket), its EOF ends the session (see splice.h). Until the splice starts, SIGINT, SIGTERM
 * and SIGHUP keep their current disposition (a sign-in catches them
 * itself); during the splice they end the session cleanly. Returns the
 * process exit code (see exitcode.h), after one log_error line on failure. */
int relay_run(const struct relay_config *c, int local_in, int local_out);

#endif
