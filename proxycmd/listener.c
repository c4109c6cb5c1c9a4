#include "listener.h"
#include "log.h"
#include "net.h"
#include "sigcatch.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int listener_parse(const char *addr, struct sockaddr_storage *sa, socklen_t *len,
		   int *loopback, char *err, size_t errsize)
{
	char host[64];
	const char *colon = strrchr(addr, ':');
	unsigned long port;
	char *end;

	memset(sa, 0, sizeof *sa);
	if (!colon || colon[1] == '\0') {
		snprintf(err, errsize, "--listen: expected [HOST]:PORT, e.g. :2202 or 127.0.0.1:2202");
		return -1;
	}
	port = strtoul(colon + 1, &end, 10);
	if (*end != '\0' || port > 65535 || colon[1] < '0' || colon[1] > '9') {
		snprintf(err, errsize, "--listen: invalid port");
		return -1;
	}
	size_t hl = (size_t)(colon - addr);
	if (hl >= 2 && addr[0] == '[' && addr[hl - 1] == ']') {
		addr++;
		hl -= 2;
	}
	if (hl >= sizeof host) {
		snprintf(err, errsize, "--listen: invalid address");
		return -1;
	}
	memcpy(host, addr, hl);
	host[hl] = '\0';
	if (hl == 0 || strcmp(host, "localhost") == 0)
		strcpy(host, "127.0.0.1");

	struct sockaddr_in *s4 = (struct sockaddr_in *)sa;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)sa;
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*len = sizeof *s4;
		*loopback = (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
		return 0;
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*len = sizeof *s6;
		*loopback = IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr);
		return 0;
	}
	snprintf(err, errsize, "--listen: '%.40s' is not an IP address (or localhost)", host);
	for (char *p = err; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
	return -1;
}

static volatile sig_atomic_t got_stop, got_child;

static void on_stop(int sig)
{
	got_stop++;
	(void)sig;
}

static void on_child(int sig)
{
	got_child = 1;
	(void)sig;
}

/* The children still running. */
struct kids {
	pid_t *pid;
	size_t n, cap;
};

static void kids_add(struct kids *k, pid_t pid)
{
	if (k->n == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 64;
		pid_t *p = realloc(k->pid, cap * sizeof *p);
		if (!p)
			return; /* still reaped; just not signalled at shutdown */
		k->pid = p;
		k->cap = cap;
	}
	k->pid[k->n++] = pid;
}

static void kids_reap(struct kids *k)
{
	pid_t pid;
	while ((pid = waitpid(-1, NULL, WNOHANG)) > 0)
		for (size_t i = 0; i < k->n; i++)
			if (k->pid[i] == pid) {
				k->pid[i] = k->pid[--k->n];
				break;
			}
}

static void print_bound(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	char addr[INET6_ADDRSTRLEN + 8];
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		return;
	net_format_addr((const struct sockaddr *)&ss, addr, sizeof addr);
	log_error("listening on %s", addr);
}

int listener_serve(const struct sockaddr_storage *sa, socklen_t len,
		   int (*serve)(int fd, void *arg), void *arg)
{
	struct kids kids = { NULL, 0, 0 };
	static const struct sigcatch catches[4] = {
		{ SIGTERM, on_stop }, { SIGINT, on_stop }, { SIGHUP, on_stop }, { SIGCHLD, on_child },
	};
	struct sigaction old[4];
	sigset_t saved, wait_mask;
	int one = 1, backoff_ms = 0, stopping = 0;
	unsigned long conns = 0;

	int lfd = socket(sa->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(lfd, (const struct sockaddr *)sa, len) < 0 || listen(lfd, 128) < 0) {
		log_error("cannot listen: %s", strerror(errno));
		return EXIT_LOCAL;
	}
	print_bound(lfd);

	sigcatch_block(catches, 4, old, &saved, &wait_mask);

	for (;;) {
		if (got_child) {
			got_child = 0;
			kids_reap(&kids);
		}
		if (got_stop && !stopping) {
			stopping = 1;
			close(lfd);
			lfd = -1;
			if (kids.n)
				log_error("stopping: waiting for %zu open tunnel%s to end "
					  "(signal again to end them now)", kids.n, kids.n == 1 ? "" : "s");
		}
		if (got_stop > 1 && stopping == 1) {
			stopping = 2;
			for (size_t i = 0; i < kids.n; i++)
				kill(kids.pid[i], SIGTERM);
		}
		if (stopping && kids.n == 0)
			break;

		struct pollfd pfd = { lfd, POLLIN, 0 };
		struct timespec ts = { 0, 0 }, *tsp = NULL;
		if (backoff_ms) {
			ts.tv_sec = backoff_ms / 1000;
			ts.tv_nsec = (long)(backoff_ms % 1000) * 1000000;
			tsp = &ts;
			pfd.fd = -1;
		}
		int r = ppoll(&pfd, 1, tsp, &wait_mask);
		if (r == 0 && backoff_ms) {
			backoff_ms = 0; /* try accepting again */
			continue;
		}
		if (r <= 0 || stopping || !(pfd.revents & POLLIN))
			continue;

		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				backoff_ms = backoff_ms ? backoff_ms * 2 : 50;
				if (backoff_ms > 1000)
					backoff_ms = 1000;
				log_warn("cannot accept a connection (%s): retrying in %d ms",
					 strerror(errno), backoff_ms);
			}
			continue;
		}
		conns++;
		pid_t pid = fork();
		if (pid == 0) {
			sigcatch_restore(catches, 4, old, &saved);
			close(lfd);
			free(kids.pid); /* the listener's, not ours */
			log_debug(1, "connection %lu", conns);
			_exit(serve(fd, arg));
		}
		if (pid < 0)
			log_warn("cannot start a tunnel for a connection: %s", strerror(errno));
		else
			kids_add(&kids, pid);
		close(fd);
	}
	free(kids.pid);
	sigcatch_restore(catches, 4, old, &saved);
	return EXIT_OK;
}
