"""Foreground `run`/`exec` with a terminal and no --console-socket: the runtime proxies the pty itself."""
from __future__ import annotations

import os
import select
import socket
import sys

from .console import recv_master, set_size


class TtyProxy:
    def __init__(self):
        self.ours, self.theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.master = -1
        self._saved = None

    def receive(self) -> None:
        self.theirs.close()
        self.master, _ = recv_master(self.ours)
        self.ours.close()
        if os.isatty(0):
            import fcntl
            import struct
            import termios
            import tty
            try:
                rows, cols = struct.unpack("HHHH", fcntl.ioctl(0, termios.TIOCGWINSZ, b"\0" * 8))[:2]
                set_size(self.master, rows, cols)
            except OSError:
                pass
            self._saved = termios.tcgetattr(0)
            tty.setraw(0)

    def pump(self, pid: int) -> int:
        """Copy stdin -> pty and pty -> stdout until the process exits; returns its status."""
        from .container import wait_child
        fds = [self.master, 0]
        try:
            while True:
                try:
                    r, _, _ = select.select(fds, [], [])
                except InterruptedError:
                    continue
                if self.master in r:
                    try:
                        data = os.read(self.master, 65536)
                    except OSError:
                        data = b""
                    if not data:
                        break
                    os.write(1, data)
                if 0 in r:
                    data = os.read(0, 65536)
                    if not data:
                        fds.remove(0)
                    else:
                        os.write(self.master, data)
        finally:
            self.restore()
        return wait_child(pid)

    def restore(self) -> None:
        if self._saved is not None:
            import termios
            termios.tcsetattr(0, termios.TCSADRAIN, self._saved)
            self._saved = None
        sys.stdout.flush()
