"""bpf(2) through ctypes: load a cgroup device program and attach it to a
cgroup v2 directory, replacing the programs attached there before (so the
cgroup is never left without a filter). x86_64 and aarch64."""
from __future__ import annotations

import ctypes
import os
import platform
import struct

from .errors import CgroupError

_SYS_BPF = {"x86_64": 321, "aarch64": 280}
BPF_PROG_LOAD, BPF_PROG_ATTACH, BPF_PROG_DETACH = 5, 8, 9
BPF_PROG_GET_FD_BY_ID, BPF_PROG_QUERY = 13, 16
BPF_PROG_TYPE_CGROUP_DEVICE = 15
BPF_CGROUP_DEVICE = 6
BPF_F_ALLOW_MULTI = 2

_libc = None


def _bpf(cmd: int, attr: ctypes.Array) -> int:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
        _libc.syscall.restype = ctypes.c_long
    nr = _SYS_BPF.get(platform.machine())
    if nr is None:
        raise OSError(38, f"bpf(2) number unknown for {platform.machine()}")
    ret = _libc.syscall(ctypes.c_long(nr), ctypes.c_long(cmd), attr, ctypes.c_uint(len(attr)))
    if ret < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return ret


def load_device_program(code: bytes, license: str = "Apache") -> int:
    """BPF_PROG_LOAD; returns the program fd. Verifier output is in the error."""
    insns = ctypes.create_string_buffer(code, len(code))
    lic = ctypes.create_string_buffer(license.encode())

    def attempt(log_level, log):
        attr = ctypes.create_string_buffer(72)
        struct.pack_into("<IIQQIIQ", attr, 0, BPF_PROG_TYPE_CGROUP_DEVICE, len(code) // 8,
                         ctypes.addressof(insns), ctypes.addressof(lic), log_level,
                         len(log) if log else 0, ctypes.addressof(log) if log else 0)
        return _bpf(BPF_PROG_LOAD, attr)

    try:
        return attempt(0, None)
    except OSError as e:
        log = ctypes.create_string_buffer(65536)
        try:
            attempt(1, log)
        except OSError:
            pass
        detail = log.value.decode(errors="replace").strip().splitlines()[-3:]
        raise CgroupError(f"cgroup devices: loading the device filter: {e.strerror}"
                          + (f" ({' | '.join(detail)})" if detail else ""), e.errno) from None


def _query(cg_fd: int) -> list[int]:
    ids = (ctypes.c_uint32 * 64)()
    attr = ctypes.create_string_buffer(40)
    struct.pack_into("<IIIIQI", attr, 0, cg_fd, BPF_CGROUP_DEVICE, 0, 0, ctypes.addressof(ids), 64)
    _bpf(BPF_PROG_QUERY, attr)
    count = struct.unpack_from("<I", attr, 24)[0]
    return list(ids[:count])


def attached_programs(cgroup_dir: str) -> list[int]:
    """Ids of the device programs attached to a cgroup v2 directory."""
    fd = os.open(cgroup_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        return _query(fd)
    finally:
        os.close(fd)


def install_device_filter(cgroup_dir: str, code: bytes) -> None:
    """Load ``code`` and attach it to ``cgroup_dir``, then detach the old ones."""
    prog = load_device_program(code)
    try:
        cg = os.open(cgroup_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as e:
        os.close(prog)
        raise CgroupError(f"cgroup devices: opening {cgroup_dir}: {e.strerror}", e.errno) from None
    try:
        try:
            old = _query(cg)
        except OSError:
            old = []
        attr = ctypes.create_string_buffer(20)
        struct.pack_into("<IIIII", attr, 0, cg, prog, BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI, 0)
        try:
            _bpf(BPF_PROG_ATTACH, attr)
        except OSError as e:
            raise CgroupError(f"cgroup devices: attaching the device filter to {cgroup_dir}: {e.strerror}",
                              e.errno) from None
        for pid in old:
            _detach_id(cg, pid, cgroup_dir)
    finally:
        os.close(cg)
        os.close(prog)


def _detach_id(cg: int, prog_id: int, cgroup_dir: str) -> None:
    attr = ctypes.create_string_buffer(12)
    struct.pack_into("<III", attr, 0, prog_id, 0, 0)
    try:
        pfd = _bpf(BPF_PROG_GET_FD_BY_ID, attr)
    except OSError as e:
        if e.errno == 2:  # already gone
            return
        raise CgroupError(f"cgroup devices: finding old filter {prog_id} on {cgroup_dir}: {e.strerror}",
                          e.errno) from None
    try:
        attr = ctypes.create_string_buffer(20)
        struct.pack_into("<IIIII", attr, 0, cg, pfd, BPF_CGROUP_DEVICE, 0, 0)
        try:
            _bpf(BPF_PROG_DETACH, attr)
        except OSError as e:
            if e.errno != 2:
                raise CgroupError(f"cgroup devices: detaching old filter {prog_id} from {cgroup_dir}: "
                                  f"{e.strerror}", e.errno) from None
    finally:
        os.close(pfd)
