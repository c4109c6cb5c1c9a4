/* sigcatch: signals that end a wait, without a race. A signal is caught
 * by a handler that only records it, and blocked except inside the
 * ppoll() of the wait, so none can arrive between the check of the
 * record and the call that sleeps. */
#ifndef POM_SIGCATCH_H
#define POM_SIGCATCH_H

#include <signal.h>
#include <stddef.h>

struct sigcatch {
	int sig;
	void (*handler)(int);
};

/* Install the n handlers of c (the old actions into old[0..n-1] unless old
 * is NULL) and block their signals. The mask before goes to *saved (unless
 * NULL); *wait_mask is that mask without the n signals: the one to give
 * ppoll(). */
void sigcatch_block(const struct sigcatch *c, size_t n, struct sigaction *old, sigset_t *saved,
		    sigset_t *wait_mask);

/* Undo sigcatch_block: the mask *saved, then the old actions. */
void sigcatch_restore(const struct sigcatch *c, size_t n, const struct sigaction *old,
		      const sigset_t *saved);

#endif
