/* Unit tests for pem.c: base64 (RFC 4648 vectors, padding and error
 * cases) and PEM object scanning on canned text, every prefix of it, and
 * the system CA bundle cross-checked against the openssl CLI. */
#include "pem.h"
#include "base64.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>
#include <stdio.h>

/* Decode s with a generous buffer; returns the result as a NUL-terminated
 * string in a static buffer, or NULL on -1. */
static const char *b64(const char *s)
{
	static unsigned char out[256];
	long n = base64_decode(BASE64_PEM, s, strlen(s), out, sizeof out - 1);
	if (n < 0)
		return NULL;
	out[n] = '\0';
	return (const char *)out;
}

static void test_rfc4648(void)
{
	static const char *vec[][2] = {
		{"", ""}, {"Zg==", "f"}, {"Zm8=", "fo"}, {"Zm9v", "foo"},
		{"Zm9vYg==", "foob"}, {"Zm9vYmE=", "fooba"}, {"Zm9vYmFy", "foobar"},
	};
	for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++)
		is_str(b64(vec[i][0]), vec[i][1], "RFC 4648 vector '%s'", vec[i][0]);

	is_str(b64("Zg"), "f", "padding optional: Zg");
	is_str(b64("Zm8"), "fo", "padding optional: Zm8");
	is_str(b64("Zm9vYmE"), "fooba", "padding optional: Zm9vYmE");
	is_str(b64(" Zm9v\r\n\tYmFy\n"), "foobar", "whitespace and CRLF ignored");
	is_str(b64("Zm8 = "), "fo", "whitespace around padding");
	is_str(b64("Zh=="), "f", "unused low bits ignored");
	is_str(b64("+/+/"), "\xfb\xff\xbf", "'+' and '/' digits");
}

static void test_b64_errors(void)
{
	unsigned char out[8];
	ok(b64("Zm9v!") == NULL, "invalid character");
	ok(b64("Zm9v-_") == NULL, "URL-safe alphabet refused");
	ok(b64("Z") == NULL, "lone digit in last quantum");
	ok(b64("Zm9vY") == NULL, "lone digit after full quanta");
	ok(b64("Zg=") == NULL, "incomplete padding");
	ok(b64("Zg===") == NULL, "too much padding");
	ok(b64("Z===") == NULL, "padding after one digit");
	ok(b64("=Zg") == NULL, "padding first");
	ok(b64("Zg==Zg==") == NULL, "data after padding");
	ok(b64("Zm9v\xff") == NULL, "high byte");
	{
		long n = base64_decode(BASE64_PEM, "Zm9v\0Zg==", 9, out, sizeof out);
		is_int(n, -1, "embedded NUL is an invalid character");
	}
	is_int(base64_decode(BASE64_PEM, "Zm9vYmFy", 8, out, 6), 6, "exact output size");
	is_int(base64_decode(BASE64_PEM, "Zm9vYmFy", 8, out, 5), -1, "output one byte short");
	is_int(base64_decode(BASE64_PEM, "Zm9vYg==", 8, out, 3), -1, "output short for tail");
	is_int(base64_decode(BASE64_PEM, "Zg==", 4, out, 0), -1, "zero-size output");
	is_int(base64_decode(BASE64_PEM, "", 0, NULL, 0), 0, "empty input, no output buffer");
}

/* Random bytes through a reference encoder written here and back. */
static void test_b64_roundtrip(void)
{
	static const char al[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned char src[300], dec[300];
	char enc[420];
	int bad = 0;
	srand(4648);
	for (size_t len = 0; len < sizeof src; len++) {
		size_t e = 0;
		for (size_t i = 0; i < len; i++)
			src[i] = (unsigned char)rand();
		for (size_t i = 0; i < len; i += 3) {
			unsigned long v = (unsigned long)src[i] << 16;
			if (i + 1 < len) v |= (unsigned long)src[i + 1] << 8;
			if (i + 2 < len) v |= src[i + 2];
			enc[e++] = al[v >> 18 & 63];
			enc[e++] = al[v >> 12 & 63];
			enc[e++] = i + 1 < len ? al[v >> 6 & 63] : '=';
			enc[e++] = i + 2 < len ? al[v & 63] : '=';
		}
		long n = base64_decode(BASE64_PEM, enc, e, dec, len);
		if (n != (long)len || memcmp(src, dec, len) != 0)
			bad++;
	}
	is_int(bad, 0, "300 random lengths round-trip through exact-size output");
}

/* Collect every object of text into a printable summary:
 * "L:LABEL=der;" for 1, "E;" for -1. */
static const char *scan(const char *text, size_t len, size_t out_size)
{
	static char sum[1024];
	unsigned char out[256];
	struct pem_object obj;
	size_t pos = 0, s = 0;
	int r, guard = 0;
	sum[0] = '\0';
	if (out_size > sizeof out)
		out_size = sizeof out;
	while ((r = pem_next(text, len, &pos, &obj, out, out_size)) != 0 && guard++ < 100) {
		if (r == 1)
			s += (size_t)snprintf(sum + s, sizeof sum - s, "%s=%.*s;", obj.label,
					      (int)obj.der_len, (const char *)obj.der);
		else
			s += (size_t)snprintf(sum + s, sizeof sum - s, "E;");
		if (pos > len)
			return "pos past end";
		if (s >= sizeof sum)
			return "summary overflow";
	}
	if (pos != len)
		return "pos not at end after 0";
	return sum;
}

#define SCAN(t) scan((t), strlen(t), 256)

static const char canned[] =
	"Subject: junk before\n"
	"-----BEGIN CERTIFICATE-----\n"
	"Zm9v\n"
	"YmFy\n"
	"-----END CERTIFICATE-----\n"
	"junk between, with ----- dashes\n"
	"\n"
	"  -----BEGIN PRIVATE KEY-----\r\n"
	"Zm9v\r\n"
	"  -----END PRIVATE KEY-----   \r\n"
	"-----BEGIN X509 CERTIFICATE-----\r\n"
	"YmFy\r\n"
	"-----END X509 CERTIFICATE-----";

/* The JWT variant and the encoder of base64.h. */
static void test_b64_jwt_and_encode(void)
{
	unsigned char out[16];
	char enc[16];
	is_int(base64_decode(BASE64_JWT, "-_-_", 4, out, sizeof out), 3, "JWT: '-' and '_' digits");
	ok(memcmp(out, "\xfb\xff\xbf", 3) == 0, "JWT: '-_-_' is fb ff bf, as '+/+/'");
	is_int(base64_decode(BASE64_JWT, "Zm9vYg", 6, out, sizeof out), 4, "JWT: unpadded tail");
	is_int(base64_decode(BASE64_JWT, "Zg==junk", 8, out, sizeof out), 1, "JWT: the data ends at '='");
	is_int(base64_decode(BASE64_JWT, "Zm 9v", 5, out, sizeof out), -1, "JWT: no white space");
	is_int(base64_decode(BASE64_JWT, "Zm9vY", 5, out, sizeof out), -1, "JWT: lone digit");
	ok(base64_encode((const unsigned char *)"fo", 2, enc, sizeof enc) == 0 &&
	   strcmp(enc, "Zm8=") == 0, "encode: 'fo' is Zm8=");
	ok(base64_encode((const unsigned char *)"\xfb\xff\xbf", 3, enc, sizeof enc) == 0 &&
	   strcmp(enc, "+/+/") == 0, "encode: the standard alphabet");
	is_int(base64_encode((const unsigned char *)"foob", 4, enc, 9), 0, "encode: exact size (8 + NUL)");
	is_int(base64_encode((const unsigned char *)"foob", 4, enc, 8), -1, "encode: one byte short");
}

static void test_pem_canned(void)
{
	struct pem_object obj;
	unsigned char out[16];
	size_t pos = 0;

	is_str(SCAN(canned), "CERTIFICATE=foobar;PRIVATE KEY=foo;X509 CERTIFICATE=bar;",
	       "three objects: LF, CRLF, blanks, junk, no final newline");
	is_str(SCAN(""), "", "empty text");
	is_str(SCAN("no pem here\nat all"), "", "text without objects");
	is_str(SCAN("-----BEGIN CERTIFICATE-----\nZm9v\n-----END CERTIFICATE-----\n\n\n"),
	       "CERTIFICATE=foo;", "trailing blank lines");
	is_str(SCAN("-----BEGIN A-----\n-----END A-----\n"), "A=;", "empty body");
	is_str(SCAN("x-----BEGIN A-----\nZm9v\n-----END A-----\n"), "",
	       "BEGIN not at line start is text");

	/* Malformed objects are reported once and skipped. */
	is_str(SCAN("-----BEGIN A-----\nZm9v!\n-----END A-----\n"
		    "-----BEGIN B-----\nYmFy\n-----END B-----\n"),
	       "E;B=bar;", "bad base64 skipped, next object decoded");
	is_str(SCAN("-----BEGIN A-----\nZm9v\n"), "E;", "no END line");
	is_str(SCAN("-----BEGIN A-----\nZm9v\n-----BEGIN B-----\nYmFy\n-----END B-----\n"),
	       "E;B=bar;", "object cut short by a new BEGIN");
	is_str(SCAN("-----BEGIN A-----\nZm9v\n-----END B-----\n-----BEGIN C-----\nYmFy\n-----END C-----"),
	       "E;C=bar;", "END label differs");
	is_str(SCAN("-----BEGIN A----\nZm9v\n-----END A-----\n"), "E;", "BEGIN line without closing dashes");
	is_str(SCAN("-----BEGIN -----\nZm9v\n-----END -----\n"), "E;", "empty label");
	is_str(SCAN("-----BEGIN A----- x\nZm9v\n-----END A-----\n"), "E;", "text after BEGIN dashes");
	is_str(SCAN("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n"
		    "DEK-Info: AES-128-CBC,00\n\nZm9v\n-----END RSA PRIVATE KEY-----\n"),
	       "E;", "RFC 1421 headers (encrypted key) refused");
	{
		char t[256];
		char l63[64], l64[65];
		memset(l63, 'L', 63); l63[63] = '\0';
		memset(l64, 'L', 64); l64[64] = '\0';
		snprintf(t, sizeof t, "-----BEGIN %s-----\nZm9v\n-----END %s-----\n", l63, l63);
		ok(strncmp(SCAN(t), l63, 63) == 0, "63-byte label accepted");
		snprintf(t, sizeof t, "-----BEGIN %s-----\nZm9v\n-----END %s-----\n", l64, l64);
		is_str(SCAN(t), "E;", "64-byte label refused");
	}

	/* Oversized body: -1, then the next object still decodes. */
	{
		static const char big[] = "-----BEGIN A-----\nZm9vYmFy\n-----END A-----\n"
					  "-----BEGIN B-----\nZm9v\n-----END B-----\n";
		is_str(scan(big, sizeof big - 1, 3), "E;B=foo;", "body larger than out_size skipped");
	}

	/* pos and der after a successful call. */
	ok(pem_next(canned, strlen(canned), &pos, &obj, out, sizeof out) == 1 &&
	   obj.der == out && obj.der_len == 6, "der points into the caller's buffer");
	ok(pos > 0 && canned[pos - 1] == '\n' && strncmp(canned + pos, "junk between", 12) == 0,
	   "pos is just past the END line");
	pos = sizeof canned - 1;
	is_int(pem_next(canned, sizeof canned - 1, &pos, &obj, out, sizeof out), 0,
	       "at end: 0 again");
}

/* Every prefix of the canned text, in an exact-size heap copy, so that
 * ASan/valgrind sees any read past the end. */
static void test_pem_prefixes(void)
{
	size_t n = sizeof canned - 1;
	int bad = 0;
	for (size_t l = 0; l <= n; l++) {
		char *t = malloc(l ? l : 1);
		if (!t) { bad++; break; }
		memcpy(t, canned, l);
		const char *s = scan(t, l, 256);
		/* A prefix yields at most the objects of the whole text. */
		if (strcmp(s, "pos past end") == 0 || strcmp(s, "pos not at end after 0") == 0 ||
		    strlen(s) > strlen("CERTIFICATE=foobar;PRIVATE KEY=foo;X509 CERTIFICATE=bar;"))
			bad++;
		free(t);
	}
	is_int(bad, 0, "all %zu prefixes scanned within bounds", n + 1);
	is_str(scan(canned, n - 1, 256), "CERTIFICATE=foobar;PRIVATE KEY=foo;E;",
	       "last END line cut short is malformed");
}

/* The system bundle: every BEGIN CERTIFICATE decodes, and the first DER
 * equals what openssl prints. */
static void test_system_bundle(void)
{
	const char *path = "/etc/ssl/certs/ca-certificates.crt";
	static unsigned char der[65536], ref[65536];
	FILE *f = fopen(path, "rb");
	char *text;
	long size;
	size_t pos = 0, got = 0, begins = 0, first_len = 0, ref_len;
	struct pem_object obj;
	int r, errs = 0;

	if (!ok(f != NULL, "open %s", path))
		return;
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	text = malloc((size_t)size + 1);
	ok(text && fread(text, 1, (size_t)size, f) == (size_t)size, "read the bundle");
	fclose(f);
	if (!text)
		return;
	text[size] = '\0';
	for (const char *p = text; (p = strstr(p, "-----BEGIN CERTIFICATE-----")); p++)
		begins++;
	while ((r = pem_next(text, (size_t)size, &pos, &obj, der, sizeof der)) != 0) {
		if (r < 0 || strcmp(obj.label, "CERTIFICATE") != 0) {
			errs++;
			continue;
		}
		if (got++ == 0) {
			first_len = obj.der_len;
			memcpy(ref, der, obj.der_len);
		}
	}
	is_int(errs, 0, "no malformed object in the system bundle");
	ok(got == begins && got > 100, "decoded %zu certificates, %zu BEGIN lines", got, begins);

	f = popen("openssl x509 -in /etc/ssl/certs/ca-certificates.crt -outform DER", "r");
	if (!ok(f != NULL, "run openssl x509"))
		goto out;
	ref_len = fread(der, 1, sizeof der, f);
	is_int(pclose(f), 0, "openssl x509 succeeded");
	ok(ref_len == first_len && memcmp(der, ref, ref_len) == 0,
	   "first certificate's DER equals openssl's (%zu bytes)", ref_len);
out:
	free(text);
}

int main(void)
{
	test_rfc4648();
	test_b64_errors();
	test_b64_roundtrip();
	test_b64_jwt_and_encode();
	test_pem_canned();
	test_pem_prefixes();
	test_system_bundle();
	return done_testing();
}
