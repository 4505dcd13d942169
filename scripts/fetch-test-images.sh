#!/usr/bin/env bash
# fetch-test-images.sh: collect hashscreen's benign test-image corpus from
# Debian packages (real photographs, drawings, classic test images, format
# samples, and the broken files image libraries test their decoders with).
#
# Usage (as root, on Debian 12):
#   scripts/fetch-test-images.sh [--small] [--cache DIR] [--force] TARGET_DIR
#
#   --small      leave out five heavy packages (about 0.6 GB of .debs instead
#                of about 1.3 GB); still >= 50 JPEG photographs of >= 2 MP.
#                What ./setup.sh test uses.
#   --cache DIR  keep the downloaded .deb files in DIR and reuse them
#                (default: TARGET_DIR/../debs). Delete DIR to fetch anew.
#   --force      rebuild TARGET_DIR even if it is complete and current.
#   -h, --help   this text.
#
# What it does: apt-get download the packages listed in
# scripts/fetch_test_images.py (only those not in the cache; an
# apt-get update first), read the chosen files out of each .deb with
# dpkg-deb, and write the corpus into a temporary sibling of TARGET_DIR that
# replaces TARGET_DIR only once complete, so an interrupted run never leaves
# a TARGET_DIR that looks finished. Needs only apt, dpkg and python3 (the
# standard library; installed with apt if absent): no npm, no ImageMagick,
# no network other than apt's.
#
# When TARGET_DIR already holds a complete corpus made by the same corpus
# version, selection rules and package list (its STAMP file says so), it says
# so and exits 0 at once, also when not root. A package that cannot be
# downloaded is a warning (a corpus built without it still counts as
# complete; --force tries again). The run fails (exit 1) only when the corpus
# would fall below its minimums (MINIMUMS in fetch_test_images.py: >= 50 JPEG
# photographs of >= 2 MP, >= 100 other photographs, >= 100 drawings, >= 20
# format samples, >= 20 malformed files, >= 600 files in formats/ and
# malformed/ together), and then TARGET_DIR is left as it was. Exit 2: bad
# usage, or an existing TARGET_DIR that is not an image corpus (it is never
# replaced). Beside TARGET_DIR it keeps .NAME.lock (one run at a time) and,
# while building, .NAME.partial.
#
# Output (TARGET_DIR/):
#   photos-2mp/  real photographs of >= 2 megapixels, picked by eye (the
#                benchmarks read these)
#   photos/      other real photographs                 } pools of distinct
#   testimages/  classic image-processing test images   } pictures, for
#   art/         drawings, renders, non-photo wallpapers } false-positive tests
#   variants/    near-duplicates of one picture (other sizes, tints, edits,
#                encodings, video frames): keep them OUT of false-positive pools
#   formats/     format coverage: progressive/CMYK/grey/12-bit/EXIF-rotated
#                JPEG, 16-bit/palette/tRNS/interlaced PNG, APNG, animated GIF,
#                lossy/lossless/alpha WebP, BMP variants; formats/huge-dimensions/
#                holds decompression-bomb sized pictures (a side >= 10000 px
#                and >= 50 MP), which a decoder should refuse
#   malformed/   truncated, corrupt and hostile files (decoder hardening)
#   LICENSES/    the copyright file of every source package (PKG.copyright)
#   MANIFEST.tsv one row per file, tab-separated, after a header line:
#                path category group source original_path format width height
#                bytes sha256 features
#                (path relative to TARGET_DIR; source is PACKAGE=VERSION;
#                original_path is the path inside the .deb; format, width,
#                height and features are read from the file's own header, and
#                are empty when it has none that is readable)
#   SUMMARY.txt  counts per category, per format and per format feature
#   STAMP        corpus version, profile and package list of a complete corpus
# Each group/ folder below a category holds the files of one source. Identical
# files (same SHA-256) are stored once: the first package listed keeps them.
# The pools of the --small corpus were checked free of near-duplicates (no two
# pictures within PDQ distance 31, over all 8 rotations and mirrorings); the
# full corpus adds openclipart, much of whose clip art comes in variants.
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
die() { printf 'fetch-test-images: %s\n' "$*" >&2; exit "${EXIT:-1}"; }
log() { printf '== %s\n' "$*"; }

ARGS="$*" SMALL=0 FORCE=0 CACHE="" TARGET=""
while [ $# -gt 0 ]; do
  case "$1" in
    --small) SMALL=1 ;;
    --force) FORCE=1 ;;
    --cache) [ -n "${2:-}" ] || EXIT=2 die "--cache needs a directory"; CACHE=$2; shift ;;
    --cache=*) CACHE=${1#--cache=} ;;
    -h|--help) usage; exit 0 ;;
    -*) EXIT=2 die "unknown option $1 (see --help)" ;;
    *) [ -z "$TARGET" ] || EXIT=2 die "one TARGET_DIR only (see --help)"; TARGET=$1 ;;
  esac
  shift
done
[ -n "$TARGET" ] || EXIT=2 die "usage: $0 [--small] [--cache DIR] [--force] TARGET_DIR (see --help)"

HELPER="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/fetch_test_images.py"
[ -f "$HELPER" ] || die "missing $HELPER (it belongs beside this script)"
TARGET=$(realpath -m -- "$TARGET")
PARENT=$(dirname "$TARGET") NAME=$(basename "$TARGET")
[ "$TARGET" != / ] || EXIT=2 die "TARGET_DIR must not be /"
CACHE=$(realpath -m -- "${CACHE:-$PARENT/debs}")
PROFILE=() ; [ "$SMALL" = 1 ] && PROFILE=(--small)

# Debian's own interpreter when there is one: it starts fast and is what apt installs.
find_python() {
  if [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3
  elif command -v python3 >/dev/null 2>&1; then PY=$(command -v python3)
  else PY=""; fi
}
find_python

# ---- up to date? (no root needed, well under a second)
if [ "$FORCE" = 0 ] && [ -n "$PY" ] && [ -f "$TARGET/STAMP" ] && [ -f "$TARGET/MANIFEST.tsv" ] &&
   "$PY" "$HELPER" stamp "${PROFILE[@]}" | cmp -s - "$TARGET/STAMP"; then
  version=$(sed -n 's/^corpus_version //p' "$TARGET/STAMP") profile=$(sed -n 's/^profile //p' "$TARGET/STAMP")
  log "image corpus in $TARGET is complete and current (corpus version $version, profile $profile): nothing to do"
  missing=$(sed -n 's/^packages missing[^:]*: //p' "$TARGET/SUMMARY.txt" 2>/dev/null)
  [ -z "$missing" ] || log "it was built without $missing (--force tries again)"
  exit 0
fi

[ "$(id -u)" -eq 0 ] || die "run as root: it downloads packages with apt-get (try: sudo $0 $ARGS)"
if [ -e "$TARGET" ] && { [ ! -d "$TARGET" ] ||
     { [ -n "$(ls -A "$TARGET")" ] && [ ! -f "$TARGET/MANIFEST.tsv" ]; }; }; then
  EXIT=2 die "$TARGET exists and is not an image corpus (no MANIFEST.tsv): refusing to replace it"
fi
export DEBIAN_FRONTEND=noninteractive
START=$SECONDS
elapsed() { echo "$((SECONDS - START)) s"; }

APT_UPDATED=0
apt_update() {
  [ "$APT_UPDATED" = 1 ] && return 0
  log "apt-get update"
  apt-get update -qq || echo "WARNING: apt-get update failed; trying with the package lists at hand" >&2
  APT_UPDATED=1
}

if [ -z "$PY" ]; then
  apt_update
  log "installing python3"
  apt-get install -y -qq --no-install-recommends python3 >/dev/null || die "could not install python3"
  find_python
  [ -n "$PY" ] || die "python3 is still missing"
fi

mkdir -p "$PARENT" "$CACHE"
exec 9>"$PARENT/.$NAME.lock"
flock -n 9 || die "another run is building $TARGET (lock $PARENT/.$NAME.lock)"

WORK="$PARENT/.$NAME.partial" OLD="$PARENT/.$NAME.old" STAGE="$CACHE/.partial"
cleanup() { rm -rf "$WORK" "$STAGE"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- download what the cache lacks
mapfile -t PKGS < <("$PY" "$HELPER" packages "${PROFILE[@]}")
[ "${#PKGS[@]}" -gt 0 ] || die "the helper listed no packages"
cached() { compgen -G "$CACHE/${1}_*.deb" >/dev/null; }
want=()
for p in "${PKGS[@]}"; do cached "$p" || want+=("$p"); done
log "downloading ${#want[@]} of ${#PKGS[@]} packages into $CACHE (the rest are cached)"
if [ "${#want[@]}" -gt 0 ]; then
  apt_update
  size=$(apt-cache show --no-all-versions "${want[@]}" 2>/dev/null |
         awk '/^Size:/ {s += $2} END {printf "%.0f", s / 1e6}') || true
  [ -z "$size" ] || log "about $size MB to download"
  # Into a staging folder first: a .deb lands in the cache only when complete.
  # apt's sandbox user writes it there, so that apt does not warn about root.
  rm -rf "$STAGE"; mkdir -p "$STAGE"
  chown _apt "$STAGE" 2>/dev/null || true
  if ! (cd "$STAGE" && apt-get download -qq "${want[@]}" >/dev/null 2>"$STAGE/apt.log"); then
    left=()
    for p in "${want[@]}"; do compgen -G "$STAGE/${p}_*.deb" >/dev/null || left+=("$p"); done
    i=0
    for p in "${left[@]}"; do          # one by one: one unknown name fails a whole batch
      i=$((i + 1))
      log "downloading one by one: $i of ${#left[@]}: $p"
      (cd "$STAGE" && apt-get download -qq "$p" >/dev/null 2>>"$STAGE/apt.log") ||
        echo "WARNING: could not download $p: $(grep -v '^W:' "$STAGE/apt.log" | tail -1)" >&2
    done
  fi
  for f in "$STAGE"/*.deb; do
    [ -e "$f" ] || continue
    if dpkg-deb --info "$f" >/dev/null 2>&1; then mv -f "$f" "$CACHE/"
    else echo "WARNING: $(basename "$f") is not a readable .deb; dropped" >&2; fi
  done
  rm -rf "$STAGE"
  log "download done after $(elapsed)"
fi
for p in "${PKGS[@]}"; do cached "$p" || echo "WARNING: package $p is not available; going on without it" >&2; done

# ---- build beside TARGET, then swap it in
rm -rf "$WORK" "$OLD"
mkdir -p "$WORK"
log "reading ${#PKGS[@]} packages into $WORK"
rc=0
"$PY" "$HELPER" build "${PROFILE[@]}" --debs "$CACHE" --out "$WORK" || rc=$?
[ "$rc" -lt 128 ] || die "interrupted; $TARGET is left as it was"
[ "$rc" -eq 0 ] || die "the corpus is incomplete (see above); $TARGET is left as it was"
[ -f "$WORK/STAMP" ] || die "the helper finished without writing STAMP; $TARGET is left as it was"
if [ -e "$TARGET" ]; then mv -T "$TARGET" "$OLD"; fi
mv -T "$WORK" "$TARGET"
rm -rf "$OLD"
files=$(($(wc -l < "$TARGET/MANIFEST.tsv") - 1))
log "done after $(elapsed): $TARGET ($files files; MANIFEST.tsv, SUMMARY.txt, LICENSES/)"
