"""The mounts each snapshotter hands out (their shape; mounting them is tested as root)."""
from __future__ import annotations

import pytest

from dockyard.snapshots.mount import Mount
from dockyard.snapshots.native import NativeSnapshotter
from dockyard.snapshots.overlay import OverlaySnapshotter
from dockyard.snapshots.snapshotter import SnapshotError


def layer(sn, name, parent=None):
    sn.prepare(name + "-k", parent)
    sn.commit(name, name + "-k")
    return str(sn.root / "snapshots" / str(len(list(sn.walk()))) / "fs")


def test_overlay_mounts(tmp_path):
    sn = OverlaySnapshotter(tmp_path / "ov", mount_options=("index=off",))
    s = str(sn.root / "snapshots")
    assert sn.prepare("empty") == [Mount("bind", f"{s}/1/fs", ("rbind", "rw"))]
    l1 = layer(sn, "l1")
    l2 = layer(sn, "l2", "l1")
    assert sn.prepare("ctr", "l2") == [Mount("overlay", "overlay", (
        "index=off", f"workdir={s}/4/work", f"upperdir={s}/4/fs", f"lowerdir={l2}:{l1}"))]
    assert sn.view("v1", "l1") == [Mount("bind", l1, ("rbind", "ro"))]
    assert sn.view("v2", "l2") == [Mount("overlay", "overlay", ("ro", "index=off", f"lowerdir={l2}:{l1}"))]
    assert sn.view("v0") == [Mount("bind", f"{s}/7/fs", ("rbind", "ro"))]
    layers = sn.layers("ctr")
    assert (layers.upper, layers.lowers, layers.whiteouts) == (f"{s}/4/fs", (l2, l1), "overlay")


def test_native_mounts(tmp_path):
    sn = NativeSnapshotter(tmp_path / "nat")
    s = str(sn.root / "snapshots")
    l1 = layer(sn, "l1")
    l2 = layer(sn, "l2", "l1")
    assert sn.prepare("ctr", "l2") == [Mount("bind", f"{s}/3/fs", ("rbind", "rw"))]
    assert sn.view("v", "l2") == [Mount("bind", l2, ("rbind", "ro"))]
    layers = sn.layers("ctr")
    assert (layers.upper, layers.lowers, layers.whiteouts) == (f"{s}/3/fs", (l2,), "delete")
    assert sn.layers("l1").lowers == () and l1


def test_overlay_root_must_fit_in_mount_options(tmp_path):
    with pytest.raises(SnapshotError, match="must not contain ':' or ','"):
        OverlaySnapshotter(tmp_path / "a:b")
