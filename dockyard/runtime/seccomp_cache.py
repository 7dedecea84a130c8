"""Seccomp programs kept on disk: libseccomp's BPF generation is the costly part.

Generating Docker's default profile for x86_64+x86+x32 takes libseccomp ~7 ms at load
time on this machine; ``program`` keeps the generated classic-BPF program in a cache
directory keyed by a SHA-256 of the whole profile, and ``load_program`` installs it
with seccomp(2)/prctl directly (~0.3 ms), without libseccomp.
"""
from __future__ import annotations

import os

from .seccomp import SeccompError, compile

_CACHE_FORMAT = "dockyard-seccomp-bpf-1"


def _sha256(data: bytes) -> str:
    try:
        from _sha256 import sha256  # builtin: ~0.1 ms to import, hashlib (OpenSSL) ~2 ms
    except ImportError:  # pragma: no cover (other Python versions)
        from hashlib import sha256
    return sha256(data).hexdigest()


def program(seccomp, cache_dir: str | None = None) -> bytes:
    """The classic-BPF program of ``seccomp`` (``seccomp.compile`` then export), kept in
    ``cache_dir`` when given, keyed by a SHA-256 of the whole profile, the libseccomp
    version and the machine. ``cache_dir`` must be writable only by the runtime (a
    program found there is trusted). A cache that cannot be written is not an error."""
    if cache_dir is None:
        f = compile(seccomp)
        try:
            return f.export_bpf()
        finally:
            f.close()
    from . import seccomp_lib

    key = repr((_CACHE_FORMAT, seccomp_lib.version(), os.uname().machine, seccomp))
    path = os.path.join(cache_dir, _sha256(key.encode()) + ".bpf")
    try:
        with open(path, "rb") as fh:
            data = fh.read()
        if data and len(data) % 8 == 0:
            return data
    except OSError:
        pass
    f = compile(seccomp)
    try:
        data = f.export_bpf()
    finally:
        f.close()
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(cache_dir, mode=0o700, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
        os.rename(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
    return data


def load_program(bpf: bytes, flags=()) -> None:
    """Install a program from ``program`` on the calling thread (without libseccomp);
    ``flags`` are the profile's OCI flags. Same rules as ``seccomp.load``: no_new_privs
    or CAP_SYS_ADMIN first, and nothing but execve after it."""
    from . import seccomp_lib
    bits = 0
    for f in flags:
        if f not in seccomp_lib.FILTER_FLAGS:
            raise SeccompError(f'linux.seccomp.flags: unknown seccomp flag "{f}"')
        bits |= seccomp_lib.FILTER_FLAGS[f]
    try:
        seccomp_lib.load_bpf(bpf, bits)
    except OSError as e:
        hint = " (set no_new_privs first, or load while holding CAP_SYS_ADMIN)" if e.errno == 13 else ""
        raise OSError(e.errno, f"loading the seccomp filter: {e.strerror}{hint}") from None


class Prepared:
    """A profile turned into its BPF program by the parent (cached on disk), ready for the container
    process to install with ``load()`` — no libseccomp work left for after pivot_root."""

    __slots__ = ("bpf", "flags")

    def __init__(self, bpf: bytes, flags=()):
        self.bpf, self.flags = bpf, tuple(flags)

    def load(self) -> None:
        load_program(self.bpf, self.flags)


def prepare(seccomp, cache_dir: str | None) -> Prepared:
    from . import seccomp_lib  # noqa: F401  (load_program needs it after pivot_root, where nothing can be imported)
    return Prepared(program(seccomp, cache_dir), getattr(seccomp, "flags", ()) or ())
