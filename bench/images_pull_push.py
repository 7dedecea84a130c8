"""Benchmark: push and pull of a ~200 MB Debian image to a local registry, side by side:
`dockyard push/pull` (our CLI -> a private dockyardd), `docker push/pull` (Debian's dockerd, private)
and `skopeo copy`.

Usage (root): .venv/bin/python bench/images_pull_push.py [ROUNDS]   (default 3; about 2-3 minutes)
Targets: dockyard push <= 0.5 x docker push, dockyard pull <= 0.5 x docker pull.

Setup: a one-layer Debian image (debootstrap --variant=minbase bookworm, cached under
/var/cache/dockyard) saved as a docker-archive, loaded into both daemons.

Push: before every round each daemon gets the image afresh (rmi + load, not timed), so every push
compresses and uploads the layer (docker: gzip; dockyard: zstd, or `--compression gzip` to compare like
with like); skopeo pushes the archive as it is (uncompressed layer). Every push goes to a new, empty
registry, so nothing is skipped or mounted from another repository.

Pull: each tool pulls back what it pushed in the last push round (dockyard: zstd layer, docker: gzip,
skopeo: the uncompressed layer) after the image was removed from the daemon (blobs and layer snapshots
gone); the page cache is dropped before each timed pull. dockyard/docker pulls end when the image is
unpacked and runnable; skopeo's pull is a copy to an OCI layout (nothing unpacked).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from peers import DOCKYARD_CLI, Dockerd, Dockyardd

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "integration", "registry"))

from conftest import start_registry, stop_registry  # noqa: E402

LOCAL_TAG = "bench/debian:1"
# Where both daemons, the registries and the archive live. Not /var/tmp: on the machines this runs on,
# creating files there is 10-30x slower than elsewhere on the same ext4 (its block groups are crowded
# by test runs), which would measure the file system instead of the tools. /var/lib is where both
# daemons keep their data by default.
BASE = "/var/lib"


class BenchDockerd(Dockerd):
    """peers.Dockerd with its roots under BASE."""

    def __init__(self):
        super().__init__()
        os.rmdir(self.base)
        self.base = tempfile.mkdtemp(prefix="dockyard-bench-dockerd-", dir=BASE)
        self.sock = os.path.join(self.base, "docker.sock")
        self.host = f"unix://{self.sock}"


def make_archive(workdir: str) -> tuple[str, int]:
    """The Debian image as a docker-archive; returns (path, uncompressed layer size)."""
    from dockyard.images import archive, base
    from dockyard.images.content import ContentStore
    from dockyard.images.store import ImageStore

    store = ImageStore(os.path.join(workdir, "images"), content=ContentStore(os.path.join(workdir, "content")))
    try:
        img = base.make_debian(store, tag=LOCAL_TAG)
        path = os.path.join(workdir, "debian.tar")
        with open(path, "wb") as f:
            archive.save(store, [LOCAL_TAG], f)
        size = sum(x.size for x in img.layers)
    finally:
        store.close()
    shutil.rmtree(os.path.join(workdir, "images"), ignore_errors=True)
    shutil.rmtree(os.path.join(workdir, "content"), ignore_errors=True)
    return path, size


def drop_caches() -> None:
    os.sync()
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3\n")


def run(cmd, env=None, timeout=600) -> str:
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {p.returncode}:\n{p.stdout[-2000:]}\n{p.stderr[-2000:]}")
    return p.stdout


def timed(cmd, env=None) -> float:
    t = time.perf_counter()
    run(cmd, env)
    return time.perf_counter() - t


class Side:
    """One daemon driven by a docker-compatible CLI."""

    def __init__(self, name: str, cli: str, env: dict, repo: str, push_args=()):
        self.name, self.cli, self.env, self.repo, self.push_args = name, cli, env, repo, list(push_args)

    def __call__(self, *args) -> str:
        return run([self.cli, *args], self.env)

    def reset(self, archive: str) -> None:
        """No image at all (blobs and layers removed), then the archive loaded again."""
        self.clear()
        self("load", "-i", archive)

    def clear(self) -> None:
        ids = self("images", "-aq").split()
        if ids:
            self("rmi", "-f", *sorted(set(ids)))

    def push(self, host: str) -> float:
        ref = f"{host}/{self.repo}"
        self("tag", LOCAL_TAG, ref)
        return timed([self.cli, "push", *self.push_args, ref], self.env)

    def pull(self, host: str) -> float:
        self.clear()
        drop_caches()
        return timed([self.cli, "pull", f"{host}/{self.repo}"], self.env)


def skopeo_push(archive: str, host: str) -> float:
    return timed(["skopeo", "copy", "-q", "--dest-tls-verify=false", f"docker-archive:{archive}",
                  f"docker://{host}/bench/sk:1"])


def skopeo_pull(host: str, workdir: str) -> float:
    dest = os.path.join(workdir, "skopeo-oci")
    shutil.rmtree(dest, ignore_errors=True)
    drop_caches()
    return timed(["skopeo", "copy", "-q", "--src-tls-verify=false", f"docker://{host}/bench/sk:1", f"oci:{dest}"])


def manifest(reg_host: str, repo: str) -> dict:
    """The pushed manifest (to report layer media types and sizes)."""
    out = run(["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{reg_host}/{repo}"])
    return json.loads(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("rounds", type=int, nargs="?", default=3)
    ap.add_argument("--compression", choices=["zstd", "gzip"], default=None,
                    help="dockyard push --compression (default: dockyard's default, zstd)")
    opts = ap.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run as root (daemons, debootstrap, drop_caches)")
    t0 = time.perf_counter()
    work = tempfile.mkdtemp(prefix="dockyard-bench-images-", dir=BASE)
    dy = Dockyardd(base=tempfile.mkdtemp(prefix="dockyard-bench-dockyardd-", dir=BASE))
    dk = BenchDockerd()
    registries = []

    def registry():
        reg = start_registry(os.path.join(work, f"registry-{len(registries)}"))
        registries.append(reg)
        return reg

    def retire(reg):
        stop_registry(reg)
        shutil.rmtree(os.path.dirname(reg.root), ignore_errors=True)
        registries.remove(reg)

    try:
        archive, layer_size = make_archive(work)
        dy.start()
        dk.start()
        push_args = ["--compression", opts.compression] if opts.compression else []
        sides = [Side("dockyard", DOCKYARD_CLI, dy.env, "bench/dy:1", push_args),
                 Side("docker", "docker", dk.env, "bench/dk:1")]
        print(f"image: Debian bookworm minbase, one layer of {layer_size / 1e6:.0f} MB (uncompressed); "
              f"{opts.rounds} rounds; setup {time.perf_counter() - t0:.0f} s", flush=True)

        pushes: dict[str, list[float]] = {"dockyard": [], "docker": [], "skopeo": []}
        last: dict[str, object] = {}
        for r in range(opts.rounds):
            for s in sides:
                s.reset(archive)
            for name in pushes:
                reg = registry()
                drop_caches()
                if name == "skopeo":
                    pushes[name].append(skopeo_push(archive, reg.host))
                else:
                    side = next(s for s in sides if s.name == name)
                    pushes[name].append(side.push(reg.host))
                if r == opts.rounds - 1:
                    last[name] = reg
                else:
                    retire(reg)
            print(f"push round {r + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in pushes.items()), flush=True)

        layers = {}
        for name, repo in (("dockyard", "bench/dy:1"), ("docker", "bench/dk:1"), ("skopeo", "bench/sk:1")):
            m = manifest(last[name].host, repo)
            layers[name] = [(x["mediaType"].rsplit(".", 1)[-1], x["size"]) for x in m["layers"]]

        pulls: dict[str, list[float]] = {"dockyard": [], "docker": [], "skopeo": []}
        for r in range(opts.rounds):
            for name in pulls:
                if name == "skopeo":
                    pulls[name].append(skopeo_pull(last[name].host, work))
                else:
                    side = next(s for s in sides if s.name == name)
                    pulls[name].append(side.pull(last[name].host))
            print(f"pull round {r + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in pulls.items()), flush=True)

        # the pulled image runs, on both daemons
        for s in sides:
            out = run([s.cli, "run", "--rm", f"{last[s.name].host}/{s.repo}", "cat", "/etc/debian_version"], s.env)
            if not out.strip():
                raise SystemExit(f"{s.name}: the pulled image did not run")

        dk_push, dk_pull = statistics.median(pushes["docker"]), statistics.median(pulls["docker"])
        print()
        print(f"{'tool':10s} {'push s':>8s} {'pull s':>8s} {'push/docker':>12s} {'pull/docker':>12s}  pushed layer")
        for name in ("dockyard", "docker", "skopeo"):
            p, q = statistics.median(pushes[name]), statistics.median(pulls[name])
            lay = ", ".join(f"{mt} {size / 1e6:.0f} MB" for mt, size in layers[name])
            print(f"{name:10s} {p:8.2f} {q:8.2f} {p / dk_push:12.2f} {q / dk_pull:12.2f}  {lay}")
        print(f"\n(medians of {opts.rounds} rounds; skopeo pull = copy to an OCI layout, not unpacked; "
              f"total run {time.perf_counter() - t0:.0f} s)")
    finally:
        for reg in list(registries):
            stop_registry(reg)
        dk.stop()
        dy.cleanup()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
