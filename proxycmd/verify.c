#include "verify.h"
#include "der.h"

#include <string.h>

#define DER_GN_IPADDRESS 0x87 /* GeneralName [7] IMPLICIT OCTET STRING */

int verify_cert_has_ip(const unsigned char *der, size_t len,
		       const unsigned char *ip, size_t ip_len)
{
	struct der cert = { der, len }, san, names, name;
	unsigned tag;

	if (ip_len != 4 && ip_len != 16)
		return 0;
	if (der_cert_san(cert, &san) < 0 ||
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
