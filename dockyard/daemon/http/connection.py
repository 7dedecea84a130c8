"""One client connection: bytes in and out, h11 for the HTTP/1.1 framing, raw after a hijack.

The connection keeps its write side open when the client half-closes (``eof_received`` returns
True), which is what Docker's attach needs. While an HTTP response is in progress, the end of the
client's stream means the client went away (HTTP clients do not half-close), and streams see
``ClientGone``; after a hijack it only means "no more input".
"""
from __future__ import annotations

import asyncio
import logging
import ssl

import h11

from .errors import ClientGone
from .response import error_body, raw_head, reason
from .tls import TLSSession

log = logging.getLogger("dockyard.api")

_HIGH_WATER = 1 << 20        # stop reading the socket above this many unprocessed bytes
_DISCARD_LIMIT = 256 << 10   # request body left unread that we skip to keep the connection


class HttpConnection(asyncio.Protocol):
    def __init__(self, app, tls_context: ssl.SSLContext | None = None):
        self.app = app
        self._tls = TLSSession(tls_context) if tls_context is not None else None
        self.transport = None
        self.h11: h11.Connection | None = None
        self.task: asyncio.Task | None = None
        self.eof = False       # the client will send nothing more
        self.lost = False      # the socket is gone
        self.raw = False       # hijacked: bytes both ways, no more HTTP
        self._closed = False   # we closed it
        self._inbuf = bytearray()
        self._read_waiter: asyncio.Future | None = None
        self._read_paused = False
        self._drain_waiter: asyncio.Future | None = None
        self._write_paused = False
        self._gone_waiters: list[asyncio.Future] = []
        self._sent_continue = False

    # -- asyncio.Protocol --------------------------------------------------------------------

    def connection_made(self, transport):
        self.transport = transport
        self.h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=self.app.max_header_size)
        self.app._connections.add(self)
        self.task = asyncio.get_running_loop().create_task(self._run())

    def data_received(self, data: bytes):
        if self._tls is not None:
            if self._tls.peer_closed:
                return
            try:
                data = self._tls.receive(data)
            except ssl.SSLError as e:
                self._tls_failed(e)
                return
            self._flush_tls()
            if self._tls.peer_closed:
                self._append(data)
                self._on_eof()
                return
        self._append(data)

    def eof_received(self):
        # With TLS, the TCP FIN is not passed to OpenSSL: an EOF without close_notify would put
        # the session in an error state where our writes fail too.
        self._on_eof()
        return True  # keep our write side open: a hijacked stream goes on writing

    def connection_lost(self, exc):
        self.lost = True
        self.eof = True
        self._wake_reader()
        if self._drain_waiter is not None and not self._drain_waiter.done():
            self._drain_waiter.set_result(None)
        self._notify_gone()

    def pause_writing(self):
        self._write_paused = True

    def resume_writing(self):
        self._write_paused = False
        if self._drain_waiter is not None and not self._drain_waiter.done():
            self._drain_waiter.set_result(None)

    # -- input ------------------------------------------------------------------------------

    def _append(self, data: bytes):
        if not data:
            return
        self._inbuf += data
        if len(self._inbuf) > _HIGH_WATER and not self._read_paused and not self.lost:
            self._read_paused = True
            self.transport.pause_reading()
        self._wake_reader()

    def _on_eof(self):
        self.eof = True
        self._wake_reader()
        if not self.raw:
            self._notify_gone()

    def _wake_reader(self):
        w = self._read_waiter
        if w is not None and not w.done():
            w.set_result(None)

    async def _readable(self):
        while not self._inbuf and not self.eof:
            self._read_waiter = asyncio.get_running_loop().create_future()
            try:
                await self._read_waiter
            finally:
                self._read_waiter = None

    def _take(self, n: int = -1) -> bytes:
        buf = self._inbuf
        if n < 0 or n >= len(buf):
            data = bytes(buf)
            buf.clear()
        else:
            data = bytes(buf[:n])
            del buf[:n]
        if self._read_paused and len(buf) <= _HIGH_WATER // 4 and not self.lost:
            self._read_paused = False
            self.transport.resume_reading()
        return data

    async def next_event(self):
        """The next h11 event, reading the socket as h11 needs."""
        h = self.h11
        while True:
            ev = h.next_event()
            if ev is not h11.NEED_DATA:
                return ev
            await self._readable()
            h.receive_data(self._take() if self._inbuf else b"")

    async def read_raw(self, n: int) -> bytes:
        await self._readable()
        return self._take(n) if self._inbuf else b""

    # -- client gone ------------------------------------------------------------------------

    @property
    def gone(self) -> bool:
        return self.lost or (self.eof and not self.raw)

    def _notify_gone(self):
        waiters, self._gone_waiters = self._gone_waiters, []
        for w in waiters:
            if not w.done():
                w.set_result(None)

    async def wait_gone(self):
        if self.gone:
            return
        fut = asyncio.get_running_loop().create_future()
        self._gone_waiters.append(fut)
        try:
            await fut
        finally:
            if fut in self._gone_waiters:
                self._gone_waiters.remove(fut)

    # -- output -----------------------------------------------------------------------------

    def write(self, data: bytes):
        if self.lost or self.transport.is_closing():
            raise ClientGone("client connection is closed")
        if self._tls is not None:
            try:
                data = self._tls.encrypt(data)
            except ssl.SSLError as e:
                raise ClientGone(f"TLS connection failed: {e}") from None
        self.transport.write(data)

    async def drain(self):
        if self._write_paused and not self.lost:
            waiter = self._drain_waiter   # shared: several tasks may write (stdout and stderr)
            if waiter is None or waiter.done():
                waiter = self._drain_waiter = asyncio.get_running_loop().create_future()
            await asyncio.shield(waiter)
        if self.lost or (self.transport.is_closing() and not self._closed):
            raise ClientGone("client connection is closed")

    def _flush_tls(self):
        out = self._tls.outgoing()
        if out and not self.transport.is_closing():
            self.transport.write(out)

    def _tls_failed(self, exc: Exception):
        log.info("TLS connection from %s refused: %s", self._peer(), exc)
        self._flush_tls()   # the alert, so the client learns why
        self.close()

    def _peer(self) -> str:
        peer = self.transport.get_extra_info("peername") if self.transport else None
        return str(peer[0]) if isinstance(peer, tuple) else "unix socket"

    def close(self):
        if self._closed or self.transport is None:
            return
        self._closed = True
        if not self.transport.is_closing():
            if self._tls is not None and not self.lost:
                try:
                    out = self._tls.close_notify()
                    if out:
                        self.transport.write(out)
                except ssl.SSLError:
                    pass
            self.transport.close()

    # -- HTTP -------------------------------------------------------------------------------

    def send_continue(self):
        if not self._sent_continue:
            self._sent_continue = True
            self.write(self.h11.send(h11.InformationalResponse(status_code=100, headers=[])))

    def send_response(self, status: int, headers, body: bytes, head_only: bool):
        h = self.h11
        out = h.send(h11.Response(status_code=status, headers=headers, reason=reason(status)))
        if body and not head_only:
            out += h.send(h11.Data(data=body))
        out += h.send(h11.EndOfMessage())
        self.write(out)

    def switch_to_raw(self):
        data, closed = self.h11.trailing_data
        if data:
            self._inbuf[:0] = data
        if closed:
            self.eof = True
        self.raw = True

    async def _run(self):
        try:
            while await self._serve_one():
                pass
        except ClientGone:
            pass
        except Exception:
            log.exception("connection from %s failed", self._peer())
        finally:
            self.close()
            self.app._connections.discard(self)

    async def _serve_one(self) -> bool:
        try:
            ev = await self.next_event()
        except h11.RemoteProtocolError as e:
            self._reject(e)
            return False
        if type(ev) is not h11.Request:
            return False
        # h11 limits only heads that arrive in pieces; a complete one is measured here
        size = len(ev.target) + sum(len(n) + len(v) + 4 for n, v in ev.headers.raw_items())
        if size > self.app.max_header_size:
            self._reject(h11.RemoteProtocolError("request headers too large", 431))
            return False
        if ev.http_version not in (b"1.1", b"1.0"):
            self._reject(h11.RemoteProtocolError(
                f"unsupported HTTP version {ev.http_version.decode()}", 505))
            return False
        self._sent_continue = False
        waiting = self.h11.they_are_waiting_for_100_continue
        keep = await self.app._dispatch(self, ev)
        if not keep or self.lost or self.raw:
            return False
        h = self.h11
        if h.their_state is h11.SEND_BODY:
            if waiting and not self._sent_continue:
                return False   # the client holds back a body we never asked for
            if not await self._discard_body():
                return False
        if h.our_state is h11.DONE and h.their_state is h11.DONE:
            h.start_next_cycle()
            return True
        return False

    async def _discard_body(self) -> bool:
        left = _DISCARD_LIMIT
        while True:
            try:
                ev = await self.next_event()
            except h11.RemoteProtocolError:
                return False
            if type(ev) is h11.Data:
                left -= len(ev.data)
                if left < 0:
                    return False
            else:
                return type(ev) is h11.EndOfMessage

    def _reject(self, exc: h11.RemoteProtocolError):
        """Answer a request h11 could not parse, then close."""
        status = exc.error_status_hint
        if status == 431:
            message = f"request headers too large (limit {self.app.max_header_size} bytes)"
        else:
            message = f"malformed HTTP request: {exc}"
        log.info("- - %d (%s, from %s)", status, message, self._peer())
        self.send_raw_error(status, message)

    def send_raw_error(self, status: int, message: str):
        """An error answer written by hand (h11 cannot send any more), then the connection ends."""
        body = error_body(message)
        headers = self.app.base_headers() + [
            (b"Content-Type", b"application/json"),
            (b"Content-Length", str(len(body)).encode()),
            (b"Connection", b"close"),
        ]
        try:
            self.write(raw_head(b"HTTP/1.1 %d %s" % (status, reason(status)), headers) + body)
        except ClientGone:
            pass
