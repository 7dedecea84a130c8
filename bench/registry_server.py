"""Benchmark: Dockyard's registry server against Debian's docker-registry (distribution 2.8), side
by side, with the same clients.

Usage (root, for the cache): .venv/bin/python bench/registry_server.py [--rounds 3] [--pulls 20]
(about 30 s per round; needs skopeo, docker-registry and curl)

Image (~200 MB, cached as an OCI layout under /var/cache/dockyard/bench-registry): the Debian
layer of dockyard.images.base.make_debian (debootstrap --variant=minbase bookworm, ~120 MB
uncompressed) plus four layers of random bytes that bring it to 200 MB.

Each round starts both registries afresh (empty storage, new port), then times:
- push:  `skopeo copy --preserve-digests oci:... docker://...` (no recompression: the registry's
         ingest, hashing and storage are what is measured);
- pull:  `skopeo copy docker://... dir:/dev/shm/...` of that image;
- pull xN: N such pulls at once (wall time until the last one ends);
- blobs xN: N curl processes downloading every blob of the image to /dev/null at once (the
         registry's own throughput: curl neither verifies nor stores);
- push/pull with Dockyard's own client (dockyard.registry.push/pull: chunked upload, then a pull
  into a fresh content store).
Every pull's manifest digest is checked against the pushed one. Medians over the rounds; the
ratio is docker-registry's time / Dockyard's (above 1: Dockyard is faster).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, REPO)

CACHE = "/var/cache/dockyard/bench-registry"
LAYOUT = os.path.join(CACHE, "debian-oci")
TAG = "bookworm"
REGISTRY_BIN = "/usr/bin/docker-registry"
EXTRA_TARGET = 200_000_000   # bytes of layers in all


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _put_blob(layout: str, data: bytes) -> dict:
    import hashlib
    digest = hashlib.sha256(data).hexdigest()
    with open(os.path.join(layout, "blobs", "sha256", digest), "wb") as f:
        f.write(data)
    return {"digest": f"sha256:{digest}", "size": len(data)}


def _random_layer(seed: int, size: int) -> bytes:
    """An uncompressed layer tar holding one file of random (incompressible) bytes."""
    import io
    import random
    import tarfile
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        info = tarfile.TarInfo(f"opt/data/blob{seed}.bin")
        info.size, info.mode, info.mtime = size, 0o644, 0
        tf.addfile(info, io.BytesIO(random.Random(seed).randbytes(size)))
    return buf.getvalue()


def make_layout() -> str:
    """The image as an OCI layout (cached): Debian minbase plus random layers, ~200 MB."""
    if os.path.exists(os.path.join(LAYOUT, "index.json")):
        return LAYOUT
    from dockyard.images import base, ocilayout
    from dockyard.images.content import ContentStore
    from dockyard.images.store import ImageStore
    from dockyard.spec import image as spec

    os.makedirs(CACHE, exist_ok=True)
    work = tempfile.mkdtemp(dir=CACHE)
    try:
        store = ImageStore(os.path.join(work, "images"), content=ContentStore(os.path.join(work, "content")))
        try:
            base.make_debian(store, tag=f"bench/debian:{TAG}")
            layout = os.path.join(work, "layout")
            desc = ocilayout.save_oci_layout(store, f"bench/debian:{TAG}", layout, name=TAG)
        finally:
            store.close()
        blob = lambda d: os.path.join(layout, "blobs", *d.split(":"))  # noqa: E731
        with open(blob(desc["digest"]), "rb") as f:
            manifest = json.load(f)
        with open(blob(manifest["config"]["digest"]), "rb") as f:
            config = json.load(f)
        debian = sum(x["size"] for x in manifest["layers"])
        extra, n = max(0, EXTRA_TARGET - debian), 4
        for i in range(n):
            d = _put_blob(layout, _random_layer(i, extra // n))
            manifest["layers"].append({"mediaType": spec.OCI_LAYER, **d})
            config["rootfs"]["diff_ids"].append(d["digest"])
            config["history"].append({"created": config.get("created"), "created_by": f"random layer {i}"})
        cfg = _put_blob(layout, json.dumps(config).encode())
        manifest["config"] = {"mediaType": spec.OCI_CONFIG, **cfg}
        man = _put_blob(layout, json.dumps(manifest).encode())
        index = {"schemaVersion": 2, "mediaType": spec.OCI_INDEX, "manifests": [
            {"mediaType": spec.OCI_MANIFEST, **man, "annotations": {ocilayout.ANNOTATION_REF_NAME: TAG}}]}
        with open(os.path.join(layout, "index.json"), "w") as f:
            json.dump(index, f)
        os.rename(layout, LAYOUT)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return LAYOUT


def layout_manifest_digest(layout: str) -> tuple[str, int]:
    with open(os.path.join(layout, "index.json")) as f:
        desc = json.load(f)["manifests"][0]
    with open(os.path.join(layout, "blobs", *desc["digest"].split(":"))) as f:
        m = json.load(f)
    return desc["digest"], sum(x["size"] for x in m["layers"]) + m["config"]["size"]


class Server:
    def __init__(self, kind: str):
        self.kind = kind
        self.dir = tempfile.mkdtemp(prefix=f"bench-{kind}-", dir="/var/tmp")
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        log = open(os.path.join(self.dir, "log"), "wb")
        if kind == "docker-registry":
            cfg = os.path.join(self.dir, "config.yml")
            with open(cfg, "w") as f:
                f.write(f"version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n"
                        f"  filesystem:\n    rootdirectory: {self.dir}/root\n  delete:\n    enabled: true\n"
                        f"http:\n  addr: {self.host}\n  secret: bench\n")
            cmd = [REGISTRY_BIN, "serve", cfg]
        else:
            cmd = [sys.executable, "-m", "dockyard.registry.server.main", "serve", "--addr", self.host,
                   "--root", f"{self.dir}/root", "--log-level", "warn"]
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=log, cwd=REPO)
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise SystemExit(f"{kind} did not start: see {self.dir}/log")
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def run(cmd: list[str]) -> None:
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {p.returncode}:\n{p.stderr[-3000:]}")


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def pull_cmd(host: str, dest: str) -> list[str]:
    """skopeo into a ``dir:`` (blobs kept as they are, manifest byte for byte)."""
    return ["skopeo", "copy", "-q", "--src-tls-verify=false", f"docker://{host}/bench/debian:{TAG}", f"dir:{dest}"]


def check_pulled(dest: str, want: str) -> None:
    import hashlib
    with open(os.path.join(dest, "manifest.json"), "rb") as f:
        got = "sha256:" + hashlib.sha256(f.read()).hexdigest()
    if got != want:
        raise SystemExit(f"pulled manifest {got} differs from the pushed {want}")


def one_round(kind: str, layout: str, digest: str, pulls: int, shm: str) -> dict[str, float]:
    from dockyard.images.content import ContentStore
    from dockyard.registry.pull import pull
    from dockyard.registry.push import push

    srv = Server(kind)
    out = {}
    try:
        out["push (skopeo)"] = timed(lambda: run([
            "skopeo", "copy", "-q", "--preserve-digests", "--dest-tls-verify=false", f"oci:{layout}:{TAG}",
            f"docker://{srv.host}/bench/debian:{TAG}"]))
        dest = os.path.join(shm, f"{kind}-pull")
        out["pull (skopeo)"] = timed(lambda: run(pull_cmd(srv.host, dest)))
        check_pulled(dest, digest)
        shutil.rmtree(dest)
        dests = [os.path.join(shm, f"{kind}-many-{i}") for i in range(pulls)]

        def many():
            procs = [subprocess.Popen(pull_cmd(srv.host, d), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                     for d in dests]
            for p in procs:
                if p.wait() != 0:
                    raise SystemExit(f"a concurrent pull failed: {p.stderr.read().decode()[-2000:]}")
        out[f"pull x{pulls} (skopeo)"] = timed(many)
        for d in dests:
            check_pulled(d, digest)
            shutil.rmtree(d)
        with open(os.path.join(layout, "blobs", *digest.split(":")), "rb") as f:
            m = json.load(f)
        urls = [f"http://{srv.host}/v2/bench/debian/blobs/{x['digest']}" for x in [m["config"], *m["layers"]]]
        curl = ["curl", "-sf", *[a for u in urls for a in (u, "-o", "/dev/null")]]

        def raw():
            procs = [subprocess.Popen(curl) for _ in range(pulls)]
            if any(p.wait() != 0 for p in procs):
                raise SystemExit("a curl download failed")
        out[f"blobs x{pulls} (curl)"] = timed(raw)
        # Dockyard's own client: the layout's blobs as a content store
        src = ContentStore(os.path.join(shm, f"{kind}-src"))
        for root, _, files in os.walk(os.path.join(layout, "blobs")):
            for name in files:
                algo = os.path.basename(root)
                target = src.root / "blobs" / algo / name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(os.path.join(root, name), target)
        out["push (dockyard client)"] = timed(lambda: push(f"{srv.host}/bench/own:{TAG}", src, digest))
        dst = ContentStore(os.path.join(shm, f"{kind}-dst"))
        res = {}
        out["pull (dockyard client)"] = timed(lambda: res.setdefault("r", pull(f"{srv.host}/bench/own:{TAG}", dst)))
        if res["r"].manifest_digest != digest:
            raise SystemExit(f"dockyard client pulled {res['r'].manifest_digest}, pushed {digest}")
        shutil.rmtree(src.root)
        shutil.rmtree(dst.root)
    finally:
        srv.stop()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--pulls", type=int, default=20)
    args = ap.parse_args()
    for tool in ("skopeo", REGISTRY_BIN, "curl"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is not installed (Debian packages skopeo, docker-registry, curl)")
    layout = make_layout()
    digest, size = layout_manifest_digest(layout)
    print(f"image: Debian bookworm minbase + random layers, {size / 1e6:.0f} MB, manifest {digest[:19]}, "
          f"{args.rounds} rounds (medians)")
    shm = tempfile.mkdtemp(prefix="bench-registry-", dir="/dev/shm")
    results: dict[str, dict[str, list[float]]] = {"docker-registry": {}, "dockyard": {}}
    try:
        for _ in range(args.rounds):
            for kind in ("docker-registry", "dockyard"):
                for k, v in one_round(kind, layout, digest, args.pulls, shm).items():
                    results[kind].setdefault(k, []).append(v)
    finally:
        shutil.rmtree(shm, ignore_errors=True)
    print(f"{'':28}{'docker-registry':>16}{'dockyard':>12}{'ratio':>8}")
    for key in results["dockyard"]:
        a = statistics.median(results["docker-registry"][key])
        b = statistics.median(results["dockyard"][key])
        print(f"{key:28}{a:>15.2f}s{b:>11.2f}s{a / b:>8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
