"""An asyncio event loop on its own thread, for the service's long-lived listeners (embedded DNS,
userland proxies) — the service's own methods are blocking and run on the caller's thread."""
from __future__ import annotations

import asyncio
import threading


class LoopThread:
    def __init__(self, name: str = "dockyard-network"):
        self.name = name
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        ready = threading.Event()

        def run():
            self.loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self.loop)
            ready.set()
            try:
                self.loop.run_forever()
            finally:
                self.loop.close()

        self._thread = threading.Thread(target=run, name=self.name, daemon=True)
        self._thread.start()
        ready.wait()

    def call(self, coro, timeout: float = 30):
        """Run a coroutine on the loop and wait for its result."""
        if self.loop is None:
            coro.close()
            raise RuntimeError("the network loop is not running")
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        if self._thread is None or self.loop is None:
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self._thread = None
        self.loop = None
