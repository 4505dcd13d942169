#!/usr/bin/env bash
# fuzz/run.sh: run hashscreen's libFuzzer targets for a bounded time each.
#
#   fuzz/run.sh BUILD_DIR SECONDS [TARGET...]
#
# BUILD_DIR is a build configured with CC=clang CXX=clang++ -DHASHSCREEN_FUZZ=ON
# (./setup.sh test makes build-fuzz). Each target runs for SECONDS (one at a
# time, one process) on a corpus kept in BUILD_DIR/fuzz-corpus/TARGET, seeded
# from the repository's test data (tests/data/pdq images, fuzz/seeds/, the
# shipped configs) and the fetched image corpus ($HASHSCREEN_IMAGES, default
# /var/cache/hashscreen/images; files under 256 KB of the target's format).
# No TARGET: all of them. Exit status: 0 when no target found anything;
# otherwise 1, with the crashing input saved as BUILD_DIR/fuzz-artifacts/*
# (reproduce: BUILD_DIR/fuzz/TARGET FILE). The random seed is fixed (1, or
# $HASHSCREEN_FUZZ_SEED) so a CI run is repeatable on one machine.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { sed -n '2,15p' "$0"; exit 2; }
BUILD=$1 SECONDS_EACH=$2; shift 2
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
    fuzz_multipart) cp fuzz/seeds/multipart/* "$dir"/ 2>/dev/null || true; return ;;
  esac
  if [ -d "fuzz/seeds/$format" ]; then cp "fuzz/seeds/$format"/* "$dir"/; fi
  local exts
  case $format in
    jpeg) exts='jpg|jpeg' ;; png) exts='png' ;; gif) exts='gif' ;; bmp) exts='bmp|dib' ;;
    pnm) exts='pnm|ppm|pgm|pbm' ;; psd) exts='psd' ;; tga) exts='tga' ;; webp) exts='webp' ;;
  esac
  find tests/data/pdq/images -type f -size -256k | grep -iE "\.($exts)\$" | head -200 | while read -r f; do
    cp "$f" "$dir/pdq-$(basename "$f")"; done || true
  if [ -f "$IMAGES/MANIFEST.tsv" ]; then
    awk -F'\t' -v fmt="$format" 'NR > 1 && ($6 == fmt || $2 == "malformed") && $9 < 262144 {print $1}' \
      "$IMAGES/MANIFEST.tsv" | head -300 | while read -r rel; do
        cp "$IMAGES/$rel" "$dir/$(echo "$rel" | tr '/' '_')" 2>/dev/null || true; done || true
  fi
  return 0
}

mkdir -p "$BUILD/fuzz-artifacts"
status=0
for t in "${targets[@]}"; do
  corpus="$BUILD/fuzz-corpus/$t"
  if [ ! -d "$corpus" ]; then mkdir -p "$corpus"; seed "$t" "$corpus"; fi
  echo "== $t: ${SECONDS_EACH}s, corpus $(find "$corpus" -type f | wc -l) files"
  if ! ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1 \
      "$BUILD/fuzz/$t" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -max_len=1048576 \
      -seed="${HASHSCREEN_FUZZ_SEED:-1}" -print_final_stats=1 -artifact_prefix="$BUILD/fuzz-artifacts/$t-" "$corpus" \
      > "$BUILD/fuzz-artifacts/$t.log" 2>&1; then
    echo "!! $t found a problem; log: $BUILD/fuzz-artifacts/$t.log"; tail -30 "$BUILD/fuzz-artifacts/$t.log"
    status=1
  else
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb|stat::new_units_added" "$BUILD/fuzz-artifacts/$t.log" |
      tr '\n' ' ' | sed 's/stat:://g'; echo
  fi
done
exit $status
