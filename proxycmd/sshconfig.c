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

int sshconfig_print(const char *pattern, const char *const *opts, int n)
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
	for (int i = 0; i < n; i++)
		if (opts[i] && strpbrk(opts[i], "\r\n%")) {
			log_error("ssh-config: option values must not contain newlines or '%%'");
			return EXIT_USAGE;
		}
	printf("Host %s\n    ProxyCommand ", pattern);
	shell_word(self);
	for (int i = 0; i < n; i++)
		if (opts[i]) {
			putchar(' ');
			shell_word(opts[i]);
		}
	printf(" %%h:%%p\n");
	fflush(stdout);
	log_error("add the block above to ~/.ssh/config; then `ssh HOST` for any host matching "
		  "%s goes through Pomerium (ssh expands %%h:%%p to the host and port)", pattern);
	return EXIT_OK;
}
