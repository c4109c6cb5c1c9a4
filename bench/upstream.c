/* upstream.c — the far end of the benchmark tunnels: a fast plain-TCP
 * server on 127.0.0.1 (python is too slow at GB/s).
 *
 *   upstream MODE [N] PORTFILE
 *
 *   reply N    send N bytes ('x'), half-close, drain until EOF, close
 *              (like an sshd banner, then the server ends the session)
 *   source N   send N bytes as fast as possible, half-close, drain, close
 *   sink N     read N bytes (discarded), then send "N\n" (the decimal
 *              count received), half-close, drain, close
 *   echo       send back whatever arrives; on EOF close
 *
 * One child per connection (fork), each bounded by alarm(); the bound port
 * is written to PORTFILE (written beside, then renamed) once listening.
 * The listener ends on SIGTERM; its children get SIGKILL when it dies. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUFSZ (256 * 1024)
static unsigned char buf[BUFSZ];

static void die(const char *what)
{
	fprintf(stderr, "upstream: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int write_all(int fd, const void *p, size_t n)
{
	const unsigned char *b = p;
	while (n) {
		ssize_t w = write(fd, b, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Half-close, then read until the peer closes (at most 30 s): closing with
 * unread data would send a reset and could cut off what we sent. */
static void finish(int fd)
{
	shutdown(fd, SHUT_WR);
	struct pollfd p = { fd, POLLIN, 0 };
	while (poll(&p, 1, 30000) > 0 && read(fd, buf, sizeof buf) > 0)
		;
	close(fd);
}

static void send_n(int fd, unsigned long long n)
{
	while (n) {
		size_t k = n < sizeof buf ? (size_t)n : sizeof buf;
		if (write_all(fd, buf, k) < 0)
			return;
		n -= k;
	}
}

static void serve(int fd, const char *mode, unsigned long long n)
{
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (strcmp(mode, "reply") == 0 || strcmp(mode, "source") == 0) {
		send_n(fd, n);
		finish(fd);
	} else if (strcmp(mode, "sink") == 0) {
		unsigned long long got = 0;
		ssize_t r;
		while (got < n && (r = read(fd, buf, sizeof buf)) != 0) {
			if (r < 0) {
				if (errno == EINTR)
					continue;
				break;
			}
			got += (unsigned long long)r;
		}
		char line[32];
		int len = snprintf(line, sizeof line, "%llu\n", got);
		write_all(fd, line, (size_t)len);
		finish(fd);
	} else { /* echo */
		ssize_t r;
		while ((r = read(fd, buf, sizeof buf)) != 0) {
			if (r < 0) {
				if (errno == EINTR)
					continue;
				break;
			}
			if (write_all(fd, buf, (size_t)r) < 0)
				break;
		}
		close(fd);
	}
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: upstream reply|source|sink N PORTFILE | echo PORTFILE\n");
		return 2;
	}
	const char *mode = argv[1];
	unsigned long long n = 0;
	const char *portfile;
	if (strcmp(mode, "echo") == 0) {
		portfile = argv[2];
	} else if (argc == 4 && (strcmp(mode, "reply") == 0 || strcmp(mode, "source") == 0 ||
				 strcmp(mode, "sink") == 0)) {
		n = strtoull(argv[2], NULL, 10);
		portfile = argv[3];
	} else {
		fprintf(stderr, "upstream: bad arguments\n");
		return 2;
	}
	memset(buf, 'x', sizeof buf);

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	sa.sa_flags = SA_NOCLDWAIT; /* no zombies */
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ls < 0)
		die("socket");
	int one = 1;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0)
		die("bind");
	if (listen(ls, 256) < 0)
		die("listen");
	socklen_t al = sizeof a;
	if (getsockname(ls, (struct sockaddr *)&a, &al) < 0)
		die("getsockname");

	char tmp[4200];
	snprintf(tmp, sizeof tmp, "%s.tmp", portfile);
	FILE *f = fopen(tmp, "w");
	if (!f)
		die(tmp);
	fprintf(f, "%u\n", ntohs(a.sin_port));
	if (fclose(f) != 0 || rename(tmp, portfile) < 0)
		die(portfile);

	for (;;) {
		int fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			die("accept");
		}
		pid_t pid = fork();
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			close(ls);
			alarm(120);
			serve(fd, mode, n);
			_exit(0);
		}
		close(fd);
	}
}
