/* sshconfig: `pom-proxy ssh-config` — print a ready ssh_config Host block,
 * and the pieces other generated configurations are made of. */
#ifndef POM_SSHCONFIG_H
#define POM_SSHCONFIG_H

#include <stddef.h>
#include <stdio.h>
#include "exitcode.h"

/* Print on stdout:
 *     Host PATTERN
 *         ProxyCommand '/abs/path/pom-proxy' [--pomerium-url URL] OPTIONS %h:%p
 * with this binary's absolute path and each option (opts, n words: names
 * and values) quoted for the shell ssh runs the command with;
 * explanations go to stderr. With sign_in_first, a line before it
 *     Match host PATTERN exec "'/abs/path/pom-proxy' login --if-needed OPTIONS URL"
 * makes ssh sign in while it reads its configuration, before its
 * ConnectTimeout starts (URL: pomerium_url, else https://%h). Returns the
 * exit code. */
int sshconfig_print(const char *pattern, const char *pomerium_url, const char *const *opts,
		    int n, int sign_in_first);

/* This program's absolute path into self (size bytes): /proc/self/exe,
 * or without /proc the path it was executed by (AT_EXECFN) made absolute.
 * Returns EXIT_OK, or EXIT_LOCAL after one log_error line (unknown, or
 * holding a '%', which ssh would expand). */
enum pom_exit sshconfig_self(char *self, size_t size);

/* Whether pomerium_url (or NULL) and the n words of opts can go into the
 * configuration: no newline or '%', and with in_quotes (inside the Match
 * line's exec "...") no '"'. Returns EXIT_OK, or EXIT_USAGE after one
 * log_error line. */
enum pom_exit sshconfig_check_values(const char *pomerium_url, const char *const *opts, int n,
				     int in_quotes);

/* Print s on out as one word for sh: bare when made of safe characters,
 * else in single quotes. */
void sshconfig_shell_word(FILE *out, const char *s);

/* Print "SELF [--pomerium-url URL] OPTS DEST" on out as shell words but
 * DEST, which goes as it is ("%h:%p" for ssh to expand). */
void sshconfig_command(FILE *out, const char *self, const char *pomerium_url,
		       const char *const *opts, int n, const char *dest);

/* Print "    ProxyCommand SELF [--pomerium-url URL] OPTS %h:%p\n". */
void sshconfig_proxycommand(const char *self, const char *pomerium_url,
			    const char *const *opts, int n);

/* Print the --sign-in-first line for patterns (one or a comma list):
 * "Match host PATTERNS exec \"SELF login --if-needed OPTS URL\"\n" (URL:
 * pomerium_url, else https://%h). */
void sshconfig_match_signin(const char *patterns, const char *self, const char *pomerium_url,
			    const char *const *opts, int n);

#endif
