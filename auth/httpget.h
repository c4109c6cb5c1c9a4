/* httpget: one GET to a Pomerium proxy's own API through libcurl — the
 * cold path shared by the sign-in (the login API) and the routes list.
 *
 * libcurl is loaded with dlopen() only when a GET is made, so the
 * cached-token tunnel never maps it (nor the TLS library it drags in).
 * Built with -DPOM_CURL_STATIC, the same code calls a statically linked
 * libcurl instead. */
#ifndef POM_HTTPGET_H
#define POM_HTTPGET_H

#include <stddef.h>
#include "dest.h"
#include "log.h"

/* Trust, proxy and time settings: the same the tunnel uses. */
struct httpget_settings {
	const char *ca_bundle;         /* system bundle file to keep trusting, or NULL */
	const char *ca_dir;            /* hashed CA directory ($SSL_CERT_DIR), or NULL */
	const char *alternate_ca_path; /* --alternate-ca-path, or NULL */
	const char *ca_cert_b64;       /* --ca-cert, or NULL */
	int insecure;                  /* --disable-tls-verification */
	const char *client_cert, *client_key; /* PEM files, or NULL */
	const char *proxy;             /* --proxy URL, or NULL: curl reads HTTPS_PROXY... */
	const char *proxy_cred_file;   /* --proxy-credentials-file, or NULL */
	int connect_timeout_ms;        /* --connect-timeout */
};

/* What to ask for. */
struct httpget_request {
	const char *what;              /* for messages: "sign-in", "routes" */
	const char *path;              /* "/.pomerium/api/v1/..." */
	const char *query_name;        /* one query parameter (value escaped here), or NULL */
	const char *query_value;
	const char *token;             /* sent as "Authorization: Pomerium <token>", or NULL */
	const char *accept;            /* the Accept header's value, or NULL */
};

/* Where the answer's body goes: the caller's buffer of size bytes, kept
 * NUL-terminated; a longer body sets overflow and ends the transfer. */
struct httpget_body {
	char *data;
	size_t size;
	size_t len;
	int overflow;
};

/* GET <proxy base URL><path>[?name=value] without following redirects,
 * HTTPS_PROXY/NO_PROXY honoured as by any curl client unless --proxy was
 * given. The proxy (and an https:// forward proxy) is verified against
 * exactly the anchors the tunnel uses: libcurl's own defaults are switched
 * off. Ctrl-C, SIGTERM or SIGHUP pending (blocked) abandon it. The token
 * is never logged. Sets *status to the HTTP status and fills body.
 * Returns EXIT_OK for any answer, or an exit class after one log_error
 * line (EXIT_SIGNIN when abandoned). */
enum pom_exit httpget(const struct dest *d, const struct httpget_request *rq,
		      const struct httpget_settings *s, struct httpget_body *body, long *status);

/* The proxy's base URL as its API wants it: "https://host" with ":port"
 * only when it is not the scheme's default, IPv6 bracketed.
 * Returns the length, or -1 when it does not fit. */
int httpget_base_url(const struct dest *d, char *buf, size_t size);

#endif
