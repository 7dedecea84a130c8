"""Brute-force protection: after too many failed logins from one client address in a window, its
credential checks are refused with 429 TOOMANYREQUESTS (bcrypt is slow on purpose, so unbounded
guessing would also tie the server up)."""
from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque

MAX_CLIENTS = 10000


class FailureLimiter:
    def __init__(self, max_failures: int = 10, window: float = 60.0, clock=time.monotonic):
        self.max_failures = max_failures
        self.window = window
        self._clock = clock
        self._failures: OrderedDict[str, deque] = OrderedDict()
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque | None:
        q = self._failures.get(key)
        if q is None:
            return None
        while q and now - q[0] >= self.window:
            q.popleft()
        if not q:
            del self._failures[key]
            return None
        return q

    def retry_after(self, key: str) -> float | None:
        """Seconds until ``key`` may try again, or None if it may try now."""
        if self.max_failures <= 0:
            return None
        now = self._clock()
        with self._lock:
            q = self._recent(key, now)
            if q is None or len(q) < self.max_failures:
                return None
            return max(0.0, self.window - (now - q[0]))

    def failed(self, key: str) -> None:
        now = self._clock()
        with self._lock:
            q = self._recent(key, now)
            if q is None:
                q = self._failures[key] = deque(maxlen=max(self.max_failures, 1))
            q.append(now)
            self._failures.move_to_end(key)
            while len(self._failures) > MAX_CLIENTS:
                self._failures.popitem(last=False)
