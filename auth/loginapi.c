#include "loginapi.h"

#include <string.h>

#define LOGINAPI_BODY_MAX 8192

/* A sign-in URL must be a printable http(s) URL. */
static int signin_url_ok(const char *u)
{
	if (strncmp(u, "https://", 8) != 0 && strncmp(u, "http://", 7) != 0)
		return 0;
	for (; *u; u++)
		if ((unsigned char)*u <= 0x20 || (unsigned char)*u >= 0x7f)
			return 0;
	return 1;
}

enum pom_exit loginapi_signin_url(const struct dest *d, const char *redirect_uri,
				  const struct httpget_settings *tls, char *url, size_t size)
{
	static char data[LOGINAPI_BODY_MAX];
	struct httpget_body body = { data, sizeof data, 0, 0 };
	struct httpget_request rq = { "sign-in", "/.pomerium/api/v1/login",
				      "pomerium_redirect_uri", redirect_uri, NULL, NULL };
	char base[DEST_HOST_MAX + 32];
	long status;
	enum pom_exit code = httpget(d, &rq, tls, &body, &status);
	if (code != EXIT_OK)
		return code;
	httpget_base_url(d, base, sizeof base);
	if (status != 200) {
		log_error("sign-in: the login API of %s answered %ld%s", base, status,
			  status == 400 ? " (it refused the loopback redirect address)" :
			  status == 404 ? " (no login API here: is this a Pomerium proxy?)" : "");
		return EXIT_PROTOCOL;
	}
	if (body.overflow || body.len == 0 || body.len >= size || !signin_url_ok(body.data)) {
		log_error("sign-in: the login API of %s did not answer with a sign-in URL", base);
		return EXIT_PROTOCOL;
	}
	memcpy(url, body.data, body.len + 1);
	return EXIT_OK;
}
