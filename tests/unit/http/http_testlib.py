"""Run an App in a background thread's event loop; talk to it with real sockets."""
from __future__ import annotations

import asyncio
import http.client
import socket
import threading


class ServerThread:
    """``with ServerThread(app, [listener]) as srv:`` — the app serves until the block ends."""

    def __init__(self, app, listeners):
        self.app = app
        self.listeners = listeners
        self.loop = asyncio.new_event_loop()
        self.addresses = None
        self._thread = threading.Thread(target=self._main, daemon=True)
        self._ready = threading.Event()
        self._error = None

    def _main(self):
        asyncio.set_event_loop(self.loop)
        try:
            self.addresses = self.loop.run_until_complete(self.app.start(self.listeners))
        except BaseException as e:  # reported to the test thread
            self._error = e
            self._ready.set()
            return
        self._ready.set()
        self.loop.run_forever()
        self.loop.run_until_complete(self.app.close())
        self.loop.close()

    def __enter__(self):
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            self._thread.join(5)
            raise self._error
        return self

    def call(self, coro, timeout=10):
        """Run a coroutine in the server's loop and return its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def __exit__(self, *exc):
        if self._thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)


def unix_connect(path: str, timeout: float = 10) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    return s


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float = 10):
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self):
        self.sock = unix_connect(self._path, self.timeout)


def read_head(sock: socket.socket) -> tuple[bytes, bytes]:
    """Read a response head from a raw socket: (head, bytes received after it)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise EOFError(f"connection closed after {data!r}")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def read_until_eof(sock: socket.socket) -> bytes:
    out = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return out
        out += chunk


def read_exactly(sock: socket.socket, n: int, have: bytes = b"") -> bytes:
    data = have
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError(f"connection closed after {data!r}, wanted {n} bytes")
        data += chunk
    return data


def header(head: bytes, name: str) -> str | None:
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == name.lower().encode():
            return v.strip().decode()
    return None


def status_of(head: bytes) -> int:
    return int(head.split(b" ", 2)[1])
