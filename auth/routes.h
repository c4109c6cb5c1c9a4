/* routes: Pomerium's routes API (GET /.pomerium/api/v1/routes,
 * protocol.md §10) with the user's token — the list a signed-in user may
 * use, and the check that the proxy still accepts a token. The cold path
 * of `pom-proxy routes`, `ssh-config --routes` and `pom-proxy auth`:
 * libcurl (httpget) and the sign-in machinery (login_obtain). */
#ifndef POM_ROUTES_H
#define POM_ROUTES_H

#include <stddef.h>
#include "dest.h"
#include "login.h"
#include "routesjson.h"
#include "token.h"

#define ROUTES_PATH "/.pomerium/api/v1/routes"

/* The routes API's 200 answer, as it came. */
struct routes_answer {
	char body[ROUTES_BODY_MAX + 1];
	size_t len;
};

/* GET the routes of d's proxy with "Accept: application/json" (so that a
 * missing or refused token gets 401, not a redirect) and the token
 * token_find gives for topt. On a 302 or 401 sign in (login_obtain: one
 * sign-in per proxy, browser or paste, the cache) and ask once more; a
 * service-account token is reported refused instead. Fills ans with the
 * body of the 200 answer. Never logs the token.
 * Returns EXIT_OK, or an exit class after one log_error line: EXIT_NOROUTE
 * (404: the proxy serves no routes list), EXIT_DENIED (403), EXIT_SIGNIN
 * (sign-in failed, or the token is still refused), EXIT_PROTOCOL (405,
 * another status, a body over ROUTES_BODY_MAX), or what the connection or
 * the sign-in failed with. */
enum pom_exit routes_fetch(const struct dest *d, const struct token_options *topt,
			   const struct login_options *lo, struct routes_answer *ans);

/* routes_fetch, then routes_parse of the answer into list, saying (one
 * warning) how many routes were left out. Returns EXIT_OK, or an exit
 * class after one log_error line (EXIT_PROTOCOL: not a routes list,
 * EXIT_LOCAL: json-c missing). */
enum pom_exit routes_read(const struct dest *d, const struct token_options *topt,
			  const struct login_options *lo, struct routes_answer *ans,
			  struct route_list *list);

/* `pom-proxy auth URL`: print on stdout (one line) a token that d's proxy
 * accepts. A token at hand (topt, then the cache) is checked with one
 * routes GET: accepted (200), it is printed; refused (302/401), a sign-in
 * gets a fresh one (not for a service-account token: EXIT_SIGNIN). A proxy
 * without the routes API (404, 405) cannot check it: the token is printed
 * after a warning. Without a token, it signs in at once. Returns EXIT_OK,
 * or an exit class after one log_error line. */
enum pom_exit routes_auth(const struct dest *d, const struct token_options *topt,
			  const struct login_options *lo);

#endif
