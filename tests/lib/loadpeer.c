/* loadpeer.c — both ends of the load test's checksummed streams
 * (tests/load/load.t). Python is too slow at hundreds of MiB.
 *
 *   loadpeer [-t SECS] server PORTFILE
 *       the upstream: a single-process poll() server on 127.0.0.1 (port in
 *       PORTFILE, written beside and renamed once listening). Per
 *       connection it reads a 40-byte header ("LOAD", 4 zero bytes, then
 *       n_up, n_down, seed_up, seed_down as big-endian 64-bit numbers),
 *       then at the same time
 *         - reads n_up bytes and checks them against the stream seed_up
 *           gives, hashing them (SHA-256),
 *         - sends n_down bytes of the stream seed_down gives, then the
 *           SHA-256 of what it sent, then (once all n_up bytes are in) the
 *           SHA-256 of what it received;
 *       and waits for the client to close. One line per connection on
 *       stdout: "conn N ok up=U down=D" or "conn N BAD <why>".
 *
 *   loadpeer [-t SECS] stdio N_UP N_DOWN -- CMD...
 *       one client through CMD run as ssh runs a ProxyCommand: its stdin
 *       and stdout are pipes; stdin stays open until everything came back
 *       and was checked, then both pipes are closed and CMD gets SIGHUP.
 *
 *   loadpeer [-t SECS] fan COUNT N_UP N_DOWN PORT [READY GO]
 *       COUNT clients at once over TCP to 127.0.0.1:PORT (a pom-proxy
 *       listener), all connections open together. With READY and GO: once
 *       every client has checked everything, write READY (a summary line)
 *       and keep every connection open until the file GO exists, so that
 *       the per-tunnel processes can be measured while all are alive.
 *
 * A client sends the header and n_up bytes of its stream; it checks the
 * n_down bytes against the stream it expects (first differing offset), their
 * SHA-256 against the server's first trailer, and the server's second
 * trailer against the SHA-256 of what it sent. Seeds differ per connection.
 *
 * Client modes print one line of key=value pairs (ok=, bad=, up=, down=,
 * wall_s=, and for stdio the child's exit status and peak RSS) and exit 0
 * only when every stream arrived whole and verified. Everything is bounded
 * by -t SECS (default 300): then children get SIGKILL and the exit is 3. */
#include <bearssl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HDR 40
#define CHUNK 16384

/* ---------------------------------------------------------------- streams */

struct prng {
	uint64_t s[4];
};

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void prng_init(struct prng *p, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		p->s[i] = splitmix(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t prng_next(struct prng *p) /* xoshiro256** */
{
	uint64_t *s = p->s, r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return r;
}

/* A byte stream from a seed, produced in CHUNK-byte blocks. */
struct stream {
	struct prng g;
	unsigned char blk[CHUNK];
	size_t off; /* next unused byte of blk; CHUNK = refill */
};

static void stream_init(struct stream *st, uint64_t seed)
{
	prng_init(&st->g, seed);
	st->off = CHUNK;
}

static const unsigned char *stream_peek(struct stream *st, size_t *len)
{
	if (st->off == CHUNK) {
		for (size_t i = 0; i < CHUNK; i += 8) {
			uint64_t v = prng_next(&st->g);
			memcpy(st->blk + i, &v, 8);
		}
		st->off = 0;
	}
	*len = CHUNK - st->off;
	return st->blk + st->off;
}

static void put64(unsigned char *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

static uint64_t get64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* ---------------------------------------------------------------- one end */

/* Either end of one connection. Sending: the prefix (header for a client),
 * then n_tx bytes of the tx stream, then (server) trailers. Receiving:
 * (server) the header, then n_rx bytes checked against the rx stream, then
 * (client) 64 trailer bytes. */
struct end {
	int rfd, wfd;
	int server;
	unsigned id;
	uint64_t n_tx, n_rx, tx_done, rx_done;
	struct stream tx, rx;
	br_sha256_context tx_sha, rx_sha;
	unsigned char pre[HDR]; /* client: the header to send; server: received */
	size_t pre_len, pre_off;
	unsigned char trailer[64], tx_hash[32], rx_hash[32];
	size_t trailer_len, trailer_off; /* server: to send; client: received */
	int have_hdr, sent_all, got_all, eof, closed, verdict; /* verdict: 0 open, 1 ok, -1 bad */
	char why[160];
	uint64_t first_bad;
};

static void end_bad(struct end *e, const char *fmt, unsigned long long a)
{
	if (e->verdict == 0) {
		e->verdict = -1;
		snprintf(e->why, sizeof e->why, fmt, a);
	}
}

static void client_init(struct end *e, unsigned id, int rfd, int wfd, uint64_t n_up,
			uint64_t n_down, uint64_t seed)
{
	memset(e, 0, sizeof *e);
	e->rfd = rfd;
	e->wfd = wfd;
	e->id = id;
	e->n_tx = n_up;
	e->n_rx = n_down;
	uint64_t su = seed * 2 + 1, sd = seed * 2 + 2;
	memcpy(e->pre, "LOAD\0\0\0\0", 8);
	put64(e->pre + 8, n_up);
	put64(e->pre + 16, n_down);
	put64(e->pre + 24, su);
	put64(e->pre + 32, sd);
	e->pre_len = HDR;
	stream_init(&e->tx, su);
	stream_init(&e->rx, sd);
	br_sha256_init(&e->tx_sha);
	br_sha256_init(&e->rx_sha);
	e->have_hdr = 1;
	e->first_bad = UINT64_MAX;
}

static void server_init(struct end *e, unsigned id, int fd)
{
	memset(e, 0, sizeof *e);
	e->rfd = e->wfd = fd;
	e->id = id;
	e->server = 1;
	br_sha256_init(&e->tx_sha);
	br_sha256_init(&e->rx_sha);
	e->first_bad = UINT64_MAX;
}

static int is_again(int err)
{
	return err == EAGAIN || err == EWOULDBLOCK || err == EINTR;
}

/* What the end still wants to write / read. */
static int wants_write(const struct end *e)
{
	if (e->closed || e->wfd < 0)
		return 0;
	if (e->server) {
		if (!e->have_hdr)
			return 0;
		if (e->tx_done < e->n_tx)
			return 1;
		/* trailer 1 once the data is sent; trailer 2 once all is in */
		size_t avail = e->got_all ? 64 : 32;
		return e->trailer_off < avail;
	}
	return e->pre_off < e->pre_len || e->tx_done < e->n_tx;
}

static int wants_read(const struct end *e)
{
	return !e->closed && !e->eof;
}

static void do_write(struct end *e)
{
	for (int round = 0; round < 16 && wants_write(e); round++) {
		const unsigned char *p;
		size_t len;
		int kind; /* 0 prefix, 1 data, 2 trailer */
		if (!e->server && e->pre_off < e->pre_len) {
			p = e->pre + e->pre_off;
			len = e->pre_len - e->pre_off;
			kind = 0;
		} else if (e->tx_done < e->n_tx) {
			p = stream_peek(&e->tx, &len);
			if (len > e->n_tx - e->tx_done)
				len = (size_t)(e->n_tx - e->tx_done);
			kind = 1;
		} else {
			if (e->trailer_off == 0 && e->trailer_len == 0) {
				br_sha256_out(&e->tx_sha, e->trailer);
				e->trailer_len = 32;
			}
			if (e->got_all && e->trailer_len == 32) {
				br_sha256_out(&e->rx_sha, e->trailer + 32);
				e->trailer_len = 64;
			}
			if (e->trailer_off == e->trailer_len)
				return;
			p = e->trailer + e->trailer_off;
			len = e->trailer_len - e->trailer_off;
			kind = 2;
		}
		ssize_t w = write(e->wfd, p, len);
		if (w < 0 && is_again(errno))
			return;
		if (w <= 0) {
			end_bad(e, "write failed after %llu data bytes", (unsigned long long)e->tx_done);
			e->closed = 1;
			return;
		}
		if (kind == 0) {
			e->pre_off += (size_t)w;
		} else if (kind == 1) {
			br_sha256_update(&e->tx_sha, p, (size_t)w);
			e->tx.off += (size_t)w;
			e->tx_done += (size_t)w;
		} else {
			e->trailer_off += (size_t)w;
		}
		if ((size_t)w < len)
			return;
	}
}

/* Feed received bytes. */
static void take(struct end *e, const unsigned char *d, size_t n)
{
	while (n) {
		if (e->server && !e->have_hdr) {
			size_t k = HDR - e->pre_off < n ? HDR - e->pre_off : n;
			memcpy(e->pre + e->pre_off, d, k);
			e->pre_off += k;
			d += k;
			n -= k;
			if (e->pre_off == HDR) {
				if (memcmp(e->pre, "LOAD\0\0\0\0", 8) != 0) {
					end_bad(e, "bad header%.0llu", 0);
					return;
				}
				e->n_rx = get64(e->pre + 8);
				e->n_tx = get64(e->pre + 16);
				stream_init(&e->rx, get64(e->pre + 24));
				stream_init(&e->tx, get64(e->pre + 32));
				e->have_hdr = 1;
				if (e->n_rx == 0)
					e->got_all = 1;
			}
			continue;
		}
		if (e->rx_done < e->n_rx) {
			size_t len;
			const unsigned char *want = stream_peek(&e->rx, &len);
			if (len > n)
				len = n;
			if (len > e->n_rx - e->rx_done)
				len = (size_t)(e->n_rx - e->rx_done);
			if (e->first_bad == UINT64_MAX && memcmp(want, d, len) != 0) {
				for (size_t i = 0; i < len; i++)
					if (want[i] != d[i]) {
						e->first_bad = e->rx_done + i;
						break;
					}
			}
			br_sha256_update(&e->rx_sha, d, len);
			e->rx.off += len;
			e->rx_done += len;
			d += len;
			n -= len;
			if (e->rx_done == e->n_rx) {
				if (e->first_bad != UINT64_MAX)
					end_bad(e, "received data differs from byte %llu on",
						(unsigned long long)e->first_bad);
				if (e->server)
					e->got_all = 1;
			}
			continue;
		}
		if (!e->server && e->trailer_len < 64) {
			size_t k = 64 - e->trailer_len < n ? 64 - e->trailer_len : n;
			memcpy(e->trailer + e->trailer_len, d, k);
			e->trailer_len += k;
			d += k;
			n -= k;
			if (e->trailer_len == 64) {
				br_sha256_out(&e->rx_sha, e->rx_hash);
				br_sha256_out(&e->tx_sha, e->tx_hash);
				if (e->rx_done != e->n_rx)
					end_bad(e, "trailer after only %llu data bytes",
						(unsigned long long)e->rx_done);
				else if (memcmp(e->trailer, e->rx_hash, 32) != 0)
					end_bad(e, "SHA-256 of the data received differs from the sender's%.0llu", 0);
				else if (memcmp(e->trailer + 32, e->tx_hash, 32) != 0)
					end_bad(e, "the server's SHA-256 of the data sent differs%.0llu", 0);
				else if (e->verdict == 0 && e->tx_done == e->n_tx)
					e->verdict = 1;
				e->got_all = 1;
			}
			continue;
		}
		end_bad(e, "%llu bytes more than expected", (unsigned long long)n);
		return;
	}
}

static void do_read(struct end *e)
{
	unsigned char buf[65536];
	for (int round = 0; round < 16; round++) {
		ssize_t r = read(e->rfd, buf, sizeof buf);
		if (r < 0 && is_again(errno))
			return;
		if (r <= 0) {
			e->eof = 1;
			if (!e->got_all)
				end_bad(e, "connection ended after %llu of the data bytes",
					(unsigned long long)e->rx_done);
			return;
		}
		take(e, buf, (size_t)r);
		if ((size_t)r < sizeof buf)
			return;
	}
}

/* ---------------------------------------------------------------- misc */

static volatile sig_atomic_t timed_out;
static pid_t child_pid;

static void on_alarm(int sig)
{
	(void)sig;
	timed_out = 1;
	if (child_pid > 0)
		kill(child_pid, SIGKILL);
	static const char m[] = "loadpeer: time limit reached\n";
	if (write(2, m, sizeof m - 1) < 0) {
		/* nothing more to do */
	}
	_exit(3);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static void fatal(const char *what)
{
	fprintf(stderr, "loadpeer: %s: %s\n", what, strerror(errno));
	exit(2);
}

static uint64_t seed_base(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 40);
}

/* ---------------------------------------------------------------- server */

static int server(const char *portfile)
{
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof sa;
	if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(ls, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(ls, 1024) < 0 ||
	    getsockname(ls, (struct sockaddr *)&sa, &sl) < 0)
		fatal("listen");
	nonblock(ls);
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s.tmp", portfile);
	FILE *f = fopen(tmp, "w");
	if (!f || fprintf(f, "%u\n", ntohs(sa.sin_port)) < 0 || fclose(f) != 0 ||
	    rename(tmp, portfile) < 0)
		fatal(portfile);
	setvbuf(stdout, NULL, _IOLBF, 0);

	size_t cap = 64, n = 0;
	struct end **c = calloc(cap, sizeof *c);
	struct pollfd *p = calloc(cap + 1, sizeof *p);
	unsigned ids = 0;
	if (!c || !p)
		fatal("calloc");
	for (;;) {
		p[0].fd = ls;
		p[0].events = POLLIN;
		for (size_t i = 0; i < n; i++) {
			p[i + 1].fd = c[i]->rfd;
			p[i + 1].events = (short)((wants_read(c[i]) ? POLLIN : 0) |
						  (wants_write(c[i]) ? POLLOUT : 0));
			p[i + 1].revents = 0;
		}
		if (poll(p, n + 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		for (size_t i = 0; i < n; i++) {
			struct end *e = c[i];
			short rev = p[i + 1].revents;
			if (rev & (POLLIN | POLLERR | POLLHUP))
				do_read(e);
			if (rev & (POLLOUT | POLLERR | POLLHUP))
				do_write(e);
			if (e->verdict == 0 && e->got_all && e->trailer_off == 64) {
				e->verdict = 1;
				printf("conn %u ok up=%llu down=%llu\n", e->id,
				       (unsigned long long)e->rx_done, (unsigned long long)e->tx_done);
			}
			if (e->eof || e->closed) {
				if (e->verdict < 0 || (e->verdict == 0 && e->why[0]))
					printf("conn %u BAD %s\n", e->id, e->why);
				else if (e->verdict == 0)
					printf("conn %u BAD closed after %llu/%llu bytes up, %llu/%llu down\n",
					       e->id, (unsigned long long)e->rx_done,
					       (unsigned long long)e->n_rx, (unsigned long long)e->tx_done,
					       (unsigned long long)e->n_tx);
				close(e->rfd);
				free(e);
				c[i] = c[--n];
				p[i + 1] = p[n + 1];
				i--;
			}
		}
		if (p[0].revents & POLLIN) {
			for (;;) {
				int fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
				if (fd < 0)
					break;
				if (n == cap) {
					cap *= 2;
					c = realloc(c, cap * sizeof *c);
					p = realloc(p, (cap + 1) * sizeof *p);
					if (!c || !p)
						fatal("realloc");
				}
				c[n] = malloc(sizeof **c);
				if (!c[n])
					fatal("malloc");
				server_init(c[n], ++ids, fd);
				n++;
			}
		}
	}
	return 0;
}

/* ---------------------------------------------------------------- clients */

/* Drive ends until every one has a verdict (or ended). */
static void drive(struct end **e, size_t n)
{
	struct pollfd *p = calloc(2 * n, sizeof *p);
	if (!p)
		fatal("calloc");
	for (;;) {
		size_t k = 0, open = 0;
		for (size_t i = 0; i < n; i++) {
			if (e[i]->verdict != 0 || e[i]->eof || e[i]->closed)
				continue;
			open++;
			if (e[i]->rfd == e[i]->wfd) {
				p[k].fd = e[i]->rfd;
				p[k].events = (short)(POLLIN | (wants_write(e[i]) ? POLLOUT : 0));
				p[k++].revents = 0;
			} else {
				p[k].fd = e[i]->rfd;
				p[k].events = POLLIN;
				p[k++].revents = 0;
				p[k].fd = wants_write(e[i]) ? e[i]->wfd : -1;
				p[k].events = POLLOUT;
				p[k++].revents = 0;
			}
		}
		if (!open)
			break;
		if (poll(p, k, -1) < 0) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		k = 0;
		for (size_t i = 0; i < n; i++) {
			if (e[i]->verdict != 0 || e[i]->eof || e[i]->closed)
				continue;
			short rin, rout;
			if (e[i]->rfd == e[i]->wfd) {
				rin = rout = p[k++].revents;
			} else {
				rin = p[k++].revents;
				rout = p[k++].revents;
			}
			if (rout & (POLLOUT | POLLERR | POLLHUP))
				do_write(e[i]);
			if (rin & (POLLIN | POLLERR | POLLHUP))
				do_read(e[i]);
		}
	}
	free(p);
}

static int report(struct end **e, size_t n, double t0, const char *extra)
{
	size_t ok = 0;
	unsigned long long up = 0, down = 0;
	for (size_t i = 0; i < n; i++) {
		if (e[i]->verdict == 1)
			ok++;
		else
			fprintf(stderr, "loadpeer: stream %u: %s\n", e[i]->id,
				e[i]->why[0] ? e[i]->why : "did not finish");
		up += e[i]->tx_done;
		down += e[i]->rx_done;
	}
	printf("streams=%zu ok=%zu bad=%zu up=%llu down=%llu wall_s=%.3f%s\n", n, ok, n - ok, up,
	       down, now_s() - t0, extra);
	fflush(stdout);
	return ok == n ? 0 : 1;
}

static int stdio_client(uint64_t n_up, uint64_t n_down, char **cmd)
{
	int in[2], out[2];
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
		fatal("pipe");
	double t0 = now_s();
	child_pid = fork();
	if (child_pid < 0)
		fatal("fork");
	if (child_pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(in[0], 0);
		dup2(out[1], 1);
		signal(SIGPIPE, SIG_DFL);
		execvp(cmd[0], cmd);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	nonblock(in[1]);
	nonblock(out[0]);
	struct end *e = malloc(sizeof *e);
	if (!e)
		fatal("malloc");
	client_init(e, 1, out[0], in[1], n_up, n_down, seed_base());
	drive(&e, 1);
	double t_data = now_s() - t0;
	/* what ssh does at the end: close both pipes, then SIGHUP */
	close(in[1]);
	close(out[0]);
	kill(child_pid, SIGHUP);
	int status;
	struct rusage ru;
	while (wait4(child_pid, &status, 0, &ru) < 0 && errno == EINTR)
		;
	child_pid = 0;
	char extra[200];
	snprintf(extra, sizeof extra, " data_s=%.3f exit=%d signal=%d maxrss_kib=%ld", t_data,
		 WIFEXITED(status) ? WEXITSTATUS(status) : -1,
		 WIFSIGNALED(status) ? WTERMSIG(status) : 0, ru.ru_maxrss);
	int rc = report(&e, 1, t0, extra);
	return rc || !WIFEXITED(status) || WEXITSTATUS(status) != 0;
}

static int fan_client(size_t count, uint64_t n_up, uint64_t n_down, unsigned port,
		      const char *ready, const char *go)
{
	struct end **e = calloc(count, sizeof *e);
	if (!e)
		fatal("calloc");
	uint64_t base = seed_base();
	double t0 = now_s();
	for (size_t i = 0; i < count; i++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
					  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		if (fd < 0)
			fatal("socket");
		if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
			fatal("connect");
		nonblock(fd);
		e[i] = malloc(sizeof **e);
		if (!e[i])
			fatal("malloc");
		client_init(e[i], (unsigned)i + 1, fd, fd, n_up, n_down, base + i * 7919);
	}
	double t_open = now_s() - t0;
	drive(e, count);
	char extra[200];
	snprintf(extra, sizeof extra, " connect_s=%.3f", t_open);
	int rc = report(e, count, t0, extra);
	if (ready) {
		char tmp[4096];
		snprintf(tmp, sizeof tmp, "%s.tmp", ready);
		FILE *f = fopen(tmp, "w");
		if (!f || fprintf(f, "%d\n", rc) < 0 || fclose(f) != 0 || rename(tmp, ready) < 0)
			fatal(ready);
		struct stat st;
		while (stat(go, &st) < 0)
			usleep(50000);
	}
	for (size_t i = 0; i < count; i++)
		close(e[i]->rfd);
	return rc;
}

static void usage(void)
{
	fprintf(stderr, "usage: loadpeer [-t SECS] server PORTFILE\n"
			"       loadpeer [-t SECS] stdio N_UP N_DOWN -- CMD...\n"
			"       loadpeer [-t SECS] fan COUNT N_UP N_DOWN PORT [READY GO]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned secs = 300;
	int i = 1;
	if (i + 1 < argc && strcmp(argv[i], "-t") == 0) {
		secs = (unsigned)strtoul(argv[i + 1], NULL, 10);
		i += 2;
	}
	if (i >= argc)
		usage();
	signal(SIGPIPE, SIG_IGN);
	signal(SIGALRM, on_alarm);
	alarm(secs); /* 0: no limit */
	const char *mode = argv[i++];
	if (strcmp(mode, "server") == 0 && argc - i == 1)
		return server(argv[i]);
	if (strcmp(mode, "stdio") == 0 && argc - i >= 4 && strcmp(argv[i + 2], "--") == 0)
		return stdio_client(strtoull(argv[i], NULL, 10), strtoull(argv[i + 1], NULL, 10),
				    argv + i + 3);
	if (strcmp(mode, "fan") == 0 && (argc - i == 4 || argc - i == 6))
		return fan_client(strtoul(argv[i], NULL, 10), strtoull(argv[i + 1], NULL, 10),
				  strtoull(argv[i + 2], NULL, 10), (unsigned)strtoul(argv[i + 3], NULL, 10),
				  argc - i == 6 ? argv[i + 4] : NULL, argc - i == 6 ? argv[i + 5] : NULL);
	usage();
	return 2;
}
