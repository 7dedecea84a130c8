"""The local terminal: is it one, its size, raw mode (always restored), detach keys."""
from __future__ import annotations

import os


def is_tty(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False


def get_size(fd: int) -> tuple[int, int] | None:
    """(rows, cols) of the terminal on ``fd``, or None."""
    import fcntl
    import struct
    import termios
    try:
        rows, cols, _, _ = struct.unpack("HHHH", fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8))
    except OSError:
        return None
    return (rows, cols) if rows or cols else None


class RawMode:
    """``with RawMode(fd):`` puts the terminal in raw mode and restores it on the way out."""

    def __init__(self, fd: int):
        self.fd = fd
        self.saved = None

    def __enter__(self):
        import termios
        import tty
        try:
            self.saved = termios.tcgetattr(self.fd)
        except termios.error:
            self.saved = None
            return self
        tty.setraw(self.fd, termios.TCSANOW)
        return self

    def restore(self) -> None:
        if self.saved is not None:
            import termios
            try:
                termios.tcsetattr(self.fd, termios.TCSANOW, self.saved)
            except termios.error:
                pass
            self.saved = None

    def __exit__(self, *exc) -> None:
        self.restore()


DEFAULT_DETACH_KEYS = "ctrl-p,ctrl-q"
_CTRL = {"@": 0, "[": 27, "\\": 28, "]": 29, "^": 30, "_": 31}


def detach_key_bytes(keys: str) -> bytes:
    """moby/term ToBytes: "ctrl-p,ctrl-q" → b"\\x10\\x11"; ValueError for an unknown key."""
    out = bytearray()
    for key in keys.split(","):
        if len(key) == 1:
            out += key.encode()
            continue
        if not key.startswith("ctrl-"):
            raise ValueError(f"Unknown character: '{key}'")
        k = key[5:]
        if len(k) != 1:
            raise ValueError(f"Unknown character: '{key}'")
        c = k.lower()
        if "a" <= c <= "z":
            out.append(ord(c) - ord("a") + 1)
        elif k in _CTRL:
            out.append(_CTRL[k])
        else:
            raise ValueError(f"Unknown character: '{key}'")
    return bytes(out)


class EscapeMatcher:
    """moby/term's escape proxy: a detach sequence typed one key per read ends the session."""

    def __init__(self, keys: bytes):
        self.keys, self.pos = keys, 0

    def feed(self, data: bytes) -> tuple[bytes, bool]:
        """Returns (bytes to forward, detached?)."""
        if not self.keys:
            return data, False
        held = self.keys[:self.pos]
        if len(data) != 1:
            self.pos = 0
            return held + data, False
        if data[0] != self.keys[self.pos]:
            self.pos = 0
            return held + data, False
        if self.pos == len(self.keys) - 1:
            self.pos = 0
            return b"", True
        self.pos += 1
        return b"", False
