/* exitcode: how pom-proxy ends, one code per class of failure (the
 * README, --help and the man page document them; tests/docs.t checks).
 *
 * Two conventions for a failure, by who reports it:
 *   - a function that reports its own failure (net_connect, fwdproxy_*,
 *     token_find, tunnel_open) says it in one log_error line
 *     and returns its class as an enum pom_exit, its results going
 *     through out-parameters; callers pass the class up without a second
 *     message, and main() exits with it;
 *   - a helper that leaves the words to its caller (files, caches,
 *     parsers) returns -1 with errno, taken at the call that failed. */
#ifndef POM_EXITCODE_H
#define POM_EXITCODE_H

/* Exit codes, one per class of failure (documented in README and --help). */
enum pom_exit {
	EXIT_OK = 0,          /* tunnel ran and ended normally */
	EXIT_BROKEN = 1,      /* tunnel failed after it was open */
	EXIT_USAGE = 2,       /* bad arguments, bad destination or URL */
	EXIT_LOCAL = 3,       /* local system error: files, trust store, memory */
	EXIT_DNS = 4,         /* proxy host name did not resolve */
	EXIT_CONNECT = 5,     /* TCP connection to the proxy failed or timed out */
	EXIT_TLS = 6,         /* TLS handshake failed (protocol, alert, version) */
	EXIT_VERIFY = 7,      /* proxy certificate not trusted or wrong name */
	EXIT_SIGNIN = 8,      /* no token or token refused (302/401) */
	EXIT_DENIED = 9,      /* policy denies this user this route (403) */
	EXIT_NOROUTE = 10,    /* no such route on this proxy (404) */
	EXIT_UPSTREAM = 11,   /* proxy cannot reach the destination (502/503/504) */
	EXIT_CLIENTCERT = 12, /* client certificate or device refused (495/450) */
	EXIT_PROTOCOL = 13,   /* proxy answered something else, or too late */
};

#endif
