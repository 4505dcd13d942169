#!/bin/sh
# Runs a program under Valgrind's memcheck for CTest: any memcheck error
# (a use of uninitialised memory, an invalid access, a definite leak) makes
# the test fail with exit code 99. Without valgrind installed (setup.sh
# installs it) the test is skipped loudly, and fails under CI=true.
if ! command -v valgrind >/dev/null 2>&1; then
  echo "*** SKIP: valgrind is not installed (./setup.sh installs it)"
  [ "${CI:-}" = true ] && exit 1
  exit 0
fi
exec valgrind --tool=memcheck --error-exitcode=99 --track-origins=yes --leak-check=full \
  --errors-for-leak-kinds=definite --show-leak-kinds=definite --quiet "$@"
