/* pom-proxy: the command line, and one tunnel over stdin/stdout. */
#include "commands.h"
#include "dest.h"
#include "fwdproxy.h"
#include "log.h"
#include "login.h"
#include "listener.h"
#include "relay.h"
#include "routes.h"
#include "routesout.h"
#include "session.h"
#include "sshconfig.h"
#include "tls.h"
#include "token.h"
#include "trust.h"

#include <errno.h>
#include <limits.h>
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
"       pom-proxy login [options] PROXY-URL   sign in ahead of time\n"
"       pom-proxy logout [PROXY-URL]          forget the token (of every proxy)\n"
"       pom-proxy status                      list cached tokens\n"
"       pom-proxy cache location|clear        show or empty the cache directory\n"
"       pom-proxy ssh-config [options] HOST-PATTERN   print an ssh_config block\n"
"       pom-proxy ssh-config [options] --routes PROXY-URL   one for each tcp route\n"
"       pom-proxy routes [options] PROXY-URL  list the routes you may use\n"
"       pom-proxy auth [options] PROXY-URL    print a token the proxy accepts\n"
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
"  --listen ADDR               serve local connections on ADDR (:2202,\n"
"                              127.0.0.1:2202, [::1]:2202, :0 = a free port);\n"
"                              '-' = stdin/stdout, the default for pom-proxy DEST;\n"
"                              pom-proxy tcp DEST listens on 127.0.0.1:0\n"
"  --alternate-ca-path FILE    PEM CA certificate(s) trusted besides the system store\n"
"  --ca-cert BASE64PEM         same, inline as base64 of a PEM text\n"
"  --disable-tls-verification  do not verify the proxy's certificate\n"
"  --client-cert FILE          PEM client certificate chain (mutual TLS)\n"
"  --client-key FILE           its PEM private key (RSA or EC)\n"
"  --service-account JWT       token to send (visible in ps: prefer the file)\n"
"  --service-account-file PATH read the token from PATH\n"
"  --connect-timeout SECONDS   limit for TCP connect and for TLS + CONNECT (10)\n"
"  --browser-cmd CMD           browser for sign-in (default: $BROWSER, xdg-open)\n"
"  --no-browser                do not start a browser: open the printed URL\n"
"                              anywhere, paste the final address back here\n"
"  --login-timeout SECONDS     how long a sign-in may take (300)\n"
"  --if-needed                 login: only when no usable token is at hand\n"
"  --sign-in-first             ssh-config: add a Match line that signs in while\n"
"                              ssh reads its configuration (before ConnectTimeout)\n"
"  --routes PROXY-URL          ssh-config: a Host block for each tcp route of the\n"
"                              proxy, all through --pomerium-url PROXY-URL\n"
"  --json                      routes: print the proxy's JSON answer as it came\n"
"  --proxy URL                 forward proxy to reach the Pomerium proxy through\n"
"                              (http:// or https://; '-' = none; default: as curl,\n"
"                              https_proxy/HTTPS_PROXY, all_proxy, unless no_proxy)\n"
"  --proxy-credentials-file F  user:password for the forward proxy (Basic)\n"
"  -v, --verbose               diagnostics on stderr (-vv: more)\n"
"  -h, --help                  this text\n"
"  --version                   the version\n"
"\n"
"environment: POM_PROXY_SERVICE_ACCOUNT, POM_PROXY_SERVICE_ACCOUNT_FILE,\n"
"  https_proxy, HTTPS_PROXY, http_proxy, all_proxy, ALL_PROXY, no_proxy, NO_PROXY,\n"
"  XDG_CACHE_HOME, HOME, SSL_CERT_FILE, SSL_CERT_DIR, BROWSER, LOG_LEVEL=info|debug\n"
"\n"
"exit codes: 0 ok, 1 tunnel broke, 2 usage, 3 local error, 4 DNS, 5 connect,\n"
"  6 TLS handshake, 7 certificate not trusted, 8 sign-in required (302/401),\n"
"  9 denied (403), 10 no route (404), 11 upstream unreachable (502/503/504),\n"
"  12 client certificate or device refused (495/450), 13 bad or no answer;\n"
"  an open tunnel ended by SIGINT/SIGTERM: 130/143 (SIGHUP, ssh's way: 0)\n";

enum command {
	CMD_TUNNEL, CMD_LOGIN, CMD_LOGOUT, CMD_STATUS, CMD_CACHE, CMD_SSHCONFIG, CMD_ROUTES,
	CMD_AUTH
};

struct options {
	enum command cmd;
	const char *args[2];       /* positional arguments after the command */
	int nargs;
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
	const char *browser_cmd;
	int no_browser;
	int if_needed;      /* login --if-needed */
	int sign_in_first;  /* ssh-config --sign-in-first */
	const char *routes_url; /* ssh-config --routes */
	int json;           /* routes --json */
	int login_timeout_s;
	const char *proxy;
	const char *proxy_cred_file;
	const char *timeout_arg, *login_timeout_arg; /* as given, for ssh-config */
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

/* A whole number of seconds from 1 to 3600 for option name. */
static int parse_seconds(const char *name, const char *v)
{
	char *end;
	long t = strtol(v, &end, 10);
	if (*v == '\0' || *end != '\0' || t < 1 || t > 3600)
		die(EXIT_USAGE, "%s: expected seconds from 1 to 3600, got '%.20s'", name, v);
	return (int)t;
}

/* How much a -v, -vv... or --verbose argument adds to the log level; 0
 * for any other argument. */
static int verbose_flag(const char *a)
{
	if (strcmp(a, "--verbose") == 0)
		return 1;
	if (a[0] == '-' && a[1] == 'v' && strspn(a + 1, "v") == strlen(a + 1))
		return (int)strlen(a + 1);
	return 0;
}

static void parse_args(int argc, char **argv, struct options *o)
{
	static const struct { const char *name; enum command cmd; } cmds[] = {
		{ "tcp", CMD_TUNNEL }, { "login", CMD_LOGIN }, { "logout", CMD_LOGOUT },
		{ "status", CMD_STATUS }, { "cache", CMD_CACHE }, { "ssh-config", CMD_SSHCONFIG },
		{ "routes", CMD_ROUTES }, { "auth", CMD_AUTH },
	};
	const char *v;
	int i = 1, c = 1;
	o->timeout_s = 10;
	o->login_timeout_s = 300;
	/* the command word comes first, after any -v (pom-proxy -v status) */
	while (c < argc && verbose_flag(argv[c]))
		c++;
	for (size_t k = 0; c < argc && k < sizeof cmds / sizeof cmds[0]; k++)
		if (strcmp(argv[c], cmds[k].name) == 0) {
			o->cmd = cmds[k].cmd;
			o->subcommand_tcp = k == 0;
			for (int j = 1; j < c; j++)
				log_level += verbose_flag(argv[j]);
			i = c + 1;
		}
	for (; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			fputs(usage_text, stdout);
			exit(EXIT_OK);
		} else if (strcmp(a, "--version") == 0) {
			printf("pom-proxy %s (BearSSL 0.6)\n", POM_VERSION);
			exit(EXIT_OK);
		} else if (verbose_flag(a)) {
			log_level += verbose_flag(a);
		} else if (strcmp(a, "--disable-tls-verification") == 0) {
			o->insecure = 1;
		} else if (strcmp(a, "--no-browser") == 0) {
			o->no_browser = 1;
		} else if (strcmp(a, "--if-needed") == 0 && o->cmd == CMD_LOGIN) {
			o->if_needed = 1;
		} else if (strcmp(a, "--sign-in-first") == 0 && o->cmd == CMD_SSHCONFIG) {
			o->sign_in_first = 1;
		} else if (strcmp(a, "--json") == 0 && o->cmd == CMD_ROUTES) {
			o->json = 1;
		} else if (o->cmd == CMD_SSHCONFIG &&
			   opt_value(argc, argv, &i, "--routes", &o->routes_url)) {
			continue;
		} else if (opt_value(argc, argv, &i, "--pomerium-url", &o->pomerium_url) ||
			   opt_value(argc, argv, &i, "--listen", &o->listen) ||
			   opt_value(argc, argv, &i, "--alternate-ca-path", &o->alternate_ca_path) ||
			   opt_value(argc, argv, &i, "--ca-cert", &o->ca_cert) ||
			   opt_value(argc, argv, &i, "--client-cert", &o->client_cert) ||
			   opt_value(argc, argv, &i, "--client-key", &o->client_key) ||
			   opt_value(argc, argv, &i, "--service-account", &o->token.service_account) ||
			   opt_value(argc, argv, &i, "--service-account-file",
				     &o->token.service_account_file) ||
			   opt_value(argc, argv, &i, "--browser-cmd", &o->browser_cmd) ||
			   opt_value(argc, argv, &i, "--proxy", &o->proxy) ||
			   opt_value(argc, argv, &i, "--proxy-credentials-file", &o->proxy_cred_file)) {
			continue;
		} else if (opt_value(argc, argv, &i, "--connect-timeout", &v)) {
			o->timeout_s = parse_seconds("--connect-timeout", v);
			o->timeout_arg = v;
		} else if (opt_value(argc, argv, &i, "--login-timeout", &v)) {
			o->login_timeout_s = parse_seconds("--login-timeout", v);
			o->login_timeout_arg = v;
		} else if (a[0] == '-' && a[1] != '\0' && strcmp(a, "--") != 0) {
			die(EXIT_USAGE, "unknown option '%.60s' (see --help)", a);
		} else {
			if (strcmp(a, "--") == 0) {
				if (++i >= argc)
					break;
				a = argv[i];
			}
			if (o->nargs == 2)
				die(EXIT_USAGE, "too many arguments ('%.60s'; see --help)", a);
			o->args[o->nargs++] = a;
		}
	}
	if (!o->client_cert != !o->client_key)
		die(EXIT_USAGE, "--client-cert and --client-key go together");
	switch (o->cmd) {
	case CMD_TUNNEL:
		if (o->nargs == 0)
			die(EXIT_USAGE, "no destination given (usage: pom-proxy [options] HOST:PORT; "
			    "see --help)");
		if (o->nargs > 1)
			die(EXIT_USAGE, "more than one destination ('%.60s' and '%.60s')", o->args[0],
			    o->args[1]);
		o->dest = o->args[0];
		break;
	case CMD_LOGIN:
		if (o->nargs != 1)
			die(EXIT_USAGE, "usage: pom-proxy login [options] PROXY-URL");
		return;
	case CMD_LOGOUT:
		if (o->nargs > 1)
			die(EXIT_USAGE, "usage: pom-proxy logout [PROXY-URL]");
		return;
	case CMD_STATUS:
		if (o->nargs)
			die(EXIT_USAGE, "usage: pom-proxy status");
		return;
	case CMD_CACHE:
		if (o->nargs != 1 || (strcmp(o->args[0], "location") && strcmp(o->args[0], "clear")))
			die(EXIT_USAGE, "usage: pom-proxy cache location|clear");
		return;
	case CMD_ROUTES:
	case CMD_AUTH:
		if (o->nargs != 1)
			die(EXIT_USAGE, "usage: pom-proxy %s [options] PROXY-URL",
			    o->cmd == CMD_AUTH ? "auth" : "routes");
		break;
	case CMD_SSHCONFIG:
		if (o->routes_url && (o->nargs || o->pomerium_url))
			die(EXIT_USAGE, "usage: pom-proxy ssh-config [options] --routes PROXY-URL "
			    "(no host pattern, no --pomerium-url: every block uses PROXY-URL)");
		if (o->nargs != 1 && !o->routes_url)
			die(EXIT_USAGE, "usage: pom-proxy ssh-config [options] HOST-PATTERN "
			    "(e.g. '*.corp.example.com')");
		if (o->token.service_account)
			die(EXIT_USAGE, "ssh-config: a token does not belong in ssh_config; "
			    "use --service-account-file");
		return;
	}
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

static char token_buf[TOKEN_MAX + 1];

/* The login options that go with the command line o. */
static void login_options(const struct options *o, struct login_options *lo)
{
	memset(lo, 0, sizeof *lo);
	lo->browser_cmd = o->browser_cmd;
	lo->no_browser = o->no_browser;
	lo->need_a_way = o->if_needed;
	lo->timeout_s = o->login_timeout_s;
	trust_system_paths(&lo->tls.ca_bundle, &lo->tls.ca_dir);
	lo->tls.alternate_ca_path = o->alternate_ca_path;
	lo->tls.ca_cert_b64 = o->ca_cert;
	lo->tls.insecure = o->insecure;
	lo->tls.client_cert = o->client_cert;
	lo->tls.client_key = o->client_key;
	lo->tls.proxy = o->proxy;
	lo->tls.proxy_cred_file = o->proxy_cred_file;
	lo->tls.connect_timeout_ms = o->timeout_s * 1000;
}

/* The relay's sign-in hook (relay.h): ctx is the login options. */
static enum pom_exit sign_in(const void *ctx, const struct dest *d, const char *refused,
			     char *token, size_t size)
{
	return login_obtain(d, ctx, refused, token, size);
}

/* pom-proxy login URL: sign in now, even if a token is cached; with
 * --if-needed only when no usable token is at hand (checked locally: a
 * service-account token, or a cached one that has not expired). */
static int run_login(const struct options *o)
{
	struct dest d;
	struct login_options lo;
	struct token_options none = { NULL, NULL };
	enum token_source src;
	char err[256], authority[DEST_HOST_MAX + 8];
	if (dest_parse_proxy(&d, o->args[0], err, sizeof err) < 0)
		die(EXIT_USAGE, "%s", err);
	dest_authority(authority, sizeof authority, d.proxy_host, d.proxy_port);
	if (o->if_needed) {
		int usable = token_find(token_buf, sizeof token_buf, &o->token, authority, &src) ==
				     EXIT_OK && src != TOKEN_NONE;
		explicit_bzero(token_buf, sizeof token_buf);
		if (usable) {
			log_debug(1, "login --if-needed: a usable token is at hand (%s)",
				  token_source_name(src));
			return EXIT_OK;
		}
	}
	login_options(o, &lo);
	if (token_env_set())
		log_warn("a POM_PROXY_SERVICE_ACCOUNT variable is set: tunnels send that token, "
			 "not the one this sign-in stores");
	if (token_find(token_buf, sizeof token_buf, &none, authority, &src) != EXIT_OK ||
	    src != TOKEN_CACHE)
		token_buf[0] = '\0';
	static char fresh[TOKEN_MAX + 1];
	enum pom_exit code = login_obtain(&d, &lo, token_buf[0] ? token_buf : NULL, fresh,
					  sizeof fresh);
	explicit_bzero(token_buf, sizeof token_buf);
	explicit_bzero(fresh, sizeof fresh);
	if (code == EXIT_OK)
		log_error("signed in to %s", authority);
	return code;
}

/* The options worth keeping in a generated ProxyCommand, as words in v
 * (room for 40), files made absolute; returns how many. */
static int kept_options(const struct options *o, const char **v)
{
	static char paths[6][PATH_MAX];
	int n = 0, np = 0;
#define KEEP(flag, val) do { if (val) { v[n++] = flag; v[n++] = val; } } while (0)
#define KEEP_PATH(flag, val) do { if (val) { v[n++] = flag; \
		v[n++] = realpath(val, paths[np]) ? paths[np++] : val; } } while (0)
	KEEP_PATH("--alternate-ca-path", o->alternate_ca_path);
	KEEP("--ca-cert", o->ca_cert);
	KEEP_PATH("--client-cert", o->client_cert);
	KEEP_PATH("--client-key", o->client_key);
	KEEP_PATH("--service-account-file", o->token.service_account_file);
	KEEP("--browser-cmd", o->browser_cmd);
	KEEP("--proxy", o->proxy);
	KEEP_PATH("--proxy-credentials-file", o->proxy_cred_file);
	KEEP("--connect-timeout", o->timeout_arg);
	KEEP("--login-timeout", o->login_timeout_arg);
#undef KEEP
#undef KEEP_PATH
	if (o->insecure)
		v[n++] = "--disable-tls-verification";
	if (o->no_browser)
		v[n++] = "--no-browser";
	for (int k = 0; k < log_level && k < 2; k++)
		v[n++] = "-v";
	return n;
}

/* pom-proxy routes URL, auth URL, ssh-config --routes URL: the proxy's
 * routes API, signing in when it asks. */
static int run_routes(const struct options *o, const char *url)
{
	static struct routes_answer ans;
	static struct route_list list;
	struct login_options lo;
	struct dest d;
	char err[256];
	const char *v[40];
	if (dest_parse_proxy(&d, url, err, sizeof err) < 0)
		die(EXIT_USAGE, "%s", err);
	login_options(o, &lo);
	if (o->cmd == CMD_AUTH)
		return routes_auth(&d, &o->token, &lo);
	enum pom_exit code = routes_read(&d, &o->token, &lo, &ans, &list);
	if (code != EXIT_OK)
		return code;
	int n = kept_options(o, v);
	if (o->cmd == CMD_SSHCONFIG)
		return routesout_sshconfig(&list, url, v, n, o->sign_in_first);
	if (!o->json)
		return routesout_list(&list, url, v, n);
	if (fwrite(ans.body, 1, ans.len, stdout) != ans.len || fflush(stdout) != 0) {
		log_error("cannot write the routes to stdout");
		return EXIT_LOCAL;
	}
	return EXIT_OK;
}

static int run_command(const struct options *o)
{
	char err[256], authority[DEST_HOST_MAX + 8];
	const char *v[40];
	int n;
	struct dest d;
	switch (o->cmd) {
	case CMD_LOGIN:
		return run_login(o);
	case CMD_LOGOUT:
		if (o->nargs == 0)
			return cmd_logout(NULL);
		if (dest_parse_proxy(&d, o->args[0], err, sizeof err) < 0)
			die(EXIT_USAGE, "%s", err);
		dest_authority(authority, sizeof authority, d.proxy_host, d.proxy_port);
		return cmd_logout(authority);
	case CMD_STATUS:
		return cmd_status();
	case CMD_ROUTES:
	case CMD_AUTH:
		return run_routes(o, o->args[0]);
	case CMD_SSHCONFIG:
		if (o->routes_url)
			return run_routes(o, o->routes_url);
		n = kept_options(o, v);
		return sshconfig_print(o->args[0], o->pomerium_url, v, n, o->sign_in_first);
	default:
		return strcmp(o->args[0], "clear") == 0 ? cmd_cache_clear() : cmd_cache_location();
	}
}

/* The trust store, loaded only when the proxy sends its certificate. */
struct anchor_loader {
	const struct trust_sources *src;
	struct trust_store *ts;
};

static int load_anchors(void *arg, const struct trust_store **ts)
{
	struct anchor_loader *al = arg;
	double t0 = log_elapsed_ms();
	if (!al->ts->anchors && trust_load(al->ts, al->src) < 0)
		return -1;
	log_debug(1, "%zu trust anchors %s in %.2f ms", al->ts->count,
		  al->ts->from_cache ? "from the anchor cache" : "decoded", log_elapsed_ms() - t0);
	*ts = al->ts;
	return 0;
}

/* Listener mode: one relay per accepted connection. */
static int serve_connection(int fd, void *arg)
{
	return relay_run(arg, fd, fd);
}

int main(int argc, char **argv)
{
	struct options o;
	struct dest d;
	char err[256], authority[DEST_HOST_MAX + 8];
	struct trust_store ts;
	struct tls_identity id;

	log_clock_start();
	/* A closed 0, 1 or 2 would be handed to the next socket or file, and
	 * tunnel bytes or log lines would go where they must not: hold them
	 * open on /dev/null (an empty input, a discarding output). */
	for (int fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
			return EXIT_LOCAL;
	signal(SIGPIPE, SIG_IGN); /* a closed peer is an error to report, not a death */
	memset(&o, 0, sizeof o);
	memset(&ts, 0, sizeof ts);
	verbosity_from_env();
	parse_args(argc, argv, &o);
	if (o.cmd != CMD_TUNNEL)
		return run_command(&o);
	if (dest_parse(&d, o.dest, o.pomerium_url, err, sizeof err) < 0)
		die(EXIT_USAGE, "%s", err);
	dest_authority(authority, sizeof authority, d.proxy_host, d.proxy_port);
	if (log_level) {
		char dst[DEST_HOST_MAX + 8];
		dest_authority(dst, sizeof dst, d.dest_host, d.dest_port);
		log_debug(1, "pom-proxy %s: %s via %s://%s", POM_VERSION, dst,
			  d.tls ? "https" : "http", authority);
	}

	/* where the local side comes from: stdin/stdout, or a listener */
	const char *listen_addr = o.listen ? o.listen : o.subcommand_tcp ? "127.0.0.1:0" : NULL;
	struct sockaddr_storage lsa;
	socklen_t lsa_len = 0;
	if (listen_addr && strcmp(listen_addr, "-") == 0)
		listen_addr = NULL;
	if (listen_addr) {
		int loopback;
		if (listener_parse(listen_addr, &lsa, &lsa_len, &loopback, err, sizeof err) < 0)
			die(EXIT_USAGE, "%s", err);
		if (!loopback)
			log_warn("--listen %s is reachable from other machines: anyone who can "
				 "connect rides on your token", listen_addr);
	}

	if (o.insecure && d.tls)
		log_warn("--disable-tls-verification: the proxy's certificate is NOT verified; "
			 "anyone on the path can read the tunnel and the token");
	if (o.token.service_account)
		log_warn("--service-account puts the token in the process list (ps); "
			 "prefer --service-account-file");
	if (!d.tls)
		log_warn("http:// proxy %s: the tunnel and the token travel unencrypted", authority);

	struct relay_config rc;
	struct trust_sources tsrc_cfg = { o.alternate_ca_path, o.ca_cert, 1 };
	struct anchor_loader al = { &tsrc_cfg, &ts };
	memset(&rc, 0, sizeof rc);
	rc.dest = &d;
	rc.token = o.token;
	rc.timeout_ms = o.timeout_s * 1000;
	rc.tls.insecure = o.insecure;
	rc.tls.load_anchors = load_anchors;
	rc.tls.chain_cache = !o.insecure;
	rc.tls.load_arg = &al;
	static struct login_options lo;
	login_options(&o, &lo);
	rc.sign_in = sign_in;
	rc.sign_in_ctx = &lo;
	if (o.client_cert) {
		if (tls_identity_load(&id, o.client_cert, o.client_key) < 0)
			return EXIT_LOCAL;
		rc.tls.identity = &id;
	}

	struct fwdproxy fwd;
	int via;
	enum pom_exit sel = fwdproxy_select(&fwd, o.proxy, o.proxy_cred_file, &d, &via);
	if (sel != EXIT_OK)
		return sel;
	if (via)
		rc.fwd = &fwd;

	/* resume TLS sessions only when the first handshake was verified and
	 * no client key is involved (see session.h) */
	struct session_binding sb;
	unsigned char trust_id[32];
	if (d.tls && !o.insecure && !o.client_cert && trust_config_id(&tsrc_cfg, trust_id) == 0) {
		session_bind(&sb, &d, trust_id);
		rc.session = &sb;
	}

	int code;
	if (listen_addr) {
		code = listener_serve(&lsa, lsa_len, serve_connection, &rc);
	} else {
		code = relay_run(&rc, STDIN_FILENO, STDOUT_FILENO);
	}
	if (o.client_cert)
		tls_identity_free(&id);
	trust_free(&ts);
	return code;
}
