"""Compatibility with skopeo and umoci: our archives and layouts are read by them, theirs by us."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile

import pytest

from dockyard.images import archive, load, ocilayout
from dockyard.images.store import ImageStore

needs_skopeo = pytest.mark.skipif(shutil.which("skopeo") is None, reason="skopeo is not installed")
needs_umoci = pytest.mark.skipif(shutil.which("umoci") is None, reason="umoci is not installed")


def run(*cmd, **kw) -> str:
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120, **kw)
    assert p.returncode == 0, f"{' '.join(cmd)} failed: {p.stderr.strip()}"
    return p.stdout


def _save(store, tmp_path, fmt="docker", names=("busybox",)) -> str:
    path = str(tmp_path / f"save-{fmt}.tar")
    with open(path, "wb") as f:
        archive.save(store, list(names), f, format=fmt)
    return path


@needs_skopeo
@pytest.mark.parametrize("fmt", ["docker", "oci"])
def test_skopeo_reads_our_save(busybox_store, tmp_path, fmt):
    img = busybox_store.get("busybox")
    tar = _save(busybox_store, tmp_path, fmt)
    info = json.loads(run("skopeo", "inspect", f"docker-archive:{tar}"))
    assert info["Layers"] == img.diff_ids and info["Os"] == "linux"
    run("skopeo", "copy", "--quiet", f"docker-archive:{tar}", f"oci:{tmp_path}/layout:latest")
    config = json.loads(run("skopeo", "inspect", "--config", f"oci:{tmp_path}/layout:latest"))
    assert config["rootfs"]["diff_ids"] == img.diff_ids  # skopeo compressed the layers; the content is ours
    if fmt == "oci":  # a Docker 25 style archive is an OCI layout too
        raw = json.loads(run("skopeo", "inspect", "--raw", f"oci-archive:{tar}"))
        assert raw["config"]["digest"] == img.id


@needs_skopeo
def test_we_load_what_skopeo_writes(busybox_store, tmp_path):
    img = busybox_store.get("busybox")
    tar = _save(busybox_store, tmp_path)
    run("skopeo", "copy", "--quiet", f"docker-archive:{tar}", f"oci:{tmp_path}/layout:latest")
    run("skopeo", "copy", "--quiet", f"oci:{tmp_path}/layout:latest", f"docker-archive:{tmp_path}/back.tar:name:tag")
    run("skopeo", "copy", "--quiet", f"oci:{tmp_path}/layout:latest", f"oci-archive:{tmp_path}/back-oci.tar:x/y:z")
    fresh = ImageStore(tmp_path / "fresh")
    try:
        assert load.load(fresh, str(tmp_path / "back.tar")) == ["Loaded image: name:tag"]
        assert fresh.get("name:tag").diff_ids == img.diff_ids
        assert load.load(fresh, str(tmp_path / "back-oci.tar")) == ["Loaded image: x/y:z"]
        assert fresh.get("x/y:z").diff_ids == img.diff_ids
        assert load.load(fresh, str(tmp_path / "layout"), tag="from-layout:1") == ["Loaded image: from-layout:1"]
    finally:
        fresh.close()


@needs_skopeo
@needs_umoci
def test_skopeo_and_umoci_read_our_oci_layout(busybox_store, tmp_path):
    img = busybox_store.get("busybox")
    layout = tmp_path / "layout"
    desc = ocilayout.save_oci_layout(busybox_store, "busybox", layout)
    info = json.loads(run("skopeo", "inspect", f"oci:{layout}:latest"))
    assert info["Digest"] == desc["digest"] and info["Layers"] == img.diff_ids
    bundle = tmp_path / "bundle"
    cmd = ["umoci", "unpack"] + ([] if os.geteuid() == 0 else ["--rootless"])
    run(*cmd, "--image", f"{layout}:latest", str(bundle))
    assert (bundle / "rootfs" / "bin" / "busybox").is_file()
    assert os.readlink(bundle / "rootfs" / "bin" / "sh") == "busybox"
    spec = json.loads((bundle / "config.json").read_text())
    assert spec["process"]["args"] == ["sh"]
    # a second image in the same layout keeps the first
    busybox_store.tag("busybox", "busybox:second")
    ocilayout.save_oci_layout(busybox_store, "busybox:second", layout)
    names = [d["annotations"]["org.opencontainers.image.ref.name"]
             for d in json.loads((layout / "index.json").read_text())["manifests"]]
    assert names == ["latest", "second"]
    run("umoci", "ls", "--layout", str(layout))


@pytest.mark.root
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root (chroot)")
def test_busybox_rootfs_runs(busybox_store, tmp_path):
    img = busybox_store.get("busybox")
    root = tmp_path / "rootfs"
    with busybox_store.content.open(img.layers[0].digest) as f, tarfile.open(fileobj=f) as tf:
        tf.extractall(root, filter="fully_trusted")
    out = run(shutil.which("chroot") or "/usr/sbin/chroot", str(root), "/bin/sh", "-c", "echo hello from $(id -un); ls /bin | wc -l; cat /etc/hostname",
              env={"PATH": "/bin"})
    lines = out.split("\n")
    assert lines[0] == "hello from root"
    assert int(lines[1]) > 200
