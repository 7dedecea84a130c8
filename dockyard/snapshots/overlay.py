"""overlayfs snapshotter: every committed snapshot is one layer directory.

An active snapshot is an upperdir (``fs``) and a workdir over its parents'
layers; with no parent it is a plain bind mount of ``fs``. A view is a
read-only overlay of its parents (a read-only bind mount when there is a
single parent). Layers are applied straight into ``fs`` with overlay
whiteouts, so no mount is needed to unpack an image.

Mounts disable overlay features that would make an upperdir depend on other
layers (index, redirect_dir, metacopy), so an upperdir is always a
self-contained layer that can be diffed by walking it.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

from .mount import Mount
from .snapshotter import Kind, Layers, SnapshotError, Snapshotter

_PARAMS = "/sys/module/overlay/parameters"


def default_mount_options() -> tuple[str, ...]:
    """Overlay options that keep each upperdir self-contained, where the kernel knows them."""
    out = []
    for name in ("index", "redirect_dir", "metacopy"):
        if os.path.exists(os.path.join(_PARAMS, name)):
            out.append(f"{name}=off")
    return tuple(out)


class OverlaySnapshotter(Snapshotter):
    driver = "overlay"

    def __init__(self, root: str | os.PathLike, mount_options: Sequence[str] | None = None):
        if any(c in os.path.abspath(root) for c in ":,"):
            raise SnapshotError(f"overlay snapshotter root {str(root)!r} must not contain ':' or ','")
        self.mount_options = tuple(default_mount_options() if mount_options is None else mount_options)
        super().__init__(root)

    def _populate(self, new: Path, kind: Kind, parents: list[str]) -> None:
        (new / "fs").mkdir()
        os.chmod(new / "fs", 0o755)
        if kind == Kind.ACTIVE:
            (new / "work").mkdir(mode=0o700)

    def _mounts(self, kind: Kind, own: Path, parents: list[str]) -> list[Mount]:
        fs = str(own / "fs")
        if kind == Kind.ACTIVE:
            if not parents:
                return [Mount("bind", fs, ("rbind", "rw"))]
            return [Mount("overlay", "overlay", self.mount_options + (
                f"workdir={own / 'work'}", f"upperdir={fs}", f"lowerdir={':'.join(parents)}"))]
        if not parents:
            return [Mount("bind", fs, ("rbind", "ro"))]
        if len(parents) == 1:
            return [Mount("bind", parents[0], ("rbind", "ro"))]
        return [Mount("overlay", "overlay", ("ro",) + self.mount_options + (f"lowerdir={':'.join(parents)}",))]

    def _layers(self, own: Path, parents: list[str]) -> Layers:
        return Layers(upper=str(own / "fs"), lowers=tuple(parents), whiteouts="overlay")
