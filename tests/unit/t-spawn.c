#include "tap.h"
#include "../../lib/spawn.h"
#include "../../lib/log.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

static void test_exit_codes(void)
{
	const char *argv_true[] = { "true", NULL };
	const char *argv_exit[] = { "sh", "-c", "exit 7", NULL };
	const char *argv_sig[] = { "sh", "-c", "kill -TERM $$", NULL };
	struct spawn sp = SPAWN_INIT;
	struct spawn_result r = SPAWN_RESULT_INIT(1024, 1024);

	sp.argv = argv_true;
	ok(spawn_run(&sp, NULL, 0, 5000, &r) == 0 && spawn_result_ok(&r), "true exits 0");
	spawn_result_release(&r);
	/* the test itself uses sh as a convenient child; the product never does */
	sp = (struct spawn)SPAWN_INIT;
	sp.argv = argv_exit;
	ok(spawn_run(&sp, NULL, 0, 5000, &r) == 0, "a failing child still ran");
	ok(r.exited && r.code == 7 && !spawn_result_ok(&r), "its exit code 7 is reported");
	spawn_result_release(&r);
	sp = (struct spawn)SPAWN_INIT;
	sp.argv = argv_sig;
	spawn_run(&sp, NULL, 0, 5000, &r);
	ok(!r.exited && r.signo == SIGTERM, "death by signal is reported");
	spawn_result_release(&r);
}

static void test_missing_program(void)
{
	const char *argv[] = { "tidegate-no-such-program", NULL };
	const char *argv2[] = { "/nonexistent/prog", NULL };
	struct spawn sp = SPAWN_INIT;
	struct spawn_result r = SPAWN_RESULT_INIT(1024, 1024);

	sp.argv = argv;
	ok(spawn_run(&sp, NULL, 0, 1000, &r) < 0, "a program not in PATH cannot be started");
	sp = (struct spawn)SPAWN_INIT;
	sp.argv = argv2;
	ok(spawn_run(&sp, NULL, 0, 1000, &r) < 0, "exec failure is reported by spawn, not as 127");
	spawn_result_release(&r);
}

static void test_deadline(void)
{
	const char *argv[] = { "sleep", "10", NULL };
	struct spawn sp = SPAWN_INIT;
	struct spawn_result r = SPAWN_RESULT_INIT(1024, 1024);
	long long t0 = monotonic_ms(), took;

	sp.argv = argv;
	ok(spawn_run(&sp, NULL, 0, 200, &r) == 0, "a slow child is run");
	took = monotonic_ms() - t0;
	ok(r.timed_out && !r.exited && r.signo == SIGKILL, "the deadline kills it");
	ok(took < 5000, "and spawn_run returns long before the child would have ended");
	ok(kill(sp.pid, 0) < 0 || sp.pid == -1, "the child has been reaped");
	spawn_result_release(&r);
}

static void test_io_env_fds(void)
{
	const char *cat[] = { "cat", NULL };
	const char *env_argv[] = { "env", NULL };
	const char *env[] = { "PATH=/usr/bin:/bin", "ONLY_THIS=1", NULL };
	const char *ls[] = { "ls", "/proc/self/fd", NULL };
	const char *err[] = { "sh", "-c", "echo oops >&2; head -c 5000 /dev/zero", NULL };
	struct spawn sp = SPAWN_INIT;
	struct spawn_result r = SPAWN_RESULT_INIT(1 << 20, 1024);
	static char big[300000];
	int leak;

	memset(big, 'x', sizeof(big));
	sp.argv = cat;
	ok(spawn_run(&sp, big, sizeof(big), 5000, &r) == 0 && spawn_result_ok(&r),
	   "stdin larger than a pipe buffer is fed while stdout is read");
	is_int(r.out.len, sizeof(big), "all of it comes back");
	spawn_result_release(&r);

	sp = (struct spawn)SPAWN_INIT;
	sp.argv = env_argv;
	sp.env = env;
	spawn_run(&sp, NULL, 0, 5000, &r);
	is_str(r.out.data, "PATH=/usr/bin:/bin\nONLY_THIS=1\n", "the child gets exactly the environment given");
	spawn_result_release(&r);

	leak = open("/dev/null", O_RDONLY);	/* not close-on-exec */
	sp = (struct spawn)SPAWN_INIT;
	sp.argv = ls;
	spawn_run(&sp, NULL, 0, 5000, &r);
	/* ls itself opens one fd for the directory, so 0 1 2 and that one */
	ok(r.out.len > 0 && !strstr(r.out.data, "\n4\n") && strstr(r.out.data, "0\n1\n2\n"),
	   "extra fds of the parent are closed in the child");
	close(leak);
	spawn_result_release(&r);

	{
		struct spawn_result small = SPAWN_RESULT_INIT(100, 1024);

		sp = (struct spawn)SPAWN_INIT;
		sp.argv = err;
		spawn_run(&sp, NULL, 0, 5000, &small);
		is_str(small.err.data, "oops\n", "stderr is captured apart from stdout");
		ok(small.out.len == 100 && small.out.toobig, "stdout past its cap is dropped and flagged");
		ok(spawn_result_ok(&small), "the child still ran to the end");
		spawn_result_release(&small);
	}
}

int main(void)
{
	log_init("t-spawn", LOGL_ERROR, LOG_FORMAT_TEXT);
	log_set_fd(open("/dev/null", O_WRONLY));
	test_exit_codes();
	test_missing_program();
	test_deadline();
	test_io_env_fds();
	return done_testing();
}
