/* libFuzzer target: the loopback callback's request judge. Invariants: a
 * 200 only for a GET of the exact path with a good Host, and the token
 * then made of token characters. */
#include "callback.h"
#include "token.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct callback cb;
	static char req[CALLBACK_REQ_MAX + 1], token[TOKEN_MAX + 1];
	if (!cb.port) {
		cb.port = 43210;
		strcpy(cb.path, "/callback/00112233445566778899aabbccddeeff");
	}
	if (size > CALLBACK_REQ_MAX)
		size = CALLBACK_REQ_MAX;
	memcpy(req, data, size);
	req[size] = '\0';
	cb.used = size && data[0] == 'X';
	int st = callback_check(&cb, req, token, sizeof token);
	if (st == 200) {
		if (strncmp(req, "GET /callback/00112233445566778899aabbccddeeff", 46) != 0 ||
		    !token_chars_ok(token) || cb.used)
			abort();
	} else if (st != 400 && st != 404 && st != 405 && st != 409 && st != 421 && st != 422) {
		abort();
	}
	return 0;
}
