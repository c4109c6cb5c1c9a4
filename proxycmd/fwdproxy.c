#include "fwdproxy.h"
#include "base64.h"
#include "tunnel.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *env2(const char *a, const char *b)
{
	const char *v = getenv(a);
	if (v && *v)
		return v;
	v = b ? getenv(b) : NULL;
	return v && *v ? v : NULL;
}

/* Does the IP literal host fall in "addr/bits" (or equal "addr")? */
static int ip_match(const char *entry, const char *host)
{
	unsigned char net[16], ip[16];
	char addr[64];
	const char *slash = strchr(entry, '/');
	size_t al = slash ? (size_t)(slash - entry) : strlen(entry);
	int fam = strchr(host, ':') ? AF_INET6 : AF_INET;
	int max = fam == AF_INET6 ? 128 : 32;
	long bits = max;
	if (al >= sizeof addr)
		return 0;
	memcpy(addr, entry, al);
	addr[al] = '\0';
	if (inet_pton(fam, addr, net) != 1 || inet_pton(fam, host, ip) != 1)
		return 0;
	if (slash) {
		char *end;
		bits = strtol(slash + 1, &end, 10);
		if (*end || bits < 0 || bits > max)
			return 0;
	}
	for (long i = 0; i < bits; i++) {
		int byte = (int)(i / 8), bit = 7 - (int)(i % 8);
		if (((net[byte] >> bit) & 1) != ((ip[byte] >> bit) & 1))
			return 0;
	}
	return 1;
}

int fwdproxy_no_proxy_match(const char *list, const char *host)
{
	unsigned char tmp[16];
	int host_is_ip = inet_pton(AF_INET, host, tmp) == 1 || inet_pton(AF_INET6, host, tmp) == 1;
	size_t hl = strlen(host);
	while (*list) {
		size_t n = strcspn(list, ",");
		const char *e = list;
		size_t el = n;
		while (el && (*e == ' ' || *e == '\t')) {
			e++;
			el--;
		}
		while (el && (e[el - 1] == ' ' || e[el - 1] == '\t'))
			el--;
		if (el == 1 && *e == '*')
			return 1;
		if (el && el < 128) {
			char entry[128];
			memcpy(entry, e, el);
			entry[el] = '\0';
			if (entry[0] == '[') { /* [v6] */
				memmove(entry, entry + 1, el);
				char *c = strchr(entry, ']');
				if (c)
					*c = '\0';
			}
			if (host_is_ip) {
				if (ip_match(entry, host))
					return 1;
			} else {
				const char *en = entry[0] == '.' ? entry + 1 : entry;
				size_t enl = strlen(en);
				if (enl && enl <= hl && strcasecmp(host + hl - enl, en) == 0 &&
				    (enl == hl || host[hl - enl - 1] == '.'))
					return 1;
			}
		}
		list += n;
		if (*list == ',')
			list++;
	}
	return 0;
}

int fwdproxy_read_credentials(const char *path, char *out, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, out, size - 1);
	int e = errno;
	close(fd);
	if (n < 0) {
		errno = e;
		return -1;
	}
	out[n] = '\0';
	out[strcspn(out, "\r\n")] = '\0';
	if (!strchr(out, ':')) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

enum pom_exit fwdproxy_select(struct fwdproxy *fp, const char *flag, const char *cred_file,
			      const struct dest *target, int *via)
{
	const char *url = flag;
	const char *what = "--proxy";
	char err[256], creds[512] = "", hostport[DEST_HOST_MAX + 16], full[DEST_HOST_MAX + 32];

	memset(fp, 0, sizeof *fp);
	*via = 0;
	if (!url) {
		url = target->tls ? env2("https_proxy", "HTTPS_PROXY") : env2("http_proxy", NULL);
		what = target->tls ? "https_proxy" : "http_proxy";
		if (!url) {
			url = env2("all_proxy", "ALL_PROXY");
			what = "all_proxy";
		}
		const char *np = env2("no_proxy", "NO_PROXY");
		if (url && np && fwdproxy_no_proxy_match(np, target->proxy_host)) {
			log_debug(1, "no_proxy matches %s: connecting directly", target->proxy_host);
			return EXIT_OK;
		}
	}
	if (!url || !*url || strcmp(url, "-") == 0)
		return EXIT_OK;

	/* scheme://[user:pass@]host[:port][/] */
	const char *sep = strstr(url, "://");
	const char *rest = sep ? sep + 3 : url;
	int tls = 0;
	if (sep) {
		size_t sl = (size_t)(sep - url);
		if (sl == 5 && strncasecmp(url, "https", 5) == 0)
			tls = 1;
		else if (!(sl == 4 && strncasecmp(url, "http", 4) == 0)) {
			log_error("%s: unsupported forward proxy scheme (use http:// or https://)", what);
			return EXIT_USAGE;
		}
	}
	size_t auth_end = strcspn(rest, "/?#");
	const char *at = memrchr(rest, '@', auth_end);
	if (at) {
		if (dest_pct_decode(rest, (size_t)(at - rest), creds, sizeof creds) < 0 ||
		    !strchr(creds, ':')) {
			explicit_bzero(creds, sizeof creds);
			log_error("%s: credentials in the URL must be user:password", what);
			return EXIT_USAGE;
		}
		rest = at + 1;
		auth_end = strcspn(rest, "/?#");
	}
	if (auth_end >= sizeof hostport) {
		log_error("%s: forward proxy URL too long", what);
		return EXIT_USAGE;
	}
	memcpy(hostport, rest, auth_end);
	hostport[auth_end] = '\0';
	/* default ports as curl: 1080 for http, 443 for https */
	int has_port = hostport[0] == '[' ? strstr(hostport, "]:") != NULL : strchr(hostport, ':') != NULL;
	snprintf(full, sizeof full, "%s://%s%s", tls ? "https" : "http", hostport,
		 has_port ? "" : tls ? ":443" : ":1080");
	if (dest_parse_proxy(&fp->d, full, err, sizeof err) < 0) {
		explicit_bzero(creds, sizeof creds);
		log_error("%s: %s", what, err);
		return EXIT_USAGE;
	}
	if (cred_file && !at && fwdproxy_read_credentials(cred_file, creds, sizeof creds) < 0) {
		log_error("cannot read forward proxy credentials from %s: %s", cred_file,
			  errno == EINVAL ? "expected user:password" : strerror(errno));
		explicit_bzero(creds, sizeof creds);
		return EXIT_USAGE;
	}
	if (creds[0] && base64_encode((unsigned char *)creds, strlen(creds), fp->basic,
				   sizeof fp->basic) < 0) {
		explicit_bzero(creds, sizeof creds);
		log_error("forward proxy credentials are too long");
		return EXIT_USAGE;
	}
	explicit_bzero(creds, sizeof creds);
	snprintf(fp->d.dest_host, sizeof fp->d.dest_host, "%s", target->proxy_host);
	fp->d.dest_port = target->proxy_port;
	char a[DEST_HOST_MAX + 8];
	dest_authority(a, sizeof a, fp->d.proxy_host, fp->d.proxy_port);
	snprintf(fp->shown, sizeof fp->shown, "%s://%s", tls ? "https" : "http", a);
	log_debug(1, "forward proxy %s (from %s)%s", fp->shown, what,
		  fp->basic[0] ? " with credentials" : "");
	*via = 1;
	return EXIT_OK;
}

enum pom_exit fwdproxy_open(const struct fwdproxy *fp, const struct tls_params *tls,
			    int timeout_ms, struct tls_client *t, struct splice_plain *plain,
			    int *fd)
{
	enum pom_exit code;
	struct tunnel ft;
	struct tunnel_config c = { &fp->d, NULL, tls, timeout_ms, NULL,
				   fp->basic[0] ? fp->basic : NULL, -1 };
	ft.tls = t;
	ft.plain = plain;
	code = tunnel_open(&ft, &c);
	if (code != EXIT_OK)
		return code;
	if (ft.resp.status != 200) {
		char target[DEST_HOST_MAX + 8];
		dest_authority(target, sizeof target, fp->d.dest_host, fp->d.dest_port);
		log_error("cannot reach %s through forward proxy %s: it answered %d %s%s",
			  target, fp->shown, ft.resp.status,
			  ft.resp.reason, ft.resp.status == 407 ? " (wrong or missing credentials)" : "");
		tunnel_close(&ft);
		return EXIT_CONNECT;
	}
	if (!fp->d.tls) {
		if (plain->down_len) {
			log_error("forward proxy %s sent data before the TLS handshake", fp->shown);
			tunnel_close(&ft);
			return EXIT_PROTOCOL;
		}
		*fd = ft.fd;
		return EXIT_OK;
	}
	/* https forward proxy: a helper process carries the outer TLS session */
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
		log_error("cannot create a socket pair: %s", strerror(errno));
		tunnel_close(&ft);
		return EXIT_LOCAL;
	}
	pid_t pid = fork();
	if (pid < 0) {
		log_error("cannot start the forward proxy helper: %s", strerror(errno));
		close(sp[0]);
		close(sp[1]);
		tunnel_close(&ft);
		return EXIT_LOCAL;
	}
	if (pid == 0) {
		static volatile sig_atomic_t never;
		struct splice_result res;
		struct splice_fds fds = { sp[1], sp[1], ft.fd, ft.fd, 1 };
		sigset_t mask;
		close(sp[0]);
		signal(SIGHUP, SIG_IGN); /* ends with its parent's socket instead */
		signal(SIGINT, SIG_IGN);
		sigprocmask(SIG_SETMASK, NULL, &mask);
		fcntl(sp[1], F_SETFL, O_NONBLOCK);
		splice_run(tls_engine(t), NULL, &fds, &mask, &never, &res);
		_exit(0);
	}
	close(sp[1]);
	close(ft.fd);
	log_debug(1, "through forward proxy %s (TLS, helper process %d)", fp->shown, (int)pid);
	*fd = sp[0];
	return EXIT_OK;
}
