#include "pem.h"
#include "base64.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>

/* Index of the '\n' ending the line that starts at p, or len. */
static size_t line_end(const char *text, size_t len, size_t p)
{
	const char *nl = memchr(text + p, '\n', len - p);
	return nl ? (size_t)(nl - text) : len;
}

/* Index of the next line's start after the line [p, eol). */
static size_t next_line(size_t eol, size_t len)
{
	return eol < len ? eol + 1 : len;
}

/* First index in [p, eol) that is not a space or tab. */
static size_t skip_blanks(const char *text, size_t p, size_t eol)
{
	while (p < eol && (text[p] == ' ' || text[p] == '\t'))
		p++;
	return p;
}

/* 1 when [p, eol) starts with the NUL-terminated prefix. */
static int starts_with(const char *text, size_t p, size_t eol, const char *prefix)
{
	size_t n = strlen(prefix);
	return eol - p >= n && memcmp(text + p, prefix, n) == 0;
}

/* 1 when [p, eol) holds only whitespace (spaces, tabs, '\r'). */
static int only_space(const char *text, size_t p, size_t eol)
{
	for (; p < eol; p++)
		if (text[p] != ' ' && text[p] != '\t' && text[p] != '\r')
			return 0;
	return 1;
}

/* Parse "LABEL-----" then trailing whitespace in [p, eol) into label
 * (size 64). Returns 1, or 0 when the line is not of that form. */
static int parse_label(const char *text, size_t p, size_t eol, char label[64])
{
	for (size_t i = p; i + 5 <= eol; i++) {
		if (memcmp(text + i, "-----", 5) != 0)
			continue;
		if (i - p >= 64 || i == p || !only_space(text, i + 5, eol))
			return 0;
		memcpy(label, text + p, i - p);
		label[i - p] = '\0';
		return 1;
	}
	return 0;
}

int pem_next(const char *text, size_t len, size_t *pos,
	     struct pem_object *obj, unsigned char *out, size_t out_size)
{
	size_t p = *pos, eol, s, body;
	long n;

	obj->label[0] = '\0';
	obj->der = out;
	obj->der_len = 0;

	/* The BEGIN line; anything before it is skipped. */
	for (;; p = next_line(eol, len)) {
		if (p >= len) {
			*pos = len;
			return 0;
		}
		eol = line_end(text, len, p);
		s = skip_blanks(text, p, eol);
		if (starts_with(text, s, eol, "-----BEGIN "))
			break;
	}
	body = next_line(eol, len);
	if (!parse_label(text, s + 11, eol, obj->label)) {
		obj->label[0] = '\0';
		*pos = body;
		return -1;
	}

	/* The END line with the same label. A new BEGIN first means this
	 * object was cut short: stop there so the caller gets the next one. */
	for (p = body;; p = next_line(eol, len)) {
		char end_label[64];
		if (p >= len) {
			*pos = len;
			return -1;
		}
		eol = line_end(text, len, p);
		s = skip_blanks(text, p, eol);
		if (starts_with(text, s, eol, "-----BEGIN ")) {
			*pos = p;
			return -1;
		}
		if (!starts_with(text, s, eol, "-----END "))
			continue;
		*pos = next_line(eol, len);
		if (!parse_label(text, s + 9, eol, end_label) ||
		    strcmp(end_label, obj->label) != 0)
			return -1;
		break;
	}

	n = base64_decode(BASE64_PEM, text + body, p - body, out, out_size);
	if (n < 0)
		return -1;
	obj->der_len = (size_t)n;
	return 1;
}
