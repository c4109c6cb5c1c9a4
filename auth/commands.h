/* commands: the token cache seen from the command line —
 * `pom-proxy status`, `logout [URL]`, `cache location`, `cache clear`.
 * Output meant for the user goes to stdout; problems to stderr. */
#ifndef POM_COMMANDS_H
#define POM_COMMANDS_H

#include "log.h"

/* List each cached token: proxy, user (sub/email claims when present),
 * age (from iat, else the file's mtime) and expiry (exp, when present).
 * Never prints a token. */
enum pom_exit cmd_status(void);

/* Remove the cached token of the proxy "host:port" (authority), or of
 * every proxy when authority is NULL; say what was removed. */
enum pom_exit cmd_logout(const char *authority);

/* Print the cache directory. */
enum pom_exit cmd_cache_location(void);

/* Remove everything pom-proxy keeps in its cache directory (tokens,
 * sign-in state, TLS sessions, decoded trust anchors), leaving the
 * directory. */
enum pom_exit cmd_cache_clear(void);

#endif
