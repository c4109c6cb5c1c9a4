/* splice: the tunnel's one poll() loop, driven by the TLS engine's state.
 *
 * Four descriptors (local in, local out, network in, network out) so that
 * stdio mode (0, 1, sock, sock), listener mode (conn, conn, sock, sock)
 * and tests (pipes, socketpairs) run the same code. All four must be
 * non-blocking. No heap is used: besides the engine's buffers there is one
 * 64 KiB stage on the stack for local input (a pipe's worth per read(),
 * handed to the engine a record at a time).
 *
 * End-of-session policy:
 *  - local input EOF: stop reading it, flush what the engine holds, keep
 *    delivering the proxy's data (Envoy closes both directions on a
 *    half-close, and a TLS close_notify would make BearSSL discard the
 *    answer still on its way) — ssh ends a ProxyCommand with SIGHUP; with
 *    local_eof_ends (listener sockets, whose clients have no such signal
 *    and usually close the whole socket) the session ends instead, as for
 *    a local output gone;
 *  - proxy close_notify, or a TCP EOF without it: deliver what is left,
 *    then end;
 *  - local output gone (EPIPE, POLLERR) or a stop signal: send
 *    close_notify, let the send side drain for at most one second, end. */
#ifndef POM_SPLICE_H
#define POM_SPLICE_H

#include <signal.h>
#include <bearssl.h>

struct splice_fds {
	int local_in, local_out, net_in, net_out;
	int local_eof_ends; /* 1: local input EOF ends the session (see below) */
};

/* Buffers that stand in for the TLS engine when the proxy is plain TCP
 * (an http:// URL): the same loop then copies bytes unchanged. */
struct splice_plain {
	unsigned char up[16384], down[16384];
	size_t up_off, up_len, down_off, down_len;
	int closed;
};

enum splice_end {
	SPLICE_PEER_CLOSED,   /* proxy sent close_notify */
	SPLICE_PEER_EOF,      /* proxy closed TCP without close_notify */
	SPLICE_LOCAL_GONE,    /* local output closed (ssh went away) */
	SPLICE_SIGNALLED,     /* *stop became non-zero */
	SPLICE_TLS_ERROR,     /* engine failed: tls_error holds the code */
	SPLICE_IO_ERROR,      /* network read/write or poll failed: sys_errno */
};

struct splice_result {
	enum splice_end end;
	int tls_error;               /* br_ssl_engine_last_error() at the end */
	int sys_errno;
	unsigned long long up, down; /* plaintext bytes local->proxy, proxy->local */
};

/* Run the tunnel until it ends, as described above. eng is an engine
 * whose handshake is done, or NULL for a plain-TCP proxy, in which case
 * plain provides the buffers (it is reset here). wait_mask is the signal
 * mask installed while waiting (ppoll), so signals blocked elsewhere are
 * delivered only there; *stop is checked after every wake-up. Fills res. */
void splice_run(br_ssl_engine_context *eng, struct splice_plain *plain,
		const struct splice_fds *fds, const sigset_t *wait_mask,
		volatile sig_atomic_t *stop, struct splice_result *res);

#endif
