/* token: which Pomerium token to send, and the per-proxy token cache.
 *
 * Sources, first found wins: --service-account, --service-account-file,
 * $POM_PROXY_SERVICE_ACCOUNT, $POM_PROXY_SERVICE_ACCOUNT_FILE, then the
 * cache file "<cache dir>/tokens/<proxy host>:<port>" (IPv6 host in
 * brackets) holding the raw token. Tokens are opaque except for an
 * optional "exp" claim: a cached token past it is not sent. */
#ifndef POM_TOKEN_H
#define POM_TOKEN_H

#include <stddef.h>
#include "exitcode.h"

#define TOKEN_MAX 16384

enum token_source {
	TOKEN_NONE,     /* nothing to send */
	TOKEN_ARG,      /* --service-account */
	TOKEN_ARG_FILE, /* --service-account-file */
	TOKEN_ENV,      /* POM_PROXY_SERVICE_ACCOUNT */
	TOKEN_ENV_FILE, /* POM_PROXY_SERVICE_ACCOUNT_FILE */
	TOKEN_CACHE,    /* the cache file for this proxy */
};

struct token_options {
	const char *service_account;      /* --service-account, or NULL */
	const char *service_account_file; /* --service-account-file, or NULL */
};

/* Find the token for the proxy "host:port" (authority) and copy it into
 * buf (size > TOKEN_MAX recommended). Sets *src (TOKEN_NONE with buf ""
 * when there is none). An explicitly named source that cannot be read,
 * is empty or holds invalid characters is an error: EXIT_USAGE after one
 * log_error line; one that has expired, EXIT_SIGNIN after one line. A
 * cache file that is unusable (garbage, a symlink, not private) is skipped
 * with a warning (once per process), an expired one with a log_debug
 * line; buf must hold more than one byte.
 * Returns EXIT_OK otherwise. Never logs the token itself. */
enum pom_exit token_find(char *buf, size_t size, const struct token_options *o,
	       const char *authority, enum token_source *src);

/* Put the cache file path for authority in buf. With create != 0 the
 * cache directories are created (0700). Returns 0, or -1 with errno. */
int token_cache_path(char *buf, size_t size, const char *authority, int create);

/* Store token as the cached token for authority (atomically, 0600).
 * Returns 0, or -1 with errno. */
int token_cache_store(const char *authority, const char *token);

/* 1 when token is a JWT whose payload has a numeric "exp" claim earlier
 * than now (Unix seconds); 0 when it has none, is not a JWT, or has not
 * expired. Parsing is bounded; nothing is allocated. */
int token_expired(const char *token, long long now);

/* What a token says about itself (for `pom-proxy status`): string claims
 * sub and email (sanitised, "" when absent), numeric iat and exp (-1 when
 * absent). Returns 0, or -1 when the token is not a JWT with a JSON
 * object payload. */
struct token_claims {
	char sub[128], email[128];
	long long iat, exp;
};
int token_claims(const char *token, struct token_claims *c);

/* 1 when token is non-empty and made only of characters a JWT or
 * token68 may contain (safe to put in an HTTP header); else 0. */
int token_chars_ok(const char *token);

/* 1 when POM_PROXY_SERVICE_ACCOUNT or POM_PROXY_SERVICE_ACCOUNT_FILE is
 * set (non-empty): token_find then takes it, never the cache. */
int token_env_set(void);

/* A short name for a source, for diagnostics ("--service-account-file"...). */
const char *token_source_name(enum token_source src);

#endif
