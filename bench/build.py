"""Benchmark: building the sample project with dockyardd vs dockerd's classic builder, side by side.

The sample project: a Debian base (from the debootstrap cache, if `dockyard image base debian` made
one; else busybox), two RUN steps and a COPY of 200 files. Both daemons get the same base image
(docker load); RUN steps get no network (--network none: the bench's dockerd has no bridge).
"first" is the first build (the base image is unpacked on the way), "cold" a `--no-cache` rebuild,
"cached" an unchanged rebuild (every step from the cache).

dockerd unpacks a loaded image at `docker load`, dockyardd when it is first used, so "first" holds the
unpacking of the base image for dockyard only; the docker CLI -> dockyardd row's "first" finds the
dockyard row's result in the cache.

Usage (root): .venv/bin/python bench/build.py [ROUNDS]
Target: dockyard at least as fast as the classic builder (ratio <= 1.0) cold and cached. With Debian's
docker CLI (/usr/bin/docker, 20.10) BuildKit is measured too.
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from peers import DOCKYARD_CLI, Dockerd, Dockyardd, busybox_tar

DEBIAN_DOCKER = "/usr/bin/docker"
DOCKERFILE = """\
FROM {base}
RUN echo "built on $(uname -m)" > /built.txt && ls /etc > /etc-list
COPY src/ /app/src/
RUN cat /app/src/*.txt | wc -l > /app/count && ls -l /app/src | wc -l >> /app/count
CMD ["cat", "/app/count"]
"""


def base_image(work: str) -> tuple[str, str]:
    """(docker-archive path, image name): Debian when the debootstrap cache exists, else busybox."""
    from dockyard.images import archive, base
    from dockyard.images.content import ContentStore
    from dockyard.images.store import ImageStore
    done = base.debootstrap_dir(base.default_cache_dir(), "bookworm")
    if not (done.parent / (done.name + ".done")).exists():
        return busybox_tar(), "busybox:latest"
    store = ImageStore(os.path.join(work, "images"), content=ContentStore(os.path.join(work, "content")))
    try:
        base.make_debian(store, tag="debian:bookworm")
        path = os.path.join(work, "debian.tar")
        with open(path, "wb") as f:
            archive.save(store, ["debian:bookworm"], f)
    finally:
        store.close()
    return path, "debian:bookworm"


def project(work: str, image: str) -> str:
    ctx = os.path.join(work, "project")
    os.makedirs(os.path.join(ctx, "src"))
    for i in range(200):
        with open(os.path.join(ctx, "src", f"f{i:03d}.txt"), "w") as f:
            f.write(f"file {i}\n" * 20)
    with open(os.path.join(ctx, "Dockerfile"), "w") as f:
        f.write(DOCKERFILE.format(base=image))
    return ctx


def timed(cmd, env) -> float:
    t = time.perf_counter()
    p = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if p.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed: {p.stderr.strip()}")
    return time.perf_counter() - t


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    work = tempfile.mkdtemp(prefix="dockyard-bench-build-", dir="/var/tmp")
    dy, dk = Dockyardd(), Dockerd()
    try:
        tar, image = base_image(work)
        ctx = project(work, image)
        dy.start()
        dk.start()
        for env in (dy.env, dk.env):
            subprocess.run(["docker", "load", "-i", tar], env=env, check=True, capture_output=True)
        classic = dict(dk.env, DOCKER_BUILDKIT="0")
        sides = {
            "dockyard": ([DOCKYARD_CLI, "build", "-q", "--network", "none"], dy.env),
            "docker CLI -> dockyardd": (["docker", "build", "-q", "--network", "none"],
                                        dict(dy.env, DOCKER_BUILDKIT="0")),
            "dockerd (classic)": (["docker", "build", "-q", "--network", "none"], classic),
        }
        if os.path.exists(DEBIAN_DOCKER):   # Debian's docker CLI 20.10 speaks BuildKit without buildx
            sides["dockerd (BuildKit)"] = ([DEBIAN_DOCKER, "build", "-q", "--network", "none"],
                                           dict(dk.env, DOCKER_BUILDKIT="1"))
        res = {k: {"first": [], "cold": [], "cached": []} for k in sides}
        for name, (cli, env) in sides.items():   # the docker CLI -> dockyardd row finds it cached
            res[name]["first"].append(timed(cli + ["-t", "bench:first", ctx], env))
        for _ in range(rounds):
            for name, (cli, env) in sides.items():
                res[name]["cold"].append(timed(cli + ["--no-cache", "-t", "bench:cold", ctx], env))
                res[name]["cached"].append(timed(cli + ["-t", "bench:cached", ctx], env))
        print(f"sample project: {image} base, 2 RUN, COPY of 200 files; median of {rounds} rounds")
        print(f"{'':26s} {'first':>9s} {'cold':>9s} {'cached':>9s}   (ratios: first, cold, cached)")
        for name in sides:
            r = res[name]
            print(f"{name:26s} " + " ".join(f"{statistics.median(r[k]):8.2f}s" for k in ("first", "cold", "cached")))
        for peer in ("dockerd (classic)", "dockerd (BuildKit)"):
            if peer not in res:
                continue
            ref = res[peer]
            for name in ("dockyard", "docker CLI -> dockyardd"):
                r = res[name]
                print(f"ratio {name} / {peer.split('(')[1][:-1]}:".ljust(45) + " ".join(
                    f"{statistics.median(r[k]) / statistics.median(ref[k]):6.2f}" for k in ("first", "cold", "cached")))
    finally:
        dk.stop()
        dy.cleanup()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
