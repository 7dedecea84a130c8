"""The embedded DNS server of user-defined networks.

Like dockerd, it answers inside each container's own network namespace on 127.0.0.11:53 (UDP and
TCP): the service gets two sockets made in the container's namespace by the netns helper, bound to
127.0.0.11 on ports of their own, and an nftables table in that namespace (``dockyard-dns``) DNATs
port 53 to them — so the container's own programs can still use port 53, as with Docker. The
service serves them from this process: a query always identifies the container that sent it,
nothing is reachable from other networks, and nothing listens on the host. The container's
resolv.conf says ``nameserver 127.0.0.11``.

Container names, network aliases and short ids of the endpoints on the container's user-defined
networks resolve to their addresses (A; AAAA answers NODATA, as the networks are IPv4), addresses
resolve back (PTR) to ``name.network``, ``name.network`` also resolves. Everything else is forwarded
to the container's ``--dns`` servers or the host's resolvers — from the host's namespace, so
loopback resolvers such as systemd-resolved's 127.0.0.53 work too.
"""
from __future__ import annotations

import asyncio
import logging
import socket
import struct

from . import dnsmsg as M

log = logging.getLogger(__name__)

LISTEN = ("127.0.0.11", 53)
TTL = 600
MAX_TCP_CLIENTS = 64
TCP_IDLE = 10.0


def host_upstreams(path: str = "/etc/resolv.conf") -> list[tuple[str, int]]:
    """The host's nameservers."""
    out = []
    try:
        with open(path) as f:
            for line in f:
                w = line.split()
                if len(w) >= 2 and w[0] == "nameserver":
                    out.append((w[1].split("%")[0], 53))
    except OSError:
        pass
    return out


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, server: "DnsServer", key: str):
        self.server, self.key = server, key
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        self.server._spawn(self._answer(data, addr))

    async def _answer(self, data, addr):
        out = await self.server.answer(self.key, data, tcp=False)
        if out is not None and self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(out, addr)


class _Forward(asyncio.DatagramProtocol):
    def __init__(self, fut: asyncio.Future, qid: int):
        self.fut, self.qid = fut, qid

    def datagram_received(self, data, addr):
        if len(data) >= 2 and struct.unpack_from("!H", data)[0] == self.qid and not self.fut.done():
            self.fut.set_result(data)

    def error_received(self, exc):
        if not self.fut.done():
            self.fut.set_exception(exc)


class DnsServer:
    """``index()`` returns the current ``DnsIndex``; ``upstreams()`` the host's resolvers."""

    def __init__(self, index, upstreams=host_upstreams, timeout: float = 2.0):
        self.index = index
        self.upstreams = upstreams
        self.timeout = timeout
        self._listeners: dict[str, tuple] = {}
        self._tasks: set[asyncio.Task] = set()
        self._tcp_clients = 0

    def _spawn(self, coro) -> None:
        t = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(t)
        t.add_done_callback(self._tasks.discard)

    # --- listeners ---------------------------------------------------------------------------

    async def add(self, key: str, udp: socket.socket, tcp: socket.socket) -> None:
        """Serve the (bound) sockets of container ``key``; the server owns them from now on."""
        await self.remove(key)
        loop = asyncio.get_running_loop()
        try:
            udp.setblocking(False)
            tcp.setblocking(False)
            transport, _ = await loop.create_datagram_endpoint(lambda: _Udp(self, key), sock=udp)
            srv = await loop.create_server(lambda: _tcp_protocol(self, key), sock=tcp, backlog=16)
        except BaseException:
            udp.close()
            tcp.close()
            raise
        self._listeners[key] = (transport, srv)

    async def remove(self, key: str) -> None:
        entry = self._listeners.pop(key, None)
        if entry:
            transport, srv = entry
            transport.close()
            srv.close()

    def keys(self) -> set[str]:
        return set(self._listeners)

    async def close(self) -> None:
        for key in list(self._listeners):
            await self.remove(key)
        for t in list(self._tasks):
            t.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    # --- answering ---------------------------------------------------------------------------

    async def answer(self, key: str, data: bytes, tcp: bool) -> bytes | None:
        try:
            q = M.parse(data)
        except M.DNSError:
            return M.error_reply(data, M.FORMERR)
        if q.qr:
            return None
        if q.opcode != M.QUERY:
            return M.encode(M.reply_to(q, M.NOTIMP))
        if len(q.questions) != 1:
            return M.encode(M.reply_to(q, M.FORMERR))
        qs = q.questions[0]
        limit = 65535 if tcp else M.udp_limit(q)
        local = self.local_answer(key, q)
        if local is not None:
            try:
                return M.truncate(local, limit)
            except M.DNSError:     # a name that cannot be written back (not ASCII, label too long)
                return M.error_reply(data, M.SERVFAIL)
        out = await self.forward(key, data, tcp, q.id)
        if out is None:
            log.debug("no upstream answered %s for %s", qs.name, key)
            return M.encode(M.reply_to(q, M.SERVFAIL, aa=False))
        return out

    def local_answer(self, key: str, q: M.Message) -> M.Message | None:
        qs = q.questions[0]
        if qs.qclass not in (M.IN, M.ANY):
            return None
        idx = self.index()
        if qs.qtype == M.PTR:
            ip = M.from_reverse(qs.name)
            name = idx.reverse_lookup(key, ip) if ip else None
            if name is None:
                return None
            return M.reply_to(q, answers=[M.Record(qs.name, M.PTR, M.IN, TTL, name)])
        ips = idx.lookup(key, qs.name)
        if ips is None:
            return None
        if qs.qtype in (M.A, M.ANY):
            return M.reply_to(q, answers=[M.Record(qs.name, M.A, M.IN, TTL, ip) for ip in ips if ":" not in ip])
        if qs.qtype == M.AAAA:
            return M.reply_to(q, answers=[M.Record(qs.name, M.AAAA, M.IN, TTL, ip) for ip in ips if ":" in ip])
        return M.reply_to(q)  # a known name without records of that type: NODATA

    def _servers(self, key: str) -> list[tuple[str, int]]:
        mine = self.index().upstreams.get(key)
        if mine:
            return [(s, 53) if isinstance(s, str) else tuple(s) for s in mine]
        return list(self.upstreams())

    async def forward(self, key: str, data: bytes, tcp: bool, qid: int) -> bytes | None:
        for server in self._servers(key):
            try:
                if tcp:
                    return await asyncio.wait_for(_forward_tcp(server, data), self.timeout)
                return await _forward_udp(server, data, qid, self.timeout)
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError):
                continue
        return None


async def _forward_udp(server, data: bytes, qid: int, timeout: float) -> bytes:
    loop = asyncio.get_running_loop()
    fut = loop.create_future()
    family = socket.AF_INET6 if ":" in server[0] else socket.AF_INET
    transport, _ = await loop.create_datagram_endpoint(lambda: _Forward(fut, qid), remote_addr=server,
                                                       family=family)
    try:
        transport.sendto(data)
        return await asyncio.wait_for(fut, timeout)
    finally:
        transport.close()


async def _forward_tcp(server, data: bytes) -> bytes:
    reader, writer = await asyncio.open_connection(server[0], server[1])
    try:
        writer.write(struct.pack("!H", len(data)) + data)
        await writer.drain()
        n = struct.unpack("!H", await reader.readexactly(2))[0]
        return await reader.readexactly(n)
    finally:
        writer.close()


def _tcp_protocol(server: DnsServer, key: str):
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        if server._tcp_clients >= MAX_TCP_CLIENTS:
            writer.close()
            return
        server._tcp_clients += 1
        try:
            while True:
                head = await asyncio.wait_for(reader.readexactly(2), TCP_IDLE)
                n = struct.unpack("!H", head)[0]
                data = await asyncio.wait_for(reader.readexactly(n), TCP_IDLE)
                out = await server.answer(key, data, tcp=True)
                if out is None:
                    break
                writer.write(struct.pack("!H", len(out)) + out)
                await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.TimeoutError, ConnectionError, OSError):
            pass
        finally:
            server._tcp_clients -= 1
            writer.close()

    reader = asyncio.StreamReader(limit=65536 + 2)
    return asyncio.StreamReaderProtocol(reader, lambda r, w: server._spawn(serve(r, w)))
