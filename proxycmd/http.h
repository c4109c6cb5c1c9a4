/* http: the CONNECT request and a bounded, incremental parser for the
 * proxy's answer (protocol.md §2-§3).
 *
 * The parser consumes the response header block and not one byte more:
 * whatever follows the blank line is tunnel data and stays with the
 * caller (in the TLS engine), even when it came in the same record. */
#ifndef POM_HTTP_H
#define POM_HTTP_H

#include <stddef.h>

#define HTTP_LINE_MAX 8192     /* longest status or header line accepted */
#define HTTP_HEADERS_MAX 100   /* most header lines in one response */
#define HTTP_BLOCK_MAX 65536   /* most bytes in all header blocks together */
#define HTTP_INTERIM_MAX 8     /* most 1xx responses before the final one */

/* Write the CONNECT request for authority ("host:port", IPv6 bracketed)
 * into buf. token is sent as "Authorization: Pomerium <token>" when not
 * NULL. Refuses (returns -1) an authority or token holding bytes outside
 * their grammar (CR, LF, space, controls...) and a request that does not
 * fit; otherwise returns the request length. */
int http_connect_request(char *buf, size_t size, const char *authority,
			 const char *token, const char *user_agent);

/* The same request for a forward proxy (HTTPS_PROXY): basic, when not
 * NULL, is base64("user:password") sent as "Proxy-Authorization: Basic". */
int http_forward_request(char *buf, size_t size, const char *authority,
			 const char *basic, const char *user_agent);

enum http_state { HTTP_MORE, HTTP_DONE, HTTP_ERROR };

struct http_parser {
	enum http_state state;
	int status;              /* final status code when HTTP_DONE */
	char reason[128];        /* its reason phrase, sanitised, maybe cut */
	char location[512];      /* Location header (sanitised, maybe cut), or "" */
	const char *error;       /* what was wrong when HTTP_ERROR */
	int http2;               /* HTTP_ERROR because the answer began with an
				  * HTTP/2 frame: the listener speaks only HTTP/2 */
	/* private */
	char line[HTTP_LINE_MAX];
	size_t line_len;
	size_t total;
	unsigned headers;
	unsigned interim;
	int in_status_line;
};

/* Prepare p for a new response. */
void http_parser_init(struct http_parser *p);

/* Feed the next len bytes of the response. Returns how many were
 * consumed: all of them while the header block goes on, and exactly up to
 * and including the final blank line once it ends (p->state becomes
 * HTTP_DONE). On malformed or oversized input p->state becomes HTTP_ERROR
 * with p->error set. 1xx interim responses (except 101) are skipped.
 * An answer whose first 9 bytes are an HTTP/2 SETTINGS or GOAWAY frame
 * header on stream 0 (what an HTTP/2-only server sends to an HTTP/1.1
 * request) is an error with p->http2 set. */
size_t http_parser_feed(struct http_parser *p, const unsigned char *data, size_t len);

#endif
