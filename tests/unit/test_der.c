/* test_der: the validity period reader on hand-built certificate DER:
 * both time forms, the century rule of UTCTime, calendar bounds, and
 * every truncation of a good certificate. */
#include "tap.h"
#include "der.h"

#include <stdint.h>
#include <stdlib.h>

/* A certificate-shaped DER with the given two times (tag + text) in its
 * validity; with_version adds tbsCertificate's [0] version. Returns the
 * length written to out. */
static size_t build(unsigned char *out, int with_version, unsigned t1, const char *s1,
		    unsigned t2, const char *s2)
{
	unsigned char tbs[256], val[64];
	size_t n = 0, v = 0, l1 = strlen(s1), l2 = strlen(s2);

	val[v++] = (unsigned char)t1;
	val[v++] = (unsigned char)l1;
	memcpy(val + v, s1, l1);
	v += l1;
	val[v++] = (unsigned char)t2;
	val[v++] = (unsigned char)l2;
	memcpy(val + v, s2, l2);
	v += l2;
	if (with_version) {
		static const unsigned char ver[] = { 0xa0, 3, DER_INTEGER, 1, 2 };
		memcpy(tbs + n, ver, sizeof ver);
		n += sizeof ver;
	}
	static const unsigned char rest[] = {
		DER_INTEGER, 1, 7,     /* serialNumber */
		DER_SEQUENCE, 0,       /* signature */
		DER_SEQUENCE, 0,       /* issuer */
	};
	memcpy(tbs + n, rest, sizeof rest);
	n += sizeof rest;
	tbs[n++] = DER_SEQUENCE;
	tbs[n++] = (unsigned char)v;
	memcpy(tbs + n, val, v);
	n += v;
	tbs[n++] = DER_SEQUENCE; /* subject, so the validity is not last */
	tbs[n++] = 0;

	size_t o = 0;
	out[o++] = DER_SEQUENCE;
	out[o++] = (unsigned char)(n + 2);
	out[o++] = DER_SEQUENCE;
	out[o++] = (unsigned char)n;
	memcpy(out + o, tbs, n);
	return o + n;
}

/* 0 with both times, or -1: der_cert_validity on the built DER. */
static int validity(int with_version, unsigned t1, const char *s1, unsigned t2, const char *s2,
		    int64_t *nb, int64_t *na)
{
	unsigned char der[300];
	size_t len = build(der, with_version, t1, s1, t2, s2);
	return der_cert_validity(der, len, nb, na);
}

int main(void)
{
	int64_t nb = 0, na = 0;

	ok(validity(1, DER_UTCTIME, "700101000000Z", DER_GENTIME, "20491231235959Z", &nb, &na) == 0,
	   "UTCTime and GeneralizedTime read");
	is_int(nb, 0, "1970-01-01T00:00:00Z is 0");
	is_int(na, 2524607999, "2049-12-31T23:59:59Z");
	ok(validity(0, DER_UTCTIME, "491231235959Z", DER_UTCTIME, "500101000000Z", &nb, &na) == 0,
	   "a v1 certificate (no version field) is read");
	is_int(nb, 2524607999, "UTCTime 49 is 2049");
	is_int(na, -631152000, "UTCTime 50 is 1950");
	ok(validity(1, DER_UTCTIME, "240229120000Z", DER_GENTIME, "20000229000000Z", &nb, &na) == 0,
	   "29 February of leap years");
	is_int(nb, 1709208000, "2024-02-29T12:00:00Z");
	is_int(na, 951782400, "2000-02-29 (divisible by 400)");

	ok(validity(1, DER_UTCTIME, "230229000000Z", DER_UTCTIME, "300101000000Z", &nb, &na) < 0,
	   "29 February 2023 refused");
	ok(validity(1, DER_GENTIME, "21000229000000Z", DER_UTCTIME, "300101000000Z", &nb, &na) < 0,
	   "29 February 2100 refused");
	ok(validity(1, DER_UTCTIME, "241301000000Z", DER_UTCTIME, "300101000000Z", &nb, &na) < 0,
	   "month 13 refused");
	ok(validity(1, DER_UTCTIME, "240101240000Z", DER_UTCTIME, "300101000000Z", &nb, &na) < 0,
	   "hour 24 refused");
	ok(validity(1, DER_UTCTIME, "2401010000Z", DER_UTCTIME, "300101000000Z", &nb, &na) < 0,
	   "UTCTime without seconds refused (not DER)");
	ok(validity(1, DER_UTCTIME, "240101000000+", DER_UTCTIME, "300101000000Z", &nb, &na) < 0,
	   "a time not in Z refused");
	ok(validity(1, DER_GENTIME, "2024010100000.5Z", DER_UTCTIME, "300101000000Z", &nb, &na) < 0,
	   "fractional seconds refused");
	ok(validity(1, DER_OCTET_STRING, "240101000000Z", DER_UTCTIME, "300101000000Z", &nb, &na) < 0,
	   "a time of another type refused");
	ok(validity(1, DER_UTCTIME, "24010100000aZ", DER_UTCTIME, "300101000000Z", &nb, &na) < 0,
	   "a non-digit refused");

	unsigned char der[300];
	size_t len = build(der, 1, DER_UTCTIME, "240101000000Z", DER_UTCTIME, "300101000000Z");
	int truncated_ok = 0;
	for (size_t n = 0; n < len; n++) {
		unsigned char *copy = malloc(n ? n : 1); /* exactly n bytes, for ASan */
		memcpy(copy, der, n);
		truncated_ok += der_cert_validity(copy, n, &nb, &na) == 0;
		free(copy);
	}
	is_int(truncated_ok, 0, "every truncation of a good certificate is refused");
	ok(der_cert_validity(der, len, &nb, &na) == 0, "and the whole one is read");
	return done_testing();
}
