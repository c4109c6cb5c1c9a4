#include "sshconfig.h"
#include "log.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

void sshconfig_shell_word(FILE *out, const char *s)
{
	if (*s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			    "0123456789-_./:=,+@") == strlen(s)) {
		fputs(s, out);
		return;
	}
	putc('\'', out);
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", out);
		else
			putc(*s, out);
	}
	putc('\'', out);
}

/* Each of the n words, after a blank, as a shell word. */
static void shell_words(FILE *out, const char *const *w, int n)
{
	for (int i = 0; i < n; i++) {
		putc(' ', out);
		sshconfig_shell_word(out, w[i]);
	}
}

/* 1 when v cannot go into the configuration: ssh would expand a '%', a
 * newline would end the line, a '"' the Match line's exec argument. */
static int bad_value(const char *v, int in_quotes)
{
	return strpbrk(v, "\r\n%") || (in_quotes && strchr(v, '"'));
}

/* Without /proc (a chroot or a sandbox that does not mount it): the path
 * execve() was given, from the auxiliary vector, made absolute. */
static int self_from_execfn(char *self, size_t size)
{
	const char *fn = (const char *)getauxval(AT_EXECFN);
	char real[PATH_MAX];
	if (!fn || !realpath(fn, real) || strlen(real) >= size)
		return -1;
	strcpy(self, real);
	return 0;
}

enum pom_exit sshconfig_self(char *self, size_t size)
{
	ssize_t len = readlink("/proc/self/exe", self, size - 1);
	if (len > 0) {
		self[len] = '\0';
	} else if (self_from_execfn(self, size) != 0) {
		log_error("cannot find this program's own path");
		return EXIT_LOCAL;
	}
	if (strchr(self, '%')) {
		log_error("ssh-config: this program's path contains '%%', which ssh would expand");
		return EXIT_LOCAL;
	}
	return EXIT_OK;
}

enum pom_exit sshconfig_check_values(const char *pomerium_url, const char *const *opts, int n,
				     int in_quotes)
{
	int bad = pomerium_url && bad_value(pomerium_url, in_quotes);
	for (int i = 0; i < n; i++)
		bad |= bad_value(opts[i], in_quotes);
	if (bad) {
		log_error("ssh-config: option values must not contain newlines or '%%'%s",
			  in_quotes ? " (nor '\"' with --sign-in-first)" : "");
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

void sshconfig_command(FILE *out, const char *self, const char *pomerium_url,
		       const char *const *opts, int n, const char *dest)
{
	sshconfig_shell_word(out, self);
	if (pomerium_url) {
		fputs(" --pomerium-url ", out);
		sshconfig_shell_word(out, pomerium_url);
	}
	shell_words(out, opts, n);
	fprintf(out, " %s", dest);
}

void sshconfig_proxycommand(const char *self, const char *pomerium_url,
			    const char *const *opts, int n)
{
	fputs("    ProxyCommand ", stdout);
	sshconfig_command(stdout, self, pomerium_url, opts, n, "%h:%p");
	putchar('\n');
}

void sshconfig_match_signin(const char *patterns, const char *self, const char *pomerium_url,
			    const char *const *opts, int n)
{
	/* an empty Match block, there for its exec: ssh runs it while it
	 * reads the configuration, for the hosts of the patterns */
	printf("Match host %s exec \"", patterns);
	sshconfig_shell_word(stdout, self);
	fputs(" login --if-needed", stdout);
	shell_words(stdout, opts, n);
	putchar(' ');
	if (pomerium_url)
		sshconfig_shell_word(stdout, pomerium_url);
	else
		fputs("https://%h", stdout);
	fputs("\"\n", stdout);
}

int sshconfig_print(const char *pattern, const char *pomerium_url, const char *const *opts,
		    int n, int sign_in_first)
{
	char self[PATH_MAX];
	enum pom_exit code = sshconfig_self(self, sizeof self);
	if (code != EXIT_OK)
		return code;
	if (strpbrk(pattern, " \t\r\n\"'")) {
		log_error("ssh-config: the host pattern must not contain blanks or quotes");
		return EXIT_USAGE;
	}
	code = sshconfig_check_values(pomerium_url, opts, n, sign_in_first);
	if (code != EXIT_OK)
		return code;
	if (sign_in_first)
		sshconfig_match_signin(pattern, self, pomerium_url, opts, n);
	printf("Host %s\n", pattern);
	sshconfig_proxycommand(self, pomerium_url, opts, n);
	fflush(stdout);
	log_error("add the block above to ~/.ssh/config; then `ssh HOST` for any host matching "
		  "%s goes through Pomerium (ssh expands %%h:%%p to the host and port)", pattern);
	return EXIT_OK;
}
