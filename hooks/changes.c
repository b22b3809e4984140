#include "changes.h"
#include "hook.h"
#include "xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define HEADER "tidegate-changes 1\n"

void changes_add(struct changes *c, const char *path)
{
	if (!c->raw.len)
		buf_addstr(&c->raw, HEADER);
	buf_add(&c->raw, path, strlen(path) + 1);
	c->n++;
}

void changes_release(struct changes *c)
{
	buf_release(&c->raw);
	c->n = 0;
}

static char *dir_of(const char *git_dir)
{
	return xstrfmt("%s/tidegate/changes", git_dir);
}

/* Old and new are hook input, checked as hex ids; the name stays in the directory. */
static char *file_of(const char *git_dir, const char *old, const char *new)
{
	if (strspn(old, "0123456789abcdef") != strlen(old) ||
	    strspn(new, "0123456789abcdef") != strlen(new))
		return NULL;
	return xstrfmt("%s/tidegate/changes/%s-%s", git_dir, old, new);
}

int changes_save(const char *git_dir, const char *old, const char *new, const struct changes *c)
{
	char *top = xstrfmt("%s/tidegate", git_dir), *dir = dir_of(git_dir);
	char *path = file_of(git_dir, old, new), *tmp = NULL;
	struct buf empty = BUF_INIT(64);
	const struct buf *b = &c->raw;
	int fd = -1, ret = -1;

	if (!path || c->raw.toobig)
		goto out;
	if (!b->len) {
		buf_addstr(&empty, HEADER);
		b = &empty;
	}
	if ((mkdir(top, 0750) < 0 && errno != EEXIST) || (mkdir(dir, 0750) < 0 && errno != EEXIST))
		goto out;
	tmp = xstrfmt("%s.tmp-%ld", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0)
		goto out;
	/* No fsync: a list lost in a crash is listed again by post-receive. */
	if (write_all(fd, b->data, b->len) < 0 || close(fd) < 0) {
		fd = -1;
		unlink(tmp);
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		unlink(tmp);
		goto out;
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	buf_release(&empty);
	free(top);
	free(dir);
	free(path);
	free(tmp);
	return ret;
}

int changes_take(const char *git_dir, const char *old, const char *new,
		 int (*fn)(const char *path, void *data), void *data)
{
	char *path = file_of(git_dir, old, new);
	struct buf b = BUF_INIT(CHANGES_BYTES);
	size_t hl = strlen(HEADER);
	const char *p, *end;
	int fd, ret = 1;

	if (!path)
		return 1;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		goto out;
	if (buf_read_fd(&b, fd) < 0 || b.toobig) {
		close(fd);
		goto out_unlink;
	}
	close(fd);
	/* whole paths only: the header, then every path ends in a NUL */
	if (b.len < hl || memcmp(b.data, HEADER, hl) || (b.len > hl && b.data[b.len - 1]))
		goto out_unlink;
	end = b.data + b.len;
	for (p = b.data + hl; p < end; p += strlen(p) + 1)
		if (!*p)
			goto out_unlink;	/* an empty path: damaged */
	for (p = b.data + hl; p < end; p += strlen(p) + 1)
		if (fn(p, data))
			break;
	ret = 0;
out_unlink:
	unlink(path);
out:
	buf_release(&b);
	free(path);
	return ret;
}

void changes_prune(const char *git_dir, long max_age)
{
	char *dir = dir_of(git_dir);
	DIR *d = opendir(dir);
	struct dirent *e;
	time_t now = time(NULL);

	if (!d) {
		free(dir);
		return;
	}
	while ((e = readdir(d))) {
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    now - st.st_mtime > max_age)
			unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
	free(dir);
}
