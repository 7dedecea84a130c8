"""Docker's json-file log driver: one JSON object per message, rotated by size.

    {"log":"hello\\n","stream":"stdout","time":"2026-11-27T18:00:00.123456789Z"}

Output is split the way dockerd's log copier does it: each complete line is a message (with
its newline); a line longer than 16 KiB is cut into 16 KiB partial messages (no newline), and
what is left when a stream ends is a partial message too. The pieces of one long line share the
first piece's timestamp. Strings are escaped like moby's jsonlog (``<``, ``>``, ``&``, control
characters, U+2028/9 as ``\\u`` escapes; invalid UTF-8 bytes as ``\\ufffd``). Rotation follows
moby's LogFile: before a write, if the file has reached ``max_size``, ``path.(n-1)`` …
``path.1`` ← ``path`` are shifted and a new ``path`` is started (with ``max_files`` 1 the file
is truncated instead).
"""
from __future__ import annotations

import os

from .timefmt import rfc3339nano

MAX_MESSAGE = 16 * 1024


def _table() -> dict[int, str]:
    t = {c: f"\\u{c:04x}" for c in range(0x20)}
    t[ord("\n")] = "\\n"
    t[ord("\r")] = "\\r"
    t[ord('"')] = '\\"'
    t[ord("\\")] = "\\\\"
    for ch in "<>&":
        t[ord(ch)] = f"\\u{ord(ch):04x}"
    t[0x2028] = "\\u2028"
    t[0x2029] = "\\u2029"
    for c in range(0xDC80, 0xDD00):  # invalid input bytes, as decoded with surrogateescape
        t[c] = "\\ufffd"
    return t


_ESCAPES = _table()


def escape(data: bytes) -> bytes:
    """The JSON string body (without quotes) for raw output bytes, as moby writes it."""
    return data.decode("utf-8", "surrogateescape").translate(_ESCAPES).encode("utf-8")


def encode_entry(line: bytes, stream: str, time_str: str) -> bytes:
    return b'{"log":"%s","stream":"%s","time":"%s"}\n' % (escape(line), stream.encode(), time_str.encode())


class LineSplitter:
    """Cuts a byte stream into log messages: (bytes, complete) where complete ones end a line."""

    __slots__ = ("_buf",)

    def __init__(self):
        self._buf = b""

    def feed(self, data: bytes) -> list[tuple[bytes, bool]]:
        buf = self._buf + data if self._buf else data
        out = []
        start = 0
        while True:
            nl = buf.find(b"\n", start, start + MAX_MESSAGE)
            if nl >= 0:
                out.append((buf[start:nl + 1], True))
                start = nl + 1
            elif len(buf) - start >= MAX_MESSAGE:
                out.append((buf[start:start + MAX_MESSAGE], False))
                start += MAX_MESSAGE
            else:
                break
        self._buf = buf[start:]
        return out

    def finish(self) -> list[tuple[bytes, bool]]:
        rest, self._buf = self._buf, b""
        return [(rest, False)] if rest else []

    @property
    def pending(self) -> int:
        return len(self._buf)


class JsonFileLog:
    """Appends messages of a container's streams to ``path``; never raises on write errors
    (the container must not stop because its log cannot be written): ``error`` keeps the last one."""

    def __init__(self, path: str, max_size: int = 0, max_files: int = 1, mode: int = 0o640):
        if max_size < 0:
            raise ValueError(f"log {path}: max size must not be negative")
        if max_files < 1:
            raise ValueError(f"log {path}: max files must be at least 1")
        self.path, self.max_size, self.max_files, self.mode = path, max_size, max_files, mode
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, mode)
        self._size = os.fstat(self._fd).st_size
        self._split: dict[str, LineSplitter] = {}
        self._partial_ts: dict[str, str] = {}
        self.error: str | None = None

    def write(self, stream: str, data: bytes, now_ns: int | None = None) -> None:
        sp = self._split.get(stream)
        if sp is None:
            sp = self._split[stream] = LineSplitter()
        self._emit(stream, sp.feed(data), now_ns)

    def finish(self, stream: str, now_ns: int | None = None) -> None:
        """The stream ended: what is left of its last line becomes a partial message."""
        sp = self._split.pop(stream, None)
        if sp is not None:
            self._emit(stream, sp.finish(), now_ns)
        self._partial_ts.pop(stream, None)

    def _emit(self, stream: str, messages: list[tuple[bytes, bool]], now_ns: int | None) -> None:
        if not messages:
            return
        now = rfc3339nano(now_ns)
        out = []
        for line, complete in messages:
            ts = self._partial_ts.get(stream)
            if ts is None:
                ts = now
                if not complete:
                    self._partial_ts[stream] = now
            elif complete:
                del self._partial_ts[stream]
            out.append(encode_entry(line, stream, ts))
        for entry in out:
            self._write(entry)

    def _write(self, entry: bytes) -> None:
        if self._fd < 0:
            return
        try:
            if self.max_size and self._size >= self.max_size:
                self._rotate()
            n = os.write(self._fd, entry)
            self._size += n
        except OSError as e:
            self.error = f"writing log {self.path}: {e.strerror}"

    def _rotate(self) -> None:
        os.close(self._fd)
        self._fd = -1
        if self.max_files > 1:
            try:
                os.unlink(f"{self.path}.{self.max_files - 1}")
            except FileNotFoundError:
                pass
            for i in range(self.max_files - 1, 1, -1):
                try:
                    os.rename(f"{self.path}.{i - 1}", f"{self.path}.{i}")
                except FileNotFoundError:
                    pass
            try:
                os.rename(self.path, f"{self.path}.1")
            except FileNotFoundError:
                pass
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, self.mode)
        self._size = 0

    def close(self) -> None:
        for stream in list(self._split):
            self.finish(stream)
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
