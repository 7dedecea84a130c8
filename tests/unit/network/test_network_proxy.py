"""The userland proxy forwarding TCP and UDP over the loopback."""
import asyncio
import socket

from dockyard.network import proxy


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 20))


def _bound(stype):
    s = socket.socket(socket.AF_INET, stype)
    s.bind(("127.0.0.1", 0))
    return s


def test_tcp_proxy_both_ways_and_half_close():
    async def go():
        async def echo(r, w):
            data = await r.read()          # until the client's half-close
            w.write(data.upper())
            await w.drain()
            w.close()

        backend = await asyncio.start_server(echo, "127.0.0.1", 0)
        target = backend.sockets[0].getsockname()
        front = _bound(socket.SOCK_STREAM)
        port = front.getsockname()[1]
        p = await proxy.start("tcp", front, target)
        try:
            r, w = await asyncio.open_connection("127.0.0.1", port)
            w.write(b"hello " * 20000)
            await w.drain()
            w.write_eof()
            got = await r.read()
            assert got == b"HELLO " * 20000
            w.close()
        finally:
            await p.close()
            backend.close()

    run(go())


def test_tcp_proxy_target_down_closes_client():
    async def go():
        dead = _bound(socket.SOCK_STREAM)
        target = dead.getsockname()
        dead.close()
        front = _bound(socket.SOCK_STREAM)
        p = await proxy.start("tcp", front, target)
        try:
            r, w = await asyncio.open_connection(*front.getsockname())
            assert await r.read() == b""
            w.close()
        finally:
            await p.close()

    run(go())


def test_udp_proxy_flows_per_client():
    async def go():
        loop = asyncio.get_running_loop()

        class Echo(asyncio.DatagramProtocol):
            def connection_made(self, t):
                self.t = t

            def datagram_received(self, data, addr):
                self.t.sendto(data + b"@" + str(addr[1]).encode(), addr)

        back, _ = await loop.create_datagram_endpoint(Echo, local_addr=("127.0.0.1", 0))
        front = _bound(socket.SOCK_DGRAM)
        p = await proxy.start("udp", front, back.get_extra_info("sockname"))
        try:
            replies = []
            for i in range(2):
                c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                c.setblocking(False)
                await loop.sock_connect(c, front.getsockname())
                await loop.sock_sendall(c, f"ping{i}".encode())
                replies.append(await asyncio.wait_for(loop.sock_recv(c, 100), 5))
                await loop.sock_sendall(c, b"again")
                replies.append(await asyncio.wait_for(loop.sock_recv(c, 100), 5))
                c.close()
            assert [r.split(b"@")[0] for r in replies] == [b"ping0", b"again", b"ping1", b"again"]
            # one upstream flow per client: the backend sees two source ports, each used twice
            ports = [r.split(b"@")[1] for r in replies]
            assert ports[0] == ports[1] and ports[2] == ports[3] and ports[0] != ports[2]
            assert len(p.flows) == 2
        finally:
            await p.close()
            back.close()
        assert p.flows == {}

    run(go())
