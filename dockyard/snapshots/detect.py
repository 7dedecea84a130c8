"""Choose a snapshotter: overlayfs where it really works, else the copying one."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from .mount import Mount, MountError, mount_all, unmount
from .native import NativeSnapshotter
from .overlay import OverlaySnapshotter, default_mount_options
from .snapshotter import SnapshotError, Snapshotter

DRIVERS = ("overlay", "native")


def supports_overlay(root: str | os.PathLike) -> bool:
    """Mount a tiny two-layer overlay in a temporary directory under root
    (so on root's file system) and check it merges and copies up."""
    if os.geteuid() != 0:
        return False
    Path(root).mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".overlay-check-", dir=root))
    merged = tmp / "merged"
    mounted = False
    try:
        for d in ("l1", "l2", "upper", "work", "merged"):
            (tmp / d).mkdir()
        (tmp / "l2" / "below").write_text("x")
        opts = default_mount_options() + (f"workdir={tmp / 'work'}", f"upperdir={tmp / 'upper'}",
                                          f"lowerdir={tmp / 'l1'}:{tmp / 'l2'}")
        mount_all([Mount("overlay", "overlay", opts)], merged)
        mounted = True
        (merged / "new").write_text("y")
        return (merged / "below").read_text() == "x" and (tmp / "upper" / "new").exists()
    except (OSError, MountError):
        return False
    finally:
        if mounted:
            try:
                unmount(merged, detach=True)
            except MountError:
                pass
        shutil.rmtree(tmp, ignore_errors=True)


def open_snapshotter(root: str | os.PathLike, driver: str = "auto") -> Snapshotter:
    """The snapshotter for ``driver`` ("overlay", "native" or "auto") at root/<driver>."""
    root = Path(root)
    if driver == "auto":
        driver = "overlay" if supports_overlay(root) else "native"
    if driver == "overlay":
        return OverlaySnapshotter(root / "overlay")
    if driver == "native":
        return NativeSnapshotter(root / "native")
    raise SnapshotError(f"unknown snapshotter {driver!r} (known: {', '.join(DRIVERS)})")
