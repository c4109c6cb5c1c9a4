/* pom-proxy: the command line, and one tunnel over stdin/stdout. */
#include "dest.h"
#include "log.h"
#include "net.h"
#include "splice.h"
#include "tls.h"
#include "token.h"
#include "trust.h"
#include "tunnel.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef POM_VERSION
#define POM_VERSION "dev"
#endif

static const char usage_text[] =
"usage: pom-proxy [options] DEST\n"
"       pom-proxy tcp [options] DEST\n"
"\n"
"Tunnel stdin/stdout to DEST through a Pomerium proxy (for ssh's ProxyCommand:\n"
"  ProxyCommand pom-proxy %h:%p).\n"
"\n"
"DEST: host:port (proxy = https://host), tcp+https://host:port,\n"
"      https://proxy[:port]/host:port, http://... (plain TCP to the proxy);\n"
"      IPv6 as [addr]:port.\n"
"\n"
"options:\n"
"  --pomerium-url URL          the proxy to use for DEST\n"
"  --listen -                  tunnel over stdin/stdout (the default)\n"
"  --alternate-ca-path FILE    PEM CA certificate(s) trusted besides the system store\n"
"  --ca-cert BASE64PEM         same, inline as base64 of a PEM text\n"
"  --disable-tls-verification  do not verify the proxy's certificate\n"
"  --client-cert FILE          PEM client certificate chain (mutual TLS)\n"
"  --client-key FILE           its PEM private key (RSA or EC)\n"
"  --service-account JWT       token to send (visible in ps: prefer the file)\n"
"  --service-account-file PATH read the token from PATH\n"
"  --connect-timeout SECONDS   limit for TCP connect and for TLS + CONNECT (10)\n"
"  -v, --verbose               diagnostics on stderr (-vv: more)\n"
"  -h, --help                  this text\n"
"  --version                   the version\n"
"\n"
"environment: POM_PROXY_SERVICE_ACCOUNT, POM_PROXY_SERVICE_ACCOUNT_FILE,\n"
"  XDG_CACHE_HOME, SSL_CERT_FILE, SSL_CERT_DIR, LOG_LEVEL=info|debug\n"
"\n"
"exit codes: 0 ok, 1 tunnel broke, 2 usage, 3 local error, 4 DNS, 5 connect,\n"
"  6 TLS handshake, 7 certificate not trusted, 8 sign-in required (302/401),\n"
"  9 denied (403), 10 no route (404), 11 upstream unreachable (502/503/504),\n"
"  12 client certificate or device refused (495/450), 13 bad or no answer\n";

struct options {
	const char *dest;
	const char *pomerium_url;
	const char *listen;
	const char *alternate_ca_path;
	const char *ca_cert;
	const char *client_cert;
	const char *client_key;
	struct token_options token;
	int insecure;
	int timeout_s;
	int subcommand_tcp;
};

/* If argv[*i] is --name or --name=value, set *value (taking the next
 * argument for the first form) and return 1; 0 if it is another option. */
static int opt_value(int argc, char **argv, int *i, const char *name, const char **value)
{
	const char *a = argv[*i];
	size_t n = strlen(name);
	if (strncmp(a, name, n) != 0)
		return 0;
	if (a[n] == '=') {
		*value = a + n + 1;
		return 1;
	}
	if (a[n] != '\0')
		return 0;
	if (*i + 1 >= argc)
		die(EXIT_USAGE, "option %s needs a value (see --help)", name);
	*value = argv[++*i];
	return 1;
}

static void parse_args(int argc, char **argv, struct options *o)
{
	const char *v;
	int i = 1;
	o->timeout_s = 10;
	if (argc > 1 && strcmp(argv[1], "tcp") == 0) {
		o->subcommand_tcp = 1;
		i = 2;
	}
	for (; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			fputs(usage_text, stdout);
			exit(EXIT_OK);
		} else if (strcmp(a, "--version") == 0) {
			printf("pom-proxy %s (BearSSL 0.6)\n", POM_VERSION);
			exit(EXIT_OK);
		} else if (strcmp(a, "--verbose") == 0) {
			log_level++;
		} else if (a[0] == '-' && a[1] == 'v' && strspn(a + 1, "v") == strlen(a + 1)) {
			log_level += (int)strlen(a + 1);
		} else if (strcmp(a, "--disable-tls-verification") == 0) {
			o->insecure = 1;
		} else if (opt_value(argc, argv, &i, "--pomerium-url", &o->pomerium_url) ||
			   opt_value(argc, argv, &i, "--listen", &o->listen) ||
			   opt_value(argc, argv, &i, "--alternate-ca-path", &o->alternate_ca_path) ||
			   opt_value(argc, argv, &i, "--ca-cert", &o->ca_cert) ||
			   opt_value(argc, argv, &i, "--client-cert", &o->client_cert) ||
			   opt_value(argc, argv, &i, "--client-key", &o->client_key) ||
			   opt_value(argc, argv, &i, "--service-account", &o->token.service_account) ||
			   opt_value(argc, argv, &i, "--service-account-file",
				     &o->token.service_account_file)) {
			continue;
		} else if (opt_value(argc, argv, &i, "--connect-timeout", &v)) {
			char *end;
			long t = strtol(v, &end, 10);
			if (*v == '\0' || *end != '\0' || t < 1 || t > 3600)
				die(EXIT_USAGE, "--connect-timeout: expected seconds from 1 to 3600, got '%.20s'", v);
			o->timeout_s = (int)t;
		} else if (strcmp(a, "--") == 0 && i + 1 < argc && !o->dest) {
			o->dest = argv[++i];
		} else if (a[0] == '-' && a[1] != '\0') {
			die(EXIT_USAGE, "unknown option '%.60s' (see --help)", a);
		} else if (o->dest) {
			die(EXIT_USAGE, "more than one destination ('%.60s' and '%.60s')", o->dest, a);
		} else {
			o->dest = a;
		}
	}
	if (!o->dest)
		die(EXIT_USAGE, "no destination given (usage: pom-proxy [options] HOST:PORT; see --help)");
	if (!o->listen && o->subcommand_tcp)
		die(EXIT_USAGE, "pom-proxy tcp: listener mode is not available yet; "
		    "use --listen - (stdin/stdout)");
	if (o->listen && strcmp(o->listen, "-") != 0)
		die(EXIT_USAGE, "--listen %.60s: listener mode is not available yet; "
		    "use --listen - (stdin/stdout)", o->listen);
	if (!o->client_cert != !o->client_key)
		die(EXIT_USAGE, "--client-cert and --client-key go together");
	if (o->token.service_account && o->token.service_account_file)
		die(EXIT_USAGE, "give either --service-account or --service-account-file, not both");
}

static void verbosity_from_env(void)
{
	const char *l = getenv("LOG_LEVEL");
	if (!l)
		return;
	if (strcmp(l, "debug") == 0 || strcmp(l, "DEBUG") == 0)
		log_level = log_level < 2 ? 2 : log_level;
	else if (strcmp(l, "info") == 0 || strcmp(l, "INFO") == 0)
		log_level = log_level < 1 ? 1 : log_level;
}

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

/* Catch HUP/TERM/INT into stop_signal, blocked except inside ppoll (whose
 * mask goes to *wait_mask). */
static void setup_signals(sigset_t *wait_mask)
{
	struct sigaction sa;
	sigset_t block;
	memset(&sa, 0, sizeof sa);
	sigemptyset(&block);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, wait_mask);
	sigdelset(wait_mask, SIGHUP);
	sigdelset(wait_mask, SIGTERM);
	sigdelset(wait_mask, SIGINT);
	sa.sa_handler = on_signal;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

/* Per-process state: large, so not on the stack. */
static struct tls_client tls_storage;
static struct splice_plain plain_storage;
static char token_buf[TOKEN_MAX + 1];

/* Run the open tunnel over stdin/stdout and return the exit code. */
static int run_stdio(struct tunnel *t, const struct dest *d)
{
	sigset_t wait_mask;
	struct splice_result res;
	struct splice_fds fds = { STDIN_FILENO, STDOUT_FILENO, t->fd, t->fd };
	int fl_in = net_set_nonblock(STDIN_FILENO);
	int fl_out = net_set_nonblock(STDOUT_FILENO);

	setup_signals(&wait_mask);
	splice_run(d->tls ? tls_engine(t->tls) : NULL, t->plain, &fds, &wait_mask,
		   &stop_signal, &res);
	/* leave the descriptors as we found them (they may be a terminal) */
	if (fl_in >= 0)
		fcntl(STDIN_FILENO, F_SETFL, fl_in);
	if (fl_out >= 0)
		fcntl(STDOUT_FILENO, F_SETFL, fl_out);
	log_debug(1, "tunnel ended after %llu bytes up, %llu down", res.up, res.down);
	tunnel_close(t);
	switch (res.end) {
	case SPLICE_PEER_CLOSED:
		log_debug(1, "the proxy closed the tunnel (TLS close_notify)");
		return EXIT_OK;
	case SPLICE_PEER_EOF:
		log_debug(1, "the proxy closed the connection%s", d->tls ? " without close_notify" : "");
		return EXIT_OK;
	case SPLICE_LOCAL_GONE:
		log_debug(1, "the local side closed its output");
		return EXIT_OK;
	case SPLICE_SIGNALLED:
		log_debug(1, "stopped by signal %d", (int)stop_signal);
		return stop_signal == SIGHUP ? EXIT_OK : 128 + (int)stop_signal;
	case SPLICE_TLS_ERROR:
		log_error("tunnel to %s:%u broke: %s", d->dest_host, d->dest_port,
			  tls_error_text(res.tls_error));
		return EXIT_BROKEN;
	default:
		log_error("connection to proxy %s:%u lost: %s", d->proxy_host, d->proxy_port,
			  strerror(res.sys_errno));
		return EXIT_BROKEN;
	}
}

int main(int argc, char **argv)
{
	struct options o;
	struct dest d;
	char err[256], authority[DEST_HOST_MAX + 8];
	enum token_source tsrc;
	struct trust_store ts;
	struct tls_identity id;
	struct tunnel t;

	log_clock_start();
	signal(SIGPIPE, SIG_IGN); /* a closed peer is an error to report, not a death */
	memset(&o, 0, sizeof o);
	memset(&ts, 0, sizeof ts);
	verbosity_from_env();
	parse_args(argc, argv, &o);
	if (dest_parse(&d, o.dest, o.pomerium_url, err, sizeof err) < 0)
		die(EXIT_USAGE, "%s", err);
	dest_authority(authority, sizeof authority, d.proxy_host, d.proxy_port);
	log_debug(1, "pom-proxy %s: %s:%u via %s://%s", POM_VERSION, d.dest_host, d.dest_port,
		  d.tls ? "https" : "http", authority);

	if (o.insecure && d.tls)
		log_warn("--disable-tls-verification: the proxy's certificate is NOT verified; "
			 "anyone on the path can read the tunnel and the token");
	if (o.token.service_account)
		log_warn("--service-account puts the token in the process list (ps); "
			 "prefer --service-account-file");
	if (!d.tls && !o.insecure)
		log_warn("http:// proxy %s: the tunnel and the token travel unencrypted", authority);

	if (token_find(token_buf, sizeof token_buf, &o.token, authority, &tsrc) < 0)
		return EXIT_USAGE;
	log_debug(1, "token: %s", tsrc == TOKEN_NONE ? "none" : token_source_name(tsrc));

	struct tls_params tp;
	memset(&tp, 0, sizeof tp);
	tp.insecure = o.insecure;
	if (d.tls && !o.insecure) {
		struct trust_sources src = { o.alternate_ca_path, o.ca_cert, 1 };
		double t0 = log_elapsed_ms();
		if (trust_load(&ts, &src) < 0)
			return EXIT_LOCAL;
		log_debug(1, "%zu trust anchors %s in %.2f ms", ts.count,
			  ts.from_cache ? "from the anchor cache" : "decoded", log_elapsed_ms() - t0);
		tp.tas = ts.anchors;
		tp.ta_count = ts.count;
	}
	if (o.client_cert) {
		if (tls_identity_load(&id, o.client_cert, o.client_key) < 0)
			return EXIT_LOCAL;
		tp.identity = &id;
	}

	struct tunnel_config cfg = { &d, tsrc == TOKEN_NONE ? NULL : token_buf, &tp,
				     o.timeout_s * 1000 };
	t.tls = &tls_storage;
	t.plain = &plain_storage;
	enum pom_exit code = tunnel_open(&t, &cfg);
	explicit_bzero(token_buf, sizeof token_buf);
	if (code != EXIT_OK)
		return code;
	if (t.resp.status != 200) {
		code = tunnel_status_exit(&t, &d, tsrc != TOKEN_NONE);
		tunnel_close(&t);
		return code;
	}
	int rc = run_stdio(&t, &d);
	if (o.client_cert)
		tls_identity_free(&id);
	trust_free(&ts);
	return rc;
}
