/* libFuzzer target: the routes API's answer (routesjson) — any bytes
 * either fail to parse cleanly or give at most ROUTES_MAX routes whose
 * fields are NUL-terminated within their arrays and free of control
 * characters. */
#include "routesjson.h"

#include <stdint.h>
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
	return 0;
}
