"""Reaping every child of the shim (a child subreaper) and telling whoever watches that pid.

Container inits and exec'd processes are reparented to the shim when the runtime command that
started them exits; asyncio's child watchers only wait for pids they spawned themselves, so the
shim loops ``waitpid(-1, WNOHANG)`` on SIGCHLD. An exit whose pid nobody watches yet (the init may
die before the shim has read the pid file) is kept, bounded, until someone asks for it.
"""
from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections import OrderedDict
from typing import Callable

PR_SET_CHILD_SUBREAPER = 36
KEEP_UNCLAIMED = 512

log = logging.getLogger("dockyard.shim")


def exit_code(status: int) -> int:
    """Docker's exit code for a wait status: the code, or 128+signal."""
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


class Reaper:
    def __init__(self):
        self._watch: dict[int, Callable[[int], None]] = {}
        self._unclaimed: OrderedDict[int, int] = OrderedDict()
        self._loop: asyncio.AbstractEventLoop | None = None

    def install(self, loop: asyncio.AbstractEventLoop, kernel=None) -> None:
        if kernel is None:
            from ..kernel import real
            kernel = real()
        kernel.prctl(PR_SET_CHILD_SUBREAPER, 1)
        self._loop = loop
        loop.add_signal_handler(signal.SIGCHLD, self.reap)
        self.reap()

    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            except InterruptedError:
                continue
            if pid == 0:
                return
            code = exit_code(status)
            cb = self._watch.pop(pid, None)
            if cb is None:
                self._unclaimed[pid] = code
                while len(self._unclaimed) > KEEP_UNCLAIMED:
                    self._unclaimed.popitem(last=False)
                continue
            try:
                cb(code)
            except Exception:
                log.exception("handling the exit of pid %d", pid)

    def watch(self, pid: int, cb: Callable[[int], None]) -> None:
        """Call ``cb(exit_code)`` when ``pid`` (a child) exits; at once (soon) if it already has."""
        code = self._unclaimed.pop(pid, None)
        if code is not None:
            self._loop.call_soon(cb, code)
        else:
            self._watch[pid] = cb

    def unwatch(self, pid: int) -> None:
        self._watch.pop(pid, None)

    def wait(self, pid: int) -> asyncio.Future:
        fut = self._loop.create_future()

        def done(code):
            if not fut.done():
                fut.set_result(code)
        self.watch(pid, done)
        return fut
