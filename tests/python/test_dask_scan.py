"""examples/dask_scan.py on a two-worker Dask LocalCluster against a real
hashscreend: WebDataset shards with matching images (the listed photo and a
turned copy), others, sidecars, a corrupt image and a damaged shard; per-shard
verdict files equal to `hashscreen scan`'s verdicts; a rerun skips finished
shards; a shard the server refuses gets no file. Run by ctest (python_dask_scan)."""

import json
import os
import subprocess
import sys
import tempfile
import unittest

import hashscreen
from hashscreen_server import CONFORMANCE, HASHSCREEN, REPO, Server, run
from test_module import BRIDGE, BRIDGE_TURNED, OTHER, read, write_tar

EXAMPLE = os.path.join(REPO, "examples", "dask_scan.py")
SMALL = os.path.join(CONFORMANCE, "misc-images", "small.jpg")


def lines_of(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def verdict(line):
    return (line["source"], line.get("match"), line.get("error", {}).get("code"))


class DaskScanTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.shards = os.path.join(self.tmp.name, "shards")
        os.makedirs(os.path.join(self.shards, "more"))
        s = self.shards
        write_tar(os.path.join(s, "shard-000.tar"), [
            ("0000.jpg", read(BRIDGE)), ("0000.json", b'{"caption": "a bridge"}'),
            ("0001.png", read(OTHER)), ("0001.txt", b"a picture"),
        ])
        write_tar(os.path.join(s, "shard-001.tar"), [
            ("0000.jpg", read(BRIDGE_TURNED)),
            ("0001.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF" + b"garbage"),
            ("0002.jpg", read(SMALL)),
        ])
        # Damaged: the second member's data is cut short.
        write_tar(os.path.join(s, "more", "shard-002.tar"), [("0000.jpg", read(SMALL)), ("0001.png", read(OTHER))],
                  cut_last=True)
        with open(os.path.join(s, "README.txt"), "w") as f:
            f.write("not a shard: skipped by content\n")
        self.out = os.path.join(self.tmp.name, "verdicts")

    def scan(self, server, key, out=None):
        env = dict(os.environ, HASHSCREEN_KEY=key)
        return subprocess.run([sys.executable, EXAMPLE, "--server", server.url, "--cacert", server.cert,
                               "--out", out or self.out, "--workers", "2", self.shards],
                              capture_output=True, text=True, env=env, timeout=120)

    def test_shards_to_verdict_files_resumable(self):
        with Server() as server:
            server.push_list([("pdq", hashscreen.hash_file(BRIDGE)["pdq"])])
            r = self.scan(server, server.ingest_key)
            self.assertEqual(r.returncode, 3, r.stderr)
            self.assertIn("3 screened now, 0 already done, 0 failed", r.stderr)
            files = sorted(os.listdir(self.out))
            self.assertEqual(files, ["shard-000.tar.jsonl", "shard-001.tar.jsonl", "shard-002.tar.jsonl"])
            got = {f: [verdict(v) for v in lines_of(os.path.join(self.out, f))] for f in files}
            s = self.shards
            s0, s1, s2 = (os.path.join(s, "shard-000.tar"), os.path.join(s, "shard-001.tar"),
                          os.path.join(s, "more", "shard-002.tar"))
            self.assertEqual(got["shard-000.tar.jsonl"], [(s0 + ":0000.jpg", True, None), (s0 + ":0001.png", False, None)])
            self.assertEqual(got["shard-001.tar.jsonl"], [(s1 + ":0000.jpg", True, None),
                                                          (s1 + ":0001.jpg", None, "corruption"),
                                                          (s1 + ":0002.jpg", False, None)])
            self.assertEqual(got["shard-002.tar.jsonl"], [(s2 + ":0000.jpg", False, None), (s2, None, "corruption")])
            for f in files:
                for v in lines_of(os.path.join(self.out, f)):
                    if "error" not in v:
                        self.assertTrue(v["audit_id"])

            # The same verdicts as the CLI's scan of the same folder.
            scan_out = os.path.join(self.tmp.name, "scan.jsonl")
            cli = run([HASHSCREEN, "scan", "--out", scan_out, self.shards], env=server.cli_env(server.ingest_key),
                      check=False)
            self.assertEqual(cli.returncode, 3, cli.stderr)
            self.assertEqual(sorted(verdict(v) for v in lines_of(scan_out)),
                             sorted(line for f in files for line in got[f]))

            # A rerun skips every finished shard; a deleted one is redone.
            before = {f: os.stat(os.path.join(self.out, f)).st_ino for f in files}
            r = self.scan(server, server.ingest_key)
            self.assertEqual(r.returncode, 3, r.stderr)
            self.assertIn("0 screened now, 3 already done", r.stderr)
            self.assertEqual({f: os.stat(os.path.join(self.out, f)).st_ino for f in files}, before)
            os.remove(os.path.join(self.out, "shard-001.tar.jsonl"))
            r = self.scan(server, server.ingest_key)
            self.assertEqual(r.returncode, 3, r.stderr)
            self.assertIn("1 screened now, 2 already done", r.stderr)
            self.assertEqual(sorted(os.listdir(self.out)), files)
            self.assertEqual([verdict(v) for v in lines_of(os.path.join(self.out, "shard-001.tar.jsonl"))],
                             got["shard-001.tar.jsonl"])

            # A key without hash queries: every shard fails, no file (nor temp file) is left.
            refused = os.path.join(self.tmp.name, "refused")
            r = self.scan(server, server.plain_ingest_key, out=refused)
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn("3 failed", r.stderr)
            self.assertEqual(os.listdir(refused), [])

    def test_usage(self):
        r = subprocess.run([sys.executable, EXAMPLE, "--help"], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0)
        self.assertIn("HASHSCREEN_KEY", r.stdout)
        r = subprocess.run([sys.executable, EXAMPLE, "--out", self.out, "--batch", "0", self.shards],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 2)
        env = {k: v for k, v in os.environ.items() if k != "HASHSCREEN_KEY"}
        r = subprocess.run([sys.executable, EXAMPLE, "--out", self.out, self.shards],
                           capture_output=True, text=True, timeout=60, env=env)
        self.assertEqual(r.returncode, 2)
        self.assertIn("HASHSCREEN_KEY", r.stderr)


if __name__ == "__main__":
    unittest.main()
