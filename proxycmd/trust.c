#include "trust.h"
#include "anchorcache.h"
#include "log.h"
#include "trustsrc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Decode every source, write the cache when path is not NULL, and build
 * ts. Returns 0, or -1 after log_error. */
static int load_sources(struct trust_store *ts, const struct trustplaces *ss, const char *path)
{
	struct anchor_blob b = {0};
	unsigned char digest[32];
	int r = -1;

	anchorblob_start(&b);
	if (trustsrc_decode(ss, &b, digest) < 0)
		goto out;
	if (b.count == 0) {
		log_error("no CA certificate found (searched %s): --alternate-ca-path FILE "
			  "or SSL_CERT_FILE can provide trust anchors", ss->searched);
		goto out;
	}
	if (anchorblob_finish(&b, digest, ts) < 0) {
		log_error("trust store: cannot index the decoded anchors");
		goto out;
	}
	if (path)
		anchorcache_store(ts, path);
	log_debug(1, "trust: %zu anchors decoded from the sources (%zu duplicates dropped)",
		  ts->count, b.dups);
	r = 0;
out:
	anchorblob_release(&b);
	return r;
}

int trust_load(struct trust_store *ts, const struct trust_sources *src)
{
	struct trustplaces ss;
	unsigned char config[32], digest[32];
	char path[4096];
	int have_path = 0, r = 1;

	memset(ts, 0, sizeof *ts);
	if (trustplace_resolve(&ss, src) < 0) {
		log_error("trust store: out of memory");
		return -1;
	}
	if (src->use_cache) {
		trustsrc_config_digest(&ss, config);
		if (anchorcache_path(path, sizeof path, config) == 0)
			have_path = 1;
		else
			log_debug(1, "trust: no cache directory: %s", strerror(errno));
	}
	if (have_path)
		r = trustsrc_identity(&ss, digest) < 0 ? -1 : anchorcache_load(ts, path, digest);
	if (r == 1)
		r = load_sources(ts, &ss, have_path ? path : NULL);
	trustplace_release(&ss);
	return r;
}

void trust_system_paths(const char **bundle, const char **dir)
{
	struct trust_sources none = { NULL, NULL, 0 };
	struct trustplaces ss;
	*bundle = *dir = NULL;
	if (trustplace_resolve(&ss, &none) < 0)
		return;
	/* the paths point at the environment or at static strings, except
	 * the split copy of SSL_CERT_DIR: hand out the variable itself */
	for (size_t i = 0; i < ss.n; i++) {
		if (!ss.v[i].is_dir && !*bundle)
			*bundle = ss.v[i].path;
		else if (ss.v[i].is_dir && !*dir)
			*dir = ss.dirs ? getenv("SSL_CERT_DIR") : ss.v[i].path;
	}
	trustplace_release(&ss);
}

int trust_config_id(const struct trust_sources *src, unsigned char id[32])
{
	struct trustplaces ss;
	if (trustplace_resolve(&ss, src) < 0)
		return -1;
	trustsrc_config_digest(&ss, id);
	trustplace_release(&ss);
	return 0;
}

void trust_free(struct trust_store *ts)
{
	free(ts->anchors);
	free(ts->storage);
	memset(ts, 0, sizeof *ts);
}
