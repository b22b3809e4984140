#include "url.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define URL_MAX 4096

struct scheme {
	const char *name;
	const char *default_port;
};

static const struct scheme schemes[] = {
	{ "https", "443" }, { "http", "80" }, { "ssh", "22" }, { "git+ssh", "22" },
	{ "ssh+git", "22" }, { "git", "9418" },
};

static const struct scheme *find_scheme(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (strlen(schemes[i].name) == len && !strncasecmp(s, schemes[i].name, len))
			return &schemes[i];
	return NULL;
}

/*
 * Appends the path p[0..len) to out with "//" collapsed, "." and ".."
 * resolved (never above the root), and a trailing "/" and ".git"
 * removed. The result starts with '/'. Returns -1 when nothing is left.
 */
static int add_path(struct buf *out, const char *p, size_t len)
{
	size_t start = out->len, i = 0;

	while (i < len) {
		size_t j, seg;

		while (i < len && p[i] == '/')
			i++;
		for (j = i; j < len && p[j] != '/'; j++)
			;
		seg = j - i;
		if (seg == 0)
			break;
		if (seg == 1 && p[i] == '.') {
			/* nothing */
		} else if (seg == 2 && p[i] == '.' && p[i + 1] == '.') {
			while (out->len > start && out->data[out->len - 1] != '/')
				out->len--;
			if (out->len > start)
				out->len--;
			out->data[out->len] = '\0';
		} else {
			if (buf_addch(out, '/') < 0 || buf_add(out, p + i, seg) < 0)
				return -1;
		}
		i = j;
	}
	if (out->len - start >= 4 && !strcmp(out->data + out->len - 4, ".git"))
		buf_setlen(out, out->len - 4);
	/* "/work/.git" (a work tree's git dir) names the work tree's repository. */
	if (out->len - start > 1 && out->data[out->len - 1] == '/')
		buf_setlen(out, out->len - 1);
	if (out->len == start || (out->len - start == 1 && out->data[start] == '/'))
		return -1;
	return 0;
}

static int add_host(struct buf *out, const char *h, size_t len)
{
	size_t i;

	if (!len)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)h[i];

		if (c <= ' ' || c == '/' || c == '?' || c == '#' || c == '@' || c == '\\')
			return -1;
		if (buf_addch(out, tolower(c)) < 0)
			return -1;
	}
	return 0;
}

/* host[:port] from an authority without user info. */
static int add_hostport(struct buf *out, const char *a, size_t len, const char *defport)
{
	const char *colon = NULL;
	size_t hostlen = len, i;

	if (len && a[0] == '[') {
		const char *close = memchr(a, ']', len);

		if (!close)
			return -1;
		hostlen = (size_t)(close - a) + 1;
		if (hostlen < len) {
			if (a[hostlen] != ':')
				return -1;
			colon = a + hostlen;
		}
	} else {
		colon = memchr(a, ':', len);
		if (colon)
			hostlen = (size_t)(colon - a);
	}
	if (add_host(out, a, hostlen) < 0)
		return -1;
	if (colon) {
		const char *port = colon + 1;
		size_t plen = len - (size_t)(port - a);

		while (plen > 1 && *port == '0') {
			port++;
			plen--;
		}
		if (plen > 5)
			return -1;
		for (i = 0; i < plen; i++)
			if (!isdigit((unsigned char)port[i]))
				return -1;
		if (plen && atoi(port) > 65535)
			return -1;
		if (plen && !(strlen(defport) == plen && !memcmp(port, defport, plen))) {
			if (buf_addch(out, ':') < 0 || buf_add(out, port, plen) < 0)
				return -1;
		}
	}
	return 0;
}

static int normalize_local(const char *path, struct buf *out)
{
	struct buf whole = BUF_INIT(URL_MAX * 2);
	int ret;

	if (path[0] != '/') {
		char cwd[PATH_MAX];

		if (!getcwd(cwd, sizeof(cwd)))
			return -1;
		buf_addstr(&whole, cwd);
		buf_addch(&whole, '/');
	}
	buf_addstr(&whole, path);
	ret = whole.toobig ? -1 : add_path(out, whole.data, whole.len);
	buf_release(&whole);
	return ret;
}

int url_is_local(const char *url)
{
	const char *colon, *slash;

	if (!strncasecmp(url, "file://", 7))
		return 1;
	if (strstr(url, "://"))
		return 0;
	colon = strchr(url, ':');
	slash = strchr(url, '/');
	/* git's rule: scp-like when a colon comes before any slash. */
	return !colon || (slash && slash < colon);
}

static int normalize(const char *url, struct buf *out)
{
	const char *sep, *auth, *auth_end, *at, *p;
	const struct scheme *sc;

	if (!*url || strlen(url) > URL_MAX)
		return -1;
	for (p = url; *p; p++)
		if ((unsigned char)*p < ' ' || *p == 0x7f)
			return -1;
	if (!strncasecmp(url, "file://", 7)) {
		p = url + 7;
		/* file://localhost/path and file:///path */
		if (!strncasecmp(p, "localhost/", 10))
			p += 9;
		if (*p != '/' || strpbrk(p, "?#"))
			return -1;
		return normalize_local(p, out);
	}
	if (url_is_local(url))
		return normalize_local(url, out);
	if (strpbrk(url, "?#"))
		return -1;

	sep = strstr(url, "://");
	if (!sep) {
		/* scp-like: [user@]host:path */
		const char *colon = strchr(url, ':');

		at = memchr(url, '@', (size_t)(colon - url));
		auth = at ? at + 1 : url;
		if (add_host(out, auth, (size_t)(colon - auth)) < 0)
			return -1;
		return add_path(out, colon + 1, strlen(colon + 1));
	}
	sc = find_scheme(url, (size_t)(sep - url));
	if (!sc)
		return -1;
	auth = sep + 3;
	auth_end = auth + strcspn(auth, "/");
	at = NULL;
	for (p = auth; p < auth_end; p++)
		if (*p == '@')
			at = p;
	if (at)
		auth = at + 1;
	if (add_hostport(out, auth, (size_t)(auth_end - auth), sc->default_port) < 0)
		return -1;
	return add_path(out, auth_end, strlen(auth_end));
}

int url_normalize(const char *url, struct buf *out)
{
	buf_reset(out);
	if (normalize(url, out) < 0 || out->toobig) {
		buf_reset(out);
		return -1;
	}
	return 0;
}

int url_same(const char *a, const char *b)
{
	struct buf ka = BUF_INIT(URL_MAX * 2), kb = BUF_INIT(URL_MAX * 2);
	int same;

	same = !url_normalize(a, &ka) && !url_normalize(b, &kb) && !strcmp(ka.data, kb.data);
	buf_release(&ka);
	buf_release(&kb);
	return same;
}
