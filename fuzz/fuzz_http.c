/* libFuzzer target: the CONNECT answer parser, fed in splits the input
 * itself chooses. Invariants: never consumes more than offered, never
 * goes on after the end of the header block, a final status is 100..999
 * and not an interim one. */
#include "http.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct http_parser p;
	size_t pos = 1, total = 0;
	unsigned step = size ? data[0] % 17 + 1 : 1; /* split size chosen by the input */
	http_parser_init(&p);
	while (pos < size && p.state == HTTP_MORE) {
		size_t n = size - pos < step ? size - pos : step;
		size_t used = http_parser_feed(&p, data + pos, n);
		if (used > n)
			abort();
		if (p.state == HTTP_MORE && used != n)
			abort();
		total += used;
		pos += used;
		if (used < n && p.state == HTTP_MORE)
			abort();
		if (used < n)
			break;
	}
	if (p.state == HTTP_DONE) {
		if (p.status < 100 || p.status > 999 || (p.status < 200 && p.status != 101))
			abort();
		if (memchr(p.reason, '\r', sizeof p.reason) || memchr(p.location, '\n', sizeof p.location))
			abort();
		/* one more byte must not be consumed */
		if (http_parser_feed(&p, (const uint8_t *)"x", 1) != 0)
			abort();
	}
	(void)total;
	return 0;
}
