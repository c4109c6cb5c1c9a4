#include "relay.h"
#include "scrub.h"
#include "sigcatch.h"
#include "log.h"
#include "net.h"
#include "splice.h"
#include "tunnel.h"
#include "tlstext.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

/* One relay per process: its large state is static, not on the stack. */
static struct tls_client tls_storage;
static struct splice_plain plain_storage;
static char token_buf[TOKEN_MAX + 1];
static char fresh_buf[TOKEN_MAX + 1];
static struct tls_client fwd_tls_storage;
static struct splice_plain fwd_plain_storage;
static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

/* Catch HUP/TERM/INT into stop_signal, blocked except inside ppoll (whose
 * mask goes to *wait_mask). */
static void setup_signals(sigset_t *wait_mask)
{
	static const struct sigcatch stops[] = {
		{ SIGHUP, on_signal }, { SIGTERM, on_signal }, { SIGINT, on_signal },
	};
	sigcatch_block(stops, 3, NULL, NULL, wait_mask);
}
/* tunnel_open, through the forward proxy when there is one. */
static enum pom_exit open_tunnel(const struct relay_config *c, struct tunnel *t,
				 struct tunnel_config *cfg)
{
	cfg->via_fd = -1;
	if (c->fwd) {
		enum pom_exit code = fwdproxy_open(c->fwd, &c->tls, c->timeout_ms, &fwd_tls_storage,
						   &fwd_plain_storage, &cfg->via_fd);
		if (code != EXIT_OK)
			return code;
	}
	return tunnel_open(t, cfg);
}

/* A status that asks for a sign-in: a redirect to it, or 401. */
static int wants_signin(int status)
{
	return status == 401 || status == 301 || status == 302 || status == 303 ||
	       status == 307 || status == 308;
}

/* Splice the open tunnel t with the local descriptors; the exit code. */
static int splice_tunnel(struct tunnel *t, const struct dest *d, int in, int out)
{
	sigset_t wait_mask;
	struct splice_result res;
	char name[DEST_HOST_MAX + 8];
	struct splice_fds fds = { in, out, t->fd, t->fd, in == out };
	int fl_in = net_set_nonblock(in);
	int fl_out = in == out ? -1 : net_set_nonblock(out);

	setup_signals(&wait_mask);
	splice_run(d->tls ? tls_engine(t->tls) : NULL, t->plain, &fds, &wait_mask,
		   &stop_signal, &res);
	/* leave the descriptors as we found them (they may be a terminal) */
	if (fl_in >= 0)
		fcntl(in, F_SETFL, fl_in);
	if (fl_out >= 0)
		fcntl(out, F_SETFL, fl_out);
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
		dest_authority(name, sizeof name, d->dest_host, d->dest_port);
		log_error("tunnel to %s broke: %s", name, tls_error_text(res.tls_error));
		return EXIT_BROKEN;
	default:
		dest_authority(name, sizeof name, d->proxy_host, d->proxy_port);
		log_error("connection to proxy %s lost: %s", name, strerror(res.sys_errno));
		return EXIT_BROKEN;
	}
}

int relay_run(const struct relay_config *c, int local_in, int local_out)
{
	const struct dest *d = c->dest;
	char authority[DEST_HOST_MAX + 8];
	enum token_source src;
	struct tunnel t;

	dest_authority(authority, sizeof authority, d->proxy_host, d->proxy_port);
	enum pom_exit found = token_find(token_buf, sizeof token_buf, &c->token, authority, &src);
	if (found != EXIT_OK)
		return found;
	log_debug(1, "token: %s", src == TOKEN_NONE ? "none" : token_source_name(src));

	struct tunnel_config cfg = { d, src == TOKEN_NONE ? NULL : token_buf, &c->tls,
				     c->timeout_ms, c->session, NULL, -1 };
	t.tls = &tls_storage;
	t.plain = &plain_storage;
	enum pom_exit code = open_tunnel(c, &t, &cfg);
	if (code == EXIT_OK && wants_signin(t.resp.status) && c->sign_in &&
	    (src == TOKEN_NONE || src == TOKEN_CACHE)) {
		/* sign in (or wait for another pom-proxy to), then retry once */
		tunnel_close(&t);
		log_debug(1, "the proxy wants a sign-in (%d)", t.resp.status);
		code = c->sign_in(c->sign_in_ctx, d, src == TOKEN_CACHE ? token_buf : NULL,
				  fresh_buf, sizeof fresh_buf);
		if (code == EXIT_OK) {
			memcpy(token_buf, fresh_buf, sizeof token_buf);
			explicit_bzero(fresh_buf, sizeof fresh_buf);
			cfg.token = token_buf;
			src = TOKEN_CACHE;
			code = open_tunnel(c, &t, &cfg);
		}
	}
	explicit_bzero(token_buf, sizeof token_buf);
	scrub_registers_and_stack();
	if (code != EXIT_OK)
		return code;
	if (t.resp.status != 200) {
		code = tunnel_status_exit(&t, d, src);
		tunnel_close(&t);
		return code;
	}
	return splice_tunnel(&t, d, local_in, local_out);
}
