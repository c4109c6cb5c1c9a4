#include "routesjson.h"
#include "log.h"

#include <json-c/json.h>
#include <string.h>

#ifndef POM_JSON_STATIC
#include <dlfcn.h>
#endif

/* The few json-c entry points used, resolved at run time. */
struct json_api {
	struct json_tokener *(*tokener_new_ex)(int);
	void (*tokener_set_flags)(struct json_tokener *, int);
	struct json_object *(*tokener_parse_ex)(struct json_tokener *, const char *, int);
	enum json_tokener_error (*tokener_get_error)(struct json_tokener *);
	size_t (*tokener_get_parse_end)(struct json_tokener *);
	void (*tokener_free)(struct json_tokener *);
	json_bool (*object_get_ex)(const struct json_object *, const char *, struct json_object **);
	enum json_type (*get_type)(const struct json_object *);
	size_t (*array_length)(const struct json_object *);
	struct json_object *(*array_get_idx)(const struct json_object *, size_t);
	const char *(*get_string)(struct json_object *);
	int (*get_string_len)(const struct json_object *);
	int (*put)(struct json_object *);
};

#ifdef POM_JSON_STATIC
static int json_load(struct json_api *j)
{
	j->tokener_new_ex = json_tokener_new_ex;
	j->tokener_set_flags = json_tokener_set_flags;
	j->tokener_parse_ex = json_tokener_parse_ex;
	j->tokener_get_error = json_tokener_get_error;
	j->tokener_get_parse_end = json_tokener_get_parse_end;
	j->tokener_free = json_tokener_free;
	j->object_get_ex = json_object_object_get_ex;
	j->get_type = json_object_get_type;
	j->array_length = json_object_array_length;
	j->array_get_idx = json_object_array_get_idx;
	j->get_string = json_object_get_string;
	j->get_string_len = json_object_get_string_len;
	j->put = json_object_put;
	return 0;
}
#else
static int json_load(struct json_api *j)
{
	void *h = dlopen("libjson-c.so.5", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		log_error("reading the routes list needs json-c, which is not installed "
			  "(Debian: apt-get install libjson-c5)");
		return -1;
	}
	/* POSIX lets a void * from dlsym become a function pointer this way */
	*(void **)&j->tokener_new_ex = dlsym(h, "json_tokener_new_ex");
	*(void **)&j->tokener_set_flags = dlsym(h, "json_tokener_set_flags");
	*(void **)&j->tokener_parse_ex = dlsym(h, "json_tokener_parse_ex");
	*(void **)&j->tokener_get_error = dlsym(h, "json_tokener_get_error");
	*(void **)&j->tokener_get_parse_end = dlsym(h, "json_tokener_get_parse_end");
	*(void **)&j->tokener_free = dlsym(h, "json_tokener_free");
	*(void **)&j->object_get_ex = dlsym(h, "json_object_object_get_ex");
	*(void **)&j->get_type = dlsym(h, "json_object_get_type");
	*(void **)&j->array_length = dlsym(h, "json_object_array_length");
	*(void **)&j->array_get_idx = dlsym(h, "json_object_array_get_idx");
	*(void **)&j->get_string = dlsym(h, "json_object_get_string");
	*(void **)&j->get_string_len = dlsym(h, "json_object_get_string_len");
	*(void **)&j->put = dlsym(h, "json_object_put");
	if (!j->tokener_new_ex || !j->tokener_set_flags || !j->tokener_parse_ex ||
	    !j->tokener_get_error || !j->tokener_get_parse_end || !j->tokener_free ||
	    !j->object_get_ex || !j->get_type || !j->array_length || !j->array_get_idx ||
	    !j->get_string || !j->get_string_len || !j->put) {
		log_error("the installed json-c lacks functions pom-proxy needs");
		return -1;
	}
	return 0;
}
#endif

/* Overwrite with '?' the characters of the UTF-8 text s[0..len) that
 * would steer a terminal rather than show: the C1 controls (U+0080 to
 * U+009F) and the line separators and bidirectional embeddings and
 * overrides (U+2028 to U+202E, U+2066 to U+2069). json-c has checked
 * that s is well-formed. */
static void defang(char *s, size_t len)
{
	unsigned char *u = (unsigned char *)s;
	for (size_t i = 0; i + 1 < len; i++) {
		size_t n = 0;
		if (u[i] == 0xc2 && u[i + 1] >= 0x80 && u[i + 1] <= 0x9f)
			n = 2;
		else if (i + 2 < len && u[i] == 0xe2 &&
			 ((u[i + 1] == 0x80 && u[i + 2] >= 0xa8 && u[i + 2] <= 0xae) ||
			  (u[i + 1] == 0x81 && u[i + 2] >= 0xa6 && u[i + 2] <= 0xa9)))
			n = 3;
		memset(u + i, '?', n);
	}
}

/* Copy the string member key of obj into buf. A missing member (or JSON
 * null) gives "" when optional. With blanks, control characters become
 * blanks and a long value is cut at a character boundary; otherwise a
 * long value or one with a control character fails. Characters that
 * would steer a terminal become '?' (defang). Returns 0 or -1. */
static int field(const struct json_api *j, struct json_object *obj, const char *key,
		 char *buf, size_t size, int optional, int blanks)
{
	struct json_object *v = NULL;
	buf[0] = '\0';
	if (!j->object_get_ex(obj, key, &v) || j->get_type(v) == json_type_null)
		return optional ? 0 : -1;
	if (j->get_type(v) != json_type_string)
		return -1;
	const char *s = j->get_string(v);
	int n = j->get_string_len(v);
	if (!s || n < 0)
		return -1;
	size_t len = (size_t)n;
	if (len >= size) {
		if (!blanks)
			return -1;
		len = size - 1;
		while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
			len--; /* not inside a UTF-8 sequence */
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f) {
			if (!blanks)
				return -1;
			c = ' ';
		}
		buf[i] = (char)c;
	}
	buf[len] = '\0';
	defang(buf, len);
	return 0;
}

static enum route_type type_of(const char *t)
{
	static const char *names[] = { "http", "tcp", "udp", "mcp" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(t, names[i]) == 0)
			return (enum route_type)i;
	return ROUTE_OTHER;
}

/* One element of the routes array into r. Returns 0, or -1 to drop it. */
static int one_route(const struct json_api *j, struct json_object *e, struct route *r)
{
	if (j->get_type(e) != json_type_object ||
	    field(j, e, "type", r->type_name, sizeof r->type_name, 0, 0) < 0 ||
	    field(j, e, "from", r->from, sizeof r->from, 0, 0) < 0 ||
	    field(j, e, "name", r->name, sizeof r->name, 1, 0) < 0 ||
	    field(j, e, "description", r->description, sizeof r->description, 1, 1) < 0)
		return -1;
	r->type = type_of(r->type_name);
	return 0;
}

/* How many objects and arrays json[0..len) opens: '{' and '[' outside
 * strings (a string runs from '"' to the next '"' not escaped by '\\').
 * A bound on what json-c will allocate, not a parse: json-c judges the
 * syntax afterwards. */
static size_t containers(const char *json, size_t len)
{
	size_t n = 0;
	int in_string = 0;
	for (size_t i = 0; i < len; i++) {
		if (in_string) {
			if (json[i] == '\\')
				i++;
			else if (json[i] == '"')
				in_string = 0;
		} else if (json[i] == '"') {
			in_string = 1;
		} else if (json[i] == '{' || json[i] == '[') {
			n++;
		}
	}
	return n;
}

int routes_parse(const char *json, size_t len, struct route_list *out, const char **why)
{
	static struct json_api j;
	static int loaded;
	struct json_object *root = NULL, *arr = NULL;
	int rc = -1;

	out->n = out->dropped = 0;
	*why = "not a routes list";
	if (len > ROUTES_BODY_MAX) {
		*why = "larger than 1 MiB";
		return -1;
	}
	if (memchr(json, '\0', len)) {
		*why = "not JSON text (a NUL byte)";
		return -1;
	}
	if (containers(json, len) > ROUTES_CONTAINERS_MAX) {
		*why = "more objects and arrays than a routes list has";
		return -1;
	}
	if (!loaded) {
		if (json_load(&j) < 0)
			return -2;
		loaded = 1;
	}
	struct json_tokener *tok = j.tokener_new_ex(ROUTES_DEPTH_MAX);
	if (!tok) {
		*why = "out of memory";
		return -1;
	}
	j.tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	root = j.tokener_parse_ex(tok, json, (int)len);
	if (!root || j.tokener_get_error(tok) != json_tokener_success) {
		*why = j.tokener_get_error(tok) == json_tokener_error_depth ? "nested too deeply"
									    : "not valid JSON";
		goto out;
	}
	for (size_t i = j.tokener_get_parse_end(tok); i < len; i++)
		if (!strchr(" \t\r\n", json[i])) {
			*why = "not valid JSON (bytes after the value)";
			goto out;
		}
	if (j.get_type(root) != json_type_object || !j.object_get_ex(root, "routes", &arr) ||
	    j.get_type(arr) != json_type_array)
		goto out;
	size_t count = j.array_length(arr);
	for (size_t i = 0; i < count; i++) {
		if (out->n == ROUTES_MAX || one_route(&j, j.array_get_idx(arr, i), &out->r[out->n]) < 0)
			out->dropped++;
		else
			out->n++;
	}
	rc = 0;
out:
	if (root)
		j.put(root);
	j.tokener_free(tok);
	return rc;
}
