#include "dest.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static int fail(char *err, size_t errsize, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errsize, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errsize, fmt, ap);
	va_end(ap);
	/* the reason may quote user input: keep it one printable line */
	for (char *p = err; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
	return -1;
}

static int is_ipv6(const char *s)
{
	unsigned char b[16];
	return inet_pton(AF_INET6, s, b) == 1;
}

static int is_ipv4(const char *s)
{
	unsigned char b[4];
	return inet_pton(AF_INET, s, b) == 1;
}

int dest_host_valid(const char *host)
{
	size_t len = strlen(host), label = 0;
	if (len == 0 || len > 253 + 1)
		return 0;
	if (is_ipv4(host) || is_ipv6(host))
		return 1;
	if (len > 253 && host[len - 1] != '.')
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)host[i];
		if (c == '.') {
			if (label == 0)
				return 0;
			label = 0;
		} else if (isalnum(c) || c == '-' || c == '_') {
			if (++label > 63)
				return 0;
		} else {
			return 0;
		}
	}
	return 1;
}

/* Parse a decimal port 1..65535 from s[0..len). */
static int parse_port(const char *s, size_t len, unsigned *port)
{
	unsigned long v = 0;
	if (len == 0 || len > 5)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return -1;
	*port = (unsigned)v;
	return 0;
}

/* Split an authority "host[:port]" (s[0..len)) into host and port. With
 * need_port, a missing port is an error; otherwise *port is left as is.
 * bare_v6 allows an unbracketed IPv6 literal whose last colon separates
 * the port. */
static int split_authority(const char *s, size_t len, char *host, unsigned *port,
			   int need_port, int bare_v6, const char *what,
			   char *err, size_t errsize)
{
	const char *hs, *ps = NULL;
	size_t hl, pl = 0;
	if (len == 0)
		return fail(err, errsize, "%s is empty", what);
	if (memchr(s, '@', len))
		return fail(err, errsize, "%s must not contain user information ('@')", what);
	if (s[0] == '[') {
		const char *close = memchr(s, ']', len);
		if (!close)
			return fail(err, errsize, "%s: missing ']' after IPv6 address", what);
		hs = s + 1;
		hl = (size_t)(close - hs);
		size_t rest = len - (size_t)(close + 1 - s);
		if (rest > 0) {
			if (close[1] != ':')
				return fail(err, errsize, "%s: expected ':' after ']'", what);
			ps = close + 2;
			pl = rest - 1;
		}
	} else {
		const char *colon = memchr(s, ':', len);
		const char *last = colon;
		if (colon)
			for (const char *p = colon + 1; p < s + len; p++)
				if (*p == ':')
					last = p;
		if (colon && last != colon && !bare_v6)
			return fail(err, errsize, "%s: write IPv6 addresses in brackets, "
				    "e.g. [2001:db8::1]:443", what);
		hs = s;
		hl = last ? (size_t)(last - s) : len;
		if (last) {
			ps = last + 1;
			pl = len - (size_t)(ps - s);
		}
	}
	if (hl == 0)
		return fail(err, errsize, "%s: missing host name", what);
	if (hl >= DEST_HOST_MAX)
		return fail(err, errsize, "%s: host name too long", what);
	memcpy(host, hs, hl);
	host[hl] = '\0';
	if (s[0] == '[' && !is_ipv6(host))
		return fail(err, errsize, "%s: '%s' is not an IPv6 address", what, host);
	if (s[0] != '[' && strchr(host, ':') && !is_ipv6(host))
		return fail(err, errsize, "%s: '%s' is not an IPv6 address "
			    "(write IPv6 addresses in brackets)", what, host);
	if (!dest_host_valid(host))
		return fail(err, errsize, "%s: invalid host name '%.*s'", what,
			    (int)(hl > 80 ? 80 : hl), hs);
	if (ps) {
		if (parse_port(ps, pl, port) < 0)
			return fail(err, errsize, "%s: invalid port '%.*s'", what,
				    (int)(pl > 10 ? 10 : pl), ps);
	} else if (need_port) {
		return fail(err, errsize, "%s: missing port (write host:port)", what);
	}
	return 0;
}

/* A parsed URL: scheme is "https" or "http" (tcp+/udp+ dropped). */
struct url {
	int tls;
	const char *auth;
	size_t auth_len;
	const char *path; /* after the '/' following the authority, or NULL */
};

/* Split "scheme://authority[/path]". Returns 1 if s is a URL, 0 if it has
 * no "://", -1 on an unsupported scheme (err set). */
static int split_url(const char *s, struct url *u, const char *what, char *err, size_t errsize)
{
	const char *sep = strstr(s, "://");
	if (!sep)
		return 0;
	size_t sl = (size_t)(sep - s);
	const char *scheme = s;
	if (sl > 4 && (strncasecmp(s, "tcp+", 4) == 0 || strncasecmp(s, "udp+", 4) == 0)) {
		if (strncasecmp(s, "udp+", 4) == 0)
			return fail(err, errsize, "%s: UDP tunnels are not supported", what);
		scheme += 4;
		sl -= 4;
	}
	if (sl == 5 && strncasecmp(scheme, "https", 5) == 0)
		u->tls = 1;
	else if (sl == 4 && strncasecmp(scheme, "http", 4) == 0)
		u->tls = 0;
	else
		return fail(err, errsize, "%s: unsupported scheme '%.*s' (use https://)",
			    what, (int)(sl > 16 ? 16 : sl), scheme);
	u->auth = sep + 3;
	const char *slash = strchr(u->auth, '/');
	if (strpbrk(u->auth, "?#"))
		return fail(err, errsize, "%s: query or fragment not allowed in the URL", what);
	u->auth_len = slash ? (size_t)(slash - u->auth) : strlen(u->auth);
	u->path = slash ? slash + 1 : NULL;
	return 1;
}

/* Fill the proxy fields from a URL authority. */
static int set_proxy(struct dest *d, const struct url *u, const char *what,
		     char *err, size_t errsize)
{
	d->tls = u->tls;
	d->proxy_port = u->tls ? 443 : 80;
	if (split_authority(u->auth, u->auth_len, d->proxy_host, &d->proxy_port, 0, 0,
			    what, err, errsize) < 0)
		return -1;
	size_t n = strlen(d->proxy_host);
	if (n > 1 && d->proxy_host[n - 1] == '.')
		d->proxy_host[n - 1] = '\0';
	for (char *p = d->proxy_host; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	d->proxy_ip_family = 0;
	if (inet_pton(AF_INET, d->proxy_host, d->proxy_ip) == 1)
		d->proxy_ip_family = 4;
	else if (inet_pton(AF_INET6, d->proxy_host, d->proxy_ip) == 1)
		d->proxy_ip_family = 6;
	return 0;
}

int dest_parse(struct dest *d, const char *arg, const char *pomerium_url,
	       char *err, size_t errsize)
{
	struct url u, pu;
	memset(d, 0, sizeof *d);
	int r = split_url(arg, &u, "destination", err, errsize);
	if (r < 0)
		return -1;
	const char *target;
	size_t target_len;
	if (r == 0) {
		/* plain host:port: the proxy is the destination host on 443 */
		u.tls = 1;
		u.auth = arg;
		u.auth_len = strlen(arg);
		u.path = NULL;
	}
	if (u.path && u.path[0]) {
		/* https://proxy/dest:port */
		target = u.path;
		target_len = strlen(u.path);
		if (target_len && target[target_len - 1] == '/')
			target_len--;
		if (memchr(target, '/', target_len))
			return fail(err, errsize, "destination: expected https://PROXY/HOST:PORT");
	} else {
		target = u.auth;
		target_len = u.auth_len;
	}
	if (split_authority(target, target_len, d->dest_host, &d->dest_port, 1, r == 0,
			    "destination", err, errsize) < 0)
		return -1;

	if (pomerium_url) {
		r = split_url(pomerium_url, &pu, "--pomerium-url", err, errsize);
		if (r < 0)
			return -1;
		if (r == 0)
			return fail(err, errsize, "--pomerium-url: expected https://HOST[:PORT]");
		if (pu.path && pu.path[0])
			return fail(err, errsize, "--pomerium-url: a path is not allowed");
		return set_proxy(d, &pu, "--pomerium-url", err, errsize);
	}
	if (r == 0 || !(u.path && u.path[0])) {
		/* the proxy is the destination host itself */
		struct url self = u;
		char buf[DEST_HOST_MAX + 2];
		self.auth = d->dest_host;
		self.auth_len = strlen(d->dest_host);
		if (strchr(d->dest_host, ':')) {
			/* bracket the v6 literal for split_authority */
			snprintf(buf, sizeof buf, "[%s]", d->dest_host);
			self.auth = buf;
			self.auth_len = strlen(buf);
		}
		return set_proxy(d, &self, "destination", err, errsize);
	}
	return set_proxy(d, &u, "destination", err, errsize);
}

int dest_parse_proxy(struct dest *d, const char *url, char *err, size_t errsize)
{
	struct url u;
	memset(d, 0, sizeof *d);
	int r = split_url(url, &u, "proxy URL", err, errsize);
	if (r < 0)
		return -1;
	if (r == 0) {
		u.tls = 1;
		u.auth = url;
		u.auth_len = strcspn(url, "/");
		u.path = url[u.auth_len] ? url + u.auth_len + 1 : NULL;
	}
	if (u.path && u.path[0])
		return fail(err, errsize, "proxy URL: a path is not allowed");
	return set_proxy(d, &u, "proxy URL", err, errsize);
}

static int hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

int dest_pct_decode(const char *s, size_t n, char *out, size_t size)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];
		if (c == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			c = hexval(s[i + 1]) * 16 + hexval(s[i + 2]);
			i += 2;
		}
		if (o + 1 >= size)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

int dest_authority(char *buf, size_t size, const char *host, unsigned port)
{
	int n = strchr(host, ':') ? snprintf(buf, size, "[%s]:%u", host, port)
				  : snprintf(buf, size, "%s:%u", host, port);
	if (n < 0 || (size_t)n >= size)
		return -1;
	return n;
}
