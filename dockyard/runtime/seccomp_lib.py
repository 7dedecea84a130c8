"""A minimal ctypes binding to libseccomp.so.2, opened on first use.

pyseccomp (PyPI) wraps the same library with libseccomp's Python API, but importing it
costs ~18 ms here (ctypes.util.find_library runs ldconfig; typing); the runtime's start
is benchmarked against runc, so Dockyard binds the few functions it needs itself. The
numeric values below are libseccomp's ABI (seccomp.h), the same as pyseccomp's.
"""
from __future__ import annotations

import ctypes

# actions
KILL_PROCESS = 0x80000000
KILL_THREAD = 0x00000000
TRAP = 0x00030000
NOTIFY = 0x7FC00000
LOG = 0x7FFC0000
ALLOW = 0x7FFF0000


def ERRNO(n: int) -> int:  # noqa: N802 (libseccomp's name)
    return 0x00050000 | (n & 0xFFFF)


def TRACE(n: int) -> int:  # noqa: N802
    return 0x7FF00000 | (n & 0xFFFF)


# comparison operators (enum scmp_compare)
NE, LT, LE, EQ, GE, GT, MASKED_EQ = range(1, 8)

# filter attributes (enum scmp_filter_attr)
ATTR_ACT_DEFAULT = 1
ATTR_ACT_BADARCH = 2
ATTR_CTL_NNP = 3
ATTR_CTL_TSYNC = 4
ATTR_API_TSKIP = 5
ATTR_CTL_LOG = 6
ATTR_CTL_SSB = 7
ATTR_CTL_OPTIMIZE = 8
ATTR_API_SYSRAWRC = 9

NR_SCMP_ERROR = -1  # seccomp_syscall_resolve_name: unknown name


class ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int), ("datum_a", ctypes.c_uint64), ("datum_b", ctypes.c_uint64)]


class _Version(ctypes.Structure):
    _fields_ = [("major", ctypes.c_uint), ("minor", ctypes.c_uint), ("micro", ctypes.c_uint)]


_lib = None


def lib():
    """The libseccomp handle, with argument types declared (loaded once)."""
    global _lib
    if _lib is not None:
        return _lib
    try:
        h = ctypes.CDLL("libseccomp.so.2")
    except OSError:
        from ctypes.util import find_library
        path = find_library("seccomp")
        if path is None:
            raise OSError(2, "libseccomp.so.2 not found (install the libseccomp2 package)") from None
        h = ctypes.CDLL(path)
    vp, u32, i = ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int
    for name, args, res in (
        ("seccomp_init", [u32], vp),
        ("seccomp_release", [vp], None),
        ("seccomp_load", [vp], i),
        ("seccomp_attr_set", [vp, i, u32], i),
        ("seccomp_arch_add", [vp, u32], i),
        ("seccomp_arch_resolve_name", [ctypes.c_char_p], u32),
        ("seccomp_syscall_resolve_name", [ctypes.c_char_p], i),
        ("seccomp_rule_add_array", [vp, u32, i, ctypes.c_uint, ctypes.POINTER(ArgCmp)], i),
        ("seccomp_export_bpf", [vp, i], i),
        ("seccomp_export_pfc", [vp, i], i),
        ("seccomp_api_get", [], ctypes.c_uint),
        ("seccomp_version", [], ctypes.POINTER(_Version)),
    ):
        fn = getattr(h, name)
        fn.argtypes, fn.restype = args, res
    _lib = h
    return h


def version() -> tuple[int, int, int]:
    v = lib().seccomp_version().contents
    return v.major, v.minor, v.micro


# --- loading a ready BPF program without libseccomp (see seccomp.program) ---

SECCOMP_SET_MODE_FILTER = 1
SECCOMP_MODE_FILTER = 2
PR_SET_SECCOMP = 22
# seccomp(2) flags, by OCI name
FILTER_FLAGS = {
    "SECCOMP_FILTER_FLAG_TSYNC": 1,
    "SECCOMP_FILTER_FLAG_LOG": 2,
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW": 4,
}
# __NR_seccomp by machine (os.uname().machine)
SYS_SECCOMP = {"x86_64": 317, "aarch64": 277, "riscv64": 277, "ppc64le": 358, "ppc64": 358, "s390x": 348,
               "i686": 354, "i386": 354, "armv7l": 383, "loongarch64": 277}


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def load_bpf(program: bytes, flags: int = 0) -> None:
    """Install a classic-BPF seccomp program (struct sock_filter array) on the calling
    thread: seccomp(2) when ``flags`` are given, else prctl(PR_SET_SECCOMP)."""
    import os
    if not program or len(program) % 8 or len(program) // 8 > 0xFFFF:
        raise ValueError(f"seccomp program of {len(program)} bytes is not a BPF instruction array")
    buf = ctypes.create_string_buffer(program, len(program))
    prog = _SockFprog(len(program) // 8, ctypes.cast(buf, ctypes.c_void_p))
    libc = ctypes.CDLL(None, use_errno=True)
    if flags:
        nr = SYS_SECCOMP.get(os.uname().machine)
        if nr is None:
            raise OSError(38, f"seccomp flags need seccomp(2), whose number on {os.uname().machine} is unknown here")
        libc.syscall.restype = ctypes.c_long
        rc = libc.syscall(ctypes.c_long(nr), ctypes.c_uint(SECCOMP_SET_MODE_FILTER), ctypes.c_uint(flags),
                          ctypes.byref(prog))
    else:
        libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.POINTER(_SockFprog), ctypes.c_ulong, ctypes.c_ulong]
        rc = libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0)
    if rc < 0:
        e = ctypes.get_errno()
        # With TSYNC, a positive return names a thread that could not be synchronised.
        raise OSError(e, os.strerror(e))
    if rc > 0:
        raise OSError(16, f"seccomp TSYNC: thread {rc} could not be synchronised")
