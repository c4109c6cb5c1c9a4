#include "verify.h"

#include <string.h>

/* ---- A bounded DER reader ------------------------------------------- */

/* A window into DER bytes; reading advances p and shrinks len. */
struct der {
	const unsigned char *p;
	size_t len;
};

/* Read one TLV from in into *tag and *val and advance in past it.
 * Accepts single-byte tags and definite lengths of up to 4 length bytes;
 * the value must lie wholly inside in. Returns 0 on success, -1 on
 * anything else (in is then left unspecified). */
static int der_next(struct der *in, unsigned *tag, struct der *val)
{
	size_t n, i, vlen;

	if (in->len < 2)
		return -1;
	*tag = in->p[0];
	if ((*tag & 0x1f) == 0x1f)
		return -1;
	n = in->p[1];
	in->p += 2;
	in->len -= 2;
	if (n < 0x80) {
		vlen = n;
	} else {
		n &= 0x7f;
		if (n == 0 || n > 4 || n > in->len)
			return -1;
		vlen = 0;
		for (i = 0; i < n; i++)
			vlen = (vlen << 8) | in->p[i];
		in->p += n;
		in->len -= n;
	}
	if (vlen > in->len)
		return -1;
	val->p = in->p;
	val->len = vlen;
	in->p += vlen;
	in->len -= vlen;
	return 0;
}

/* Read one TLV that must have tag want; as der_next otherwise. */
static int der_expect(struct der *in, unsigned want, struct der *val)
{
	unsigned tag;

	if (der_next(in, &tag, val) < 0 || tag != want)
		return -1;
	return 0;
}

#define DER_SEQUENCE 0x30
#define DER_OID 0x06
#define DER_BOOLEAN 0x01
#define DER_OCTET_STRING 0x04
#define DER_EXTENSIONS 0xa3 /* [3] EXPLICIT, constructed */
#define DER_GN_IPADDRESS 0x87 /* GeneralName [7] IMPLICIT OCTET STRING */

static const unsigned char oid_san[] = { 0x55, 0x1d, 0x11 }; /* 2.5.29.17 */

/* Find the subjectAltName extension's value (the GeneralNames DER) in the
 * certificate. Returns 0 and sets *san, or -1 when absent or malformed. */
static int find_san(struct der cert_in, struct der *san)
{
	struct der cert, tbs, exts, ext, oid, val;
	unsigned tag;

	if (der_expect(&cert_in, DER_SEQUENCE, &cert) < 0 ||
	    der_expect(&cert, DER_SEQUENCE, &tbs) < 0)
		return -1;
	/* extensions is the last field of tbsCertificate: skip to it. */
	do {
		if (der_next(&tbs, &tag, &exts) < 0)
			return -1;
	} while (tag != DER_EXTENSIONS);
	if (der_expect(&exts, DER_SEQUENCE, &val) < 0)
		return -1;
	exts = val;
	while (exts.len > 0) {
		if (der_expect(&exts, DER_SEQUENCE, &ext) < 0 ||
		    der_expect(&ext, DER_OID, &oid) < 0 ||
		    der_next(&ext, &tag, &val) < 0)
			return -1;
		if (tag == DER_BOOLEAN && der_next(&ext, &tag, &val) < 0)
			return -1;
		if (tag != DER_OCTET_STRING)
			return -1;
		if (oid.len == sizeof oid_san &&
		    memcmp(oid.p, oid_san, sizeof oid_san) == 0) {
			*san = val;
			return 0;
		}
	}
	return -1;
}

int verify_cert_has_ip(const unsigned char *der, size_t len,
		       const unsigned char *ip, size_t ip_len)
{
	struct der cert = { der, len }, san, names, name;
	unsigned tag;

	if (ip_len != 4 && ip_len != 16)
		return 0;
	if (find_san(cert, &san) < 0 ||
	    der_expect(&san, DER_SEQUENCE, &names) < 0)
		return 0;
	while (names.len > 0) {
		if (der_next(&names, &tag, &name) < 0)
			return 0;
		if (tag == DER_GN_IPADDRESS && name.len == ip_len &&
		    memcmp(name.p, ip, ip_len) == 0)
			return 1;
	}
	return 0;
}

/* ---- verify_ip: x509_minimal without the name check, plus IP SAN ---- */

static verify_ip_context *ip_ctx(const br_x509_class **ctx)
{
	return (verify_ip_context *)(void *)ctx;
}

static void ip_start_chain(const br_x509_class **ctx, const char *server_name)
{
	verify_ip_context *c = ip_ctx(ctx);

	(void)server_name;
	c->ee_len = 0;
	c->ee_too_long = 0;
	c->cert_index = 0;
	c->result = BR_ERR_X509_EMPTY_CHAIN;
	c->inner.vtable->start_chain(&c->inner.vtable, NULL);
}

static void ip_start_cert(const br_x509_class **ctx, uint32_t length)
{
	verify_ip_context *c = ip_ctx(ctx);

	if (c->cert_index == 0)
		c->ee_too_long = length > VERIFY_MAX_CERT;
	c->inner.vtable->start_cert(&c->inner.vtable, length);
}

static void ip_append(const br_x509_class **ctx, const unsigned char *buf, size_t len)
{
	verify_ip_context *c = ip_ctx(ctx);

	if (c->cert_index == 0 && !c->ee_too_long) {
		if (len > sizeof c->ee - c->ee_len) {
			c->ee_too_long = 1;
		} else {
			memcpy(c->ee + c->ee_len, buf, len);
			c->ee_len += len;
		}
	}
	c->inner.vtable->append(&c->inner.vtable, buf, len);
}

static void ip_end_cert(const br_x509_class **ctx)
{
	verify_ip_context *c = ip_ctx(ctx);

	c->cert_index++;
	c->inner.vtable->end_cert(&c->inner.vtable);
}

static unsigned ip_end_chain(const br_x509_class **ctx)
{
	verify_ip_context *c = ip_ctx(ctx);
	unsigned r = c->inner.vtable->end_chain(&c->inner.vtable);

	if (r == 0 && c->ee_too_long)
		r = BR_ERR_X509_LIMIT_EXCEEDED;
	else if (r == 0 && !verify_cert_has_ip(c->ee, c->ee_len, c->ip, c->ip_len))
		r = BR_ERR_X509_BAD_SERVER_NAME;
	c->result = r;
	return r;
}

static const br_x509_pkey *ip_get_pkey(const br_x509_class *const *ctx, unsigned *usages)
{
	const verify_ip_context *c = (const verify_ip_context *)(const void *)ctx;

	if (c->result != 0)
		return NULL;
	return c->inner.vtable->get_pkey(&c->inner.vtable, usages);
}

static const br_x509_class verify_ip_vtable = {
	sizeof(verify_ip_context),
	ip_start_chain,
	ip_start_cert,
	ip_append,
	ip_end_cert,
	ip_end_chain,
	ip_get_pkey,
};

void verify_fast_ecdsa(br_x509_minimal_context *xc)
{
	br_x509_minimal_set_ecdsa(xc, br_ec_get_default(), br_ecdsa_vrfy_asn1_get_default());
}

void verify_ip_init(verify_ip_context *ctx, const br_x509_trust_anchor *tas,
		    size_t ta_count, const unsigned char *ip, size_t ip_len)
{
	memset(ctx, 0, sizeof *ctx);
	ctx->vtable = &verify_ip_vtable;
	br_x509_minimal_init_full(&ctx->inner, tas, ta_count);
	verify_fast_ecdsa(&ctx->inner);
	if (ip_len == 4 || ip_len == 16) {
		memcpy(ctx->ip, ip, ip_len);
		ctx->ip_len = ip_len;
	}
	ctx->result = BR_ERR_X509_EMPTY_CHAIN;
}

/* ---- verify_none: the end-entity key, no checks --------------------- */

static verify_none_context *none_ctx(const br_x509_class **ctx)
{
	return (verify_none_context *)(void *)ctx;
}

static void none_start_chain(const br_x509_class **ctx, const char *server_name)
{
	verify_none_context *c = none_ctx(ctx);

	(void)server_name;
	c->cert_index = 0;
	c->err = BR_ERR_X509_EMPTY_CHAIN;
}

static void none_start_cert(const br_x509_class **ctx, uint32_t length)
{
	verify_none_context *c = none_ctx(ctx);

	(void)length;
	if (c->cert_index == 0)
		br_x509_decoder_init(&c->dec, 0, NULL);
}

static void none_append(const br_x509_class **ctx, const unsigned char *buf, size_t len)
{
	verify_none_context *c = none_ctx(ctx);

	if (c->cert_index == 0)
		br_x509_decoder_push(&c->dec, buf, len);
}

static void none_end_cert(const br_x509_class **ctx)
{
	none_ctx(ctx)->cert_index++;
}

/* Copy n bytes at src to key_data[*off..] and return where they went, or
 * NULL when they do not fit. */
static unsigned char *none_copy(verify_none_context *c, size_t *off,
				const unsigned char *src, size_t n)
{
	unsigned char *dst;

	if (n > sizeof c->key_data - *off)
		return NULL;
	dst = c->key_data + *off;
	memcpy(dst, src, n);
	*off += n;
	return dst;
}

static unsigned none_end_chain(const br_x509_class **ctx)
{
	verify_none_context *c = none_ctx(ctx);
	const br_x509_pkey *pk;
	size_t off = 0;

	if (c->cert_index == 0)
		return (unsigned)(c->err = BR_ERR_X509_EMPTY_CHAIN);
	c->err = br_x509_decoder_last_error(&c->dec);
	if (c->err != 0)
		return (unsigned)c->err;
	pk = br_x509_decoder_get_pkey(&c->dec);
	c->pkey.key_type = pk->key_type;
	if (pk->key_type == BR_KEYTYPE_RSA) {
		c->pkey.key.rsa.n = none_copy(c, &off, pk->key.rsa.n, pk->key.rsa.nlen);
		c->pkey.key.rsa.nlen = pk->key.rsa.nlen;
		c->pkey.key.rsa.e = none_copy(c, &off, pk->key.rsa.e, pk->key.rsa.elen);
		c->pkey.key.rsa.elen = pk->key.rsa.elen;
		if (!c->pkey.key.rsa.n || !c->pkey.key.rsa.e)
			c->err = BR_ERR_X509_LIMIT_EXCEEDED;
	} else if (pk->key_type == BR_KEYTYPE_EC) {
		c->pkey.key.ec.curve = pk->key.ec.curve;
		c->pkey.key.ec.q = none_copy(c, &off, pk->key.ec.q, pk->key.ec.qlen);
		c->pkey.key.ec.qlen = pk->key.ec.qlen;
		if (!c->pkey.key.ec.q)
			c->err = BR_ERR_X509_LIMIT_EXCEEDED;
	} else {
		c->err = BR_ERR_X509_UNSUPPORTED;
	}
	return (unsigned)c->err;
}

static const br_x509_pkey *none_get_pkey(const br_x509_class *const *ctx, unsigned *usages)
{
	const verify_none_context *c = (const verify_none_context *)(const void *)ctx;

	if (c->err != 0)
		return NULL;
	if (usages)
		*usages = BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN;
	return &c->pkey;
}

static const br_x509_class verify_none_vtable = {
	sizeof(verify_none_context),
	none_start_chain,
	none_start_cert,
	none_append,
	none_end_cert,
	none_end_chain,
	none_get_pkey,
};

void verify_none_init(verify_none_context *ctx)
{
	memset(ctx, 0, sizeof *ctx);
	ctx->vtable = &verify_none_vtable;
	ctx->err = BR_ERR_X509_EMPTY_CHAIN;
}
