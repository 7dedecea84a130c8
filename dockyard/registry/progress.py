"""Progress events shaped like Docker's JSON messages, delivered to a callback.

An event is a dict: ``{"status": "Downloading", "id": "1fab9dff08f8",
"progressDetail": {"current": 36412, "total": 1122603}}``. The callback is
called under a lock, so it never runs twice at once, even from worker threads.
"""
from __future__ import annotations

import threading
import time
from typing import Callable

Progress = Callable[[dict], None]


def short_id(digest: str) -> str:
    """The 12-hex id Docker shows for a layer."""
    return digest.split(":", 1)[-1][:12]


class Emitter:
    def __init__(self, callback: Progress | None, interval: float = 0.1):
        self._cb = callback
        self._lock = threading.Lock()
        self._interval = interval
        self._last: dict[str, float] = {}

    def __call__(self, status: str, id: str | None = None, current: int | None = None,
                 total: int | None = None, **extra) -> None:
        if self._cb is None:
            return
        ev: dict = {"status": status}
        if id is not None:
            ev["progressDetail"] = {}
            if current is not None:
                ev["progressDetail"]["current"] = current
                if total is not None:
                    ev["progressDetail"]["total"] = total
            ev["id"] = id
        ev.update(extra)
        with self._lock:
            self._cb(ev)

    def bytes(self, status: str, id: str, current: int, total: int | None) -> None:
        """A throttled byte-count event (always sent when complete)."""
        if self._cb is None:
            return
        now = time.monotonic()
        done = total is not None and current >= total
        with self._lock:
            last = self._last.get(id)
            if not done and last is not None and now - last < self._interval:
                return
            self._last[id] = now
        self(status, id, current, total)
