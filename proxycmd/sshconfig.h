/* sshconfig: `pom-proxy ssh-config` — print a ready ssh_config Host block. */
#ifndef POM_SSHCONFIG_H
#define POM_SSHCONFIG_H

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

#endif
