"""Fixtures for the snapshot integration tests: both snapshotters, and a
mount helper that always unmounts (and checks /proc/self/mountinfo is clean)
even when a test fails."""
import os
import sys

import pytest

# The layer-building helpers are shared with the unit tests.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "unit", "snapshots"))

from dockyard.snapshots.mount import mount_all, mountpoints, unmount  # noqa: E402
from dockyard.snapshots.native import NativeSnapshotter  # noqa: E402
from dockyard.snapshots.overlay import OverlaySnapshotter  # noqa: E402

ROOT = os.geteuid() == 0


@pytest.fixture(params=["overlay", "native"])
def sn(request, tmp_path):
    """Each snapshotter in turn (the conformance suite runs against both)."""
    if request.param == "overlay":
        if not ROOT:
            pytest.skip("the overlay snapshotter needs root (whiteout devices, trusted xattrs)")
        return OverlaySnapshotter(tmp_path / "overlay")
    return NativeSnapshotter(tmp_path / "native")


class Mounter:
    def __init__(self, base):
        self.base = base
        self.targets = []

    def __call__(self, mounts, name):
        target = self.base / name
        target.mkdir(parents=True)
        self.targets.append(target)
        mount_all(mounts, target)
        return target

    def release(self, target):
        unmount(target)
        self.targets.remove(target)


@pytest.fixture
def mnt(tmp_path):
    """mnt(mounts, name) mounts under tmp_path/mnt/name; all undone at teardown."""
    m = Mounter(tmp_path / "mnt")
    try:
        yield m
    finally:
        for t in reversed(m.targets):
            unmount(t, detach=True)
        leftover = mountpoints(tmp_path)
        for t in reversed(leftover):
            unmount(t, detach=True)
        assert leftover == [], f"mounts left behind: {leftover}"
