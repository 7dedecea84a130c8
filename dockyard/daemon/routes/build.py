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
import threading

from ..http import ApiError, ClientGone
from ..images import bridge
from ..images import jsonmessage as jm

log = logging.getLogger("dockyard.build")


def register(app, daemon) -> None:
    from ...build.engine import layers
    from ...build.engine.backend import for_daemon
    state: dict = {}
    import os
    layers.cleanup_stale(daemon.snapshotter, os.path.join(daemon.cfg.data_root, "builder", "tmp"))

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
        body = bridge.ThreadReader(loop, req.read)
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
        stream = None
        try:
            while True:
                item = await feed.queue.get()
                if item is feed.END:
                    break
                if stream is None:
                    stream = await _open(req, cancel)
                    if stream is None:
                        continue
                if not await _write(stream, item, cancel):
                    stream = False
            try:
                await done
            except BuildError as e:
                if stream is None and not reporter.holding:
                    raise ApiError(e.status if e.status != 499 else 500, e.message) from None
                if stream is None:
                    stream = await _open(req, cancel)
                if stream:
                    await _flush_failure(stream, reporter, e, cancel)
                return None
            except Exception as e:
                log.error("build failed", exc_info=e)
                if stream is None:
                    raise ApiError(500, f"build failed: {e}") from None
                if stream:
                    await _write(stream, jm.error(str(e) or type(e).__name__), cancel)
                return None
            if stream is None:
                stream = await _open(req, cancel)
            return None
        finally:
            watch.cancel()
            if stream:
                try:
                    await stream.close()
                except ClientGone:
                    pass


def _settle(fut: asyncio.Future, result, exc) -> None:
    if fut.done():
        return
    if exc is not None:
        fut.set_exception(exc)
    else:
        fut.set_result(result)


async def _open(req, cancel: threading.Event):
    try:
        return await req.stream(200, "application/json")
    except ClientGone:
        cancel.set()
        return False


async def _write(stream, msg: dict, cancel: threading.Event) -> bool:
    if not stream:
        return False
    try:
        await stream.write(jm.encode(msg))
        return True
    except ClientGone:
        cancel.set()
        return False


async def _flush_failure(stream, reporter, e, cancel: threading.Event) -> None:
    """The held-back (quiet) output, then the error message with the step's exit code."""
    for msg in reporter.failure(e.message, e.code):
        if not await _write(stream, msg, cancel):
            return
