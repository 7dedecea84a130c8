"""The runtime's log (--log FILE, --log-format text|json), the way containerd's shim reads runc's."""
from __future__ import annotations

from ..util import fastjson as json
import os
import sys
import time

_LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40}


class Log:
    def __init__(self, path: str | None = None, fmt: str = "text", debug: bool = False):
        self.path, self.fmt = path, fmt
        self.min = _LEVELS["debug" if debug else "info"]

    def _write(self, level: str, msg: str) -> None:
        if _LEVELS[level] < self.min:
            return
        now = time.time()
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1e9):09d}Z"
        if self.fmt == "json":
            line = json.dumps({"level": level, "msg": msg, "time": stamp})
        else:
            line = f'time="{stamp}" level={level} msg="{msg}"'
        if self.path:
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
                try:
                    os.write(fd, line.encode() + b"\n")
                finally:
                    os.close(fd)
                return
            except OSError:
                pass
        if level != "error":  # errors are printed to stderr by the command itself
            print(line, file=sys.stderr)

    def debug(self, msg): self._write("debug", msg)
    def info(self, msg): self._write("info", msg)
    def warning(self, msg): self._write("warning", msg)
    def error(self, msg): self._write("error", msg)
