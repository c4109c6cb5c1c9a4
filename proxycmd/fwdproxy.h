/* fwdproxy: reaching the Pomerium proxy through a corporate forward proxy
 * (HTTPS_PROXY and friends, or --proxy URL), which pomerium-cli's tunnel
 * ignores.
 *
 * The forward proxy gets "CONNECT pomerium-host:port" (with Basic
 * credentials if given); TLS to Pomerium then runs inside that connection.
 * A plain http:// forward proxy hands the socket over as it is; for an
 * https:// one, a helper process splices the outer TLS session with one
 * end of a socketpair, and the other end is the connection to Pomerium:
 * the same splice code, no second TLS loop. */
#ifndef POM_FWDPROXY_H
#define POM_FWDPROXY_H

#include <stddef.h>
#include "dest.h"
#include "log.h"
#include "splice.h"
#include "tls.h"

struct fwdproxy {
	struct dest d;        /* proxy_*: the forward proxy; dest_*: Pomerium's host:port */
	char basic[700];      /* base64 of "user:password", or "" */
	char shown[DEST_HOST_MAX + 16]; /* "http://host:port", for messages (no credentials) */
};

/* Decide whether the connection to target's proxy goes through a forward
 * proxy: the --proxy URL (flag) if given ("" or "-" means none), else, as
 * curl does, https_proxy/HTTPS_PROXY then all_proxy/ALL_PROXY for an
 * https:// Pomerium (http_proxy then all_proxy for http://), unless
 * no_proxy/NO_PROXY matches the Pomerium host ("*", host names and domain
 * suffixes, IP addresses, CIDR ranges). Credentials come from the URL's
 * user information (percent-decoded) or from cred_file ("user:password",
 * one line). Returns EXIT_OK with *via 1 and fp filled, or *via 0 when
 * the connection is direct; EXIT_USAGE after one log_error line for a bad
 * URL or credentials file. Never logs credentials. */
enum pom_exit fwdproxy_select(struct fwdproxy *fp, const char *flag, const char *cred_file,
			      const struct dest *target, int *via);

/* Open a connection to target's proxy through fp: EXIT_OK with a
 * descriptor ready for the TLS handshake with Pomerium in *fd, or an exit
 * class after one log_error line. tls holds the trust settings for an
 * https:// forward proxy; t and plain are storage for the forward proxy's
 * own tunnel. */
enum pom_exit fwdproxy_open(const struct fwdproxy *fp, const struct tls_params *tls,
			    int timeout_ms, struct tls_client *t, struct splice_plain *plain,
			    int *fd);

/* Read "user:password" (the first line of the file at path) into out.
 * Returns 0, or -1 with errno (EINVAL when there is no ':'). The caller
 * wipes out after use. */
int fwdproxy_read_credentials(const char *path, char *out, size_t size);

/* 1 when host matches the no_proxy list (exposed for the tests). */
int fwdproxy_no_proxy_match(const char *list, const char *host);

#endif
