/* libFuzzer target: the files pom-proxy reads back — the decoded trust
 * anchor cache (after a valid header, so the fuzzer reaches the entries),
 * a PEM bundle given as SSL_CERT_FILE (through br_x509_decoder and the
 * anchor copy), the TLS session file and the cached token file. */
#include "session.h"
#include "token.h"
#include "trust.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256], bundle[300], anchors[512];
static unsigned char header[48];

static void put(const char *path, const void *a, size_t al, const void *b, size_t bl)
{
	FILE *f = fopen(path, "w");
	if (!f)
		abort();
	fwrite(a, 1, al, f);
	fwrite(b, 1, bl, f);
	fclose(f);
	chmod(path, 0600);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(dir, sizeof dir, "/tmp/pom-fuzz-files-%d", (int)getpid());
	mkdir(dir, 0700);
	setenv("XDG_CACHE_HOME", dir, 1);
	unsetenv("SSL_CERT_DIR");
	snprintf(bundle, sizeof bundle, "%s/bundle.pem", dir);
	setenv("SSL_CERT_FILE", bundle, 1);
	/* one real certificate, so the cache has a valid header to start from */
	const char *ca = getenv("FUZZ_CA");
	if (!ca || access(ca, R_OK) != 0) {
		fprintf(stderr, "fuzz_files: set FUZZ_CA to a PEM CA certificate\n");
		exit(1);
	}
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "cp '%s' '%s'", ca, bundle);
	if (system(cmd) != 0)
		exit(1);
	struct trust_store ts;
	struct trust_sources src = { NULL, NULL, 1 };
	if (trust_load(&ts, &src) < 0)
		exit(1);
	trust_free(&ts);
	snprintf(cmd, sizeof cmd, "ls %s/pom-proxy/anchors-* > %s/name", dir, dir);
	if (system(cmd) != 0)
		exit(1);
	char namefile[300];
	snprintf(namefile, sizeof namefile, "%s/name", dir);
	FILE *f = fopen(namefile, "r");
	if (!f || !fgets(anchors, sizeof anchors, f))
		exit(1);
	fclose(f);
	anchors[strcspn(anchors, "\n")] = '\0';
	f = fopen(anchors, "r");
	if (!f || fread(header, 1, 44, f) != 44)
		exit(1);
	fclose(f);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct trust_store ts;
	struct trust_sources cached = { NULL, NULL, 1 };
	char tok[TOKEN_MAX + 1];
	enum token_source src;
	struct token_options none = { NULL, NULL };
	if (size == 0)
		return 0;
	switch (data[0] % 4) {
	case 0: /* the anchor cache: valid header, fuzzed count and entries */
		put(anchors, header, 44, data + 1, size - 1);
		if (trust_load(&ts, &cached) == 0)
			trust_free(&ts);
		break;
	case 1: { /* a PEM bundle decoded without the cache */
		struct trust_sources nocache = { NULL, NULL, 0 };
		put(bundle, data + 1, size - 1, "", 0);
		if (trust_load(&ts, &nocache) == 0)
			trust_free(&ts);
		put(bundle, "", 0, "", 0);
		break;
	}
	case 2: { /* the session file */
		struct dest d;
		struct session_binding b;
		unsigned char id[32] = { 0 };
		br_ssl_session_parameters sp;
		char path[512];
		memset(&d, 0, sizeof d);
		strcpy(d.proxy_host, "proxy.test");
		d.proxy_port = 443;
		session_bind(&b, &d, id);
		snprintf(path, sizeof path, "%s/pom-proxy/sessions", dir);
		mkdir(path, 0700);
		snprintf(path, sizeof path, "%s/pom-proxy/sessions/proxy.test:443", dir);
		put(path, data + 1, size - 1, "", 0);
		if (session_load(&b, &sp) == 1 && (sp.session_id_len == 0 || sp.session_id_len > 32))
			abort();
		break;
	}
	default: /* the cached token */
		if (token_cache_path(tok, sizeof tok, "proxy.test:443", 1) < 0)
			abort();
		put(tok, data + 1, size - 1, "", 0);
		if (token_find(tok, sizeof tok, &none, "proxy.test:443", &src) != EXIT_OK)
			abort();
		if (src == TOKEN_CACHE && !token_chars_ok(tok))
			abort();
		break;
	}
	return 0;
}
