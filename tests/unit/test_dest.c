/* Unit tests for dest.c: every row of protocol.md §1 (with and without
 * --pomerium-url), proxy port defaults, tcp+/udp+ prefixes, IPv6 in every
 * position (bracketed, ssh's unbracketed %h:%p, in URLs), the proxy IP
 * literal bytes, proxy host normalisation, host name limits, refusals of
 * anything that could inject bytes into CONNECT or a cache file name, and
 * dest_authority bracketing and truncation. */
#include "dest.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Copy s to out with control bytes shown as '?' (for TAP output). */
static void printable(char *out, const char *s)
{
	for (; *s; s++)
		*out++ = ((unsigned char)*s < 0x20 || *s == 0x7f) ? '?' : *s;
	*out = '\0';
}

/* 1 when s holds no control byte but tab: it prints as one line, and
 * echoes no terminal escape from the input. */
static int one_line(const char *s)
{
	for (; *s; s++)
		if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f)
			return 0;
	return 1;
}

/* dest_parse into d; err is cleared first so a refusal must fill it. */
static int parse(struct dest *d, const char *arg, const char *url, char *err, size_t errsize)
{
	memset(err, 0, errsize);
	memset(d, 0x5a, sizeof *d);
	return dest_parse(d, arg, url, err, errsize);
}

/* Expect arg (and url) to parse into the given destination and proxy. */
static void accepts(const char *arg, const char *url, const char *dhost, unsigned dport,
		    const char *phost, unsigned pport, int tls)
{
	struct dest d;
	char err[256];
	int r = parse(&d, arg, url, err, sizeof err);
	if (!ok(r == 0, "accept '%s'%s%s", arg, url ? " --pomerium-url " : "", url ? url : "")) {
		fprintf(stderr, "#   err: %s\n", err);
		return;
	}
	is_str(d.dest_host, dhost, "  '%s': destination host", arg);
	is_int(d.dest_port, dport, "  '%s': destination port", arg);
	is_str(d.proxy_host, phost, "  '%s': proxy host", arg);
	is_int(d.proxy_port, pport, "  '%s': proxy port", arg);
	is_int(d.tls, tls, "  '%s': TLS", arg);
}

/* Expect a refusal: -1 and a non-empty, NUL-terminated reason. */
static void refuses(const char *arg, const char *url, const char *why)
{
	struct dest d;
	char err[256];
	int r = parse(&d, arg, url, err, sizeof err);
	char shown[sizeof err];
	printable(shown, err);
	ok(r == -1 && err[0] != '\0' && memchr(err, '\0', sizeof err),
	   "refuse %s (%s)", why, err[0] ? shown : "no reason given");
	if (r != -1)
		fprintf(stderr, "#   returned %d, dest %s:%u proxy %s:%u\n", r, d.dest_host,
		       d.dest_port, d.proxy_host, d.proxy_port);
	/* the reason is one line on stderr: no raw control bytes from input */
	else
		ok(one_line(err), "  the reason for %s is one clean line", why);
}

/* protocol.md §1, row by row. */
static void test_table(void)
{
	accepts("db.corp.example.com:5432", NULL,
		"db.corp.example.com", 5432, "db.corp.example.com", 443, 1);
	accepts("tcp+https://db.corp.example.com:5432", NULL,
		"db.corp.example.com", 5432, "db.corp.example.com", 443, 1);
	accepts("https://proxy.example.com/db.corp.example.com:5432", NULL,
		"db.corp.example.com", 5432, "proxy.example.com", 443, 1);
	accepts("https://proxy.example.com:8443/db:5432", NULL,
		"db", 5432, "proxy.example.com", 8443, 1);
	accepts("db.corp.example.com:5432", "https://pomerium.corp.example.com",
		"db.corp.example.com", 5432, "pomerium.corp.example.com", 443, 1);
	accepts("http://db.corp.example.com:5432", NULL,
		"db.corp.example.com", 5432, "db.corp.example.com", 80, 0);

	/* The same rows with --pomerium-url: the destination is unchanged,
	 * the proxy (and TLS) come from the URL. */
	const char *pu = "https://pomerium.corp.example.com";
	accepts("tcp+https://db.corp.example.com:5432", pu,
		"db.corp.example.com", 5432, "pomerium.corp.example.com", 443, 1);
	accepts("https://proxy.example.com/db.corp.example.com:5432", pu,
		"db.corp.example.com", 5432, "pomerium.corp.example.com", 443, 1);
	accepts("https://proxy.example.com:8443/db:5432", pu,
		"db", 5432, "pomerium.corp.example.com", 443, 1);
	accepts("http://db.corp.example.com:5432", pu,
		"db.corp.example.com", 5432, "pomerium.corp.example.com", 443, 1);
	accepts("db.corp.example.com:5432", "https://pomerium.corp.example.com:8443",
		"db.corp.example.com", 5432, "pomerium.corp.example.com", 8443, 1);
	accepts("db.corp.example.com:5432", "https://pomerium.corp.example.com/",
		"db.corp.example.com", 5432, "pomerium.corp.example.com", 443, 1);
	accepts("db.corp.example.com:5432", "tcp+https://pomerium.corp.example.com",
		"db.corp.example.com", 5432, "pomerium.corp.example.com", 443, 1);
}

/* A missing proxy port: 443 for https, 80 for http; explicit ports kept. */
static void test_ports(void)
{
	accepts("https://proxy/db:22", NULL, "db", 22, "proxy", 443, 1);
	accepts("http://proxy/db:22", NULL, "db", 22, "proxy", 80, 0);
	accepts("http://proxy:8080/db:22", NULL, "db", 22, "proxy", 8080, 0);
	accepts("https://proxy:1/db:65535", NULL, "db", 65535, "proxy", 1, 1);
	accepts("db:22", "http://pom", "db", 22, "pom", 80, 0);
	accepts("db:22", "http://pom:8080", "db", 22, "pom", 8080, 0);
	accepts("db:22", "https://pom:65535", "db", 22, "pom", 65535, 1);
	accepts("tcp+http://db:22", NULL, "db", 22, "db", 80, 0);
	accepts("TCP+HTTPS://db:22", NULL, "db", 22, "db", 443, 1);
	accepts("https://proxy/db:22/", NULL, "db", 22, "proxy", 443, 1);
	accepts("db:022", NULL, "db", 22, "db", 443, 1);
	/* the route port travels in CONNECT only: ssh -p 22 -> proxy 443 */
	accepts("ssh.corp.example.com:22", NULL, "ssh.corp.example.com", 22,
		"ssh.corp.example.com", 443, 1);
}

static void check_ip(const char *arg, const char *url, int family,
		     const unsigned char *bytes, size_t n)
{
	struct dest d;
	char err[256];
	if (!ok(parse(&d, arg, url, err, sizeof err) == 0, "accept '%s' (%s)", arg,
		url ? url : "no --pomerium-url")) {
		fprintf(stderr, "#   err: %s\n", err);
		return;
	}
	is_int(d.proxy_ip_family, family, "  '%s': proxy_ip_family", arg);
	if (n)
		ok(memcmp(d.proxy_ip, bytes, n) == 0, "  '%s': proxy_ip bytes", arg);
}

static void test_ipv6(void)
{
	static const unsigned char lo6[16] = { [15] = 1 };
	static const unsigned char db8_5[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 5 };
	static const unsigned char v4[4] = { 192, 0, 2, 7 };
	static const unsigned char v4b[4] = { 10, 1, 2, 3 };

	accepts("[::1]:22", NULL, "::1", 22, "::1", 443, 1);
	check_ip("[::1]:22", NULL, 6, lo6, 16);
	accepts("https://[::1]:8443/[2001:db8::1]:22", NULL, "2001:db8::1", 22, "::1", 8443, 1);
	check_ip("https://[::1]:8443/[2001:db8::1]:22", NULL, 6, lo6, 16);
	accepts("https://[::1]/db:22", NULL, "db", 22, "::1", 443, 1);
	accepts("http://[::1]/db:22", NULL, "db", 22, "::1", 80, 0);
	accepts("db:22", "https://[::1]:443", "db", 22, "::1", 443, 1);
	check_ip("db:22", "https://[::1]:443", 6, lo6, 16);
	accepts("[2001:db8::5]:22", "https://[::1]", "2001:db8::5", 22, "::1", 443, 1);
	accepts("tcp+https://[2001:db8::5]:22", NULL, "2001:db8::5", 22, "2001:db8::5", 443, 1);
	check_ip("tcp+https://[2001:db8::5]:22", NULL, 6, db8_5, 16);

	/* ssh's %h:%p for an IPv6 host: the last colon is the port */
	accepts("::1:22", NULL, "::1", 22, "::1", 443, 1);
	check_ip("::1:22", NULL, 6, lo6, 16);
	accepts("2001:db8::5:2222", NULL, "2001:db8::5", 2222, "2001:db8::5", 443, 1);
	check_ip("2001:db8::5:2222", NULL, 6, db8_5, 16);
	accepts("2001:db8::5:22", "https://pom", "2001:db8::5", 22, "pom", 443, 1);
	accepts("::ffff:192.0.2.7:22", NULL, "::ffff:192.0.2.7", 22, "::ffff:192.0.2.7", 443, 1);

	/* IPv4 literals */
	accepts("192.0.2.7:22", NULL, "192.0.2.7", 22, "192.0.2.7", 443, 1);
	check_ip("192.0.2.7:22", NULL, 4, v4, 4);
	check_ip("https://10.1.2.3:8443/db:22", NULL, 4, v4b, 4);
	check_ip("db:22", "https://10.1.2.3", 4, v4b, 4);
	check_ip("db.example.com:22", NULL, 0, NULL, 0);
	check_ip("192.0.2.7:22", "https://pom.example.com", 0, NULL, 0);

	/* the authority of each, for CONNECT and the cache file name */
	struct dest d;
	char err[256], buf[300];
	if (parse(&d, "::1:22", NULL, err, sizeof err) == 0) {
		dest_authority(buf, sizeof buf, d.dest_host, d.dest_port);
		is_str(buf, "[::1]:22", "bare v6 destination authority is bracketed");
		dest_authority(buf, sizeof buf, d.proxy_host, d.proxy_port);
		is_str(buf, "[::1]:443", "bare v6 proxy authority is bracketed");
	} else {
		ok(0, "parse ::1:22: %s", err);
	}
}

/* Proxy host: lowercased, one trailing dot dropped. */
static void test_normalise(void)
{
	accepts("https://Proxy.Example.COM./db:22", NULL, "db", 22, "proxy.example.com", 443, 1);
	accepts("HTTPS://PROXY.example.com:8443/db:22", NULL, "db", 22, "proxy.example.com", 8443, 1);
	accepts("db:22", "https://POM.Example.Com.", "db", 22, "pom.example.com", 443, 1);
	accepts("db:22", "https://POM.Example.Com.:8443/", "db", 22, "pom.example.com", 8443, 1);

	struct dest d;
	char err[256];
	if (ok(parse(&d, "DB.Corp.Example.COM.:22", NULL, err, sizeof err) == 0,
	       "accept 'DB.Corp.Example.COM.:22'"))
		is_str(d.proxy_host, "db.corp.example.com", "  proxy host derived from it is normalised");
	if (ok(parse(&d, "[2001:DB8::A]:22", NULL, err, sizeof err) == 0, "accept '[2001:DB8::A]:22'"))
		is_str(d.proxy_host, "2001:db8::a", "  v6 proxy host lowercased");
	accepts("a_b-c.example:22", NULL, "a_b-c.example", 22, "a_b-c.example", 443, 1);
}

/* Host name length limits: labels of 63, names of 253 (+ a trailing dot). */
static void test_lengths(void)
{
	char l63[64], l64[65], name[400], arg[600];
	memset(l63, 'a', 63);
	l63[63] = '\0';
	memset(l64, 'b', 64);
	l64[64] = '\0';

	snprintf(arg, sizeof arg, "%s.example.com:22", l63);
	struct dest d;
	char err[256];
	ok(parse(&d, arg, NULL, err, sizeof err) == 0, "63-byte label accepted");
	snprintf(arg, sizeof arg, "%s.example.com:22", l64);
	refuses(arg, NULL, "64-byte label");
	snprintf(arg, sizeof arg, "https://%s.example.com/db:22", l64);
	refuses(arg, NULL, "64-byte label in the proxy");
	snprintf(arg, sizeof arg, "https://proxy/%s:22", l64);
	refuses(arg, NULL, "64-byte label in the destination of a URL");
	refuses("db:22", "https://bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.example",
		"64-byte label in --pomerium-url");

	/* 63+1+63+1+63+1+61 = 253 */
	snprintf(name, sizeof name, "%s.%s.%s.", l63, l63, l63);
	memset(name + 192, 'c', 61);
	name[253] = '\0';
	is_int(strlen(name), 253, "built a 253-byte name");
	is_int(dest_host_valid(name), 1, "dest_host_valid: 253 bytes");
	snprintf(arg, sizeof arg, "%s:22", name);
	if (ok(parse(&d, arg, NULL, err, sizeof err) == 0, "253-byte name accepted"))
		is_int(strlen(d.proxy_host), 253, "  proxy host keeps 253 bytes");
	snprintf(arg, sizeof arg, "%s.:22", name);
	if (ok(parse(&d, arg, NULL, err, sizeof err) == 0, "253-byte name + trailing dot accepted"))
		is_int(strlen(d.proxy_host), 253, "  proxy host without the dot");
	snprintf(arg, sizeof arg, "%sc:22", name);
	refuses(arg, NULL, "254-byte name");
	snprintf(arg, sizeof arg, "%sc.:22", name);
	refuses(arg, NULL, "254-byte name + trailing dot");
	snprintf(arg, sizeof arg, "https://%sc/db:22", name);
	refuses(arg, NULL, "254-byte proxy name");

	/* something far longer than any buffer */
	size_t big = 100000;
	char *huge = malloc(big + 8);
	if (huge) {
		memset(huge, 'a', big);
		strcpy(huge + big, ":22");
		refuses(huge, NULL, "100000-byte host");
		refuses("db:22", huge, "100000-byte --pomerium-url");
		memcpy(huge, "https://", 8);
		refuses(huge, NULL, "100000-byte URL");
		free(huge);
	}

	is_int(dest_host_valid(""), 0, "dest_host_valid: empty");
	is_int(dest_host_valid("."), 0, "dest_host_valid: lone dot");
	is_int(dest_host_valid("a..b"), 0, "dest_host_valid: empty label");
	is_int(dest_host_valid(".a"), 0, "dest_host_valid: leading dot");
	is_int(dest_host_valid("a.b."), 1, "dest_host_valid: trailing dot");
	is_int(dest_host_valid("::1"), 1, "dest_host_valid: IPv6");
	is_int(dest_host_valid("[::1]"), 0, "dest_host_valid: bracketed IPv6");
	is_int(dest_host_valid("10.0.0.1"), 1, "dest_host_valid: IPv4");
	is_int(dest_host_valid("a b"), 0, "dest_host_valid: space");
	is_int(dest_host_valid("a\r\nb"), 0, "dest_host_valid: CRLF");
	is_int(dest_host_valid("a/b"), 0, "dest_host_valid: slash");
	is_int(dest_host_valid("a%b"), 0, "dest_host_valid: percent");
	is_int(dest_host_valid("a\xc3\xa9"), 0, "dest_host_valid: non-ASCII");
	is_int(dest_host_valid("fe80::1%eth0"), 0, "dest_host_valid: zone id");
}

static void test_refusals(void)
{
	/* ports */
	refuses("db.example.com", NULL, "missing port");
	refuses("db:", NULL, "empty port");
	refuses("db:0", NULL, "port 0");
	refuses("db:65536", NULL, "port 65536");
	refuses("db:99999", NULL, "port 99999");
	refuses("db:0000022", NULL, "port of 7 digits");
	refuses("db:ssh", NULL, "non-numeric port");
	refuses("db:22x", NULL, "port with a letter");
	refuses("db:-1", NULL, "negative port");
	refuses("db:+22", NULL, "port with a sign");
	refuses("db: 22", NULL, "port with a space");
	refuses("https://proxy:0/db:22", NULL, "proxy port 0");
	refuses("https://proxy:65536/db:22", NULL, "proxy port 65536");
	refuses("https://proxy:https/db:22", NULL, "non-numeric proxy port");
	refuses("https://proxy:/db:22", NULL, "empty proxy port");
	refuses("db:22", "https://pom:0", "--pomerium-url port 0");
	refuses("db:22", "https://pom:65536", "--pomerium-url port 65536");
	refuses("https://proxy/db", NULL, "URL destination without port");
	refuses("https://proxy/", NULL, "URL without a destination port");
	refuses("https://proxy", NULL, "URL with neither path nor port");

	/* hosts */
	refuses("", NULL, "empty argument");
	refuses(":22", NULL, "empty host");
	refuses("[]:22", NULL, "empty brackets");
	refuses("https://proxy/:22", NULL, "empty host in the URL path");
	refuses("https:///db:22", NULL, "empty proxy host");
	refuses("db:22", "https://", "empty --pomerium-url host");
	refuses("db:22", "https://:443", "empty --pomerium-url host with port");
	refuses("user@host:22", NULL, "user@host");
	refuses("https://user@proxy/db:22", NULL, "user@ in the proxy");
	refuses("https://proxy/user@db:22", NULL, "user@ in the destination");
	refuses("db:22", "https://user:pw@pom", "user info in --pomerium-url");

	/* bytes that could inject into CONNECT or a file name */
	refuses("a\r\nb:22", NULL, "CRLF in host");
	refuses("a\nb:22", NULL, "LF in host");
	refuses("a\rb:22", NULL, "CR in host");
	refuses("a b:22", NULL, "space in host");
	refuses("a\tb:22", NULL, "tab in host");
	refuses("db:22\r\nX-Evil: 1", NULL, "CRLF after the port");
	refuses("db:22 ", NULL, "space after the port");
	refuses("https://proxy/a\r\nb:22", NULL, "CRLF in URL destination");
	refuses("https://pro\r\nxy/db:22", NULL, "CRLF in URL proxy");
	refuses("db:22", "https://pom\r\n.example", "CRLF in --pomerium-url");
	refuses("db:22", "https://pom example", "space in --pomerium-url");
	refuses("../../etc:22", NULL, "dot-dot path in host");
	refuses("a\\b:22", NULL, "backslash in host");
	refuses("a\x7f:22", NULL, "DEL in host");
	refuses("a\x1b[2Jb:22", NULL, "terminal escape in host");
	refuses("a\x01b:22", NULL, "control byte in host");
	refuses("h\xc3\xa9:22", NULL, "non-ASCII host");

	/* IPv6 syntax */
	refuses("[::1:22", NULL, "unclosed bracket");
	refuses("[nothex]:22", NULL, "bracketed non-address");
	refuses("[1.2.3.4]:22", NULL, "bracketed IPv4");
	refuses("[::1]22", NULL, "no colon after ']'");
	refuses("[::1]:", NULL, "bracketed address, empty port");
	refuses("[::1]", NULL, "bracketed address, no port");
	refuses("[::1]]:22", NULL, "double ']'");
	refuses("[fe80::1%eth0]:22", NULL, "zone id");
	refuses("a:b:22", NULL, "multi-colon non-address");
	refuses("::g:22", NULL, "bare non-hex v6");
	refuses("https://[::1/db:22", NULL, "unclosed bracket in proxy");
	refuses("https://proxy/[::1:22", NULL, "unclosed bracket in URL destination");
	refuses("https://::1/db:22", NULL, "unbracketed v6 proxy");
	refuses("https://proxy/::1:22", NULL, "unbracketed v6 in URL path");
	refuses("db:22", "https://::1", "unbracketed v6 --pomerium-url");
	refuses("db:22", "https://[::1", "unclosed bracket in --pomerium-url");

	/* URL shapes */
	refuses("https://proxy/db:22?x=1", NULL, "query");
	refuses("https://proxy/db:22#frag", NULL, "fragment");
	refuses("https://proxy?x=/db:22", NULL, "query in the proxy authority");
	refuses("https://proxy/a/db:22", NULL, "extra path segment");
	refuses("https://proxy//db:22", NULL, "double slash");
	refuses("udp+https://proxy/db:22", NULL, "udp+ refused");
	refuses("udp+https://db:22", NULL, "udp+ plain form refused");
	refuses("UDP+HTTPS://db:22", NULL, "UDP+ uppercase refused");
	refuses("ftp://proxy/db:22", NULL, "unknown scheme");
	refuses("tcp+://db:22", NULL, "tcp+ without a scheme");
	refuses("://db:22", NULL, "empty scheme");
	refuses("httpsx://db:22", NULL, "scheme with a suffix");
	refuses("db:22", "pomerium.corp.example.com", "--pomerium-url without a scheme");
	refuses("db:22", "https://pom/path", "path in --pomerium-url");
	refuses("db:22", "https://pom/a/b", "longer path in --pomerium-url");
	refuses("db:22", "https://pom?x=1", "query in --pomerium-url");
	refuses("db:22", "https://pom#f", "fragment in --pomerium-url");
	refuses("db:22", "udp+https://pom", "udp+ --pomerium-url");
	refuses("db:22", "ftp://pom", "ftp --pomerium-url");

	/* a bad destination is refused even with a good --pomerium-url */
	refuses("db", "https://pom", "missing port with --pomerium-url");
	refuses("a b:22", "https://pom", "space in host with --pomerium-url");
}

/* A small err buffer is filled, never overrun. */
static void test_err_buffer(void)
{
	struct dest d;
	char err[12];
	memset(err, 'X', sizeof err);
	int r = dest_parse(&d, "a b:22", NULL, err, 8);
	is_int(r, -1, "refusal with an 8-byte err");
	ok(memchr(err, '\0', 8) != NULL && err[0] != '\0', "  err is a non-empty string in 8 bytes");
	ok(err[8] == 'X' && err[11] == 'X', "  bytes past errsize untouched");
}

static void test_authority(void)
{
	char buf[64];
	is_int(dest_authority(buf, sizeof buf, "db.example.com", 22), 17, "name: length");
	is_str(buf, "db.example.com:22", "name: not bracketed");
	is_int(dest_authority(buf, sizeof buf, "192.0.2.7", 443), 13, "IPv4: length");
	is_str(buf, "192.0.2.7:443", "IPv4: not bracketed");
	is_int(dest_authority(buf, sizeof buf, "2001:db8::1", 22), 16, "IPv6: length");
	is_str(buf, "[2001:db8::1]:22", "IPv6: bracketed");
	is_int(dest_authority(buf, sizeof buf, "::1", 65535), 11, "::1: length");
	is_str(buf, "[::1]:65535", "::1: bracketed");

	/* "[::1]:22" is 8 bytes: needs 9 with the NUL */
	memset(buf, 'X', sizeof buf);
	is_int(dest_authority(buf, 9, "::1", 22), 8, "exact fit");
	is_str(buf, "[::1]:22", "exact fit: content");
	is_int(dest_authority(buf, 8, "::1", 22), -1, "one byte short (v6)");
	is_int(dest_authority(buf, 5, "db", 22), -1, "one byte short (name)");
	is_int(dest_authority(buf, 6, "db", 22), 5, "exact fit (name)");
	memset(buf, 'X', sizeof buf);
	is_int(dest_authority(buf, 4, "db.example.com", 22), -1, "truncated");
	ok(buf[3] == '\0' && buf[4] == 'X', "  truncated output stays inside the buffer");
	buf[0] = 'Y';
	is_int(dest_authority(buf, 0, "db", 22), -1, "size 0");
	is_int(buf[0], 'Y', "  size 0 writes nothing");
}

int main(void)
{
	alarm(60);
	test_table();
	test_ports();
	test_ipv6();
	test_normalise();
	test_lengths();
	test_refusals();
	test_err_buffer();
	test_authority();
	return done_testing();
}
