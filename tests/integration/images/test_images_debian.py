"""The Debian base image from debootstrap (slow the first time: runs only when asked or cached)."""
from __future__ import annotations

import os
import shutil
import subprocess
import tarfile

import pytest

from dockyard.images import base
from dockyard.images.store import ImageStore

SUITE = "bookworm"
_cached = (base.debootstrap_dir(base.default_cache_dir(), SUITE).parent / f"{SUITE}-minbase.done").exists()

pytestmark = [
    pytest.mark.slow,
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="debootstrap and chroot need root"),
    pytest.mark.skipif(not (_cached or os.environ.get("DOCKYARD_TEST_DEBIAN") == "1"),
                       reason="no debootstrap cache under DOCKYARD_CACHE_DIR (default /var/cache/dockyard); "
                              "set DOCKYARD_TEST_DEBIAN=1 to build it (~1 min, needs the Debian mirror)"),
    pytest.mark.skipif(shutil.which("debootstrap") is None, reason="debootstrap is not installed"),
]


@pytest.mark.timeout(900)
def test_debian_image(store, tmp_path):
    img = base.make_debian(store, suite=SUITE)
    assert img.repo_tags == ["debian:bookworm"] and img.run_config["Cmd"] == ["bash"]
    assert img.size > 50 * 1024 * 1024
    with store.content.open(img.layers[0].digest) as f, tarfile.open(fileobj=f) as tf:
        names = set(tf.getnames())
        assert {"usr/bin/bash", "etc/debian_version", "usr/bin/apt-get"} <= names
        assert not [n for n in names if n.startswith("var/lib/apt/lists/") and n.endswith("_Packages")]
        tf.extractall(tmp_path / "root", filter="fully_trusted")
    out = subprocess.run([shutil.which("chroot") or "/usr/sbin/chroot", str(tmp_path / "root"),
                          "/usr/bin/bash", "-c", "cat /etc/debian_version; id -un"],
                         capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[0].startswith("12") and out.stdout.split("\n")[1] == "root"
    # from the cache, a second store gets the very same image
    other = ImageStore(tmp_path / "other")
    try:
        assert base.make_debian(other, suite=SUITE).id == img.id
    finally:
        other.close()
