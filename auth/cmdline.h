/* cmdline: pom-proxy's command line — the usage text, the commands and
 * their options, parsed once into struct options for main.c to act on. */
#ifndef POM_CMDLINE_H
#define POM_CMDLINE_H

#include "token.h"

enum command {
	CMD_TUNNEL, CMD_LOGIN, CMD_LOGOUT, CMD_STATUS, CMD_CACHE, CMD_SSHCONFIG, CMD_ROUTES,
	CMD_AUTH
};

struct options {
	enum command cmd;
	const char *args[2];       /* positional arguments after the command */
	int nargs;
	const char *dest;
	const char *pomerium_url;
	const char *listen;
	const char *alternate_ca_path;
	const char *ca_cert;
	const char *client_cert;
	const char *client_key;
	struct token_options token;
	int insecure;
	int timeout_s;
	int subcommand_tcp;
	const char *browser_cmd;
	int no_browser;
	int if_needed;      /* login --if-needed */
	int sign_in_first;  /* ssh-config --sign-in-first */
	const char *routes_url; /* ssh-config --routes */
	int json;           /* routes --json */
	int login_timeout_s;
	const char *proxy;
	const char *proxy_cred_file;
	const char *timeout_arg, *login_timeout_arg; /* as given, for ssh-config */
	int verbose;        /* -v given on the command line (not LOG_LEVEL) */
};

/* Parse argv into o (zeroed by the caller), defaults included: the
 * command word (after any -v), options anywhere (--name=value too, the
 * last of a repeated one counts), positional arguments checked against
 * the command. --help and --version print and exit 0; a bad command line
 * exits 2 after one log_error line. */
void cmdline_parse(int argc, char **argv, struct options *o);

/* Raise log_level to what LOG_LEVEL says (debug: 2, info: 1). */
void cmdline_verbosity_from_env(void);

#endif
