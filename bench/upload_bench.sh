#!/usr/bin/env bash
# bench/upload_bench.sh [--clients N] [--seconds N] [POOL...] - issue 13's target "`scan --upload`
# and `screen`: >= 90% of bench/server_bench's HTTP rate on the same images" (docs/datasets.md
# "Measured").
#
# For each POOL (a directory under the corpus; default photos-2mp and photos), in the same run:
#   1. build/bench/server_bench --images POOL --clients N: its default workload (HTTPS screen,
#      audit fsync + group commit) is the baseline: N keep-alive clients POSTing the pool's first
#      200 images (sorted paths) to /v1/screen for --seconds;
#   2. `hashscreen scan --upload --jobs N` and 3. `hashscreen screen --jobs N` on the same 200
#      files, against a hashscreend started as server_bench starts it (fresh database, same flags),
#      the files repeated (through symlink copies, so each is a distinct source) until a pass
#      lasts about --seconds;
# and prints each rate and its ratio to server_bench's (target >= 90%).
#
#   BUILD=build bench/upload_bench.sh [--clients 8] [--seconds 10] [photos-2mp photos]
set -euo pipefail
CLIENTS=8
SECS=10
POOLS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --clients) CLIENTS=${2:?--clients needs a value}; shift 2 ;;
    --seconds) SECS=${2:?--seconds needs a value}; shift 2 ;;
    -*) echo "upload_bench: unknown option '$1' (usage: [--clients N] [--seconds N] [POOL...])" >&2; exit 2 ;;
    *) POOLS+=("$1"); shift ;;
  esac
done
[ ${#POOLS[@]} -gt 0 ] || POOLS=(photos-2mp photos)
[[ "$CLIENTS" =~ ^[0-9]+$ ]] && [ "$CLIENTS" -ge 1 ] || { echo "upload_bench: --clients is a number >= 1" >&2; exit 2; }
[[ "$SECS" =~ ^[0-9]+$ ]] && [ "$SECS" -ge 2 ] || { echo "upload_bench: --seconds is a number >= 2" >&2; exit 2; }
BUILD=${BUILD:-build}
IMAGES=${HASHSCREEN_IMAGES:-/var/cache/hashscreen/images}
for b in hashscreend hashscreen bench/server_bench; do
  [ -x "$BUILD/$b" ] || { echo "build first ($BUILD/$b missing)" >&2; exit 2; }
done
HS=$(realpath "$BUILD/hashscreen")
HSD=$(realpath "$BUILD/hashscreend")

tmp=$(mktemp -d /tmp/upload-bench-XXXXXX)
PID=""
cleanup() { [ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
now() { date +%s.%N; }
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=bench" \
  -addext "subjectAltName=IP:127.0.0.1" -keyout "$tmp/key.pem" -out "$tmp/cert.pem" > /dev/null 2>&1
export HASHSCREEN_CACERT="$tmp/cert.pem"

# Starts hashscreend as server_bench does (fresh database, an ingest key in KEY).
start_server() {
  rm -rf "$tmp/data"
  KEY=$("$HSD" keys create --create --data "$tmp/data" --role ingest | tail -1)
  "$HSD" serve --data "$tmp/data" --listen 127.0.0.1:0 --tls-cert "$tmp/cert.pem" --tls-key "$tmp/key.pem" \
    --log-requests=false --rate-per-key 0 --metrics-listen 127.0.0.1:0 > "$tmp/server.out" 2> "$tmp/server.log" &
  PID=$!
  for _ in $(seq 300); do grep -q '^listening on' "$tmp/server.out" && break; sleep 0.1; done
  ADDR=$(sed -n 's/^listening on //p' "$tmp/server.out" | head -1)
  [ -n "$ADDR" ] || { echo "hashscreend did not start:" >&2; cat "$tmp/server.log" >&2; exit 1; }
}
stop_server() { kill -TERM "$PID"; wait "$PID" 2>/dev/null || true; PID=""; }

# Runs "$@" against a fresh server; prints files/s (errors make the run fail).
measure() {
  local t0 t1 rc=0
  start_server
  t0=$(now)
  HASHSCREEN_SERVER="https://$ADDR" HASHSCREEN_KEY=$KEY "$@" > "$tmp/run.out" 2> "$tmp/run.err" || rc=$?
  t1=$(now)
  stop_server
  if [ "$rc" -ne 0 ]; then echo "FAILED (exit $rc): $(tail -2 "$tmp/run.err")" >&2; exit 1; fi
  awk "BEGIN{printf \"%.1f\", $NFILES / ($t1 - $t0)}"
}

echo "== $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $CLIENTS clients / --jobs $CLIENTS"
for pool in "${POOLS[@]}"; do
  dir="$IMAGES/$pool"
  [ -d "$dir" ] || { echo "no pool $dir" >&2; exit 2; }
  # server_bench's files: the first 200 .jpg/.jpeg/.png/.webp below POOL in path order.
  find "$dir" -type f \( -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.png' -o -iname '*.webp' \) | LC_ALL=C sort \
    | head -200 > "$tmp/files.txt"
  sb=$("$BUILD/bench/server_bench" --images "$dir" --clients "$CLIENTS" --seconds "$SECS" --max-files 200)
  echo "$sb" | sed 's/^/  server_bench: /'
  base=$(echo "$sb" | sed -n 's/^HTTPS screen, audit fsync + group commit (default) *\([0-9.]*\) images\/s.*/\1/p')
  [ -n "$base" ] || { echo "cannot read server_bench's rate" >&2; exit 1; }
  # Passes of the 200 files so that one run lasts about SECS at the baseline rate.
  n=$(wc -l < "$tmp/files.txt")
  passes=$(awk "BEGIN{p = int($base * $SECS / $n + 0.999); print p < 1 ? 1 : p}")
  rm -rf "$tmp/copies" && : > "$tmp/list.txt"
  for p in $(seq "$passes"); do
    mkdir -p "$tmp/copies/$p"
    i=0
    while read -r f; do i=$((i + 1)); ln -s "$f" "$tmp/copies/$p/$(printf %04d "$i")-$(basename "$f")"; echo "$tmp/copies/$p/$(printf %04d "$i")-$(basename "$f")" >> "$tmp/list.txt"; done < "$tmp/files.txt"
  done
  NFILES=$(wc -l < "$tmp/list.txt")
  echo "== $pool: $n files x $passes passes = $NFILES uploads; server_bench (HTTPS screen, default): $base images/s"
  rm -f "$tmp/verdicts.jsonl"*
  scan=$(measure "$HS" scan --upload --jobs "$CLIENTS" --out "$tmp/verdicts.jsonl" "@$tmp/list.txt")
  echo "  hashscreen scan --upload --jobs $CLIENTS: $scan files/s = $(awk "BEGIN{printf \"%.0f\", 100 * $scan / $base}")% of server_bench (target >= 90%)"
  screen=$(measure "$HS" screen --jobs "$CLIENTS" $(cat "$tmp/list.txt"))
  echo "  hashscreen screen --jobs $CLIENTS:        $screen files/s = $(awk "BEGIN{printf \"%.0f\", 100 * $screen / $base}")% of server_bench (target >= 90%)"
done
