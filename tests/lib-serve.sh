# tests/lib-serve.sh - a warm applier (`tidegate apply --serve`) for a test,
# sourced after test-lib.sh:
#   serve_start [VAR=VALUE...]  starts it (with those in its environment) on the
#                               fifo ./jobs: answers go to ./answers, its stderr
#                               to ./errors, its exit status to ./serve.rc
#   job ARG...                  one job: its arguments, then the empty one
#   answer N                    the Nth answer's JSON, once it is there
#   code N                      the Nth answer's exit code
#   serve_stop                  ends its input (not in a test body: a subshell)
serve_start() {
	mkfifo jobs || return 1
	{ env "$@" tidegate apply --serve <jobs >answers 2>errors; echo $? >serve.rc; } &
	test_bg_pid $!
	exec 7>jobs
}
job() {
	printf '%s\0' "$@" >&7 && printf '\0' >&7
}
answer() {
	test_wait_for "test \$(grep -c \"^tidegate-result \" answers) -ge $1" 60 &&
	sed -n "$(($1 * 2))p" answers
}
code() {
	grep "^tidegate-result " answers | sed -n "$1p" | cut -d" " -f2
}
serve_stop() {
	exec 7>&-
}
