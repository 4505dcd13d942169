#!/usr/bin/env python3
"""Hash throughput of the Python module against `hashscreen hash` on the same
files (run on demand, not a test): single-threaded, and with N threads (a
ThreadPoolExecutor over hashscreen.hash_file, which releases the GIL) against
`hashscreen hash --jobs N`. Both read and hash every file with all 8 dihedral
variants; best of --repeat runs each, interleaved. Prints files/s and the
module/CLI ratio (docs/datasets.md, "Sizing").

  PYTHONPATH=build/python python3 python/hash_bench.py [--threads N] [DIR]
"""

import argparse
import concurrent.futures
import os
import subprocess
import sys
import time

import hashscreen

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dir", nargs="?", default="/var/cache/hashscreen/images/photos-2mp")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--cli", default=os.path.join(os.path.dirname(HERE), "build", "hashscreen"))
    a = p.parse_args()
    files = sorted(os.path.join(r, f) for r, _, fs in os.walk(a.dir) for f in fs
                   if hashscreen.sniff_format(open(os.path.join(r, f), "rb").read(64)))
    if not files:
        sys.exit(f"no images under {a.dir}")

    def cli(jobs):
        t = time.perf_counter()
        subprocess.run([a.cli, "hash", "--dihedral", "--jobs", str(jobs), *files], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.perf_counter() - t

    def module(threads):
        t = time.perf_counter()
        if threads == 1:
            for f in files:
                hashscreen.hash_file(f)
        else:
            with concurrent.futures.ThreadPoolExecutor(threads) as pool:
                list(pool.map(hashscreen.hash_file, files))
        return time.perf_counter() - t

    print(f"== {len(files)} files from {a.dir}, best of {a.repeat}")
    for n in sorted({1, a.threads}):
        best_cli = best_mod = float("inf")
        for _ in range(a.repeat):
            best_cli = min(best_cli, cli(n))
            best_mod = min(best_mod, module(n))
        rc, rm = len(files) / best_cli, len(files) / best_mod
        label = "1 thread" if n == 1 else f"{n} threads"
        print(f"{label}: hashscreen hash --jobs {n}: {rc:.1f} files/s; module: {rm:.1f} files/s; "
              f"module / CLI: {100 * rm / rc:.0f}%")


if __name__ == "__main__":
    main()
