#include "sshconfig.h"
#include "log.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Print s for sh: bare when it is made of safe characters, else in single
 * quotes (with ' written as '\''). */
static void shell_word(const char *s)
{
	if (*s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			    "0123456789-_./:=,+@") == strlen(s)) {
		fputs(s, stdout);
		return;
	}
	putchar('\'');
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", stdout);
		else
			putchar(*s);
	}
	putchar('\'');
}

/* Each of the n words, after a blank, as a shell word. */
static void shell_words(const char *const *w, int n)
{
	for (int i = 0; i < n; i++) {
		putchar(' ');
		shell_word(w[i]);
	}
}

/* 1 when v cannot go into the configuration: ssh would expand a '%', a
 * newline would end the line, a '"' the Match line's exec argument. */
static int bad_value(const char *v, int in_quotes)
{
	return strpbrk(v, "\r\n%") || (in_quotes && strchr(v, '"'));
}

int sshconfig_print(const char *pattern, const char *pomerium_url, const char *const *opts,
		    int n, int sign_in_first)
{
	char self[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
	if (len <= 0) {
		log_error("cannot find this program's own path");
		return EXIT_LOCAL;
	}
	self[len] = '\0';
	if (strchr(self, '%')) {
		log_error("ssh-config: this program's path contains '%%', which ssh would expand");
		return EXIT_LOCAL;
	}
	if (strpbrk(pattern, " \t\r\n\"'")) {
		log_error("ssh-config: the host pattern must not contain blanks or quotes");
		return EXIT_USAGE;
	}
	int bad = pomerium_url && bad_value(pomerium_url, sign_in_first);
	for (int i = 0; i < n; i++)
		bad |= bad_value(opts[i], sign_in_first);
	if (bad) {
		log_error("ssh-config: option values must not contain newlines or '%%'%s",
			  sign_in_first ? " (nor '\"' with --sign-in-first)" : "");
		return EXIT_USAGE;
	}
	if (sign_in_first) {
		/* an empty Match block, there for its exec: ssh runs it while it
		 * reads the configuration, for the hosts of the pattern */
		printf("Match host %s exec \"", pattern);
		shell_word(self);
		fputs(" login --if-needed", stdout);
		shell_words(opts, n);
		putchar(' ');
		if (pomerium_url)
			shell_word(pomerium_url);
		else
			fputs("https://%h", stdout);
		fputs("\"\n", stdout);
	}
	printf("Host %s\n    ProxyCommand ", pattern);
	shell_word(self);
	if (pomerium_url) {
		fputs(" --pomerium-url ", stdout);
		shell_word(pomerium_url);
	}
	shell_words(opts, n);
	printf(" %%h:%%p\n");
	fflush(stdout);
	log_error("add the block above to ~/.ssh/config; then `ssh HOST` for any host matching "
		  "%s goes through Pomerium (ssh expands %%h:%%p to the host and port)", pattern);
	return EXIT_OK;
}
