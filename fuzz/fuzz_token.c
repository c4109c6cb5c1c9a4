/* libFuzzer target: token decoding — JWT claims (base64url + a bounded
 * JSON walk), expiry, the character check, and pomerium_jwt extraction
 * from a pasted URL. */
#include "callback.h"
#include "token.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char text[TOKEN_MAX * 2 + 1], out[TOKEN_MAX + 1];
	struct token_claims c;
	if (size > sizeof text - 1)
		size = sizeof text - 1;
	memcpy(text, data, size);
	text[size] = '\0';
	if (token_claims(text, &c) == 0) {
		if (memchr(c.sub, '\0', sizeof c.sub) == NULL || memchr(c.email, '\0', sizeof c.email) == NULL)
			abort();
	}
	(void)token_expired(text, 1700000000);
	(void)token_chars_ok(text);
	if (callback_token_from_url(text, out, sizeof out) && !token_chars_ok(out))
		abort();
	return 0;
}
