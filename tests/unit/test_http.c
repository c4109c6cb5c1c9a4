/* Unit tests for http.c: the exact CONNECT request bytes and its refusals,
 * and the response parser on canned answers fed whole, split in two at
 * every offset and one byte at a time. The parser must end exactly at the
 * blank line so the tunnel bytes that follow are left untouched. Then the
 * limits (line, block, header count, interim responses), garbage, and
 * an HTTP/2-only server's first frames. */
#include "http.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the request ---- */

static void test_request(void)
{
	char buf[512];
	static const char *no_tok =
		"CONNECT db.corp.example.com:5432 HTTP/1.1\r\n"
		"Host: db.corp.example.com:5432\r\n"
		"User-Agent: pom-proxy/0.1.0\r\n"
		"\r\n";
	static const char *with_tok =
		"CONNECT db.corp.example.com:5432 HTTP/1.1\r\n"
		"Host: db.corp.example.com:5432\r\n"
		"User-Agent: pom-proxy/0.1.0\r\n"
		"Authorization: Pomerium eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln-_x\r\n"
		"\r\n";
	static const char *v6 =
		"CONNECT [2001:db8::1]:22 HTTP/1.1\r\n"
		"Host: [2001:db8::1]:22\r\n"
		"User-Agent: ua\r\n"
		"\r\n";

	memset(buf, 'X', sizeof buf);
	int n = http_connect_request(buf, sizeof buf, "db.corp.example.com:5432", NULL,
				     "pom-proxy/0.1.0");
	is_int(n, (long long)strlen(no_tok), "no token: length");
	is_str(buf, no_tok, "no token: exact bytes");

	n = http_connect_request(buf, sizeof buf, "db.corp.example.com:5432",
				 "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln-_x", "pom-proxy/0.1.0");
	is_int(n, (long long)strlen(with_tok), "token: length");
	is_str(buf, with_tok, "token: exact bytes");

	n = http_connect_request(buf, sizeof buf, "[2001:db8::1]:22", NULL, "ua");
	is_int(n, (long long)strlen(v6), "IPv6 authority: length");
	is_str(buf, v6, "IPv6 authority: exact bytes");

	ok(http_connect_request(buf, sizeof buf, "h:1", "aZ09-._~+/=", "ua") > 0,
	   "token68 characters accepted");
	ok(strstr(buf, "Authorization: Pomerium aZ09-._~+/=\r\n") != NULL,
	   "  and sent as they are");

	/* refusals */
	static const char *bad_auth[] = {
		"", "a\r\nb:22", "a\nb:22", "a\rb:22", "a b:22", "a\tb:22", "db:22\r\n",
		"db:22 HTTP/1.1\r\nX: y", "u@db:22", "db/x:22", "db:22?", "a\x01:22",
		"a\x7f:22", "h\xc3\xa9:22", "a\"b:22",
	};
	for (size_t i = 0; i < sizeof bad_auth / sizeof *bad_auth; i++)
		is_int(http_connect_request(buf, sizeof buf, bad_auth[i], NULL, "ua"), -1,
		       "authority #%zu refused", i);
	static const char *bad_tok[] = {
		"", "a\r\nb", "a\nb", "a\rb", "a b", "a\tb", "a:b", "a\"b", "a,b", "a;b",
		"a\x01", "a\x7f", "a\xff", "tok\r\n\r\nGET / HTTP/1.1", "a(b)", "a@b",
	};
	for (size_t i = 0; i < sizeof bad_tok / sizeof *bad_tok; i++)
		is_int(http_connect_request(buf, sizeof buf, "db:22", bad_tok[i], "ua"), -1,
		       "token #%zu refused", i);
	is_int(http_connect_request(buf, sizeof buf, "db:22", NULL, "ua\r\nX: y"), -1,
	       "user agent with CRLF refused");
	is_int(http_connect_request(buf, sizeof buf, "db:22", NULL, "ua\n"), -1,
	       "user agent with LF refused");

	/* buffer sizes: exact fit, one byte short, tiny, zero */
	size_t len = strlen(with_tok);
	char *exact = malloc(len + 1);
	if (exact) {
		is_int(http_connect_request(exact, len + 1, "db.corp.example.com:5432",
					    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln-_x",
					    "pom-proxy/0.1.0"), (long long)len, "exact-size buffer");
		is_str(exact, with_tok, "  exact-size buffer content");
		free(exact);
	}
	char *shortbuf = malloc(len);
	if (shortbuf) {
		is_int(http_connect_request(shortbuf, len, "db.corp.example.com:5432",
					    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln-_x",
					    "pom-proxy/0.1.0"), -1, "buffer one byte short refused");
		free(shortbuf);
	}
	is_int(http_connect_request(buf, 10, "db:22", NULL, "ua"), -1, "10-byte buffer refused");
	buf[0] = 'Y';
	is_int(http_connect_request(buf, 0, "db:22", NULL, "ua"), -1, "0-byte buffer refused");
	is_int(buf[0], 'Y', "  0-byte buffer untouched");
	/* a token too big for the buffer */
	char big[4096];
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	is_int(http_connect_request(buf, sizeof buf, "db:22", big, "ua"), -1,
	       "4 KiB token in a 512-byte buffer refused");
}

/* ---- the parser on canned responses ---- */

struct canned {
	const char *name;
	const char *head;   /* the header block(s), up to the final blank line */
	const char *early;  /* tunnel bytes that follow */
	int status;
	const char *location;
	const char *reason;
};

static const struct canned cases[] = {
	{ "200 with early tunnel bytes",
	  "HTTP/1.1 200 Connection established\r\n\r\n",
	  "SSH-2.0-OpenSSH_9.6\r\n\r\n\r\nHTTP/1.1 500 Oops\r\n\r\n",
	  200, "", "Connection established" },
	{ "302 with Location",
	  "HTTP/1.1 302 Found\r\n"
	  "Location: https://authenticate.example.com/.pomerium/sign_in?a=b&c=d\r\n"
	  "Content-Length: 0\r\n"
	  "\r\n",
	  "", 302, "https://authenticate.example.com/.pomerium/sign_in?a=b&c=d", "Found" },
	{ "401",
	  "HTTP/1.1 401 Unauthorized\r\nWww-Authenticate: Pomerium\r\n"
	  "Content-Type: text/plain\r\nContent-Length: 13\r\n\r\n",
	  "Unauthorized\n", 401, "", "Unauthorized" },
	{ "403",
	  "HTTP/1.1 403 Forbidden\r\ncontent-length: 9\r\n\r\n",
	  "forbidden", 403, "", "Forbidden" },
	{ "404",
	  "HTTP/1.1 404 Not Found\r\nx-pomerium-reason: route_not_found\r\n\r\n",
	  "", 404, "", "Not Found" },
	{ "503",
	  "HTTP/1.1 503 Service Unavailable\r\nServer: envoy\r\n\r\n",
	  "upstream connect error", 503, "", "Service Unavailable" },
	{ "495",
	  "HTTP/1.1 495 SSL Certificate Error\r\n\r\n", "", 495, "", "SSL Certificate Error" },
	{ "HTTP/1.0 200",
	  "HTTP/1.0 200 OK\r\n\r\n", "\x00\x01\xff", 200, "", "OK" },
	{ "100 Continue then 200",
	  "HTTP/1.1 100 Continue\r\nLocation: /interim\r\n\r\n"
	  "HTTP/1.1 200 OK\r\n\r\n",
	  "SSH-2.0-x\r\n", 200, "", "OK" },
	{ "two 1xx then 302",
	  "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\nX: y\r\n\r\n"
	  "HTTP/1.1 302 Found\r\nLocation: /signin\r\n\r\n",
	  "", 302, "/signin", "Found" },
	{ "LF-only line endings",
	  "HTTP/1.1 200 OK\nServer: x\nLocation: /l\n\n",
	  "\n\nearly\n", 200, "/l", "OK" },
	{ "mixed CRLF and LF",
	  "HTTP/1.1 200 OK\r\nA: b\n\r\n", "x", 200, "", "OK" },
	{ "reason phrase missing",
	  "HTTP/1.1 200\r\n\r\n", "early", 200, "", "" },
	{ "reason phrase empty",
	  "HTTP/1.1 200 \r\n\r\n", "early", 200, "", "" },
	{ "200 with headers and Content-Length",
	  "HTTP/1.1 200 OK\r\nDate: Mon, 23 Nov 2026 23:51:47 GMT\r\nContent-Length: 5\r\n"
	  "Server: envoy\r\nx-request-id: 0123-abcd\r\n\r\n",
	  "hello", 200, "", "OK" },
	{ "Location: case, spaces, tabs",
	  "HTTP/1.1 307 Temporary Redirect\r\nlOcAtIoN:  \t/a b\t \r\n\r\n",
	  "", 307, "/a b", "Temporary Redirect" },
	{ "Location with control bytes sanitised",
	  "HTTP/1.1 302 Found\r\nLocation: /a\x1b[0m\x01z\r\n\r\n",
	  "", 302, "/a?[0m?z", "Found" },
	{ "101 is final",
	  "HTTP/1.1 101 Switching Protocols\r\n\r\n", "tunnel", 101, "", "Switching Protocols" },
	{ "folded header line ignored",
	  "HTTP/1.1 200 OK\r\nX-A: b\r\n  c\r\n\r\n", "early", 200, "", "OK" },
};

/* Feed head+early in the pieces given by cuts[0..ncuts) (increasing
 * offsets), stopping once the parser leaves HTTP_MORE, like a caller.
 * Returns the total consumed; each piece must be consumed in full while
 * the header goes on. */
static size_t feed_pieces(struct http_parser *p, const unsigned char *data, size_t len,
			  const size_t *cuts, size_t ncuts, int *partial)
{
	size_t total = 0, start = 0;
	*partial = 0;
	http_parser_init(p);
	for (size_t i = 0; i <= ncuts && p->state == HTTP_MORE; i++) {
		size_t end = i < ncuts ? cuts[i] : len;
		size_t got = http_parser_feed(p, data + start, end - start);
		if (p->state == HTTP_MORE && got != end - start)
			*partial = 1;
		total += got;
		start = end;
	}
	return total;
}

/* One result compared with the case; returns 1 when it matches. */
static int matches(const struct http_parser *p, const struct canned *c, size_t total,
		   size_t hlen, int partial, char *why, size_t whysize)
{
	if (partial)
		snprintf(why, whysize, "a piece was not fully consumed while HTTP_MORE");
	else if (p->state != HTTP_DONE)
		snprintf(why, whysize, "state %d (%s)", p->state, p->error ? p->error : "-");
	else if (total != hlen)
		snprintf(why, whysize, "consumed %zu, header is %zu", total, hlen);
	else if (p->status != c->status)
		snprintf(why, whysize, "status %d", p->status);
	else if (strcmp(p->location, c->location) != 0)
		snprintf(why, whysize, "location '%s'", p->location);
	else if (strcmp(p->reason, c->reason) != 0)
		snprintf(why, whysize, "reason '%s'", p->reason);
	else
		return 1;
	return 0;
}

static void test_canned(void)
{
	static struct http_parser p;
	for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
		const struct canned *c = &cases[k];
		size_t hlen = strlen(c->head), elen = strlen(c->early);
		if (strcmp(c->name, "HTTP/1.0 200") == 0)
			elen = 3; /* binary early bytes, with a NUL */
		size_t len = hlen + elen;
		unsigned char *data = malloc(len);
		if (!data)
			continue;
		memcpy(data, c->head, hlen);
		memcpy(data + hlen, c->early, elen);
		char why[640];
		int partial;

		/* (a) whole */
		size_t total = feed_pieces(&p, data, len, NULL, 0, &partial);
		if (!ok(matches(&p, c, total, hlen, partial, why, sizeof why),
			"%s: whole", c->name))
			fprintf(stderr, "#   %s\n", why);
		is_int(p.status, c->status, "%s: status %d", c->name, c->status);
		is_str(p.location, c->location, "%s: location", c->name);
		is_str(p.reason, c->reason, "%s: reason", c->name);
		is_int(total, hlen, "%s: consumed exactly the header block", c->name);

		/* (b) split in two at every offset, early bytes included */
		int bad = 0;
		for (size_t cut = 0; cut <= len; cut++) {
			total = feed_pieces(&p, data, len, &cut, 1, &partial);
			if (!matches(&p, c, total, hlen, partial, why, sizeof why)) {
				if (!bad++)
					fprintf(stderr, "#   %s: split at %zu: %s\n", c->name, cut, why);
			}
		}
		ok(!bad, "%s: split in two at each of %zu offsets (%d failed)", c->name, len + 1, bad);

		/* (c) one byte at a time */
		size_t *cuts = malloc(len * sizeof *cuts);
		if (cuts) {
			for (size_t i = 0; i < len; i++)
				cuts[i] = i + 1;
			total = feed_pieces(&p, data, len, cuts, len, &partial);
			if (!ok(matches(&p, c, total, hlen, partial, why, sizeof why),
				"%s: one byte at a time", c->name))
				fprintf(stderr, "#   %s\n", why);
			free(cuts);
		}

		/* (d) the early bytes alone tell nothing: a fresh parser fed the
		 * header block only ends at its last byte */
		http_parser_init(&p);
		total = http_parser_feed(&p, data, hlen - 1);
		ok(p.state == HTTP_MORE && total == hlen - 1, "%s: all but the last byte: still MORE",
		   c->name);
		total = http_parser_feed(&p, data + hlen - 1, 1);
		ok(p.state == HTTP_DONE && total == 1, "%s: last byte ends it", c->name);
		free(data);
	}
}

/* ---- refusals ---- */

/* Feed s (len bytes) whole to a fresh parser; returns its final state. */
static enum http_state run(struct http_parser *p, const char *s, size_t len, size_t *consumed)
{
	http_parser_init(p);
	*consumed = http_parser_feed(p, (const unsigned char *)s, len);
	return p->state;
}

static void refused(const char *s, size_t len, const char *what)
{
	static struct http_parser p;
	size_t n;
	enum http_state st = run(&p, s, len, &n);
	if (!ok(st == HTTP_ERROR && p.error && p.error[0], "refused: %s (%s)", what,
		p.error ? p.error : "no error"))
		fprintf(stderr, "#   state %d status %d\n", st, p.status);
	/* and byte by byte, too */
	http_parser_init(&p);
	for (size_t i = 0; i < len && p.state == HTTP_MORE; i++)
		http_parser_feed(&p, (const unsigned char *)s + i, 1);
	ok(p.state == HTTP_ERROR, "  %s: also refused byte by byte", what);
}

/* A response: status line, n header lines "X-H: v\r\n", blank line. */
static char *many_headers(const char *status, unsigned n, size_t *len)
{
	const char *h = "X-H: v\r\n";
	size_t sl = strlen(status), hl = strlen(h);
	char *s = malloc(sl + n * hl + 3);
	if (!s)
		return NULL;
	memcpy(s, status, sl);
	for (unsigned i = 0; i < n; i++)
		memcpy(s + sl + i * hl, h, hl);
	memcpy(s + sl + n * hl, "\r\n", 3);
	*len = sl + n * hl + 2;
	return s;
}

static void test_limits(void)
{
	static struct http_parser p;
	size_t n, len;
	char *s;

	/* a status line without CRLF, longer than HTTP_LINE_MAX */
	len = HTTP_LINE_MAX + 100;
	s = malloc(len);
	if (s) {
		memcpy(s, "HTTP/1.1 200 ", 13);
		memset(s + 13, 'a', len - 13);
		refused(s, len, "status line longer than HTTP_LINE_MAX without CRLF");
		/* a header line just as long */
		memcpy(s, "HTTP/1.1 200 OK\r\nX: ", 20);
		refused(s, len, "header line longer than HTTP_LINE_MAX");
		/* a header line within the limit is fine */
		size_t l2 = HTTP_LINE_MAX - 1;
		memcpy(s, "HTTP/1.1 200 OK\r\nX: ", 20);
		memset(s + 20, 'b', 17 + l2 - 20);
		memcpy(s + 17 + l2, "\r\n\r\n", 4);
		ok(run(&p, s, 17 + l2 + 4, &n) == HTTP_DONE && n == 17 + l2 + 4,
		   "header line of HTTP_LINE_MAX-1 bytes + CRLF accepted");
		free(s);
	}

	/* an endless header: lines of 2000 bytes until more than HTTP_BLOCK_MAX */
	{
		size_t line = 2000, count = HTTP_BLOCK_MAX / line + 2;
		len = 17 + count * line;
		s = malloc(len);
		if (s) {
			memcpy(s, "HTTP/1.1 200 OK\r\n", 17);
			for (size_t i = 0; i < count; i++) {
				char *l = s + 17 + i * line;
				memcpy(l, "X-Pad: ", 7);
				memset(l + 7, 'p', line - 9);
				memcpy(l + line - 2, "\r\n", 2);
			}
			refused(s, len, "header block larger than HTTP_BLOCK_MAX");
			run(&p, s, len, &n);
			ok(n <= HTTP_BLOCK_MAX + 1, "  stopped within HTTP_BLOCK_MAX (+1) bytes: %zu", n);
			free(s);
		}
	}
	/* an endless stream fed in small pieces stops by itself */
	{
		static const char chunk[] = "X-Endless: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
		size_t fed = 0, rounds = 0;
		http_parser_init(&p);
		http_parser_feed(&p, (const unsigned char *)"HTTP/1.1 200 OK\r\n", 17);
		while (p.state == HTTP_MORE && rounds++ < 100000)
			fed += http_parser_feed(&p, (const unsigned char *)chunk, sizeof chunk - 1);
		ok(p.state == HTTP_ERROR, "endless header lines end in HTTP_ERROR (%s)",
		   p.error ? p.error : "-");
		ok(17 + fed <= HTTP_BLOCK_MAX + 1, "  after at most HTTP_BLOCK_MAX + 1 bytes (%zu)", 17 + fed);
	}
	/* an endless stream of interim responses with headers, within counts */
	{
		static const char chunk[] = "HTTP/1.1 100 Continue\r\nX: y\r\n\r\n";
		http_parser_init(&p);
		size_t rounds = 0;
		while (p.state == HTTP_MORE && rounds++ < 100000)
			http_parser_feed(&p, (const unsigned char *)chunk, sizeof chunk - 1);
		ok(p.state == HTTP_ERROR, "endless 1xx responses end in HTTP_ERROR (%s)",
		   p.error ? p.error : "-");
	}

	/* header count */
	s = many_headers("HTTP/1.1 200 OK\r\n", HTTP_HEADERS_MAX, &len);
	if (s) {
		ok(run(&p, s, len, &n) == HTTP_DONE && n == len && p.status == 200,
		   "HTTP_HEADERS_MAX headers accepted");
		free(s);
	}
	s = many_headers("HTTP/1.1 200 OK\r\n", HTTP_HEADERS_MAX + 1, &len);
	if (s) {
		refused(s, len, "HTTP_HEADERS_MAX + 1 headers");
		free(s);
	}
	/* the count starts again after an interim response */
	{
		size_t l1, l2;
		char *a = many_headers("HTTP/1.1 100 Continue\r\n", HTTP_HEADERS_MAX, &l1);
		char *b = many_headers("HTTP/1.1 200 OK\r\n", HTTP_HEADERS_MAX, &l2);
		char *both = malloc(l1 + l2);
		if (a && b && both) {
			memcpy(both, a, l1);
			memcpy(both + l1, b, l2);
			ok(run(&p, both, l1 + l2, &n) == HTTP_DONE && p.status == 200 && n == l1 + l2,
			   "HTTP_HEADERS_MAX headers in a 1xx and again in the final response");
		}
		free(a);
		free(b);
		free(both);
	}

	/* interim responses: HTTP_INTERIM_MAX then a final one is fine, one more is not */
	{
		static const char intr[] = "HTTP/1.1 100 Continue\r\n\r\n";
		static const char fin[] = "HTTP/1.1 200 OK\r\n\r\n";
		char buf[(sizeof intr) * (HTTP_INTERIM_MAX + 2) + sizeof fin];
		size_t off = 0;
		for (int i = 0; i < HTTP_INTERIM_MAX; i++) {
			memcpy(buf + off, intr, sizeof intr - 1);
			off += sizeof intr - 1;
		}
		memcpy(buf + off, fin, sizeof fin - 1);
		ok(run(&p, buf, off + sizeof fin - 1, &n) == HTTP_DONE && p.status == 200 &&
		   n == off + sizeof fin - 1, "HTTP_INTERIM_MAX 1xx responses then 200 accepted");
		memcpy(buf + off, intr, sizeof intr - 1);
		off += sizeof intr - 1;
		memcpy(buf + off, fin, sizeof fin - 1);
		refused(buf, off + sizeof fin - 1, "HTTP_INTERIM_MAX + 1 interim responses");
	}
}

static void test_garbage(void)
{
#define R(lit, what) refused(lit, sizeof lit - 1, what)
	R("SSH-2.0-OpenSSH_9.6\r\n", "an SSH banner");
	R("SSH-2.0-OpenSSH_9.6\r\n\r\n", "an SSH banner and blank line");
	R("\r\n", "a blank first line");
	R("\r\nHTTP/1.1 200 OK\r\n\r\n", "a blank line before the status line");
	R("<html>\r\n", "HTML");
	R("HTTP/1.1 200 OK\r\nX: a\0b\r\n\r\n", "NUL in a header");
	R("HTTP/1.1 2\0000 OK\r\n\r\n", "NUL in the status line");
	R("\0x", "a NUL, then a byte no HTTP/2 frame header has there");
	R("\0\0\0\1\4\0\0\0\1", "a NUL-led HTTP/2 HEADERS frame (not what a server sends first)");
	R("HTTP/1.1 100 Continue\r\n\r\n\0", "a NUL after a 1xx");
	R("HTTP/1.1 20 OK\r\n\r\n", "two-digit status");
	R("HTTP/1.1 2000 OK\r\n\r\n", "four-digit status");
	R("HTTP/1.1 20x OK\r\n\r\n", "non-digit status");
	R("HTTP/1.1 -20 OK\r\n\r\n", "negative status");
	R("HTTP/1.1 099 OK\r\n\r\n", "status below 100");
	R("HTTP/1.1 000\r\n\r\n", "status 000");
	R("HTTP/1.1  200 OK\r\n\r\n", "two spaces before the status");
	R("HTTP/1.1 200OK\r\n\r\n", "no space after the status");
	R("HTTP/1.1\r\n\r\n", "no status at all");
	R("HTTP/2 200\r\n\r\n", "HTTP/2");
	R("HTTP/1.2 200 OK\r\n\r\n", "HTTP/1.2");
	R("HTTP/11 200 OK\r\n\r\n", "HTTP/11");
	R("http/1.1 200 OK\r\n\r\n", "lowercase http");
	R("ICY 200 OK\r\n\r\n", "ICY");
	R("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "header without a colon");
	R("HTTP/1.1 200 OK\r\n: empty name\r\n\r\n", "header with an empty name");
	R("HTTP/1.1 100 Continue\r\n\r\nSSH-2.0-x\r\n", "garbage after a 1xx");
#undef R

	/* not yet a complete line: nothing decided */
	static struct http_parser p;
	size_t n;
	is_int(run(&p, "", 0, &n), HTTP_MORE, "empty input: MORE");
	is_int(run(&p, "HTTP/1.1 200 OK", 15, &n), HTTP_MORE, "status line without its end: MORE");
	is_int(n, 15, "  all of it consumed");
	is_int(run(&p, "HTTP/1.1 200 OK\r\n", 17, &n), HTTP_MORE, "no blank line yet: MORE");
	is_int(run(&p, "HTTP/1.1 200 OK\r\n\r", 18, &n), HTTP_MORE, "blank line half there: MORE");

	/* reason and location are cut, not overflowed */
	char big[2000];
	int m = snprintf(big, sizeof big, "HTTP/1.1 302 %0300d\r\nLocation: /%0900d\r\n\r\n", 0, 0);
	ok(run(&p, big, (size_t)m, &n) == HTTP_DONE && p.status == 302 && n == (size_t)m,
	   "long reason and Location accepted");
	is_int(strlen(p.reason), sizeof p.reason - 1, "  reason cut to its buffer");
	is_int(strlen(p.location), sizeof p.location - 1, "  location cut to its buffer");
	ok(p.location[0] == '/', "  location keeps its start");
}

/* What an HTTP/2-only listener (Envoy with codec_type http2) sends to an
 * HTTP/1.1 request: its SETTINGS, a WINDOW_UPDATE, then GOAWAY with
 * PROTOCOL_ERROR; fed whole, split at every offset, byte by byte. Other
 * NUL-led bytes stay a plain NUL error; one NUL byte waits for more. */
static void test_http2(void)
{
	static const unsigned char envoy[] = {
		0, 0, 18, 4, 0, 0, 0, 0, 0,            /* SETTINGS, 3 entries */
		0, 3, 0x7f, 0xff, 0xff, 0xff,          /* MAX_CONCURRENT_STREAMS */
		0, 4, 0x10, 0, 0, 0,                   /* INITIAL_WINDOW_SIZE */
		0, 8, 0, 0, 0, 1,                      /* ENABLE_CONNECT_PROTOCOL */
		0, 0, 4, 8, 0, 0, 0, 0, 0, 0x0f, 0xff, 0, 1, /* WINDOW_UPDATE */
		0, 0, 8, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, /* GOAWAY */
	};
	static const unsigned char goaway10[] = { /* GOAWAY first, length 10: a LF byte */
		0, 0, 10, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 'h', 'i',
	};
	static struct http_parser p;
	size_t n = sizeof envoy;
	int bad = 0, partial;

	feed_pieces(&p, envoy, n, NULL, 0, &partial);
	ok(p.state == HTTP_ERROR && p.http2, "HTTP/2 SETTINGS first: refused as HTTP/2 (%s)",
	   p.error ? p.error : "no error");
	for (size_t cut = 0; cut <= n; cut++) {
		feed_pieces(&p, envoy, n, &cut, 1, &partial);
		bad += !(p.state == HTTP_ERROR && p.http2);
	}
	ok(!bad, "  split in two at each of %zu offsets (%d failed)", n + 1, bad);
	http_parser_init(&p);
	for (size_t i = 0; i < n && p.state == HTTP_MORE; i++)
		http_parser_feed(&p, envoy + i, 1);
	ok(p.state == HTTP_ERROR && p.http2, "  byte by byte");
	is_int(p.total, 9, "  decided on the frame header's 9 bytes");

	feed_pieces(&p, goaway10, sizeof goaway10, NULL, 0, &partial);
	ok(p.state == HTTP_ERROR && p.http2, "GOAWAY first (its length byte a LF): HTTP/2");

	static const struct {
		const char *bytes;
		size_t len;
		const char *what;
	} not_h2[] = {
		{ "\0\0\x12\4\0\0\0\0\1", 9, "SETTINGS on stream 1" },
		{ "\0\0\x11\4\0\0\0\0\0", 9, "SETTINGS of 17 bytes" },
		{ "\0\0\6\4\2\0\0\0\0", 9, "SETTINGS with flag 2" },
		{ "\0\0\4\7\0\0\0\0\0", 9, "GOAWAY shorter than 8 bytes" },
		{ "\0\x41\0\4\0\0\0\0\0", 9, "a frame longer than 16384 bytes" },
	};
	for (size_t k = 0; k < sizeof not_h2 / sizeof *not_h2; k++) {
		feed_pieces(&p, (const unsigned char *)not_h2[k].bytes, not_h2[k].len, NULL, 0,
			    &partial);
		ok(p.state == HTTP_ERROR && !p.http2 && strstr(p.error, "NUL"),
		   "%s: a NUL error, not HTTP/2 (%s)", not_h2[k].what, p.error ? p.error : "-");
	}
	feed_pieces(&p, (const unsigned char *)"\0", 1, NULL, 0, &partial);
	is_int(p.state, HTTP_MORE, "one NUL byte alone: MORE (it may begin an HTTP/2 frame)");
	feed_pieces(&p, (const unsigned char *)"HTTP/1.1 200 OK\r\n\r\n", 19, NULL, 0, &partial);
	ok(p.state == HTTP_DONE && !p.http2, "an HTTP/1.1 200: no HTTP/2 flag");
}

int main(void)
{
	alarm(120);
	test_request();
	test_canned();
	test_limits();
	test_garbage();
	test_http2();
	return done_testing();
}
