/* Unit tests for routesjson.c and routesout_target: Pomerium's routes
 * answer as its source writes it (fields, types, order, made-up names
 * kept), what is dropped (non-objects, missing type or from, control
 * characters, over-long fields, past ROUTES_MAX), what fails (not JSON,
 * trailing bytes, a NUL, nesting past ROUTES_DEPTH_MAX, no "routes"
 * array, over 1 MiB), every prefix of a good answer (fails or parses,
 * never more routes), and how tcp routes map to an ssh target. */
#include "routesjson.h"
#include "routesout.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct route_list l;

static int parse(const char *s, const char **why)
{
	return routes_parse(s, strlen(s), &l, why);
}

int main(void)
{
	const char *why;
	static const char good[] =
		"{\"routes\":[{\"id\":\"a\",\"name\":\"ssh\",\"type\":\"tcp\","
		"\"from\":\"tcp+https://ssh.corp.example.com:22\",\"description\":\"jump\\nhost\","
		"\"connect_command\":\"pomerium-cli tcp ssh.corp.example.com:22\",\"logo_url\":\"\"},"
		"{\"id\":\"b\",\"name\":\"web\",\"type\":\"http\",\"from\":\"https://web.example.com\","
		"\"description\":\"\",\"logo_url\":\"\"},"
		"{\"type\":\"udp\",\"from\":\"udp+https://dns.example.com:53\"},"
		"{\"type\":\"mcp\",\"from\":\"https://mcp.example.com\",\"mcp_connected\":true},"
		"{\"type\":\"grpc\",\"from\":\"https://g.example.com\",\"name\":null}],"
		"\"mcp_status_error\":\"x\"}\n";

	is_int(parse(good, &why), 0, "a Pomerium answer parses");
	is_int(l.n, 5, "  five routes");
	is_int(l.dropped, 0, "  none dropped");
	is_str(l.r[0].name, "ssh", "  name");
	is_str(l.r[0].from, "tcp+https://ssh.corp.example.com:22", "  from");
	is_str(l.r[0].description, "jump host", "  a newline in a description becomes a blank");
	is_int(l.r[0].type, ROUTE_TCP, "  tcp");
	is_int(l.r[1].type, ROUTE_HTTP, "  http");
	is_int(l.r[2].type, ROUTE_UDP, "  udp");
	is_str(l.r[2].name, "", "  a missing name is empty");
	is_int(l.r[3].type, ROUTE_MCP, "  mcp");
	is_int(l.r[4].type, ROUTE_OTHER, "  an unknown type is kept as other");
	is_str(l.r[4].type_name, "grpc", "  with its name");

	is_int(parse("{\"routes\":[]}", &why), 0, "no routes parses");
	is_int(l.n, 0, "  to none");
	is_int(parse("{\"routes\":[1,\"x\",{\"from\":\"a\"},{\"type\":\"tcp\"},"
		     "{\"type\":\"tcp\",\"from\":\"a\\u0001b\"},{\"type\":\"tcp\",\"from\":\"x\",\"name\":7},"
		     "{\"type\":\"tcp\",\"from\":\"ok\"}]}", &why), 0, "unusable elements");
	is_int(l.n, 1, "  leave one route");
	is_int(l.dropped, 6, "  and are counted as dropped");

	char *big = malloc(ROUTES_BODY_MAX + 64);
	char *p = big + sprintf(big, "{\"routes\":[");
	for (int i = 0; i < ROUTES_MAX + 3; i++)
		p += sprintf(p, "%s{\"type\":\"tcp\",\"from\":\"tcp+https://h%d.example:22\"}", i ? "," : "", i);
	strcpy(p, "]}");
	is_int(parse(big, &why), 0, "more than ROUTES_MAX routes parse");
	is_int(l.n, ROUTES_MAX, "  ROUTES_MAX kept");
	is_int(l.dropped, 3, "  the rest counted");
	p = big + sprintf(big, "{\"routes\":[{\"type\":\"tcp\",\"from\":\"");
	memset(p, 'a', 600);
	strcpy(p + 600, "\"}]}");
	is_int(parse(big, &why), 0, "an over-long from");
	is_int(l.n + 10 * l.dropped, 10, "  drops its route");
	memset(big, ' ', ROUTES_BODY_MAX + 1);
	memcpy(big, "{\"routes\":[]}", 13);
	int over = routes_parse(big, ROUTES_BODY_MAX + 1, &l, &why);
	ok(over == -1, "over 1 MiB fails (%s)", why);

	is_int(parse("{\"routes\":[{\"type\":\"http\",\"from\":\"https://w\",\"name\":"
		     "\"a\\u009bb\\u202ec\\u2066d\\u00e9\\u2069\",\"description\":\"\\u2028x\"}]}", &why),
	       0, "names with terminal-steering characters parse");
	is_str(l.r[0].name, "a??b???c???d\xc3\xa9???", "  C1 controls and bidi overrides become '?', é stays");
	is_str(l.r[0].description, "???x", "  a line separator in a description too");

	int rc;
	p = big + sprintf(big, "{\"routes\":[");
	for (int i = 0; i < ROUTES_CONTAINERS_MAX; i++)
		p += sprintf(p, "%s{}", i ? "," : "");
	strcpy(p, "]}");
	rc = parse(big, &why);
	ok(rc == -1 && strstr(why, "objects"),
	   "more than ROUTES_CONTAINERS_MAX objects fail before json-c allocates them (%s)", why);
	p = big + sprintf(big, "{\"routes\":[{\"type\":\"tcp\",\"from\":\"tcp+https://h:22\","
			       "\"description\":\"\\\"");
	memset(p, '{', ROUTES_CONTAINERS_MAX + 1);
	strcpy(p + ROUTES_CONTAINERS_MAX + 1, "\"}]}");
	is_int(parse(big, &why), 0, "brackets inside a string (after an escaped quote) do not count");
	is_int(l.n, 1, "  its route is kept");

	static const char *bad[] = { "", "x", "{\"routes\":{}}", "{\"r\":[]}", "[]", "{\"routes\":[]} x",
		"{\"routes\":[]}{}", "{\"routes\":[,]}", "{\"routes\":[]", "{\"routes\":[\"\xff\"]}" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int rc = parse(bad[i], &why);
		ok(rc == -1 && why && *why, "'%s' fails (%s)", bad[i], why);
	}
	is_int(parse("{\"routes\":[]} \r\n", &why), 0, "trailing white space is fine");
	ok(routes_parse("{\"routes\":[]}\0", 14, &l, &why) == -1, "a NUL byte fails");
	p = big;
	for (int i = 0; i < ROUTES_DEPTH_MAX + 1; i++)
		*p++ = '[';
	*p = '\0';
	char deep[256];
	snprintf(deep, sizeof deep, "{\"routes\":[{\"type\":\"tcp\",\"from\":\"x\",\"extra\":%s}]}", big);
	rc = parse(deep, &why);
	ok(rc == -1 && strstr(why, "deep"), "nesting past the limit fails (%s)", why);

	int worse = 0;
	for (size_t n = 0; n < sizeof good - 1; n++) {
		int rc = routes_parse(good, n, &l, &why);
		worse |= rc == 0 && l.n > 5;
		worse |= rc != 0 && rc != -1;
	}
	ok(!worse, "every prefix of the answer fails cleanly or parses to at most its routes");
	free(big);

	struct route r = { ROUTE_TCP, "tcp", "n", "tcp+https://ssh.corp.example.com:22", "" };
	struct route_target t;
	struct dest proxy;
	char err[256];
	ok(dest_parse_proxy(&proxy, "https://proxy.example.com", err, sizeof err) == 0,
	   "the proxy asked: https://proxy.example.com");
	ok(routesout_target(&r, &proxy, &t) && strcmp(t.host, "ssh.corp.example.com") == 0 &&
	   t.port == 22 && !t.path_style && !t.other_proxy, "tcp+https://host:22: host and port");
	strcpy(r.from, "tcp+https://proxy.example.com/db:5432");
	ok(routesout_target(&r, &proxy, &t) && strcmp(t.host, "db") == 0 && t.port == 5432 &&
	   t.path_style && !t.other_proxy,
	   "a path-style route of the proxy asked: the destination in the path");
	strcpy(r.from, "tcp+https://proxy.example.com:443/db:5432");
	ok(routesout_target(&r, &proxy, &t) && !t.other_proxy, "  also with its port 443 written");
	strcpy(r.from, "tcp+https://other.example.com/db:5432");
	ok(routesout_target(&r, &proxy, &t) && t.other_proxy,
	   "a path-style route of another proxy host: marked, no command");
	strcpy(r.from, "tcp+http://proxy.example.com/db:5432");
	ok(routesout_target(&r, &proxy, &t) && t.other_proxy, "  so is one over plain http");
	strcpy(r.from, "tcp+https://proxy.example.com:8443/db:5432");
	ok(routesout_target(&r, &proxy, &t) && t.other_proxy, "  and one on another port");
	strcpy(r.from, "https://web.example.com");
	ok(!routesout_target(&r, &proxy, &t), "a tcp route whose from is not tcp+: not for ssh");
	strcpy(r.from, "tcp+https://*.example.com:22");
	ok(!routesout_target(&r, &proxy, &t), "a wildcard host: not for ssh");
	strcpy(r.from, "tcp+https://-oFoo.example:22");
	ok(!routesout_target(&r, &proxy, &t), "a host ssh would take for an option: not for ssh");
	r.type = ROUTE_UDP;
	strcpy(r.from, "udp+https://dns.example.com:53");
	ok(!routesout_target(&r, &proxy, &t), "a udp route: not for ssh");

	return done_testing();
}
