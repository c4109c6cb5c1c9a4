#include "tlstext.h"

#include <bearssl.h>
#include <stdio.h>

static const char *alert_name(int a)
{
	switch (a) {
	case 0: return "close_notify";
	case 10: return "unexpected_message";
	case 20: return "bad_record_mac";
	case 22: return "record_overflow";
	case 40: return "handshake_failure";
	case 42: return "bad_certificate";
	case 43: return "unsupported_certificate";
	case 44: return "certificate_revoked";
	case 45: return "certificate_expired";
	case 46: return "certificate_unknown";
	case 47: return "illegal_parameter";
	case 48: return "unknown_ca";
	case 49: return "access_denied";
	case 50: return "decode_error";
	case 51: return "decrypt_error";
	case 70: return "protocol_version";
	case 71: return "insufficient_security";
	case 80: return "internal_error";
	case 86: return "inappropriate_fallback";
	case 90: return "user_canceled";
	case 100: return "no_renegotiation";
	case 109: return "missing_extension";
	case 110: return "unsupported_extension";
	case 112: return "unrecognized_name";
	case 116: return "certificate_required";
	case 120: return "no_application_protocol";
	default: return "unknown alert";
	}
}

/* Received alerts that mean "your client certificate": */
static int client_cert_alert(int a)
{
	return a == 42 || a == 43 || a == 44 || a == 45 || a == 46 || a == 48 || a == 116;
}

const char *tls_error_text(int err)
{
	static char buf[256];
	if (err >= BR_ERR_SEND_FATAL_ALERT) {
		snprintf(buf, sizeof buf, "pom-proxy sent TLS alert %s (%d)",
			 alert_name(err - BR_ERR_SEND_FATAL_ALERT), err - BR_ERR_SEND_FATAL_ALERT);
		return buf;
	}
	if (err >= BR_ERR_RECV_FATAL_ALERT) {
		int a = err - BR_ERR_RECV_FATAL_ALERT;
		const char *hint =
			a == 70 ? " (the proxy may accept only TLS 1.3; pom-proxy speaks TLS 1.2)" :
			a == 40 ? " (no common TLS version or cipher suite: the proxy may be older than "
				  "TLS 1.2; or it requires a client certificate: --client-cert/--client-key)" :
			a == 116 ? " (the proxy requires a client certificate: --client-cert/--client-key)" :
			a == 120 ? " (the proxy accepts none of the protocols pom-proxy offers, "
				   "http/1.1: its listener may speak only HTTP/2)" :
			client_cert_alert(a) ? " (the proxy rejected the client certificate)" : "";
		snprintf(buf, sizeof buf, "the proxy sent TLS alert %s (%d)%s", alert_name(a), a, hint);
		return buf;
	}
	switch (err) {
	case BR_ERR_OK: return "no error";
	case BR_ERR_BAD_PARAM: return "bad parameter in TLS setup";
	case BR_ERR_BAD_STATE: return "TLS engine in a bad state";
	case BR_ERR_UNSUPPORTED_VERSION:
		return "the proxy chose a TLS version other than TLS 1.2, the only one pom-proxy "
		       "speaks (it may accept only TLS 1.3, or only versions older than 1.2)";
	case BR_ERR_BAD_VERSION: return "the proxy changed TLS version mid-stream";
	case BR_ERR_BAD_LENGTH: return "malformed TLS record length";
	case BR_ERR_TOO_LARGE: return "TLS record too large for the buffer";
	case BR_ERR_BAD_MAC: return "TLS record failed its integrity check (bad MAC)";
	case BR_ERR_NO_RANDOM: return "no random source for TLS";
	case BR_ERR_UNKNOWN_TYPE: return "unknown TLS record type (is the proxy speaking TLS?)";
	case BR_ERR_UNEXPECTED: return "unexpected TLS message from the proxy";
	case BR_ERR_BAD_CCS: return "bad ChangeCipherSpec from the proxy";
	case BR_ERR_BAD_ALERT: return "malformed TLS alert from the proxy";
	case BR_ERR_BAD_HANDSHAKE: return "malformed TLS handshake message from the proxy";
	case BR_ERR_OVERSIZED_ID: return "oversized TLS session ID from the proxy";
	case BR_ERR_BAD_CIPHER_SUITE:
		return "the proxy chose a cipher suite pom-proxy did not offer";
	case BR_ERR_BAD_COMPRESSION: return "the proxy chose TLS compression";
	case BR_ERR_BAD_FRAGLEN: return "the proxy sent a bad max_fragment_length";
	case BR_ERR_BAD_SECRENEG: return "TLS secure renegotiation failed";
	case BR_ERR_EXTRA_EXTENSION: return "the proxy sent an unrequested TLS extension";
	case BR_ERR_BAD_SNI: return "the proxy sent a bad SNI extension";
	case BR_ERR_BAD_HELLO_DONE: return "malformed ServerHelloDone";
	case BR_ERR_LIMIT_EXCEEDED: return "a TLS limit was exceeded";
	case BR_ERR_BAD_FINISHED: return "TLS Finished message did not verify";
	case BR_ERR_RESUME_MISMATCH: return "TLS session resumption mismatch";
	case BR_ERR_INVALID_ALGORITHM: return "the proxy used an unsupported signature algorithm";
	case BR_ERR_BAD_SIGNATURE: return "the proxy's key exchange signature is invalid";
	case BR_ERR_WRONG_KEY_USAGE: return "the proxy's certificate key cannot be used for this key exchange";
	case BR_ERR_NO_CLIENT_AUTH:
		return "the proxy requires a client certificate (--client-cert/--client-key)";
	case BR_ERR_IO: return "I/O error on the TLS connection";
	case BR_ERR_X509_INVALID_VALUE: case BR_ERR_X509_TRUNCATED:
	case BR_ERR_X509_INNER_TRUNC: case BR_ERR_X509_BAD_TAG_CLASS:
	case BR_ERR_X509_BAD_TAG_VALUE: case BR_ERR_X509_INDEFINITE_LENGTH:
	case BR_ERR_X509_EXTRA_ELEMENT: case BR_ERR_X509_UNEXPECTED:
	case BR_ERR_X509_NOT_CONSTRUCTED: case BR_ERR_X509_NOT_PRIMITIVE:
	case BR_ERR_X509_PARTIAL_BYTE: case BR_ERR_X509_BAD_BOOLEAN:
	case BR_ERR_X509_OVERFLOW: case BR_ERR_X509_BAD_DN: case BR_ERR_X509_BAD_TIME:
		return "the proxy's certificate is malformed";
	case BR_ERR_X509_EMPTY_CHAIN: return "the proxy sent no certificate";
	case BR_ERR_X509_UNSUPPORTED:
		return "the proxy's certificate uses an unsupported algorithm (RSA-PSS and Ed25519 are not supported)";
	case BR_ERR_X509_LIMIT_EXCEEDED: return "the proxy's certificate chain is too long (or, for a proxy "
		       "addressed by IP, its certificate is over 16 KiB)";
	case BR_ERR_X509_WRONG_KEY_TYPE: return "the proxy's certificate has an unexpected key type";
	case BR_ERR_X509_BAD_SIGNATURE: return "a signature in the proxy's certificate chain is invalid";
	case BR_ERR_X509_TIME_UNKNOWN: return "the current time is unknown";
	case BR_ERR_X509_EXPIRED:
		return "the proxy's certificate has expired or is not yet valid";
	case BR_ERR_X509_DN_MISMATCH: return "the proxy's certificate chain is out of order";
	case BR_ERR_X509_BAD_SERVER_NAME:
		return "the proxy's certificate is for another host name";
	case BR_ERR_X509_CRITICAL_EXTENSION:
		return "the proxy's certificate has an unsupported critical extension";
	case BR_ERR_X509_NOT_CA: return "a certificate in the proxy's chain is not a CA";
	case BR_ERR_X509_FORBIDDEN_KEY_USAGE: return "the proxy's certificate forbids server use";
	case BR_ERR_X509_WEAK_PUBLIC_KEY: return "the proxy's certificate key is too weak";
	case BR_ERR_X509_NOT_TRUSTED:
		return "certificate signed by unknown authority (add it with --alternate-ca-path)";
	default:
		snprintf(buf, sizeof buf, "TLS error %d", err);
		return buf;
	}
}

enum pom_exit tls_error_exit(int err)
{
	if (err >= BR_ERR_SEND_FATAL_ALERT)
		return EXIT_TLS;
	if (err >= BR_ERR_RECV_FATAL_ALERT)
		return client_cert_alert(err - BR_ERR_RECV_FATAL_ALERT) ? EXIT_CLIENTCERT : EXIT_TLS;
	if (err >= BR_ERR_X509_OK && err < BR_ERR_RECV_FATAL_ALERT)
		return EXIT_VERIFY;
	if (err == BR_ERR_NO_CLIENT_AUTH)
		return EXIT_CLIENTCERT;
	return EXIT_TLS;
}

const char *tls_suite_name(uint16_t suite)
{
	switch (suite) {
	case BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: return "ECDHE-ECDSA-AES128-GCM-SHA256";
	case BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: return "ECDHE-RSA-AES128-GCM-SHA256";
	case BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: return "ECDHE-ECDSA-AES256-GCM-SHA384";
	case BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: return "ECDHE-RSA-AES256-GCM-SHA384";
	case BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: return "ECDHE-ECDSA-CHACHA20-POLY1305";
	case BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: return "ECDHE-RSA-CHACHA20-POLY1305";
	default: return "unknown suite";
	}
}

const char *tls_group_name(int curve)
{
	switch (curve) {
	case BR_EC_curve25519: return "X25519";
	case BR_EC_secp256r1: return "P-256";
	case BR_EC_secp384r1: return "P-384";
	case BR_EC_secp521r1: return "P-521";
	default: return "unknown group";
	}
}
