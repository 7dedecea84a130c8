"""Benchmark: `dockyard-runtime run` against `runc run` on the same busybox bundle, side by side.

Usage: .venv/bin/python bench/runtime_run.py [ROUNDS]   (root; needs Debian's runc and busybox-static)
Prints the median wall time of each and the ratio dockyard/runc (target: <= 1.0).
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from dockyard.runtime.bundle import make_bundle  # noqa: E402

DOCKYARD = os.path.join(os.path.dirname(sys.executable), "dockyard-runtime")


def timed(cmd):
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    runc = shutil.which("runc")
    if not runc:
        sys.exit("runc is not installed (apt-get install runc)")
    work = tempfile.mkdtemp(prefix="dockyard-bench-")
    try:
        bundle = os.path.join(work, "bundle")
        make_bundle(bundle, ["true"])
        results = {"dockyard-runtime": [], "runc": []}
        cmds = {
            "dockyard-runtime": lambda i: [DOCKYARD, "--root", f"{work}/dy", "run", "--bundle", bundle, f"b{i}"],
            "runc": lambda i: [runc, "--root", f"{work}/runc", "run", "--bundle", bundle, f"b{i}"],
        }
        for name in cmds:  # warm-up
            timed(cmds[name]("warm"))
        for i in range(rounds):
            for name in cmds:  # interleaved, so load and caches affect both alike
                results[name].append(timed(cmds[name](i)))
        med = {k: statistics.median(v) for k, v in results.items()}
        for k, v in med.items():
            print(f"{k:18s} median {v * 1000:7.1f} ms over {rounds} runs")
        print(f"ratio dockyard-runtime/runc = {med['dockyard-runtime'] / med['runc']:.2f} (target <= 1.0)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
