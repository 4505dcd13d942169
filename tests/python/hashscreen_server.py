"""A real hashscreend for the Python tests, as tests/server/server_process.h
starts one for the C++ tests: a temp data dir, a self-signed certificate for
127.0.0.1, keys made offline (`hashscreend keys create`), the server on a free
loopback port (--listen 127.0.0.1:0, the port read from its "listening on"
line), and a block list pushed with the CLI (`hashscreen lists create|push`).

The build directory comes from $HASHSCREEN_BUILD (ctest sets it), the
repository from this file's place."""

import os
import select
import shutil
import signal
import subprocess
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("HASHSCREEN_BUILD", os.path.join(REPO, "build"))
HASHSCREEND = os.path.join(BUILD, "hashscreend")
HASHSCREEN = os.path.join(BUILD, "hashscreen")
CONFORMANCE = os.path.join(REPO, "tests", "data", "pdq", "images")


def run(argv, env=None, check=True):
    r = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60)
    if check and r.returncode != 0:
        raise RuntimeError(f"{argv[:3]} exited {r.returncode}: {r.stderr}")
    return r


class Server:
    """Usage: with Server() as s: s.url, s.cert, s.ingest_key, s.push_list(rows)."""

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="hashscreen-py-")
        self.data = os.path.join(self.dir, "data")
        self.cert = os.path.join(self.dir, "cert.pem")
        key = os.path.join(self.dir, "key.pem")
        run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-days", "2", "-subj", "/CN=hashscreen test", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
             "-keyout", key, "-out", self.cert])
        self.ingest_key = self.create_key("ingest", "--hash-queries")
        self.plain_ingest_key = self.create_key("ingest")  # no hash queries
        self.partner_key = self.create_key("partner", "--partner", "py-test")
        self.log = open(os.path.join(self.dir, "server.log"), "wb")
        self.proc = subprocess.Popen(
            [HASHSCREEND, "serve", "--data", self.data, "--listen", "127.0.0.1:0", "--tls-cert", self.cert,
             "--tls-key", key, "--metrics-listen", "127.0.0.1:0", "--rate-per-key", "0"],
            stdout=subprocess.PIPE, stderr=self.log)
        port, buf, deadline = None, b"", time.monotonic() + 30
        while port is None and time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if not ready:
                continue
            chunk = os.read(self.proc.stdout.fileno(), 4096)
            if not chunk:
                break
            buf += chunk
            for line in buf.split(b"\n"):
                if line.startswith(b"listening on "):
                    port = int(line.rsplit(b":", 1)[1])
        if port is None:
            self.__exit__(None, None, None)
            raise RuntimeError("hashscreend did not start: " + open(os.path.join(self.dir, "server.log")).read())
        self.url = f"https://127.0.0.1:{port}"
        return self

    def create_key(self, role, *flags):
        out = run([HASHSCREEND, "keys", "create", "--create", "--data", self.data, "--role", role, *flags]).stdout
        return out.strip().splitlines()[-1]

    def cli_env(self, key):
        env = dict(os.environ)
        env.update(HASHSCREEN_SERVER=self.url, HASHSCREEN_KEY=key, HASHSCREEN_CACERT=self.cert)
        return env

    def push_list(self, rows, name="py-list"):
        """Creates a block list from `rows` of (type, hex) and pushes it."""
        env = self.cli_env(self.partner_key)
        list_id = run([HASHSCREEN, "lists", "create", "--name", name, "--kind", "block"], env=env).stdout.strip()
        path = os.path.join(self.dir, name + ".csv")
        with open(path, "w") as f:
            f.write("type,hash,ref\n")
            for i, (kind, value) in enumerate(rows):
                f.write(f"{kind},{value},row-{i}\n")
        run([HASHSCREEN, "lists", "push", list_id, path], env=env)
        return list_id

    def __exit__(self, *exc):
        if getattr(self, "proc", None) is not None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc.stdout.close()
            self.proc = None
        if getattr(self, "log", None) is not None:
            self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
        return False
