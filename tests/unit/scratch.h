/* scratch: the private temporary directory a unit test works in. */
#ifndef POM_SCRATCH_H
#define POM_SCRATCH_H

/* The directory's path once scratch_make succeeded, else "". */
extern char scratch_dir[256];

/* Make a new directory $TMPDIR/PREFIX.XXXXXX (or under /tmp) as
 * scratch_dir. Returns 0, or -1 with errno. */
int scratch_make(const char *prefix);

/* scratch_dir/name, in one of 8 rotating static buffers (so that a few
 * may be used in one expression). */
const char *scratch_at(const char *name);

/* Make the test PKI (tests/lib/mkcerts.sh, found under $SRCDIR, default
 * ".", the repository root) in scratch_dir/name, in at most a minute.
 * Returns 0, or -1 after a line on stderr saying why. */
int scratch_pki(const char *name);

/* Remove scratch_dir and all below it; a line on stderr if that fails. */
void scratch_remove(void);

#endif
