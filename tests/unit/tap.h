/* tap: the few TAP helpers the C unit tests need (prove reads the output). */
#ifndef POM_TAP_H
#define POM_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

/* Report one assertion; returns cond so callers can chain diagnostics.
 * Failure diagnostics go to stderr, where prove shows them without -v. */
#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
static inline int tap_ok(int cond, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
#include <stdarg.h>
static inline int tap_ok(int cond, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	printf("%sok %d - ", cond ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond) {
		tap_failed++;
		fprintf(stderr, "#   failed at %s line %d\n", file, line);
	}
	fflush(stdout);
	return cond;
}

/* Compare two integers, printing both when they differ. */
#define is_int(got, want, ...) do { long long g_ = (got), w_ = (want); \
	if (!ok(g_ == w_, __VA_ARGS__)) fprintf(stderr, "#   got %lld, want %lld\n", g_, w_); } while (0)

/* Compare two strings (NULL allowed), printing both when they differ. */
#define is_str(got, want, ...) do { const char *g_ = (got), *w_ = (want); \
	if (!ok((g_ && w_) ? strcmp(g_, w_) == 0 : g_ == w_, __VA_ARGS__)) \
		fprintf(stderr, "#   got '%s', want '%s'\n", g_ ? g_ : "(null)", w_ ? w_ : "(null)"); } while (0)

/* Print the plan and return the process exit status. */
static inline int done_testing(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
