"""Running the OCI runtime (dockyard-runtime or runc) the way containerd's shim does.

    RUNTIME [runtime_args] --root R [--log L --log-format json] VERB ...

Children are started with posix_spawn (no fork of the shim's memory) and reaped by the Reaper.
On failure the error is the runtime's last error line in its json log, else the last line it
printed on stderr.
"""
from __future__ import annotations

import asyncio
import json
import os
import signal

from .protocol import one_line

DEFAULT_TIMEOUT = 60.0
_SIGDEF = (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD)


class Result:
    __slots__ = ("rc", "stdout", "error")

    def __init__(self, rc: int, stdout: bytes, error: str):
        self.rc, self.stdout, self.error = rc, stdout, error

    @property
    def ok(self) -> bool:
        return self.rc == 0


class RuntimeCommand:
    """One OCI runtime binary with its state root and global arguments."""

    def __init__(self, binary: str, root: str, global_args=(), log_path: str | None = None):
        self.binary, self.root, self.global_args, self.log_path = binary, root, tuple(global_args), log_path

    def argv(self, *args: str) -> list[str]:
        a = [self.binary, *self.global_args, "--root", self.root]
        if self.log_path:
            a += ["--log", self.log_path, "--log-format", "json"]
        return a + list(args)


def spawn(argv: list[str], stdin: int, stdout: int, stderr: int, cwd: str | None = None) -> int:
    actions = [(os.POSIX_SPAWN_DUP2, stdin, 0), (os.POSIX_SPAWN_DUP2, stdout, 1), (os.POSIX_SPAWN_DUP2, stderr, 2)]
    return os.posix_spawn(argv[0], argv, os.environ, file_actions=actions, setsigdef=_SIGDEF, setsigmask=())


def _memfd(name: str) -> int:
    return os.memfd_create(name, os.MFD_CLOEXEC)


def _read_all(fd: int, limit: int = 1 << 20) -> bytes:
    os.lseek(fd, 0, os.SEEK_SET)
    chunks, size = [], 0
    while size < limit:
        b = os.read(fd, min(65536, limit - size))
        if not b:
            break
        chunks.append(b)
        size += len(b)
    return b"".join(chunks)


def _size(path: str | None) -> int:
    if not path:
        return 0
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def last_log_error(path: str | None, offset: int) -> str:
    """The msg of the last error (or fatal) line a runtime wrote to its json log after ``offset``."""
    if not path:
        return ""
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            data = f.read(1 << 20)
    except OSError:
        return ""
    msg = ""
    for line in data.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("level") in ("error", "fatal") and entry.get("msg"):
            msg = str(entry["msg"])
    return one_line(msg) if msg else ""


def last_line(data: bytes) -> str:
    for line in reversed(data.decode("utf-8", "replace").splitlines()):
        if line.strip():
            return one_line(line)
    return ""


async def run(reaper, argv: list[str], *, stdin: int | None = None, stdout: int | None = None,
              stderr: int | None = None, log_path: str | None = None,
              timeout: float = DEFAULT_TIMEOUT) -> Result:
    """Run one runtime command to its end. stdio not given: /dev/null in, memory files out."""
    own = []
    try:
        if stdin is None:
            stdin = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
            own.append(stdin)
        out_fd = err_fd = None
        if stdout is None:
            stdout = out_fd = _memfd("runtime-stdout")
            own.append(out_fd)
        if stderr is None:
            stderr = err_fd = _memfd("runtime-stderr")
            own.append(err_fd)
        offset = _size(log_path)
        try:
            pid = spawn(argv, stdin, stdout, stderr)
        except OSError as e:
            return Result(127, b"", f"cannot run {argv[0]}: {e.strerror}")
        fut = reaper.wait(pid)
        try:
            rc = await asyncio.wait_for(asyncio.shield(fut), timeout)
        except asyncio.TimeoutError:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            await fut
            return Result(-1, b"", f"{os.path.basename(argv[0])} did not finish within {timeout:g}s")
        out = _read_all(out_fd) if out_fd is not None else b""
        if rc == 0:
            return Result(0, out, "")
        err = last_log_error(log_path, offset)
        if not err and err_fd is not None:
            err = last_line(_read_all(err_fd))
        if not err:
            err = f"{os.path.basename(argv[0])} exited with status {rc}"
        return Result(rc, out, err)
    finally:
        for fd in own:
            os.close(fd)
