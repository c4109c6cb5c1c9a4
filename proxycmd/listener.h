/* listener: --listen ADDR — accept local TCP connections and give each its
 * own tunnel, in its own process, through the same relay the stdio mode
 * uses. One connection's failure never stops the listener. */
#ifndef POM_LISTENER_H
#define POM_LISTENER_H

#include <stddef.h>
#include <sys/socket.h>

/* Parse ADDR: ":PORT" (loopback, 127.0.0.1), "IPV4:PORT", "[IPV6]:PORT",
 * "localhost:PORT"; PORT 0 picks a free one. Sets *loopback to 1 when the
 * address is a loopback one. Returns 0, or -1 with a reason in err. */
int listener_parse(const char *addr, struct sockaddr_storage *sa, socklen_t *len,
		   int *loopback, char *err, size_t errsize);

/* Bind sa, print "pom-proxy: listening on ADDR:PORT" on stderr, and serve:
 * each accepted connection runs serve(fd, arg) in a child process that
 * exits with its return value. Accept errors back off (up to 1 s). The
 * first SIGINT/SIGTERM/SIGHUP closes the listener and waits for the open
 * tunnels to end; a second one asks them to end now (SIGTERM). Returns
 * the exit code for the listener process: 0 after a signal, EXIT_LOCAL
 * when it cannot listen. */
int listener_serve(const struct sockaddr_storage *sa, socklen_t len,
		   int (*serve)(int fd, void *arg), void *arg);

#endif
