/* loginapi: ask the proxy for a sign-in URL (protocol.md §4, step 2). */
#ifndef POM_LOGINAPI_H
#define POM_LOGINAPI_H

#include <stddef.h>
#include "dest.h"
#include "httpget.h"
#include "log.h"

/* GET <proxy>/.pomerium/api/v1/login?pomerium_redirect_uri=<redirect_uri>
 * (httpget: default port left out of the authority, the tunnel's trust
 * settings) and put the sign-in URL the proxy answers in url.
 * Returns EXIT_OK, or an exit class after one log_error line. */
enum pom_exit loginapi_signin_url(const struct dest *d, const char *redirect_uri,
				  const struct httpget_settings *tls, char *url, size_t size);

#endif
