"""Mounts returned by snapshotters, and mounting them.

A ``Mount`` is what containerd calls mount.Mount: a type, a source and
fstab-style options, without a target. ``mount_all`` performs a list of them
on one target through a small kernel interface (``LibcKernel`` calls mount(2)
through ctypes; ``RecordingKernel`` records the calls for tests that run
without root).

overlayfs takes all of its options in one page: an option string longer than
that is rewritten relative to the layers' common directory and the mount is
made from a helper process whose working directory is that directory (the
trick containerd and Docker use for long lowerdir lists).
"""
from __future__ import annotations

import errno
import os
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Protocol, Sequence

MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_SYNCHRONOUS = 0x10
MS_REMOUNT = 0x20
MS_MANDLOCK = 0x40
MS_DIRSYNC = 0x80
MS_NOATIME = 0x400
MS_NODIRATIME = 0x800
MS_BIND = 0x1000
MS_REC = 0x4000
MS_UNBINDABLE = 1 << 17
MS_PRIVATE = 1 << 18
MS_SLAVE = 1 << 19
MS_SHARED = 1 << 20
MS_RELATIME = 1 << 21
MS_STRICTATIME = 1 << 24
MNT_DETACH = 0x2

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096

# option -> (clear, set)
_FLAGS = {
    "ro": (0, MS_RDONLY), "rw": (MS_RDONLY, 0),
    "nosuid": (0, MS_NOSUID), "suid": (MS_NOSUID, 0),
    "nodev": (0, MS_NODEV), "dev": (MS_NODEV, 0),
    "noexec": (0, MS_NOEXEC), "exec": (MS_NOEXEC, 0),
    "sync": (0, MS_SYNCHRONOUS), "async": (MS_SYNCHRONOUS, 0),
    "dirsync": (0, MS_DIRSYNC), "remount": (0, MS_REMOUNT),
    "mand": (0, MS_MANDLOCK), "nomand": (MS_MANDLOCK, 0),
    "noatime": (0, MS_NOATIME), "atime": (MS_NOATIME, 0),
    "nodiratime": (0, MS_NODIRATIME), "diratime": (MS_NODIRATIME, 0),
    "relatime": (0, MS_RELATIME), "norelatime": (MS_RELATIME, 0),
    "strictatime": (0, MS_STRICTATIME), "nostrictatime": (MS_STRICTATIME, 0),
    "bind": (0, MS_BIND), "rbind": (0, MS_BIND | MS_REC),
}
_PROPAGATION = {
    "private": MS_PRIVATE, "rprivate": MS_PRIVATE | MS_REC,
    "shared": MS_SHARED, "rshared": MS_SHARED | MS_REC,
    "slave": MS_SLAVE, "rslave": MS_SLAVE | MS_REC,
    "unbindable": MS_UNBINDABLE, "runbindable": MS_UNBINDABLE | MS_REC,
}
_REMOUNT_KEEP = MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME


class MountError(Exception):
    """A mount or unmount failed; the message names the target."""


@dataclass(frozen=True)
class Mount:
    type: str                      # "overlay", "bind", ...
    source: str
    options: tuple[str, ...] = field(default_factory=tuple)

    @property
    def readonly(self) -> bool:
        return "ro" in self.options

    def to_oci(self, destination: str) -> dict:
        """This mount as an OCI runtime-spec config.json ``mounts`` entry."""
        return {"destination": destination, "type": self.type, "source": self.source,
                "options": list(self.options)}


def parse_options(options: Sequence[str]) -> tuple[int, int, list[str]]:
    """(mount flags, propagation flags, file-system data options)."""
    flags = prop = 0
    data: list[str] = []
    for opt in options:
        if opt in _FLAGS:
            clear, set_ = _FLAGS[opt]
            flags = (flags & ~clear) | set_
        elif opt in _PROPAGATION:
            prop |= _PROPAGATION[opt]
        else:
            data.append(opt)
    return flags, prop, data


class Kernel(Protocol):
    def mount(self, source: str | None, target: str, fstype: str | None, flags: int,
              data: str | None, cwd: str | None = None) -> None: ...

    def umount(self, target: str, flags: int = 0) -> None: ...


_HELPER = (
    "import ctypes,os,sys\n"
    "l=ctypes.CDLL(None,use_errno=True)\n"
    "a=[os.fsencode(x) if x else None for x in sys.argv[1:6]]\n"
    "r=l.mount(a[0],a[1],a[2],ctypes.c_ulong(int(sys.argv[4])),a[4])\n"
    "sys.exit(ctypes.get_errno() if r else 0)\n"
)


class LibcKernel:
    """mount(2)/umount2(2) through ctypes."""

    def __init__(self):
        import ctypes

        self._ctypes = ctypes
        self._libc = ctypes.CDLL(None, use_errno=True)
        self._libc.mount.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_ulong, ctypes.c_char_p]
        self._libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]

    @staticmethod
    def _b(s: str | None) -> bytes | None:
        return os.fsencode(s) if s else None

    def mount(self, source, target, fstype, flags, data, cwd=None) -> None:
        if cwd is not None:  # relative overlay paths: mount from a helper living in cwd
            argv = [sys.executable, "-I", "-S", "-c", _HELPER, source or "", os.path.abspath(target),
                    fstype or "", str(flags), data or ""]
            rc = subprocess.run(argv, cwd=cwd, stdin=subprocess.DEVNULL).returncode
            if rc:
                raise OSError(rc, os.strerror(rc))
            return
        if self._libc.mount(self._b(source), self._b(target), self._b(fstype), flags, self._b(data)) != 0:
            e = self._ctypes.get_errno()
            raise OSError(e, os.strerror(e))

    def umount(self, target, flags=0) -> None:
        if self._libc.umount2(self._b(target), flags) != 0:
            e = self._ctypes.get_errno()
            raise OSError(e, os.strerror(e))


class RecordingKernel:
    """Records calls and keeps a stack of mounts per target (for tests without root)."""

    def __init__(self):
        self.calls: list[tuple] = []
        self.mounted: dict[str, int] = {}

    def mount(self, source, target, fstype, flags, data, cwd=None) -> None:
        self.calls.append(("mount", source, target, fstype, flags, data, cwd))
        if not flags & (MS_REMOUNT | MS_PRIVATE | MS_SHARED | MS_SLAVE | MS_UNBINDABLE):
            self.mounted[target] = self.mounted.get(target, 0) + 1

    def umount(self, target, flags=0) -> None:
        self.calls.append(("umount", target, flags))
        if not self.mounted.get(target):
            raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))
        self.mounted[target] -= 1


_default: LibcKernel | None = None


def _kernel(kernel: Kernel | None) -> Kernel:
    global _default
    if kernel is not None:
        return kernel
    if _default is None:
        _default = LibcKernel()
    return _default


def compact_overlay(data: list[str]) -> tuple[list[str], str]:
    """Rewrite lowerdir/upperdir/workdir relative to their common directory."""
    keys = ("lowerdir", "upperdir", "workdir")
    paths = []
    for opt in data:
        k, _, v = opt.partition("=")
        if k in keys:
            paths += v.split(":") if k == "lowerdir" else [v]
    common = os.path.commonpath(paths) if paths and all(p.startswith("/") for p in paths) else "/"
    if common in paths:
        common = os.path.dirname(common)
    out = []
    for opt in data:
        k, _, v = opt.partition("=")
        if k in keys:
            v = ":".join(os.path.relpath(p, common) for p in v.split(":"))
            opt = f"{k}={v}"
        out.append(opt)
    return out, common


def mount_one(m: Mount, target: str, kernel: Kernel | None = None) -> None:
    k = _kernel(kernel)
    flags, prop, data = parse_options(m.options)
    text, cwd = ",".join(data), None
    if m.type == "overlay" and len(text) >= PAGE_SIZE:
        data, cwd = compact_overlay(data)
        text = ",".join(data)
        if len(text) >= PAGE_SIZE:
            raise MountError(f"mount {target!r}: overlay options are {len(text)} bytes even relative to {cwd!r}")
    try:
        if flags & MS_BIND:
            k.mount(m.source, target, None, flags & ~MS_RDONLY, None)
            if flags & MS_RDONLY:  # a bind mount ignores MS_RDONLY until remounted
                k.mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | (flags & _REMOUNT_KEEP), None)
        else:
            k.mount(m.source, target, m.type, flags, text or None, cwd)
        if prop:
            k.mount(None, target, None, prop, None)
    except OSError as e:
        raise MountError(f"mount {m.type} {m.source!r} on {target!r}: {e.strerror or e}") from None


def mount_all(mounts: Sequence[Mount], target: str | os.PathLike, kernel: Kernel | None = None) -> None:
    """Mount each of mounts on target in order; on failure undo the ones made."""
    target = str(target)
    done = 0
    try:
        for m in mounts:
            mount_one(m, target, kernel)
            done += 1
    except BaseException:
        for _ in range(done):
            try:
                _kernel(kernel).umount(target, MNT_DETACH)
            except OSError:
                break
        raise


def unmount(target: str | os.PathLike, kernel: Kernel | None = None, detach: bool = False) -> None:
    """Unmount everything stacked on target; a target that is not a mount point is fine."""
    target = str(target)
    k = _kernel(kernel)
    for _ in range(256):
        try:
            k.umount(target, MNT_DETACH if detach else 0)
        except OSError as e:
            if e.errno in (errno.EINVAL, errno.ENOENT):
                return
            raise MountError(f"unmount {target!r}: {e.strerror or e}") from None
    raise MountError(f"unmount {target!r}: still mounted after 256 unmounts")


def _unescape(s: str) -> str:
    return s.encode().decode("unicode_escape").encode("latin-1").decode("utf-8", "surrogateescape") \
        if "\\" in s else s


def mountpoints(under: str | os.PathLike = "/") -> list[str]:
    """Mount points at or below a directory, from /proc/self/mountinfo."""
    under = os.path.realpath(under)
    out = []
    with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            mp = _unescape(line.split(" ")[4])
            if mp == under or mp.startswith(under.rstrip("/") + "/"):
                out.append(mp)
    return out
