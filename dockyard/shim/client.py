"""The daemon's side of the shim protocol (asyncio), and starting the shim when it is not there.

    await asyncio.to_thread(ensure_running, exec_root)      # or call it before the loop starts
    shim = ShimClient(exec_root)
    await shim.create("c1", bundle=..., runtime=..., runtime_root=..., log_path=...)
    reader, writer = await shim.attach("c1", stdin=True)     # raw stream from here on
    await shim.start("c1")
    async for ev in shim.subscribe(): ...                    # {"event": "exit", "id": ..., ...}

Each call opens its own connection (the socket is local; a connect costs microseconds), so calls
never queue behind a long ``wait``.
"""
from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from typing import AsyncIterator

from .protocol import encode_request

START_TIMEOUT = 15.0
ANSWER_LIMIT = 64 << 20  # a `list` of many containers is one long line


class ShimError(Exception):
    """The shim answered ``{"ok": false}``; the message is its error."""


class ShimUnavailable(ShimError):
    """Nothing answers on the shim's socket."""


def socket_path(exec_root: str) -> str:
    return os.path.join(exec_root, "shim.sock")


def _decode(line: bytes, op: str) -> dict:
    if not line:
        raise ShimUnavailable(f"shim closed the connection without answering {op}")
    try:
        resp = json.loads(line)
    except ValueError:
        raise ShimError(f"shim sent an invalid answer to {op}: {line[:200]!r}") from None
    if not isinstance(resp, dict) or "ok" not in resp:
        raise ShimError(f"shim sent an invalid answer to {op}: {line[:200]!r}")
    if not resp.pop("ok"):
        raise ShimError(str(resp.get("error") or f"{op} failed"))
    return resp


class ShimClient:
    def __init__(self, exec_root: str):
        self.exec_root = exec_root
        self.path = socket_path(exec_root)

    async def _connect(self):
        try:
            return await asyncio.open_unix_connection(self.path, limit=ANSWER_LIMIT)
        except (FileNotFoundError, ConnectionRefusedError) as e:
            raise ShimUnavailable(f"no shim answers on {self.path}: {e.strerror}") from None

    async def _open(self, op: str, **fields):
        """Send one request; returns (answer, reader, writer) with the connection still open."""
        reader, writer = await self._connect()
        try:
            writer.write(encode_request(op, **fields))
            await writer.drain()
            resp = _decode(await reader.readline(), op)
        except BaseException:
            writer.close()
            raise
        return resp, reader, writer

    async def request(self, op: str, **fields) -> dict:
        resp, _reader, writer = await self._open(op, **fields)
        writer.close()
        try:
            await writer.wait_closed()
        except (ConnectionError, OSError):
            pass
        return resp

    # ---- ops ----------------------------------------------------------------------
    async def ping(self) -> dict:
        return await self.request("ping")

    async def create(self, id: str, *, bundle: str, runtime: str, runtime_root: str, runtime_args=(),
                     log_path: str = "", log_max_size: int = 0, log_max_files: int = 1, tty: bool = False,
                     stdin: bool = False, console_size: tuple[int, int] | None = None) -> int:
        resp = await self.request("create", id=id, bundle=bundle, runtime=runtime, runtime_root=runtime_root,
                                  runtime_args=list(runtime_args), log_path=log_path, log_max_size=log_max_size,
                                  log_max_files=log_max_files, tty=tty, stdin=stdin,
                                  console_size=list(console_size) if console_size else None)
        return resp["pid"]

    async def start(self, id: str) -> str:
        return (await self.request("start", id=id))["started_at"]

    async def exec(self, id: str, exec_id: str, process: dict, *, tty: bool = False, stdin: bool = False,
                   console_size: tuple[int, int] | None = None) -> int:
        resp = await self.request("exec", id=id, exec_id=exec_id, process=process, tty=tty, stdin=stdin,
                                  console_size=list(console_size) if console_size else None)
        return resp["pid"]

    async def exec_attach(self, id: str, exec_id: str, process: dict, *, tty: bool = False, stdin: bool = False,
                          stdout: bool = True, stderr: bool = True, console_size: tuple[int, int] | None = None
                          ) -> tuple[int, asyncio.StreamReader, asyncio.StreamWriter]:
        """Start an exec with this connection attached from its first byte: (pid, reader, writer)."""
        resp, reader, writer = await self._open(
            "exec", id=id, exec_id=exec_id, process=process, tty=tty, stdin=stdin, attach=True,
            stdout=stdout, stderr=stderr, console_size=list(console_size) if console_size else None)
        return resp["pid"], reader, writer

    async def attach(self, id: str | None = None, *, exec_id: str | None = None, stdin: bool = False,
                     stdout: bool = True, stderr: bool = True) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """The raw stream: output (frames.read_frame for non-tty) to read, stdin to write,
        ``writer.write_eof()`` to close the process's stdin."""
        _resp, reader, writer = await self._open("attach", id=id, exec_id=exec_id, stdin=stdin,
                                                 stdout=stdout, stderr=stderr)
        return reader, writer

    async def resize(self, id: str | None = None, *, exec_id: str | None = None, height: int, width: int) -> None:
        await self.request("resize", id=id, exec_id=exec_id, height=height, width=width)

    async def kill(self, id: str, signal: int = 15, all: bool = False) -> None:
        await self.request("kill", id=id, signal=signal, all=all)

    async def wait(self, id: str | None = None, *, exec_id: str | None = None) -> dict:
        """{"exit_code", "oom_killed", "finished_at"} once the process has exited."""
        return await self.request("wait", id=id, exec_id=exec_id)

    async def state(self, id: str) -> dict:
        return await self.request("state", id=id)

    async def pause(self, id: str) -> None:
        await self.request("pause", id=id)

    async def resume(self, id: str) -> None:
        await self.request("resume", id=id)

    async def update(self, id: str, resources: dict) -> None:
        await self.request("update", id=id, resources=resources)

    async def delete(self, id: str, force: bool = False) -> None:
        await self.request("delete", id=id, force=force)

    async def list(self) -> list[dict]:
        return (await self.request("list"))["containers"]

    async def subscribe(self) -> AsyncIterator[dict]:
        """Events until the shim goes away (then ShimUnavailable) or the iteration stops."""
        _resp, reader, writer = await self._open("subscribe")
        try:
            while True:
                line = await reader.readline()
                if not line:
                    raise ShimUnavailable("the shim closed the event stream")
                yield json.loads(line)
        finally:
            writer.close()


# ---- starting the shim ------------------------------------------------------------------
def answers(exec_root: str, timeout: float = 2.0) -> bool:
    """The shim on ``exec_root`` answers a ping."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(socket_path(exec_root))
        s.sendall(encode_request("ping"))
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(4096)
            if not chunk:
                return False
            buf += chunk
        return bool(json.loads(buf).get("ok"))
    except (OSError, ValueError):
        return False
    finally:
        s.close()


def ensure_running(exec_root: str, python: str = sys.executable, log_file: str | None = None,
                   timeout: float = START_TIMEOUT) -> None:
    """Start the shim for ``exec_root`` unless it already answers; return once it answers.

    The shim runs in its own session and process group and is not the caller's child (it
    daemonizes with ``--background``), so it outlives the caller."""
    if answers(exec_root):
        return
    os.makedirs(exec_root, mode=0o711, exist_ok=True)
    cmd = [python, "-m", "dockyard.shim", "--exec-root", exec_root, "--background"]
    if log_file:
        cmd += ["--log", log_file]
    pkg_parent = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ)
    env["PYTHONPATH"] = pkg_parent + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          start_new_session=True, cwd="/", env=env, timeout=timeout + 5, close_fds=True)
    lines = proc.stderr.decode(errors="replace").strip().splitlines()
    err = lines[-1] if lines else f"exit status {proc.returncode}"
    # it failed for good, unless it lost a race with another shim that is still starting
    racing = proc.returncode != 0 and "another dockyard-shim is running" in err
    deadline = time.monotonic() + (timeout if proc.returncode == 0 or racing else 0)
    while True:
        if answers(exec_root):
            return
        if time.monotonic() >= deadline:
            break
        time.sleep(0.02)
    raise ShimUnavailable(f"dockyard-shim for {exec_root} did not start: {err}")
