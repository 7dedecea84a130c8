"""Runs a hijacked attach/exec connection: output to the local streams, local stdin to the
container, half-close after stdin's EOF while output keeps flowing, detach keys on a tty."""
from __future__ import annotations

import os
import select
import socket
import sys

from .stdcopy import Demuxer
from .term import EscapeMatcher


def writer(stream):
    buf = stream.buffer if hasattr(stream, "buffer") else stream

    def write(data: bytes) -> None:
        try:
            buf.write(data)
            buf.flush()
        except BrokenPipeError:
            pass
    return write


def shut_write(sock) -> None:
    try:
        if hasattr(sock, "unwrap") and sock.__class__.__name__ == "SSLSocket":
            return  # TLS has no half-close; the daemon sees EOF when we close
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def pump(sock, leftover: bytes, *, tty: bool, stdin_fd: int | None = None, out=None, err=None,
         detach_keys: bytes = b"") -> bool:
    """Copy until the daemon ends the output. Returns True when the user detached."""
    out = out or writer(sys.stdout)
    err = err or writer(sys.stderr)
    demux = None if tty else Demuxer(out, err)

    def emit(data: bytes) -> None:
        if demux is None:
            out(data)
        else:
            demux.feed(data)

    try:
        if leftover:
            emit(leftover)
        if stdin_fd is None:
            shut_write(sock)
        escape = EscapeMatcher(detach_keys) if (tty and detach_keys and stdin_fd is not None) else None
        reading_stdin = stdin_fd is not None
        while True:
            fds = [sock] + ([stdin_fd] if reading_stdin else [])
            ready, _, _ = select.select(fds, [], [])
            if sock in ready:
                try:
                    data = sock.recv(65536)
                except ConnectionResetError:
                    data = b""
                if not data:
                    if demux is not None:
                        demux.finish()
                    return False
                emit(data)
            if reading_stdin and stdin_fd in ready:
                try:
                    data = os.read(stdin_fd, 32768)
                except OSError:
                    data = b""
                if not data:
                    reading_stdin = False
                    shut_write(sock)
                    continue
                if escape is not None:
                    data, detached = escape.feed(data)
                    if detached:
                        return True
                if data:
                    try:
                        sock.sendall(data)
                    except (BrokenPipeError, ConnectionResetError):
                        reading_stdin = False
    finally:
        try:
            sock.close()
        except OSError:
            pass
