"""The hashscreen Python module (python/): hashes equal `hashscreen hash`,
errors as the C++ API's Status codes, the GIL released while hashing, the
tar reader, and Client against a real hashscreend (hashscreen_server.py).
Run by ctest (python_module) with PYTHONPATH=build/python."""

import concurrent.futures
import json
import os
import pickle
import sys
import tempfile
import threading
import unittest

import hashscreen
from hashscreen_server import CONFORMANCE, HASHSCREEN, Server, run

IMAGE_EXT = (".jpg", ".jpeg", ".png", ".gif", ".bmp", ".pgm", ".ppm", ".pnm", ".webp", ".tga", ".psd")
BRIDGE = os.path.join(CONFORMANCE, "bridge-mods", "aaa-orig.jpg")
BRIDGE_TURNED = os.path.join(CONFORMANCE, "reg-test-input", "dih", "bridge-2-rotate-90.jpg")
OTHER = os.path.join(CONFORMANCE, "misc-images", "c.png")


def conformance_images():
    found = []
    for root, _, files in os.walk(CONFORMANCE):
        found.extend(os.path.join(root, f) for f in files if f.lower().endswith(IMAGE_EXT))
    return sorted(found)


def read(path):
    with open(path, "rb") as f:
        return f.read()


class HashingTest(unittest.TestCase):
    def test_hashes_equal_the_cli(self):
        files = conformance_images()
        self.assertGreater(len(files), 20)
        out = run([HASHSCREEN, "hash", "--dihedral", "--json", *files], check=False).stdout
        cli = {}
        for line in out.splitlines():
            j = json.loads(line)
            cli[j.pop("file")] = j
        self.assertGreater(len(cli), 20)
        for path in files:
            with self.subTest(path=path):
                if path not in cli:  # the CLI refused it: so must the module
                    with self.assertRaises(hashscreen.Error):
                        hashscreen.hash_file(path)
                    continue
                from_file = hashscreen.hash_file(path)
                from_bytes = hashscreen.hash_bytes(read(path))
                self.assertEqual(from_file, from_bytes)
                for k in ("pdq", "dihedral", "quality", "md5", "sha256", "width", "height", "format"):
                    self.assertEqual(from_file[k], cli[path][k], k)
                self.assertEqual(len(from_file["aligned"]), 8)
                self.assertEqual(from_file["aligned"][0], from_file["pdq"])

    def test_bytes_like_inputs(self):
        data = read(BRIDGE)
        want = hashscreen.hash_bytes(data)
        self.assertEqual(hashscreen.hash_bytes(bytearray(data)), want)
        self.assertEqual(hashscreen.hash_bytes(memoryview(data)), want)
        with self.assertRaises(TypeError):
            hashscreen.hash_bytes("not bytes")
        with self.assertRaises(BufferError):  # non-contiguous views are refused, not misread
            hashscreen.hash_bytes(memoryview(data)[::2])

    def test_errors_carry_the_status_codes(self):
        jpeg = read(BRIDGE)
        cases = [
            (b"", hashscreen.Unsupported, "unsupported"),
            (b"caption: a bridge\n", hashscreen.Unsupported, "unsupported"),
            (jpeg[: len(jpeg) // 3], hashscreen.Corruption, "corruption"),
            (b"\xff\xd8\xff\xe0\x00\x10JFIF" + b"garbage", hashscreen.Corruption, "corruption"),
            (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, hashscreen.Corruption, "corruption"),
        ]
        for data, cls, code in cases:
            with self.subTest(data=data[:16]):
                with self.assertRaises(cls) as ctx:
                    hashscreen.hash_bytes(data)
                self.assertIsInstance(ctx.exception, hashscreen.Error)
                self.assertEqual(ctx.exception.code, code)
                self.assertTrue(ctx.exception.message)
        with self.assertRaises(hashscreen.TooLarge) as ctx:
            hashscreen.hash_bytes(jpeg, max_bytes=1000)
        self.assertEqual(ctx.exception.code, "too_large")
        with self.assertRaises(hashscreen.TooLarge):
            hashscreen.hash_file(BRIDGE, max_bytes=1000)
        with tempfile.TemporaryDirectory() as d:
            missing = os.path.join(d, "missing.jpg")
            with self.assertRaises(hashscreen.NotFound) as ctx:
                hashscreen.hash_file(missing)
            self.assertEqual(ctx.exception.code, "not_found")
            self.assertIn(missing, ctx.exception.message)
            with self.assertRaises(hashscreen.InvalidArgument):
                hashscreen.hash_file(d)
            empty = os.path.join(d, "empty.jpg")
            open(empty, "wb").close()
            with self.assertRaises(hashscreen.Unsupported):
                hashscreen.hash_file(empty)

    def test_errors_pickle(self):  # Dask, Spark and Ray ship exceptions between processes
        e = pickle.loads(pickle.dumps(hashscreen.Corruption("truncated", "corruption")))
        self.assertIsInstance(e, hashscreen.Corruption)
        self.assertEqual((e.code, e.message), ("corruption", "truncated"))
        self.assertEqual(hashscreen.Error("x", "probing_suspected").code, "probing_suspected")

    def test_threads_hash_concurrently(self):
        files = conformance_images()[:24]
        serial = []
        for f in files:
            try:
                serial.append(hashscreen.hash_bytes(read(f)))
            except hashscreen.Error as e:
                serial.append(e.code)

        def one(f):
            try:
                return hashscreen.hash_bytes(read(f))
            except hashscreen.Error as e:
                return e.code

        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            self.assertEqual(list(pool.map(one, files)), serial)

    def test_gil_is_released_while_hashing(self):
        # With a 30 s switch interval, a thread that holds the GIL keeps it:
        # the main thread could only run again once all 20 hashes are done.
        # It runs while the first is in progress only if hash_bytes let go.
        data = read(BRIDGE)
        started, calls = threading.Event(), []

        def work():
            started.set()
            for _ in range(20):
                hashscreen.hash_bytes(data)
                calls.append(1)

        old = sys.getswitchinterval()
        sys.setswitchinterval(30)
        try:
            t = threading.Thread(target=work)
            t.start()
            started.wait()
            seen = len(calls)
        finally:
            sys.setswitchinterval(old)
        t.join()
        self.assertLess(seen, 20)
        self.assertEqual(len(calls), 20)

    def test_sniff_format(self):
        self.assertEqual(hashscreen.sniff_format(read(BRIDGE)[:64]), "jpeg")
        self.assertEqual(hashscreen.sniff_format(read(OTHER)[:64]), "png")
        self.assertIsNone(hashscreen.sniff_format(b'{"caption": "a bridge"}'))
        self.assertIsNone(hashscreen.sniff_format(b""))


def write_tar(path, members, cut_last=False):
    """A ustar file of (name, bytes) members; with cut_last, the file ends in
    the middle of the last member's data (a shard damaged there)."""
    import io
    import tarfile
    buf = io.BytesIO()
    cut = None
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
        for i, (name, data) in enumerate(members):
            if cut_last and i == len(members) - 1:
                cut = buf.tell() + 512 + len(data) // 2
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    raw = buf.getvalue()
    with open(path, "wb") as f:
        f.write(raw[:cut] if cut else raw)


class TarTest(unittest.TestCase):
    def test_members_and_damage(self):
        with tempfile.TemporaryDirectory() as d:
            shard = os.path.join(d, "s.tar")
            write_tar(shard, [("0001.jpg", read(BRIDGE)), ("0001.json", b"{}"), ("0002.png", read(OTHER))])
            self.assertTrue(hashscreen.is_tar(shard))
            self.assertFalse(hashscreen.is_tar(BRIDGE))
            members, error = hashscreen.list_tar(shard)
            self.assertIsNone(error)
            self.assertEqual([m[0] for m in members], ["0001.jpg", "0001.json", "0002.png"])
            name, offset, size = members[0]
            self.assertEqual(hashscreen.read_member(shard, offset, size), read(BRIDGE))
            self.assertEqual(len(hashscreen.read_member(shard, offset, size, head_only=True)), 64)
            with self.assertRaises(hashscreen.TooLarge):
                hashscreen.read_member(shard, offset, size, max_bytes=100)
            with self.assertRaises(hashscreen.Error):
                hashscreen.read_member(shard, offset, 1 << 30)  # past the end of the file

            damaged = os.path.join(d, "damaged.tar")
            write_tar(damaged, [("a.jpg", read(BRIDGE)), ("b.png", read(OTHER))], cut_last=True)
            members, error = hashscreen.list_tar(damaged)
            self.assertEqual([m[0] for m in members], ["a.jpg"])
            self.assertIsInstance(error, hashscreen.Corruption)
            members, error = hashscreen.list_tar(os.path.join(d, "missing.tar"))
            self.assertEqual(members, [])
            self.assertIsInstance(error, hashscreen.NotFound)


class ClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server().__enter__()
        bridge = hashscreen.hash_file(BRIDGE)
        cls.server.push_list([("pdq", bridge["pdq"])])

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__(None, None, None)

    def client(self, **kw):
        args = dict(server=self.server.url, key=self.server.ingest_key, cacert=self.server.cert)
        args.update(kw)
        return hashscreen.Client(**args)

    def test_screen_hashes_in_order_and_batches(self):
        names = [BRIDGE, OTHER, BRIDGE_TURNED, os.path.join(CONFORMANCE, "misc-images", "small.jpg"), BRIDGE]
        items = []
        for i, path in enumerate(names):
            h = hashscreen.hash_file(path)
            h["ref"] = f"item-{i}"
            items.append(h)
        for batch in (10000, 2, 1):
            with self.subTest(batch=batch):
                results = self.client().screen_hashes(iter(items), batch=batch)
                self.assertEqual([r["ref"] for r in results], [f"item-{i}" for i in range(5)])
                self.assertEqual([r["match"] for r in results], [True, False, True, False, True])
                for r in results:
                    self.assertIsInstance(r["audit_id"], str)
        self.assertEqual(self.client().screen_hashes([]), [])
        direct = {"ref": "exact", "sha256": hashscreen.hash_file(OTHER)["sha256"]}
        self.assertEqual(self.client().screen_hashes([direct])[0]["match"], False)

    def test_shared_between_threads(self):
        item = dict(hashscreen.hash_file(BRIDGE), ref="t")
        c = self.client()
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            results = list(pool.map(lambda _: c.screen_hashes([item])[0]["match"], range(8)))
        self.assertEqual(results, [True] * 8)

    def test_key_and_cacert_from_the_environment(self):
        saved = {k: os.environ.get(k) for k in ("HASHSCREEN_KEY", "HASHSCREEN_CACERT", "HASHSCREEN_SERVER")}
        try:
            os.environ.update(HASHSCREEN_KEY=self.server.ingest_key, HASHSCREEN_CACERT=self.server.cert,
                              HASHSCREEN_SERVER=self.server.url)
            c = hashscreen.Client()
            self.assertEqual(c.server, self.server.url)
            self.assertTrue(c.screen_hashes([dict(hashscreen.hash_file(BRIDGE), ref="env")])[0]["match"])
            del os.environ["HASHSCREEN_KEY"]
            with self.assertRaises(hashscreen.InvalidArgument):
                hashscreen.Client()
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

    def test_errors(self):
        item = dict(hashscreen.hash_file(OTHER), ref="x")
        with self.assertRaises(hashscreen.PermissionDenied) as ctx:
            self.client(key="hs_not_a_key").screen_hashes([item])
        self.assertTrue(ctx.exception.code)
        with self.assertRaises(hashscreen.PermissionDenied):  # an ingest key without hash queries
            self.client(key=self.server.plain_ingest_key).screen_hashes([item])
        with self.assertRaises(hashscreen.InvalidArgument) as ctx:
            self.client().screen_hashes([{"ref": "bad", "md5": "zz"}])
        self.assertIn("md5", ctx.exception.message)
        with self.assertRaises(hashscreen.InvalidArgument):
            self.client().screen_hashes([{"md5": "00" * 16}])  # no ref
        with self.assertRaises(hashscreen.InvalidArgument):
            self.client().screen_hashes([item], batch=10001)
        with self.assertRaises(hashscreen.InvalidArgument):  # the key would travel in clear text
            hashscreen.Client(server="http://screen.example:8080", key="k")
        with self.assertRaises(hashscreen.Unavailable):  # the CA does not vouch for it
            self.client(cacert=os.path.join(CONFORMANCE, "..", "..", "..", "..", "nonexistent.pem")).screen_hashes([item])
        import socket
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        with self.assertRaises(hashscreen.Unavailable):
            self.client(server=f"https://127.0.0.1:{port}").screen_hashes([item])


class FakeServerTest(unittest.TestCase):
    """A plain-http server on loopback (allowed there) answering batches as
    `answers` says: the client's retry and its Merkle-root check."""

    def serve(self, answers):
        import http.server
        requests = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                requests.append((self.path, self.headers.get("Authorization"), body))
                status, headers, answer = answers(body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        self.addCleanup(httpd.server_close)
        self.addCleanup(httpd.shutdown)
        return f"http://127.0.0.1:{httpd.server_address[1]}", requests

    def test_wrong_merkle_root_gives_no_verdicts(self):
        def answers(body):
            n = len(body["items"])
            return 200, {}, {"results": [{"ref": i["ref"], "match": False, "audit_id": "7"} for i in body["items"]],
                             "no_match_audit": {"audit_id": "7", "count": n, "merkle_root": "00" * 32}}
        url, requests = self.serve(answers)
        item = dict(hashscreen.hash_file(OTHER), ref="x")
        with self.assertRaises(hashscreen.Corruption) as ctx:
            hashscreen.Client(server=url, key="k").screen_hashes([item])
        self.assertIn("Merkle root", ctx.exception.message)
        path, auth, body = requests[0]
        self.assertEqual((path, auth), ("/v1/screen/hashes/batch", "Bearer k"))
        self.assertEqual(body["items"][0]["pdq"], item["aligned"])

    def test_overload_is_waited_out_and_errors_keep_their_code(self):
        calls = []

        def answers(body):
            calls.append(1)
            if len(calls) == 1:
                return 503, {"Retry-After": "1"}, {"error": {"code": "overloaded", "message": "busy"}}
            if len(calls) == 2:
                return 200, {}, {"results": [{"ref": i["ref"], "error": {"code": "probing_suspected", "message": "m"}}
                                             for i in body["items"]]}
            return 403, {}, {"error": {"code": "probing_suspected", "message": "key blocked"}}
        url, _ = self.serve(answers)
        client = hashscreen.Client(server=url, key="k")
        item = dict(hashscreen.hash_file(OTHER), ref="x")
        self.assertEqual(client.screen_hashes([item]),
                         [{"ref": "x", "error": {"code": "probing_suspected", "message": "m"}}])
        with self.assertRaises(hashscreen.PermissionDenied) as ctx:
            client.screen_hashes([item])
        self.assertEqual(ctx.exception.code, "probing_suspected")


if __name__ == "__main__":
    unittest.main()
