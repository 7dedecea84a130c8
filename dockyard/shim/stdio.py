"""The file descriptors a container's stdio is made of, and writing to them without blocking.

Non-tty output goes through fifos under ``<exec-root>/shim/<id>/``: the container gets the fifo
opened read-write, so it never sees EPIPE (nor SIGPIPE) while no shim is reading -- a restarted
shim reopens the fifos and goes on logging. Its stdin (when asked for) is a pipe; without one,
/dev/null. A tty comes as the pty master, received on a console socket (``--console-socket``).
"""
from __future__ import annotations

import asyncio
import errno
import fcntl
import os
import select
import socket
import struct
import termios

MAX_SOCKET_PATH = 107


def set_nonblocking(fd: int) -> None:
    os.set_blocking(fd, False)


def devnull(flags: int = os.O_RDWR) -> int:
    return os.open(os.devnull, flags | os.O_CLOEXEC)


def output_fifo(path: str) -> tuple[int, int]:
    """(shim's non-blocking read end, the container's read-write end) of a new fifo at ``path``."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    os.mkfifo(path, 0o600)
    r = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        w = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        os.close(r)
        raise
    return r, w


def reopen_fifo(path: str) -> int | None:
    """The read end of an existing output fifo (after a shim restart); None if it is gone."""
    try:
        return os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return None


def output_pipe() -> tuple[int, int]:
    """(shim's non-blocking read end, the child's write end)."""
    r, w = os.pipe2(os.O_CLOEXEC)
    set_nonblocking(r)
    return r, w


def input_pipe() -> tuple[int, int]:
    """(the child's read end, shim's non-blocking write end)."""
    r, w = os.pipe2(os.O_CLOEXEC)
    set_nonblocking(w)
    return r, w


def set_winsize(fd: int, height: int, width: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))


class ConsoleSocket:
    """A listening unix socket for ``--console-socket``; the runtime sends the pty master on it."""

    def __init__(self, path: str, remove_dir: bool = False):
        if len(path.encode()) > MAX_SOCKET_PATH:
            raise OSError(errno.ENAMETOOLONG, f"console socket path is too long: {path}")
        self.path, self.remove_dir = path, remove_dir
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        try:
            self.sock.bind(path)
            os.chmod(path, 0o600)
            self.sock.listen(1)
        except OSError:
            self.close()
            raise
        self.sock.setblocking(False)

    async def receive(self, timeout: float = 5.0) -> int:
        """The master fd (non-blocking) once the runtime has sent it."""
        loop = asyncio.get_running_loop()
        try:
            conn, _ = await asyncio.wait_for(loop.sock_accept(self.sock), timeout)
        except asyncio.TimeoutError:
            raise OSError(errno.ETIMEDOUT, "the runtime did not connect to the console socket") from None
        with conn:
            deadline = loop.time() + timeout
            while True:
                r, _, _ = select.select([conn], [], [], 0)
                if r:
                    break
                if loop.time() > deadline:
                    raise OSError(errno.ETIMEDOUT, "the runtime sent no terminal on the console socket")
                await asyncio.sleep(0.005)
            _msg, fds, _flags, _addr = socket.recv_fds(conn, 4096, 4)
        if not fds:
            raise OSError(errno.EPROTO, "no file descriptor received on the console socket")
        for extra in fds[1:]:
            os.close(extra)
        os.set_inheritable(fds[0], False)
        set_nonblocking(fds[0])
        return fds[0]

    def close(self) -> None:
        self.sock.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
        if self.remove_dir:
            self.remove_dir = False
            os.rmdir(os.path.dirname(self.path))


async def write_all(fd: int, data: bytes) -> bool:
    """Write everything to a non-blocking fd, waiting while it is full; False if the reader is gone."""
    loop = asyncio.get_running_loop()
    view = memoryview(data)
    while view:
        try:
            n = os.write(fd, view)
            view = view[n:]
            continue
        except BlockingIOError:
            pass
        except (BrokenPipeError, OSError) as e:
            if isinstance(e, BrokenPipeError) or e.errno in (errno.EPIPE, errno.EIO, errno.EBADF):
                return False
            raise
        fut = loop.create_future()
        loop.add_writer(fd, lambda: fut.done() or fut.set_result(None))
        try:
            await fut
        finally:
            loop.remove_writer(fd)
    return True
