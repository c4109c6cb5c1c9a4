/* libFuzzer target: the verified-chain cache. The first byte chooses:
 *   0: the cache file's bytes (chaincache_parse: fails or yields at most
 *      CHAINCACHE_ENTRIES records);
 *   1: der_cert_validity on the bytes as a certificate;
 *   2: the engine itself: the rest is a chain (u16 length + bytes per
 *      certificate, fed in pieces whose sizes come from the input), given
 *      twice. The first time an inner engine that accepts everything
 *      (x509stub.h) lets it be recorded; the second time the record is
 *      found and the hit path (validity periods, leaf decoding) runs on
 *      the fuzzer's bytes.
 *      Long chains take the pass-through path. */
#include "chaincache.h"
#include "der.h"
#include "../tests/unit/x509stub.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];

/* At exit: the cache file, its directories and dir itself. */
static void remove_dir(void)
{
	char p[400];
	snprintf(p, sizeof p, "%s/pom-proxy/verified-chains", dir);
	unlink(p);
	snprintf(p, sizeof p, "%s/pom-proxy", dir);
	rmdir(p);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(dir, sizeof dir, "/tmp/pom-fuzz-chains-%d", (int)getpid());
	mkdir(dir, 0700);
	setenv("XDG_CACHE_HOME", dir, 1);
	atexit(remove_dir);
	return 0;
}

/* Feed the chain in data[0..len) to the engine once; returns end_chain's
 * verdict. */
static unsigned run_chain(const uint8_t *data, size_t len)
{
	static chaincache_context cc;
	static const unsigned char id[32] = { 1 };
	const br_x509_class *inner = &x509stub_class;
	const br_x509_class **e = &cc.vtable;
	const br_x509_pkey *pk;
	size_t p = 0;
	unsigned u, r;

	chaincache_init(&cc, &inner, id, CHAINCACHE_DNS_NAME, "proxy.test", 10);
	(*e)->start_chain(e, "proxy.test");
	while (len - p >= 3) {
		size_t n = (size_t)data[p] << 8 | data[p + 1], piece = data[p + 2] + 1u;
		p += 3;
		if (n > len - p)
			n = len - p;
		(*e)->start_cert(e, (uint32_t)n);
		for (size_t q = 0; q < n; q += piece)
			(*e)->append(e, data + p + q, n - q < piece ? n - q : piece);
		(*e)->end_cert(e);
		p += n;
	}
	r = (*e)->end_chain(e);
	pk = (*e)->get_pkey(e, &u);
	if (r == 0 && !pk)
		abort(); /* an accepted chain always has a key */
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct chaincache_record rec[CHAINCACHE_ENTRIES];
	size_t count = 0;
	int64_t nb, na;
	char path[400];

	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		if (chaincache_parse(data + 1, size - 1, rec, &count) == 0 &&
		    count > CHAINCACHE_ENTRIES)
			abort();
		break;
	case 1:
		if (der_cert_validity(data + 1, size - 1, &nb, &na) == 0 && size - 1 < 30)
			abort(); /* no certificate is that short */
		break;
	default:
		snprintf(path, sizeof path, "%s/pom-proxy/verified-chains", dir);
		unlink(path);
		run_chain(data + 1, size - 1);
		run_chain(data + 1, size - 1);
		break;
	}
	return 0;
}
