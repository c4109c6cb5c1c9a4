#include "scratch.h"

#include <stdio.h>
#include <stdlib.h>

char scratch_dir[256];

int scratch_make(const char *prefix)
{
	const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	snprintf(scratch_dir, sizeof scratch_dir, "%s/%s.XXXXXX", base, prefix);
	if (!mkdtemp(scratch_dir)) {
		scratch_dir[0] = '\0';
		return -1;
	}
	return 0;
}

const char *scratch_at(const char *name)
{
	static char buf[8][512];
	static int i;
	i = (i + 1) % 8;
	snprintf(buf[i], sizeof buf[i], "%s/%s", scratch_dir, name);
	return buf[i];
}

int scratch_pki(const char *name)
{
	const char *src = getenv("SRCDIR") && *getenv("SRCDIR") ? getenv("SRCDIR") : ".";
	char cmd[1400];
	if ((size_t)snprintf(cmd, sizeof cmd,
			     "timeout 60 bash '%s/tests/lib/mkcerts.sh' '%s' >'%s.log' 2>&1",
			     src, scratch_at(name), scratch_at(name)) >= sizeof cmd) {
		fprintf(stderr, "# scratch_pki: SRCDIR or TMPDIR too long\n");
		return -1;
	}
	if (system(cmd) != 0) {
		fprintf(stderr, "# scratch_pki: mkcerts.sh failed (%s.log)\n", scratch_at(name));
		return -1;
	}
	return 0;
}

void scratch_remove(void)
{
	char cmd[600];
	if (!scratch_dir[0])
		return;
	snprintf(cmd, sizeof cmd, "cd / && rm -rf '%s'", scratch_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "# could not remove %s\n", scratch_dir);
}
