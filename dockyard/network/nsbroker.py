"""Sockets inside a container's network namespace, made by the ``nshelper`` process.

The daemon is multi-threaded and asynchronous: it must not fork, unshare or setns. (pyroute2 0.9.7's
``IPRoute(netns=…)``/``NetNS`` would ``os.fork()`` the calling process for every socket.) Instead
one helper process, started on first use, creates sockets in a namespace and passes them back over
a unix socket; netlink sockets it returns configure the namespace's links, addresses and routes.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading

from .errors import NetworkError, NotFound

HELPER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "nshelper.py")
NETLINK_ROUTE = 0


class NetnsBroker:
    def __init__(self, python: str = sys.executable):
        self.python = python
        self._lock = threading.Lock()
        self._chan: socket.socket | None = None
        self._proc: subprocess.Popen | None = None

    def _start(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self._proc = subprocess.Popen([self.python, "-I", "-S", HELPER, str(theirs.fileno())],
                                          pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL,
                                          close_fds=True, start_new_session=True)
        finally:
            theirs.close()
        self._chan = ours

    def socket(self, netns_path: str, family: int, stype: int, proto: int = 0) -> socket.socket:
        """A new socket in the network namespace at ``netns_path`` (/proc/PID/ns/net or a bind mount)."""
        fds = self._request(netns_path, f"sock {family} {stype} {proto}".encode(), "create a socket")
        if len(fds) != 1:
            for fd in fds:
                os.close(fd)
            raise NetworkError(f"cannot create a socket in network namespace {netns_path}: no socket came back")
        return socket.socket(fileno=fds[0])

    def nft(self, netns_path: str, script: str) -> None:
        """Run an nftables script inside the network namespace."""
        for fd in self._request(netns_path, b"nft " + script.encode(), "apply nftables rules"):
            os.close(fd)

    def _request(self, netns_path: str, request: bytes, what: str) -> list[int]:
        try:
            nsfd = os.open(netns_path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as e:
            raise NotFound(f"network namespace {netns_path}: {e.strerror}") from None
        try:
            with self._lock:
                for attempt in (0, 1):
                    if self._chan is None:
                        self._start()
                    try:
                        socket.send_fds(self._chan, [request], [nsfd])
                        msg, fds, _, _ = socket.recv_fds(self._chan, 512, 1)
                    except OSError as e:
                        self._stop()
                        if attempt:
                            raise NetworkError(f"the netns helper failed: {e}") from None
                        continue
                    if not msg:  # the helper died: start a new one once
                        self._stop()
                        if attempt:
                            raise NetworkError("the netns helper process exited")
                        continue
                    break
        finally:
            os.close(nsfd)
        if msg != b"ok":
            for fd in fds:
                os.close(fd)
            raise NetworkError(f"cannot {what} in network namespace {netns_path}: "
                               f"{msg.decode('utf-8', 'replace').removeprefix('error ')}")
        return fds

    def netlink(self, netns_path: str) -> socket.socket:
        return self.socket(netns_path, socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_ROUTE)

    def _stop(self) -> None:
        if self._chan is not None:
            self._chan.close()
            self._chan = None
        if self._proc is not None:
            try:
                self._proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def close(self) -> None:
        """Stop the helper (closing its channel makes it exit)."""
        with self._lock:
            self._stop()
