/* harness.c — runs one tunnel tool the way ssh runs a ProxyCommand (stdin
 * and stdout are pipes; stdin stays open until the tool has exited) and
 * measures it.
 *
 *   harness [-t SECS] recv EXPECT -- CMD...     read stdout to EOF; EXPECT bytes
 *   harness [-t SECS] send N -- CMD...          write N bytes to stdin, read the
 *                                               upstream's "N\n" to EOF
 *   harness [-t SECS] rtt COUNT SIZE WARMUP -- CMD...
 *                                               COUNT+WARMUP round trips of SIZE
 *                                               bytes through CMD (to an echo),
 *                                               then close stdin and send
 *                                               SIGHUP (what ssh does)
 *   harness [-t SECS] tcprtt COUNT SIZE WARMUP PORT
 *                                               the same over a direct TCP
 *                                               connection to 127.0.0.1:PORT
 *   harness [-t SECS] fanout N EXPECT -- CMD... N copies at once, each must
 *                                               deliver EXPECT bytes
 *
 * Wall time runs from just before fork() to the return of wait4() for the
 * child; CPU and peak RSS are the child's own (wait4 rusage). Prints one
 * line of key=value pairs on stdout; exits 1 when a check fails (wrong
 * byte count, a timeout, a tool killed by a signal). Every child is
 * killed if the harness dies (PR_SET_PDEATHSIG) or after SECS (default
 * 120) seconds. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAXC 256
#define BUFSZ (256 * 1024)

static unsigned char buf[BUFSZ];

struct child {
	pid_t pid;
	int in, out;              /* our ends: the child's stdin, stdout */
	double t0, t1;            /* fork, exit (µs, monotonic) */
	unsigned long long bytes; /* read from its stdout */
	int status;
	struct rusage ru;
};

static volatile sig_atomic_t timed_out;
static pid_t live[MAXC];

static void on_alarm(int sig)
{
	(void)sig;
	timed_out = 1;
	for (int i = 0; i < MAXC; i++)
		if (live[i] > 0)
			kill(live[i], SIGKILL);
}

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void fail(const char *fmt, const char *arg)
{
	fprintf(stderr, "harness: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "%s\n", timed_out ? " (timed out)" : "");
	exit(1);
}

static void nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static void spawn(struct child *c, int slot, char **argv)
{
	int in[2], out[2];
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
		fail("pipe: %s", strerror(errno));
	memset(c, 0, sizeof *c);
	c->t0 = now_us();
	pid_t pid = fork();
	if (pid < 0)
		fail("fork: %s", strerror(errno));
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(in[0], 0);
		dup2(out[1], 1);
		execvp(argv[0], argv);
		fprintf(stderr, "harness: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	live[slot] = pid;
	c->pid = pid;
	close(in[0]);
	close(out[1]);
	c->in = in[1];
	c->out = out[0];
	nonblock(c->in);
	nonblock(c->out);
}

/* Wait for the child's exit; only then close its stdin (as ssh does). */
static void reap(struct child *c, int slot)
{
	while (wait4(c->pid, &c->status, 0, &c->ru) < 0) {
		if (errno != EINTR)
			fail("wait4: %s", strerror(errno));
	}
	c->t1 = now_us();
	live[slot] = 0;
	if (c->in >= 0)
		close(c->in);
	c->in = -1;
}

static double tv_us(struct timeval tv) { return tv.tv_sec * 1e6 + tv.tv_usec; }

static void print_child(const struct child *c)
{
	double u = tv_us(c->ru.ru_utime), s = tv_us(c->ru.ru_stime);
	printf("wall_us=%.0f cpu_us=%.0f user_us=%.0f sys_us=%.0f maxrss_kb=%ld bytes=%llu rc=%d",
	       c->t1 - c->t0, u + s, u, s, c->ru.ru_maxrss, c->bytes,
	       WIFEXITED(c->status) ? WEXITSTATUS(c->status) : 128 + WTERMSIG(c->status));
}

static void check_exit(const struct child *c)
{
	if (WIFSIGNALED(c->status))
		fail("the tool was killed by signal %s", strsignal(WTERMSIG(c->status)));
}

/* Read everything from fd into the void (or into keep, up to keepsz). */
static int drain(int fd, unsigned long long *count, char *keep, size_t keepsz)
{
	for (;;) {
		ssize_t r = read(fd, buf, sizeof buf);
		if (r > 0) {
			if (keep && *count < keepsz) {
				size_t k = keepsz - *count < (size_t)r ? keepsz - *count : (size_t)r;
				memcpy(keep + *count, buf, k);
			}
			*count += (unsigned long long)r;
			continue;
		}
		if (r == 0)
			return 1; /* EOF */
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN)
			return 0;
		return 1;
	}
}

static int mode_recv(unsigned long long expect, char **argv)
{
	struct child c;
	spawn(&c, 0, argv);
	struct pollfd p = { c.out, POLLIN, 0 };
	for (;;) {
		if (poll(&p, 1, -1) < 0) {
			if (errno == EINTR && !timed_out)
				continue;
			break;
		}
		if (drain(c.out, &c.bytes, NULL, 0))
			break;
	}
	close(c.out);
	reap(&c, 0);
	print_child(&c);
	printf("\n");
	check_exit(&c);
	if (c.bytes != expect) {
		char m[64];
		snprintf(m, sizeof m, "%llu bytes instead of %llu", c.bytes, expect);
		fail("the tool delivered %s", m);
	}
	return 0;
}

static int mode_send(unsigned long long n, char **argv)
{
	struct child c;
	char reply[64] = "";
	unsigned long long sent = 0;
	spawn(&c, 0, argv);
	memset(buf, 'y', sizeof buf);
	static unsigned char src[BUFSZ];
	memset(src, 'y', sizeof src);
	for (;;) {
		struct pollfd p[2] = { { c.out, POLLIN, 0 }, { sent < n ? c.in : -1, POLLOUT, 0 } };
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR && !timed_out)
				continue;
			break;
		}
		if (p[1].revents & (POLLOUT | POLLERR | POLLHUP)) {
			while (sent < n) {
				size_t k = n - sent < sizeof src ? (size_t)(n - sent) : sizeof src;
				ssize_t w = write(c.in, src, k);
				if (w > 0) {
					sent += (unsigned long long)w;
				} else {
					if (w < 0 && errno == EINTR)
						continue;
					if (w < 0 && errno != EAGAIN)
						sent = n + 1; /* broken: stop writing */
					break;
				}
			}
		}
		if (p[0].revents && drain(c.out, &c.bytes, reply, sizeof reply - 1))
			break;
	}
	close(c.out);
	reap(&c, 0);
	reply[c.bytes < sizeof reply ? c.bytes : sizeof reply - 1] = '\0';
	print_child(&c);
	printf(" sent=%llu\n", sent);
	check_exit(&c);
	char want[32];
	snprintf(want, sizeof want, "%llu\n", n);
	if (sent != n || strcmp(reply, want) != 0)
		fail("the upstream did not confirm every byte: it said '%s'", reply);
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* COUNT+WARMUP round trips of size bytes: write to wfd, read back from rfd. */
static double *round_trips(int wfd, int rfd, int count, int size, int warmup)
{
	double *rtt = calloc((size_t)count, sizeof *rtt);
	static unsigned char msg[65536];
	if (!rtt || size <= 0 || size > (int)sizeof msg)
		fail("bad size%s", "");
	for (int i = 0; i < count + warmup; i++) {
		memset(msg, 'a' + i % 26, (size_t)size);
		double t = now_us();
		int off = 0, got = 0;
		while (got < size) {
			struct pollfd p[2] = { { rfd, POLLIN, 0 }, { off < size ? wfd : -1, POLLOUT, 0 } };
			if (poll(p, 2, -1) < 0) {
				if (errno == EINTR && !timed_out)
					continue;
				fail("round trip %s: poll failed", "");
			}
			if (off < size && (p[1].revents & (POLLOUT | POLLERR))) {
				ssize_t w = write(wfd, msg + off, (size_t)(size - off));
				if (w > 0)
					off += (int)w;
				else if (w < 0 && errno != EAGAIN && errno != EINTR)
					fail("write: %s", strerror(errno));
			}
			if (p[0].revents) {
				ssize_t r = read(rfd, buf, (size_t)(size - got));
				if (r == 0)
					fail("EOF in round trip%s", "");
				if (r > 0) {
					if (memcmp(buf, msg + got, (size_t)r) != 0)
						fail("echo mismatch%s", "");
					got += (int)r;
				} else if (errno != EAGAIN && errno != EINTR) {
					fail("read: %s", strerror(errno));
				}
			}
		}
		if (i >= warmup)
			rtt[i - warmup] = now_us() - t;
	}
	return rtt;
}

static void print_rtt(double *rtt, int count)
{
	double sum = 0;
	for (int i = 0; i < count; i++)
		sum += rtt[i];
	qsort(rtt, (size_t)count, sizeof *rtt, cmp_double);
	printf("rtt_med_us=%.1f rtt_min_us=%.1f rtt_p90_us=%.1f rtt_p99_us=%.1f rtt_mean_us=%.1f",
	       rtt[count / 2], rtt[0], rtt[count * 9 / 10], rtt[count * 99 / 100], sum / count);
}

static int mode_rtt(int count, int size, int warmup, char **argv)
{
	struct child c;
	spawn(&c, 0, argv);
	double *rtt = round_trips(c.in, c.out, count, size, warmup);
	/* end the session as ssh ends a ProxyCommand: close the pipes, SIGHUP */
	close(c.in);
	c.in = -1;
	kill(c.pid, SIGHUP);
	struct pollfd p = { c.out, POLLIN, 0 };
	while (!drain(c.out, &c.bytes, NULL, 0)) {
		if (poll(&p, 1, -1) < 0 && timed_out)
			break;
	}
	close(c.out);
	reap(&c, 0);
	print_rtt(rtt, count);
	printf(" ");
	print_child(&c);
	printf("\n");
	if (!WIFSIGNALED(c.status) || WTERMSIG(c.status) != SIGHUP)
		check_exit(&c);
	return 0;
}

static int mode_tcprtt(int count, int size, int warmup, int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	struct sockaddr_in a;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0)
		fail("connect: %s", strerror(errno));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	nonblock(fd);
	double *rtt = round_trips(fd, fd, count, size, warmup);
	close(fd);
	print_rtt(rtt, count);
	printf("\n");
	return 0;
}

static int mode_fanout(int n, unsigned long long expect, char **argv)
{
	static struct child c[MAXC];
	struct pollfd p[MAXC];
	if (n < 1 || n > MAXC)
		fail("fanout: N out of range%s", "");
	for (int i = 0; i < n; i++) {
		spawn(&c[i], i, argv);
		p[i].fd = c[i].out;
		p[i].events = POLLIN;
	}
	int open = n;
	while (open > 0) {
		if (poll(p, (nfds_t)n, -1) < 0) {
			if (errno == EINTR && !timed_out)
				continue;
			break;
		}
		for (int i = 0; i < n; i++) {
			if (p[i].fd >= 0 && p[i].revents && drain(c[i].out, &c[i].bytes, NULL, 0)) {
				close(c[i].out);
				p[i].fd = -1;
				reap(&c[i], i);
				open--;
			}
		}
	}
	for (int i = 0; i < n; i++)
		if (p[i].fd >= 0) {
			close(c[i].out);
			reap(&c[i], i);
		}
	double first = c[0].t0, last = 0, cpu = 0, lat[MAXC];
	long rss = 0;
	int ok = 0, rc0 = 0;
	for (int i = 0; i < n; i++) {
		if (c[i].t1 > last)
			last = c[i].t1;
		lat[i] = c[i].t1 - c[i].t0;
		cpu += tv_us(c[i].ru.ru_utime) + tv_us(c[i].ru.ru_stime);
		if (c[i].ru.ru_maxrss > rss)
			rss = c[i].ru.ru_maxrss;
		ok += c[i].bytes == expect && !WIFSIGNALED(c[i].status);
		rc0 += WIFEXITED(c[i].status) && WEXITSTATUS(c[i].status) == 0;
	}
	qsort(lat, (size_t)n, sizeof *lat, cmp_double);
	printf("wall_us=%.0f each_med_us=%.0f each_max_us=%.0f cpu_us=%.0f maxrss_kb=%ld ok=%d rc0=%d n=%d\n",
	       last - first, lat[n / 2], lat[n - 1], cpu, rss, ok, rc0, n);
	if (ok != n)
		fail("fanout: only %s tools delivered every byte", ok == 0 ? "no" : "some");
	return 0;
}

int main(int argc, char **argv)
{
	int timeout = 120, i = 1;
	if (argc > 2 && strcmp(argv[1], "-t") == 0) {
		timeout = atoi(argv[2]);
		i = 3;
	}
	if (i >= argc)
		fail("usage: harness [-t SECS] recv|send|rtt|tcprtt|fanout ...%s", "");
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm; /* no SA_RESTART: poll and wait4 see EINTR */
	sigaction(SIGALRM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	alarm((unsigned)timeout);

	const char *mode = argv[i++];
	char **cmd = NULL;
	int nargs = 0;
	for (int j = i; j < argc; j++)
		if (strcmp(argv[j], "--") == 0) {
			cmd = argv + j + 1;
			break;
		} else {
			nargs++;
		}
	char **a = argv + i;
	if (strcmp(mode, "tcprtt") == 0 && nargs == 4)
		return mode_tcprtt(atoi(a[0]), atoi(a[1]), atoi(a[2]), atoi(a[3]));
	if (!cmd || !cmd[0])
		fail("%s: no command after --", mode);
	if (strcmp(mode, "recv") == 0 && nargs == 1)
		return mode_recv(strtoull(a[0], NULL, 10), cmd);
	if (strcmp(mode, "send") == 0 && nargs == 1)
		return mode_send(strtoull(a[0], NULL, 10), cmd);
	if (strcmp(mode, "rtt") == 0 && nargs == 3)
		return mode_rtt(atoi(a[0]), atoi(a[1]), atoi(a[2]), cmd);
	if (strcmp(mode, "fanout") == 0 && nargs == 2)
		return mode_fanout(atoi(a[0]), strtoull(a[1], NULL, 10), cmd);
	fail("bad arguments for %s", mode);
	return 2;
}
