/* chars: byte classes for input checks (authorities, tokens). */
#ifndef POM_CHARS_H
#define POM_CHARS_H

/* 1 when s is not empty and each of its bytes is an ASCII letter or digit
 * or one of the characters of extra; else 0. */
int chars_alnum_or(const char *s, const char *extra);

#endif
