#include "sigcatch.h"

#include <string.h>

void sigcatch_block(const struct sigcatch *c, size_t n, struct sigaction *old, sigset_t *saved,
		    sigset_t *wait_mask)
{
	struct sigaction sa;
	sigset_t block, before;
	memset(&sa, 0, sizeof sa);
	sigemptyset(&block);
	for (size_t i = 0; i < n; i++) {
		sa.sa_handler = c[i].handler;
		sigaction(c[i].sig, &sa, old ? &old[i] : NULL);
		sigaddset(&block, c[i].sig);
	}
	sigprocmask(SIG_BLOCK, &block, &before);
	if (saved)
		*saved = before;
	*wait_mask = before;
	for (size_t i = 0; i < n; i++)
		sigdelset(wait_mask, c[i].sig);
}

void sigcatch_restore(const struct sigcatch *c, size_t n, const struct sigaction *old,
		      const sigset_t *saved)
{
	sigprocmask(SIG_SETMASK, saved, NULL);
	for (size_t i = 0; i < n; i++)
		sigaction(c[i].sig, &old[i], NULL);
}
