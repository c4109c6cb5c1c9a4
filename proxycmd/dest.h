/* dest: where a tunnel goes, derived from DEST and --pomerium-url the way
 * pomerium-cli does (protocol.md §1), with IPv6 bracketed everywhere.
 *
 * Host names are checked here once, so that nothing derived from user
 * input can inject bytes into the CONNECT request or a cache file name. */
#ifndef POM_DEST_H
#define POM_DEST_H

#include <stddef.h>

#define DEST_HOST_MAX 256

struct dest {
	char dest_host[DEST_HOST_MAX];  /* CONNECT target; IPv6 without brackets */
	unsigned dest_port;
	char proxy_host[DEST_HOST_MAX]; /* proxy; lowercased, no brackets, no trailing dot */
	unsigned proxy_port;
	int tls;                        /* 1: https (TLS to the proxy), 0: http */
	int proxy_ip_family;            /* 4 or 6 for an IP literal proxy, else 0 */
	unsigned char proxy_ip[16];     /* the literal's bytes when proxy_ip_family */
};

/* Fill d from the DEST argument and the optional --pomerium-url (NULL when
 * absent). Accepted DEST forms: "host:port", "[v6]:port", "v6:port" (as
 * ssh's %h:%p gives an IPv6 literal: the last colon separates the port),
 * "tcp+https://host:port", "https://proxy[:port]/host:port" and
 * "http://..." (plain TCP to the proxy). Returns 0, or -1 with a one-line
 * reason (without the "pom-proxy: " prefix) in err. */
int dest_parse(struct dest *d, const char *arg, const char *pomerium_url,
	       char *err, size_t errsize);

/* Fill only the proxy fields of d from a proxy URL ("https://host[:port]",
 * "http://...", or a bare "host[:port]" meaning https), as the login and
 * logout commands name a proxy. Returns 0, or -1 with a reason in err. */
int dest_parse_proxy(struct dest *d, const char *url, char *err, size_t errsize);

/* Percent-decode s[0..n) (a URL component) into out, NUL-terminated.
 * Returns 0, or -1 when it does not fit in size bytes. */
int dest_pct_decode(const char *s, size_t n, char *out, size_t size);

/* Write "host:port" into buf, bracketing an IPv6 literal. Returns the
 * length, or -1 when it does not fit. */
int dest_authority(char *buf, size_t size, const char *host, unsigned port);

/* 1 when host is a syntactically valid DNS name (letters, digits, '-',
 * '_', dots between non-empty labels of at most 63 bytes, an optional
 * trailing dot, at most 253 bytes), an IPv4 literal or an IPv6 literal
 * (without brackets); 0 otherwise. */
int dest_host_valid(const char *host);

#endif
