/* callback: the loopback HTTP server the browser is sent back to after
 * sign-in (protocol.md §4, steps 3-4), hardened: 127.0.0.1 only, an
 * unguessable path, GET only, Host checked, requests bounded in size and
 * time, single use. It is driven by the caller's poll() loop so that the
 * terminal (paste-back) and signals can be watched at the same time. */
#ifndef POM_CALLBACK_H
#define POM_CALLBACK_H

#include <poll.h>
#include <stddef.h>

#define CALLBACK_CONNS 16          /* connections served at once (then the oldest goes) */
#define CALLBACK_REQ_MAX 8192      /* largest request head accepted */
#define CALLBACK_READ_MS 5000      /* time a client has to send its request */

struct callback_conn {
	int fd;                    /* -1 when free */
	long deadline;             /* monotonic ms */
	size_t len;
	char buf[CALLBACK_REQ_MAX + 1];
};

struct callback {
	int listen_fd;
	unsigned port;
	char path[64];             /* "/callback/<32 hex>" */
	char redirect_uri[128];    /* "http://127.0.0.1:PORT/callback/<hex>" */
	int used;                  /* a token was delivered */
	int detached;              /* the pom-proxy that asked for it has lost its ssh:
				    * the browser's page says the next one will use it */
	struct callback_conn conns[CALLBACK_CONNS];
};

/* Listen on 127.0.0.1 on a kernel-chosen port with a fresh random path.
 * Returns 0, or -1 after log_error. */
int callback_open(struct callback *cb);

/* Append the callback's descriptors to pfd (at most CALLBACK_CONNS + 1
 * entries) and return how many were added. */
int callback_pollfds(const struct callback *cb, struct pollfd *pfd);

/* Milliseconds until the earliest connection deadline (or -1 if none). */
int callback_timeout(const struct callback *cb);

/* Serve what the n entries at pfd (as filled by callback_pollfds and then
 * polled) allow: accept, read, answer. Requests that are not exactly one
 * GET of the path with the right Host and a valid pomerium_jwt get an
 * error status (404, 405, 400, 409 for a second use, 408 for a slow
 * client, 431 for an oversized one) and change nothing. Returns 1 when a
 * valid token was received (copied to token, at most size-1 bytes), else
 * 0. Expired connections are closed. */
int callback_serve(struct callback *cb, const struct pollfd *pfd, int n,
		   char *token, size_t size);

/* Judge one complete request head req (NUL-terminated): returns 200 and
 * copies the token when it is a GET of exactly cb's path, with a Host of
 * 127.0.0.1:PORT or localhost:PORT and a valid pomerium_jwt, and cb was
 * not used yet; else 400 (malformed), 405 (not GET), 404 (other path),
 * 421 (wrong Host), 409 (already used) or 422 (no valid token). Pure: it
 * neither answers nor marks cb used. */
int callback_check(const struct callback *cb, const char *req, char *token, size_t size);

/* Close the listener and every connection. */
void callback_close(struct callback *cb);

/* Extract and percent-decode the pomerium_jwt parameter from a URL or a
 * query string into token. Returns 1 when found and made of token
 * characters, else 0. */
int callback_token_from_url(const char *url, char *token, size_t size);

#endif
