/* log: the one voice pom-proxy has, on stderr.
 *
 * stdout belongs to the tunnel; every message goes to stderr as a single
 * line starting "pom-proxy: ". Tokens and keys are never passed here. */
#ifndef POM_LOG_H
#define POM_LOG_H

#include "exitcode.h"

/* Verbosity: 0 = errors and warnings only (default), 1 = -v, 2 = -vv. */
extern int log_level;

/* Print "pom-proxy: <message>\n" on stderr as one write. */
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Same as log_error, for warnings that do not stop the run. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print a diagnostic line when log_level >= level, prefixed with the time
 * in milliseconds since log_clock_start() ("pom-proxy: [   1.234 ms] ..."). */
void log_debug(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* log_error(...) then exit(code). */
_Noreturn void die(enum pom_exit code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Milliseconds elapsed since log_clock_start() (monotonic clock). */
double log_elapsed_ms(void);

/* Record the process start time for log_debug and log_elapsed_ms. */
void log_clock_start(void);

#endif
