"""TCP with TLS and client certificates; hijack half-close over TLS."""
import asyncio
import http.client
import queue
import socket
import ssl

import pytest
from http_testlib import header, read_head, status_of

from dockyard.daemon.http import App, Response, TCPListener, server_tls_context


def make_app(events):
    app = App()

    @app.route("GET", "/_ping")
    async def ping(req):
        return Response(200, "OK")

    @app.route("POST", "/attach")
    async def attach(req):
        conn = await req.hijack()
        got = b""
        while True:
            data = await conn.read()
            if not data:
                break
            got += data
        events.put(got)
        await conn.write(b"after-eof-1\n")
        await asyncio.sleep(0.05)
        await conn.write(b"after-eof-2\n")

    return app


@pytest.fixture
def tls_server(serve, certs):
    events = queue.Queue()
    ctx = server_tls_context(certs["server.pem"], certs["server-key.pem"], certs["ca.pem"])
    srv = serve(make_app(events), [TCPListener("127.0.0.1", 0, ctx)])
    srv.events = events
    srv.addr = srv.addresses[0]
    return srv


def client_ctx(certs, cert="client"):
    ctx = ssl.create_default_context(cafile=certs["ca.pem"])
    if cert:
        ctx.load_cert_chain(certs[f"{cert}.pem"], certs[f"{cert}-key.pem"])
    return ctx


def https_get(addr, ctx, path="/_ping", times=1):
    c = http.client.HTTPSConnection(addr[0], addr[1], context=ctx, timeout=10)
    try:
        out = []
        for _ in range(times):
            c.request("GET", path)
            r = c.getresponse()
            out.append((r.status, r.read()))
        return out
    finally:
        c.close()


def test_client_certificate_accepted(tls_server, certs):
    assert https_get(tls_server.addr, client_ctx(certs), times=3) == [(200, b"OK")] * 3


def test_bad_tls_files_named_in_error(certs, tmp_path):
    with pytest.raises(ValueError, match="cannot load TLS CA file .*nope.pem"):
        server_tls_context(certs["server.pem"], certs["server-key.pem"], str(tmp_path / "nope.pem"))
    with pytest.raises(ValueError, match="cannot load TLS certificate .*client.pem / key .*server-key.pem"):
        server_tls_context(certs["client.pem"], certs["server-key.pem"], certs["ca.pem"])


@pytest.mark.parametrize("cert,alert", [(None, "CERTIFICATE_REQUIRED"), ("rogue", "UNKNOWN_CA")])
def test_missing_or_foreign_client_certificate_rejected(tls_server, certs, cert, alert):
    with pytest.raises(ssl.SSLError, match=alert):
        https_get(tls_server.addr, client_ctx(certs, cert))
    assert https_get(tls_server.addr, client_ctx(certs)) == [(200, b"OK")]


def test_plain_http_on_tls_port_rejected(tls_server, certs):
    s = socket.create_connection(tls_server.addr, timeout=10)
    try:
        s.sendall(b"GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        assert b"HTTP/1.1 200" not in data
    finally:
        s.close()
    assert https_get(tls_server.addr, client_ctx(certs)) == [(200, b"OK")]


UPGRADE_REQUEST = (b"POST /attach HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
                   b"Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n")


def test_hijack_half_close_by_tcp_fin_over_tls(tls_server, certs):
    raw = socket.create_connection(tls_server.addr, timeout=10)
    s = client_ctx(certs).wrap_socket(raw, server_hostname="127.0.0.1")
    try:
        s.sendall(UPGRADE_REQUEST + b"stdin")
        head, rest = read_head(s)
        assert status_of(head) == 101 and header(head, "Upgrade") == "tcp"
        socket.socket.shutdown(s, socket.SHUT_WR)   # FIN below TLS, as older Docker clients do
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            rest += chunk
        assert rest == b"after-eof-1\nafter-eof-2\n"
        assert tls_server.events.get(timeout=5) == b"stdin"
    finally:
        s.close()


class BioClient:
    """A TLS client over memory BIOs, able to send close_notify and keep reading."""

    def __init__(self, ctx, addr):
        self.sock = socket.create_connection(addr, timeout=10)
        self.incoming, self.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.obj = ctx.wrap_bio(self.incoming, self.outgoing, server_hostname="127.0.0.1")
        while True:
            try:
                self.obj.do_handshake()
                break
            except ssl.SSLWantReadError:
                self._flush()
                self._fill()
        self._flush()

    def _flush(self):
        data = self.outgoing.read()
        if data:
            self.sock.sendall(data)

    def _fill(self):
        data = self.sock.recv(65536)
        if data:
            self.incoming.write(data)
        else:
            self.incoming.write_eof()

    def send(self, data):
        self.obj.write(data)
        self._flush()

    def recv(self):
        while True:
            try:
                return self.obj.read(65536)
            except ssl.SSLWantReadError:
                self._fill()
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                return b""

    def close_write(self):
        """close_notify, as Go's tls.Conn.CloseWrite (today's Docker CLI) sends it."""
        try:
            self.obj.unwrap()
        except ssl.SSLWantReadError:
            pass
        self._flush()


def test_hijack_half_close_by_close_notify(tls_server, certs):
    c = BioClient(client_ctx(certs), tls_server.addr)
    try:
        c.send(UPGRADE_REQUEST)
        data = b""
        while b"\r\n\r\n" not in data:
            data += c.recv()
        head, _, rest = data.partition(b"\r\n\r\n")
        assert status_of(head) == 101
        c.send(b"in")
        c.close_write()
        while True:
            chunk = c.recv()
            if not chunk:
                break
            rest += chunk
        assert rest == b"after-eof-1\nafter-eof-2\n"
        assert tls_server.events.get(timeout=5) == b"in"
    finally:
        c.sock.close()
