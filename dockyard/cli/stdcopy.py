"""Docker's multiplexed stream: frames of an 8-byte header (stream, 0, 0, 0, big-endian size) and a payload."""
from __future__ import annotations

from .errors import CLIError

STDIN, STDOUT, STDERR, SYSTEMERR = 0, 1, 2, 3


class Demuxer:
    """Feed bytes in any pieces; payloads go to ``out``/``err`` as they arrive."""

    def __init__(self, out, err):
        self.sinks = {STDIN: out, STDOUT: out, STDERR: err}
        self.header = bytearray()
        self.left = 0
        self.stream = STDOUT
        self.syserr = bytearray()

    def feed(self, data: bytes) -> None:
        mv = memoryview(data)
        while mv:
            if self.left == 0:
                need = 8 - len(self.header)
                self.header += mv[:need]
                mv = mv[need:]
                if len(self.header) < 8:
                    return
                h = self.header
                self.stream = h[0]
                self.left = int.from_bytes(h[4:8], "big")
                self.header = bytearray()
                if self.stream not in (STDIN, STDOUT, STDERR, SYSTEMERR):
                    raise CLIError(f"Unrecognized input header: {self.stream}")
                if self.left == 0 and self.stream == SYSTEMERR:
                    raise CLIError("error from daemon in stream: ")
                continue
            take = mv[:self.left]
            mv = mv[len(take):]
            self.left -= len(take)
            if self.stream == SYSTEMERR:
                self.syserr += take
                if self.left == 0:
                    raise CLIError(f"error from daemon in stream: {self.syserr.decode(errors='replace')}")
            else:
                self.sinks[self.stream](bytes(take))

    def finish(self) -> None:
        """End of stream; a frame cut short is simply dropped, as docker's StdCopy does."""
