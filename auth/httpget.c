#include "httpget.h"
#include "readfile.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fwdproxy.h"
#include "pem.h"
#include "base64.h"
#include "tls.h"
#include "token.h"
#include "trust.h"
#include "trustsrc.h"

#ifndef POM_CURL_STATIC
#include <dlfcn.h>
#endif

#define HTTPGET_CA_MAX (8u << 20)

/* The few libcurl entry points used, resolved at run time. */
struct curl_api {
	CURLcode (*global_init)(long);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	void (*easy_cleanup)(CURL *);
	const char *(*easy_strerror)(CURLcode);
	char *(*easy_escape)(CURL *, const char *, int);
	void (*free)(void *);
	curl_version_info_data *(*version_info)(CURLversion);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
};

#ifdef POM_CURL_STATIC
static int curl_load(struct curl_api *c)
{
	c->global_init = curl_global_init;
	c->easy_init = curl_easy_init;
	c->easy_setopt = curl_easy_setopt;
	c->easy_perform = curl_easy_perform;
	c->easy_getinfo = curl_easy_getinfo;
	c->easy_cleanup = curl_easy_cleanup;
	c->easy_strerror = curl_easy_strerror;
	c->easy_escape = curl_easy_escape;
	c->free = curl_free;
	c->version_info = curl_version_info;
	c->slist_append = curl_slist_append;
	c->slist_free_all = curl_slist_free_all;
	return 0;
}
#else
static int curl_load(struct curl_api *c)
{
	static const char *names[] = { "libcurl.so.4", "libcurl-gnutls.so.4", "libcurl.so" };
	void *h = NULL;
	for (size_t i = 0; !h && i < sizeof names / sizeof names[0]; i++)
		h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		log_error("sign-in needs libcurl, which is not installed "
			  "(Debian: apt-get install libcurl4)");
		return -1;
	}
	/* POSIX lets a void * from dlsym become a function pointer this way */
	*(void **)&c->global_init = dlsym(h, "curl_global_init");
	*(void **)&c->easy_init = dlsym(h, "curl_easy_init");
	*(void **)&c->easy_setopt = dlsym(h, "curl_easy_setopt");
	*(void **)&c->easy_perform = dlsym(h, "curl_easy_perform");
	*(void **)&c->easy_getinfo = dlsym(h, "curl_easy_getinfo");
	*(void **)&c->easy_cleanup = dlsym(h, "curl_easy_cleanup");
	*(void **)&c->easy_strerror = dlsym(h, "curl_easy_strerror");
	*(void **)&c->easy_escape = dlsym(h, "curl_easy_escape");
	*(void **)&c->free = dlsym(h, "curl_free");
	*(void **)&c->version_info = dlsym(h, "curl_version_info");
	*(void **)&c->slist_append = dlsym(h, "curl_slist_append");
	*(void **)&c->slist_free_all = dlsym(h, "curl_slist_free_all");
	if (!c->global_init || !c->easy_init || !c->easy_setopt || !c->easy_perform ||
	    !c->easy_getinfo || !c->easy_cleanup || !c->easy_strerror || !c->easy_escape ||
	    !c->free || !c->version_info || !c->slist_append || !c->slist_free_all) {
		log_error("the installed libcurl lacks functions pom-proxy needs");
		return -1;
	}
	return 0;
}
#endif

int httpget_base_url(const struct dest *d, char *buf, size_t size)
{
	const char *scheme = d->tls ? "https" : "http";
	int dflt = d->proxy_port == (d->tls ? 443u : 80u);
	int v6 = d->proxy_ip_family == 6;
	int n;
	if (dflt)
		n = snprintf(buf, size, "%s://%s%s%s", scheme, v6 ? "[" : "", d->proxy_host,
			     v6 ? "]" : "");
	else
		n = snprintf(buf, size, "%s://%s%s%s:%u", scheme, v6 ? "[" : "", d->proxy_host,
			     v6 ? "]" : "", d->proxy_port);
	return (n < 0 || (size_t)n >= size) ? -1 : n;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct httpget_body *b = arg;
	size_t len = size * n;
	if (len > b->size - 1 - b->len) {
		b->overflow = 1;
		return 0; /* makes curl stop with CURLE_WRITE_ERROR */
	}
	memcpy(b->data + b->len, p, len);
	b->len += len;
	b->data[b->len] = '\0';
	return len;
}

/* Append the file at path, and a newline, to the growing PEM text *buf
 * (at most HTTPGET_CA_MAX bytes in all). */
static int append_file(char **buf, size_t *len, const char *path)
{
	struct stat st;
	size_t n;
	char *text = readfile_alloc(AT_FDCWD, path, 0, HTTPGET_CA_MAX, &st, &n);
	char *nb = text && *len + n + 2 <= HTTPGET_CA_MAX ? realloc(*buf, *len + n + 2) : NULL;
	if (nb) {
		*buf = nb;
		memcpy(nb + *len, text, n);
		*len += n;
		nb[(*len)++] = '\n';
	}
	free(text);
	return nb ? 0 : -1;
}

/* Append every certificate file of the colon-separated directories
 * (hashed names, as OpenSSL's CApath) to the PEM text *buf. */
static int append_dirs(char **buf, size_t *len, const char *dirs)
{
	char list[4096], path[4400];
	snprintf(list, sizeof list, "%s", dirs);
	for (char *save = NULL, *d = strtok_r(list, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		DIR *dp = opendir(d);
		struct dirent *e;
		if (!dp)
			continue;
		while ((e = readdir(dp)) != NULL) {
			if (!trustsrc_hashed_name(e->d_name)) /* as the tunnel reads it */
				continue;
			snprintf(path, sizeof path, "%s/%s", d, e->d_name);
			if (append_file(buf, len, path) < 0 && errno == ENOMEM) {
				closedir(dp);
				return -1;
			}
		}
		closedir(dp);
	}
	return 0;
}

/* The CA text for curl: the system bundle (as the trust module chose it)
 * plus the extras, so that the sign-in trusts what the tunnel trusts. A
 * NULL return with *len 0 means there is nothing (a directory alone). */
static char *ca_blob(const struct httpget_settings *t, size_t *len, int *bad)
{
	char *buf = NULL;
	*len = 0;
	*bad = 0;
	if (t->ca_bundle && append_file(&buf, len, t->ca_bundle) < 0)
		log_debug(1, "sign-in: cannot read the CA bundle %s", t->ca_bundle);
	if (t->alternate_ca_path && append_file(&buf, len, t->alternate_ca_path) < 0) {
		log_error("cannot read --alternate-ca-path %s", t->alternate_ca_path);
		free(buf);
		*bad = 1;
		return NULL;
	}
	if (t->ca_cert_b64) {
		size_t in = strlen(t->ca_cert_b64);
		char *nb = realloc(buf, *len + in + 2);
		long n = nb ? base64_decode(BASE64_PEM, t->ca_cert_b64, in, (unsigned char *)nb + *len,
						in + 1) : -1;
		if (n < 0) {
			log_error("--ca-cert: not base64 of a PEM text");
			free(nb ? nb : buf);
			*bad = 1;
			return NULL;
		}
		buf = nb;
		*len += (size_t)n;
		buf[(*len)++] = '\n';
	}
	return buf;
}

/* libcurl's progress hook: give up when Ctrl-C, SIGTERM or SIGHUP is
 * pending (the sign-in keeps them blocked until it waits in ppoll). */
static int on_progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	sigset_t pending;
	(void)arg, (void)a, (void)b, (void)c, (void)d;
	sigpending(&pending);
	return sigismember(&pending, SIGINT) == 1 || sigismember(&pending, SIGTERM) == 1 ||
	       sigismember(&pending, SIGHUP) == 1;
}

/* libcurl on BearSSL ignores CURLOPT_SSLCERT/SSLKEY but hands its
 * br_ssl_client_context to this hook before each handshake. */
static CURLcode present_identity(CURL *h, void *ssl_ctx, void *arg)
{
	(void)h;
	tls_identity_apply(ssl_ctx, arg);
	return CURLE_OK;
}

/* Point the handle at the tunnel's anchors (none of libcurl's defaults),
 * or at none with --disable-tls-verification. *blob is the CA text it
 * refers to, freed by the caller after the transfer. */
static enum pom_exit set_trust(const struct curl_api *c, CURL *h, const struct httpget_settings *s,
			       const char *what, char **blob)
{
	size_t blob_len = 0;
	int bad;
	if (s->insecure) {
		c->easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		c->easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
		c->easy_setopt(h, CURLOPT_PROXY_SSL_VERIFYPEER, 0L);
		c->easy_setopt(h, CURLOPT_PROXY_SSL_VERIFYHOST, 0L);
		return EXIT_OK;
	}
	c->easy_setopt(h, CURLOPT_CAINFO, NULL);
	c->easy_setopt(h, CURLOPT_CAPATH, NULL);
	c->easy_setopt(h, CURLOPT_PROXY_CAINFO, NULL);
	c->easy_setopt(h, CURLOPT_PROXY_CAPATH, NULL);
	*blob = ca_blob(s, &blob_len, &bad);
	if (bad)
		return EXIT_USAGE;
	if (s->ca_dir && c->easy_setopt(h, CURLOPT_CAPATH, s->ca_dir) == CURLE_OK) {
		c->easy_setopt(h, CURLOPT_PROXY_CAPATH, s->ca_dir);
	} else if (s->ca_dir && append_dirs(blob, &blob_len, s->ca_dir) < 0) {
		/* a libcurl without CA directories (BearSSL): their
		 * certificates go into the blob instead */
		log_error("%s: cannot read the CA directory %s", what, s->ca_dir);
		return EXIT_LOCAL;
	}
	if (*blob) {
		struct curl_blob cb = { *blob, blob_len, CURL_BLOB_NOCOPY };
		c->easy_setopt(h, CURLOPT_CAINFO_BLOB, &cb);
		c->easy_setopt(h, CURLOPT_PROXY_CAINFO_BLOB, &cb);
	}
	return EXIT_OK;
}

/* The exit class of a failed transfer. */
static enum pom_exit transfer_exit(CURLcode rc)
{
	return (rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_RESOLVE_PROXY) ? EXIT_DNS
	     : (rc == CURLE_COULDNT_CONNECT || rc == CURLE_OPERATION_TIMEDOUT) ? EXIT_CONNECT
	     : (rc == CURLE_PEER_FAILED_VERIFICATION) ? EXIT_VERIFY
	     : (rc == CURLE_SSL_CONNECT_ERROR) ? EXIT_TLS : EXIT_PROTOCOL;
}

enum pom_exit httpget(const struct dest *d, const struct httpget_request *rq,
		      const struct httpget_settings *s, struct httpget_body *body, long *status)
{
	struct curl_api c;
	char base[DEST_HOST_MAX + 32], full[1024], accept[128];
	static char auth[TOKEN_MAX + 64];
	enum pom_exit code = EXIT_PROTOCOL;
	char *blob = NULL, *esc = NULL, userpwd[512] = "";
	struct curl_slist *headers = NULL, *more;
	struct tls_identity identity;
	int have_identity = 0, n;

	*status = 0;
	if (curl_load(&c) < 0)
		return EXIT_LOCAL;
	if (c.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_error("cannot initialise libcurl");
		return EXIT_LOCAL;
	}
	CURL *h = c.easy_init();
	if (!h) {
		log_error("cannot initialise libcurl");
		return EXIT_LOCAL;
	}
	if (httpget_base_url(d, base, sizeof base) < 0 ||
	    (rq->query_name && !(esc = c.easy_escape(h, rq->query_value, 0))))
		n = -1;
	else
		n = snprintf(full, sizeof full, "%s%s%s%s%s%s", base, rq->path, esc ? "?" : "",
			     esc ? rq->query_name : "", esc ? "=" : "", esc ? esc : "");
	if (n < 0 || n >= (int)sizeof full) {
		log_error("%s: cannot build the URL for %s", rq->what, d->proxy_host);
		code = EXIT_LOCAL;
		goto out;
	}
	if (rq->accept) {
		snprintf(accept, sizeof accept, "Accept: %s", rq->accept);
		headers = c.slist_append(headers, accept);
	}
	if (rq->token) {
		snprintf(auth, sizeof auth, "Authorization: Pomerium %s", rq->token);
		more = c.slist_append(headers, auth); /* libcurl keeps a copy */
		explicit_bzero(auth, sizeof auth);
		if (!more) {
			log_error("%s: out of memory", rq->what);
			code = EXIT_LOCAL;
			goto out;
		}
		headers = more;
	}
	body->len = 0;
	body->overflow = 0;
	body->data[0] = '\0';
	c.easy_setopt(h, CURLOPT_URL, full);
	c.easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	c.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	c.easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	c.easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)s->connect_timeout_ms);
	c.easy_setopt(h, CURLOPT_TIMEOUT_MS, 30000L);
	c.easy_setopt(h, CURLOPT_USERAGENT, "pom-proxy/" POM_VERSION);
	c.easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	c.easy_setopt(h, CURLOPT_WRITEDATA, body);
	c.easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	c.easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	c.easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (headers)
		c.easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	code = set_trust(&c, h, s, rq->what, &blob);
	if (code != EXIT_OK)
		goto out;
	code = EXIT_PROTOCOL;
	if (s->proxy) {
		/* an explicit --proxy wins over the environment, no_proxy included */
		c.easy_setopt(h, CURLOPT_PROXY, strcmp(s->proxy, "-") ? s->proxy : "");
		c.easy_setopt(h, CURLOPT_NOPROXY, "");
	}
	if (s->proxy_cred_file &&
	    fwdproxy_read_credentials(s->proxy_cred_file, userpwd, sizeof userpwd) < 0) {
		log_error("cannot read forward proxy credentials from %s", s->proxy_cred_file);
		code = EXIT_USAGE;
		goto out;
	}
	if (userpwd[0])
		c.easy_setopt(h, CURLOPT_PROXYUSERPWD, userpwd); /* libcurl keeps a copy */
	if (s->client_cert) {
		const curl_version_info_data *vi = c.version_info(CURLVERSION_NOW);
		if (vi && vi->ssl_version && strncmp(vi->ssl_version, "BearSSL", 7) == 0) {
			if (tls_identity_load(&identity, s->client_cert, s->client_key) < 0) {
				code = EXIT_LOCAL;
				goto out;
			}
			have_identity = 1;
			c.easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, present_identity);
			c.easy_setopt(h, CURLOPT_SSL_CTX_DATA, &identity);
		} else {
			c.easy_setopt(h, CURLOPT_SSLCERT, s->client_cert);
			c.easy_setopt(h, CURLOPT_SSLKEY, s->client_key);
		}
	}
	log_debug(1, "%s: GET %s%s", rq->what, base, rq->path);
	CURLcode rc = c.easy_perform(h);
	c.easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	if (rc == CURLE_ABORTED_BY_CALLBACK) {
		log_error("%s: abandoned", rq->what);
		code = EXIT_SIGNIN;
	} else if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && body->overflow)) {
		code = transfer_exit(rc);
		log_error("%s: cannot reach %s%s: %s", rq->what, base, rq->path, c.easy_strerror(rc));
	} else {
		code = EXIT_OK;
	}
out:
	if (esc)
		c.free(esc);
	c.slist_free_all(headers); /* the copy of the token: libcurl frees, cannot wipe */
	c.easy_cleanup(h);
	if (have_identity)
		tls_identity_free(&identity);
	free(blob);
	explicit_bzero(userpwd, sizeof userpwd);
	return code;
}
