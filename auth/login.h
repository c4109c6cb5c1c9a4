/* login: get a fresh token for a proxy — sign in through the browser (or
 * by pasting on the terminal), or wait for another pom-proxy that is
 * already signing in to the same proxy.
 *
 * One sign-in per proxy at a time, across processes: the first process
 * takes an flock() on "<cache>/logins/<host>:<port>.lock" (the kernel drops
 * it when a process dies, so no lock is ever stale) and records its
 * progress in "<host>:<port>.state" (0600): the sign-in URL while it waits,
 * then how the attempt ended. The others wait on the lock, show that URL,
 * and then use the token it stored — or fail with its message. */
#ifndef POM_LOGIN_H
#define POM_LOGIN_H

#include <stddef.h>
#include "dest.h"
#include "log.h"
#include "loginapi.h"

struct login_options {
	const char *browser_cmd;   /* --browser-cmd, or NULL */
	int no_browser;            /* --no-browser */
	int need_a_way;            /* give up at once when neither a browser
				    * started nor a terminal is there to paste
				    * into (login --if-needed: never block a
				    * caller that cannot sign in) */
	int timeout_s;             /* bound on the whole wait (--login-timeout) */
	struct httpget_settings tls;    /* trust settings for the login API */
};

/* Obtain a token for the proxy of d into token (size > TOKEN_MAX), and
 * store it in the token cache. refused is the token the proxy just
 * refused, or NULL: a cached token equal to it does not count as fresh.
 * Ctrl-C and SIGTERM end the wait cleanly (the attempt is then recorded
 * as abandoned, so waiters fail instead of starting another). When the
 * process leading the sign-in loses its ssh (SIGHUP, its parent gone, its
 * stdout pipe closed), the sign-in goes on in a detached child until the
 * browser returns or the timeout passes, and this returns EXIT_SIGNIN
 * after one log_error line saying so; the child stores the token and
 * exits, never returning here.
 * Returns EXIT_OK, or an exit class after one log_error line (EXIT_SIGNIN
 * for a sign-in that failed, timed out or was abandoned). */
enum pom_exit login_obtain(const struct dest *d, const struct login_options *o,
			   const char *refused, char *token, size_t size);

#endif
