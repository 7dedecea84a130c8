"""The exit feed (``subscribe``): one JSON line per event to every subscriber.

A subscriber that stops reading is dropped once more than ``MAX_QUEUED`` bytes are waiting for
it (the daemon reconciles with ``list`` when it reconnects); nothing else ever waits on it.
"""
from __future__ import annotations

import asyncio

from .protocol import encode_event

MAX_QUEUED = 4 << 20


class EventBus:
    def __init__(self):
        self._subs: dict[asyncio.StreamWriter, asyncio.Future] = {}

    def add(self, writer: asyncio.StreamWriter) -> asyncio.Future:
        """Returns a future that is done when the subscriber is dropped."""
        fut = asyncio.get_running_loop().create_future()
        self._subs[writer] = fut
        return fut

    def remove(self, writer: asyncio.StreamWriter) -> None:
        fut = self._subs.pop(writer, None)
        if fut is not None and not fut.done():
            fut.set_result(None)

    def publish(self, event: dict) -> None:
        line = encode_event(event)
        for w in list(self._subs):
            t = w.transport
            if w.is_closing() or t is None or t.get_write_buffer_size() > MAX_QUEUED:
                self.remove(w)
                if t is not None:
                    t.abort()  # it reads nothing: what is queued for it would never leave
                continue
            w.write(line)

    def __len__(self) -> int:
        return len(self._subs)
