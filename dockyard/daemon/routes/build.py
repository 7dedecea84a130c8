"""``POST /build``: the classic builder (what ``DOCKER_BUILDKIT=0 docker build`` calls).

The context tar is read from the request body as it arrives, by the build's own thread (a build
runs for long, and its RUN steps need the loop's executor themselves). The answer is the JSON
message stream, opened by its first message: an error before any output (a bad parameter, a
Dockerfile that does not parse, a missing Dockerfile) is a plain JSON error with its status, as
dockerd answers; later ones end the stream with ``errorDetail``. A client that goes away cancels the
build (a running RUN is killed).
"""
from __future__ import annotations

import asyncio
import logging
import os
import threading

from ..http import ApiError, ClientGone
from ..images import bridge
from ..images import jsonmessage as jm

log = logging.getLogger("dockyard.build")


def register(app, daemon) -> None:
    from ...build.engine import layers
    from ...build.engine.backend import for_daemon
    layers.cleanup_stale(daemon.snapshotter, os.path.join(daemon.cfg.data_root, "builder", "tmp"))
    state: dict = {}

    def backend():
        if "b" not in state:
            state["b"] = for_daemon(daemon, asyncio.get_running_loop())
        return state["b"]

    @app.route("POST", "/build", stream=True)
    async def build(req):
        from ...build.engine import Build, BuildError, Reporter, from_query
        try:
            opts = from_query(req.query, req.headers.get("X-Registry-Config"))
        except BuildError as e:
            raise ApiError(400, e.message) from None
        loop = asyncio.get_running_loop()
        feed = bridge.Feed(loop)
        cancel = threading.Event()
        reporter = Reporter(feed.put, quiet=opts.quiet)
        job = Build(backend(), opts, reporter, cancel)
        body = bridge.ThreadReader(loop, _context_reader(req))
        done: asyncio.Future = loop.create_future()

        def work():
            try:
                result = job.run(body)
            except BaseException as e:   # noqa: BLE001 - handed to the loop
                loop.call_soon_threadsafe(_settle, done, None, e)
            else:
                loop.call_soon_threadsafe(_settle, done, result, None)
            finally:
                feed.end()

        threading.Thread(target=work, name="build", daemon=True).start()
        watch = asyncio.ensure_future(req.wait_disconnected())
        watch.add_done_callback(lambda t: cancel.set() if not t.cancelled() else None)
        out = _Out(req, cancel)
        try:
            while True:
                item = await feed.queue.get()
                if item is feed.END:
                    break
                await out.write(item)
            try:
                await done
            except BuildError as e:
                if not out.opened and not reporter.holding:
                    raise ApiError(500 if e.status == 499 else e.status, e.message) from None
                for msg in reporter.failure(e.message, e.code):
                    await out.write(msg)
            except Exception as e:
                log.error("build failed", exc_info=e)
                if not out.opened:
                    raise ApiError(500, f"build failed: {e}") from None
                await out.write(jm.error(str(e) or type(e).__name__))
            else:
                await out.open()
            return None
        except asyncio.CancelledError:
            cancel.set()
            raise
        finally:
            watch.cancel()
            await out.close()


class _Out:
    """The JSON message stream, opened by its first message; a client gone cancels the build."""

    def __init__(self, req, cancel: threading.Event):
        self.req, self.cancel = req, cancel
        self.stream = None
        self.gone = False

    @property
    def opened(self) -> bool:
        return self.stream is not None or self.gone

    async def open(self) -> None:
        if self.stream is None and not self.gone:
            try:
                self.stream = await self.req.stream(200, "application/json")
            except ClientGone:
                self._lost()

    def _lost(self) -> None:
        self.gone = True
        self.cancel.set()

    async def write(self, msg: dict) -> None:
        await self.open()
        if self.gone:
            return
        try:
            await self.stream.write(jm.encode(msg))
        except ClientGone:
            self._lost()

    async def close(self) -> None:
        if self.stream is not None and not self.gone:
            try:
                await self.stream.close()
            except ClientGone:
                pass


def _context_reader(req):
    """The request body for the build thread; its failures become build errors."""
    from ...build.engine import Cancelled, ContextError

    async def read(n: int) -> bytes:
        try:
            return await req.read(n)
        except ClientGone:
            raise Cancelled("the build was cancelled: the client went away while sending the context") from None
        except ApiError as e:
            raise ContextError(f"reading the build context: {e.message}") from None
    return read


def _settle(fut: asyncio.Future, result, exc) -> None:
    if fut.done():
        return
    if exc is not None:
        fut.set_exception(exc)
    else:
        fut.set_result(result)
