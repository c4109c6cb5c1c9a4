#include "log.h"
#include "clock.h"
#include "splice.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SPLICE_CLOSE_MS 1000

/* The stream the loop drives: the TLS engine, or plain buffers that
 * mimic its four directions (SENDAPP/SENDREC share "up", RECVREC/RECVAPP
 * share "down"). */
struct stream {
	br_ssl_engine_context *eng;
	struct splice_plain *plain;
};

static unsigned st_state(const struct stream *s)
{
	if (s->eng)
		return br_ssl_engine_current_state(s->eng);
	const struct splice_plain *p = s->plain;
	unsigned st = 0;
	if (p->closed && p->up_len == 0)
		return BR_SSL_CLOSED;
	if (p->up_len)
		st |= BR_SSL_SENDREC;
	else if (!p->closed)
		st |= BR_SSL_SENDAPP;
	st |= p->down_len ? BR_SSL_RECVAPP : BR_SSL_RECVREC;
	return st;
}

/* Which buffer: local input goes to SENDAPP, network output comes from
 * SENDREC, network input goes to RECVREC, local output comes from RECVAPP. */
enum dir { SENDAPP, SENDREC, RECVREC, RECVAPP };

static unsigned char *st_buf(const struct stream *s, enum dir d, size_t *len)
{
	if (s->eng) {
		switch (d) {
		case SENDAPP: return br_ssl_engine_sendapp_buf(s->eng, len);
		case SENDREC: return br_ssl_engine_sendrec_buf(s->eng, len);
		case RECVREC: return br_ssl_engine_recvrec_buf(s->eng, len);
		default: return br_ssl_engine_recvapp_buf(s->eng, len);
		}
	}
	struct splice_plain *p = s->plain;
	switch (d) {
	case SENDAPP:
		if (p->up_len || p->closed)
			return NULL;
		*len = sizeof p->up;
		return p->up;
	case SENDREC:
		*len = p->up_len;
		return p->up_len ? p->up + p->up_off : NULL;
	case RECVREC:
		if (p->down_len)
			return NULL;
		*len = sizeof p->down;
		return p->down;
	default:
		*len = p->down_len;
		return p->down_len ? p->down + p->down_off : NULL;
	}
}

static void st_ack(const struct stream *s, enum dir d, size_t n)
{
	if (s->eng) {
		switch (d) {
		case SENDAPP: br_ssl_engine_sendapp_ack(s->eng, n); break;
		case SENDREC: br_ssl_engine_sendrec_ack(s->eng, n); break;
		case RECVREC: br_ssl_engine_recvrec_ack(s->eng, n); break;
		default: br_ssl_engine_recvapp_ack(s->eng, n); break;
		}
		return;
	}
	struct splice_plain *p = s->plain;
	switch (d) {
	case SENDAPP: p->up_off = 0; p->up_len = n; break;
	case SENDREC: p->up_off += n; p->up_len -= n; break;
	case RECVREC: p->down_off = 0; p->down_len = n; break;
	default: p->down_off += n; p->down_len -= n; break;
	}
}

static void st_flush(const struct stream *s)
{
	if (s->eng)
		br_ssl_engine_flush(s->eng, 0);
}

static void st_close(const struct stream *s)
{
	if (s->eng)
		br_ssl_engine_close(s->eng);
	else
		s->plain->closed = 1;
}

/* Add (fd, events) to the poll set, merging with an entry for the same fd.
 * Returns the index used. */
static int add_fd(struct pollfd *pfd, int *n, int fd, short events)
{
	for (int i = 0; i < *n; i++)
		if (pfd[i].fd == fd) {
			pfd[i].events |= events;
			return i;
		}
	pfd[*n].fd = fd;
	pfd[*n].events = events;
	pfd[*n].revents = 0;
	return (*n)++;
}

static int is_again(int e)
{
	return e == EAGAIN || e == EWOULDBLOCK || e == EINTR;
}

/* Our close_notify is out: send FIN and read (discarding) what the proxy
 * still sends until it closes too or the deadline passes, so that unread
 * bytes do not make the kernel answer with a reset that could overtake
 * the close_notify. */
static void linger(const struct splice_fds *fds, long deadline)
{
	unsigned char sink[4096];
	shutdown(fds->net_out, SHUT_WR);
	for (;;) {
		long left = deadline - monotonic_ms();
		struct pollfd p = { fds->net_in, POLLIN, 0 };
		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return;
		ssize_t r = read(fds->net_in, sink, sizeof sink);
		if (r == 0 || (r < 0 && !is_again(errno)))
			return;
	}
}

/* The four directions; ready[d] says an attempt may be made without
 * waiting (cleared by EAGAIN, set again by poll). */
enum { LIN, LOUT, NIN, NOUT };

#define SPLICE_MAX_ROUNDS 64 /* I/O rounds between two looks at signals */

void splice_run(br_ssl_engine_context *eng, struct splice_plain *plain,
		const struct splice_fds *fds, const sigset_t *wait_mask,
		volatile sig_atomic_t *stop, struct splice_result *res)
{
	struct stream s = { eng, plain };
	struct pollfd pfd[4];
	int ready[4] = { 1, 1, 1, 1 };
	int in_eof = 0, net_eof = 0, closing = 0, unflushed = 0;
	unsigned char stage[65536]; /* local input on its way into the engine */
	size_t stage_off = 0, stage_len = 0;
	int shared = fds->local_out == fds->local_in;
	long close_deadline = 0;
	size_t len;
	unsigned char *buf;

	memset(res, 0, sizeof *res);
	if (!eng)
		memset(plain, 0, sizeof *plain);

	for (;;) {
		/* Move bytes in every direction the engine allows until each
		 * would block: a poll() only when nothing can progress. */
		int progress, rounds = 0;
		unsigned st;
		do {
			progress = 0;
			st = st_state(&s);
			if (st & BR_SSL_CLOSED)
				break;
			if (!closing && ready[LOUT] && (buf = st_buf(&s, RECVAPP, &len)) != NULL) {
				ssize_t w = write(fds->local_out, buf, len);
				if (w > 0) {
					st_ack(&s, RECVAPP, (size_t)w);
					res->down += (unsigned long long)w;
					progress = 1;
				} else if (w < 0 && is_again(errno)) {
					ready[LOUT] = 0;
				} else {
					res->end = SPLICE_LOCAL_GONE;
					res->sys_errno = errno;
					goto start_close;
				}
			}
			if (ready[NOUT] && (buf = st_buf(&s, SENDREC, &len)) != NULL) {
				ssize_t w = write(fds->net_out, buf, len);
				if (w > 0) {
					st_ack(&s, SENDREC, (size_t)w);
					progress = 1;
				} else if (w < 0 && is_again(errno)) {
					ready[NOUT] = 0;
				} else {
					if (closing)
						return; /* keep the reason we were closing for */
					/* EPIPE: the proxy side is closed (typically while
					 * answering its close_notify): an end, not a failure */
					res->end = w < 0 && errno == EPIPE ? SPLICE_PEER_EOF
									   : SPLICE_IO_ERROR;
					res->sys_errno = w < 0 ? errno : EPIPE;
					return;
				}
			}
			if (closing)
				continue;
			if (!net_eof && ready[NIN] && (buf = st_buf(&s, RECVREC, &len)) != NULL) {
				ssize_t rd = read(fds->net_in, buf, len);
				if (rd > 0) {
					st_ack(&s, RECVREC, (size_t)rd);
					progress = 1;
				} else if (rd == 0) {
					net_eof = 1;
				} else if (is_again(errno)) {
					ready[NIN] = 0;
				} else {
					res->end = SPLICE_IO_ERROR;
					res->sys_errno = errno;
					return;
				}
			}
			/* Local input, staged: one read takes up to a pipe's worth
			 * (64 KiB), the engine takes it a record at a time. Read until
			 * it would block, then flush once, so a keystroke goes out at
			 * once and bulk data fills whole records. */
			if (stage_len == 0 && !in_eof && ready[LIN]) {
				ssize_t rd = read(fds->local_in, stage, sizeof stage);
				if (rd > 0) {
					stage_off = 0;
					stage_len = (size_t)rd;
					res->up += (unsigned long long)rd;
					progress = 1;
				} else if (rd < 0 && is_again(errno)) {
					ready[LIN] = 0;
				} else {
					in_eof = progress = 1; /* EOF, or an error we treat as one */
				}
			}
			if (stage_len && (buf = st_buf(&s, SENDAPP, &len)) != NULL) {
				size_t k = stage_len < len ? stage_len : len;
				memcpy(buf, stage + stage_off, k);
				st_ack(&s, SENDAPP, k);
				stage_off += k;
				stage_len -= k;
				unflushed = progress = 1;
			}
			if (unflushed && stage_len == 0 && (in_eof || !ready[LIN])) {
				st_flush(&s); /* may make a record: go round again */
				unflushed = 0;
				progress = 1;
			}
		} while (progress && ++rounds < SPLICE_MAX_ROUNDS);

		if (st & BR_SSL_CLOSED) {
			res->tls_error = eng ? br_ssl_engine_last_error(eng) : 0;
			if (!closing)
				res->end = res->tls_error ? SPLICE_TLS_ERROR : SPLICE_PEER_CLOSED;
			return;
		}
		if (closing && monotonic_ms() >= close_deadline)
			return;
		if (closing && !(st & BR_SSL_SENDREC)) {
			linger(fds, close_deadline);
			return;
		}
		if (!closing && net_eof && !(st & BR_SSL_RECVAPP)) {
			res->end = SPLICE_PEER_EOF;
			return;
		}
		if (!closing && in_eof && stage_len == 0 && fds->local_eof_ends) {
			res->end = SPLICE_LOCAL_GONE;
			goto start_close;
		}

		/* Wait only for what the engine wants and found blocked. Local
		 * output stays in the set (events 0) to learn that ssh went away. */
		int n = 0, i_lin = -1, i_lout, i_nin = -1, i_nout = -1, busy = 0;
		i_lout = add_fd(pfd, &n, fds->local_out,
				!closing && (st & BR_SSL_RECVAPP) && !ready[LOUT] ? POLLOUT : 0);
		if (!closing && !in_eof && stage_len == 0 && !ready[LIN])
			i_lin = add_fd(pfd, &n, fds->local_in, POLLIN);
		if (!closing && !net_eof && (st & BR_SSL_RECVREC) && !ready[NIN])
			i_nin = add_fd(pfd, &n, fds->net_in, POLLIN);
		if ((st & BR_SSL_SENDREC) && !ready[NOUT])
			i_nout = add_fd(pfd, &n, fds->net_out, POLLOUT);
		busy = progress; /* stopped by the round limit: just look at signals */

		struct timespec ts, *tsp = NULL;
		if (busy) {
			ts.tv_sec = 0;
			ts.tv_nsec = 0;
			tsp = &ts;
		} else if (closing) {
			long left = close_deadline - monotonic_ms();
			ts.tv_sec = left / 1000;
			ts.tv_nsec = (left % 1000) * 1000000;
			tsp = &ts;
		}
		int r = ppoll(pfd, (nfds_t)n, tsp, wait_mask);
		if (r < 0 && errno != EINTR) {
			res->end = SPLICE_IO_ERROR;
			res->sys_errno = errno;
			return;
		}
		if (*stop && !closing) {
			res->end = SPLICE_SIGNALLED;
			goto start_close;
		}
		if (r <= 0)
			continue;

		short rev = pfd[i_lout].revents;
		if (!closing && ((rev & POLLERR) || ((rev & POLLHUP) && (!shared || in_eof)))) {
			res->end = SPLICE_LOCAL_GONE;
			goto start_close;
		}
		if (rev & (POLLOUT | POLLERR | POLLHUP))
			ready[LOUT] = 1;
		if (i_lin >= 0 && (pfd[i_lin].revents & (POLLIN | POLLERR | POLLHUP)))
			ready[LIN] = 1;
		if (i_nin >= 0 && (pfd[i_nin].revents & (POLLIN | POLLERR | POLLHUP)))
			ready[NIN] = 1;
		if (i_nout >= 0 && (pfd[i_nout].revents & (POLLOUT | POLLERR | POLLHUP)))
			ready[NOUT] = 1;
		continue;

	start_close:
		closing = 1;
		close_deadline = monotonic_ms() + SPLICE_CLOSE_MS;
		st_close(&s);
		ready[NOUT] = 1;
	}
}
