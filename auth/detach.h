/* detach: leaving the terminal and the ssh behind — for the browser's
 * starter process and for a sign-in that outlives its ssh. */
#ifndef POM_DETACH_H
#define POM_DETACH_H

/* In a freshly forked child: start a session of its own (no controlling
 * terminal, out of the caller's process group) and point stdin, stdout
 * and stderr at /dev/null (left as they are when it cannot be opened). */
void detach_from_terminal(void);

#endif
