"""What ``dockyard build`` shows while the daemon builds.

Plain (not a terminal, or ``--progress=plain``): the classic builder's stream as the Docker CLI
prints it ("Step 1/7 : FROM busybox", " ---> Using cache", the RUN output...).

On a terminal: a compact view, one line per step with its time (``CACHED`` when the cache had it);
while a step runs, its last few output lines show below it and are folded away when it ends. When a
step fails, all of its output is printed with the error. Standard library only.
"""
from __future__ import annotations

import json
import re
import time

from ..errors import CLIError
from ..units import human_size

_STEP = re.compile(r"^Step (\d+)/(\d+) : (.*)$", re.S)
_IMAGE = re.compile(r"^ ---> ([0-9a-f]{12})$")
TAIL = 6


class BuildFailed(CLIError):
    """The stream ended with an error: docker prints it and exits with the step's code."""


def parse(lines, view) -> str:
    """Feed every message of the daemon's stream to ``view``; returns the image ID (aux)."""
    image_id = ""
    try:
        for raw in lines:
            try:
                msg = json.loads(raw)
            except ValueError:
                raise CLIError(f"invalid character in the daemon's message stream: {raw[:80]!r}") from None
            if not isinstance(msg, dict):
                continue
            if msg.get("errorDetail") or msg.get("error"):
                detail = msg.get("errorDetail") or {}
                message = detail.get("message") or msg.get("error") or "unknown error"
                view.failed()
                raise BuildFailed(message, int(detail.get("code") or 1))
            aux = msg.get("aux")
            if aux is not None:
                if isinstance(aux, dict) and aux.get("ID"):
                    image_id = aux["ID"]
                continue
            view.message(msg)
    finally:
        view.close()
    return image_id


def _progress_line(msg: dict) -> str:
    parts = []
    if msg.get("id"):
        parts.append(f"{msg['id']}:")
    if msg.get("status"):
        parts.append(msg["status"])
    if msg.get("progress"):
        parts.append(msg["progress"])
    return " ".join(parts)


class PlainView:
    def __init__(self, out):
        self.out = out

    def message(self, msg: dict) -> None:
        if "stream" in msg:
            self.out.write(msg["stream"])
        elif not msg.get("progressDetail"):   # progress bars are for terminals
            line = _progress_line(msg)
            if line:
                self.out.write(line + "\n")
        self.out.flush()

    def failed(self) -> None:
        pass

    def close(self) -> None:
        self.out.flush()


class _Step:
    def __init__(self, n: str, total: str, text: str):
        self.n, self.total, self.text = n, total, text.strip()
        self.start = time.monotonic()
        self.end: float | None = None
        self.cached = False
        self.lines: list[str] = []
        self.progress: dict[str, str] = {}

    def header(self, width: int, state: str = "") -> str:
        took = (self.end or time.monotonic()) - self.start
        prefix = " => " + ("CACHED " if self.cached else "") + (state + " " if state else "")
        label = f"{prefix}[{self.n}/{self.total}] {' '.join(self.text.split())}"
        clock = f"{took:.1f}s"
        room = max(width - len(clock) - 1, 10)
        if len(label) > room:
            label = label[:room - 1] + "…"
        return label + " " * (room - len(label)) + " " + clock


class TtyView:
    def __init__(self, out, width: int = 80, interval: float = 0.05):
        self.out = out
        self.interval = interval
        self.width = max(width, 40)
        self.step: _Step | None = None
        self.partial = ""
        self.drawn = 0
        self.last_draw = 0.0
        self.started = time.monotonic()

    # -- input ----------------------------------------------------------------------------------------
    def message(self, msg: dict) -> None:
        if "stream" in msg:
            text = self.partial + msg["stream"]
            lines = text.split("\n")
            self.partial = lines.pop()
            for line in lines:
                self._line(line.rstrip("\r"))
        elif self.step is not None:
            line = _progress_line(msg)
            if line:
                self.step.progress[msg.get("id") or line] = line
        self._draw()

    def _line(self, line: str) -> None:
        m = _STEP.match(line)
        if m:
            self._finish()
            self.step = _Step(m.group(1), m.group(2), m.group(3))
            return
        st = self.step
        if line.startswith(("Successfully built ", "Successfully tagged ", "[Warning]")) or st is None:
            self._finish()
            self._print(line)
            return
        if line == " ---> Using cache":
            st.cached = True
        elif line.startswith((" ---> Running in ", "Removing intermediate container ")) or _IMAGE.match(line):
            pass
        else:
            st.lines.append(line)

    # -- output ---------------------------------------------------------------------------------------------
    def _erase(self) -> None:
        if self.drawn:
            self.out.write(f"\x1b[{self.drawn}A\r\x1b[J")
            self.drawn = 0

    def _print(self, line: str) -> None:
        self._erase()
        self.out.write(line + "\n")

    def _draw(self, force: bool = False) -> None:
        st = self.step
        now = time.monotonic()
        if st is None or (not force and now - self.last_draw < self.interval):
            return
        self.last_draw = now
        self._erase()
        rows = [st.header(self.width)]
        tail = list(st.progress.values())[-TAIL:] + st.lines[-TAIL:]
        for line in tail[-TAIL:]:
            text = "    " + line.replace("\t", "    ")
            rows.append("\x1b[2m" + text[:self.width - 1] + "\x1b[0m")
        self.out.write("\n".join(rows) + "\n")
        self.drawn = len(rows)
        self.out.flush()

    def _finish(self, state: str = "") -> None:
        st = self.step
        if st is None:
            return
        st.end = time.monotonic()
        self._erase()
        self.out.write(st.header(self.width, state) + "\n")
        if state == "ERROR":
            for line in st.lines + ([self.partial] if self.partial else []):
                self.out.write("    " + line + "\n")
        self.step = None

    def failed(self) -> None:
        self._finish("ERROR")

    def close(self) -> None:
        self._finish()
        self.out.flush()


def sending(total: int) -> str:
    return f"Sending build context to Docker daemon  {human_size(total)}"
