/* browser: open the sign-in URL in the user's browser. */
#ifndef POM_BROWSER_H
#define POM_BROWSER_H

/* Start cmd (--browser-cmd), else $BROWSER (a colon-separated list: the
 * first that starts wins), else xdg-open, with url as its last argument,
 * run through /bin/sh so a command may carry its own arguments. The
 * browser runs detached, in its own session, with stdin, stdout and
 * stderr on /dev/null (stdout belongs to the tunnel). Returns 0 when a
 * browser process was started, -1 otherwise (not an error for the caller:
 * the URL is printed anyway). */
int browser_open(const char *cmd, const char *url);

#endif
