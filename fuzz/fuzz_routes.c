/* libFuzzer target: the routes API's answer (routesjson) — any bytes
 * either fail to parse cleanly or give at most ROUTES_MAX routes whose
 * fields are NUL-terminated within their arrays and free of control
 * characters — and the ssh_config made from them (routesout): every line
 * is a comment, a blank, or one of the lines routesout writes, with Host
 * names ssh cannot take for anything else. */
#include "dest.h"
#include "routesjson.h"
#include "routesout.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 1 when buf holds a terminated string without control characters */
static int clean(const char *buf, size_t size)
{
	const char *end = memchr(buf, '\0', size);
	if (!end)
		return 0;
	for (const char *p = buf; p < end; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

/* 1 when s[0..len) is a Host name routesout may write: a host of letters,
 * digits, dots, hyphens and underscores, not starting with a hyphen. */
static int host_name(const char *s, size_t len)
{
	if (len == 0 || s[0] == '-')
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-", s[i]))
			return 0;
	return 1;
}

/* Check the ssh_config that routesout_sshconfig makes of list. */
static void check_config(const struct route_list *list)
{
	static struct dest proxy;
	static int parsed;
	char err[128], *out = NULL;
	size_t len = 0;
	if (!parsed && dest_parse_proxy(&proxy, "https://proxy.corp.test", err, sizeof err) < 0)
		abort();
	parsed = 1;
	FILE *saved = stdout, *f = open_memstream(&out, &len);
	if (!f)
		return;
	stdout = f;
	enum pom_exit code = routesout_sshconfig(list, &proxy, NULL, 0, 1);
	fclose(f);
	stdout = saved;
	for (char *line = out, *nl; code == EXIT_OK && line < out + len; line = nl + 1) {
		nl = memchr(line, '\n', (size_t)(out + len - line));
		if (!nl)
			abort(); /* every line ends */
		size_t n = (size_t)(nl - line);
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)line[i] < 0x20 && line[i] != '\t')
				abort();
		if (n == 0 || line[0] == '#' || strncmp(line, "    ProxyCommand /", 18) == 0 ||
		    strncmp(line, "Match host ", 11) == 0)
			continue;
		if (strncmp(line, "Host ", 5) == 0 && host_name(line + 5, n - 5))
			continue;
		if (strncmp(line, "    HostName ", 13) == 0 && host_name(line + 13, n - 13))
			continue;
		if (strncmp(line, "    Port ", 9) == 0 && n > 9 && strspn(line + 9, "0123456789") == n - 9)
			continue;
		abort(); /* a line routesout does not write */
	}
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct route_list list;
	const char *why;
	int rc = routes_parse((const char *)data, size, &list, &why);
	if (rc == -2)
		abort(); /* json-c must be loadable where the fuzzer runs */
	if (rc < 0) {
		if (!why || !*why)
			abort(); /* a failure always says why */
		return 0;
	}
	if (list.n > ROUTES_MAX)
		abort();
	for (size_t i = 0; i < list.n; i++) {
		const struct route *r = &list.r[i];
		if (!clean(r->type_name, sizeof r->type_name) || !clean(r->name, sizeof r->name) ||
		    !clean(r->from, sizeof r->from) ||
		    !clean(r->description, sizeof r->description) || r->type > ROUTE_OTHER)
			abort();
	}
	check_config(&list);
	return 0;
}
