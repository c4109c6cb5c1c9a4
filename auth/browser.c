#include "browser.h"
#include "detach.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Run "sh -c '<cmd> "$1"' sh url" detached; 0 if the shell found the
 * command (it exits 127 at once when it cannot). */
static int spawn(const char *cmd, const char *url)
{
	char script[4096];
	int p[2];
	if (snprintf(script, sizeof script, "exec %s \"$1\"", cmd) >= (int)sizeof script)
		return -1;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		/* the middle process: detach, start the browser, report its fate */
		detach_from_terminal();
		pid_t b = fork();
		if (b == 0) {
			/* the browser starts with default signal handling */
			sigset_t none;
			sigemptyset(&none);
			sigprocmask(SIG_SETMASK, &none, NULL);
			signal(SIGPIPE, SIG_DFL);
			signal(SIGINT, SIG_DFL);
			signal(SIGTERM, SIG_DFL);
			signal(SIGHUP, SIG_DFL);
			execl("/bin/sh", "sh", "-c", script, "sh", url, (char *)NULL);
			_exit(127);
		}
		/* wait briefly: a missing command makes the shell exit 127 at once */
		int st = 0, started = b > 0;
		for (int i = 0; started && i < 20; i++) {
			pid_t w = waitpid(b, &st, WNOHANG);
			if (w == b) {
				started = !(WIFEXITED(st) && WEXITSTATUS(st) == 127);
				break;
			}
			usleep(10000);
		}
		char verdict = started ? 'y' : 'n';
		(void)!write(p[1], &verdict, 1);
		_exit(0);
	}
	close(p[1]);
	char verdict = 'n';
	ssize_t r;
	do
		r = read(p[0], &verdict, 1);
	while (r < 0 && errno == EINTR);
	close(p[0]);
	waitpid(pid, NULL, 0);
	return verdict == 'y' ? 0 : -1;
}

int browser_open(const char *cmd, const char *url)
{
	if (cmd && *cmd) {
		log_debug(1, "starting the browser given by --browser-cmd");
		return spawn(cmd, url);
	}
	const char *env = getenv("BROWSER");
	if (env && *env) {
		char list[1024];
		snprintf(list, sizeof list, "%s", env);
		for (char *save = NULL, *c = strtok_r(list, ":", &save); c;
		     c = strtok_r(NULL, ":", &save)) {
			log_debug(1, "starting the browser from $BROWSER: %s", c);
			if (spawn(c, url) == 0)
				return 0;
		}
	}
	log_debug(1, "starting the browser with xdg-open");
	return spawn("xdg-open", url);
}
