"""The real kernel, through ctypes (Python 3.11 has no os.unshare / os.setns)."""
from __future__ import annotations

import ctypes
import os

from . import consts as C

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
_libc.unshare.argtypes = [ctypes.c_int]
_libc.setns.argtypes = [ctypes.c_int, ctypes.c_int]
_libc.sethostname.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
_libc.setdomainname.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
_libc.ioctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p]

_CAP_V3 = 0x20080522


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _b(s: str | None) -> bytes | None:
    return None if s is None else os.fsencode(s)


def _check(ret: int, what: str, path: str | None = None) -> int:
    if ret < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}", path)
    return ret


class LinuxSyscalls:
    def mount(self, source, target, fstype, flags=0, data=None):
        _check(_libc.mount(_b(source), _b(target), _b(fstype), flags, _b(data)), f"mount {source or fstype} on {target}", target)

    def umount2(self, target, flags=0):
        _check(_libc.umount2(_b(target), flags), f"umount {target}", target)

    def pivot_root(self, new_root, put_old):
        _check(_libc.syscall(C.SYS_PIVOT_ROOT, _b(new_root), _b(put_old)), f"pivot_root {new_root}", new_root)

    def unshare(self, flags):
        _check(_libc.unshare(flags), f"unshare({flags:#x})")

    def setns(self, fd, nstype=0):
        _check(_libc.setns(fd, nstype), "setns")

    def sethostname(self, name):
        b = name.encode()
        _check(_libc.sethostname(b, len(b)), f"sethostname {name!r}")

    def setdomainname(self, name):
        b = name.encode()
        _check(_libc.setdomainname(b, len(b)), f"setdomainname {name!r}")

    def prctl(self, option, arg2=0, arg3=0, arg4=0, arg5=0):
        return _check(_libc.prctl(option, arg2, arg3, arg4, arg5), f"prctl({option})")

    def capget(self):
        hdr = _CapHeader(_CAP_V3, 0)
        data = (_CapData * 2)()
        _check(_libc.syscall(C.SYS_CAPGET, ctypes.byref(hdr), ctypes.byref(data)), "capget")
        join = lambda f: getattr(data[0], f) | (getattr(data[1], f) << 32)  # noqa: E731
        return join("effective"), join("permitted"), join("inheritable")

    def capset(self, effective, permitted, inheritable):
        hdr = _CapHeader(_CAP_V3, 0)
        data = (_CapData * 2)()
        for i in range(2):
            data[i].effective = (effective >> (32 * i)) & 0xFFFFFFFF
            data[i].permitted = (permitted >> (32 * i)) & 0xFFFFFFFF
            data[i].inheritable = (inheritable >> (32 * i)) & 0xFFFFFFFF
        _check(_libc.syscall(C.SYS_CAPSET, ctypes.byref(hdr), ctypes.byref(data)), "capset")

    def ioctl_int(self, fd, request, arg=0):
        v = ctypes.c_int(arg)
        _check(_libc.ioctl(fd, request, ctypes.byref(v)), f"ioctl({request:#x})")
        return v.value

    def close_range(self, first, last=0xFFFFFFFF, flags=0):
        ret = _libc.syscall(C.SYS_CLOSE_RANGE, ctypes.c_uint(first), ctypes.c_uint(last), ctypes.c_uint(flags))
        if ret < 0:
            os.closerange(first, 65536)
