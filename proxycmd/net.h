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
 * connect is bounded by timeout_ms. On success returns EXIT_OK with a
 * connected, non-blocking, close-on-exec socket with TCP_NODELAY set in
 * *fd, and the winning address (numeric, IPv6 bracketed, with port) in
 * peer. On failure returns EXIT_DNS or EXIT_CONNECT (or EXIT_LOCAL for a
 * local resource error) after one log_error line. */
enum pom_exit net_connect(const char *host, unsigned port, int timeout_ms, int *fd,
			  char *peer, size_t peer_size);

/* Set O_NONBLOCK on fd; returns the previous flags, or -1. */
int net_set_nonblock(int fd);

/* Put sa (IPv4 or IPv6) in buf as "192.0.2.1:443" or "[2001:db8::1]:443". */
void net_format_addr(const struct sockaddr *sa, char *buf, size_t size);

#endif
