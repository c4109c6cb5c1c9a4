/* test_chaincache: the verified-chain cache engine (chaincache.h) on the
 * test PKI's real chains, in front of an inner engine whose verdict the
 * test sets and whose calls it counts: what is kept, what is a hit, that
 * a host name and an IP address never share a record, which
 * certificates a record checks the validity of, and the file's format. */
#include "tap.h"
#include "chaincache.h"
#include "privfile.h"
#include "scratch.h"
#include "testtls.h"
#include "x509stub.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------ */

static const unsigned char trust_id[32] = { 7 };

/* One handshake's worth of chain through a fresh cache engine named kind,
 * name[0..len), the inner engine answering verdict. Returns end_chain's
 * answer; *key (may be NULL) gets get_pkey's. */
static unsigned run(const struct testtls_certs *chain, enum chaincache_name kind,
		    const void *name, size_t len, unsigned verdict, const br_x509_pkey **key)
{
	static chaincache_context cc;
	const br_x509_class *inner = &x509stub_class;
	const br_x509_class **e = &cc.vtable;
	unsigned r, u;

	x509stub_verdict = verdict;
	chaincache_init(&cc, &inner, trust_id, kind, name, len);
	(*e)->start_chain(e, kind == CHAINCACHE_DNS_NAME ? name : NULL);
	for (size_t i = 0; i < chain->n; i++) {
		(*e)->start_cert(e, (uint32_t)chain->cert[i].data_len);
		(*e)->append(e, chain->cert[i].data, chain->cert[i].data_len);
		(*e)->end_cert(e);
	}
	r = (*e)->end_chain(e);
	if (key)
		*key = (*e)->get_pkey(e, &u);
	return r;
}

/* The records now in the cache file (count -1 when it does not parse). */
static long records(struct chaincache_record rec[CHAINCACHE_ENTRIES])
{
	unsigned char buf[CHAINCACHE_FILE_MAX];
	size_t n;
	FILE *f = fopen(scratch_at("cache/pom-proxy/verified-chains"), "rb");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	return chaincache_parse(buf, n, rec, &n) == 0 ? (long)n : -1;
}

/* Load the PEM file pki/name as a chain; the test stops if it cannot. */
static void load(const char *name, struct testtls_certs *out)
{
	char path[600];
	snprintf(path, sizeof path, "%s/%s", scratch_at("pki"), name);
	if (testtls_load_certs(path, out) < 0) {
		fprintf(stderr, "# cannot load %s\n", path);
		exit(1);
	}
}

/* ---- the tests ---------------------------------------------------------- */

static void test_hit_and_kinds(const struct testtls_certs *chain)
{
	static const unsigned char ip_abcd[4] = { 'a', 'b', 'c', 'd' };
	struct chaincache_record rec[CHAINCACHE_ENTRIES];
	const br_x509_pkey *key;
	int calls = x509stub_calls;

	is_int(run(chain, CHAINCACHE_DNS_NAME, "abcd", 4, 0, &key), 0,
	       "a chain the inner engine accepts is accepted");
	ok(key == &x509stub_key, "  with the inner engine's key");
	is_int(records(rec), 1, "  and kept: one record");
	is_int(rec[0].check, 0x7, "  whose three certificates are all checked on a hit");
	is_int(rec[0].usages, BR_KEYTYPE_SIGN, "  with the usages full verification granted");

	calls = x509stub_calls;
	is_int(run(chain, CHAINCACHE_DNS_NAME, "abcd", 4, 62, &key), 0,
	       "the same bytes for the same name: a hit, whatever the inner engine says");
	is_int(x509stub_calls, calls, "  the inner engine is not asked");
	ok(key && key != &x509stub_key && key->key_type == BR_KEYTYPE_EC,
	   "  the key is the leaf's own, decoded from the bytes received");

	calls = x509stub_calls;
	is_int(run(chain, CHAINCACHE_IP_ADDRESS, ip_abcd, 4, 56, NULL), 56,
	       "the IP address whose 4 bytes spell the cached name: no hit, the inner "
	       "engine's verdict stands");
	is_int(x509stub_calls, calls + 1, "  the inner engine is asked");
	is_int(run(chain, CHAINCACHE_DNS_NAME, "abce", 4, 56, NULL), 56,
	       "another name: the inner engine's verdict stands");
	is_int(records(rec), 1, "refused chains are not kept");
}

static void test_stale_trailer(const struct testtls_certs *chain)
{
	struct chaincache_record rec[CHAINCACHE_ENTRIES];
	int calls;

	is_int(run(chain, CHAINCACHE_DNS_NAME, "localhost", 9, 0, NULL), 0,
	       "a chain with an expired certificate after the path: accepted in full");
	is_int(records(rec), 2, "  and kept");
	is_int(rec[0].check, 0x7, "  the expired fourth certificate is not checked on a hit "
	       "(full verification cannot have used it)");
	calls = x509stub_calls;
	is_int(run(chain, CHAINCACHE_DNS_NAME, "localhost", 9, 62, NULL), 0,
	       "  so the next time is a hit");
	is_int(x509stub_calls, calls, "  without asking the inner engine");
}

static void test_expired_leaf(const struct testtls_certs *chain)
{
	struct chaincache_record rec[CHAINCACHE_ENTRIES];
	int calls;

	/* x509_minimal never accepts an expired leaf (tls_envoy.t); an inner
	 * engine that ignores dates shows that a record checks the leaf's
	 * period all the same */
	is_int(run(chain, CHAINCACHE_DNS_NAME, "expired.test", 12, 0, NULL), 0,
	       "an expired leaf accepted by a date-blind inner engine");
	is_int(records(rec), 3, "  is kept");
	is_int(rec[0].check & 1, 1, "  its record checks the leaf's validity all the same");
	calls = x509stub_calls;
	is_int(run(chain, CHAINCACHE_DNS_NAME, "expired.test", 12, 62, NULL), 62,
	       "  so the same chain again is no hit: the inner engine's verdict stands");
	is_int(x509stub_calls, calls + 1, "  the inner engine is asked");
}

static void test_file(void)
{
	struct chaincache_record rec[CHAINCACHE_ENTRIES];
	unsigned char buf[CHAINCACHE_FILE_MAX + 1] = "POMCHAIN";
	size_t n;

	memset(buf + 8, 0, 8);
	buf[11] = 1; /* version 1, the format before check masks */
	is_int(chaincache_parse(buf, 16 + 32, rec, &n), -1, "a version 1 file is refused");
	is_int(chaincache_parse(buf, 0, rec, &n), -1, "an empty file is refused");
	is_int(chaincache_parse(buf, sizeof buf, rec, &n), -1, "an oversized file is refused");
}

int main(void)
{
	struct testtls_certs le = { 0 }, stale = { 0 }, expired = { 0 }, extra = { 0 };

	if (!ok(scratch_make("test_chaincache") == 0, "a scratch directory") ||
	    !ok(scratch_pki("pki") == 0, "the test PKI"))
		return done_testing();
	setenv("XDG_CACHE_HOME", scratch_at("cache"), 1);
	load("le-chain.pem", &le);
	load("le-chain.pem", &stale);
	load("expired.pem", &extra);
	stale.cert[stale.n++] = extra.cert[0];
	load("le-expired-chain.pem", &expired);

	test_hit_and_kinds(&le);
	test_stale_trailer(&stale);
	test_expired_leaf(&expired);
	test_file();

	stale.n--; /* the shared certificate is freed with extra */
	testtls_free_certs(&le);
	testtls_free_certs(&stale);
	testtls_free_certs(&extra);
	testtls_free_certs(&expired);
	scratch_remove();
	return done_testing();
}
