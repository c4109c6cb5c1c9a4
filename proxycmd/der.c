#include "der.h"

#include <string.h>

int der_next(struct der *in, unsigned *tag, struct der *val)
{
	size_t n, i, vlen;

	if (in->len < 2)
		return -1;
	*tag = in->p[0];
	if ((*tag & 0x1f) == 0x1f)
		return -1;
	n = in->p[1];
	in->p += 2;
	in->len -= 2;
	if (n < 0x80) {
		vlen = n;
	} else {
		n &= 0x7f;
		if (n == 0 || n > 4 || n > in->len)
			return -1;
		vlen = 0;
		for (i = 0; i < n; i++)
			vlen = (vlen << 8) | in->p[i];
		in->p += n;
		in->len -= n;
	}
	if (vlen > in->len)
		return -1;
	val->p = in->p;
	val->len = vlen;
	in->p += vlen;
	in->len -= vlen;
	return 0;
}

int der_expect(struct der *in, unsigned want, struct der *val)
{
	unsigned tag;

	if (der_next(in, &tag, val) < 0 || tag != want)
		return -1;
	return 0;
}

#define DER_EXTENSIONS 0xa3 /* [3] EXPLICIT, constructed */
#define DER_VERSION    0xa0 /* [0] EXPLICIT, constructed */

static const unsigned char oid_san[] = { 0x55, 0x1d, 0x11 }; /* 2.5.29.17 */

int der_cert_san(struct der cert_in, struct der *san)
{
	struct der cert, tbs, exts, ext, oid, val;
	unsigned tag;

	if (der_expect(&cert_in, DER_SEQUENCE, &cert) < 0 ||
	    der_expect(&cert, DER_SEQUENCE, &tbs) < 0)
		return -1;
	/* extensions is the last field of tbsCertificate: skip to it. */
	do {
		if (der_next(&tbs, &tag, &exts) < 0)
			return -1;
	} while (tag != DER_EXTENSIONS);
	if (der_expect(&exts, DER_SEQUENCE, &val) < 0)
		return -1;
	exts = val;
	while (exts.len > 0) {
		if (der_expect(&exts, DER_SEQUENCE, &ext) < 0 ||
		    der_expect(&ext, DER_OID, &oid) < 0 ||
		    der_next(&ext, &tag, &val) < 0)
			return -1;
		if (tag == DER_BOOLEAN && der_next(&ext, &tag, &val) < 0)
			return -1;
		if (tag != DER_OCTET_STRING)
			return -1;
		if (oid.len == sizeof oid_san &&
		    memcmp(oid.p, oid_san, sizeof oid_san) == 0) {
			*san = val;
			return 0;
		}
	}
	return -1;
}

/* Days from 1970-01-01 to y-m-d of the proleptic Gregorian calendar
 * (March-based years, so that the leap day ends a year). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* n decimal digits at p; -1 if any is not a digit. */
static int digits(const unsigned char *p, unsigned n)
{
	int v = 0;
	while (n--) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p++ - '0');
	}
	return v;
}

/* One Time (UTCTime or GeneralizedTime, DER form) as epoch seconds. */
static int read_time(struct der *in, int64_t *t)
{
	static const unsigned char mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	struct der v;
	unsigned tag;
	int y, mo, d, h, mi, s;
	const unsigned char *p;

	if (der_next(in, &tag, &v) < 0)
		return -1;
	if (tag == DER_UTCTIME && v.len == 13) {
		y = digits(v.p, 2);
		y += y < 0 ? 0 : y < 50 ? 2000 : 1900;
		p = v.p + 2;
	} else if (tag == DER_GENTIME && v.len == 15) {
		y = digits(v.p, 4);
		p = v.p + 4;
	} else {
		return -1;
	}
	mo = digits(p, 2);
	d = digits(p + 2, 2);
	h = digits(p + 4, 2);
	mi = digits(p + 6, 2);
	s = digits(p + 8, 2);
	if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h < 0 || h > 23 ||
	    mi < 0 || mi > 59 || s < 0 || s > 60 || p[10] != 'Z')
		return -1;
	if (mo == 2 && d == 29 && (y % 4 != 0 || (y % 100 == 0 && y % 400 != 0)))
		return -1;
	*t = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + s;
	return 0;
}

int der_cert_validity(const unsigned char *der, size_t len, int64_t *not_before,
		      int64_t *not_after)
{
	struct der in = { der, len }, cert, tbs, field, validity;
	unsigned tag;

	if (der_expect(&in, DER_SEQUENCE, &cert) < 0 ||
	    der_expect(&cert, DER_SEQUENCE, &tbs) < 0 ||
	    der_next(&tbs, &tag, &field) < 0)
		return -1;
	/* [0] version, serialNumber, signature, issuer, validity */
	if (tag == DER_VERSION && der_expect(&tbs, DER_INTEGER, &field) < 0)
		return -1;
	if (tag != DER_VERSION && tag != DER_INTEGER)
		return -1;
	if (der_expect(&tbs, DER_SEQUENCE, &field) < 0 ||
	    der_expect(&tbs, DER_SEQUENCE, &field) < 0 ||
	    der_expect(&tbs, DER_SEQUENCE, &validity) < 0 ||
	    read_time(&validity, not_before) < 0 || read_time(&validity, not_after) < 0 ||
	    validity.len != 0)
		return -1;
	return 0;
}
