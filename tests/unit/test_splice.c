/* The splice loop against an in-process BearSSL echo server: random data
 * both ways with checksums (1-byte writes, mixed sizes, 64 MiB bulk), and
 * each way a session ends. Also the plain-TCP variant. */
#include "log.h"
#include "clock.h"
#include "splice.h"
#include "tap.h"
#include "testtls.h"
#include "tls.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static char pki[4096];
static struct testtls_anchors anchors;
static struct tls_client client;

/* Deterministic data: xorshift64 bytes. */
static unsigned char prng_byte(unsigned long long *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (unsigned char)(*s >> 24);
}

static void expected_digest(size_t total, unsigned char out[32])
{
	unsigned char buf[65536];
	unsigned long long s = 0x9e3779b97f4a7c15ULL;
	br_sha256_context h;
	br_sha256_init(&h);
	for (size_t done = 0; done < total;) {
		size_t n = total - done < sizeof buf ? total - done : sizeof buf;
		for (size_t i = 0; i < n; i++)
			buf[i] = prng_byte(&s);
		br_sha256_update(&h, buf, n);
		done += n;
	}
	br_sha256_out(&h, out);
}

/* In a child: close every descriptor above 2 except keep_a and keep_b,
 * so that each pipe end has only the owner the test means it to have. */
static void close_others(int keep_a, int keep_b)
{
	for (int fd = 3; fd < 1024; fd++)
		if (fd != keep_a && fd != keep_b)
			close(fd);
}

/* Child: write total bytes of the stream into fd in chunks of chunk
 * (0 = varying sizes 1..65536), then close (EOF) unless keep_open. */
static pid_t start_writer(int fd, size_t total, size_t chunk, int keep_open)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	static unsigned char buf[65536];
	unsigned long long s = 0x9e3779b97f4a7c15ULL, r = 12345;
	close_others(fd, -1);
	for (size_t done = 0; done < total;) {
		size_t n = chunk;
		if (!n)
			n = 1 + (size_t)(prng_byte(&r) | prng_byte(&r) << 8);
		if (n > total - done)
			n = total - done;
		for (size_t i = 0; i < n; i++)
			buf[i] = prng_byte(&s);
		for (size_t off = 0; off < n;) {
			ssize_t w = write(fd, buf + off, n - off);
			if (w <= 0)
				_exit(1);
			off += (size_t)w;
		}
		done += n;
	}
	if (keep_open)
		pause();
	_exit(0);
}

/* Child: read total bytes from fd, hash them, write the digest to res_fd,
 * exit (closing fd: the splice then sees its output go away). */
static pid_t start_reader(int fd, size_t total, int res_fd)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	static unsigned char buf[65536];
	br_sha256_context h;
	unsigned char d[32];
	size_t got = 0;
	close_others(fd, res_fd);
	br_sha256_init(&h);
	while (got < total) {
		ssize_t r = read(fd, buf, sizeof buf);
		if (r <= 0)
			break;
		br_sha256_update(&h, buf, (size_t)r);
		got += (size_t)r;
	}
	br_sha256_out(&h, d);
	if (got != total)
		memset(d, 0, sizeof d);
	if (write(res_fd, d, sizeof d) != (ssize_t)sizeof d)
		_exit(2);
	_exit(got == total ? 0 : 1);
}

static volatile sig_atomic_t stop;
static void on_usr1(int sig) { stop = sig; }

/* Handshake the client over fd; returns 0 when done. */
static int handshake(int fd)
{
	struct tls_params p;
	memset(&p, 0, sizeof p);
	p.server_name = "localhost";
	p.tas = anchors.ta;
	p.ta_count = anchors.n;
	if (tls_client_init(&client, &p) < 0)
		return -1;
	return tls_pump_until(tls_engine(&client), fd, BR_SSL_SENDAPP, monotonic_ms() + 10000) ==
	       TLS_PUMP_OK ? 0 : -1;
}

enum end_how { END_READER_EXITS, END_SIGNAL, END_SERVER_DIES };

/* One session: total bytes both ways through TLS (tls=1) or plain. */
static void session(const char *name, int tls, size_t total, size_t chunk, enum end_how how)
{
	int sv[2], in[2], out[2], res[2];
	pid_t server, writer, reader;
	struct splice_result r;
	struct splice_plain plain;
	unsigned char want[32], got[32];
	sigset_t block, wait_mask;

	alarm(120);
	stop = 0;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0 || pipe(in) < 0 || pipe(out) < 0 ||
	    pipe(res) < 0) {
		ok(0, "%s: setup", name);
		return;
	}
	if (tls) {
		char chain[4200], key[4200];
		snprintf(chain, sizeof chain, "%s/server.pem", pki);
		snprintf(key, sizeof key, "%s/server.key", pki);
		server = testtls_echo_server(sv[1], chain, key, NULL);
	} else {
		server = fork();
		if (server == 0) {
			/* plain echo */
			static unsigned char b[32768];
			close_others(sv[1], -1);
			ssize_t n;
			while ((n = read(sv[1], b, sizeof b)) > 0)
				for (ssize_t o = 0; o < n;) {
					ssize_t w = write(sv[1], b + o, (size_t)(n - o));
					if (w <= 0)
						_exit(2);
					o += w;
				}
			_exit(0);
		}
	}
	close(sv[1]);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	if (tls && !ok(handshake(sv[0]) == 0, "%s: handshake", name))
		return;

	writer = start_writer(in[1], total, chunk, how != END_READER_EXITS);
	reader = start_reader(out[0], how == END_READER_EXITS ? total : (size_t)-1, res[1]);
	close(in[1]);
	close(out[0]);
	close(res[1]);
	fcntl(in[0], F_SETFL, O_NONBLOCK);
	fcntl(out[1], F_SETFL, O_NONBLOCK);

	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &wait_mask);
	sigdelset(&wait_mask, SIGUSR1);
	signal(SIGUSR1, on_usr1);
	pid_t killer = 0;
	if (how != END_READER_EXITS) {
		killer = fork();
		if (killer == 0) {
			close_others(-1, -1);
			usleep(300000);
			if (how == END_SIGNAL)
				kill(getppid(), SIGUSR1);
			else
				kill(server, SIGKILL);
			_exit(0);
		}
	}

	struct splice_fds fds = { in[0], out[1], sv[0], sv[0], 0 };
	splice_run(tls ? tls_engine(&client) : NULL, &plain, &fds, &wait_mask, &stop, &r);
	sigprocmask(SIG_UNBLOCK, &block, NULL);

	close(in[0]);
	close(out[1]);
	close(sv[0]);
	if (killer)
		waitpid(killer, NULL, 0);
	kill(writer, SIGKILL);
	waitpid(writer, NULL, 0);
	if (how == END_READER_EXITS) {
		ssize_t n = read(res[0], got, sizeof got);
		expected_digest(total, want);
		is_int(r.end, SPLICE_LOCAL_GONE, "%s: ends when the local reader goes away", name);
		is_int((long long)r.up, (long long)total, "%s: %zu bytes up", name, total);
		is_int((long long)r.down, (long long)total, "%s: %zu bytes down", name, total);
		ok(n == 32 && memcmp(got, want, 32) == 0, "%s: checksum of the echoed data", name);
		waitpid(reader, NULL, 0);
		is_int(testtls_wait(server), 0, "%s: server saw a clean end", name);
	} else {
		kill(reader, SIGKILL);
		waitpid(reader, NULL, 0);
		if (how == END_SIGNAL) {
			is_int(r.end, SPLICE_SIGNALLED, "%s: a stop signal ends the session", name);
			is_int(testtls_wait(server), 0, "%s: server got close_notify", name);
		} else {
			is_int(r.end, SPLICE_PEER_EOF, "%s: proxy EOF ends the session", name);
			testtls_wait(server);
		}
	}
	close(res[0]);
	alarm(0);
}

/* Interactive use: one child writes a short message, waits for its echo,
 * and goes on, never closing its input: each message must get through on
 * its own (no EOF to push it). */
static void pingpong(const char *name, int rounds)
{
	int sv[2], in[2], out[2];
	struct splice_result r;
	struct splice_plain plain;
	sigset_t none;
	char chain[4200], key[4200];

	alarm(60);
	stop = 0;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0 || pipe(in) < 0 || pipe(out) < 0) {
		ok(0, "%s: setup", name);
		return;
	}
	snprintf(chain, sizeof chain, "%s/server.pem", pki);
	snprintf(key, sizeof key, "%s/server.key", pki);
	pid_t server = testtls_echo_server(sv[1], chain, key, NULL);
	close(sv[1]);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	if (!ok(handshake(sv[0]) == 0, "%s: handshake", name))
		return;
	pid_t talker = fork();
	if (talker == 0) {
		close_others(in[1], out[0]);
		for (int i = 0; i < rounds; i++) {
			char msg[32], got[32];
			int n = snprintf(msg, sizeof msg, "ping %d\n", i), have = 0;
			if (write(in[1], msg, (size_t)n) != n)
				_exit(2);
			while (have < n) {
				ssize_t k = read(out[0], got + have, (size_t)(n - have));
				if (k <= 0)
					_exit(3);
				have += (int)k;
			}
			if (memcmp(msg, got, (size_t)n) != 0)
				_exit(4);
		}
		_exit(0); /* closes out[0]: the splice sees its output go away */
	}
	close(in[1]);
	close(out[0]);
	fcntl(in[0], F_SETFL, O_NONBLOCK);
	fcntl(out[1], F_SETFL, O_NONBLOCK);
	sigemptyset(&none);
	struct splice_fds fds = { in[0], out[1], sv[0], sv[0], 0 };
	splice_run(tls_engine(&client), &plain, &fds, &none, &stop, &r);
	int st;
	waitpid(talker, &st, 0);
	is_int(WIFEXITED(st) ? WEXITSTATUS(st) : 100, 0, "%s: %d messages echoed one by one", name,
	       rounds);
	is_int(r.end, SPLICE_LOCAL_GONE, "%s: ends when the talker goes", name);
	close(in[0]);
	close(out[1]);
	close(sv[0]);
	testtls_wait(server);
	alarm(0);
}

int main(void)
{
	const char *src = getenv("SRCDIR");
	char cmd[8400], ca[4200];
	const char *tmp = getenv("TMPDIR");

	signal(SIGPIPE, SIG_IGN);
	snprintf(pki, sizeof pki, "%s/pom-splice-XXXXXX", tmp ? tmp : "/tmp");
	if (!mkdtemp(pki))
		return 1;
	snprintf(cmd, sizeof cmd, "bash %s/tests/lib/mkcerts.sh %s", src ? src : ".", pki);
	if (!ok(system(cmd) == 0, "test PKI generated"))
		return done_testing();
	snprintf(ca, sizeof ca, "%s/ca.pem", pki);
	if (!ok(testtls_load_anchors(ca, &anchors) == 0, "CA loaded"))
		return done_testing();

	pingpong("tls ping-pong", 200);
	session("tls 1-byte writes", 1, 4096, 1, END_READER_EXITS);
	session("tls mixed sizes", 1, 3u << 20, 0, END_READER_EXITS);
	session("tls 64 MiB bulk", 1, 64u << 20, 65536, END_READER_EXITS);
	session("tls stop signal", 1, 1u << 20, 4096, END_SIGNAL);
	session("tls proxy dies", 1, 1u << 20, 4096, END_SERVER_DIES);
	session("plain 1-byte writes", 0, 2048, 1, END_READER_EXITS);
	session("plain 16 MiB", 0, 16u << 20, 0, END_READER_EXITS);
	session("plain proxy dies", 0, 1u << 20, 4096, END_SERVER_DIES);

	testtls_free_anchors(&anchors);
	snprintf(cmd, sizeof cmd, "rm -rf %s", pki);
	ok(system(cmd) == 0, "test PKI removed");
	return done_testing();
}
