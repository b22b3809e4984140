#!/usr/bin/env bash
# A hook that was there before tidegate: records its input in the
# repository; refuses when the repository holds a file "legacy-refuse".
cat >>"${GIT_DIR:-.}/legacy.log"
echo "legacy hook ran"
test ! -e "${GIT_DIR:-.}/legacy-refuse"
