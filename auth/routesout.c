#include "routesout.h"
#include "dest.h"
#include "httpget.h"
#include "log.h"
#include "sshconfig.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int routesout_target(const struct route *r, const struct dest *proxy, struct route_target *t)
{
	struct dest d;
	char err[256];
	if (r->type != ROUTE_TCP || strncasecmp(r->from, "tcp+", 4) != 0 ||
	    dest_parse(&d, r->from, NULL, err, sizeof err) < 0 || d.dest_host[0] == '-')
		return 0;
	const char *auth = strstr(r->from, "://");
	const char *slash = auth ? strchr(auth + 3, '/') : NULL;
	t->path_style = slash && slash[1];
	t->other_proxy = t->path_style &&
			 (d.tls != proxy->tls || d.proxy_port != proxy->proxy_port ||
			  strcmp(d.proxy_host, proxy->proxy_host) != 0);
	snprintf(t->host, sizeof t->host, "%s", d.dest_host);
	t->port = d.dest_port;
	return 1;
}

/* The proxy's URL as every printed command gives it to --pomerium-url:
 * https://host[:port] even when the user named it bare. */
struct proxy_url {
	char s[DEST_HOST_MAX + 32];
};

/* Fill u from proxy: 0, or -1 after a log_error line. */
static int proxy_url(const struct dest *proxy, struct proxy_url *u)
{
	if (httpget_base_url(proxy, u->s, sizeof u->s) < 0) {
		log_error("the proxy's URL is too long to write");
		return -1;
	}
	return 0;
}

/* The ProxyCommand for dest (through url when given) as one string;
 * NULL when out of memory. */
static char *command_string(const char *self, const char *url, const char *const *opts,
			    int n, const char *dest)
{
	char *s = NULL;
	size_t len;
	FILE *f = open_memstream(&s, &len);
	if (!f)
		return NULL;
	sshconfig_command(f, self, url, opts, n, dest);
	if (fclose(f) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

/* "ssh -o ProxyCommand=... [-p PORT] HOST" for a tcp route of the proxy
 * at url, or a line saying which proxy serves a route of another. */
static int print_ssh_command(const struct route_target *t, const char *self, const char *url,
			     const char *const *opts, int n)
{
	if (t->other_proxy) {
		printf("      (a route of another proxy host: list that proxy's routes)\n");
		return 0;
	}
	char *pc = command_string(self, url, opts, n, "%h:%p");
	if (!pc)
		return -1;
	printf("      ssh -o ProxyCommand=");
	sshconfig_shell_word(stdout, pc);
	if (t->port != 22)
		printf(" -p %u", t->port);
	printf(" %s\n", t->host);
	free(pc);
	return 0;
}

static void print_line(const struct route *r, int width)
{
	printf("%-5s %-*s %s%s%s\n", r->type_name, width, r->name[0] ? r->name : "-", r->from,
	       r->description[0] ? "  " : "", r->description);
}

enum pom_exit routesout_list(const struct route_list *l, const struct dest *proxy,
			     const char *const *opts, int n)
{
	char self[PATH_MAX];
	struct route_target t;
	struct proxy_url u;
	const char *url = u.s;
	int width = 4;
	enum pom_exit code = sshconfig_self(self, sizeof self);
	if (code != EXIT_OK)
		return code;
	if (proxy_url(proxy, &u) < 0)
		return EXIT_USAGE;
	if (l->n == 0)
		log_error("%s lists no routes that you may use", url);
	for (size_t i = 0; i < l->n; i++) {
		int w = (int)strlen(l->r[i].name);
		width = w > width ? (w < 24 ? w : 24) : width;
	}
	for (size_t i = 0; i < l->n; i++)
		if (routesout_target(&l->r[i], proxy, &t)) {
			print_line(&l->r[i], width);
			if (print_ssh_command(&t, self, url, opts, n) < 0) {
				log_error("out of memory");
				return EXIT_LOCAL;
			}
		}
	for (size_t i = 0; i < l->n; i++)
		if (!routesout_target(&l->r[i], proxy, &t))
			print_line(&l->r[i], width);
	if (fflush(stdout) != 0) {
		log_error("cannot write the routes to stdout");
		return EXIT_LOCAL;
	}
	return EXIT_OK;
}

struct block {
	const struct route *r;
	struct route_target t;
	const char *skip;          /* why it gets no Host block, or NULL */
	char name[sizeof ((struct route_target *)0)->host + 8]; /* its Host name */
	int alias;                 /* name is HOST-PORT (a host's second port) */
};

static int block_cmp(const void *a, const void *b)
{
	const struct block *x = a, *y = b;
	int c = strcasecmp(x->t.host, y->t.host);
	if (c)
		return c;
	if ((x->t.port == 22) != (y->t.port == 22))
		return x->t.port == 22 ? -1 : 1;
	if (x->t.port != y->t.port)
		return x->t.port < y->t.port ? -1 : 1;
	return 0;
}

/* The order of the blocks: block_cmp, then the route's from and name. */
static int block_order(const void *a, const void *b)
{
	const struct block *x = a, *y = b;
	int c = block_cmp(a, b);
	if (!c)
		c = strcmp(x->r->from, y->r->from);
	return c ? c : strcmp(x->r->name, y->r->name);
}

/* Header: what this is and how to regenerate it. */
static void print_header(const char *self, const char *url, const char *const *opts, int n,
			 int sign_in_first)
{
	fputs("# ssh_config for the tcp routes of ", stdout);
	fputs(url, stdout);
	fputs(", from its routes list.\n# Regenerate it with\n#   ", stdout);
	sshconfig_shell_word(stdout, self);
	fputs(" ssh-config --routes ", stdout);
	sshconfig_shell_word(stdout, url);
	for (int i = 0; i < n; i++) {
		putchar(' ');
		sshconfig_shell_word(stdout, opts[i]);
	}
	printf("%s > FILE\n", sign_in_first ? " --sign-in-first" : "");
	fputs("# and use it with \"Include FILE\" in ~/.ssh/config, above its first Host or\n"
	      "# Match line.\n", stdout);
}

/* Why block b (the i-th, sorted) gets no Host block, or NULL. */
static const char *skip_reason(const struct block *b, size_t i)
{
	if (b[i].t.other_proxy)
		return "a path-style route of another proxy host (list that proxy's routes)";
	if (strchr(b[i].t.host, ':'))
		return "an IPv6 literal is no ssh host pattern";
	if (i > 0 && block_cmp(&b[i - 1], &b[i]) == 0)
		return "the same host and port as the route above";
	return NULL;
}

/* Decide, once, for the nb sorted blocks which get a Host block and by
 * what name: the host, or HOST-PORT for a host's second port. */
static void name_blocks(struct block *b, size_t nb)
{
	const char *last = "";
	for (size_t i = 0; i < nb; i++) {
		b[i].skip = skip_reason(b, i);
		if (b[i].skip)
			continue;
		b[i].alias = strcasecmp(b[i].t.host, last) == 0;
		if (b[i].alias)
			snprintf(b[i].name, sizeof b[i].name, "%s-%u", b[i].t.host, b[i].t.port);
		else
			snprintf(b[i].name, sizeof b[i].name, "%s", b[i].t.host);
		last = b[i].t.host;
	}
}

/* The --sign-in-first line for every Host name that gets a block. */
static int print_match(const struct block *b, size_t nb, const char *self, const char *url,
		       const char *const *opts, int n)
{
	char *hosts = NULL;
	size_t len;
	const char *sep = "";
	FILE *f = open_memstream(&hosts, &len);
	if (!f)
		return -1;
	for (size_t i = 0; i < nb; i++)
		if (!b[i].skip) {
			fprintf(f, "%s%s", sep, b[i].name);
			sep = ",";
		}
	if (fclose(f) != 0) {
		free(hosts);
		return -1;
	}
	if (hosts[0]) {
		putchar('\n');
		sshconfig_match_signin(hosts, self, url, opts, n);
	}
	free(hosts);
	return 0;
}

enum pom_exit routesout_sshconfig(const struct route_list *l, const struct dest *proxy,
				  const char *const *opts, int n, int sign_in_first)
{
	static struct block b[ROUTES_MAX];
	char self[PATH_MAX];
	struct proxy_url u;
	const char *url = u.s;
	size_t nb = 0, other = 0;
	enum pom_exit code = sshconfig_self(self, sizeof self);
	if (code == EXIT_OK && proxy_url(proxy, &u) < 0)
		code = EXIT_USAGE;
	if (code == EXIT_OK)
		code = sshconfig_check_values(url, opts, n, sign_in_first);
	if (code != EXIT_OK)
		return code;
	for (size_t i = 0; i < l->n; i++) {
		b[nb].r = &l->r[i];
		if (routesout_target(&l->r[i], proxy, &b[nb].t))
			nb++;
		else
			other++;
	}
	qsort(b, nb, sizeof b[0], block_order);
	name_blocks(b, nb);
	print_header(self, url, opts, n, sign_in_first);
	if (sign_in_first && print_match(b, nb, self, url, opts, n) < 0) {
		log_error("out of memory");
		return EXIT_LOCAL;
	}
	size_t hosts = 0;
	for (size_t i = 0; i < nb; i++) {
		printf("\n# route \"%s\" (%s)\n", b[i].r->name, b[i].r->from);
		if (b[i].skip) {
			printf("# skipped: %s\n", b[i].skip);
			continue;
		}
		hosts++;
		printf("Host %s\n", b[i].name);
		if (b[i].alias)
			printf("    HostName %s\n", b[i].t.host);
		if (b[i].t.port != 22)
			printf("    Port %u\n", b[i].t.port);
		sshconfig_proxycommand(self, url, opts, n);
	}
	if (other)
		printf("\n# not for ssh: %zu route%s of another type (http, udp, mcp)\n", other,
		       other == 1 ? "" : "s");
	if (fflush(stdout) != 0) {
		log_error("cannot write the configuration to stdout");
		return EXIT_LOCAL;
	}
	log_error("%zu Host block%s for the tcp routes of %s: save them in a file and Include "
		  "it from ~/.ssh/config", hosts, hosts == 1 ? "" : "s", url);
	return EXIT_OK;
}
