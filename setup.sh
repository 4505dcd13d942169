#!/usr/bin/env bash
# setup.sh: one entry point for a fresh Debian 12 machine. Idempotent.
#
#   ./setup.sh serve   install dependencies (apt), build, start hashscreend on
#                      its embedded default (RocksDB under ./data, dev config,
#                      loopback, self-signed dev TLS generated here)
#   ./setup.sh test    install dependencies, build, fetch the benign image
#                      corpus (cached), run the whole test suite, then the
#                      same suite under ASan+UBSan, then every libFuzzer
#                      target briefly (clang, ASan+UBSan)
#   ./setup.sh build   install dependencies and build only
#
# `test` also installs Debian's chromium (and node/npm when absent) and runs
# npm ci in tests/web for the console's browser test (HASHSCREEN_NO_BROWSER=1
# skips that test).
#
# Environment: HASHSCREEN_IMAGES (image corpus dir, default
# /var/cache/hashscreen/images), HASHSCREEN_SANITIZE=0 skips the sanitizer pass,
# HASHSCREEN_FUZZ_SECONDS (per fuzz target, default 10; 0 skips fuzzing),
# HASHSCREEN_TEST_TMPDIR (the suite's temporary files; default a fresh
# directory in /dev/shm when it has 4 GiB free, else $TMPDIR),
# JOBS (parallel build jobs, default: number of cores).
set -euo pipefail
cd "$(dirname "$0")"

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
JOBS=${JOBS:-$(nproc)}
IMAGES=${HASHSCREEN_IMAGES:-/var/cache/hashscreen/images}

PACKAGES=(
  build-essential cmake pkg-config git openssl ca-certificates
  libssl-dev librocksdb-dev libcpp-httplib-dev libstb-dev libxxhash-dev doctest-dev
  libturbojpeg0-dev libjpeg62-turbo-dev libpng-dev libwebp-dev libtomlplusplus-dev nlohmann-json3-dev
  libhttp-parser-dev libexpat1-dev   # libexpat1-dev: NCMEC's XML (sync/exchange/ncmec_client.cc)
  valgrind
  clang libclang-rt-14-dev   # libFuzzer targets (fuzz/), built with clang
  haproxy python3-yaml       # deploy/: the load balancer, and deploy/check.sh
  pybind11-dev python3-dev python3-distributed   # python/: the module; examples/dask_scan.py and its test
)

log() { printf '== %s\n' "$*"; }

# The console's browser test (tests/web/): Debian's chromium, driven by
# playwright-core and checked by axe-core from the npm registry (pinned in
# tests/web/package-lock.json). Nothing else is downloaded: no browser build.
install_browser_test_deps() {
  local missing=()
  local p
  for p in chromium fonts-dejavu-core; do  # a font, so pages render text (screenshots, axe's contrast checks)
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  command -v node >/dev/null 2>&1 || missing+=(nodejs)
  command -v npm >/dev/null 2>&1 || missing+=(npm)
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]} (browser test of the console)"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  # npm ci only when the lock file is newer than the last install.
  if ! [ tests/web/node_modules/.installed-from-lock -nt tests/web/package-lock.json ]; then
    log "npm ci in tests/web (playwright-core, axe-core)"
    (cd tests/web && npm ci --no-audit --no-fund --ignore-scripts >/dev/null) && touch tests/web/node_modules/.installed-from-lock
  fi
}

install_deps() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then log "dependencies already installed"; return; fi
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

build() {  # build DIR [extra cmake args...]
  local dir=$1; shift
  log "building in $dir"
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
  cmake --build "$dir" -j "$JOBS"
}

fetch_images() {  # the benign test corpus, from Debian packages (cached; a no-op once complete)
  log "benign image corpus in $IMAGES (scripts/fetch-test-images.sh; minutes the first time, cached afterwards)"
  $SUDO mkdir -p "$(dirname "$IMAGES")"
  $SUDO bash scripts/fetch-test-images.sh --small --cache "$(dirname "$IMAGES")/debs" "$IMAGES" \
    > /tmp/hashscreen-fetch-images.log 2>&1 || { tail -20 /tmp/hashscreen-fetch-images.log; exit 1; }
}

# Where the suite's temporary databases go. Every RocksDB write of the code
# under test syncs its WAL, and on a disk those fsyncs are most of the suite's
# wall time (tests/store/feed_test.cc's follower case: 169 s on disk, 21 s on
# tmpfs). A process kill cannot tell the two apart, so the crash tests lose
# nothing; only power loss could, and no test simulates it. Used when
# /dev/shm has 4 GiB free; HASHSCREEN_TEST_TMPDIR overrides.
test_tmpdir() {
  if [ -n "${HASHSCREEN_TEST_TMPDIR:-}" ]; then mkdir -p "$HASHSCREEN_TEST_TMPDIR"; echo "$HASHSCREEN_TEST_TMPDIR"; return; fi
  local avail
  avail=$(df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 { print $4 }')
  if [ -w /dev/shm ] && [ "${avail:-0}" -ge $((4 * 1024 * 1024)) ]; then
    mktemp -d /dev/shm/hashscreen-tests.XXXXXX
  else
    echo "${TMPDIR:-/tmp}"
  fi
}

run_tests() {  # run_tests DIR
  local tmp
  tmp=$(test_tmpdir)
  log "running the test suite in $1 (temporary files in $tmp)"
  local rc=0
  TMPDIR="$tmp" HASHSCREEN_IMAGES="$IMAGES" ctest --test-dir "$1" -j "$JOBS" --output-on-failure || rc=$?
  case "$tmp" in /dev/shm/hashscreen-tests.*) rm -rf "$tmp" ;; esac
  return $rc
}

cmd=${1:-}
case "$cmd" in
  build)
    install_deps; build build ;;
  test)
    install_deps
    [ "${HASHSCREEN_NO_BROWSER:-0}" = 1 ] || install_browser_test_deps
    fetch_images
    build build -DHASHSCREEN_SANITIZE=OFF
    run_tests build
    if [ "${HASHSCREEN_SANITIZE:-1}" != 0 ]; then
      build build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHASHSCREEN_SANITIZE=ON -DHASHSCREEN_BENCH=OFF
      ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 run_tests build-asan
    fi
    if [ "${HASHSCREEN_FUZZ_SECONDS:-10}" != 0 ]; then
      log "building the fuzz targets (clang, libFuzzer, ASan+UBSan) in build-fuzz"
      CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHASHSCREEN_FUZZ=ON >/dev/null
      cmake --build build-fuzz -j "$JOBS"
      log "fuzzing each target for ${HASHSCREEN_FUZZ_SECONDS:-10}s"
      HASHSCREEN_IMAGES="$IMAGES" fuzz/run.sh build-fuzz "${HASHSCREEN_FUZZ_SECONDS:-10}"
    fi
    log "all tests passed" ;;
  serve)
    install_deps; build build
    exec bash config/dev-serve.sh ;;
  *)  # the usage: the comment at the top, up to its first non-comment line
    awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"; exit 2 ;;
esac
