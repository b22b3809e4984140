#!/usr/bin/env bash
# A test double of how Gitaly runs a repository's custom hooks: every
# executable in custom_hooks/<hook>.d/ in order, same input, GL_* set,
# stopping at the first failure.
data=$(cat)
hookname=$(basename "$0")
export GL_ID=${GL_ID:-user-1} GL_REPOSITORY=${GL_REPOSITORY:-project-1} GL_USERNAME=${GL_USERNAME:-root}
for hook in "$(dirname "$0")/../custom_hooks/${hookname}.d/"*; do
  test -x "${hook}" && test -f "${hook}" || continue
  printf '%s\n' "${data}" | "${hook}" || exit $?
done
