#!/usr/bin/env bash
# bench/console_queue_ab.sh A_BUILD B_BUILD [--entries N] [--loads N] - the
# console's queue page served by two builds' hashscreend, loads alternating
# between them (tests/web/queue_ab.mjs), for a change to the page or its
# serving measured on a shared machine: both sides see the same load, and
# the paired differences say which is faster. Default 10,000 entries (the
# log's size does not change the page's time, docs/review.md "Speed") and
# 15 cold and 15 warm loads each.
#
#   bench/console_queue_ab.sh /work/main/build build
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { echo "usage: bench/console_queue_ab.sh A_BUILD B_BUILD [--entries N] [--loads N]" >&2; exit 2; }
A=$1 B=$2
shift 2
for build in "$A" "$B"; do
  [ -x "$build/hashscreend" ] || { echo "console_queue_ab: $build/hashscreend is missing" >&2; exit 1; }
done
[ -x "$B/tests/web/seed_audit" ] || { echo "console_queue_ab: $B/tests/web/seed_audit is missing: cmake --build $B" >&2; exit 1; }
A=$(cd "$A" && pwd) B=$(cd "$B" && pwd)
export HASHSCREEND="$B/hashscreend" HASHSCREEN_CLI="$B/hashscreen" HASHSCREEN_SEED_AUDIT="$B/tests/web/seed_audit"
export HASHSCREEN_SOURCE_DIR="$PWD" HASHSCREEN_WEB_ARTIFACTS="$B/web-artifacts"
exec node tests/web/queue_ab.mjs "$A/hashscreend" "$B/hashscreend" "$@"
