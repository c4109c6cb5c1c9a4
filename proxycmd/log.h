/* log: the one voice pom-proxy has, on stderr, and its exit codes.
 *
 * stdout belongs to the tunnel; every message goes to stderr as a single
 * line starting "pom-proxy: ". Tokens and keys are never passed here. */
#ifndef POM_LOG_H
#define POM_LOG_H

/* Exit codes, one per class of failure (documented in README and --help). */
enum pom_exit {
	EXIT_OK = 0,          /* tunnel ran and ended normally */
	EXIT_BROKEN = 1,      /* tunnel failed after it was open */
	EXIT_USAGE = 2,       /* bad arguments, bad destination or URL */
	EXIT_LOCAL = 3,       /* local system error: files, trust store, memory */
	EXIT_DNS = 4,         /* proxy host name did not resolve */
	EXIT_CONNECT = 5,     /* TCP connection to the proxy failed or timed out */
	EXIT_TLS = 6,         /* TLS handshake failed (protocol, alert, version) */
	EXIT_VERIFY = 7,      /* proxy certificate not trusted or wrong name */
	EXIT_SIGNIN = 8,      /* no token or token refused (302/401) */
	EXIT_DENIED = 9,      /* policy denies this user this route (403) */
	EXIT_NOROUTE = 10,    /* no such route on this proxy (404) */
	EXIT_UPSTREAM = 11,   /* proxy cannot reach the destination (502/503/504) */
	EXIT_CLIENTCERT = 12, /* client certificate or device refused (495/450) */
	EXIT_PROTOCOL = 13,   /* proxy answered something else, or too late */
};

/* Verbosity: 0 = errors and warnings only (default), 1 = -v, 2 = -vv. */
extern int log_level;

/* Print "pom-proxy: <message>\n" on stderr as one write. */
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Same as log_error, for warnings that do not stop the run. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print a diagnostic line when log_level >= level, prefixed with the time
 * in milliseconds since the process started ("pom-proxy: [  1.234] ..."). */
void log_debug(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* log_error(...) then exit(code). */
_Noreturn void die(enum pom_exit code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Milliseconds elapsed since log_clock_start() (monotonic clock). */
double log_elapsed_ms(void);

/* Milliseconds on the monotonic clock, for deadlines and durations. */
long monotonic_ms(void);

/* Record the process start time for log_debug and log_elapsed_ms. */
void log_clock_start(void);

#endif
