#include "log.h"
#include "clock.h"
#include "tunnel.h"
#include "tlstext.h"
#include "net.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef POM_VERSION
#define POM_VERSION "dev"
#endif


/* "host:port" of the proxy for messages, IPv6 bracketed. */
static const char *proxy_name(const struct dest *d)
{
	static char buf[DEST_HOST_MAX + 8];
	dest_authority(buf, sizeof buf, d->proxy_host, d->proxy_port);
	return buf;
}

/* Where a TLS tunnel's opening stopped, for the message and the class. */
enum tunnel_phase { PHASE_HANDSHAKE, PHASE_REQUEST, PHASE_ANSWER };

static const char *const phase_names[] = {
	[PHASE_HANDSHAKE] = "the TLS handshake",
	[PHASE_REQUEST] = "the CONNECT request",
	[PHASE_ANSWER] = "its answer to CONNECT",
};

/* Report a failed pump during the handshake or the CONNECT exchange; the
 * pump's errno is taken first, before anything else can change it. */
static enum pom_exit pump_failure(struct tunnel *t, const struct dest *d, enum tls_pump_result r,
				  enum tunnel_phase ph, int timeout_ms)
{
	int io_errno = errno;
	const char *phase = phase_names[ph];
	int err = br_ssl_engine_last_error(tls_engine(t->tls));
	if (t->tls->trust_failed)
		return EXIT_LOCAL; /* the trust store said why */
	if (r == TLS_PUMP_TIMEOUT) {
		log_error("proxy %s did not complete %s within %d ms", proxy_name(d), phase, timeout_ms);
		return EXIT_PROTOCOL;
	}
	if (err == 0) {
		/* the proxy hung up (TCP EOF, reset, or a clean close_notify) */
		log_error("proxy %s closed the connection during %s%s%s", proxy_name(d), phase,
			  r == TLS_PUMP_IOERR ? ": " : "", r == TLS_PUMP_IOERR ? strerror(io_errno) : "");
		return ph == PHASE_HANDSHAKE ? EXIT_TLS : EXIT_PROTOCOL;
	}
	enum pom_exit code = tls_error_exit(err);
	log_error("%s with proxy %s failed: %s", code == EXIT_VERIFY ? "certificate verification" : "TLS",
		  proxy_name(d), tls_error_text(err));
	return code;
}

/* Send the request and read the answer over TLS. */
static enum pom_exit exchange_tls(struct tunnel *t, const struct dest *d, const char *req,
				  size_t req_len, long deadline, int timeout_ms)
{
	br_ssl_engine_context *eng = tls_engine(t->tls);
	enum tls_pump_result r;
	size_t off = 0, len;
	unsigned char *buf;

	while (off < req_len) {
		if ((r = tls_pump_until(eng, t->fd, BR_SSL_SENDAPP, deadline)) != TLS_PUMP_OK)
			return pump_failure(t, d, r, PHASE_REQUEST, timeout_ms);
		buf = br_ssl_engine_sendapp_buf(eng, &len);
		if (len > req_len - off)
			len = req_len - off;
		memcpy(buf, req + off, len);
		br_ssl_engine_sendapp_ack(eng, len);
		off += len;
	}
	br_ssl_engine_flush(eng, 0);
	while (t->resp.state == HTTP_MORE) {
		if ((r = tls_pump_until(eng, t->fd, BR_SSL_RECVAPP, deadline)) != TLS_PUMP_OK)
			return pump_failure(t, d, r, PHASE_ANSWER, timeout_ms);
		buf = br_ssl_engine_recvapp_buf(eng, &len);
		/* ack only the header bytes: the rest is tunnel data */
		size_t used = http_parser_feed(&t->resp, buf, len);
		if (used)
			br_ssl_engine_recvapp_ack(eng, used);
	}
	return EXIT_OK;
}

/* The same over plain TCP; bytes after the header go to plain->down. */
static enum pom_exit exchange_plain(struct tunnel *t, const struct dest *d, const char *req,
				    size_t req_len, long deadline, int timeout_ms)
{
	struct splice_plain *p = t->plain;
	size_t off = 0;
	int err; /* errno of the read or write that failed, 0 at end of file */
	memset(p, 0, sizeof *p);
	while (off < req_len || t->resp.state == HTTP_MORE) {
		struct pollfd pfd = { t->fd, off < req_len ? POLLOUT : POLLIN, 0 };
		long left = deadline - monotonic_ms();
		if (left <= 0) {
			log_error("proxy %s did not answer CONNECT within %d ms", proxy_name(d), timeout_ms);
			return EXIT_PROTOCOL;
		}
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		if (off < req_len) {
			ssize_t w = write(t->fd, req + off, req_len - off);
			if (w < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (w <= 0) {
				err = w < 0 ? errno : 0;
				goto closed;
			}
			off += (size_t)w;
			continue;
		}
		ssize_t rd = read(t->fd, p->down, sizeof p->down);
		if (rd < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (rd <= 0) {
			err = rd < 0 ? errno : 0;
			goto closed;
		}
		size_t used = http_parser_feed(&t->resp, p->down, (size_t)rd);
		p->down_off = used;
		p->down_len = (size_t)rd - used;
	}
	return EXIT_OK;
closed:
	log_error("proxy %s closed the connection before answering CONNECT%s%s",
		  proxy_name(d), err ? ": " : "", err ? strerror(err) : "");
	return EXIT_PROTOCOL;
}

enum pom_exit tunnel_open(struct tunnel *t, const struct tunnel_config *c)
{
	const struct dest *d = c->dest;
	char peer[80], authority[DEST_HOST_MAX + 8], req[TUNNEL_REQ_MAX];
	enum pom_exit code;
	long t0 = monotonic_ms();

	http_parser_init(&t->resp);
	if (c->via_fd >= 0) {
		t->fd = c->via_fd;
	} else {
		t->fd = -1;
		code = net_connect(d->proxy_host, d->proxy_port, c->timeout_ms, &t->fd, peer,
				   sizeof peer);
		if (code != EXIT_OK)
			return code;
		log_debug(1, "connected to %s (%s) in %ld ms", d->proxy_host, peer,
			  monotonic_ms() - t0);
	}

	if (dest_authority(authority, sizeof authority, d->dest_host, d->dest_port) < 0)
		goto toolong;
	int req_len = c->basic || !c->token
		? http_forward_request(req, sizeof req, authority, c->basic, "pom-proxy/" POM_VERSION)
		: http_connect_request(req, sizeof req, authority, c->token, "pom-proxy/" POM_VERSION);
	if (req_len < 0)
		goto toolong;

	long deadline = monotonic_ms() + c->timeout_ms;
	if (d->tls) {
		struct tls_params p = *c->tls;
		br_ssl_session_parameters offer, sp;
		p.server_name = d->proxy_ip_family ? NULL : d->proxy_host;
		p.ip = d->proxy_ip;
		p.ip_len = d->proxy_ip_family == 4 ? 4 : 16;
		p.resume = c->session && session_load(c->session, &offer) ? &offer : NULL;
		if (tls_client_init(t->tls, &p) < 0) {
			code = EXIT_LOCAL;
			goto fail;
		}
		long th = monotonic_ms();
		enum tls_pump_result r = tls_pump_until(tls_engine(t->tls), t->fd, BR_SSL_SENDAPP, deadline);
		if (r != TLS_PUMP_OK) {
			if (p.resume)
				session_forget(c->session);
			explicit_bzero(&offer, sizeof offer);
			code = pump_failure(t, d, r, PHASE_HANDSHAKE, c->timeout_ms);
			goto fail;
		}
		br_ssl_engine_get_session_parameters(tls_engine(t->tls), &sp);
		int resumed = p.resume && sp.session_id_len == offer.session_id_len &&
			      memcmp(sp.session_id, offer.session_id, sp.session_id_len) == 0;
		if (c->session && !resumed)
			session_store(c->session, &sp);
		explicit_bzero(&offer, sizeof offer);
		explicit_bzero(&sp.master_secret, sizeof sp.master_secret);
		/* a resumed handshake has no key exchange: no group to name */
		log_debug(1, "TLS 1.2 %s%s%s with %s in %ld ms, %s%s", tls_suite_name(sp.cipher_suite),
			  resumed ? "" : " over ",
			  resumed ? "" : tls_group_name(br_ssl_engine_get_ecdhe_curve(tls_engine(t->tls))),
			  d->proxy_host, monotonic_ms() - th,
			  resumed ? "resumed" : p.resume ? "full handshake (resumption declined)"
						       : "full handshake",
			  p.insecure ? " (NOT VERIFIED)" : "");
		code = exchange_tls(t, d, req, (size_t)req_len, deadline, c->timeout_ms);
	} else {
		code = exchange_plain(t, d, req, (size_t)req_len, deadline, c->timeout_ms);
	}
	explicit_bzero(req, sizeof req);
	if (code != EXIT_OK)
		goto fail;
	if (t->resp.state == HTTP_ERROR && t->resp.http2) {
		log_error("proxy %s answered CONNECT in HTTP/2: that listener speaks only HTTP/2 "
			  "(Pomerium's codec_type: http2), and a tunnel needs HTTP/1.1 "
			  "(codec_type: auto, the default, or http1)", proxy_name(d));
		code = EXIT_PROTOCOL;
		goto fail;
	}
	if (t->resp.state == HTTP_ERROR) {
		log_error("proxy %s sent a malformed answer to CONNECT: %s", proxy_name(d), t->resp.error);
		code = EXIT_PROTOCOL;
		goto fail;
	}
	log_debug(1, "CONNECT %s: %d %s after %ld ms", authority, t->resp.status,
		  t->resp.reason, monotonic_ms() - t0);
	return EXIT_OK;
toolong:
	log_error("cannot build the CONNECT request for %s: too long or invalid", d->dest_host);
	code = EXIT_USAGE;
fail:
	explicit_bzero(req, sizeof req);
	tunnel_close(t);
	return code;
}

enum pom_exit tunnel_status_exit(const struct tunnel *t, const struct dest *d,
				 enum token_source src)
{
	char dst[DEST_HOST_MAX + 8], px[DEST_HOST_MAX + 8];
	int s = t->resp.status;
	int service = src != TOKEN_NONE && src != TOKEN_CACHE;
	dest_authority(dst, sizeof dst, d->dest_host, d->dest_port);
	dest_authority(px, sizeof px, d->proxy_host, d->proxy_port);
	switch (s) {
	case 301: case 302: case 303: case 307: case 308: case 401:
		if (service)
			log_error("proxy %s refused the service account token from %s for %s "
				  "(HTTP %d): it is invalid, expired or revoked", px,
				  token_source_name(src), dst, s);
		else if (src == TOKEN_CACHE)
			log_error("sign-in required: proxy %s refused the token for %s even after "
				  "signing in (HTTP %d)", px, dst, s);
		else
			log_error("sign-in required: proxy %s wants a sign-in for %s (HTTP %d)",
				  px, dst, s);
		return EXIT_SIGNIN;
	case 403:
		log_error("access denied: proxy %s's policy does not allow you to reach %s "
			  "(403 Forbidden)", px, dst);
		return EXIT_DENIED;
	case 404:
		log_error("no route: proxy %s has no route for %s (404 Not Found)", px, dst);
		return EXIT_NOROUTE;
	case 502: case 503: case 504:
		log_error("proxy %s cannot reach %s (%d %s)", px, dst, s, t->resp.reason);
		return EXIT_UPSTREAM;
	case 495:
		log_error("proxy %s refused the client certificate (495 %s)", px, t->resp.reason);
		return EXIT_CLIENTCERT;
	case 450:
		log_error("proxy %s's device policy refused this device (450 %s)", px,
			  t->resp.reason);
		return EXIT_CLIENTCERT;
	default:
		log_error("proxy %s answered CONNECT %s with \"%d %s\"", px, dst, s, t->resp.reason);
		return EXIT_PROTOCOL;
	}
}

void tunnel_close(struct tunnel *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}
