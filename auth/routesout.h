/* routesout: what `pom-proxy routes` and `pom-proxy ssh-config --routes`
 * print from a parsed routes list (routesjson). Every command printed
 * goes through this program (its absolute path) and --pomerium-url with
 * the proxy whose list it is (written https://host[:port], even when the
 * user named it bare), with the options given to it worth keeping
 * (opts: n words, names and values). No route sends the token elsewhere.
 *
 * A path-style route (tcp+https://PROXY/HOST:PORT) of that same proxy is
 * what "HOST:PORT through --pomerium-url" sends (CONNECT HOST:PORT to
 * PROXY), so it is reached like any other; one of another proxy host is
 * listed without a command (its token and trust are that proxy's). */
#ifndef POM_ROUTESOUT_H
#define POM_ROUTESOUT_H

#include "dest.h"
#include "exitcode.h"
#include "routesjson.h"

/* How a tcp route is reached with ssh. */
struct route_target {
	char host[256];            /* what ssh connects to: the route's host */
	unsigned port;
	int path_style;            /* "tcp+https://proxy/host:port": the
				    * destination is in the path */
	int other_proxy;           /* path-style, on another proxy than the
				    * one asked: not reached from its list */
};

/* Whether r is a tcp route of the proxy asked (proxy: its URL parsed)
 * that ssh can use, and how: returns 1 and fills t, or 0 (another type, a
 * from that is not a tcp+http(s) destination, or a host ssh would take
 * for an option). t->other_proxy routes return 1 but have no command. */
int routesout_target(const struct route *r, const struct dest *proxy, struct route_target *t);

/* `pom-proxy routes`: print on stdout one line per route of l, tcp routes
 * first (each followed by the ssh command that reaches it through proxy,
 * the proxy asked), then the others with their type; both in the order
 * sent. Returns the exit code. */
enum pom_exit routesout_list(const struct route_list *l, const struct dest *proxy,
			     const char *const *opts, int n);

/* `pom-proxy ssh-config --routes URL`: print on stdout an ssh_config to
 * Include: a header saying how to regenerate it, then one Host block per
 * tcp route ssh can use, sorted by host and port, every ProxyCommand
 * through --pomerium-url and proxy (so one sign-in serves all). A port-22
 * route is "Host HOST"; another port adds "Port N", and a host's second
 * port is "Host HOST-PORT" with HostName. Path-style routes of another
 * proxy host, hosts that cannot be an ssh pattern and repeated host:ports
 * are skipped with a comment; other types are counted in a comment. With
 * sign_in_first, a Match line for all the Host names signs in first.
 * Returns the exit code. */
enum pom_exit routesout_sshconfig(const struct route_list *l, const struct dest *proxy,
				  const char *const *opts, int n, int sign_in_first);

#endif
