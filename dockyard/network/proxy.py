"""A small userland proxy (asyncio), only where the kernel path cannot work.

Published ports are DNAT rules in the ``ip`` family. A connection to a published port over IPv6
(``[::1]:8080`` or the host's IPv6 address — "localhost" often resolves to ::1 first) cannot be
DNATed to the container's IPv4 address: the kernel has no IPv6-to-IPv4 NAT. For those the service
listens on the IPv6 side of the port and forwards, like docker-proxy. IPv4, including 127.0.0.1
and hairpin connections, never goes through here.
"""
from __future__ import annotations

import asyncio
import socket

UDP_IDLE = 90.0      # seconds an idle UDP flow is kept (docker-proxy's timeout)
MAX_UDP_FLOWS = 1024
BUF = 65536


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            data = await reader.read(BUF)
            if not data:
                break
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        writer.close()


class TcpProxy:
    def __init__(self, sock: socket.socket, target: tuple[str, int]):
        self.sock, self.target = sock, target
        self.server: asyncio.AbstractServer | None = None
        self._conns: set[asyncio.Task] = set()

    async def start(self) -> None:
        self.sock.setblocking(False)
        self.server = await asyncio.start_server(self._handle, sock=self.sock, backlog=128)

    async def _handle(self, creader, cwriter) -> None:
        task = asyncio.current_task()
        self._conns.add(task)
        try:
            try:
                ureader, uwriter = await asyncio.wait_for(asyncio.open_connection(*self.target), 10)
            except (OSError, asyncio.TimeoutError):
                cwriter.close()
                return
            try:
                await asyncio.gather(_pipe(creader, uwriter), _pipe(ureader, cwriter))
            finally:
                uwriter.close()
                cwriter.close()
        finally:
            self._conns.discard(task)

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
        for t in list(self._conns):
            t.cancel()
        if self._conns:
            await asyncio.gather(*self._conns, return_exceptions=True)


class _UdpFlow(asyncio.DatagramProtocol):
    def __init__(self, proxy: "UdpProxy", client):
        self.proxy, self.client = proxy, client
        self.transport = None
        self.last = asyncio.get_running_loop().time()

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        self.last = asyncio.get_running_loop().time()
        if self.proxy.front is not None:
            self.proxy.front.sendto(data, self.client)


class _UdpFront(asyncio.DatagramProtocol):
    def __init__(self, proxy: "UdpProxy"):
        self.proxy = proxy
        self.tasks: set = set()

    def datagram_received(self, data, addr):
        t = asyncio.get_running_loop().create_task(self.proxy._to_target(data, addr))
        self.tasks.add(t)
        t.add_done_callback(self.tasks.discard)


class UdpProxy:
    def __init__(self, sock: socket.socket, target: tuple[str, int]):
        self.sock, self.target = sock, target
        self.front = None
        self.flows: dict = {}
        self._reaper: asyncio.Task | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        self.sock.setblocking(False)
        loop = asyncio.get_running_loop()
        self.front, _ = await loop.create_datagram_endpoint(lambda: _UdpFront(self), sock=self.sock)
        self._reaper = loop.create_task(self._reap())

    async def _to_target(self, data: bytes, client) -> None:
        flow = self.flows.get(client)
        if flow is None:
            async with self._lock:
                flow = self.flows.get(client)
                if flow is None:
                    if len(self.flows) >= MAX_UDP_FLOWS:
                        return
                    loop = asyncio.get_running_loop()
                    try:
                        _, flow = await loop.create_datagram_endpoint(lambda: _UdpFlow(self, client),
                                                                      remote_addr=self.target)
                    except OSError:
                        return
                    self.flows[client] = flow
        flow.last = asyncio.get_running_loop().time()
        flow.transport.sendto(data)

    async def _reap(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(UDP_IDLE / 3)
            now = loop.time()
            for client, flow in list(self.flows.items()):
                if now - flow.last > UDP_IDLE:
                    flow.transport.close()
                    del self.flows[client]

    async def close(self) -> None:
        if self._reaper is not None:
            self._reaper.cancel()
        for flow in self.flows.values():
            flow.transport.close()
        self.flows.clear()
        if self.front is not None:
            self.front.close()


async def start(proto: str, sock: socket.socket, target: tuple[str, int]):
    """Forward what arrives on ``sock`` (bound; a TCP one is made listening) to ``target``."""
    p = TcpProxy(sock, target) if proto == "tcp" else UdpProxy(sock, target)
    await p.start()
    return p
