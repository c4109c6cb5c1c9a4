#include "cmdline.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

void cmdline_parse(int argc, char **argv, struct options *o)
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
				o->verbose += verbose_flag(argv[j]);
			log_level += o->verbose;
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
			o->verbose += verbose_flag(a);
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

void cmdline_verbosity_from_env(void)
{
	const char *l = getenv("LOG_LEVEL");
	if (!l)
		return;
	if (strcmp(l, "debug") == 0 || strcmp(l, "DEBUG") == 0)
		log_level = log_level < 2 ? 2 : log_level;
	else if (strcmp(l, "info") == 0 || strcmp(l, "INFO") == 0)
		log_level = log_level < 1 ? 1 : log_level;
}
