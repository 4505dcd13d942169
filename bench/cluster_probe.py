#!/usr/bin/env python3
"""cluster_probe: the measuring half of bench/cluster.sh (python3, stdlib only).

Talks HTTPS to hashscreend instances (and HAProxy) on loopback, verifying them
against the bench's self-signed certificate.

  latency  --primary URL --followers URL[,URL] --partner-key K --ingest-key K --list ID --changes N
           For each change: add one random PDQ hash on the primary (POST
           /v1/lists/{id}/batches), then poll every follower's POST
           /v1/screen/hashes until it matches (add->match); then withdraw it
           and poll until it no longer matches (withdraw->no-match). Times
           run from the start of the push. Prints p50/p99/max per follower.
  load     --url URL --key K --seconds S [--procs P] [--batch B] [--stop-file F]
           Screening load: P processes, each one keep-alive connection
           sending POST /v1/screen/hashes/batch of B random PDQ hashes, for
           S seconds. Prints "hashes/s N".
  push     --url URL --key K --list ID --count N [--batch B] [--progress FILE]
           Adds N random PDQ hashes in batches of B; writes the number pushed
           so far to FILE after each batch.
  compare  --a URL --a-key K --b URL --b-key K [--timeout S]
           GET /v1/lists and every list's changes (GET /v1/lists/{id}/changes)
           on both, until equal or the timeout; exit 1 with the difference.
"""
import argparse
import http.client
import json
import multiprocessing
import os
import ssl
import statistics
import sys
import threading
import time
import urllib.parse


def context(cacert):
    ctx = ssl.create_default_context(cafile=cacert)
    return ctx


class Conn:
    """One keep-alive HTTPS connection; reconnects once on a dropped one."""

    def __init__(self, url, cacert, key):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port
        self.ctx = context(cacert)
        self.key = key
        self.c = None

    def request(self, method, path, body=None):
        for attempt in range(2):
            if self.c is None:
                self.c = http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=60)
            try:
                headers = {"Authorization": "Bearer " + self.key}
                data = None
                if body is not None:
                    data = json.dumps(body).encode()
                    headers["Content-Type"] = "application/json"
                self.c.request(method, path, body=data, headers=headers)
                r = self.c.getresponse()
                payload = r.read()
                return r.status, payload
            except (http.client.HTTPException, OSError):
                self.c.close()
                self.c = None
                if attempt == 1:
                    raise
        raise RuntimeError("unreachable")

    def json(self, method, path, body=None, expect=200):
        status, payload = self.request(method, path, body)
        if status != expect:
            raise RuntimeError("%s %s: HTTP %d %s" % (method, path, status, payload[:300]))
        return json.loads(payload)


def random_pdq():
    return os.urandom(32).hex()


def percentile(values, p):
    s = sorted(values)
    if not s:
        return float("nan")
    i = min(len(s) - 1, max(0, int(round(p / 100.0 * len(s) + 0.5)) - 1))
    return s[i]


def latency(a):
    primary = Conn(a.primary, a.cacert, a.partner_key)
    followers = [Conn(u, a.cacert, a.ingest_key) for u in a.followers.split(",")]
    add_ms = [[] for _ in followers]
    del_ms = [[] for _ in followers]
    timeouts = 0

    def wait(conn, h, want, t0, out):
        nonlocal timeouts
        deadline = t0 + a.timeout
        while True:
            j = conn.json("POST", "/v1/screen/hashes", {"pdq": h})
            if j["match"] == want:
                out.append((time.monotonic() - t0) * 1000)
                return
            if time.monotonic() > deadline:
                timeouts += 1
                return
            time.sleep(a.poll_ms / 1000.0)

    def round_trip(h, batch, want, outs):
        t0 = time.monotonic()
        primary.json("POST", "/v1/lists/%d/batches" % a.list, batch)
        threads = [threading.Thread(target=wait, args=(f, h, want, t0, outs[i])) for i, f in enumerate(followers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    for i in range(a.changes):
        h = random_pdq()
        round_trip(h, {"batch_id": "lat-add-%d-%s" % (i, h[:8]), "add": [{"type": "pdq", "hash": h}]}, True, add_ms)
        round_trip(h, {"batch_id": "lat-del-%d-%s" % (i, h[:8]), "remove": [{"type": "pdq", "hash": h}]}, False, del_ms)
    worst = 0.0
    for i, u in enumerate(a.followers.split(",")):
        for name, v in (("add->match", add_ms[i]), ("withdraw->no-match", del_ms[i])):
            p99 = percentile(v, 99)
            worst = max(worst, p99)
            print("follower %s %-19s n=%d p50 %.0f ms p99 %.0f ms max %.0f ms" %
                  (u, name, len(v), percentile(v, 50), p99, max(v) if v else float("nan")))
    print("timeouts %d" % timeouts)
    print("worst p99 ms %.0f" % worst)
    return 0 if timeouts == 0 else 1


def load_worker(url, cacert, key, batch, seconds, stop_file, out):
    c = Conn(url, cacert, key)
    done = 0
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end and not (stop_file and os.path.exists(stop_file)):
        items = [{"ref": "l%d" % i, "pdq": [random_pdq()]} for i in range(batch)]
        status, payload = c.request("POST", "/v1/screen/hashes/batch", {"items": items})
        if status != 200:
            out.put(("error", "HTTP %d %s" % (status, payload[:200])))
            return
        done += batch
        n += 1
    out.put(("ok", done))


def load(a):
    q = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=load_worker, args=(a.url, a.cacert, a.key, a.batch, a.seconds, a.stop_file, q))
             for _ in range(a.procs)]
    t0 = time.monotonic()
    for p in procs:
        p.start()
    total, errors = 0, []
    for _ in procs:
        kind, v = q.get()
        if kind == "ok":
            total += v
        else:
            errors.append(v)
    for p in procs:
        p.join()
    elapsed = time.monotonic() - t0
    for e in errors:
        print("error %s" % e, file=sys.stderr)
    print("hashes/s %.0f" % (total / elapsed))
    return 1 if errors else 0


def push(a):
    c = Conn(a.url, a.cacert, a.key)
    done = 0
    tag = os.urandom(4).hex()
    while done < a.count:
        n = min(a.batch, a.count - done)
        add = [{"type": "pdq", "hash": random_pdq()} for _ in range(n)]
        c.json("POST", "/v1/lists/%d/batches" % a.list, {"batch_id": "push-%s-%d" % (tag, done), "add": add})
        done += n
        if a.progress:
            with open(a.progress + ".tmp", "w") as f:
                f.write("%d\n" % done)
            os.replace(a.progress + ".tmp", a.progress)
    print("pushed %d" % done)
    return 0


def snapshot(conn):
    lists = conn.json("GET", "/v1/lists")["lists"]
    changes = {}
    for l in lists:
        after, all_ = 0, []
        while True:
            j = conn.json("GET", "/v1/lists/%d/changes?limit=10000&after=%d" % (l["id"], after))
            if not j["changes"]:
                break
            all_.extend(j["changes"])
            after = j["next"]
        changes[l["id"]] = all_
    return lists, changes


def compare(a):
    x = Conn(a.a, a.cacert, a.a_key)
    y = Conn(a.b, a.cacert, a.b_key)
    deadline = time.monotonic() + a.timeout
    while True:
        la, ca = snapshot(x)
        lb, cb = snapshot(y)
        if la == lb and ca == cb:
            print("equal: %d lists, %d changes, %d signals" %
                  (len(la), sum(len(v) for v in ca.values()), sum(l["signal_count"] for l in la)))
            return 0
        if time.monotonic() > deadline:
            print("DIFFERENT: lists equal %s; changes %s vs %s" %
                  (la == lb, {k: len(v) for k, v in ca.items()}, {k: len(v) for k, v in cb.items()}))
            return 1
        time.sleep(0.5)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cacert", required=True)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("latency")
    s.add_argument("--primary", required=True)
    s.add_argument("--followers", required=True)
    s.add_argument("--partner-key", required=True)
    s.add_argument("--ingest-key", required=True)
    s.add_argument("--list", type=int, required=True)
    s.add_argument("--changes", type=int, default=300)
    s.add_argument("--poll-ms", type=float, default=5)
    s.add_argument("--timeout", type=float, default=30)
    s = sub.add_parser("load")
    s.add_argument("--url", required=True)
    s.add_argument("--key", required=True)
    s.add_argument("--seconds", type=float, default=10)
    s.add_argument("--procs", type=int, default=4)
    s.add_argument("--batch", type=int, default=200)
    s.add_argument("--stop-file", help="stop early once this file exists")
    s = sub.add_parser("push")
    s.add_argument("--url", required=True)
    s.add_argument("--key", required=True)
    s.add_argument("--list", type=int, required=True)
    s.add_argument("--count", type=int, required=True)
    s.add_argument("--batch", type=int, default=5000)
    s.add_argument("--progress")
    s = sub.add_parser("compare")
    s.add_argument("--a", required=True)
    s.add_argument("--a-key", required=True)
    s.add_argument("--b", required=True)
    s.add_argument("--b-key", required=True)
    s.add_argument("--timeout", type=float, default=120)
    a = p.parse_args()
    return {"latency": latency, "load": load, "push": push, "compare": compare}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
