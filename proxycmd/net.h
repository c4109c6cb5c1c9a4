/* net: reaching the proxy over TCP. */
#ifndef POM_NET_H
#define POM_NET_H

#include <stddef.h>
#include <sys/socket.h>
#include "log.h"

/* Resolve host (a name or an IP literal) and connect to port, trying every
 * address the Happy Eyeballs way (RFC 8305): families interleaved, IPv6
 * first, a new attempt started every 250 ms while earlier ones are still
 * pending, the first to succeed wins and the others are closed. The whole
 * connect is bounded by timeout_ms. On success returns a connected,
 * non-blocking, close-on-exec socket with TCP_NODELAY set, and writes the
 * winning address (numeric, IPv6 bracketed, with port) into peer. On
 * failure returns -1 after one log_error line, with *code set to
 * EXIT_DNS or EXIT_CONNECT (or EXIT_LOCAL for a local resource error). */
int net_connect(const char *host, unsigned port, int timeout_ms,
		char *peer, size_t peer_size, enum pom_exit *code);

/* Set O_NONBLOCK on fd; returns the previous flags, or -1. */
int net_set_nonblock(int fd);

/* Put sa (IPv4 or IPv6) in buf as "192.0.2.1:443" or "[2001:db8::1]:443". */
void net_format_addr(const struct sockaddr *sa, char *buf, size_t size);

#endif
