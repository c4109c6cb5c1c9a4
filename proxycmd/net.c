#include "log.h"
#include "clock.h"
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NET_MAX_ADDRS 16
#define NET_STAGGER_MS 250

int net_set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -1;
	return fl;
}

void net_format_addr(const struct sockaddr *sa, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;
		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof host);
		port = ntohs(s6->sin6_port);
		snprintf(buf, size, "[%s]:%u", host, port);
	} else {
		const struct sockaddr_in *s4 = (const void *)sa;
		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof host);
		port = ntohs(s4->sin_port);
		snprintf(buf, size, "%s:%u", host, port);
	}
}

/* Order addresses: IPv6 first, then alternate families (RFC 8305 §4). */
static size_t order_addrs(struct addrinfo *res, struct addrinfo **out)
{
	struct addrinfo *v6[NET_MAX_ADDRS], *v4[NET_MAX_ADDRS];
	size_t n6 = 0, n4 = 0, n = 0;
	for (struct addrinfo *a = res; a; a = a->ai_next) {
		if (a->ai_family == AF_INET6 && n6 < NET_MAX_ADDRS)
			v6[n6++] = a;
		else if (a->ai_family == AF_INET && n4 < NET_MAX_ADDRS)
			v4[n4++] = a;
	}
	for (size_t i = 0; i < n6 || i < n4; i++) {
		if (i < n6 && n < NET_MAX_ADDRS)
			out[n++] = v6[i];
		if (i < n4 && n < NET_MAX_ADDRS)
			out[n++] = v4[i];
	}
	return n;
}

/* Start a non-blocking connect; returns the fd (connected or in progress)
 * or -1 with errno. */
static int start_connect(const struct addrinfo *a)
{
	int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			a->ai_protocol);
	if (fd < 0)
		return -1;
	if (connect(fd, a->ai_addr, a->ai_addrlen) < 0 && errno != EINPROGRESS) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

enum pom_exit net_connect(const char *host, unsigned port, int timeout_ms, int *fd_out,
			  char *peer, size_t peer_size)
{
	enum pom_exit code = EXIT_CONNECT;
	struct addrinfo hints, *res = NULL, *addrs[NET_MAX_ADDRS];
	struct pollfd pfd[NET_MAX_ADDRS];
	size_t idx[NET_MAX_ADDRS];
	char portstr[8];
	int last_err = 0, winner = -1;

	size_t last_idx = 0;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(portstr, sizeof portstr, "%u", port);
	log_debug(2, "resolving %s", host);
	int gai = getaddrinfo(host, portstr, &hints, &res);
	if (gai != 0) {
		code = (gai == EAI_SYSTEM || gai == EAI_MEMORY) ? EXIT_LOCAL : EXIT_DNS;
		log_error("cannot resolve proxy host %s: %s", host,
			  gai == EAI_SYSTEM ? strerror(errno) : gai_strerror(gai));
		return code;
	}
	size_t n = order_addrs(res, addrs), started = 0, pending = 0;
	log_debug(1, "resolved %s: %zu address%s", host, n, n == 1 ? "" : "es");
	if (n == 0) {
		freeaddrinfo(res);
		code = EXIT_DNS;
		log_error("cannot resolve proxy host %s: no IPv4 or IPv6 address", host);
		return code;
	}

	long deadline = monotonic_ms() + timeout_ms, next_start = 0;
	while (winner < 0) {
		long now = monotonic_ms();
		if (now >= deadline)
			break;
		/* start the next attempt when it is due, or when nothing is pending */
		if (started < n && (now >= next_start || pending == 0)) {
			char a[64];
			net_format_addr(addrs[started]->ai_addr, a, sizeof a);
			log_debug(2, "connecting to %s", a);
			int fd = start_connect(addrs[started]);
			if (fd < 0) {
				last_err = errno;
				last_idx = started;
				if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
				    errno == ENOMEM) {
					code = EXIT_LOCAL;
					break;
				}
			} else {
				pfd[pending].fd = fd;
				pfd[pending].events = POLLOUT;
				idx[pending] = started;
				pending++;
			}
			started++;
			next_start = now + NET_STAGGER_MS;
			continue;
		}
		if (pending == 0)
			break; /* every address failed at once */
		long wait = deadline - now;
		if (started < n && next_start - now < wait)
			wait = next_start - now;
		int r = poll(pfd, pending, (int)(wait < 0 ? 0 : wait));
		if (r < 0 && errno != EINTR) {
			last_err = errno;
			code = EXIT_LOCAL;
			break;
		}
		for (size_t i = 0; r > 0 && i < pending;) {
			if (!pfd[i].revents) {
				i++;
				continue;
			}
			int soerr = 0;
			socklen_t sl = sizeof soerr;
			if (getsockopt(pfd[i].fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
				soerr = errno;
			if (soerr == 0 && winner < 0) {
				winner = pfd[i].fd;
				net_format_addr(addrs[idx[i]]->ai_addr, peer, peer_size);
			} else {
				last_err = soerr ? soerr : EALREADY;
				last_idx = idx[i];
				close(pfd[i].fd);
			}
			pfd[i] = pfd[pending - 1];
			idx[i] = idx[pending - 1];
			pending--;
		}
	}
	for (size_t i = 0; i < pending; i++)
		close(pfd[i].fd);

	if (winner >= 0) {
		int one = 1;
		setsockopt(winner, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		freeaddrinfo(res);
		*fd_out = winner;
		return EXIT_OK;
	}
	char a[64];
	net_format_addr(addrs[last_idx]->ai_addr, a, sizeof a);
	freeaddrinfo(res);
	if (code != EXIT_LOCAL)
		code = EXIT_CONNECT;
	if (last_err == 0 || monotonic_ms() >= deadline)
		log_error("cannot connect to proxy %s port %u: timed out after %d ms",
			  host, port, timeout_ms);
	else if (n > 1)
		log_error("cannot connect to proxy %s port %u (%zu addresses, last %s): %s",
			  host, port, n, a, strerror(last_err));
	else
		log_error("cannot connect to proxy %s port %u (%s): %s", host, port, a,
			  strerror(last_err));
	return code;
}
