"""Benchmark: push and pull of a Debian image to a local registry, side by side: `dockyard push/pull`
(our CLI -> a private dockyardd), `docker push/pull` (Debian's dockerd 20.10, private) and `skopeo
copy`, in one run.

Usage (root): .venv/bin/python bench/images_pull_push.py [ROUNDS] [--no-gzip] [--extra-mb N]
              (default 3 rounds; about 70 s, 2 minutes with --extra-mb 85)
Targets: dockyard push <= 0.5 x docker push, dockyard pull <= 0.5 x docker pull.

Setup: a one-layer Debian image (dockyard.images.base.make_debian: debootstrap --variant=minbase
bookworm, cached under /var/cache/dockyard; 121 MB uncompressed) saved as a docker-archive and loaded
into each daemon. `--extra-mb 85` adds a second layer, a copy of the first 85 MB of its /usr, for an
image of ~210 MB (the size the reference figures in docs were taken with).

Push: before every round each daemon gets the image afresh (rmi + load, not timed), so every push
compresses and uploads the layer: docker with gzip, dockyard with zstd (its default) and, as
"dockyard-gzip", a second dockyardd started with DOCKYARD_PUSH_COMPRESSION=gzip (what clients that
cannot read zstd, such as dockerd 20.10, need); skopeo copies the docker-archive (gzip). Every push goes
to a new, empty registry (Debian's docker-registry), so no blob is skipped or mounted from another
repository. The tools take turns in a rotating order, so a busy machine slows all of them alike.

Pull: each tool pulls back what it pushed in the last push round, after the image was removed from
its daemon (blobs and unpacked layers gone); caches are dropped (sync; echo 3 > drop_caches) before
each timed pull. A dockyard/docker pull ends when the image is unpacked and can run; skopeo's pull is
a copy into an OCI layout (nothing unpacked).

Checks (not timed): the pulled images run (`cat /etc/debian_version`) and keep the loaded image's
layer diff IDs; dockerd pulls and runs what dockyard-gzip pushed, dockyard pulls and runs what docker
pushed.
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
BASE = "/var/lib"  # daemons, registries and the archive: where both daemons keep their data by default


class BenchDockerd(Dockerd):
    """peers.Dockerd with its roots under BASE, like the dockyardd next to it."""

    def __init__(self):
        super().__init__()
        os.rmdir(self.base)
        self.base = tempfile.mkdtemp(prefix="dockyard-bench-dockerd-", dir=BASE)
        self.sock = os.path.join(self.base, "docker.sock")
        self.host = f"unix://{self.sock}"


def make_archive(workdir: str, extra_mb: int = 0) -> tuple[str, list[int]]:
    """The Debian image as a docker-archive; returns (path, uncompressed layer sizes).

    With ``extra_mb``, a second layer holds a copy of the first ``extra_mb`` MB of the Debian root's
    /usr (under /opt/usr-copy): real Debian files that bring the image to the size wanted."""
    from dockyard.images import archive, base, compose
    from dockyard.images.content import ContentStore
    from dockyard.images.store import ImageStore

    store = ImageStore(os.path.join(workdir, "images"), content=ContentStore(os.path.join(workdir, "content")))
    try:
        img = base.make_debian(store, tag=LOCAL_TAG)
        if extra_mb:
            layers = [compose.LayerBlob(x.digest, x.media_type, x.size, x.diff_id, x.unpacked_size)
                      for x in img.layers]
            with tempfile.TemporaryFile(dir=workdir) as tmp:
                _copy_layer(str(base.ensure_debootstrap() / "usr"), tmp, extra_mb << 20)
                tmp.seek(0)
                layers.append(compose.store_layer_tar(store.content, tmp, "usr copy", compression="none"))
            config = {k: v for k, v in img.config.items() if k != "rootfs"}
            config["history"] = list(config.get("history", [])) + [
                {"created": config.get("created", ""), "created_by": f"COPY usr /opt/usr-copy # {extra_mb} MB"}]
            img = compose.write_image(store, config, layers, tags=[LOCAL_TAG])
        path = os.path.join(workdir, "debian.tar")
        with open(path, "wb") as f:
            archive.save(store, [LOCAL_TAG], f)
        sizes = [x.size for x in img.layers]
    finally:
        store.close()
    shutil.rmtree(os.path.join(workdir, "images"), ignore_errors=True)
    shutil.rmtree(os.path.join(workdir, "content"), ignore_errors=True)
    return path, sizes


def _copy_layer(src: str, out, budget: int) -> None:
    """A layer tar of the files under ``src`` (sorted walk), as /opt/usr-copy, up to ``budget`` bytes."""
    import tarfile

    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tf:
        tf.add(src, "opt/usr-copy", recursive=False)
        for dirpath, dirnames, filenames in os.walk(src):
            dirnames.sort()
            rel = os.path.relpath(dirpath, src)
            for name in sorted(dirnames) + sorted(filenames):
                full = os.path.join(dirpath, name)
                tf.add(full, os.path.normpath(os.path.join("opt/usr-copy", rel, name)), recursive=False)
                if tf.offset >= budget:
                    return


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


class DaemonTool:
    """A daemon driven by a docker-compatible CLI: push and pull through it."""

    def __init__(self, name: str, cli: str, env: dict, repo: str):
        self.name, self.cli, self.env, self.repo = name, cli, env, repo
        self.diff_ids: list[str] = []

    def __call__(self, *args) -> str:
        return run([self.cli, *args], self.env)

    def clear(self) -> None:
        """No image left: blobs and unpacked layers are removed with the last image."""
        ids = self("images", "-aq").split()
        if ids:
            self("rmi", "-f", *sorted(set(ids)))

    def prepare(self, archive: str) -> None:
        self.clear()
        self("load", "-i", archive)
        self.diff_ids = json.loads(self("image", "inspect", "--format", "{{json .RootFS.Layers}}", LOCAL_TAG))

    def push(self, host: str) -> float:
        ref = f"{host}/{self.repo}"
        self("tag", LOCAL_TAG, ref)
        drop_caches()
        return timed([self.cli, "push", ref], self.env)

    def pull(self, host: str) -> float:
        self.clear()
        drop_caches()
        return timed([self.cli, "pull", f"{host}/{self.repo}"], self.env)

    def check(self, ref: str) -> None:
        """The pulled image runs and has the diff IDs the loaded one had."""
        if not self("run", "--rm", ref, "cat", "/etc/debian_version").strip():
            raise SystemExit(f"{self.name}: {ref} did not run")
        got = json.loads(self("image", "inspect", "--format", "{{json .RootFS.Layers}}", ref))
        if self.diff_ids and got != self.diff_ids:
            raise SystemExit(f"{self.name}: {ref} has diff IDs {got}, the loaded image had {self.diff_ids}")


class Skopeo:
    name, repo = "skopeo", "bench/sk:1"

    def __init__(self, archive: str, workdir: str):
        self.archive, self.dest = archive, os.path.join(workdir, "skopeo-oci")

    def prepare(self, archive: str) -> None:
        pass

    def push(self, host: str) -> float:
        drop_caches()
        return timed(["skopeo", "copy", "-q", "--dest-tls-verify=false", f"docker-archive:{self.archive}",
                      f"docker://{host}/{self.repo}"])

    def pull(self, host: str) -> float:
        shutil.rmtree(self.dest, ignore_errors=True)
        drop_caches()
        return timed(["skopeo", "copy", "-q", "--src-tls-verify=false", f"docker://{host}/{self.repo}",
                      f"oci:{self.dest}"])


def pushed_layers(host: str, repo: str) -> str:
    m = json.loads(run(["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{host}/{repo}"]))
    return ", ".join(f"{x['mediaType'].rsplit('.', 1)[-1]} {x['size'] / 1e6:.0f} MB" for x in m["layers"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("rounds", type=int, nargs="?", default=3)
    ap.add_argument("--no-gzip", action="store_true", help="leave out the dockyard-gzip daemon")
    ap.add_argument("--extra-mb", type=int, default=0,
                    help="add a layer with about that many MB of the Debian root's /usr (85: a ~210 MB image)")
    opts = ap.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run as root (daemons, debootstrap, drop_caches)")
    t0 = time.perf_counter()
    work = tempfile.mkdtemp(prefix="dockyard-bench-images-", dir=BASE)
    daemons = [Dockyardd(base=tempfile.mkdtemp(prefix="dockyard-bench-dockyardd-", dir=BASE))]
    if not opts.no_gzip:
        daemons.append(Dockyardd(base=tempfile.mkdtemp(prefix="dockyard-bench-dockyardd-", dir=BASE)))
    dk = BenchDockerd()
    registries = []

    def registry():
        reg = start_registry(os.path.join(work, f"registry-{len(registries)}-{time.monotonic_ns()}"))
        registries.append(reg)
        return reg

    def retire(reg):
        stop_registry(reg)
        shutil.rmtree(os.path.dirname(reg.root), ignore_errors=True)
        registries.remove(reg)

    try:
        archive, layer_sizes = make_archive(work, opts.extra_mb)
        daemons[0].start()
        if len(daemons) > 1:
            os.environ["DOCKYARD_PUSH_COMPRESSION"] = "gzip"
            try:
                daemons[1].start()
            finally:
                del os.environ["DOCKYARD_PUSH_COMPRESSION"]
        dk.start()
        tools = [DaemonTool("dockyard", DOCKYARD_CLI, daemons[0].env, "bench/dy:1")]
        if len(daemons) > 1:
            tools.append(DaemonTool("dockyard-gzip", DOCKYARD_CLI, daemons[1].env, "bench/dyg:1"))
        tools += [DaemonTool("docker", "docker", dk.env, "bench/dk:1"), Skopeo(archive, work)]
        print(f"image: Debian bookworm minbase{' + a copy of part of its /usr' if opts.extra_mb else ''}, "
              f"{sum(layer_sizes) / 1e6:.0f} MB uncompressed (layers: "
              f"{', '.join(f'{x / 1e6:.0f} MB' for x in layer_sizes)}); {opts.rounds} rounds; "
              f"setup {time.perf_counter() - t0:.0f} s", flush=True)

        pushes: dict[str, list[float]] = {t.name: [] for t in tools}
        pulls: dict[str, list[float]] = {t.name: [] for t in tools}
        last: dict[str, object] = {}
        for r in range(opts.rounds):
            order = tools[r % len(tools):] + tools[:r % len(tools)]
            for t in order:
                t.prepare(archive)
            for t in order:
                reg = registry()
                pushes[t.name].append(t.push(reg.host))
                if r == opts.rounds - 1:
                    last[t.name] = reg
                else:
                    retire(reg)
            print(f"push round {r + 1}: " + ", ".join(f"{t.name} {pushes[t.name][-1]:.2f} s" for t in tools),
                  flush=True)
        layers = {t.name: pushed_layers(last[t.name].host, t.repo) for t in tools}

        for r in range(opts.rounds):
            order = tools[r % len(tools):] + tools[:r % len(tools)]
            for t in order:
                pulls[t.name].append(t.pull(last[t.name].host))
            print(f"pull round {r + 1}: " + ", ".join(f"{t.name} {pulls[t.name][-1]:.2f} s" for t in tools),
                  flush=True)

        by_name = {t.name: t for t in tools}
        for t in tools:
            if isinstance(t, DaemonTool):
                t.check(f"{last[t.name].host}/{t.repo}")
        checks = ["pulled images run and keep their diff IDs"]
        if "dockyard-gzip" in by_name:  # dockerd 20.10 reads gzip layers only
            ref = f"{last['dockyard-gzip'].host}/bench/dyg:1"
            by_name["docker"]("pull", "-q", ref)
            by_name["docker"].check(ref)
            checks.append("dockerd pulls and runs what dockyard-gzip pushed")
        ref = f"{last['docker'].host}/bench/dk:1"
        by_name["dockyard"]("pull", "-q", ref)
        by_name["dockyard"].check(ref)
        checks.append("dockyard pulls and runs what docker pushed")

        dk_push, dk_pull = statistics.median(pushes["docker"]), statistics.median(pulls["docker"])
        print()
        print(f"{'tool':14s} {'push s':>7s} {'pull s':>7s} {'push/docker':>12s} {'pull/docker':>12s}  pushed layer")
        for t in tools:
            p, q = statistics.median(pushes[t.name]), statistics.median(pulls[t.name])
            print(f"{t.name:14s} {p:7.2f} {q:7.2f} {p / dk_push:12.2f} {q / dk_pull:12.2f}  {layers[t.name]}")
        print(f"\nmedians of {opts.rounds} rounds; skopeo's pull is a copy to an OCI layout (not unpacked); "
              f"checks passed: {'; '.join(checks)}; total run {time.perf_counter() - t0:.0f} s")
    finally:
        for reg in list(registries):
            stop_registry(reg)
        dk.stop()
        for d in daemons:
            d.cleanup()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
