/* loginapi: ask the proxy for a sign-in URL (protocol.md §4, step 2)
 * through libcurl.
 *
 * libcurl is loaded with dlopen() only when a sign-in is needed, so the
 * cached-token path never maps it (nor the TLS library it drags in).
 * Built with -DPOM_CURL_STATIC, the same code calls a statically linked
 * libcurl instead. */
#ifndef POM_LOGINAPI_H
#define POM_LOGINAPI_H

#include <stddef.h>
#include "dest.h"
#include "log.h"

/* Trust, proxy and time settings: the same the tunnel uses. */
struct loginapi_settings {
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

/* GET <proxy>/.pomerium/api/v1/login?pomerium_redirect_uri=<redirect_uri>
 * (default port left out of the authority, HTTPS_PROXY/NO_PROXY honoured
 * as by any curl client unless --proxy was given) and put the sign-in URL
 * the proxy answers in url. The proxy (and an https:// forward proxy) is
 * verified against exactly the anchors the tunnel uses: libcurl's own
 * defaults are switched off.
 * Returns EXIT_OK, or an exit class after one log_error line. */
enum pom_exit loginapi_signin_url(const struct dest *d, const char *redirect_uri,
				  const struct loginapi_settings *tls, char *url, size_t size);

/* The proxy's base URL as the login API wants it: "https://host" with
 * ":port" only when it is not the scheme's default, IPv6 bracketed.
 * Returns the length, or -1 when it does not fit. */
int loginapi_base_url(const struct dest *d, char *buf, size_t size);

#endif
