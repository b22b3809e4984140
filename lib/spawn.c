#include "spawn.h"
#include "log.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

long long monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *env_lookup(const char *const *env, const char *name)
{
	size_t n = strlen(name);

	for (; env && *env; env++)
		if (!strncmp(*env, name, n) && (*env)[n] == '=')
			return *env + n + 1;
	return NULL;
}

/*
 * Resolves argv[0] against PATH before vfork, so the child only has to
 * call execve(). Returns an allocated path, or NULL when not found.
 */
char *spawn_find_program(const char *prog, const char *const *env)
{
	const char *path, *p;

	if (strchr(prog, '/'))
		return xstrdup(prog);
	path = env_lookup(env ? env : (const char *const *)environ, "PATH");
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path;; ) {
		const char *end = strchrnul(p, ':');
		char *cand;

		if (end == p)
			cand = xstrfmt("./%s", prog);
		else
			cand = xstrfmt("%.*s/%s", (int)(end - p), p, prog);
		if (!access(cand, X_OK)) {
			struct stat st;

			if (!stat(cand, &st) && S_ISREG(st.st_mode))
				return cand;
		}
		free(cand);
		if (!*end)
			break;
		p = end + 1;
	}
	return NULL;
}

static void close_pair(int fds[2])
{
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	fds[0] = fds[1] = -1;
}

static int open_pipe(int fds[2])
{
	if (pipe2(fds, O_CLOEXEC) < 0) {
		fds[0] = fds[1] = -1;
		return -1;
	}
	return 0;
}

/* dup2() that also makes the target survive exec when it is already in place. */
static void child_dup(int from, int to)
{
	if (from == to)
		fcntl(to, F_SETFD, 0);	/* our pipes are close-on-exec */
	else
		dup2(from, to);
}

/*
 * In the child of vfork(): it shares the parent's memory (the parent
 * waits until it has called execve() or _exit()), so only system calls
 * from here on, nothing that allocates or touches shared state; an exec
 * failure goes back through *err. It has its own file descriptors,
 * signal handlers and working directory.
 */
static void child_setup_and_exec(const struct spawn *sp, const char *path,
				 int pin[2], int pout[2], int perr[2], volatile int *err)
{
	int devnull = -1;

	if (sp->flags & SPAWN_NEW_PGRP)
		setpgid(0, 0);
	if (sp->flags & (SPAWN_NULL_IN | SPAWN_NULL_OUT | SPAWN_NULL_ERR))
		devnull = open("/dev/null", O_RDWR);
	if (sp->flags & SPAWN_PIPE_IN)
		child_dup(pin[0], 0);
	else if (sp->flags & SPAWN_NULL_IN)
		dup2(devnull, 0);
	if (sp->flags & SPAWN_PIPE_OUT)
		child_dup(pout[1], 1);
	else if (sp->flags & SPAWN_NULL_OUT)
		dup2(devnull, 1);
	if (sp->flags & SPAWN_ERR_TO_OUT)
		dup2(1, 2);
	else if (sp->flags & SPAWN_PIPE_ERR)
		child_dup(perr[1], 2);
	else if (sp->flags & SPAWN_NULL_ERR)
		dup2(devnull, 2);
	/* Every fd but 0, 1 and 2 goes. */
	syscall(SYS_close_range, 3U, ~0U, 0);
	{
		struct sigaction sa;
		sigset_t none;
		int s;

		/* the parent's handlers must not run here, nor be inherited ignored */
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_DFL;
		for (s = 1; s < NSIG; s++)
			sigaction(s, &sa, NULL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
	}
	if (sp->dir && chdir(sp->dir) < 0)
		goto fail;
	execve(path, (char *const *)sp->argv,
	       (char *const *)(sp->env ? sp->env : (const char *const *)environ));
fail:
	*err = errno ? errno : ENOEXEC;
	_exit(127);
}

/*
 * vfork(), not fork(): no copy of the parent's page tables and no
 * copy-on-write faults after it, which matters for a big parent
 * (tidegated) and for a hook's few milliseconds alike. Kept in its own
 * frame so that nothing of the caller's lives across the two returns.
 */
static pid_t spawn_vfork(const struct spawn *sp, const char *path, int pin[2], int pout[2],
			 int perr[2], volatile int *err)
{
	pid_t pid = vfork();

	if (pid == 0)
		child_setup_and_exec(sp, path, pin, pout, perr, err);
	return pid;
}

int spawn_start(struct spawn *sp)
{
	int pin[2] = { -1, -1 }, pout[2] = { -1, -1 }, perr[2] = { -1, -1 };
	volatile int err = 0;
	sigset_t all, old;
	char *path;

	sp->pid = -1;
	sp->in = sp->out = sp->err = -1;
	if (!sp->argv || !sp->argv[0])
		return error("spawn: empty argv");
	path = spawn_find_program(sp->argv[0], sp->env);
	if (!path)
		return error("cannot run '%s': not found in PATH", sp->argv[0]);
	if (((sp->flags & SPAWN_PIPE_IN) && open_pipe(pin) < 0) ||
	    ((sp->flags & SPAWN_PIPE_OUT) && open_pipe(pout) < 0) ||
	    ((sp->flags & SPAWN_PIPE_ERR) && open_pipe(perr) < 0)) {
		error_errno("cannot make pipes for '%s'", sp->argv[0]);
		goto fail;
	}
	/* no handler of ours may run in the child while it shares our memory */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	sp->pid = spawn_vfork(sp, path, pin, pout, perr, &err);
	if (sp->pid < 0) {
		int e = errno;

		pthread_sigmask(SIG_SETMASK, &old, NULL);
		errno = e;
		error_errno("cannot start a process for '%s'", sp->argv[0]);
		goto fail;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	/* the child did it before execve(); this fails harmlessly then, as before */
	if (sp->flags & SPAWN_NEW_PGRP)
		setpgid(sp->pid, sp->pid);
	if (err) {
		int st;

		while (waitpid(sp->pid, &st, 0) < 0 && errno == EINTR)
			;
		sp->pid = -1;
		errno = err;
		error_errno("cannot run '%s'", sp->argv[0]);
		goto fail;
	}
	free(path);
	if (sp->flags & SPAWN_PIPE_IN) {
		close(pin[0]);
		sp->in = pin[1];
	}
	if (sp->flags & SPAWN_PIPE_OUT) {
		close(pout[1]);
		sp->out = pout[0];
	}
	if (sp->flags & SPAWN_PIPE_ERR) {
		close(perr[1]);
		sp->err = perr[0];
	}
	return 0;
fail:
	free(path);
	close_pair(pin);
	close_pair(pout);
	close_pair(perr);
	return -1;
}

void spawn_kill(struct spawn *sp, int sig)
{
	if (sp->pid <= 0)
		return;
	if (sp->flags & SPAWN_NEW_PGRP)
		kill(-sp->pid, sig);
	else
		kill(sp->pid, sig);
}

int spawn_finish(struct spawn *sp)
{
	int st;

	if (sp->in >= 0)
		close(sp->in);
	if (sp->out >= 0)
		close(sp->out);
	if (sp->err >= 0)
		close(sp->err);
	sp->in = sp->out = sp->err = -1;
	if (sp->pid <= 0)
		return -1;
	while (waitpid(sp->pid, &st, 0) < 0) {
		if (errno != EINTR) {
			sp->pid = -1;
			return error_errno("waitpid");
		}
	}
	sp->pid = -1;
	return st;
}

/* Reads what is available from *fd into b (dropping bytes past its cap). */
static void drain(int *fd, struct buf *b)
{
	char chunk[65536];
	ssize_t n = read(*fd, chunk, sizeof(chunk));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		close(*fd);
		*fd = -1;
		return;
	}
	if (b->len < b->max) {
		size_t room = b->max - b->len;

		buf_add(b, chunk, (size_t)n < room ? (size_t)n : room);
		if ((size_t)n > room)
			b->toobig = 1;
	} else {
		b->toobig = 1;
	}
}

int spawn_run(struct spawn *sp, const void *in, size_t inlen, int timeout_ms,
	      struct spawn_result *res)
{
	long long deadline = timeout_ms > 0 ? monotonic_ms() + timeout_ms : 0;
	size_t written = 0;
	int st;

	/* A child that stops reading its stdin must not kill us with SIGPIPE. */
	if (in)
		signal(SIGPIPE, SIG_IGN);
	sp->flags &= ~(unsigned)(SPAWN_NULL_IN | SPAWN_NULL_OUT | SPAWN_NULL_ERR);
	sp->flags |= SPAWN_PIPE_OUT | SPAWN_NEW_PGRP;
	if (!(sp->flags & SPAWN_ERR_TO_OUT))
		sp->flags |= SPAWN_PIPE_ERR;
	sp->flags |= in ? SPAWN_PIPE_IN : SPAWN_NULL_IN;
	res->exited = res->code = res->signo = res->timed_out = 0;
	if (spawn_start(sp) < 0)
		return -1;
	if (sp->in >= 0) {
		fcntl(sp->in, F_SETFL, fcntl(sp->in, F_GETFL) | O_NONBLOCK);
		if (!inlen) {
			close(sp->in);
			sp->in = -1;
		}
	}
	while (sp->in >= 0 || sp->out >= 0 || sp->err >= 0) {
		struct pollfd pfd[3];
		int nfd = 0, wait_ms = -1, r, i;

		if (deadline) {
			long long left = deadline - monotonic_ms();

			if (left <= 0) {
				res->timed_out = 1;
				spawn_kill(sp, SIGKILL);
				break;
			}
			wait_ms = left > 1000000 ? 1000000 : (int)left;
		}
		if (sp->in >= 0)
			pfd[nfd++] = (struct pollfd){ sp->in, POLLOUT, 0 };
		if (sp->out >= 0)
			pfd[nfd++] = (struct pollfd){ sp->out, POLLIN, 0 };
		if (sp->err >= 0)
			pfd[nfd++] = (struct pollfd){ sp->err, POLLIN, 0 };
		r = poll(pfd, (nfds_t)nfd, wait_ms);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			error_errno("poll");
			spawn_kill(sp, SIGKILL);
			break;
		}
		for (i = 0; i < nfd; i++) {
			if (!pfd[i].revents)
				continue;
			if (pfd[i].fd == sp->in) {
				ssize_t n = write(sp->in, (const char *)in + written,
						  inlen - written);

				if (n < 0 && (errno == EAGAIN || errno == EINTR))
					continue;
				if (n < 0 || (written += (size_t)n) == inlen) {
					close(sp->in);	/* EPIPE: the child stopped reading */
					sp->in = -1;
				}
			} else if (pfd[i].fd == sp->out) {
				drain(&sp->out, &res->out);
			} else if (pfd[i].fd == sp->err) {
				drain(&sp->err, &res->err);
			}
		}
	}
	st = spawn_finish(sp);
	if (st < 0)
		return -1;
	if (WIFEXITED(st)) {
		res->exited = 1;
		res->code = WEXITSTATUS(st);
	} else if (WIFSIGNALED(st)) {
		res->signo = WTERMSIG(st);
	}
	return 0;
}

int spawn_result_ok(const struct spawn_result *res)
{
	return res->exited && res->code == 0 && !res->timed_out;
}

void spawn_result_release(struct spawn_result *res)
{
	buf_release(&res->out);
	buf_release(&res->err);
}
