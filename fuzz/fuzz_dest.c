/* libFuzzer target: what users type — DEST and --pomerium-url (split at
 * the first NUL), proxy URLs, --listen addresses, no_proxy lists.
 * Invariants: accepted hosts pass dest_host_valid and build a CONNECT
 * request; error texts are one printable line. */
#include "dest.h"
#include "fwdproxy.h"
#include "http.h"
#include "listener.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char a[4096], b[4096];
	char err[256], auth[DEST_HOST_MAX + 8], req[1024];
	struct dest d;
	struct sockaddr_storage ss;
	socklen_t sl;
	int lo;
	const uint8_t *nul = memchr(data, 0, size);
	size_t al = nul ? (size_t)(nul - data) : size;
	size_t bl = nul ? size - al - 1 : 0;
	if (al >= sizeof a || bl >= sizeof b)
		return 0;
	memcpy(a, data, al);
	a[al] = '\0';
	memcpy(b, nul ? nul + 1 : data, bl);
	b[bl] = '\0';

	if (dest_parse(&d, a, nul ? b : NULL, err, sizeof err) == 0) {
		if (!dest_host_valid(d.dest_host) || !dest_host_valid(d.proxy_host) ||
		    !d.dest_port || !d.proxy_port)
			abort();
		if (dest_authority(auth, sizeof auth, d.dest_host, d.dest_port) < 0 ||
		    http_connect_request(req, sizeof req, auth, NULL, "fuzz") < 0)
			abort();
	} else {
		printable(err);
	}
	if (dest_parse_proxy(&d, a, err, sizeof err) < 0)
		printable(err);
	if (listener_parse(a, &ss, &sl, &lo, err, sizeof err) < 0)
		printable(err);
	(void)fwdproxy_no_proxy_match(a, nul ? b : "proxy.example.com");
	return 0;
}
