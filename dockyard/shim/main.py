"""dockyard-shim: ``python -m dockyard.shim --exec-root DIR [--log FILE] [--background]``

Serves ``<exec-root>/shim.sock`` until SIGTERM/SIGINT; containers keep running when it stops.
One shim per exec root (``<exec-root>/shim.lock``). With ``--background`` the command returns
once the socket answers, leaving the shim in its own session.
"""
from __future__ import annotations

import argparse
import asyncio
import fcntl
import logging
import os
import resource
import select
import signal
import sys

from .stdio import MAX_SOCKET_PATH

log = logging.getLogger("dockyard.shim")
READY_TIMEOUT = 30.0


def parse_args(argv):
    ap = argparse.ArgumentParser(prog="dockyard-shim", description="Dockyard's shared container supervisor")
    ap.add_argument("--exec-root", required=True, help="runtime state directory (the socket is DIR/shim.sock)")
    ap.add_argument("--log", help="log file (default: stderr)")
    ap.add_argument("--background", action="store_true", help="return once the socket answers")
    return ap.parse_args(argv)


def socket_path(exec_root: str) -> str:
    return os.path.join(exec_root, "shim.sock")


def _std_fds() -> None:
    """fds 0-2 must be open, or a pipe could land there and lose its close-on-exec flag in a child."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)


def _raise_nofile() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            pass


def _background() -> int | None:
    """Fork; the parent waits for the child's "ready" and exits. Returns the child's ready fd."""
    r, w = os.pipe()
    pid = os.fork()
    if pid:
        os.close(w)
        data = b""
        while True:
            ready, _, _ = select.select([r], [], [], READY_TIMEOUT)
            if not ready:
                print("dockyard-shim: not ready in time", file=sys.stderr)
                os._exit(1)
            chunk = os.read(r, 4096)
            if not chunk:
                break
            data += chunk
        if data == b"ok":
            os._exit(0)
        print(f"dockyard-shim: {data.decode(errors='replace') or 'exited during start-up'}", file=sys.stderr)
        os._exit(1)
    os.close(r)
    os.setsid()
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)
    return w


def _report(ready_fd: int | None, msg: str) -> None:
    if ready_fd is not None:
        try:
            os.write(ready_fd, msg.encode())
            os.close(ready_fd)
        except OSError:
            pass


def main(argv: list[str] | None = None) -> int:
    a = parse_args(sys.argv[1:] if argv is None else argv)
    exec_root = os.path.abspath(a.exec_root)
    log_file = os.path.abspath(a.log) if a.log else None
    _std_fds()
    os.chdir("/")  # pin no directory; every path the shim is given is absolute
    ready_fd = _background() if a.background else None
    logging.basicConfig(filename=log_file, level=logging.INFO,
                        format="%(asctime)s dockyard-shim[%(process)d] %(levelname)s %(message)s")
    try:
        if len(socket_path(exec_root).encode()) > MAX_SOCKET_PATH:
            raise SystemExit(f"exec root {exec_root} is too long for a unix socket path")
        os.makedirs(exec_root, mode=0o711, exist_ok=True)
        lock = os.open(os.path.join(exec_root, "shim.lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SystemExit(f"another dockyard-shim is running for {exec_root}") from None
    except (SystemExit, OSError) as e:
        msg = str(e.code) if isinstance(e, SystemExit) else f"{exec_root}: {e.strerror}"
        log.error("%s", msg)
        _report(ready_fd, msg)
        print(f"dockyard-shim: {msg}", file=sys.stderr)
        return 1
    _raise_nofile()
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        asyncio.run(serve(exec_root, ready_fd))
    except Exception as e:
        log.exception("stopped by an error")
        _report(ready_fd, f"{type(e).__name__}: {e}")
        return 1
    return 0


async def serve(exec_root: str, ready_fd: int | None = None) -> None:
    from .reaper import Reaper
    from .recover import recover
    from .server import Server
    from .service import Service

    loop = asyncio.get_running_loop()
    reaper = Reaper()
    reaper.install(loop)
    service = Service(exec_root, reaper)
    await recover(service)
    path = socket_path(exec_root)
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    server_obj = Server(service)
    server = await server_obj.start(path)
    os.chmod(path, 0o600)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    log.info("serving %s (%d containers known)", path, len(service.containers))
    _report(ready_fd, "ok")
    await stop.wait()
    log.info("stopping; containers keep running")
    server.close()
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    for t in list(server_obj.connections):
        t.cancel()
