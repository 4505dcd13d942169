#!/usr/bin/env bash
# fuzz/run.sh: run hashscreen's libFuzzer targets for a bounded time each.
#
#   fuzz/run.sh BUILD_DIR SECONDS [TARGET...]
#   fuzz/run.sh --help
#
# BUILD_DIR is a build configured with CC=clang CXX=clang++ -DHASHSCREEN_FUZZ=ON
# (./setup.sh test makes build-fuzz). Each target runs for SECONDS (one at a
# time, one process) on a corpus kept in BUILD_DIR/fuzz-corpus/TARGET, seeded
# from the repository's test data (tests/data/pdq images, fuzz/seeds/, the
# shipped configs) and the fetched image corpus ($HASHSCREEN_IMAGES, default
# /var/cache/hashscreen/images; files under 256 KB of the target's format).
# A target with a dictionary in fuzz/dicts/TARGET.dict (without the fuzz_
# prefix) gets it. No TARGET: all of them.
#
# Exit status: 0 when no target found anything; 1 when one did: each
# crashing input (crash, sanitizer report, leak, timeout, out of memory) is
# saved as BUILD_DIR/fuzz-artifacts/TARGET-KIND-SHA1 and its path printed
# (libFuzzer also saves inputs over 10 s as TARGET-slow-unit-SHA1: a hint,
# not a failure)
# (reproduce: BUILD_DIR/fuzz/TARGET FILE); 2 for a usage error. Saved inputs
# are re-run before the target fuzzes again, so a finding keeps failing the
# run until its cause is fixed or the file is deleted. The random seed is
# fixed (1, or $HASHSCREEN_FUZZ_SEED) so a run is repeatable on one machine;
# the log of each target is BUILD_DIR/fuzz-artifacts/TARGET.log.
#
# Environment: $HASHSCREEN_FUZZ_DIR holds fuzz-corpus/ and fuzz-artifacts/
# instead of BUILD_DIR (a long run keeps its own corpora);
# $HASHSCREEN_FUZZ_TIMEOUT is the seconds one input may take (default 10; a
# run at nice 19 on a loaded machine needs more, or starvation is reported
# as a timeout); $ASAN_OPTIONS is appended to the options set here.
set -euo pipefail
cd "$(dirname "$0")/.."
# The usage is the comment above: every line from the second up to the first
# that is not a comment.
usage() { awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"; }
case ${1:-} in -h|--help) usage; exit 0 ;; esac
[ $# -ge 2 ] || { usage >&2; exit 2; }
BUILD=$1 SECONDS_EACH=$2; shift 2
WORK=${HASHSCREEN_FUZZ_DIR:-$BUILD}
IMAGES=${HASHSCREEN_IMAGES:-/var/cache/hashscreen/images}
[ -d "$BUILD/fuzz" ] || { echo "no fuzz targets in $BUILD/fuzz (configure with -DHASHSCREEN_FUZZ=ON)" >&2; exit 2; }
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for t in "$BUILD"/fuzz/fuzz_*; do targets+=("$(basename "$t")"); done
fi

# seed TARGET DIR: fills DIR with the target's seeds (small files only).
seed() {
  local target=$1 dir=$2 format=""
  case $target in
    fuzz_decode_*) format=${target#fuzz_decode_} ;;
    fuzz_list_codec) cp fuzz/seeds/list_codec/* "$dir"/; return ;;
    fuzz_json_bodies) cp fuzz/seeds/json_bodies/* "$dir"/; return ;;
    fuzz_config) cp config/*.toml fuzz/seeds/config/* "$dir"/ 2>/dev/null || true; return ;;
    fuzz_multipart) cp fuzz/seeds/multipart/* "$dir"/; return ;;
    fuzz_http_request) cp fuzz/seeds/http_request/* "$dir"/; return ;;
    fuzz_media_type) cp fuzz/seeds/media_type/* "$dir"/; return ;;
    fuzz_feed_codec) cp fuzz/seeds/feed_codec/* "$dir"/; return ;;
    fuzz_ncmec_page|fuzz_stopncii_page|fuzz_threat_updates_page|fuzz_tcap_page) cp "fuzz/seeds/${target#fuzz_}"/* "$dir"/; return ;;
    *) return 0 ;;  # no seeds: libFuzzer starts from an empty input
  esac
  if [ -d "fuzz/seeds/$format" ]; then cp "fuzz/seeds/$format"/* "$dir"/; fi
  local exts
  case $format in
    jpeg) exts='jpg|jpeg' ;; png) exts='png' ;; gif) exts='gif' ;; bmp) exts='bmp|dib' ;;
    pnm) exts='pnm|ppm|pgm|pbm' ;; psd) exts='psd' ;; tga) exts='tga' ;; webp) exts='webp' ;;
  esac
  find tests/data/pdq/images -type f -size -256k | grep -iE "\.($exts)\$" | head -200 | while read -r f; do
    cp "$f" "$dir/pdq-${f##*/}"; done || true
  if [ -f "$IMAGES/MANIFEST.tsv" ]; then
    awk -F'\t' -v fmt="$format" 'NR > 1 && ($6 == fmt || $2 == "malformed") && $9 < 262144 {print $1}' \
      "$IMAGES/MANIFEST.tsv" | head -300 | while read -r rel; do
        cp "$IMAGES/$rel" "$dir/${rel//\//_}" 2>/dev/null || true; done || true
  fi
  return 0
}

# run TARGET LOG ARGS...: the target with the options every run uses.
run() {
  local t=$1 log=$2; shift 2
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1${ASAN_OPTIONS:+:$ASAN_OPTIONS} \
    UBSAN_OPTIONS=print_stacktrace=1 \
    "$BUILD/fuzz/$t" -timeout="${HASHSCREEN_FUZZ_TIMEOUT:-10}" -rss_limit_mb=2048 -max_len=1048576 "$@" > "$log" 2>&1
}

mkdir -p "$WORK/fuzz-artifacts"
status=0
for t in "${targets[@]}"; do
  [ -x "$BUILD/fuzz/$t" ] || { echo "no fuzz target $BUILD/fuzz/$t" >&2; exit 2; }
  log="$WORK/fuzz-artifacts/$t.log"
  # Inputs an earlier run saved are tried first: until its cause is fixed
  # (or the file deleted), a finding keeps failing the run.
  mapfile -t saved < <(find "$WORK/fuzz-artifacts" -maxdepth 1 -name "$t-*" -type f ! -name '*.log' ! -name "$t-slow-unit-*" | sort)
  if [ ${#saved[@]} -gt 0 ] && ! run "$t" "$log" "${saved[@]}"; then
    tail -30 "$log"
    echo "!! $t still fails on an input saved earlier; log: $log"
    printf '!! saved input: %s\n' "${saved[@]}"
    status=1
    continue
  fi
  corpus="$WORK/fuzz-corpus/$t"
  if [ ! -d "$corpus" ]; then mkdir -p "$corpus"; seed "$t" "$corpus"; fi
  dict=()
  if [ -f "fuzz/dicts/${t#fuzz_}.dict" ]; then dict=(-dict="fuzz/dicts/${t#fuzz_}.dict"); fi
  echo "== $t: ${SECONDS_EACH}s, corpus $(find "$corpus" -type f | wc -l) files"
  if ! run "$t" "$log" -max_total_time="$SECONDS_EACH" -seed="${HASHSCREEN_FUZZ_SEED:-1}" -print_final_stats=1 \
      "${dict[@]}" -artifact_prefix="$WORK/fuzz-artifacts/$t-" "$corpus"; then
    tail -30 "$log"
    mapfile -t found < <(find "$WORK/fuzz-artifacts" -maxdepth 1 -name "$t-*" -type f ! -name '*.log' ! -name "$t-slow-unit-*" | sort |
      comm -23 - <(printf '%s\n' "${saved[@]}" | sort))
    echo "!! $t found a problem; log: $log"
    if [ ${#found[@]} -gt 0 ]; then
      for f in "${found[@]}"; do echo "!! crashing input: $f (reproduce: $BUILD/fuzz/$t $f)"; done
    else
      echo "!! no input was saved (the fuzzer itself failed; see the log)"
    fi
    status=1
  else
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb|stat::new_units_added" "$log" |
      tr '\n' ' ' | sed 's/stat:://g'; echo
  fi
done
exit $status
