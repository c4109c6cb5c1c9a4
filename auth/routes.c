#include "routes.h"
#include "httpget.h"

#include <stdio.h>
#include <string.h>

static char token_buf[TOKEN_MAX + 1], fresh_buf[TOKEN_MAX + 1];

static int wants_signin(long status)
{
	return status == 401 || status == 301 || status == 302 || status == 303 ||
	       status == 307 || status == 308;
}

/* One GET of the routes API with token (or none). */
static enum pom_exit get_routes(const struct dest *d, const struct login_options *lo,
				const char *token, struct routes_answer *ans, int *overflow,
				long *status)
{
	struct httpget_body b = { ans->body, sizeof ans->body, 0, 0 };
	struct httpget_request rq = { "routes", ROUTES_PATH, NULL, NULL, token,
				      "application/json" };
	enum pom_exit code = httpget(d, &rq, &lo->tls, &b, status);
	ans->len = b.len;
	*overflow = b.overflow;
	return code;
}

/* The exit class of a routes answer that is not 200, after one line. */
static enum pom_exit status_exit(const char *authority, long status, enum token_source src)
{
	switch (status) {
	case 404:
		log_error("proxy %s serves no routes list (HTTP 404: its routes portal is "
			  "switched off, or it is not a Pomerium proxy)", authority);
		return EXIT_NOROUTE;
	case 405:
		log_error("proxy %s does not allow GET %s (HTTP 405 Method Not Allowed: "
			  "is it a Pomerium proxy?)", authority, ROUTES_PATH);
		return EXIT_PROTOCOL;
	case 403:
		log_error("access denied: proxy %s does not show you its routes (403 Forbidden)",
			  authority);
		return EXIT_DENIED;
	}
	if (wants_signin(status) && src != TOKEN_NONE && src != TOKEN_CACHE) {
		log_error("proxy %s refused the service account token from %s (HTTP %ld)",
			  authority, token_source_name(src), status);
		return EXIT_SIGNIN;
	}
	if (wants_signin(status)) {
		log_error("sign-in required: proxy %s still refuses the token after a sign-in "
			  "(HTTP %ld)", authority, status);
		return EXIT_SIGNIN;
	}
	log_error("proxy %s answered the routes request with HTTP %ld", authority, status);
	return EXIT_PROTOCOL;
}

/* Sign in to d's proxy (refused: the token it just refused, or NULL);
 * the fresh token ends up in token_buf. */
static enum pom_exit sign_in(const struct dest *d, const struct login_options *lo,
			     const char *refused)
{
	enum pom_exit code = login_obtain(d, lo, refused, fresh_buf, sizeof fresh_buf);
	if (code == EXIT_OK)
		memcpy(token_buf, fresh_buf, sizeof token_buf);
	explicit_bzero(fresh_buf, sizeof fresh_buf);
	return code;
}

enum pom_exit routes_fetch(const struct dest *d, const struct token_options *topt,
			   const struct login_options *lo, struct routes_answer *ans)
{
	char authority[DEST_HOST_MAX + 8];
	enum token_source src;
	long status;
	int overflow;

	dest_authority(authority, sizeof authority, d->proxy_host, d->proxy_port);
	enum pom_exit code = token_find(token_buf, sizeof token_buf, topt, authority, &src);
	if (code != EXIT_OK)
		return code;
	code = get_routes(d, lo, src == TOKEN_NONE ? NULL : token_buf, ans, &overflow, &status);
	if (code == EXIT_OK && wants_signin(status) && (src == TOKEN_NONE || src == TOKEN_CACHE)) {
		log_debug(1, "the routes API wants a sign-in (%ld)", status);
		code = sign_in(d, lo, src == TOKEN_CACHE ? token_buf : NULL);
		src = TOKEN_CACHE;
		if (code == EXIT_OK)
			code = get_routes(d, lo, token_buf, ans, &overflow, &status);
	}
	explicit_bzero(token_buf, sizeof token_buf);
	if (code != EXIT_OK)
		return code;
	if (status != 200)
		return status_exit(authority, status, src);
	if (overflow) {
		log_error("proxy %s sent a routes list larger than 1 MiB", authority);
		return EXIT_PROTOCOL;
	}
	return EXIT_OK;
}

enum pom_exit routes_read(const struct dest *d, const struct token_options *topt,
			  const struct login_options *lo, struct routes_answer *ans,
			  struct route_list *list)
{
	char authority[DEST_HOST_MAX + 8];
	const char *why;
	enum pom_exit code = routes_fetch(d, topt, lo, ans);
	if (code != EXIT_OK)
		return code;
	dest_authority(authority, sizeof authority, d->proxy_host, d->proxy_port);
	int rc = routes_parse(ans->body, ans->len, list, &why);
	if (rc == -2)
		return EXIT_LOCAL;
	if (rc < 0) {
		log_error("proxy %s answered the routes request with something else: %s",
			  authority, why);
		return EXIT_PROTOCOL;
	}
	if (list->dropped)
		log_warn("%zu of proxy %s's routes left out (more than %d, or unusable fields)",
			 list->dropped, authority, ROUTES_MAX);
	return EXIT_OK;
}

enum pom_exit routes_auth(const struct dest *d, const struct token_options *topt,
			  const struct login_options *lo)
{
	static struct routes_answer ans;
	char authority[DEST_HOST_MAX + 8];
	enum token_source src;
	long status = 0;
	int overflow;

	dest_authority(authority, sizeof authority, d->proxy_host, d->proxy_port);
	enum pom_exit code = token_find(token_buf, sizeof token_buf, topt, authority, &src);
	if (code == EXIT_OK && src != TOKEN_NONE)
		code = get_routes(d, lo, token_buf, &ans, &overflow, &status);
	explicit_bzero(ans.body, sizeof ans.body);
	if (code == EXIT_OK && (src == TOKEN_NONE || (wants_signin(status) && src == TOKEN_CACHE))) {
		log_debug(1, "auth: %s", src == TOKEN_NONE ? "no token at hand" : "token refused");
		code = sign_in(d, lo, src == TOKEN_CACHE ? token_buf : NULL);
		status = 200;
	} else if (code == EXIT_OK && (status == 404 || status == 405)) {
		log_warn("proxy %s cannot check the token (its routes API answered %ld): "
			 "printing it unchecked", authority, status);
		status = 200;
	}
	if (code == EXIT_OK && status != 200)
		code = status_exit(authority, status, src);
	if (code == EXIT_OK) {
		printf("%s\n", token_buf);
		if (fflush(stdout) != 0) {
			log_error("cannot write the token to stdout");
			code = EXIT_LOCAL;
		}
	}
	explicit_bzero(token_buf, sizeof token_buf);
	return code;
}
