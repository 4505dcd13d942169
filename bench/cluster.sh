#!/usr/bin/env bash
# cluster.sh: a primary, two followers and HAProxy on loopback, measured
# against the targets of issue 10 (run on demand, not in CI):
#   1. add->match and withdraw->no-match on every follower (p50, p99) while
#      screening load runs through HAProxy                 target p99 <= 1 s
#   2. screening throughput through HAProxy (two followers) against one
#      follower alone on the same machine (ratio)          target >= 90%
#   3. a follower SIGKILLed in the middle of a 100,000-hash push, restarted,
#      then compared with the primary entry for entry      target: equal
#   4. bootstrap of a fresh follower of a primary holding --hashes PDQ hashes,
#      and the primary's CPU for serving two followers (bench/follow_bench)
#                                                          target <= 60 s, <= 5%
# Every instance gets the same ingest and replica keys from secret files
# (`hashscreend keys secret`, `keys create --secret-file`): the way a key is
# accepted by every instance behind the load balancer (docs/deploy.md).
#
# Usage: bench/cluster.sh [--build DIR] [--hashes N] [--index N] [--changes N]
#                         [--seconds S] [--push N] [--bootstrap-data DIR]
#                         [--no-bootstrap] [--keep]
#   --hashes N   bootstrap size (default 10000000; 1000000 for a quick run)
#   --index N    hashes in the cluster's list before measuring (default 100000)
#   --changes N  adds and withdrawals timed (default 300)
#   --seconds S  each throughput run (default 15)
#   --push N     the push the follower is killed in (default 100000)
#   --bootstrap-data DIR  follow_bench's --data: keep its primary between runs
# Needs: a Release build (hashscreend, bench/follow_bench), haproxy, openssl,
# curl, python3.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$ROOT/build
HASHES=10000000
INDEX=100000
CHANGES=300
SECONDS_RUN=15
PUSH=100000
BOOTSTRAP=1
BOOTDATA=
KEEP=0
usage() { sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
while [[ $# -gt 0 ]]; do
  case $1 in
    --build) BUILD=$2; shift 2 ;;
    --hashes) HASHES=$2; shift 2 ;;
    --index) INDEX=$2; shift 2 ;;
    --changes) CHANGES=$2; shift 2 ;;
    --seconds) SECONDS_RUN=$2; shift 2 ;;
    --push) PUSH=$2; shift 2 ;;
    --bootstrap-data) BOOTDATA=$2; shift 2 ;;
    --no-bootstrap) BOOTSTRAP=0; shift ;;
    --keep) KEEP=1; shift ;;
    -h|--help) usage ;;
    *) echo "cluster.sh: unknown option $1" >&2; usage ;;
  esac
done
for n in "$HASHES" "$INDEX" "$CHANGES" "$SECONDS_RUN" "$PUSH"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "cluster.sh: '$n' is not a positive number" >&2; exit 2; }
done
D=$BUILD/hashscreend
PROBE=$ROOT/bench/cluster_probe.py
for tool in "$D" haproxy openssl curl python3; do
  command -v "$tool" >/dev/null || { echo "cluster.sh: $tool not found" >&2; exit 1; }
done

T=$(mktemp -d /tmp/hashscreen-cluster.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  if [[ $KEEP == 1 ]]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
say() { printf '%s\n' "$*"; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
py() { python3 "$PROBE" --cacert "$T/cert.pem" "$@"; }

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" \
  -days 2 -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 2>/dev/null
cat "$T/cert.pem" "$T/key.pem" > "$T/hashscreen.pem"
cp "$T/cert.pem" "$T/hashscreen-ca.pem"

# The shared keys: one secret file each, provisioned on every instance.
"$D" keys secret > "$T/ingest.secret"
"$D" keys secret > "$T/replica.secret"
INGEST=$(cat "$T/ingest.secret")
REPLICA=$(cat "$T/replica.secret")
provision() {  # data dir
  "$D" keys create --create --data "$1" --role ingest --hash-queries --secret-file "$T/ingest.secret" >/dev/null
  "$D" keys create --data "$1" --role replica --secret-file "$T/replica.secret" >/dev/null
}
provision "$T/primary"
PARTNER=$("$D" keys create --data "$T/primary" --role partner --partner acme | tail -1)
provision "$T/f1"
provision "$T/f2"

# start NAME DATA [FLAGS...]: sets PORT_<NAME>
start() {
  local name=$1 data=$2
  shift 2
  "$D" serve --data "$data" --listen 127.0.0.1:0 --tls-cert "$T/cert.pem" --tls-key "$T/key.pem" --metrics-listen "" \
    --log-requests=false --rate-per-key 0 --probing-budget 1000000 --probing-hash-budget 1000000 --quarantine-enabled=false "$@" \
    > "$T/$name.out" 2> "$T/$name.log" &
  local pid=$!
  PIDS+=("$pid")
  eval "PID_$name=$pid"
  for _ in $(seq 600); do
    if grep -q '^listening on' "$T/$name.out"; then
      eval "PORT_$name=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$T/$name.out" | head -1)"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || { echo "cluster.sh: $name did not start:" >&2; tail -5 "$T/$name.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "cluster.sh: $name did not start in 60 s" >&2
  exit 1
}
ready() {  # port [timeout_s]: waits for /readyz 200
  for _ in $(seq $((${2:-120} * 10))); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' --cacert "$T/cert.pem" "https://127.0.0.1:$1/readyz") == 200 ]] && return 0
    sleep 0.1
  done
  echo "cluster.sh: 127.0.0.1:$1 not ready" >&2
  return 1
}
FOLLOW=()
follow_flags() { FOLLOW=(--follow "https://127.0.0.1:$PORT_primary" --follow-key-file "$T/replica.secret" --follow-cacert "$T/cert.pem"); }

start primary "$T/primary"
P=https://127.0.0.1:$PORT_primary
LIST=$(curl -sf --cacert "$T/cert.pem" -H "Authorization: Bearer $PARTNER" -H 'Content-Type: application/json' \
  -d '{"name":"cluster","kind":"block","pdq_threshold":31}' "$P/v1/lists" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
py push --url "$P" --key "$PARTNER" --list "$LIST" --count "$INDEX" --batch 10000 >/dev/null
follow_flags
start f1 "$T/f1" "${FOLLOW[@]}"
start f2 "$T/f2" "${FOLLOW[@]}"
ready "$PORT_f1"
ready "$PORT_f2"

# HAProxy from deploy/'s template: loopback addresses, the bench's certificates.
HAPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sed -e "s#^\(\s*\)crt-base .*#\1crt-base $T#" -e "s#^\(\s*\)ca-base .*#\1ca-base $T#" \
    -e "s#^\(\s*\)bind :443 #\1bind 127.0.0.1:$HAPORT #" -e 's#^\(\s*\)maxconn 20000#\1maxconn 2000#' \
    -e "s#10\.0\.0\.11:8443#127.0.0.1:$PORT_f1#" -e "s#10\.0\.0\.12:8443#127.0.0.1:$PORT_f2#" \
    -e "s#10\.0\.0\.10:8443#127.0.0.1:$PORT_primary#g" -e 's#^\(\s*\)option httplog#\1option dontlog-normal#' \
    "$ROOT/deploy/haproxy/haproxy.cfg" > "$T/haproxy.cfg"
haproxy -c -q -f "$T/haproxy.cfg"
haproxy -db -f "$T/haproxy.cfg" > "$T/haproxy.log" 2>&1 &
PIDS+=($!)
LB=https://127.0.0.1:$HAPORT
ready "$HAPORT" 30
# Both followers in rotation (health checks every 2 s, rise 2).
sleep 5

say "hashscreen cluster bench: $(nproc) cores, list of $INDEX PDQ hashes; load average $(loadavg)"
say "--- 1. add->match and withdraw->no-match, $CHANGES changes, screening load through HAProxy meanwhile"
py load --url "$LB" --key "$INGEST" --seconds 3600 --procs 2 --batch 100 --stop-file "$T/stop-load" > "$T/load-bg.out" &
LOADPID=$!
PIDS+=("$LOADPID")
set +e
py latency --primary "$P" --followers "https://127.0.0.1:$PORT_f1,https://127.0.0.1:$PORT_f2" --partner-key "$PARTNER" \
  --ingest-key "$INGEST" --list "$LIST" --changes "$CHANGES" | tee "$T/latency.out"
touch "$T/stop-load"
wait "$LOADPID"
set -e
say "    background screening through HAProxy: $(cat "$T/load-bg.out")"
WORST=$(sed -n 's/^worst p99 ms //p' "$T/latency.out")

say "--- 2. screening throughput, $SECONDS_RUN s each (load average $(loadavg))"
SINGLE=$(py load --url "https://127.0.0.1:$PORT_f1" --key "$INGEST" --seconds "$SECONDS_RUN" --procs 4 --batch 200 | sed -n 's/^hashes\/s //p')
BALANCED=$(py load --url "$LB" --key "$INGEST" --seconds "$SECONDS_RUN" --procs 4 --batch 200 | sed -n 's/^hashes\/s //p')
RATIO=$(python3 -c "print('%.0f' % (100.0 * $BALANCED / $SINGLE))")
say "    one follower, direct:          $SINGLE hashes/s"
say "    HAProxy over two followers:    $BALANCED hashes/s  ($RATIO% of one node; target >= 90%)"

say "--- 3. SIGKILL of follower 1 in the middle of a $PUSH-hash push"
rm -f "$T/pushed"
py push --url "$P" --key "$PARTNER" --list "$LIST" --count "$PUSH" --batch 5000 --progress "$T/pushed" > /dev/null &
PUSHPID=$!
PIDS+=("$PUSHPID")
while [[ $(cat "$T/pushed" 2>/dev/null || echo 0) -lt $((PUSH / 2)) ]]; do sleep 0.05; done
kill -KILL "$PID_f1"
wait "$PID_f1" 2>/dev/null || true
say "    killed follower 1 (pid $PID_f1) after $(cat "$T/pushed") hashes pushed"
wait "$PUSHPID"
start f1 "$T/f1" "${FOLLOW[@]}"
ready "$PORT_f1"
set +e
KILLCMP=$(py compare --a "$P" --a-key "$REPLICA" --b "https://127.0.0.1:$PORT_f1" --b-key "$REPLICA")
KILLRC=$?
OTHER=$(py compare --a "$P" --a-key "$REPLICA" --b "https://127.0.0.1:$PORT_f2" --b-key "$REPLICA")
set -e
say "    follower 1 (killed, restarted) vs primary: $KILLCMP"
say "    follower 2 vs primary:                     $OTHER"

BOOT="skipped (--no-bootstrap)"
FEED="skipped (--no-bootstrap)"
if [[ $BOOTSTRAP == 1 ]]; then
  say "--- 4. bootstrap of a fresh follower of a $HASHES-hash primary (bench/follow_bench; load average $(loadavg))"
  "$BUILD/bench/follow_bench" --hashes "$HASHES" --seconds 10 ${BOOTDATA:+--data "$BOOTDATA"} | grep -v '^rocksdb' | tee "$T/follow_bench.out" | sed 's/^/    /'
  BOOT=$(sed -n 's/^follower bootstrap, spawn to \/readyz 200: *\([0-9.]*\) s.*/\1 s/p' "$T/follow_bench.out")
  BOOT="$BOOT ($(sed -n 's/^bootstrap CPU: \([^;]*\);.*/CPU: \1/p' "$T/follow_bench.out"))"
  FEED=$(sed -n 's/^cost of serving two followers: *\([0-9.-]*\)%.*/\1% of a core/p' "$T/follow_bench.out")
fi

say "=== summary (load average now $(loadavg))"
say "    worst p99 add->match / withdraw->no-match: $WORST ms (target <= 1000)"
say "    throughput HAProxy/2 followers vs one node: $RATIO% (target >= 90%)"
say "    after SIGKILL mid-push: $([[ $KILLRC == 0 ]] && echo 'lists and entries equal' || echo 'DIFFERENT')"
say "    bootstrap of a $HASHES-hash follower: $BOOT (target <= 60 s)"
say "    primary serving two followers at 100 changes/s: $FEED (target <= 5%)"
[[ $KILLRC == 0 ]]
