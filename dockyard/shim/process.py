"""One supervised process -- a container's init or an exec -- and its stdio.

Output from the process's fds goes to the json-file log (container inits), to every attached
client, and (execs, until the first client attaches) into a small bounded backlog. When an
attached client cannot keep up, reading from the process pauses until it drains (the container
then blocks on its own writes, as with Docker's attach); with no client attached nothing ever
waits: output is logged (or, for execs past the backlog, dropped).
"""
from __future__ import annotations

import asyncio
import errno
import os
import time

from .attach import Attachment
from .stdio import set_winsize, write_all
from .timefmt import rfc3339nano

READ_SIZE = 65536
HIGH_WATER = 1 << 20  # bytes queued to one client before the process's output is paused
BACKLOG_MAX = 64 * 1024


class Output:
    """One readable fd (pipe, fifo or pty master) feeding a Process."""

    __slots__ = ("fd", "stream", "proc", "reading", "is_master")

    def __init__(self, proc: "Process", fd: int, stream: str, is_master: bool = False):
        self.proc, self.fd, self.stream, self.is_master = proc, fd, stream, is_master
        self.reading = False

    def resume(self) -> None:
        if not self.reading and self.fd >= 0:
            asyncio.get_running_loop().add_reader(self.fd, self._ready)
            self.reading = True

    def pause(self) -> None:
        if self.reading:
            asyncio.get_running_loop().remove_reader(self.fd)
            self.reading = False

    def _ready(self) -> None:
        try:
            data = os.read(self.fd, READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as e:  # EIO: the pty's last slave fd closed
            if e.errno not in (errno.EIO, errno.EBADF, errno.EPIPE, errno.ECONNRESET):
                raise
            data = b""
        if data:
            self.proc._output(self.stream, data)
        else:
            self.close()
            self.proc._output_eof(self)

    def close(self) -> None:
        self.pause()
        if self.fd >= 0 and not self.is_master:  # the master is also stdin: the Process closes it
            os.close(self.fd)
        self.fd = -1


class Process:
    __slots__ = ("cid", "exec_id", "tty", "pid", "outputs", "stdin_fd", "master_fd", "log", "attachments",
                 "backlog", "backlog_size", "exit_code", "oom_killed", "finished_at", "done", "output_done",
                 "throttled", "stdin_lock", "ever_attached", "recovered", "open_stdin", "_drainer")

    def __init__(self, cid: str, exec_id: str | None, tty: bool, *, stdin: bool = False, log=None,
                 backlog: bool = False):
        self.cid, self.exec_id, self.tty = cid, exec_id, tty
        self.open_stdin = stdin  # created with stdin: attached clients may write to it
        self.pid = 0
        self.outputs: list[Output] = []
        self.stdin_fd = -1
        self.master_fd = -1
        self.log = log
        self.attachments: list[Attachment] = []
        self.backlog: list[tuple[str, bytes]] | None = [] if backlog else None
        self.backlog_size = 0
        self.exit_code: int | None = None
        self.oom_killed = False
        self.finished_at = ""
        self.done = asyncio.Event()
        self.output_done = asyncio.Event()
        self.throttled = False
        self._drainer: asyncio.Task | None = None
        self.stdin_lock: asyncio.Lock | None = None
        self.ever_attached = False
        self.recovered = False

    # ---- output ----------------------------------------------------------
    def start_output(self, fds: list[tuple[int, str]]) -> None:
        for fd, stream in fds:
            out = Output(self, fd, stream, is_master=(fd == self.master_fd))
            self.outputs.append(out)
            out.resume()
        if not self.outputs:
            self.output_done.set()

    def _output(self, stream: str, data: bytes) -> None:
        if self.log is not None:
            self.log.write(stream, data)
        if self.attachments:
            slow = False
            for a in list(self.attachments):
                if not a.send(stream, data):
                    self.detach(a)
                elif a.buffered() > HIGH_WATER:
                    slow = True
            if slow and not self.throttled:
                self._throttle()
        elif self.backlog is not None and not self.ever_attached:
            room = BACKLOG_MAX - self.backlog_size  # the first 64 KiB; later output is dropped
            if room > 0:
                self.backlog.append((stream, data[:room]))
                self.backlog_size += min(room, len(data))

    def _throttle(self) -> None:
        self.throttled = True
        for o in self.outputs:
            o.pause()
        self._drainer = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        try:
            for a in list(self.attachments):
                if a.buffered() > HIGH_WATER and not await a.drain():
                    self.detach(a)
        finally:
            self.throttled = False
            self._drainer = None
            for o in self.outputs:
                o.resume()

    def _output_eof(self, out: Output) -> None:
        if self.log is not None:
            self.log.finish(out.stream)
        self.outputs.remove(out)
        if not self.outputs:
            if self.log is not None:
                self.log.close()
            self.output_done.set()
            if self.done.is_set():
                self._close_attachments()
                self._release_terminal()

    async def wait_output(self, timeout: float) -> None:
        try:
            await asyncio.wait_for(self.output_done.wait(), timeout)
        except asyncio.TimeoutError:
            pass

    # ---- clients -----------------------------------------------------------
    def attach(self, a: Attachment) -> None:
        self.ever_attached = True
        if self.backlog:
            for stream, data in self.backlog:
                a.send(stream, data)
        self.backlog, self.backlog_size = None, 0
        if self.done.is_set() and self.output_done.is_set():
            a.close()
        else:
            self.attachments.append(a)

    def drop_backlog(self) -> None:
        self.backlog, self.backlog_size = None, 0

    def detach(self, a: Attachment) -> None:
        if a in self.attachments:
            self.attachments.remove(a)
        a.close()

    def _close_attachments(self) -> None:
        for a in self.attachments:
            a.close()
        self.attachments.clear()

    # ---- input -------------------------------------------------------------
    @property
    def stdin_target(self) -> int:
        if not self.open_stdin:
            return -1
        return self.master_fd if self.tty else self.stdin_fd

    async def write_stdin(self, data: bytes) -> bool:
        fd = self.stdin_target
        if fd < 0:
            return False
        if self.stdin_lock is None:
            self.stdin_lock = asyncio.Lock()
        async with self.stdin_lock:
            if self.stdin_target != fd:
                return False
            if not await write_all(fd, data):
                if not self.tty:
                    self.close_stdin()
                return False
        return True

    def close_stdin(self) -> None:
        """EOF on the process's stdin (non-tty; a tty gets nothing special)."""
        if self.stdin_fd >= 0:
            asyncio.get_running_loop().remove_writer(self.stdin_fd)
            os.close(self.stdin_fd)
            self.stdin_fd = -1

    def resize(self, height: int, width: int) -> None:
        if not self.tty:
            raise ValueError("it has no terminal")
        if self.master_fd < 0:
            raise ValueError("its terminal is gone" + (" (lost when the shim restarted)" if self.recovered else ""))
        set_winsize(self.master_fd, height, width)

    # ---- exit ----------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.exit_code is None

    def exited(self, code: int, oom_killed: bool = False) -> None:
        self.exit_code = code
        self.oom_killed = oom_killed
        self.finished_at = rfc3339nano(time.time_ns())

    def finish(self) -> None:
        """The exit is recorded and the output drained (or given up on): wake waiters, end attach streams."""
        self.done.set()
        self.close_stdin()
        if self.output_done.is_set():
            self._close_attachments()
            self._release_terminal()
        else:
            # something else still holds the output open (a daemonized child): stop the streams now,
            # keep logging until the end of the output
            self._close_attachments()
            self.backlog = None

    def _release_terminal(self) -> None:
        if self.master_fd >= 0:
            os.close(self.master_fd)
            self.master_fd = -1

    def release(self) -> None:
        """Close everything (the container is being forgotten)."""
        for o in list(self.outputs):
            o.close()
        self.outputs.clear()
        if self.log is not None:
            self.log.close()
        self.close_stdin()
        self._release_terminal()
        self._close_attachments()
        self.output_done.set()
        self.done.set()

    def exit_info(self) -> dict:
        return {"exit_code": self.exit_code, "oom_killed": self.oom_killed, "finished_at": self.finished_at}
