#include "callback.h"
#include "clock.h"
#include "dest.h"
#include "log.h"
#include "token.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int callback_open(struct callback *cb)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof sa;
	unsigned char rnd[16];

	memset(cb, 0, sizeof *cb);
	for (int i = 0; i < CALLBACK_CONNS; i++)
		cb->conns[i].fd = -1;
	if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
		log_error("sign-in: no random bytes: %s", strerror(errno));
		return -1;
	}
	int n = snprintf(cb->path, sizeof cb->path, "/callback/");
	for (size_t i = 0; i < sizeof rnd; i++)
		n += snprintf(cb->path + n, sizeof cb->path - (size_t)n, "%02x", rnd[i]);
	cb->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (cb->listen_fd < 0 || bind(cb->listen_fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    listen(cb->listen_fd, 16) < 0 ||
	    getsockname(cb->listen_fd, (struct sockaddr *)&sa, &sl) < 0) {
		log_error("sign-in: cannot listen on 127.0.0.1 for the browser: %s", strerror(errno));
		if (cb->listen_fd >= 0)
			close(cb->listen_fd);
		cb->listen_fd = -1;
		return -1;
	}
	cb->port = ntohs(sa.sin_port);
	snprintf(cb->redirect_uri, sizeof cb->redirect_uri, "http://127.0.0.1:%u%s", cb->port,
		 cb->path);
	return 0;
}

int callback_pollfds(const struct callback *cb, struct pollfd *pfd)
{
	int n = 0;
	pfd[n].fd = cb->listen_fd;
	pfd[n].events = POLLIN;
	pfd[n++].revents = 0;
	for (int i = 0; i < CALLBACK_CONNS; i++)
		if (cb->conns[i].fd >= 0) {
			pfd[n].fd = cb->conns[i].fd;
			pfd[n].events = POLLIN;
			pfd[n++].revents = 0;
		}
	return n;
}

int callback_timeout(const struct callback *cb)
{
	long now = monotonic_ms(), best = -1;
	for (int i = 0; i < CALLBACK_CONNS; i++)
		if (cb->conns[i].fd >= 0) {
			long left = cb->conns[i].deadline - now;
			if (left < 0)
				left = 0;
			if (best < 0 || left < best)
				best = left;
		}
	return (int)best;
}

int callback_token_from_url(const char *url, char *token, size_t size)
{
	const char *q = strchr(url, '?');
	q = q ? q + 1 : url;
	while (*q) {
		const char *end = q + strcspn(q, "&# \r\n");
		if (strncmp(q, "pomerium_jwt=", 13) == 0)
			return dest_pct_decode(q + 13, (size_t)(end - q - 13), token, size) == 0 &&
			       token_chars_ok(token);
		if (*end != '&')
			break;
		q = end + 1;
	}
	return 0;
}

static const char page_ok[] =
	"<!doctype html><html><head><meta charset=\"utf-8\"><title>pom-proxy: signed in</title></head>"
	"<body><h1>Signed in</h1><p>pom-proxy received your sign-in. You can close this tab "
	"and return to your terminal.</p></body></html>\n";

static const char page_ok_detached[] =
	"<!doctype html><html><head><meta charset=\"utf-8\"><title>pom-proxy: signed in</title></head>"
	"<body><h1>Signed in</h1><p>pom-proxy received your sign-in. The connection that asked "
	"for it has already given up waiting; connect again and the next one will use it. "
	"You can close this tab.</p></body></html>\n";

/* Answer and close connection c. */
static void reply(struct callback_conn *c, int status, const char *reason, const char *text)
{
	char head[512];
	const char *body = text ? text : reason;
	const char *ctype = text ? "text/html; charset=utf-8" : "text/plain; charset=utf-8";
	int n = snprintf(head, sizeof head,
			 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "Cache-Control: no-store\r\nReferrer-Policy: no-referrer\r\n"
			 "Connection: close\r\n\r\n",
			 status, reason, ctype, strlen(body) + (text ? 0 : 1));
	/* small enough for the socket buffer: best effort, never block */
	if (write(c->fd, head, (size_t)n) == n) {
		if (write(c->fd, body, strlen(body)) > 0 && !text)
			(void)!write(c->fd, "\n", 1);
	}
	close(c->fd);
	c->fd = -1;
	c->len = 0;
}

/* Find a header's value in the request head (case-insensitive name). */
static int header_value(const char *head, const char *name, char *out, size_t size)
{
	size_t nl = strlen(name);
	for (const char *l = strstr(head, "\r\n"); l; l = strstr(l, "\r\n")) {
		l += 2;
		if (strncasecmp(l, name, nl) == 0 && l[nl] == ':') {
			const char *v = l + nl + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			size_t n = strcspn(v, "\r\n");
			while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
				n--;
			if (n >= size)
				return 0;
			memcpy(out, v, n);
			out[n] = '\0';
			return 1;
		}
	}
	return 0;
}

int callback_check(const struct callback *cb, const char *req, char *token, size_t size)
{
	char host[256], want1[64], want2[64], target[CALLBACK_REQ_MAX + 1];
	size_t line = strcspn(req, "\r\n");
	const char *sp1 = memchr(req, ' ', line);
	const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', line - (size_t)(sp1 + 1 - req)) : NULL;
	if (!sp1 || !sp2 || strncmp(sp2 + 1, "HTTP/1.", 7) != 0)
		return 400;
	if (sp1 - req != 3 || strncmp(req, "GET", 3) != 0)
		return 405;
	size_t plen = strlen(cb->path), tl = (size_t)(sp2 - (sp1 + 1));
	memcpy(target, sp1 + 1, tl);
	target[tl] = '\0';
	if (tl < plen || strncmp(target, cb->path, plen) != 0 ||
	    (target[plen] != '?' && target[plen] != '\0'))
		return 404;
	snprintf(want1, sizeof want1, "127.0.0.1:%u", cb->port);
	snprintf(want2, sizeof want2, "localhost:%u", cb->port);
	if (!header_value(req, "Host", host, sizeof host) ||
	    (strcmp(host, want1) != 0 && strcasecmp(host, want2) != 0))
		return 421;
	if (cb->used)
		return 409;
	int ok = callback_token_from_url(target, token, size);
	explicit_bzero(target, tl);
	return ok ? 200 : 422;
}

/* A complete request head is in c->buf: answer it. */
static int judge(struct callback *cb, struct callback_conn *c, char *token, size_t size)
{
	int st = callback_check(cb, c->buf, token, size);
	switch (st) {
	case 200:
		cb->used = 1;
		reply(c, 200, "OK", cb->detached ? page_ok_detached : page_ok);
		return 1;
	case 404: reply(c, 404, "Not Found", NULL); break;
	case 405: reply(c, 405, "Method Not Allowed", NULL); break;
	case 409: reply(c, 409, "Conflict (already signed in)", NULL); break;
	case 421: reply(c, 400, "Bad Request (Host)", NULL); break;
	case 422: reply(c, 400, "Bad Request (no pomerium_jwt)", NULL); break;
	default: reply(c, 400, "Bad Request", NULL); break;
	}
	return 0;
}

int callback_serve(struct callback *cb, const struct pollfd *pfd, int n,
		   char *token, size_t size)
{
	long now = monotonic_ms();
	int got = 0;
	for (int k = 0; k < n; k++) {
		if (!pfd[k].revents)
			continue;
		if (pfd[k].fd == cb->listen_fd) {
			int fd = accept4(cb->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
			if (fd < 0)
				continue;
			int slot = -1;
			for (int i = 0; i < CALLBACK_CONNS; i++)
				if (cb->conns[i].fd < 0) {
					slot = i;
					break;
				}
			if (slot < 0) {
				/* full: drop the oldest, so idle connections cannot
				 * keep the browser out */
				slot = 0;
				for (int i = 1; i < CALLBACK_CONNS; i++)
					if (cb->conns[i].deadline < cb->conns[slot].deadline)
						slot = i;
				reply(&cb->conns[slot], 503, "Service Unavailable", NULL);
			}
			cb->conns[slot].fd = fd;
			cb->conns[slot].len = 0;
			cb->conns[slot].deadline = now + CALLBACK_READ_MS;
			continue;
		}
		for (int i = 0; i < CALLBACK_CONNS; i++) {
			struct callback_conn *c = &cb->conns[i];
			if (c->fd != pfd[k].fd)
				continue;
			ssize_t r = read(c->fd, c->buf + c->len, CALLBACK_REQ_MAX - c->len);
			if (r < 0 && (errno == EAGAIN || errno == EINTR))
				break;
			if (r <= 0) {
				close(c->fd);
				c->fd = -1;
				break;
			}
			c->len += (size_t)r;
			c->buf[c->len] = '\0';
			if (memchr(c->buf, '\0', c->len)) {
				reply(c, 400, "Bad Request", NULL);
			} else if (strstr(c->buf, "\r\n\r\n")) {
				if (judge(cb, c, token, size))
					got = 1;
			} else if (c->len >= CALLBACK_REQ_MAX) {
				reply(c, 431, "Request Header Fields Too Large", NULL);
			}
			break;
		}
	}
	for (int i = 0; i < CALLBACK_CONNS; i++)
		if (cb->conns[i].fd >= 0 && cb->conns[i].deadline <= now)
			reply(&cb->conns[i], 408, "Request Timeout", NULL);
	return got;
}

void callback_close(struct callback *cb)
{
	for (int i = 0; i < CALLBACK_CONNS; i++)
		if (cb->conns[i].fd >= 0) {
			close(cb->conns[i].fd);
			cb->conns[i].fd = -1;
		}
	if (cb->listen_fd >= 0)
		close(cb->listen_fd);
	cb->listen_fd = -1;
	explicit_bzero(cb->conns, sizeof cb->conns);
}
