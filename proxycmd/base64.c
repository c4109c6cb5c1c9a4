#include "base64.h"

#include <limits.h>
#include <stdint.h>

static const char std_digits[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* What a character is: 0..63 a digit's value, or one of these. */
enum { B64_SPACE = 64, B64_PAD, B64_BAD };

static unsigned classify(enum base64_variant v, unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || (v == BASE64_JWT && c == '-'))
		return 62;
	if (c == '/' || (v == BASE64_JWT && c == '_'))
		return 63;
	if (c == '=')
		return B64_PAD;
	if (v == BASE64_PEM && (c == ' ' || (c >= '\t' && c <= '\r')))
		return B64_SPACE;
	return B64_BAD;
}

long base64_decode(enum base64_variant v, const char *in, size_t len, unsigned char *out,
		   size_t size)
{
	uint32_t acc = 0;
	unsigned q = 0, pads = 0;
	size_t o = 0;

	if (size > LONG_MAX)
		size = LONG_MAX;
	for (size_t i = 0; i < len; i++) {
		unsigned d = classify(v, (unsigned char)in[i]);
		if (d < 64) {
			if (pads)
				return -1; /* data after padding */
			acc = acc << 6 | d;
			if (++q == 4) {
				if (size - o < 3)
					return -1;
				out[o] = (unsigned char)(acc >> 16);
				out[o + 1] = (unsigned char)(acc >> 8);
				out[o + 2] = (unsigned char)acc;
				o += 3;
				q = 0;
				acc = 0;
			}
		} else if (d == B64_PAD) {
			if (v == BASE64_JWT)
				break;
			if (q < 2 || q + ++pads > 4)
				return -1;
		} else if (d == B64_BAD) {
			return -1;
		}
	}
	if (q == 1 || (pads && q + pads != 4))
		return -1;
	if (q >= 2) {
		/* 2 digits carry one byte, 3 digits two; the low bits left over
		 * are padding and ignored */
		size_t n = q - 1;
		if (size - o < n)
			return -1;
		acc <<= 6 * (4 - q);
		out[o++] = (unsigned char)(acc >> 16);
		if (n == 2)
			out[o++] = (unsigned char)(acc >> 8);
	}
	return (long)o;
}

int base64_encode(const unsigned char *in, size_t len, char *out, size_t size)
{
	size_t o = 0;
	if (len > (SIZE_MAX - 1) / 4 * 3 - 2 || (len + 2) / 3 * 4 + 1 > size)
		return -1;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		out[o++] = std_digits[v >> 18 & 63];
		out[o++] = std_digits[v >> 12 & 63];
		out[o++] = i + 1 < len ? std_digits[v >> 6 & 63] : '=';
		out[o++] = i + 2 < len ? std_digits[v & 63] : '=';
	}
	out[o] = '\0';
	return 0;
}
