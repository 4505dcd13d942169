#!/usr/bin/env bash
# Starts the development service (called by ./setup.sh serve after the build).
# Idempotent: on first run it makes, under ./data,
#   dev-tls/cert.pem + key.pem   a self-signed certificate for 127.0.0.1 (never committed)
#   dev-keys.env                 dev API keys (ingest, reviewer, partner "dev-partner", admin)
# then starts hashscreend on https://127.0.0.1:8443 with config/dev.toml, creates the
# list "sample" from the conformance bridge photo if it is not there yet, prints
# how to screen, and stays in the foreground (Ctrl-C stops the server cleanly).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${HASHSCREEN_BUILD:-build}
DATA=./data
TLS=$DATA/dev-tls
KEYS=$DATA/dev-keys.env
IMAGES=tests/data/pdq/images   # in the repository: the sample list needs nothing fetched
SERVER=https://127.0.0.1:8443

[ -x "$BIN/hashscreend" ] && [ -x "$BIN/hashscreen" ] || { echo "build first: ./setup.sh build" >&2; exit 1; }
mkdir -p "$DATA"

if [ ! -f "$TLS/cert.pem" ] || [ ! -f "$TLS/key.pem" ]; then
  echo "== generating a self-signed development certificate in $TLS"
  mkdir -p "$TLS"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 825 \
    -subj "/CN=hashscreen dev" -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    -keyout "$TLS/key.pem" -out "$TLS/cert.pem" 2>/dev/null
  chmod 600 "$TLS/key.pem"
fi

if [ ! -f "$KEYS" ]; then
  echo "== creating development API keys"
  umask 077
  {
    echo "HASHSCREEN_INGEST_KEY=$("$BIN/hashscreend" keys create --create --data "$DATA" --role ingest | tail -1)"
    echo "HASHSCREEN_REVIEWER_KEY=$("$BIN/hashscreend" keys create --create --data "$DATA" --role reviewer | tail -1)"
    echo "HASHSCREEN_PARTNER_KEY=$("$BIN/hashscreend" keys create --create --data "$DATA" --role partner --partner dev-partner | tail -1)"
    echo "HASHSCREEN_ADMIN_KEY=$("$BIN/hashscreend" keys create --create --data "$DATA" --role admin | tail -1)"
  } > "$KEYS.tmp"
  mv "$KEYS.tmp" "$KEYS"
fi
# shellcheck disable=SC1090
. "$KEYS"

LOG=$DATA/hashscreend.log
echo "== starting hashscreend (log: $LOG)"
"$BIN/hashscreend" serve --config config/dev.toml > "$DATA/hashscreend.out" 2>> "$LOG" &
PID=$!
trap 'kill -TERM $PID 2>/dev/null; wait $PID 2>/dev/null' INT TERM
for _ in $(seq 1 100); do
  grep -q "^listening on" "$DATA/hashscreend.out" 2>/dev/null && break
  kill -0 $PID 2>/dev/null || { echo "hashscreend did not start:" >&2; tail -5 "$LOG" >&2; exit 1; }
  sleep 0.1
done
grep -q "^listening on" "$DATA/hashscreend.out" || { echo "hashscreend did not come up in 10s" >&2; kill $PID; exit 1; }

export HASHSCREEN_CACERT=$TLS/cert.pem HASHSCREEN_SERVER=$SERVER
if ! "$BIN/hashscreen" lists info --key "$HASHSCREEN_PARTNER_KEY" | grep -q '"name": "sample"'; then
  echo "== creating the list 'sample' from the conformance bridge photo"
  LIST=$("$BIN/hashscreen" lists create --key "$HASHSCREEN_PARTNER_KEY" --name sample --kind block)
  SAMPLE=$DATA/sample-list.csv
  {
    echo "type,hash,ref"
    echo "pdq,$("$BIN/hashscreen" hash "$IMAGES/bridge-mods/aaa-orig.jpg" | cut -d, -f1),bridge-orig"
    echo "sha256,$(sha256sum "$IMAGES/misc-images/small.jpg" | cut -d' ' -f1),small-jpg-exact"
  } > "$SAMPLE"
  "$BIN/hashscreen" lists push --key "$HASHSCREEN_PARTNER_KEY" "$LIST" "$SAMPLE"
fi

cat <<EOT

hashscreend is running on $SERVER (pid $PID). Development keys (also in $KEYS):
  ingest    $HASHSCREEN_INGEST_KEY
  reviewer  $HASHSCREEN_REVIEWER_KEY
  partner   $HASHSCREEN_PARTNER_KEY
  admin     $HASHSCREEN_ADMIN_KEY

Try it (the bridge photos match the sample list, rotated and mirrored too):
  export HASHSCREEN_KEY=$HASHSCREEN_INGEST_KEY HASHSCREEN_CACERT=$TLS/cert.pem
  $BIN/hashscreen screen $IMAGES/bridge-mods $IMAGES/reg-test-input/dih
  HASHSCREEN_KEY=$HASHSCREEN_REVIEWER_KEY $BIN/hashscreen audit list --verdict match

Ctrl-C stops the server (it drains requests in flight and exits cleanly).
EOT
wait $PID
