#!/usr/bin/env bash
# bench/soak.sh [MINUTES] - sustained screening load against a real hashscreend
# on loopback (HTTPS, durable audit), for issue 4's "zero failed requests and
# flat RSS over a 10-minute sustained load". Repeats `hashscreen screen` over
# the >= 2 MP photos of the corpus (parallel keep-alive uploads) until the time
# is up, sampling the server's RSS after every pass. Prints one line per pass
# and a summary; exits 1 if any request failed or the server died.
#
#   BUILD=build bench/soak.sh 10          (SOAK_SECONDS=N overrides, for a short try)
set -euo pipefail
MINUTES=${1:-10}
[[ "$MINUTES" =~ ^[0-9]+$ ]] || { echo "usage: bench/soak.sh [WHOLE_MINUTES]" >&2; exit 2; }
SECONDS_TOTAL=${SOAK_SECONDS:-$((MINUTES * 60))}
BUILD=${BUILD:-build}
PHOTOS=${HASHSCREEN_IMAGES:-/var/cache/hashscreen/images}/photos-2mp
[ -x "$BUILD/hashscreend" ] && [ -x "$BUILD/hashscreen" ] || { echo "build first (BUILD=$BUILD)" >&2; exit 2; }
[ -d "$PHOTOS" ] || { echo "no photos at $PHOTOS (run sudo scripts/fetch-test-images.sh --small $(dirname "$PHOTOS"))" >&2; exit 2; }

tmp=$(mktemp -d)
PID=""
cleanup() { [ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=soak" \
  -addext "subjectAltName=IP:127.0.0.1" -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
KEY=$("$BUILD/hashscreend" keys create --create --data "$tmp/data" --role ingest | tail -1)
"$BUILD/hashscreend" serve --data "$tmp/data" --listen 127.0.0.1:0 --tls-cert "$tmp/cert.pem" \
  --tls-key "$tmp/key.pem" --metrics-listen 127.0.0.1:0 --quarantine-enabled=false > "$tmp/out" 2> "$tmp/log" &
PID=$!
for _ in $(seq 100); do grep -q '^listening on' "$tmp/out" && break; sleep 0.1; done
ADDR=$(sed -n 's/^listening on //p' "$tmp/out")
[ -n "$ADDR" ] || { echo "hashscreend did not start"; tail "$tmp/log"; exit 1; }
rss() { awk '/^VmRSS/{print $2}' "/proc/$PID/status"; }

end=$(( $(date +%s) + SECONDS_TOTAL ))
passes=0 screens=0 failures=0 rss_first="" rss_min=999999999 rss_max=0
echo "soak: ${SECONDS_TOTAL} s against https://$ADDR, $(ls "$PHOTOS"/*/* | wc -l) photos per pass"
while [ "$(date +%s)" -lt "$end" ]; do
  set +e
  "$BUILD/hashscreen" screen --server "https://$ADDR" --cacert "$tmp/cert.pem" --key "$KEY" --json "$PHOTOS" > "$tmp/pass.json" 2> "$tmp/pass.err"
  rc=$?
  set -e
  kill -0 "$PID" 2>/dev/null || { echo "FAIL: hashscreend died"; tail "$tmp/log"; exit 1; }
  n=$(grep -c '"audit_id"' "$tmp/pass.json" || true)
  errs=$(grep -c '"error"' "$tmp/pass.json" || true)
  [ "$rc" -eq 1 ] && [ "$errs" -eq 0 ] && errs=1
  passes=$((passes + 1)) screens=$((screens + n)) failures=$((failures + errs))
  r=$(rss); [ -z "$rss_first" ] && rss_first=$r
  [ "$r" -lt "$rss_min" ] && rss_min=$r; [ "$r" -gt "$rss_max" ] && rss_max=$r
  printf 'pass %3d: %4d screened, %d failed, exit %d, server RSS %d MB\n' "$passes" "$n" "$errs" "$rc" $((r / 1024))
done
printf 'soak: %d passes, %d screens, %d failed; server RSS first %d MB, min %d, max %d, last %d MB\n' \
  "$passes" "$screens" "$failures" $((rss_first / 1024)) $((rss_min / 1024)) $((rss_max / 1024)) $(($(rss) / 1024))
[ "$failures" -eq 0 ]
