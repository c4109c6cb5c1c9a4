/* routesjson: the answer of Pomerium's routes API (protocol.md §10),
 * {"routes":[{"id","name","type","from","description",...}]}, parsed with
 * json-c into a bounded array. Nothing is parsed by hand: json-c checks
 * the syntax (strict, UTF-8 validated, nesting at most ROUTES_DEPTH_MAX);
 * this module only picks the fields. Before json-c sees the bytes, the
 * objects and arrays they open are counted (brackets outside strings), so
 * that a small answer of many empty objects cannot make json-c allocate
 * hundreds of megabytes: at most ROUTES_CONTAINERS_MAX.
 *
 * json-c is loaded with dlopen() on first use, like libcurl, so the tunnel
 * never maps it; built with -DPOM_JSON_STATIC, a statically linked json-c
 * is called instead. */
#ifndef POM_ROUTESJSON_H
#define POM_ROUTESJSON_H

#include <stddef.h>

#define ROUTES_BODY_MAX (1u << 20) /* largest answer accepted */
#define ROUTES_DEPTH_MAX 16        /* deepest nesting json-c may follow */
#define ROUTES_MAX 512             /* routes kept; the rest are counted */
#define ROUTES_CONTAINERS_MAX (8 * ROUTES_MAX) /* objects + arrays accepted */

enum route_type { ROUTE_HTTP, ROUTE_TCP, ROUTE_UDP, ROUTE_MCP, ROUTE_OTHER };

/* One route; in every text field, C1 controls, line separators and
 * bidirectional overrides are made '?' (they would steer a terminal). */
struct route {
	enum route_type type;
	char type_name[16];        /* as sent (no control characters) */
	char name[128];
	char from[512];
	char description[256];     /* control characters made blanks, cut to fit */
};

struct route_list {
	size_t n;                  /* routes in r */
	size_t dropped;            /* routes left out: past ROUTES_MAX, or a
				    * type, name or from too long, not a
				    * string, or with a control character */
	struct route r[ROUTES_MAX];
};

/* Parse the len bytes at json (any bytes; len > ROUTES_BODY_MAX, or more
 * than ROUTES_CONTAINERS_MAX objects and arrays, fails) into out, in the
 * order sent. The root must be an object whose "routes"
 * is an array; elements that are not objects, or whose type or from is
 * missing or unusable, are dropped (counted). Missing name and
 * description are "". Returns 0, -1 when the bytes are not such an answer
 * (why, a short phrase, in *why), or -2 when json-c cannot be loaded
 * (after one log_error line). */
int routes_parse(const char *json, size_t len, struct route_list *out, const char **why);

#endif
