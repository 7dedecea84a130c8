"""Native (copying) snapshotter: the fallback where overlayfs is unavailable.

Preparing a snapshot copies its parent's whole tree (owners, modes, xattrs,
devices, hard links and times kept); mounts are bind mounts. A view binds the
parent read-only without copying (committed snapshots never change).
"""
from __future__ import annotations

import os
from pathlib import Path

from .copytree import CopyError, copy_tree
from .mount import Mount
from .snapshotter import Kind, Layers, SnapshotError, Snapshotter


class NativeSnapshotter(Snapshotter):
    driver = "native"

    def _populate(self, new: Path, kind: Kind, parents: list[str]) -> None:
        if kind == Kind.ACTIVE and parents:
            try:
                copy_tree(parents[0], new / "fs")
            except CopyError as e:
                raise SnapshotError(f"copying the parent snapshot: {e}") from None
        else:
            (new / "fs").mkdir()
            os.chmod(new / "fs", 0o755)

    def _mounts(self, kind: Kind, own: Path, parents: list[str]) -> list[Mount]:
        if kind == Kind.ACTIVE:
            return [Mount("bind", str(own / "fs"), ("rbind", "rw"))]
        return [Mount("bind", parents[0] if parents else str(own / "fs"), ("rbind", "ro"))]

    def _layers(self, own: Path, parents: list[str]) -> Layers:
        return Layers(upper=str(own / "fs"), lowers=tuple(parents[:1]), whiteouts="delete")
