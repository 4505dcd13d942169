#!/usr/bin/env bash
# bench/scan_resume_bench.sh [--sources N] [--jobs N] - issue 13's resume target at scale:
# "a 100,000-image scan interrupted three times and resumed: each source exactly
# once, and the verdicts equal an uninterrupted run's" (docs/datasets.md "Measured").
#
# Builds N distinct image sources (default 100,000) as WebDataset shards of 1000
# samples (NNNNNN.jpg; no .json sidecars: see docs/datasets.md on
# the stall a long run of skipped sources causes) in a temp dir: each JPEG is one of
# the corpus's small JPEGs (< 20 kB, photos/ and variants/) with its index in a
# COM segment, so every source has its own bytes (own MD5/SHA-256; the PDQ hash
# is its base picture's). A real hashscreend gets a block list holding the
# SHA-256 (from `hashscreen hash --json`) of every 997th source. Then
#   1. `hashscreen scan --out A` is interrupted with SIGINT at ~15%, ~35%, ~55%
#      of the lines, killed with SIGKILL at ~75% (a crash: only whole lines may
#      remain), and resumed each time until it finishes;
#   2. `hashscreen scan --out B` runs uninterrupted;
# and checks: every image source exactly once in A and in B, the same match flag
# per source, the matches exactly the listed sources, no error lines. Prints the
# counts, times and rates; exits 1 if a check fails. Generated data stays in the
# temp dir, removed at the end.
#
#   BUILD=build bench/scan_resume_bench.sh [--sources 100000] [--jobs CORES]
set -euo pipefail
SOURCES=100000
JOBS=$(nproc)
while [ $# -gt 0 ]; do
  case "$1" in
    --sources) SOURCES=${2:?--sources needs a value}; shift 2 ;;
    --jobs) JOBS=${2:?--jobs needs a value}; shift 2 ;;
    *) echo "scan_resume_bench: unknown option '$1' (usage: [--sources N] [--jobs N])" >&2; exit 2 ;;
  esac
done
[[ "$SOURCES" =~ ^[0-9]+$ ]] && [ "$SOURCES" -ge 100 ] || { echo "scan_resume_bench: --sources is a number >= 100" >&2; exit 2; }
[[ "$JOBS" =~ ^[0-9]+$ ]] && [ "$JOBS" -ge 1 ] || { echo "scan_resume_bench: --jobs is a number >= 1" >&2; exit 2; }
BUILD=${BUILD:-build}
IMAGES=${HASHSCREEN_IMAGES:-/var/cache/hashscreen/images}
[ -x "$BUILD/hashscreend" ] && [ -x "$BUILD/hashscreen" ] || { echo "build first (BUILD=$BUILD)" >&2; exit 2; }
[ -f "$IMAGES/MANIFEST.tsv" ] || { echo "no corpus at $IMAGES" >&2; exit 2; }
HS=$(realpath "$BUILD/hashscreen")
HSD=$(realpath "$BUILD/hashscreend")

tmp=$(mktemp -d /tmp/scan-resume-bench-XXXXXX)
PID=""
SCAN=""
cleanup() {
  [ -n "$SCAN" ] && kill -KILL "$SCAN" 2>/dev/null && wait "$SCAN" 2>/dev/null
  [ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
now() { date +%s.%N; }

# The shards, and every 997th source's bytes as a file (to hash for the list).
t0=$(now)
python3 - "$IMAGES" "$tmp/shards" "$tmp/listed" "$SOURCES" <<'EOF'
import io, os, sys, tarfile
images, shards, listed, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
bases = []
with open(os.path.join(images, "MANIFEST.tsv")) as f:
    next(f)
    for line in f:
        c = line.rstrip("\n").split("\t")
        if c[5] == "jpeg" and c[1] in ("photos", "variants") and int(c[8]) < 20000:
            with open(os.path.join(images, c[0]), "rb") as img:
                b = img.read()
            if b[:2] == b"\xff\xd8":
                bases.append(b)
assert bases, "no small JPEGs in the corpus"
os.makedirs(shards); os.makedirs(listed)
def add(tar, name, data):
    info = tarfile.TarInfo(name); info.size = len(data); info.mtime = 0
    tar.addfile(info, io.BytesIO(data))
for s in range(0, n, 1000):
    with tarfile.open(os.path.join(shards, "%05d.tar" % (s // 1000)), "w", format=tarfile.USTAR_FORMAT) as tar:
        for i in range(s, min(n, s + 1000)):
            b = bases[i % len(bases)]
            com = b"source %d" % i
            jpg = b[:2] + b"\xff\xfe" + (len(com) + 2).to_bytes(2, "big") + com + b[2:]
            add(tar, "%06d.jpg" % i, jpg)
            if i % 997 == 0:
                with open(os.path.join(listed, "%05d.tar:%06d.jpg" % (s // 1000, i)), "wb") as f:
                    f.write(jpg)
print("bases: %d small JPEGs" % len(bases))
EOF
gen_s=$(awk "BEGIN{print $(now) - $t0}")
echo "generated $SOURCES sources in $(ls "$tmp/shards" | wc -l) shards ($(du -sm "$tmp/shards" | cut -f1) MB) in ${gen_s%.*} s"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=bench" \
  -addext "subjectAltName=IP:127.0.0.1" -keyout "$tmp/key.pem" -out "$tmp/cert.pem" > /dev/null 2>&1
INGEST=$("$HSD" keys create --create --data "$tmp/data" --role ingest --hash-queries | tail -1)
PARTNER=$("$HSD" keys create --data "$tmp/data" --role partner --partner bench | tail -1)
"$HSD" serve --data "$tmp/data" --listen 127.0.0.1:0 --tls-cert "$tmp/cert.pem" --tls-key "$tmp/key.pem" \
  --metrics-listen "" --log-requests=false --rate-per-key 0 --quarantine-enabled=false > "$tmp/server.out" 2> "$tmp/server.log" &
PID=$!
for _ in $(seq 300); do grep -q '^listening on' "$tmp/server.out" && break; sleep 0.1; done
ADDR=$(sed -n 's/^listening on //p' "$tmp/server.out")
[ -n "$ADDR" ] || { echo "hashscreend did not start:" >&2; cat "$tmp/server.log" >&2; exit 1; }
export HASHSCREEN_SERVER="https://$ADDR" HASHSCREEN_CACERT="$tmp/cert.pem"

# The list: SHA-256 of the listed sources, as `hashscreen hash --json` computes them.
(cd "$tmp/listed" && "$HS" hash --json *) | python3 -c '
import json, sys
for line in sys.stdin: print(json.loads(line)["sha256"])' > "$tmp/list.txt"
LISTED=$(wc -l < "$tmp/list.txt")
LIST=$(HASHSCREEN_KEY=$PARTNER "$HS" lists create --name resume-bench | tail -1)
HASHSCREEN_KEY=$PARTNER "$HS" lists push "$LIST" "$tmp/list.txt" --format plain --type sha256 > /dev/null 2>&1
echo "list $LIST: SHA-256 of $LISTED sources (every 997th)"

export HASHSCREEN_KEY=$INGEST
scan() {  # scan OUT: in the background, pid in SCAN
  "$HS" scan --jobs "$JOBS" --out "$1" "$tmp/shards" > /dev/null 2>> "$tmp/scan.log" &
  SCAN=$!
}
lines() { [ -f "$1" ] && wc -l < "$1" || echo 0; }
# Interrupts the scan into A with signal $1 once A has $2 lines; prints what happened.
interrupt_at() {
  local sig=$1 at=$2 rc=0 before start
  start=$(lines "$tmp/A.jsonl")
  [ "$at" -gt "$start" ] || at=$((start + 1))  # this run itself must have written (its handler is set)
  scan "$tmp/A.jsonl"
  while [ "$(lines "$tmp/A.jsonl")" -lt "$at" ] && kill -0 "$SCAN" 2>/dev/null; do sleep 0.2; done
  before=$(lines "$tmp/A.jsonl")
  kill -"$sig" "$SCAN" 2>/dev/null || true
  { wait "$SCAN"; } 2>/dev/null || rc=$?
  SCAN=""
  local torn="whole lines"
  [ -s "$tmp/A.jsonl" ] && [ "$(tail -c1 "$tmp/A.jsonl" | od -An -c | tr -d ' ')" != '\n' ] && torn="a TORN last line"
  echo "  SIG$sig at $before lines (this run started at $start): exit $rc, $(lines "$tmp/A.jsonl") lines, file ends in $torn"
}

echo "== interrupted run: $HS scan --jobs $JOBS --out A.jsonl SHARDS/"
t0=$(now)
interrupt_at INT $((SOURCES * 15 / 100))
interrupt_at INT $((SOURCES * 35 / 100))
interrupt_at INT $((SOURCES * 55 / 100))
interrupt_at KILL $((SOURCES * 75 / 100))
rc=0
scan "$tmp/A.jsonl"; wait "$SCAN" || rc=$?; SCAN=""
interrupted_s=$(awk "BEGIN{print $(now) - $t0}")
echo "  resumed to the end: exit $rc, $(lines "$tmp/A.jsonl") lines"
echo "  $(tail -1 "$tmp/scan.log")"

echo "== uninterrupted run: $HS scan --jobs $JOBS --out B.jsonl SHARDS/"
rc=0
t0=$(now)
scan "$tmp/B.jsonl"; wait "$SCAN" || rc=$?; SCAN=""
full_s=$(awk "BEGIN{print $(now) - $t0}")
echo "  exit $rc, $(lines "$tmp/B.jsonl") lines"
echo "  $(tail -1 "$tmp/scan.log")"

python3 - "$tmp/A.jsonl" "$tmp/B.jsonl" "$tmp/listed" "$tmp/shards" "$SOURCES" "$interrupted_s" "$full_s" <<'EOF'
import json, os, sys
a_path, b_path, listed, shards, n, ia, fu = sys.argv[1:8]
n, ia, fu = int(n), float(ia), float(fu)
expected = {os.path.join(shards, "%05d.tar:%06d.jpg" % (i // 1000, i)) for i in range(n)}
listed = {os.path.join(shards, f) for f in os.listdir(listed)}
ok = True
def load(path):
    global ok
    seen, dup, errors = {}, 0, 0
    with open(path, "rb") as f:
        data = f.read()
    if data and not data.endswith(b"\n"):
        print("FAIL %s: a torn last line" % path); ok = False
    for line in data.splitlines():
        j = json.loads(line)
        if j["source"] in seen: dup += 1
        if "error" in j: errors += 1
        seen[j["source"]] = j.get("match")
    return seen, dup, errors
a, a_dup, a_err = load(a_path)
b, b_dup, b_err = load(b_path)
for name, m, dup, err in (("A (interrupted 4x)", a, a_dup, a_err), ("B (uninterrupted)", b, b_dup, b_err)):
    matched = {s for s, v in m.items() if v}
    good = dup == 0 and set(m) == expected and err == 0 and matched == listed
    ok = ok and good
    print("%s: %d lines, %d distinct sources of %d, %d duplicates, %d missing, %d errors, %d matched (%d listed): %s"
          % (name, len(m) + dup, len(m), n, dup, len(expected - set(m)), err, len(matched), len(listed),
             "ok" if good else "FAIL"))
diff = sum(1 for s in expected if a.get(s) != b.get(s))
ok = ok and diff == 0
print("verdicts differing between A and B: %d: %s" % (diff, "ok" if diff == 0 else "FAIL"))
print("time: uninterrupted %.1f s (%.0f sources/s); interrupted + 4 resumes %.1f s (%.0f sources/s)" % (fu, n / fu, ia, n / ia))
print("RESULT:", "PASS" if ok else "FAIL")
sys.exit(0 if ok else 1)
EOF
