#include "trustplace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *const system_bundles[] = {
	"/etc/ssl/certs/ca-certificates.crt",                /* Debian, Ubuntu, Arch, Gentoo */
	"/etc/pki/tls/certs/ca-bundle.crt",                  /* Fedora, RHEL 6 */
	"/etc/ssl/ca-bundle.pem",                            /* openSUSE */
	"/etc/pki/tls/cacert.pem",                           /* OpenELEC */
	"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", /* CentOS, RHEL 7 */
	"/etc/ssl/cert.pem",                                 /* Alpine, BSDs, macOS */
};
static const char system_dir[] = "/etc/ssl/certs";

/* Append a place to the list printed when no anchor loads. */
static void searched_add(struct trustplaces *ss, const char *path)
{
	size_t n = strlen(ss->searched);
	snprintf(ss->searched + n, sizeof ss->searched - n, "%s%s", n ? ", " : "", path);
}

int trustplace_resolve(struct trustplaces *ss, const struct trust_sources *src)
{
	const char *file = getenv("SSL_CERT_FILE");
	const char *dirs = getenv("SSL_CERT_DIR");
	size_t cap = 2;
	struct stat st;

	memset(ss, 0, sizeof *ss);
	if (file && !*file)
		file = NULL;
	if (dirs && !*dirs)
		dirs = NULL;
	if (dirs) {
		for (const char *p = dirs; *p; p++)
			cap += *p == ':';
		cap++;
		ss->dirs = strdup(dirs);
		if (!ss->dirs)
			return -1;
	}
	ss->v = calloc(cap, sizeof *ss->v);
	if (!ss->v) {
		free(ss->dirs);
		return -1;
	}
	if (file || dirs) {
		if (file) {
			ss->v[ss->n++] = (struct trustplace){file, 0, "SSL_CERT_FILE"};
			searched_add(ss, file);
		}
		for (char *p = ss->dirs, *next; p; p = next) {
			next = strchr(p, ':');
			if (next)
				*next++ = '\0';
			if (!*p)
				continue;
			ss->v[ss->n++] = (struct trustplace){p, 1, NULL};
			searched_add(ss, p);
		}
	} else {
		for (size_t i = 0; i < sizeof system_bundles / sizeof system_bundles[0]; i++) {
			searched_add(ss, system_bundles[i]);
			if (stat(system_bundles[i], &st) == 0 && S_ISREG(st.st_mode)) {
				ss->v[ss->n++] = (struct trustplace){system_bundles[i], 0, NULL};
				break;
			}
		}
		if (ss->n == 0) {
			ss->v[ss->n++] = (struct trustplace){system_dir, 1, NULL};
			searched_add(ss, system_dir);
		}
	}
	if (src->alternate_ca_path)
		ss->v[ss->n++] = (struct trustplace){src->alternate_ca_path, 0, "--alternate-ca-path"};
	ss->ca_b64 = src->ca_cert_b64;
	return 0;
}

void trustplace_release(struct trustplaces *ss)
{
	free(ss->v);
	free(ss->dirs);
	memset(ss, 0, sizeof *ss);
}
