#include "bigendian.h"

void be_put(unsigned char *b, uint64_t v, size_t n)
{
	for (size_t i = n; i > 0; i--, v >>= 8)
		b[i - 1] = (unsigned char)v;
}

uint64_t be_get(const unsigned char *b, size_t n)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v = v << 8 | b[i];
	return v;
}
