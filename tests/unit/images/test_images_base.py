"""The offline busybox base image: contents and a stable digest."""
from __future__ import annotations

import os
import subprocess
import tarfile

import pytest

from dockyard.images import base
from dockyard.images.store import ImageStore

BUSYBOX = "/bin/busybox"
pytestmark = pytest.mark.skipif(not os.path.isfile(BUSYBOX), reason="busybox-static is not installed")


def test_busybox_image_is_deterministic(tmp_path):
    a = ImageStore(tmp_path / "a")
    b = ImageStore(tmp_path / "b")
    try:
        one = base.make_busybox(a)
        two = base.make_busybox(b)
        assert one.id == two.id and one.manifest.digest == two.manifest.digest
        assert base.make_busybox(a).id == one.id  # re-running on the same store changes nothing
        assert [i.id for i in a.images()] == [one.id]
    finally:
        a.close()
        b.close()


def test_busybox_rootfs_contents(store):
    img = base.make_busybox(store, tag="bb:test")
    assert img.repo_tags == ["bb:test"]
    assert img.run_config == {"Env": [base.DEFAULT_PATH], "Cmd": ["sh"]}
    applets = set(subprocess.run([BUSYBOX, "--list"], capture_output=True, text=True).stdout.split())
    with store.content.open(img.layers[0].digest) as f, tarfile.open(fileobj=f) as tf:
        m = {x.name: x for x in tf.getmembers()}
        passwd = tf.extractfile("etc/passwd").read().decode()
        group = tf.extractfile("etc/group").read().decode()
    assert m["bin/busybox"].isreg() and m["bin/busybox"].mode == 0o755
    assert m["bin/busybox"].size == os.path.getsize(BUSYBOX)
    links = {n[4:] for n, x in m.items() if n.startswith("bin/") and x.issym()}
    assert links == applets - {"busybox"} and "sh" in links
    assert all(m[f"bin/{a}"].linkname == "busybox" for a in links)
    assert m["tmp"].isdir() and m["tmp"].mode == 0o1777 and m["root"].mode == 0o700
    for d in ("proc", "sys", "dev", "home", "var", "etc", "root"):
        assert m[d].isdir()
    assert "etc/hostname" in m
    assert passwd.startswith("root:x:0:0:") and "\nnobody:x:65534:65534:" in passwd
    assert group.startswith("root:x:0:") and "\nnobody:x:65534:" in group
    assert all(x.uid == 0 and x.gid == 0 for x in m.values())
    assert img.size == sum(x.size for x in m.values() if x.isreg()) + sum(len(x.linkname) for x in m.values() if x.issym())
