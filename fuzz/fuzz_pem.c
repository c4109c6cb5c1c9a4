/* libFuzzer target: the PEM scanner and base64 decoder. Invariants:
 * progress on every call, decoded objects within the output buffer. */
#include "pem.h"
#include "base64.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char out[1 << 16];
	struct pem_object obj;
	size_t pos = 0;
	int r, n = 0;
	while ((r = pem_next((const char *)data, size, &pos, &obj, out, sizeof out)) != 0) {
		if (pos > size)
			abort();
		if (r > 0 && (obj.der < out || obj.der_len > sizeof out))
			abort();
		if (++n > 100000)
			abort(); /* no progress */
	}
	long b = base64_decode(BASE64_PEM, (const char *)data, size, out, sizeof out);
	if (b > (long)sizeof out)
		abort();
	return 0;
}
