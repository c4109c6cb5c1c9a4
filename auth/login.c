#include "log.h"
#include "clock.h"
#include "login.h"
#include "browser.h"
#include "callback.h"
#include "detach.h"
#include "privfile.h"
#include "sigcatch.h"
#include "token.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define STATE_MAX 4096
#define WAIT_STEP_MS 100

/* What the state file says. */
struct state {
	long long finished;        /* when the last attempt ended (Unix ns), 0 if none */
	int ok;                    /* the last finished attempt succeeded */
	char message[512];         /* why it failed */
	char url[STATE_MAX / 2];   /* sign-in URL of the attempt in progress, or "" */
	long pid;                  /* the process making that attempt, 0 if none */
};

static volatile sig_atomic_t login_signal;

/* SIGINT and SIGTERM are intent and stick: a SIGHUP that comes with them
 * (a terminal closing after its ^C) does not turn them into a detach. */
static void on_login_signal(int sig)
{
	if (login_signal != SIGINT && login_signal != SIGTERM)
		login_signal = sig;
}

static long long real_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* "<cache>/logins/<authority><suffix>", creating the directories. */
static int login_path(char *buf, size_t size, const char *authority, const char *suffix)
{
	char dir[4096];
	if (privfile_subdir(dir, sizeof dir, "logins", 1) < 0)
		return -1;
	int n = snprintf(buf, size, "%s/%s%s", dir, authority, suffix);
	return (n < 0 || (size_t)n >= size) ? -1 : 0;
}

/* Parse the state file (lines "finished NS", "result ok|failed",
 * "message ...", "url ...", "pid N"); a missing or odd file is an empty
 * state. */
static void state_read(const char *path, struct state *s)
{
	char text[STATE_MAX + 1];
	memset(s, 0, sizeof *s);
	ssize_t n = privfile_read(path, text, STATE_MAX);
	if (n <= 0)
		return;
	text[n] = '\0';
	for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (strncmp(l, "finished ", 9) == 0)
			s->finished = strtoll(l + 9, NULL, 10);
		else if (strcmp(l, "result ok") == 0)
			s->ok = 1;
		else if (strncmp(l, "message ", 8) == 0)
			snprintf(s->message, sizeof s->message, "%s", l + 8);
		else if (strncmp(l, "url ", 4) == 0)
			snprintf(s->url, sizeof s->url, "%s", l + 4);
		else if (strncmp(l, "pid ", 4) == 0)
			s->pid = strtol(l + 4, NULL, 10);
	}
}

static void state_write(const char *path, const struct state *s)
{
	char text[STATE_MAX + 1024];
	int n = snprintf(text, sizeof text, "finished %lld\nresult %s\nmessage %s\nurl %s\npid %ld\n",
			 s->finished, s->ok ? "ok" : "failed", s->message, s->url, s->pid);
	if (n > 0 && (size_t)n < sizeof text && privfile_write(path, text, (size_t)n) < 0)
		log_debug(1, "cannot write the sign-in state %s: %s", path, strerror(errno));
}

/* 1 when pid names a running process (of any user). */
static int process_alive(long pid)
{
	return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

/* A fresh cached token (not the refused one, not expired) into token. */
static int fresh_cached(const char *authority, const char *refused, char *token, size_t size)
{
	struct token_options none = { NULL, NULL };
	enum token_source src;
	if (token_env_set())
		return 0; /* token_find would not look at the cache */
	if (token_find(token, size, &none, authority, &src) != EXIT_OK || src != TOKEN_CACHE)
		return 0;
	return !(refused && strcmp(token, refused) == 0);
}

/* The terminal, for pasting the final address back, when we are in its
 * foreground (reading it from the background would stop the process). */
static int open_tty(void)
{
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -1;
	if (tcgetpgrp(fd) != getpgrp()) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Trim and interpret a pasted line: a URL with pomerium_jwt, or a token. */
static int pasted_token(char *line, char *token, size_t size)
{
	size_t n = strlen(line);
	while (n && strchr(" \t\r\n", line[n - 1]))
		line[--n] = '\0';
	char *p = line + strspn(line, " \t");
	if (strstr(p, "pomerium_jwt="))
		return callback_token_from_url(p, token, size);
	if (strlen(p) < size && token_chars_ok(p) && strchr(p, '.')) {
		strcpy(token, p);
		return 1;
	}
	return 0;
}

/* The signals that end a wait (see sigcatch.h). */
static const struct sigcatch login_stops[3] = {
	{ SIGINT, on_login_signal }, { SIGTERM, on_login_signal }, { SIGHUP, on_login_signal },
};

/* Sleep ms, or less if a caught signal arrives. */
static void nap(int ms, const sigset_t *wait_mask)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
	ppoll(NULL, 0, &ts, wait_mask);
}

/* Who carries a sign-in on (see detach). */
enum carrier { CARRIER_SELF, CARRIER_GONE, CARRIER_CHILD };

/* 1 when fd is a pipe or a socket: one whose other end can go (ssh's
 * end of a ProxyCommand's stdout). */
static int pipe_or_socket(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
}

/* 1 when the other end of the pipe or socket fd has closed. */
static int peer_closed(int fd)
{
	struct pollfd p = { fd, 0, 0 };
	return poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP));
}

/* A SIGINT or SIGTERM that is pending (blocked outside ppoll, so not yet
 * caught) is taken now, as if caught: returns it, or 0. */
static int take_pending_stop(void)
{
	sigset_t pending, stops;
	struct timespec zero = { 0, 0 };
	if (sigpending(&pending) < 0 ||
	    !(sigismember(&pending, SIGINT) || sigismember(&pending, SIGTERM)))
		return 0;
	sigemptyset(&stops);
	sigaddset(&stops, SIGINT);
	sigaddset(&stops, SIGTERM);
	int sig = sigtimedwait(&stops, NULL, &zero);
	return sig > 0 ? sig : 0;
}

/* The process leading this sign-in has lost the ssh that asked for it:
 * the sign-in goes on in a child in a session of its own, which inherits
 * the callback's socket and the lock, keeps the same deadline, ignores
 * SIGHUP, and says nothing more on a terminal (its stdio is /dev/null, the
 * paste-back is over). Returns CARRIER_CHILD in that child,
 * CARRIER_GONE in the leader, which then only reports and leaves, or
 * CARRIER_SELF when there is no child (fork failed): the sign-in is then
 * abandoned as before. */
static enum carrier detach(const char *authority, const struct login_options *o,
			   const char *state_path, struct state *st, struct callback *cb, int *tty)
{
	pid_t pid = fork();
	if (pid < 0) {
		log_debug(1, "sign-in: cannot carry it on in the background: %s", strerror(errno));
		return CARRIER_SELF;
	}
	if (pid > 0) {
		log_error("the ssh that asked for the sign-in to %s went away; the sign-in goes on "
			  "in the background (process %ld, at most %d s from its start): finish it "
			  "in the browser and connect again", authority, (long)pid, o->timeout_s);
		return CARRIER_GONE;
	}
	detach_from_terminal();
	signal(SIGHUP, SIG_IGN);
	if (login_signal == SIGHUP)
		login_signal = 0;
	if (*tty >= 0) {
		close(*tty);
		*tty = -1;
	}
	cb->detached = 1;
	st->pid = getpid();
	state_write(state_path, st);
	return CARRIER_CHILD;
}

/* We hold the lock: sign in. Returns EXIT_OK with the token, or a class
 * with the failure already reported and summed up in st->message (what
 * the processes waiting on the lock will show). */
static enum pom_exit sign_in(const struct dest *d, const struct login_options *o,
			     const char *authority, const char *state_path, struct state *st,
			     char *token, size_t size, long deadline, const sigset_t *wait_mask,
			     enum carrier *carrier)
{
	struct callback cb;
	static char linebuf[TOKEN_MAX + 1024];
	size_t linelen = 0;
	enum pom_exit code;
	pid_t parent = getppid();
	int watch_out = pipe_or_socket(STDOUT_FILENO);

	if (callback_open(&cb) < 0) {
		snprintf(st->message, sizeof st->message, "could not listen for the browser");
		return EXIT_LOCAL;
	}
	code = loginapi_signin_url(d, cb.redirect_uri, &o->tls, st->url, sizeof st->url);
	if (code != EXIT_OK) {
		snprintf(st->message, sizeof st->message, "the proxy's login API failed");
		callback_close(&cb);
		return code;
	}
	state_write(state_path, st);
	log_error("sign in to %s: open %s", authority, st->url);
	int browser = !o->no_browser && browser_open(o->browser_cmd, st->url) == 0;
	if (!o->no_browser && !browser)
		log_error("could not start a browser: open the address above by hand");
	int tty = open_tty();
	if (o->need_a_way && !browser && tty < 0) {
		snprintf(st->message, sizeof st->message, "cannot sign in to %s here: no browser "
			 "started and no terminal to paste into", authority);
		log_error("%s", st->message);
		callback_close(&cb);
		st->url[0] = '\0';
		return EXIT_SIGNIN;
	}
	if (tty >= 0)
		log_error("if the browser runs on another machine, paste the address it ends on "
			  "(or the token) here and press Enter");

	int got = 0;
	while (!got) {
		struct pollfd pfd[CALLBACK_CONNS + 2];
		int n = callback_pollfds(&cb, pfd);
		if (tty >= 0) {
			pfd[n].fd = tty;
			pfd[n].events = POLLIN;
			pfd[n++].revents = 0;
		}
		long left = deadline - monotonic_ms();
		/* Ctrl-C or SIGTERM is intent and wins, also when the same ^C
		 * has just ended our parent (the signal may still be pending:
		 * it is let in only inside ppoll) */
		if (login_signal != SIGINT && login_signal != SIGTERM) {
			int sig = take_pending_stop();
			if (sig)
				login_signal = sig;
		}
		if (login_signal == SIGINT || login_signal == SIGTERM)
			break;
		if (*carrier == CARRIER_SELF &&
		    (login_signal == SIGHUP || getppid() != parent ||
		     (watch_out && peer_closed(STDOUT_FILENO)))) {
			*carrier = detach(authority, o, state_path, st, &cb, &tty);
			if (*carrier == CARRIER_GONE)
				break;
			continue; /* the child: pfd named the terminal */
		}
		if (left <= 0 || login_signal)
			break;
		int ct = callback_timeout(&cb);
		long wait = ct >= 0 && ct < left ? ct : left;
		struct timespec ts = { wait / 1000, (wait % 1000) * 1000000 };
		int r = ppoll(pfd, (nfds_t)n, &ts, wait_mask);
		if (r < 0 && errno != EINTR)
			break;
		if (r <= 0 && ct < 0)
			continue;
		got = callback_serve(&cb, pfd, tty >= 0 ? n - 1 : n, token, size);
		if (got) {
			log_debug(1, "sign-in: the browser brought the token back");
			break;
		}
		if (tty >= 0 && (pfd[n - 1].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t rd = read(tty, linebuf + linelen, sizeof linebuf - 1 - linelen);
			if (rd <= 0) {
				if (rd == 0 || (errno != EAGAIN && errno != EINTR)) {
					close(tty);
					tty = -1;
				}
				continue;
			}
			linelen += (size_t)rd;
			linebuf[linelen] = '\0';
			char *nl = strchr(linebuf, '\n');
			if (!nl && linelen < sizeof linebuf - 1)
				continue;
			if (nl)
				*nl = '\0';
			got = pasted_token(linebuf, token, size);
			explicit_bzero(linebuf, sizeof linebuf);
			linelen = 0;
			if (!got)
				log_error("that is neither the address the browser ended on nor a token; "
					  "try again");
			else
				log_debug(1, "sign-in: token pasted on the terminal");
		}
	}
	if (tty >= 0)
		close(tty);
	callback_close(&cb);
	if (*carrier == CARRIER_GONE)
		return EXIT_SIGNIN; /* the child has it now */
	st->url[0] = '\0';
	if (got)
		return EXIT_OK;
	if (login_signal)
		snprintf(st->message, sizeof st->message, "the sign-in to %s was abandoned", authority);
	else
		snprintf(st->message, sizeof st->message,
			 "the sign-in to %s did not finish within %d s", authority, o->timeout_s);
	log_error("%s", st->message);
	return EXIT_SIGNIN;
}

enum pom_exit login_obtain(const struct dest *d, const struct login_options *o,
			   const char *refused, char *token, size_t size)
{
	char authority[DEST_HOST_MAX + 8], lock_path[4200], state_path[4200];
	struct sigaction old[3];
	sigset_t saved, wait_mask;
	struct state st;
	enum pom_exit code = EXIT_SIGNIN;
	long deadline = monotonic_ms() + (long)o->timeout_s * 1000;

	dest_authority(authority, sizeof authority, d->proxy_host, d->proxy_port);
	if (login_path(lock_path, sizeof lock_path, authority, ".lock") < 0 ||
	    login_path(state_path, sizeof state_path, authority, ".state") < 0) {
		log_error("sign-in: cannot use the cache directory: %s", privfile_strerror(errno));
		return EXIT_LOCAL;
	}
	int lock = open(lock_path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (lock < 0) {
		log_error("sign-in: cannot open %s: %s", lock_path, strerror(errno));
		return EXIT_LOCAL;
	}
	login_signal = 0;
	sigcatch_block(login_stops, 3, old, &saved, &wait_mask);

	/* Wait for the lock; while another process holds it, it is signing in.
	 * An attempt that ends after we began waiting is the one we waited for
	 * (its end time tells, even if it ends just as we look). */
	long long wait_start = real_ns();
	int waited = 0, shown_url = 0;
	while (flock(lock, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			log_error("sign-in: cannot lock %s: %s", lock_path, strerror(errno));
			code = EXIT_LOCAL;
			goto out;
		}
		state_read(state_path, &st);
		if (!waited) {
			log_error("a sign-in to %s is in progress in another pom-proxy; waiting for it",
				  authority);
			waited = 1;
		}
		/* a URL left by a process that was killed is dead: show only the
		 * one of a live process (the lock's new holder may not have
		 * cleared the state yet) */
		if (!shown_url && st.url[0] && process_alive(st.pid)) {
			log_error("sign in to %s: open %s (if no browser appeared)", authority, st.url);
			shown_url = 1;
		}
		/* a little longer than our own limit: the leader has the same one,
		 * and its verdict is the one to report */
		if (login_signal || monotonic_ms() >= deadline + 2000) {
			log_error("gave up waiting for the sign-in to %s%s", authority,
				  login_signal ? "" : " (timed out)");
			goto out;
		}
		nap(WAIT_STEP_MS, &wait_mask);
	}

	state_read(state_path, &st);
	if (waited && st.finished >= wait_start) {
		if (!st.ok) {
			log_error("%s (in another pom-proxy)",
				  st.message[0] ? st.message : "the sign-in failed");
			goto out;
		}
		if (fresh_cached(authority, refused, token, size)) {
			log_debug(1, "sign-in: using the token another pom-proxy just stored");
			code = EXIT_OK;
		} else {
			log_error("another pom-proxy signed in to %s, but %s", authority,
				  st.message[0] ? st.message : "its token is not in the cache");
		}
		goto out;
	}
	if (fresh_cached(authority, refused, token, size)) {
		log_debug(1, "sign-in: a fresh token is already cached");
		code = EXIT_OK;
		goto out;
	}
	if (waited) {
		log_error("the pom-proxy that was signing in to %s stopped without finishing", authority);
		goto out;
	}

	/* Our turn: first say so (no stale URL for those who wait on us). */
	memset(&st, 0, sizeof st);
	st.pid = getpid();
	state_write(state_path, &st);
	enum carrier carrier = CARRIER_SELF;
	code = sign_in(d, o, authority, state_path, &st, token, size, deadline, &wait_mask,
		       &carrier);
	if (carrier == CARRIER_GONE) {
		/* the lock is shared with the child: closing our descriptor
		 * leaves it held; unlocking would release it for both */
		close(lock);
		sigcatch_restore(login_stops, 3, old, &saved);
		explicit_bzero(token, size);
		return code;
	}
	if (code == EXIT_OK && token_cache_store(authority, token) < 0) {
		snprintf(st.message, sizeof st.message, "cannot store the token in the cache: %s",
			 privfile_strerror(errno));
		log_warn("signed in, but %s", st.message);
	}
	st.ok = code == EXIT_OK;
	st.url[0] = '\0';
	st.pid = 0;
	st.finished = real_ns();
	state_write(state_path, &st);
	if (carrier == CARRIER_CHILD) {
		explicit_bzero(token, size);
		_exit(code == EXIT_OK ? EXIT_OK : (int)code);
	}
out:
	flock(lock, LOCK_UN);
	close(lock);
	sigcatch_restore(login_stops, 3, old, &saved);
	return code;
}
