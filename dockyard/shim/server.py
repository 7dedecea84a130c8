"""The control socket: JSON lines in, JSON lines out; attach/subscribe turn the connection raw.

A connection may carry several requests one after another. ``wait`` ends early (and the
connection closes) if the client sends anything or goes away while it waits. The streaming ops
take the connection over for good:

- ``attach``: ``{"ok": true}``, then output to the client, stdin from it (if asked for);
  the client's EOF closes the process's stdin (non-tty, when the attach had ``stdin``). The shim
  closes the connection after the process has exited and its output has ended.
- ``exec`` with ``attach: true``: ``{"ok": true, "pid": N}``, then as attach -- no output is
  lost, since the shim starts reading the exec's output only after that line is queued.
- ``subscribe``: ``{"ok": true}``, then one event line each; the client only reads.
"""
from __future__ import annotations

import asyncio
import logging

from .attach import Attachment
from .process import Process
from .protocol import MAX_LINE, ProtocolError, Request, encode_error, encode_ok, parse_request
from .service import Service, ShimError

log = logging.getLogger("dockyard.shim")
STDIN_READ = 65536
CLOSE_TIMEOUT = 30.0  # a client that reads nothing more is cut off after this


class Server:
    def __init__(self, service: Service):
        self.service = service
        self.connections: set[asyncio.Task] = set()

    async def start(self, path: str) -> asyncio.AbstractServer:
        return await asyncio.start_unix_server(self.handle, path=path, limit=MAX_LINE)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self.connections.add(task)
        try:
            await self._serve(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("serving a client")
        finally:
            self.connections.discard(task)
            writer.close()

    async def _serve(self, reader, writer) -> None:
        while True:
            try:
                line = await reader.readline()
            except (ValueError, asyncio.LimitOverrunError):
                writer.write(encode_error(f"request longer than {MAX_LINE} bytes"))
                return
            if not line:
                return
            if not line.strip():
                continue
            try:
                r = parse_request(line)
            except ProtocolError as e:
                writer.write(encode_error(str(e)))
                await writer.drain()
                continue
            if r.op == "attach":
                return await self._attach(r, reader, writer)
            if r.op == "exec" and r.attach:
                return await self._exec_attach(r, reader, writer)
            if r.op == "subscribe":
                return await self._subscribe(reader, writer)
            try:
                if r.op == "wait":
                    result = await self._until_client_leaves(self.service.call(r), reader)
                    if result is None:
                        return
                else:
                    result = await self.service.call(r)
            except ShimError as e:
                writer.write(encode_error(str(e)))
            except Exception as e:
                log.exception("op %s", r.op)
                writer.write(encode_error(f"{r.op}: internal error: {type(e).__name__}: {e}"))
            else:
                writer.write(encode_ok(**result))
            await writer.drain()

    @staticmethod
    async def _until_client_leaves(coro, reader):
        """The op's result, or None if the client sent more or went away first."""
        op = asyncio.ensure_future(coro)
        peek = asyncio.ensure_future(reader.read(1))
        try:
            done, _ = await asyncio.wait({op, peek}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            peek.cancel()
            try:
                await peek  # the reader must be free again before the next readline
            except (asyncio.CancelledError, ConnectionError, OSError):
                pass
        if op in done:
            return op.result()
        op.cancel()
        return None

    # ---- streams -----------------------------------------------------------------
    async def _attach(self, r: Request, reader, writer) -> None:
        try:
            _c, p = self.service.target(r)
        except ShimError as e:
            writer.write(encode_error(str(e)))
            return
        writer.write(encode_ok())
        await self._stream(p, r, reader, writer)

    async def _exec_attach(self, r: Request, reader, writer) -> None:
        try:
            p = await self.service.exec(r)
        except ShimError as e:
            writer.write(encode_error(str(e)))
            return
        # exec() started the output readers, but none has run yet: this line goes out first
        writer.write(encode_ok(pid=p.pid))
        await self._stream(p, r, reader, writer)

    async def _stream(self, p: Process, r: Request, reader, writer) -> None:
        a = Attachment(writer, stdout=r.stdout, stderr=r.stderr, stdin=r.stdin, tty=p.tty)
        p.attach(a)
        pump = asyncio.ensure_future(self._pump_stdin(p, a, reader))
        closed = asyncio.ensure_future(writer.wait_closed())
        try:
            await asyncio.wait({a.done, closed}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            pump.cancel()
            closed.cancel()
            p.detach(a)
        try:  # let the queued output reach the client, but not forever
            await asyncio.wait_for(writer.wait_closed(), CLOSE_TIMEOUT)
        except asyncio.TimeoutError:
            writer.transport.abort()
        except (ConnectionError, OSError):
            pass

    @staticmethod
    async def _pump_stdin(p: Process, a: Attachment, reader) -> None:
        while True:
            try:
                data = await reader.read(STDIN_READ)
            except (ConnectionError, OSError):
                data = b""
            if not data:
                break
            if a.stdin:
                await p.write_stdin(data)
        if a.stdin and not p.tty:
            p.close_stdin()

    async def _subscribe(self, reader, writer) -> None:
        writer.write(encode_ok())
        dropped = self.service.bus.add(writer)
        drain = asyncio.ensure_future(self._read_until_eof(reader))
        try:
            await asyncio.wait({dropped, drain}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            drain.cancel()
            self.service.bus.remove(writer)

    @staticmethod
    async def _read_until_eof(reader) -> None:
        while True:
            try:
                if not await reader.read(4096):
                    return
            except (ConnectionError, OSError):
                return
