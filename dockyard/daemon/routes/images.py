"""Image endpoints of the Engine API (v1.41): list, create (pull/import), inspect, history, tag,
remove, push, save (get), load, prune, search, and POST /auth.

Blocking work runs in the loop's thread pool. Streaming answers (pull, push, import, load)
start only with their first message, so an error found before it is a plain JSON error with
its status (``404 {"message": "manifest for x:1 not found: ..."}``, as dockerd answers); an
error after it ends the stream with ``{"errorDetail": ..., "error": ...}``. A client that goes
away cancels a pull or push while it has changed nothing; past that point the work finishes,
so no image is ever half there.
"""
from __future__ import annotations

import asyncio
import logging
import threading

from ..http import ApiError, ClientGone, Response, json_response
from ..images import bridge
from ..images import errors as imgerrors
from ..images import jsonmessage as jm
from ..images.service import ImageService
from .common import parse_filters

log = logging.getLogger("dockyard.daemon.images")
TAR = "application/x-tar"
JSON = "application/json"


def _api_error(e: BaseException) -> ApiError:
    return ApiError(imgerrors.http_status(e), imgerrors.message(e))


def _known(e: BaseException) -> bool:
    """Errors with a meaning for the client (anything else is a daemon bug: logged, 500)."""
    from dockyard.images.content import ContentError
    from dockyard.images.errors import ImageError
    from dockyard.images.layerio import LayerError as ImageLayerError
    from dockyard.images.platform import PlatformError
    from dockyard.images.reference import ReferenceError
    from dockyard.registry.errors import RegistryError
    from dockyard.snapshots.apply import LayerError
    from dockyard.snapshots.snapshotter import SnapshotError
    from dockyard.spec.image import SpecError

    return isinstance(e, (ImageError, RegistryError, ReferenceError, PlatformError, SpecError, LayerError,
                          ImageLayerError, SnapshotError, ContentError, imgerrors.Cancelled, OSError))


async def _blocking(fn, *args):
    """Run ``fn(*args)`` in the thread pool; known errors become API errors."""
    loop = asyncio.get_running_loop()
    try:
        return await loop.run_in_executor(None, lambda: fn(*args))
    except ApiError:
        raise
    except Exception as e:
        if _known(e):
            raise _api_error(e) from None
        raise


class _LazyStream:
    """A response stream opened by its first write; a client gone sets ``cancel``."""

    def __init__(self, req, cancel: threading.Event, content_type: str = JSON):
        self.req, self.cancel, self.content_type = req, cancel, content_type
        self.stream = None
        self.gone = False

    @property
    def started(self) -> bool:
        return self.stream is not None

    async def write(self, data: bytes) -> None:
        if self.gone:
            return
        try:
            if self.stream is None:
                self.stream = await self.req.stream(200, self.content_type)
            await self.stream.write(data)
        except ClientGone:
            self.gone = True
            self.cancel.set()

    async def close(self) -> None:
        """Make sure the response started (an empty 200 stream) unless the client is gone."""
        if self.stream is None:
            if self.gone or self.req.disconnected:
                raise ClientGone("client went away before the answer")
            self.stream = await self.req.stream(200, self.content_type)


async def _progress_job(req, work):
    """Run ``work(progress, cancel)`` in a thread, streaming its messages as dockerd does."""
    loop = asyncio.get_running_loop()
    feed = bridge.Feed(loop)
    cancel = threading.Event()
    out = _LazyStream(req, cancel)

    def run():
        try:
            return work(feed.put, cancel)
        finally:
            feed.end()

    fut = loop.run_in_executor(None, run)
    watch = asyncio.ensure_future(req.wait_disconnected())
    watch.add_done_callback(lambda t: cancel.set() if not t.cancelled() else None)
    try:
        while True:
            item = await feed.queue.get()
            if item is feed.END:
                break
            await out.write(jm.encode(item))
        try:
            result = await fut
        except Exception as e:
            if not _known(e) and not out.started:
                raise
            if not out.started:
                raise _api_error(e) from None
            if not _known(e):
                log.error("%s %s failed in the stream", req.method, req.path, exc_info=e)
            await out.write(jm.encode(jm.error(imgerrors.message(e))))
            return None
        await out.close()
        return result
    finally:
        watch.cancel()


def register(app, images: ImageService) -> None:
    """Add the image endpoints (and POST /auth) of ``images`` to ``app``."""
    # --- list, inspect, history ------------------------------------------------------------

    @app.route("GET", "/images/json")
    async def list_images(req):
        filters = parse_filters(req)
        return json_response(await _blocking(images.list, req.qbool("all"), filters, req.qbool("digests")))

    @app.route("GET", "/images/{name:path}/json")
    async def inspect_image(req):
        return json_response(await _blocking(images.inspect, req.params["name"]))

    @app.route("GET", "/images/{name:path}/history")
    async def image_history(req):
        return json_response(await _blocking(images.history, req.params["name"]))

    # --- pull and import -------------------------------------------------------------------

    @app.route("POST", "/images/create", stream=True)
    async def create_image(req):
        from_image, from_src = req.q("fromImage", ""), req.q("fromSrc", "")
        platform = req.q("platform", "") or None
        if from_image:
            auth = images.parse_auth(req.headers.get("X-Registry-Auth"))
            tag = req.q("tag", "")
            await _progress_job(req, lambda progress, cancel: images.pull(
                from_image, platform=platform, auth=auth, progress=progress, cancel=cancel, tag=tag,
                all_tags=not tag))
            return None
        if not from_src:
            raise ApiError(400, "fromImage or fromSrc is required")
        loop = asyncio.get_running_loop()
        body = bridge.ThreadReader(loop, req.read) if from_src == "-" else None
        await _progress_job(req, lambda progress, cancel: images.import_(
            body, repo=req.q("repo", ""), tag=req.q("tag", ""), message=req.q("message", ""),
            changes=req.query.get("changes", []), platform=platform, src_name=from_src, progress=progress))
        return None

    # --- names ---------------------------------------------------------------------------------

    @app.route("POST", "/images/{name:path}/tag")
    async def tag_image(req):
        await _blocking(images.tag, req.params["name"], req.q("repo", ""), req.q("tag", ""))
        return Response(201)

    @app.route("DELETE", "/images/{name:path}")
    async def remove_image(req):
        return json_response(await _blocking(images.remove, req.params["name"], req.qbool("force"),
                                             req.qbool("noprune")))

    @app.route("POST", "/images/prune")
    async def prune_images(req):
        return json_response(await _blocking(images.prune, parse_filters(req)))

    # --- registry --------------------------------------------------------------------------

    @app.route("POST", "/images/{name:path}/push")
    async def push_image(req):
        name, tag = req.params["name"], req.q("tag", "")
        auth = images.parse_auth(req.headers.get("X-Registry-Auth"))
        await _progress_job(req, lambda progress, cancel: images.push(name, tag, auth, progress, cancel))
        return None

    @app.route("POST", "/auth")
    async def auth(req):
        body = req.json() or {}
        if not isinstance(body, dict):
            raise ApiError(400, "invalid JSON: the body must be an object")
        return json_response(await _blocking(images.auth, body))

    @app.route("GET", "/images/search")
    async def search_images(req):
        term = req.q("term", "")
        limit = req.qint("limit", 0) or None
        return json_response(await _blocking(images.search, term, limit, parse_filters(req)))

    # --- archives --------------------------------------------------------------------------

    async def save(req, names: list[str]):
        if not names:
            raise ApiError(400, "no images given: use names=...")
        loop = asyncio.get_running_loop()
        out = _LazyStream(req, threading.Event(), TAR)

        async def awrite(data: bytes) -> None:
            await out.write(data)
            if out.gone:
                raise ClientGone("client went away during image save")

        writer = bridge.ThreadWriter(loop, awrite)

        def work():
            images.save(names, writer)
            writer.flush()

        try:
            await loop.run_in_executor(None, work)
        except ClientGone:
            return None
        except Exception as e:
            if out.started:  # the tar is cut: close the connection without ending the stream
                raise
            if _known(e):
                raise _api_error(e) from None
            raise
        await out.close()
        return None

    @app.route("GET", "/images/get")
    async def save_images(req):
        return await save(req, req.query.get("names", []))

    @app.route("GET", "/images/{name:path}/get")
    async def save_image(req):
        return await save(req, [req.params["name"]])

    @app.route("POST", "/images/load", stream=True)
    async def load_images(req):
        loop = asyncio.get_running_loop()
        body = bridge.ThreadReader(loop, req.read)
        quiet = req.qbool("quiet")
        await _progress_job(req, lambda progress, cancel: images.load(body, quiet, progress))
        return None
