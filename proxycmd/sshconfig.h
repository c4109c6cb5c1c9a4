/* sshconfig: `pom-proxy ssh-config` — print a ready ssh_config Host block. */
#ifndef POM_SSHCONFIG_H
#define POM_SSHCONFIG_H

/* Print on stdout:
 *     Host PATTERN
 *         ProxyCommand '/abs/path/pom-proxy' OPTIONS %h:%p
 * with this binary's absolute path and each option (name, value pairs in
 * opts, n entries; a value may be NULL) quoted for the shell ssh runs the
 * command with; explanations go to stderr. Returns the exit code. */
int sshconfig_print(const char *pattern, const char *const *opts, int n);

#endif
