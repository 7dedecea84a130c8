"""The daemon's event stream (GET /events): Docker's message shape, filters, since/until replay."""
from __future__ import annotations

import asyncio
import time
from collections import deque

_HISTORY = 1024


def make_event(type_: str, action: str, actor_id: str, attributes: dict | None = None) -> dict:
    now = time.time_ns()
    ev = {
        "Type": type_, "Action": action,
        "Actor": {"ID": actor_id, "Attributes": dict(attributes or {})},
        "scope": "local", "time": now // 1_000_000_000, "timeNano": now,
    }
    if type_ == "container":  # the legacy fields old clients read
        ev["status"], ev["id"] = action, actor_id
        if attributes and "image" in attributes:
            ev["from"] = attributes["image"]
    return ev


class Filter:
    """Docker's event filters: type, event, container, image, volume, network, label, daemon."""

    def __init__(self, filters: dict[str, list[str]] | None):
        self.f = {k: set(v) for k, v in (filters or {}).items()}

    def match(self, ev: dict) -> bool:
        f, attrs = self.f, ev["Actor"]["Attributes"]
        if "type" in f and ev["Type"] not in f["type"]:
            return False
        if "event" in f and ev["Action"].split(":")[0] not in f["event"] and ev["Action"] not in f["event"]:
            return False
        for kind in ("container", "image", "volume", "network"):
            if kind in f and (ev["Type"] != kind or not ({ev["Actor"]["ID"], attrs.get("name", "")} & f[kind]
                                                        or any(ev["Actor"]["ID"].startswith(x) for x in f[kind]))):
                if not (kind == "image" and attrs.get("image") in f[kind]):
                    return False
        if "label" in f:
            for lab in f["label"]:
                k, eq, v = lab.partition("=")
                if k not in attrs or (eq and attrs[k] != v):
                    return False
        return True


class EventBus:
    """Emit from the event loop or from worker threads (image pulls run in the executor)."""

    def __init__(self):
        self.history: deque[dict] = deque(maxlen=_HISTORY)
        self.queues: set[asyncio.Queue] = set()
        self.loop: asyncio.AbstractEventLoop | None = None

    def emit(self, type_: str, action: str, actor_id: str, attributes: dict | None = None) -> dict:
        ev = make_event(type_, action, actor_id, attributes)
        loop = self.loop
        if loop is not None and loop.is_running():
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is not loop:
                loop.call_soon_threadsafe(self._publish, ev)
                return ev
        self._publish(ev)
        return ev

    def _publish(self, ev: dict) -> None:
        self.history.append(ev)
        for q in list(self.queues):
            try:
                q.put_nowait(ev)
            except asyncio.QueueFull:  # a client that does not read loses events, never the daemon
                pass
        return ev

    def subscribe(self, maxsize: int = 4096) -> asyncio.Queue:
        q: asyncio.Queue = asyncio.Queue(maxsize)
        self.queues.add(q)
        return q

    def unsubscribe(self, q: asyncio.Queue) -> None:
        self.queues.discard(q)

    def since(self, since_ns: int, until_ns: int | None = None) -> list[dict]:
        return [e for e in self.history if e["timeNano"] >= since_ns and (until_ns is None or e["timeNano"] <= until_ns)]
