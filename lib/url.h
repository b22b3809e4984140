/*
 * url.h - repository URLs reduced to one comparable form.
 *
 * A push webhook names its repository in several ways at once (GitHub's
 * clone_url, ssh_url and html_url; GitLab's git_http_url and
 * git_ssh_url), and an operator writes an app's repo in whichever form
 * they clone with. url_normalize() maps every spelling of the same
 * repository to one key, so routing is a string comparison:
 *
 *	https://GitHub.com/org/repo.git      -> github.com/org/repo
 *	https://user:tok@github.com:443/org/repo/ -> github.com/org/repo
 *	ssh://git@github.com/org/repo.git    -> github.com/org/repo
 *	ssh://git@github.com:22/org/repo     -> github.com/org/repo
 *	git@github.com:org/repo.git          -> github.com/org/repo
 *	https://gitea.local:3000/org/repo    -> gitea.local:3000/org/repo
 *	/srv/git/app.git, file:///srv/git/app/ -> /srv/git/app
 *
 * Rules: the scheme and any user name or password are dropped; the host
 * is lower-cased; a port is kept unless it is the scheme's default (http
 * 80, https 443, ssh 22, git 9418); repeated slashes collapse, "." and
 * ".." segments resolve, and one trailing "/" and ".git" are removed.
 * The path keeps its case (most servers treat it case-sensitively).
 * Local paths (absolute, relative, or file://) become absolute paths;
 * a relative one is taken relative to the current directory. The form
 * of a remote key (host first) never starts with '/', so it cannot
 * collide with a local one. Query strings and fragments are refused.
 */
#ifndef TIDEGATE_URL_H
#define TIDEGATE_URL_H

#include "buf.h"

/*
 * Appends the key for url to out (after resetting it). Returns 0, or -1
 * (nothing logged; out empty) for an empty URL, an unknown scheme, a
 * missing host or path, a bad port, or a query or fragment.
 */
int url_normalize(const char *url, struct buf *out);

/* 1 when a and b normalize to the same key; 0 otherwise or when either is bad. */
int url_same(const char *a, const char *b);

/* 1 when url is a local path or a file:// URL (not a remote repository). */
int url_is_local(const char *url);

#endif
