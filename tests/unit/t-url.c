#include "tap.h"
#include "../../lib/url.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void check(const char *in, const char *want)
{
	struct buf b = BUF_INIT(16384);
	int ret = url_normalize(in, &b);

	if (want) {
		if (ret < 0)
			printf("# '%s' was refused\n", in);
		is_str(ret < 0 ? NULL : b.data, want, "%s -> %s", in, want);
	} else {
		ok(ret < 0 && b.len == 0, "'%s' is refused", in);
	}
	buf_release(&b);
}

int main(void)
{
	char *big;

	/* The same GitHub repository spelled every way a payload or operator does. */
	check("https://github.com/org/repo.git", "github.com/org/repo");
	check("https://github.com/org/repo", "github.com/org/repo");
	check("https://GitHub.COM/org/repo/", "github.com/org/repo");
	check("HTTPS://github.com:443/org/repo.git", "github.com/org/repo");
	check("https://x-access-token:secret@github.com/org/repo.git", "github.com/org/repo");
	check("http://github.com:80/org/repo", "github.com/org/repo");
	check("ssh://git@github.com/org/repo.git", "github.com/org/repo");
	check("ssh://git@github.com:22/org/repo.git", "github.com/org/repo");
	check("git+ssh://git@github.com/org/repo.git", "github.com/org/repo");
	check("git@github.com:org/repo.git", "github.com/org/repo");
	check("github.com:org/repo", "github.com/org/repo");
	check("git://github.com/org/repo.git", "github.com/org/repo");
	check("https://github.com//org///repo.git", "github.com/org/repo");
	check("https://github.com/org/./x/../repo.git", "github.com/org/repo");
	/* The path keeps its case. */
	check("https://github.com/Org/Repo.git", "github.com/Org/Repo");

	/* Ports that are not the default stay, on each scheme. */
	check("https://gitea.local:3000/org/repo.git", "gitea.local:3000/org/repo");
	check("ssh://git@gitea.local:2222/org/repo.git", "gitea.local:2222/org/repo");
	check("http://gitlab.example.com:8080/group/sub/project.git",
	      "gitlab.example.com:8080/group/sub/project");
	check("https://gitea.local:03000/org/repo", "gitea.local:3000/org/repo");
	check("https://[::1]:8443/org/repo.git", "[::1]:8443/org/repo");
	check("https://[::1]:443/org/repo.git", "[::1]/org/repo");
	check("ssh://git@[fe80::1]/org/repo", "[fe80::1]/org/repo");
	/* Bitbucket Server's clone form. */
	check("ssh://git@bitbucket.example.com:7999/proj/repo.git",
	      "bitbucket.example.com:7999/proj/repo");
	check("https://bitbucket.example.com/scm/proj/repo.git",
	      "bitbucket.example.com/scm/proj/repo");

	/* Local repositories. */
	check("/srv/git/app.git", "/srv/git/app");
	check("/srv/git/app", "/srv/git/app");
	check("/srv/git/app.git/", "/srv/git/app");
	check("/srv//git/./app.git", "/srv/git/app");
	check("/srv/git/x/../app.git", "/srv/git/app");
	check("/srv/work/.git", "/srv/work");
	check("file:///srv/git/app.git", "/srv/git/app");
	check("file://localhost/srv/git/app.git", "/srv/git/app");
	check("/../../srv/app", "/srv/app");
	{
		char cwd[4096], want[4200];

		if (!getcwd(cwd, sizeof(cwd)))
			abort();
		snprintf(want, sizeof(want), "%s/repos/app", strcmp(cwd, "/") ? cwd : "");
		check("repos/app.git", want);
		check("./repos/app.git", want);
	}
	ok(url_is_local("/srv/app") && url_is_local("./a:b") && url_is_local("file:///x") &&
	   !url_is_local("git@h:x") && !url_is_local("https://h/x"), "local or remote");

	/* Refused. */
	check("", NULL);
	check("/", NULL);
	check("https://github.com", NULL);
	check("https://github.com/", NULL);
	check("https:///org/repo", NULL);
	check("ftp://github.com/org/repo", NULL);
	check("https://github.com:99999/org/repo", NULL);
	check("https://github.com:80a/org/repo", NULL);
	check("https://github.com/org/repo?x=1", NULL);
	check("https://github.com/org/repo#frag", NULL);
	{
		struct buf b = BUF_INIT(1024);

		ok(url_normalize("https://github.com/org/re\npo", &b) < 0,
		   "a control character is refused");
		buf_release(&b);
	}
	check("git@:org/repo", NULL);
	check("file://remotehost/x", NULL);
	check("https://[::1/org/repo", NULL);
	big = malloc(10000);
	memcpy(big, "https://h/", 10);
	memset(big + 10, 'a', 9989);
	big[9999] = '\0';
	check(big, NULL);
	free(big);

	ok(url_same("git@github.com:org/repo.git", "https://github.com/org/repo"),
	   "url_same: scp-like and https forms are the same repository");
	ok(!url_same("https://github.com/org/repo", "https://github.com/org/repo2"),
	   "url_same: different repositories differ");
	ok(!url_same("https://gitea.local:3000/o/r", "https://gitea.local/o/r"),
	   "url_same: a different port is a different server");
	ok(!url_same("", ""), "url_same: bad URLs are never the same");
	return done_testing();
}
