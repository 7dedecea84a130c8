"""The request a handler receives: target, headers, query, body, and the ways to answer it."""
from __future__ import annotations

import json
from urllib.parse import parse_qs, unquote

import h11

from .errors import ApiError, ClientGone
from .headers import Headers
from .response import JSON, RAW_STREAM, raw_head, reason
from .streams import HijackedConn, StreamResponse

_FALSE = frozenset(("", "0", "no", "false", "none"))


def _reject_constant(name):
    raise ValueError(f"invalid JSON constant {name}")


def split_target(target: str) -> tuple[str, str]:
    """Request target -> (decoded path, raw query string)."""
    if target.startswith(("http://", "https://")):   # absolute form
        slash = target.find("/", target.find("://") + 3)
        target = target[slash:] if slash >= 0 else "/"
    path, _, query = target.partition("?")
    if "%" in path:
        path = unquote(path, errors="surrogateescape")
    return path, query


class Request:
    __slots__ = ("method", "target", "path", "api_version", "params", "http_version", "route",
                 "_app", "_conn", "_raw_headers", "_headers", "_query_string", "_query",
                 "_body", "_pending", "_pos", "_body_done", "_started", "_stream", "_hijacked",
                 "status")

    def __init__(self, app, conn, event: h11.Request):
        self._app = app
        self._conn = conn
        self.method = event.method.decode("ascii")
        self.target = event.target.decode("latin-1")
        self.http_version = event.http_version.decode("ascii")
        self.path, self._query_string = split_target(self.target)
        self.api_version = app.api_version
        self.params: dict[str, str] = {}
        self.route = None
        self._raw_headers = event.headers
        self._headers = None
        self._query = None
        self._body: bytes | None = None
        self._pending = b""
        self._pos = 0
        self._body_done = False
        self._started = False
        self._stream: StreamResponse | None = None
        self._hijacked: HijackedConn | None = None
        self.status: int | None = None   # what was answered, for the log

    # -- headers and query ------------------------------------------------------------------

    @property
    def headers(self) -> Headers:
        if self._headers is None:
            self._headers = Headers.from_h11(self._raw_headers)
        return self._headers

    @property
    def query(self) -> dict[str, list[str]]:
        if self._query is None:
            self._query = (parse_qs(self._query_string, keep_blank_values=True)
                           if self._query_string else {})
        return self._query

    def q(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def qbool(self, name: str) -> bool:
        """Docker's boolean query values: anything but "", 0, no, false, none is true."""
        values = self.query.get(name)
        return bool(values) and values[0].strip().lower() not in _FALSE

    def qint(self, name: str, default: int = 0) -> int:
        value = self.q(name, "").strip()
        if not value:
            return default
        digits = value[1:] if value[0] in "+-" else value
        if not (digits.isascii() and digits.isdigit()):
            raise ApiError(400, f"invalid value for query parameter {name}: {value!r} is not an integer")
        return int(value)

    def api_at_least(self, version: str) -> bool:
        from .apiversion import version_key
        return version_key(self.api_version) >= version_key(version)

    # -- body -------------------------------------------------------------------------------

    @property
    def body(self) -> bytes:
        """The whole body (routes added without ``stream=True`` have it read before the handler)."""
        if self._body is None:
            raise RuntimeError(f"{self.method} {self.path}: the body of a streaming route is read "
                               "with read() or stream_body()")
        return self._body

    def json(self):
        """The body parsed as JSON; None when the body is empty; 400 when it is not JSON."""
        body = self.body
        if not body.strip():
            return None
        try:
            return json.loads(body, parse_constant=_reject_constant)
        except ValueError as e:
            raise ApiError(400, f"invalid JSON in request body: {e}") from None
        except RecursionError:
            raise ApiError(400, "invalid JSON in request body: nested too deeply") from None

    async def _next_chunk(self) -> bytes:
        if self._body_done:
            return b""
        conn = self._conn
        if conn.h11.they_are_waiting_for_100_continue:
            conn.send_continue()
        while True:
            try:
                ev = await conn.next_event()
            except h11.RemoteProtocolError as e:
                self._body_done = True
                raise ApiError(400, f"malformed request body: {e}") from None
            kind = type(ev)
            if kind is h11.Data:
                if ev.data:
                    return bytes(ev.data)
            elif kind is h11.EndOfMessage:
                self._body_done = True
                return b""
            else:
                self._body_done = True
                raise ClientGone("client closed the connection during the request body")

    async def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes of the body (b"" at its end); ``n < 0`` reads all of it, size-limited."""
        if n < 0:
            parts, total, limit = [], 0, self._app.max_body
            while True:
                chunk = await self.read(1 << 20)
                if not chunk:
                    return b"".join(parts)
                total += len(chunk)
                if total > limit:
                    raise ApiError(413, f"request body is too large (limit {limit} bytes)")
                parts.append(chunk)
        if n == 0:
            return b""
        if self._pos >= len(self._pending):
            self._pending = await self._next_chunk()
            self._pos = 0
            if not self._pending:
                return b""
        end = min(len(self._pending), self._pos + n)
        data = self._pending[self._pos:end] if (self._pos or end < len(self._pending)) else self._pending
        self._pos = end
        return data

    async def stream_body(self, size: int = 65536):
        """Async iterator over the body, as it arrives."""
        while True:
            chunk = await self.read(size)
            if not chunk:
                return
            yield chunk

    async def _buffer_body(self):
        limit = self._app.max_body
        length = self.headers.get("content-length")
        if length and length.isdigit() and int(length) > limit:
            raise ApiError(413, f"request body is too large: {length} bytes (limit {limit} bytes)")
        self._body = await self.read()
        self._pending, self._pos = self._body, 0

    # -- answering --------------------------------------------------------------------------

    def _start(self):
        if self._started:
            raise RuntimeError(f"{self.method} {self.path}: response already started")
        self._started = True

    @property
    def disconnected(self) -> bool:
        """The client went away (for handlers that work long before answering)."""
        return self._conn.gone

    async def wait_disconnected(self) -> None:
        await self._conn.wait_gone()

    async def stream(self, status: int = 200, content_type: str = JSON,
                     headers=None) -> StreamResponse:
        """Send the head now (chunked body) and return the stream to write the body to."""
        self._start()
        app, conn = self._app, self._conn
        hdrs = app.base_headers()
        hdrs.append((b"Content-Type", content_type.encode("latin-1")))
        if headers:
            hdrs += app.extra_headers(headers)
        self.status = status
        head_only = self.method == "HEAD"
        conn.write(conn.h11.send(h11.Response(status_code=status, headers=hdrs,
                                              reason=reason(status))))
        await conn.drain()
        self._stream = StreamResponse(conn, head_only)
        return self._stream

    async def hijack(self, content_type: str = RAW_STREAM) -> HijackedConn:
        """Take the socket over: ``101 UPGRADED`` if the client asked for ``Upgrade: tcp``,
        else ``200 OK``; then raw bytes both ways."""
        if self._body is None:   # read it now, so it cannot be taken for stream input
            await self._buffer_body()
        self._start()
        conn = self._conn
        upgrade = "upgrade" in self.headers and "upgrade" in self.headers.tokens("connection")
        ctype = content_type.encode("latin-1")
        if upgrade:
            self.status = 101
            head = raw_head(b"HTTP/1.1 101 UPGRADED", [(b"Content-Type", ctype),
                                                       (b"Connection", b"Upgrade"),
                                                       (b"Upgrade", b"tcp")])
        else:
            self.status = 200
            head = raw_head(b"HTTP/1.1 200 OK", self._app.base_headers() + [(b"Content-Type", ctype)])
        conn.switch_to_raw()
        conn.write(head)
        await conn.drain()
        self._hijacked = HijackedConn(conn)
        return self._hijacked
