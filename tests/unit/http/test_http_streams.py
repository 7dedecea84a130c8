"""Streaming responses and the Docker hijack, with raw sockets."""
import asyncio
import http.client
import json
import queue
import socket
import time

import pytest
from http_testlib import (UnixHTTPConnection, header, read_head, read_until_eof, status_of,
                          unix_connect)

from dockyard.daemon.http import (MULTIPLEXED_STREAM, ApiError, App, ClientGone, Response,
                                  json_response)

UPGRADE = b"Connection: Upgrade\r\nUpgrade: tcp\r\n"


class Harness:
    """An app whose handlers report to the test thread through a queue."""

    def __init__(self):
        self.app = App()
        self.events = queue.Queue()
        self.release = asyncio.Event()
        app = self.app

        @app.route("GET", "/_ping")
        async def ping(req):
            return Response(200, "OK")

        @app.route("GET", "/events")
        async def events(req):
            stream = await req.stream(content_type="application/json")
            await stream.write(b'{"n":1}\n')
            await self.release.wait()
            await stream.write(b'{"n":2}\n')
            await stream.close()

        @app.route("GET", "/logs")
        async def logs(req):
            stream = await req.stream(content_type=MULTIPLEXED_STREAM)
            writes = 0
            try:
                while True:
                    await stream.write(b"line %d\n" % writes)
                    writes += 1
                    await asyncio.sleep(0.01)
            except ClientGone:
                self.events.put(("gone", writes))
            await asyncio.sleep(0.05)          # the handler is not cancelled
            self.events.put(("finished", writes))

        @app.route("GET", "/silent")
        async def silent(req):
            stream = await req.stream()
            await stream.wait_client_gone()
            self.events.put(("silent-gone", stream.client_gone))

        @app.route("GET", "/wait")
        async def wait(req):
            await req.wait_disconnected()
            self.events.put(("wait-gone", req.disconnected))
            return json_response({})

        @app.route("GET", "/broken-stream")
        async def broken(req):
            stream = await req.stream()
            await stream.write(b"partial")
            raise RuntimeError("lost the container")

        @app.route("GET", "/apierror-stream")
        async def apierror(req):
            await req.stream()
            raise ApiError(404, "no such container")

        @app.route("POST", "/attach")
        async def attach(req):
            conn = await req.hijack(MULTIPLEXED_STREAM if req.qbool("mux") else
                                    "application/vnd.docker.raw-stream")
            got = b""
            while True:
                data = await conn.read(3)
                if not data:
                    break
                got += data
                if req.qbool("echo"):
                    await conn.write(b"echo:" + data)
            self.events.put(("stdin", got, conn.at_eof))
            await conn.write(b"after-eof-1\n")
            await asyncio.sleep(0.05)
            await conn.write(b"after-eof-2\n")
            await conn.close()

        @app.route("POST", "/exec/{id}/start")
        async def exec_start(req):
            body = req.json()
            conn = await req.hijack()
            data = await conn.read()
            await conn.write(json.dumps(body).encode() + b"|" + data)
            # the handler returning closes the connection

        @app.route("POST", "/flood")
        async def flood(req):
            conn = await req.hijack()

            async def pump(byte):
                for _ in range(64):
                    await conn.write(byte * 65536)

            await asyncio.gather(pump(b"a"), pump(b"b"))
            self.events.put("flooded")

        @app.route("POST", "/spray")
        async def spray(req):
            conn = await req.hijack()
            writes = 0
            try:
                while True:
                    await conn.write(b"x" * 1024)
                    writes += 1
                    await asyncio.sleep(0.005)
            except ClientGone:
                self.events.put(("hijack-gone", writes))

    def get(self, timeout=5):
        return self.events.get(timeout=timeout)


@pytest.fixture
def h(serve):
    harness = Harness()
    harness.srv = serve(harness.app)
    harness.path = harness.srv.path
    return harness


def ping_ok(path):
    c = UnixHTTPConnection(path)
    try:
        c.request("GET", "/_ping")
        return c.getresponse().read() == b"OK"
    finally:
        c.close()


def test_stream_writes_are_flushed_at_once(h):
    s = unix_connect(h.path)
    try:
        s.sendall(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
        head, rest = read_head(s)
        assert status_of(head) == 200
        assert header(head, "Transfer-Encoding") == "chunked"
        assert header(head, "Content-Type") == "application/json"
        assert header(head, "Api-Version") == "1.41"
        while b'{"n":1}' not in rest:     # arrives while the handler is still blocked
            rest += s.recv(4096)
        assert b'{"n":2}' not in rest
        h.srv.loop.call_soon_threadsafe(h.release.set)
        while not rest.endswith(b"0\r\n\r\n"):
            rest += s.recv(4096)
        assert rest == b'8\r\n{"n":1}\n\r\n8\r\n{"n":2}\n\r\n0\r\n\r\n'
        s.sendall(b"GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n")   # keep-alive after a stream
        head, rest = read_head(s)
        assert status_of(head) == 200
    finally:
        s.close()


def test_stream_read_by_http_client(h):
    h.srv.loop.call_soon_threadsafe(h.release.set)
    c = UnixHTTPConnection(h.path)
    try:
        c.request("GET", "/events")
        assert c.getresponse().read() == b'{"n":1}\n{"n":2}\n'
    finally:
        c.close()


def test_client_disconnect_mid_stream(h):
    s = unix_connect(h.path)
    s.sendall(b"GET /logs HTTP/1.1\r\nHost: x\r\n\r\n")
    head, rest = read_head(s)
    while b"line 2" not in rest:
        rest += s.recv(4096)
    s.close()
    kind, writes = h.get()
    assert kind == "gone" and writes >= 3
    assert h.get() == ("finished", writes)
    assert ping_ok(h.path)


def test_silent_stream_learns_of_disconnect(h):
    s = unix_connect(h.path)
    s.sendall(b"GET /silent HTTP/1.1\r\nHost: x\r\n\r\n")
    read_head(s)
    s.close()
    assert h.get() == ("silent-gone", True)
    assert ping_ok(h.path)


def test_long_handler_learns_of_disconnect(h):
    s = unix_connect(h.path)
    s.sendall(b"GET /wait HTTP/1.1\r\nHost: x\r\n\r\n")
    s.close()
    assert h.get() == ("wait-gone", True)
    assert ping_ok(h.path)


def test_failure_after_stream_started_truncates_the_response(h):
    c = UnixHTTPConnection(h.path)
    try:
        c.request("GET", "/broken-stream")
        r = c.getresponse()
        assert r.status == 200
        with pytest.raises(http.client.IncompleteRead) as e:
            r.read()
        assert e.value.partial == b"partial"
    finally:
        c.close()
    c = UnixHTTPConnection(h.path)
    try:
        c.request("GET", "/apierror-stream")
        r = c.getresponse()
        with pytest.raises(http.client.IncompleteRead):
            r.read()
    finally:
        c.close()
    assert ping_ok(h.path)


def test_head_on_stream_route(h):
    h.srv.loop.call_soon_threadsafe(h.release.set)
    c = UnixHTTPConnection(h.path)
    try:
        c.request("HEAD", "/events")
        r = c.getresponse()
        assert r.status == 200 and r.read() == b""
        c.request("GET", "/_ping")
        assert c.getresponse().read() == b"OK"
    finally:
        c.close()


def echoed(data: bytes) -> bytes:
    """What the /attach?echo=1 handler echoed: "echo:" + up to 3 bytes per read."""
    return b"".join(p[:3] for p in data.split(b"echo:")[1:])


def test_hijack_101_trailing_data_and_half_close(h):
    s = unix_connect(h.path)
    try:
        # the client's first stdin bytes ride in the same packet as the request head
        s.sendall(b"POST /v1.41/attach?mux=1&echo=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
                  + UPGRADE + b"\r\nearly-bytes")
        head, rest = read_head(s)
        assert head == (b"HTTP/1.1 101 UPGRADED\r\n"
                        b"Content-Type: application/vnd.docker.multiplexed-stream\r\n"
                        b"Connection: Upgrade\r\nUpgrade: tcp")
        while echoed(rest) != b"early-bytes":
            rest += s.recv(4096)
        s.sendall(b"more")
        while echoed(rest) != b"early-bytesmore":
            rest += s.recv(4096)
        s.shutdown(socket.SHUT_WR)        # what the Docker CLI does for a non-interactive run
        rest += read_until_eof(s)
        assert h.get() == ("stdin", b"early-bytesmore", True)
        assert rest.endswith(b"after-eof-1\nafter-eof-2\n")
    finally:
        s.close()
    assert ping_ok(h.path)


def test_half_close_right_after_101_server_still_writes(h):
    s = unix_connect(h.path)
    try:
        s.sendall(b"POST /attach HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n" + UPGRADE + b"\r\n")
        head, rest = read_head(s)
        assert status_of(head) == 101
        assert header(head, "Content-Type") == "application/vnd.docker.raw-stream"
        s.shutdown(socket.SHUT_WR)
        rest += read_until_eof(s)
        assert rest == b"after-eof-1\nafter-eof-2\n"
        assert h.get() == ("stdin", b"", True)
    finally:
        s.close()


def test_hijack_without_upgrade_answers_200(h):
    s = unix_connect(h.path)
    try:
        s.sendall(b"POST /attach?echo=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        head, rest = read_head(s)
        assert head.startswith(b"HTTP/1.1 200 OK\r\n")
        assert header(head, "Content-Type") == "application/vnd.docker.raw-stream"
        assert header(head, "Content-Length") is None and header(head, "Transfer-Encoding") is None
        assert header(head, "Api-Version") == "1.41"
        s.sendall(b"abc")
        while b"echo:abc" not in rest:
            rest += s.recv(4096)
        s.shutdown(socket.SHUT_WR)
        rest += read_until_eof(s)
        assert rest == b"echo:abcafter-eof-1\nafter-eof-2\n"
    finally:
        s.close()


def test_hijack_after_json_body(h):
    s = unix_connect(h.path)
    try:
        body = b'{"Detach":false,"Tty":false}'
        s.sendall(b"POST /exec/abc/start HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: %d\r\n" % len(body) + UPGRADE + b"\r\n" + body + b"stdin!")
        head, rest = read_head(s)
        assert status_of(head) == 101
        rest += read_until_eof(s)
        assert rest == b'{"Detach": false, "Tty": false}|stdin!'
    finally:
        s.close()


def test_hijacked_client_vanishing_raises_client_gone(h):
    s = unix_connect(h.path)
    s.sendall(b"POST /spray HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n" + UPGRADE + b"\r\n")
    head, rest = read_head(s)
    assert status_of(head) == 101
    while len(rest) < 4096:
        rest += s.recv(4096)
    s.close()
    kind, writes = h.get()
    assert kind == "hijack-gone" and writes >= 4
    assert ping_ok(h.path)


def test_concurrent_writers_with_a_slow_reader(h):
    s = unix_connect(h.path)
    try:
        s.sendall(b"POST /flood HTTP/1.1\r\nHost: x\r\n" + UPGRADE + b"\r\n")
        head, rest = read_head(s)
        time.sleep(0.3)                    # the server's buffers fill up; both writers wait
        assert h.events.empty()
        rest += read_until_eof(s)
        assert h.get() == "flooded"
        assert rest.count(b"a") == rest.count(b"b") == 64 * 65536
    finally:
        s.close()
