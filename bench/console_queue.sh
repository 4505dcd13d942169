#!/usr/bin/env bash
# bench/console_queue.sh [--entries N] [--baseline N] [--loads N] - issue 12's
# console target: "the console's queue page renders in under 300 ms (server
# time + browser load, measured in the browser test) with 1M entries in the
# log" (docs/review.md "Speed").
#
# Seeds a log of N entries (default 1,000,000) with build/tests/web/seed_audit,
# starts a real hashscreend on it, and loads /ui/#/queue signed in, in Debian's
# chromium (tests/web/queue_scale.mjs): the median of --loads cold loads (a
# new browser context each) and warm loads (reloads), from the navigation's
# start to the first frame showing the "Matches" table's rows, with the time
# GET /v1/audit took. The same is measured first on a small log (--baseline,
# default 10,000 entries: a full first page too) in the same run; both are
# printed against the 300 ms target and as a ratio. Also checks the queue at
# N (oldest unreviewed match first, paging, a review leaves it); exits 1 if
# that fails. Numbers go to BUILD/web-artifacts/queue-scale-N.json.
#
#   BUILD=build bench/console_queue.sh [--entries 1000000] [--baseline 10000] [--loads 7]
#
# Needs what the browser test needs (./setup.sh test: chromium, npm ci in
# tests/web) and a build with hashscreend, hashscreen and seed_audit.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
for arg in "$@"; do
  case "$arg" in
    --entries|--baseline|--loads|[1-9]*) ;;
    *) echo "console_queue: unknown option '$arg' (usage: [--entries N] [--baseline N] [--loads N])" >&2; exit 2 ;;
  esac
done
for bin in hashscreend hashscreen tests/web/seed_audit; do
  [ -x "$BUILD/$bin" ] || { echo "console_queue: $BUILD/$bin is missing: cmake --build $BUILD" >&2; exit 1; }
done
BUILD=$(cd "$BUILD" && pwd)
export HASHSCREEND="$BUILD/hashscreend" HASHSCREEN_CLI="$BUILD/hashscreen" HASHSCREEN_SEED_AUDIT="$BUILD/tests/web/seed_audit"
export HASHSCREEN_SOURCE_DIR="$PWD" HASHSCREEN_WEB_ARTIFACTS="$BUILD/web-artifacts"
exec node tests/web/queue_scale.mjs "$@"
