#!/usr/bin/env python3
"""Screen WebDataset shards on a Dask cluster with the hashscreen Python module.

Each shard is one task: the worker reads the tar in place (the C++ reader
`hashscreen scan` uses), hashes every image locally (PDQ with its 8
rotations/mirrorings, MD5, SHA-256; the GIL is released, so a worker's threads
hash in parallel), screens the hashes in batches of up to 10,000 with
hashscreen.Client, and writes OUT/<shard>.jsonl: one line per image, as
`hashscreen scan` writes them. The file appears only when the whole shard is
screened (written to a temporary name, then renamed), so after a crash or
Ctrl-C the same command skips the finished shards and redoes the others.

Images never leave the workers; only hashes go to the server. See
docs/datasets.md ("Python", "Dask") for Spark and Ray versions and sizing.
"""

import argparse
import json
import os
import sys
import time

EPILOG = """\
the API key:
  HASHSCREEN_KEY must hold an ingest key with hash queries
  (hashscreen keys create --role ingest --hash-queries). It is read by the
  workers from their environment, never sent through the scheduler: with the
  built-in local cluster they inherit yours; with --scheduler set it on them.
  HASHSCREEN_CACERT (or --cacert) names the CA of the server's certificate.

output, one file per shard (OUT/<shard name>.jsonl), one line per image:
  {"audit_id":"981","match":false,"source":"shards/000.tar:0001.jpg"}
  {"error":{"code":"corruption","message":"..."},"source":"shards/000.tar:0002.jpg"}
  Members that are not images (.json, .txt, .cls sidecars) get no line. A
  shard damaged from some member on gets the members before the damage and
  one error line named after the shard.
  A crash mid-write can leave OUT/<shard>.jsonl.tmp-PID: never read, delete it.

examples:
  export HASHSCREEN_KEY=... HASHSCREEN_CACERT=ca.pem
  PYTHONPATH=build/python python3 examples/dask_scan.py \\
      --server https://screen.example:8443 --out verdicts/ shards/
  jq -c 'select(.match)' verdicts/*.jsonl                 # the matches
  python3 examples/dask_scan.py --scheduler tcp://sched:8786 --server ... --out v/ /data/shards

exit status: 0 no match, 3 at least one match, 1 errors and no match (or a shard
             could not be screened: rerun to continue), 2 usage
"""


def find_shards(inputs, is_tar):
    """The shards named on the command line: files as given; directories
    searched recursively (path order) for files that are tars by content."""
    shards = []
    for path in inputs:
        if os.path.isdir(path):
            found = []
            for root, dirs, files in os.walk(path):
                dirs.sort()
                found.extend(os.path.join(root, f) for f in files)
            shards.extend(p for p in sorted(found) if os.path.isfile(p) and is_tar(p))
        elif os.path.isfile(path):
            shards.append(path)
        else:
            raise SystemExit(f"dask_scan: {path}: no such file or directory")
    return shards


def output_path(out_dir, shard):
    return os.path.join(out_dir, os.path.basename(shard) + ".jsonl")


def count_lines(path):
    """Images, matches and error lines of a finished shard's file."""
    images = matches = errors = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            v = json.loads(line)
            images += 1
            matches += bool(v.get("match"))
            errors += "error" in v
    return {"images": images, "matches": matches, "errors": errors, "skipped": 0}


def write_atomically(path, lines):
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        for line in lines:
            f.write(json.dumps(line, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    dfd = os.open(os.path.dirname(path) or ".", os.O_RDONLY)
    try:
        os.fsync(dfd)  # the rename itself survives a crash
    finally:
        os.close(dfd)


def scan_shard(shard, path, out_path, server, cacert, batch, max_bytes):
    """One task: hash the images of the shard at `path` (named `shard` in the
    output, as given on the command line, as scan names it), screen them,
    write its verdicts. Raises (and writes nothing) when the server cannot
    give every verdict: the shard is then redone by the next run."""
    import hashscreen  # on the worker

    def error_line(source, e):
        return {"source": source, "error": {"code": e.code, "message": e.message}}

    client = hashscreen.Client(server=server, cacert=cacert)
    members, damage = hashscreen.list_tar(path)
    lines, items, waiting = [], [], []
    skipped = 0
    for name, offset, size in members:
        source = f"{shard}:{name}"
        try:
            head = hashscreen.read_member(path, offset, size, head_only=True)
            if hashscreen.sniff_format(head) is None:
                skipped += 1  # a caption, label or metadata sidecar
                continue
            data = hashscreen.read_member(path, offset, size, max_bytes=max_bytes)
            hashes = hashscreen.hash_bytes(data, max_bytes=max_bytes)
        except hashscreen.Error as e:
            lines.append(error_line(source, e))
            continue
        hashes["ref"] = source
        items.append(hashes)
        waiting.append(len(lines))
        lines.append(None)
    if damage is not None:
        lines.append(error_line(shard, damage))
    for i, r in zip(waiting, client.screen_hashes(items, batch=batch)):
        if "error" in r:
            lines[i] = {"source": r["ref"], "error": r["error"]}
        else:
            lines[i] = {"source": r["ref"], "match": r["match"], "audit_id": r["audit_id"]}
    write_atomically(out_path, lines)
    counts = count_lines(out_path)
    counts["skipped"] = skipped
    return counts


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="dask_scan.py",
        description=__doc__.split("\n\n")[0] + "\n\n" + "\n\n".join(__doc__.split("\n\n")[1:]),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("inputs", nargs="+", metavar="SHARD_OR_DIR",
                   help="tar/WebDataset shards, or directories searched for them (by content)")
    p.add_argument("--server", default=os.environ.get("HASHSCREEN_SERVER"),
                   help="the hashscreend URL (default $HASHSCREEN_SERVER, else https://127.0.0.1:8443)")
    p.add_argument("--cacert", default=None, help="CA certificate of the server (default $HASHSCREEN_CACERT)")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="directory for the per-shard verdict files (created if missing)")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                   help="local cluster: worker processes (default: the number of cores)")
    p.add_argument("--threads", type=int, default=1,
                   help="local cluster: threads per worker, each scanning one shard (default 1)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="use a running Dask cluster (tcp://host:8786) instead of a local one; "
                        "its workers need the hashscreen module and HASHSCREEN_KEY")
    p.add_argument("--batch", type=int, default=10000, help="hashes per request, 1..10000 (default 10000)")
    p.add_argument("--max-bytes", type=int, default=256 << 20,
                   help="larger members are error lines, not read (default 268435456)")
    a = p.parse_args(argv)
    if not 1 <= a.batch <= 10000:
        p.error("--batch must be 1..10000")
    if a.workers < 1 or a.threads < 1 or a.max_bytes < 1:
        p.error("--workers, --threads and --max-bytes must be positive")
    return a


def main(argv):
    args = parse_args(argv)
    import hashscreen  # fail early, here, if the module is not importable
    from dask.distributed import Client as DaskClient, LocalCluster, as_completed

    if args.scheduler is None and not os.environ.get("HASHSCREEN_KEY"):
        print("dask_scan: no API key: set HASHSCREEN_KEY (see --help)", file=sys.stderr)
        return 2
    shards = find_shards(args.inputs, hashscreen.is_tar)
    if not shards:
        print("dask_scan: no shards found", file=sys.stderr)
        return 2
    outputs = {}
    for shard in shards:
        out = output_path(args.out, shard)
        if out in outputs:
            print(f"dask_scan: {outputs[out]} and {shard} would both write {out}: "
                  "scan them into different --out directories", file=sys.stderr)
            return 2
        outputs[out] = shard
    os.makedirs(args.out, exist_ok=True)

    total = {"images": 0, "matches": 0, "errors": 0, "skipped": 0}
    todo, resumed, failed = [], 0, []
    for shard in shards:
        out = output_path(args.out, shard)
        if os.path.exists(out):
            resumed += 1
            for k, v in count_lines(out).items():
                total[k] += v
        else:
            todo.append(shard)

    start = time.monotonic()
    if todo:
        if args.scheduler:
            cluster, dask = None, DaskClient(args.scheduler)
        else:
            cluster = LocalCluster(n_workers=min(args.workers, len(todo)), threads_per_worker=args.threads,
                                   processes=True, dashboard_address=None)
            dask = DaskClient(cluster)
        try:
            # Absolute paths: a worker's working directory is not ours. On a
            # remote cluster the shards and --out must be on a file system
            # the workers see at the same paths.
            futures = {dask.submit(scan_shard, shard, os.path.abspath(shard),
                                   os.path.abspath(output_path(args.out, shard)), args.server, args.cacert,
                                   args.batch, args.max_bytes, pure=False, retries=0): shard
                       for shard in todo}
            for fut in as_completed(futures):
                shard = futures[fut]
                try:
                    counts = fut.result()
                except Exception as e:  # the shard gets no file: the next run redoes it
                    failed.append(shard)
                    print(f"dask_scan: {shard}: not screened: {e}", file=sys.stderr)
                    continue
                for k, v in counts.items():
                    total[k] += v
        finally:
            dask.close()
            if cluster is not None:
                cluster.close()
    elapsed = time.monotonic() - start
    done_now = len(todo) - len(failed)
    print(f"dask_scan: {len(shards)} shards: {done_now} screened now, {resumed} already done, "
          f"{len(failed)} failed; {total['images']} images: {total['matches']} match, "
          f"{total['errors']} errors, {total['skipped']} non-images skipped this run; "
          f"{elapsed:.1f} s", file=sys.stderr)
    if total["matches"]:
        return 3
    if failed or total["errors"]:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
