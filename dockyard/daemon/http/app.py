"""The application: route table, Docker's version rules, error answers, request log, servers."""
from __future__ import annotations

import asyncio
import os
import time

import h11

from .apiversion import split_version, version_error
from .connection import HttpConnection, log
from .errors import ApiError, ClientGone
from .listeners import TCPListener, UnixListener, bind_unix, parse_listener
from .response import JSON, Response, error_body, header_pairs, http_date
from .request import Request
from .router import Router

DEFAULT_API_VERSION = "1.41"
MIN_API_VERSION = "1.41"


def _package_version() -> str:
    try:
        from importlib.metadata import version
        return version("dockyard")
    except Exception:
        return "0.0.0"


class App:
    """Routes and servers. Handlers are ``async def handler(req) -> Response``."""

    def __init__(self, *, api_version: str = DEFAULT_API_VERSION,
                 min_api_version: str = MIN_API_VERSION, server_version: str | None = None,
                 max_body: int = 64 << 20, max_header_size: int = 64 << 10):
        self.api_version = api_version
        self.min_api_version = min_api_version
        self.server_version = server_version or _package_version()
        self.max_body = max_body
        self.max_header_size = max_header_size
        self.router = Router()
        self._base = [
            (b"Api-Version", api_version.encode()),
            (b"Docker-Experimental", b"false"),
            (b"Ostype", b"linux"),
            (b"Server", f"Dockyard/{self.server_version} (linux)".encode()),
        ]
        self._servers: list[asyncio.AbstractServer] = []
        self._unix_paths: list[tuple[str, int]] = []
        self._connections: set[HttpConnection] = set()
        self._closed: asyncio.Event | None = None
        self.addresses: list = []

    # -- routes -----------------------------------------------------------------------------

    def add_route(self, method: str, pattern: str, handler, *, stream: bool = False) -> None:
        """``stream=True``: the body is not read before the handler (use req.read/stream_body)."""
        self.router.add(method, pattern, handler, stream)

    def route(self, method: str, pattern: str, *, stream: bool = False):
        def register(handler):
            self.add_route(method, pattern, handler, stream=stream)
            return handler
        return register

    # -- headers ----------------------------------------------------------------------------

    def base_headers(self) -> list[tuple[bytes, bytes]]:
        """The headers every response carries (a fresh list)."""
        out = self._base.copy()
        out.append((b"Date", http_date()))
        return out

    @staticmethod
    def extra_headers(headers) -> list[tuple[bytes, bytes]]:
        return header_pairs(headers.items() if isinstance(headers, dict) else headers)

    # -- one request ------------------------------------------------------------------------

    async def _call(self, req):
        version, path = split_version(req.path)
        found = self.router.match(req.method, path)
        if found is None:
            raise ApiError(404, "page not found")
        route, params = found
        req.path, req.params, req.route = path, params, route
        if version is not None:
            message = version_error(version, self.min_api_version, self.api_version)
            if message:
                raise ApiError(400, message)
            req.api_version = version
        if not route.stream:
            await req._buffer_body()
        return await route.handler(req)

    def _send(self, conn, req, resp: Response):
        headers = self.base_headers()
        if resp.content_type:
            headers.append((b"Content-Type", resp.content_type.encode("latin-1")))
        if resp.status != 204 and resp.status != 304:
            headers.append((b"Content-Length", str(len(resp.body)).encode()))
        if resp.headers:
            headers += header_pairs(resp.headers)
        req.status = resp.status
        conn.send_response(resp.status, headers, resp.body, req.method == "HEAD")

    async def _dispatch(self, conn, event) -> bool:
        """Answer one request; False when the connection must end afterwards."""
        start = time.perf_counter()
        req = Request(self, conn, event)
        keep, note = True, ""
        try:
            try:
                resp = await self._call(req)
                if not req._started and not isinstance(resp, Response):
                    raise TypeError(f"handler for {req.method} {req.path} returned "
                                    f"{type(resp).__name__}, not a Response")
            except ApiError as e:
                resp = Response(e.status, error_body(e.message), None, JSON)
                if req._started:
                    note = f" (failed after the response started: {e.message})"
                    keep = False
            except ClientGone:
                raise
            except Exception as e:
                log.exception("%s %s failed", req.method, req.target)
                resp = Response(500, error_body(str(e) or type(e).__name__), None, JSON)
                if req._started:
                    note = f" (failed after the response started: {e})"
                    keep = False
            if req._hijacked is not None:
                keep = False
            elif req._stream is not None:
                if keep:
                    await req._stream.close()
            elif not req._started:
                try:
                    self._send(conn, req, resp)
                except h11.LocalProtocolError as e:   # e.g. a header h11 refuses to send
                    log.exception("%s %s: invalid response", req.method, req.target)
                    req.status, keep = 500, False
                    conn.send_raw_error(500, f"invalid response: {e}")
                await conn.drain()
        except ClientGone:
            keep, note = False, " (client gone)"
        ms = (time.perf_counter() - start) * 1000
        log.info("%s %s %s %.1fms%s", req.method, req.target, req.status or "-", ms, note)
        return keep

    # -- servers ----------------------------------------------------------------------------

    async def start(self, listeners) -> list:
        """Listen on each of ``listeners`` (objects or ``unix://``/``tcp://`` strings).
        Returns the addresses: unix paths and ``(host, port)`` tuples (port 0 resolved)."""
        loop = asyncio.get_running_loop()
        if self._closed is None:
            self._closed = asyncio.Event()
        started = []
        try:
            for spec in listeners:
                lst = parse_listener(spec) if isinstance(spec, str) else spec
                if isinstance(lst, UnixListener):
                    sock = bind_unix(lst)
                    try:
                        server = await loop.create_unix_server(lambda: HttpConnection(self), sock=sock)
                    except BaseException:
                        sock.close()
                        os.unlink(lst.path)
                        raise
                    self._unix_paths.append((lst.path, os.stat(lst.path).st_ino))
                    addr = lst.path
                elif isinstance(lst, TCPListener):
                    ctx = lst.ssl
                    server = await loop.create_server(lambda: HttpConnection(self, ctx),
                                                      lst.host, lst.port, reuse_address=True)
                    addr = server.sockets[0].getsockname()[:2]
                else:
                    raise TypeError(f"not a listener: {spec!r}")
                self._servers.append(server)
                started.append(addr)
        except BaseException:
            await self.close()
            raise
        self.addresses += started
        log.info("API listening on %s", ", ".join(map(str, started)))
        return started

    async def serve(self, listeners) -> None:
        """Listen and serve until ``close()``."""
        await self.start(listeners)
        try:
            await self._closed.wait()
        finally:
            await self.close()

    async def close(self) -> None:
        """Stop listening, close every connection (their handlers are cancelled)."""
        servers, self._servers = self._servers, []
        for server in servers:
            server.close()
        for path, ino in self._unix_paths:
            try:
                if os.lstat(path).st_ino == ino:
                    os.unlink(path)
            except FileNotFoundError:
                pass
        self._unix_paths = []
        tasks = []
        for conn in list(self._connections):
            conn.close()
            if conn.task is not None and conn.task is not asyncio.current_task():
                conn.task.cancel()
                tasks.append(conn.task)
        if tasks:
            await asyncio.wait(tasks, timeout=5)
        for server in servers:
            await server.wait_closed()
        if self._closed is not None:
            self._closed.set()
