#include "session.h"
#include "bigendian.h"
#include "log.h"
#include "privfile.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define SESSION_MAGIC "pomsess1"
/* magic 8, digest 32, created 8, version 2, suite 2, id_len 1, id 32, master 48 */
#define SESSION_FILE_LEN (8 + 32 + 8 + 2 + 2 + 1 + 32 + 48)

void session_bind(struct session_binding *b, const struct dest *d,
		  const unsigned char trust_id[32])
{
	br_sha256_context h;
	unsigned char port[2];
	dest_authority(b->authority, sizeof b->authority, d->proxy_host, d->proxy_port);
	be_put(port, d->proxy_port, 2);
	br_sha256_init(&h);
	br_sha256_update(&h, SESSION_MAGIC, 8);
	br_sha256_update(&h, d->proxy_host, strlen(d->proxy_host) + 1);
	br_sha256_update(&h, port, 2);
	/* how the name was checked: DNS name (SNI) or IP SAN */
	br_sha256_update(&h, d->proxy_ip_family ? "ip" : "dns", d->proxy_ip_family ? 3 : 4);
	br_sha256_update(&h, trust_id, 32);
	br_sha256_out(&h, b->digest);
}

static int session_path(const struct session_binding *b, char *buf, size_t size, int create)
{
	char dir[4096];
	if (privfile_subdir(dir, sizeof dir, "sessions", create) < 0)
		return -1;
	int n = snprintf(buf, size, "%s/%s", dir, b->authority);
	return (n < 0 || (size_t)n >= size) ? -1 : 0;
}

int session_load(const struct session_binding *b, br_ssl_session_parameters *sp)
{
	char path[4200];
	unsigned char f[SESSION_FILE_LEN + 1];
	if (session_path(b, path, sizeof path, 0) < 0)
		return 0;
	ssize_t n = privfile_read(path, f, sizeof f);
	if (n < 0) {
		if (errno != ENOENT)
			log_debug(1, "TLS session file %s unusable: %s", path, strerror(errno));
		return 0;
	}
	long long now = (long long)time(NULL);
	long long created = (long long)be_get(f + 40, 8);
	unsigned id_len = n == SESSION_FILE_LEN ? f[52] : 0;
	if (n != SESSION_FILE_LEN || memcmp(f, SESSION_MAGIC, 8) != 0 || id_len == 0 ||
	    id_len > 32) {
		log_debug(1, "TLS session file %s is corrupt: removed", path);
		privfile_remove(path);
		return 0;
	}
	if (memcmp(f + 8, b->digest, 32) != 0) {
		log_debug(1, "TLS session for %s was made under other settings", b->authority);
		return 0;
	}
	if (created > now || now - created >= SESSION_TTL) {
		log_debug(1, "TLS session for %s has expired", b->authority);
		privfile_remove(path);
		return 0;
	}
	memset(sp, 0, sizeof *sp);
	sp->version = (uint16_t)be_get(f + 48, 2);
	sp->cipher_suite = (uint16_t)be_get(f + 50, 2);
	sp->session_id_len = (unsigned char)id_len;
	memcpy(sp->session_id, f + 53, 32);
	memcpy(sp->master_secret, f + 85, 48);
	explicit_bzero(f, sizeof f);
	return 1;
}

void session_store(const struct session_binding *b, const br_ssl_session_parameters *sp)
{
	char path[4200];
	unsigned char f[SESSION_FILE_LEN];
	if (sp->session_id_len == 0 || sp->session_id_len > 32)
		return; /* the server does not do session IDs */
	if (session_path(b, path, sizeof path, 1) < 0) {
		log_debug(1, "cannot keep the TLS session: %s", strerror(errno));
		return;
	}
	memcpy(f, SESSION_MAGIC, 8);
	memcpy(f + 8, b->digest, 32);
	be_put(f + 40, (unsigned long long)time(NULL), 8);
	be_put(f + 48, sp->version, 2);
	be_put(f + 50, sp->cipher_suite, 2);
	f[52] = sp->session_id_len;
	memset(f + 53, 0, 32);
	memcpy(f + 53, sp->session_id, sp->session_id_len);
	memcpy(f + 85, sp->master_secret, 48);
	if (privfile_write(path, f, sizeof f) < 0)
		log_debug(1, "cannot keep the TLS session in %s: %s", path, strerror(errno));
	explicit_bzero(f, sizeof f);
}

void session_forget(const struct session_binding *b)
{
	char path[4200];
	if (session_path(b, path, sizeof path, 0) == 0)
		privfile_remove(path);
}
