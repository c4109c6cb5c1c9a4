/* x509stub: a br_x509_class that verifies nothing, for the tests and the
 * fuzzer that put the verified-chain cache in front of an engine whose
 * verdict they choose. end_chain answers x509stub_verdict (0: accepted)
 * and counts its calls in x509stub_calls; get_pkey gives a fixed P-256
 * key with the signing usage when the verdict is 0, else NULL. Header
 * only: each program that includes it has its own copy of the state. */
#ifndef POM_X509STUB_H
#define POM_X509STUB_H

#include <bearssl.h>

static unsigned x509stub_verdict;
static int x509stub_calls;
static unsigned char x509stub_q[65] = { 4 };
static const br_x509_pkey x509stub_key = {
	BR_KEYTYPE_EC, { .ec = { BR_EC_secp256r1, x509stub_q, sizeof x509stub_q } }
};

static void x509stub_start_chain(const br_x509_class **c, const char *n)
{
	(void)c;
	(void)n;
}

static void x509stub_start_cert(const br_x509_class **c, uint32_t l)
{
	(void)c;
	(void)l;
}

static void x509stub_append(const br_x509_class **c, const unsigned char *b, size_t l)
{
	(void)c;
	(void)b;
	(void)l;
}

static void x509stub_end_cert(const br_x509_class **c)
{
	(void)c;
}

static unsigned x509stub_end_chain(const br_x509_class **c)
{
	(void)c;
	x509stub_calls++;
	return x509stub_verdict;
}

static const br_x509_pkey *x509stub_get_pkey(const br_x509_class *const *c, unsigned *u)
{
	(void)c;
	if (u)
		*u = BR_KEYTYPE_SIGN;
	return x509stub_verdict == 0 ? &x509stub_key : NULL;
}

static const br_x509_class x509stub_class = {
	sizeof(const br_x509_class *), x509stub_start_chain, x509stub_start_cert,
	x509stub_append, x509stub_end_cert, x509stub_end_chain, x509stub_get_pkey,
};

#endif
