#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int log_level;
static struct timespec log_t0;

void log_clock_start(void)
{
	clock_gettime(CLOCK_MONOTONIC, &log_t0);
}

double log_elapsed_ms(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - log_t0.tv_sec) * 1e3 +
	       (double)(now.tv_nsec - log_t0.tv_nsec) / 1e6;
}

/* Format prefix + message + newline into one buffer and write it at once,
 * so lines from parallel processes do not interleave. */
static void log_line(const char *prefix, const char *fmt, va_list ap)
{
	char line[1024];
	int saved = errno;
	int n = snprintf(line, sizeof line, "pom-proxy: %s", prefix);
	if (n < 0)
		n = 0;
	if ((size_t)n < sizeof line) {
		int m = vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
		if (m > 0)
			n += m;
	}
	if ((size_t)n > sizeof line - 2)
		n = (int)sizeof line - 2;
	line[n++] = '\n';
	for (size_t off = 0; off < (size_t)n;) {
		ssize_t w = write(STDERR_FILENO, line + off, (size_t)n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	errno = saved;
}

void log_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_line("", fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_line("warning: ", fmt, ap);
	va_end(ap);
}

void log_debug(int level, const char *fmt, ...)
{
	char prefix[32];
	va_list ap;
	if (log_level < level)
		return;
	snprintf(prefix, sizeof prefix, "[%8.3f ms] ", log_elapsed_ms());
	va_start(ap, fmt);
	log_line(prefix, fmt, ap);
	va_end(ap);
}

_Noreturn void die(enum pom_exit code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_line("", fmt, ap);
	va_end(ap);
	exit((int)code);
}
