/* pom-proxy: the commands (the command line is auth/cmdline.c's), and one
 * tunnel over stdin/stdout. */
#include "cmdline.h"
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

/* One warning line for each way o exposes the token sent to the proxy d
 * (authority: d's host:port). */
static void warn_exposure(const struct options *o, const struct dest *d, const char *authority)
{
	if (o->insecure && d->tls)
		log_warn("--disable-tls-verification: the proxy's certificate is NOT verified; "
			 "anyone on the path can read the tunnel and the token");
	if (o->token.service_account)
		log_warn("--service-account puts the token in the process list (ps); "
			 "prefer --service-account-file");
	if (!d->tls)
		log_warn("http:// proxy %s: the tunnel and the token travel unencrypted", authority);
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
	warn_exposure(o, &d, authority);
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
	for (int k = 0; k < o->verbose && k < 2; k++)
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
	char err[256], authority[DEST_HOST_MAX + 8];
	const char *v[40];
	if (dest_parse_proxy(&d, url, err, sizeof err) < 0)
		die(EXIT_USAGE, "%s", err);
	dest_authority(authority, sizeof authority, d.proxy_host, d.proxy_port);
	warn_exposure(o, &d, authority);
	login_options(o, &lo);
	if (o->cmd == CMD_AUTH)
		return routes_auth(&d, &o->token, &lo);
	enum pom_exit code = routes_read(&d, &o->token, &lo, &ans, &list);
	if (code != EXIT_OK)
		return code;
	int n = kept_options(o, v);
	if (o->cmd == CMD_SSHCONFIG)
		return routesout_sshconfig(&list, &d, v, n, o->sign_in_first);
	if (!o->json)
		return routesout_list(&list, &d, v, n);
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
	cmdline_verbosity_from_env();
	cmdline_parse(argc, argv, &o);
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

	warn_exposure(&o, &d, authority);

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
