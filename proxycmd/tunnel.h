/* tunnel: open one tunnel to DEST through the proxy — TCP connect, TLS
 * handshake, CONNECT request and the proxy's answer — ready for splice. */
#ifndef POM_TUNNEL_H
#define POM_TUNNEL_H

/* Largest CONNECT request: the token plus a few short header lines. */
#define TUNNEL_REQ_MAX (16384 + 1024)

#include "dest.h"
#include "http.h"
#include "log.h"
#include "splice.h"
#include "tls.h"
#include "token.h"
#include "session.h"

struct tunnel_config {
	const struct dest *dest;
	const char *token;             /* sent as "Authorization: Pomerium", or NULL */
	const struct tls_params *tls;  /* anchors, insecure, identity (name/IP filled in here) */
	int timeout_ms;                /* TCP connect; then TLS + CONNECT answer */
	const struct session_binding *session; /* resume and keep TLS sessions, or NULL */
	const char *basic;             /* forward proxy: Proxy-Authorization Basic, or NULL */
	int via_fd;                    /* >= 0: a connection to the proxy already made
					* (through a forward proxy); else connect */
};

struct tunnel {
	int fd;                        /* the connection to the proxy */
	struct tls_client *tls;        /* caller's storage, used when dest->tls */
	struct splice_plain *plain;    /* caller's storage, used when !dest->tls */
	struct http_parser resp;       /* the proxy's answer to CONNECT */
};

/* Open a tunnel: t->tls (for https) or t->plain (for http) must point to
 * caller-owned storage. On return EXIT_OK, the proxy has answered and
 * t->resp.status holds its status: 200 means the tunnel is open (bytes
 * that followed the answer are kept in the engine or in t->plain->down),
 * any other status is for tunnel_status_exit. Any other return value is
 * the exit class of a failure already reported with one log_error line;
 * t->fd is then closed. */
enum pom_exit tunnel_open(struct tunnel *t, const struct tunnel_config *c);

/* For a non-200 answer: report it with one log_error line that says what
 * it means for this destination and proxy, and return its exit class
 * (302/401 -> EXIT_SIGNIN, 403 -> EXIT_DENIED, 404 -> EXIT_NOROUTE,
 * 502/503/504 -> EXIT_UPSTREAM, 495/450 -> EXIT_CLIENTCERT, else
 * EXIT_PROTOCOL). src says where the token sent came from. */
enum pom_exit tunnel_status_exit(const struct tunnel *t, const struct dest *d,
				 enum token_source src);

/* Close the connection (no close_notify: for failures before the splice). */
void tunnel_close(struct tunnel *t);

#endif
