#include "http.h"
#include "chars.h"
#include "token.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Authority bytes: host name, IPv6 in brackets, ':' and the port. */
static int authority_ok(const char *s)
{
	return chars_alnum_or(s, "-._:[]");
}

/* Build "CONNECT authority" with one optional credentials header. */
static int build_request(char *buf, size_t size, const char *authority, const char *header,
			 const char *value, const char *user_agent)
{
	int n;
	if (!authority_ok(authority) || (value && !token_chars_ok(value)) ||
	    strpbrk(user_agent, "\r\n"))
		return -1;
	if (value)
		n = snprintf(buf, size,
			     "CONNECT %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\n%s%s\r\n\r\n",
			     authority, authority, user_agent, header, value);
	else
		n = snprintf(buf, size,
			     "CONNECT %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\n\r\n",
			     authority, authority, user_agent);
	if (n < 0 || (size_t)n >= size)
		return -1;
	return n;
}

int http_connect_request(char *buf, size_t size, const char *authority,
			 const char *token, const char *user_agent)
{
	return build_request(buf, size, authority, "Authorization: Pomerium ", token, user_agent);
}

int http_forward_request(char *buf, size_t size, const char *authority,
			 const char *basic, const char *user_agent)
{
	return build_request(buf, size, authority, "Proxy-Authorization: Basic ", basic,
			     user_agent);
}

void http_parser_init(struct http_parser *p)
{
	memset(p, 0, sizeof *p);
	p->state = HTTP_MORE;
	p->in_status_line = 1;
}

static void set_error(struct http_parser *p, const char *why)
{
	p->state = HTTP_ERROR;
	p->error = why;
}

/* Copy src[0..len) to dst as printable ASCII only (others become '?'). */
static void copy_clean(char *dst, size_t size, const char *src, size_t len)
{
	size_t n = len < size - 1 ? len : size - 1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)src[i];
		dst[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	dst[n] = '\0';
}

/* "HTTP/1.x SP 3DIGIT [SP reason]" */
static void parse_status_line(struct http_parser *p, const char *l, size_t n)
{
	if (n < 12 || memcmp(l, "HTTP/1.", 7) != 0 || (l[7] != '0' && l[7] != '1') ||
	    l[8] != ' ') {
		set_error(p, "not an HTTP/1.x status line");
		return;
	}
	int code = 0;
	for (int i = 9; i < 12; i++) {
		if (l[i] < '0' || l[i] > '9') {
			set_error(p, "malformed status code");
			return;
		}
		code = code * 10 + (l[i] - '0');
	}
	if (code < 100 || (n > 12 && l[12] != ' ')) {
		set_error(p, "malformed status code");
		return;
	}
	p->status = code;
	if (n > 13)
		copy_clean(p->reason, sizeof p->reason, l + 13, n - 13);
	else
		p->reason[0] = '\0';
	p->in_status_line = 0;
}

/* One complete line (without CR LF). */
static void parse_line(struct http_parser *p, const char *l, size_t n)
{
	if (p->in_status_line) {
		parse_status_line(p, l, n);
		return;
	}
	if (n == 0) {
		/* end of a header block: final, or an interim 1xx to skip */
		if (p->status >= 100 && p->status < 200 && p->status != 101) {
			if (++p->interim > HTTP_INTERIM_MAX) {
				set_error(p, "too many interim responses");
				return;
			}
			p->in_status_line = 1;
			p->headers = 0;
			p->location[0] = '\0';
			return;
		}
		p->state = HTTP_DONE;
		return;
	}
	if (++p->headers > HTTP_HEADERS_MAX) {
		set_error(p, "too many header lines");
		return;
	}
	if (l[0] == ' ' || l[0] == '\t')
		return; /* obsolete line folding: a continuation we do not need */
	const char *colon = memchr(l, ':', n);
	if (!colon || colon == l) {
		set_error(p, "malformed header line");
		return;
	}
	size_t name_len = (size_t)(colon - l);
	if (name_len == 8 && strncasecmp(l, "Location", 8) == 0) {
		const char *v = colon + 1, *end = l + n;
		while (v < end && (*v == ' ' || *v == '\t'))
			v++;
		while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		copy_clean(p->location, sizeof p->location, v, (size_t)(end - v));
	}
}

/* An HTTP/2 frame header is 9 bytes: length (24 bits), type, flags,
 * stream (31 bits). An HTTP/2 server answers a request that is not its
 * connection preface with SETTINGS (a multiple of 6 bytes, flags 0 or
 * ACK) and then GOAWAY (8 bytes or more), both on stream 0 and at most
 * 16384 bytes long: the header's first byte is always 0. */
#define H2_FRAME_HEAD 9

/* Whether h[0..n) (n <= 9, h[0] == 0) can begin such a frame header. */
static int h2_head_prefix(const unsigned char *h, size_t n)
{
	unsigned len = n > 2 ? (unsigned)h[1] << 8 | h[2] : 0;
	if ((n > 1 && h[1] > 0x40) || len > 16384)
		return 0;
	if (n > 3 && h[3] != 4 && h[3] != 7)
		return 0;
	if (n > 3 && (h[3] == 4 ? len % 6 != 0 : len < 8))
		return 0;
	if (n > 4 && (h[3] == 4 ? (h[4] & ~1) != 0 : h[4] != 0))
		return 0;
	if (n > 5 && (h[5] & 0x7f) != 0)
		return 0;
	for (size_t i = 6; i < n; i++)
		if (h[i] != 0)
			return 0;
	return 1;
}

size_t http_parser_feed(struct http_parser *p, const unsigned char *data, size_t len)
{
	size_t i = 0;
	while (i < len && p->state == HTTP_MORE) {
		unsigned char c = data[i++];
		if (++p->total > HTTP_BLOCK_MAX) {
			set_error(p, "response header too large");
			break;
		}
		/* an answer that begins with a NUL byte: an HTTP/2 frame (whose
		 * header may hold a LF byte)? */
		if (p->interim == 0 && p->total <= H2_FRAME_HEAD &&
		    (p->total == 1 ? c == '\0' : p->line_len == p->total - 1 && p->line[0] == '\0')) {
			p->line[p->line_len++] = (char)c;
			if (!h2_head_prefix((const unsigned char *)p->line, p->line_len)) {
				set_error(p, "NUL byte in response header");
			} else if (p->line_len == H2_FRAME_HEAD) {
				p->http2 = 1;
				set_error(p, "an HTTP/2 frame instead of an HTTP/1.1 answer");
			}
			continue;
		}
		if (c == '\n') {
			size_t n = p->line_len;
			if (n > 0 && p->line[n - 1] == '\r')
				n--;
			parse_line(p, p->line, n);
			p->line_len = 0;
			continue;
		}
		if (c == '\0') {
			set_error(p, "NUL byte in response header");
			break;
		}
		if (p->line_len >= HTTP_LINE_MAX) {
			set_error(p, "response header line too long");
			break;
		}
		p->line[p->line_len++] = (char)c;
	}
	return i;
}
