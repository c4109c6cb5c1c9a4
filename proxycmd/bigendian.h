/* bigendian: the fixed-width big-endian integers of the cache files
 * (session, anchors). */
#ifndef POM_BIGENDIAN_H
#define POM_BIGENDIAN_H

#include <stddef.h>
#include <stdint.h>

/* Store the low n bytes (1..8) of v at b, most significant first. */
void be_put(unsigned char *b, uint64_t v, size_t n);

/* The n bytes (1..8) at b, most significant first, as a number. */
uint64_t be_get(const unsigned char *b, size_t n);

#endif
