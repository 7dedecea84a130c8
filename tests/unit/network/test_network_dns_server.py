"""The embedded DNS server over real sockets on the loopback (a fake upstream on 127.0.0.1)."""
import asyncio
import socket
import struct

import pytest

from dockyard.network import dnsmsg as M
from dockyard.network.dns import DnsServer, host_upstreams
from dockyard.network.dnsindex import build
from dockyard.network.model import Endpoint, Network

C1, C2, C3 = "1" * 64, "2" * 64, "3" * 64


def _index():
    n1 = Network(id="n1" * 32, name="front", created="")
    n2 = Network(id="n2" * 32, name="back", created="")
    eps = [
        Endpoint("e1", n1.id, C1, "web", "10.1.0.2", 24, "10.1.0.1", "02:42:0a:01:00:02", "v1", aliases=["www"], seq=1),
        Endpoint("e2", n1.id, C2, "db", "10.1.0.3", 24, "10.1.0.1", "02:42:0a:01:00:03", "v2", seq=2,
                 dns=["127.0.0.1"]),
        Endpoint("e3", n2.id, C3, "other", "10.2.0.2", 24, "10.2.0.1", "02:42:0a:02:00:02", "v3", seq=3),
    ]
    return build([n1, n2], eps)


class FakeUpstream:
    """Answers every A query with 192.0.2.99 (UDP and TCP); counts queries."""

    def __init__(self):
        self.queries = []

    def answer(self, data):
        q = M.parse(data)
        self.queries.append(q.questions[0].name)
        return M.encode(M.reply_to(q, answers=[M.Record(q.questions[0].name, M.A, M.IN, 30, "192.0.2.99")], aa=False))

    async def start(self):
        loop = asyncio.get_running_loop()
        up = self

        class P(asyncio.DatagramProtocol):
            def connection_made(self, t):
                self.t = t

            def datagram_received(self, data, addr):
                self.t.sendto(up.answer(data), addr)

        self.udp, _ = await loop.create_datagram_endpoint(P, local_addr=("127.0.0.1", 0))
        port = self.udp.get_extra_info("sockname")[1]

        async def tcp(r, w):
            n = struct.unpack("!H", await r.readexactly(2))[0]
            out = up.answer(await r.readexactly(n))
            w.write(struct.pack("!H", len(out)) + out)
            await w.drain()
            w.close()

        try:
            self.tcp = await asyncio.start_server(tcp, "127.0.0.1", port)
        except OSError:
            self.udp.close()
            raise
        self.addr = ("127.0.0.1", port)

    def close(self):
        self.udp.close()
        self.tcp.close()


def _q(name, qtype=M.A, qid=77):
    return M.encode(M.Message(id=qid, questions=[M.Question(name, qtype)]))


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 20))


def test_local_names():
    srv = DnsServer(_index, upstreams=lambda: [])

    async def go():
        a = M.parse(await srv.answer(C2, _q("web"), tcp=False))
        assert a.id == 77 and a.qr and a.aa and a.rcode == M.NOERROR
        assert [(r.name, r.rtype, r.data) for r in a.answers] == [("web", M.A, "10.1.0.2")]
        assert M.parse(await srv.answer(C2, _q("WWW."), tcp=False)).answers[0].data == "10.1.0.2"
        assert M.parse(await srv.answer(C2, _q("web.front"), tcp=False)).answers[0].data == "10.1.0.2"
        assert M.parse(await srv.answer(C2, _q("111111111111"), tcp=False)).answers[0].data == "10.1.0.2"
        # AAAA (and other types) of a known name: NODATA
        nodata = M.parse(await srv.answer(C2, _q("web", M.AAAA), tcp=False))
        assert nodata.rcode == M.NOERROR and nodata.answers == []
        assert M.parse(await srv.answer(C2, _q("web", M.MX), tcp=False)).answers == []
        ptr = M.parse(await srv.answer(C2, _q("2.0.1.10.in-addr.arpa", M.PTR), tcp=False))
        assert [(r.rtype, r.data) for r in ptr.answers] == [(M.PTR, "web.front")]

    run(go())


def test_names_of_other_networks_are_not_local():
    srv = DnsServer(_index, upstreams=lambda: [])

    async def go():
        # "other" is on network back; C1 is only on front: not answered locally, no upstream -> SERVFAIL
        a = M.parse(await srv.answer(C1, _q("other"), tcp=False))
        assert a.rcode == M.SERVFAIL and not a.answers
        assert srv.local_answer(C1, M.parse(_q("other.back"))) is None
        assert srv.local_answer(C1, M.parse(_q("2.0.2.10.in-addr.arpa", M.PTR))) is None
        assert srv.local_answer(C3, M.parse(_q("other"))).answers[0].data == "10.2.0.2"

    run(go())


def test_bad_queries():
    srv = DnsServer(_index, upstreams=lambda: [])

    async def go():
        short = struct.pack("!6H", 5, 0x100, 1, 0, 0, 0) + b"\x05ab"
        assert M.parse(await srv.answer(C1, short, tcp=False)).rcode == M.FORMERR
        assert await srv.answer(C1, b"\x00", tcp=False) is None
        resp = M.encode(M.reply_to(M.parse(_q("web"))))
        assert await srv.answer(C1, resp, tcp=False) is None           # responses are ignored
        notimp = M.Message(id=3, opcode=2, questions=[M.Question("web", M.A)])
        assert M.parse(await srv.answer(C1, M.encode(notimp), tcp=False)).rcode == M.NOTIMP
        two = M.Message(id=3, questions=[M.Question("a", M.A), M.Question("b", M.A)])
        assert M.parse(await srv.answer(C1, M.encode(two), tcp=False)).rcode == M.FORMERR

    run(go())


def test_forwarding_udp_and_tcp_and_per_container_servers():
    async def go():
        up = FakeUpstream()
        await up.start()
        try:
            srv = DnsServer(_index, upstreams=lambda: [("127.0.0.1", 9), up.addr], timeout=0.5)
            a = M.parse(await srv.answer(C1, _q("example.org", qid=4242), tcp=False))
            assert a.id == 4242 and a.answers[0].data == "192.0.2.99" and not a.aa
            t = M.parse(await srv.answer(C1, _q("tcp.example.org"), tcp=True))
            assert t.answers[0].data == "192.0.2.99"
            assert up.queries == ["example.org", "tcp.example.org"]
            # C2's --dns server (127.0.0.1:53, nothing there) replaces the host's: no answer
            assert srv._servers(C2) == [("127.0.0.1", 53)]
        finally:
            up.close()

    run(go())


def test_served_on_sockets_udp_and_tcp():
    """add() serves bound sockets (the service passes ones made in the container's namespace)."""
    async def go():
        srv = DnsServer(_index, upstreams=lambda: [])
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("127.0.0.1", 0))
        port = udp.getsockname()[1]
        tcp = socket.socket()
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            tcp.bind(("127.0.0.1", port))
        except OSError:
            udp.close()
            tcp.close()
            pytest.skip("the loopback port was taken for TCP")
        await srv.add(C1, udp, tcp)
        loop = asyncio.get_running_loop()
        try:
            c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            c.setblocking(False)
            await loop.sock_connect(c, ("127.0.0.1", port))
            await loop.sock_sendall(c, _q("db"))
            data = await asyncio.wait_for(loop.sock_recv(c, 4096), 5)
            c.close()
            assert M.parse(data).answers[0].data == "10.1.0.3"
            r, w = await asyncio.open_connection("127.0.0.1", port)
            for name, ip in (("web", "10.1.0.2"), ("db", "10.1.0.3")):   # two queries on one connection
                q = _q(name)
                w.write(struct.pack("!H", len(q)) + q)
                n = struct.unpack("!H", await r.readexactly(2))[0]
                assert M.parse(await r.readexactly(n)).answers[0].data == ip
            w.close()
            assert srv.keys() == {C1}
        finally:
            await srv.close()
        assert srv.keys() == set()
        with pytest.raises(OSError):
            await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 2)

    run(go())


def test_host_upstreams(tmp_path):
    p = tmp_path / "resolv.conf"
    p.write_text("# comment\nsearch example\nnameserver 127.0.0.53\nnameserver fe80::1%eth0\nnameserver\n")
    assert host_upstreams(str(p)) == [("127.0.0.53", 53), ("fe80::1", 53)]
    assert host_upstreams(str(tmp_path / "missing")) == []


def test_unwritable_local_name_gives_servfail():
    n1 = Network(id="n1" * 32, name="front", created="")
    long = "x" * 70
    ep = Endpoint("e1", n1.id, C1, long, "10.1.0.2", 24, "10.1.0.1", "02:42:0a:01:00:02", "v1", seq=1)
    idx = build([n1], [ep])
    srv = DnsServer(lambda: idx, upstreams=lambda: [])
    # the query itself cannot carry a 70-byte label; the PTR answer would have to
    out = asyncio.run(srv.answer(C1, _q("2.0.1.10.in-addr.arpa", M.PTR), tcp=False))
    assert M.parse(out).rcode == M.SERVFAIL
