"""Layers of build steps: writable snapshots mounted for a step, read-only views of images, and a
step's changes turned into a layer blob.

A step's snapshot is prepared on its parent image's top chain ID. When the step is done, its
changes are written as a layer tar (sorted entries, file times clamped to ``SOURCE_DATE_EPOCH`` when
set) into the content store, and the snapshot itself becomes the new layer's chain snapshot, so the
next step starts from it without unpacking the tar again. (The overlay snapshotter turns off the
overlay features that would make an upper directory depend on others, so an upper directory is a
self-contained layer.)

The runtime makes mount points (``/proc``, ``/etc/hosts``, a RUN mount's target…) in the rootfs when
the image lacks them; such empty stubs are no change the user made, and are left out of the layer,
as dockerd's init layer keeps them out of its diffs.
"""
from __future__ import annotations

import os
import shutil
import stat
import tempfile
from typing import Iterable

from ...images.compose import LayerBlob, store_layer_tar
from ...images.layerio import chain_ids
from ...snapshots import fsops
from ...snapshots import mount as snapmount
from ...snapshots.diff import write_diff
from ...snapshots.snapshotter import AlreadyExists, Layers, NotFound, SnapshotError

RUNTIME_STUBS = ("/proc", "/sys", "/dev", "/etc/hosts", "/etc/hostname", "/etc/resolv.conf", "/etc/mtab",
                 "/.dockerenv")
SNAPSHOT_PREFIX = "build-"


def new_key() -> str:
    return f"{SNAPSHOT_PREFIX}{os.getpid()}-{os.urandom(8).hex()}"


class Workspace:
    """A writable snapshot on ``parent_chain`` (None: empty), mounted at ``mountpoint``."""

    def __init__(self, snapshotter, parent_chain: str | None, mountpoint: str):
        self.snapshotter = snapshotter
        self.key = new_key()
        self.rootfs = mountpoint
        self.mounted = False
        mounts = snapshotter.prepare(self.key, parent_chain)
        try:
            os.makedirs(mountpoint, mode=0o700, exist_ok=True)
            snapmount.mount_all(mounts, mountpoint)
            self.mounted = True
        except BaseException:
            self.discard()
            raise

    def unmount(self) -> None:
        if self.mounted:
            snapmount.unmount(self.rootfs)
            self.mounted = False
        try:
            os.rmdir(self.rootfs)
        except OSError:
            pass

    def discard(self) -> None:
        """Unmount and remove the snapshot (unless it was adopted as a layer)."""
        self.unmount()
        try:
            self.snapshotter.remove(self.key)
        except NotFound:
            pass


class View:
    """An image's files, read-only, at ``root`` (an empty directory for an image without layers)."""

    def __init__(self, snapshotter, chain: str | None, mountpoint: str):
        self.snapshotter = snapshotter
        self.root = mountpoint
        self.key = None
        self.mounted = False
        os.makedirs(mountpoint, mode=0o700, exist_ok=True)
        if chain is None:
            return
        self.key = new_key()
        mounts = snapshotter.view(self.key, chain)
        try:
            snapmount.mount_all(mounts, mountpoint)
            self.mounted = True
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self.mounted:
            snapmount.unmount(self.root)
            self.mounted = False
        if self.key is not None:
            try:
                self.snapshotter.remove(self.key)
            except NotFound:
                pass
            self.key = None
        try:
            os.rmdir(self.root)
        except OSError:
            pass


# -- stubs --------------------------------------------------------------------------------------------

def _lower_stat(layers: Layers, comps: list[str]) -> os.stat_result | None:
    if not layers.lowers:
        return None
    if layers.whiteouts == "overlay":
        found = fsops.overlay_lookup(list(layers.lowers), comps)
        return found[0] if found else None
    try:
        return os.lstat(os.path.join(layers.lowers[0], *comps))
    except (FileNotFoundError, NotADirectoryError):
        return None


def remove_stubs(layers: Layers, paths: Iterable[str]) -> list[str]:
    """Remove empty files and directories at ``paths`` that the step's snapshot has and its parent
    has not (mount points the runtime made), and then parent directories they alone changed.
    Returns the paths removed."""
    removed = []
    wanted = {"/".join(c for c in p.split("/") if c not in ("", ".")) for p in paths}
    for rel in sorted((w for w in wanted if w and ".." not in w.split("/")), key=lambda r: -r.count("/")):
        comps = rel.split("/")
        path = os.path.join(layers.upper, *comps)
        try:
            st = os.lstat(path)
        except (FileNotFoundError, NotADirectoryError):
            continue
        if _lower_stat(layers, comps) is not None:
            continue
        try:
            if stat.S_ISDIR(st.st_mode) and not os.listdir(path):
                os.rmdir(path)
            elif stat.S_ISREG(st.st_mode) and st.st_size == 0:
                os.unlink(path)
            else:
                continue
        except OSError:
            continue
        removed.append("/" + rel)
        _drop_unchanged_parents(layers, comps[:-1])
    return removed


def _drop_unchanged_parents(layers: Layers, comps: list[str]) -> None:
    """A directory a removed stub leaves empty records no change when the parent image lacks it
    (it was made for the stub) or, in an overlay upper directory, has it with the same mode and
    owner: remove it, and go up."""
    while comps:
        path = os.path.join(layers.upper, *comps)
        try:
            if os.listdir(path) or fsops.is_opaque(path):
                return
            st = os.lstat(path)
        except OSError:
            return
        low = _lower_stat(layers, comps)
        if low is not None and layers.whiteouts != "overlay":
            return   # a full copy (native snapshotter): removing it would delete it
        if low is not None and (not stat.S_ISDIR(low.st_mode) or
                                (st.st_mode, st.st_uid, st.st_gid) != (low.st_mode, low.st_uid, low.st_gid)):
            return
        try:
            os.rmdir(path)
        except OSError:
            return
        comps = comps[:-1]


def clamp_times(upper: str, epoch: int) -> None:
    """File times in ``upper`` later than ``epoch`` become ``epoch`` (what the layer tar says)."""
    limit = epoch * 10**9
    for dirpath, dirnames, filenames in os.walk(upper, topdown=False):
        for name in filenames + dirnames:
            p = os.path.join(dirpath, name)
            try:
                st = os.lstat(p)
                if st.st_mtime_ns > limit:
                    os.utime(p, ns=(limit, limit), follow_symlinks=False)
            except OSError:
                continue


# -- commit ---------------------------------------------------------------------------------------------

def diff_to_blob(snapshotter, content, key: str, tmpdir: str, epoch: int | None,
                 stubs: Iterable[str] = RUNTIME_STUBS) -> LayerBlob:
    """The changes of snapshot ``key`` as a layer blob in ``content`` (stubs removed first)."""
    layers = snapshotter.layers(key)
    remove_stubs(layers, stubs)
    if epoch is not None and layers.whiteouts == "overlay":
        clamp_times(layers.upper, epoch)
    with tempfile.TemporaryFile(dir=tmpdir) as tmp:
        write_diff(layers, tmp, clamp_mtime=epoch)
        tmp.seek(0)
        return store_layer_tar(content, tmp, name="build step", compression="none")


def adopt(snapshotter, key: str, diff_ids: list[str]) -> None:
    """Make the step's snapshot the chain snapshot of its new layer (the last of ``diff_ids``);
    if that chain exists already (the same layer was made before), drop the step's snapshot."""
    chain = chain_ids(diff_ids)[-1]
    try:
        snapshotter.commit(chain, key)
    except AlreadyExists:
        snapshotter.remove(key)


def cleanup_stale(snapshotter, work_root: str) -> None:
    """After a daemon crash: unmount and remove what builds left (their work directories and
    snapshots)."""
    if os.path.isdir(work_root):
        for m in sorted(snapmount.mountpoints(work_root), key=len, reverse=True):
            try:
                snapmount.unmount(m, detach=True)
            except snapmount.MountError:
                pass
        for name in os.listdir(work_root):
            shutil.rmtree(os.path.join(work_root, name), ignore_errors=True)
    try:
        infos = [i for i in snapshotter.walk() if i.name.startswith(SNAPSHOT_PREFIX)]
    except SnapshotError:
        return
    for info in infos:
        try:
            snapshotter.remove(info.name)
        except SnapshotError:
            pass
