"""The HTTP/1.1 client, version negotiation, error mapping, the hijack, and stream pumping —
against small scripted servers on unix sockets and socket pairs."""
from __future__ import annotations

import json
import os
import socket
import threading
import time

import pytest

from dockyard.cli import streams
from dockyard.cli.api import Client, urlencode
from dockyard.cli.errors import APIError, CLIError, ConnectError
from dockyard.cli.hosts import parse_host
from dockyard.cli.stdcopy import Demuxer


class Server:
    """Accepts connections; ``handler(conn_file, sock)`` answers each one (in a thread)."""

    def __init__(self, path: str, handler):
        self.path, self.handler = path, handler
        self.s = socket.socket(socket.AF_UNIX)
        self.s.bind(path)
        self.s.listen(8)
        self.requests: list[tuple[str, dict, bytes]] = []
        self.connections = 0
        self.t = threading.Thread(target=self.loop, daemon=True)
        self.t.start()

    def loop(self):
        while True:
            try:
                c, _ = self.s.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def serve(self, c):
        f = c.makefile("rb")
        try:
            while True:
                line = f.readline()
                if not line:
                    return
                headers = {}
                while True:
                    h = f.readline()
                    if h in (b"\r\n", b""):
                        break
                    k, _, v = h.decode().partition(":")
                    headers[k.strip().lower()] = v.strip()
                body = b""
                if "chunked" in headers.get("transfer-encoding", ""):
                    while True:
                        size = int(f.readline().split(b";")[0], 16)
                        chunk = f.read(size + 2)[:size]
                        if size == 0:
                            break
                        body += chunk
                elif headers.get("content-length"):
                    body = f.read(int(headers["content-length"]))
                self.requests.append((line.decode().strip(), headers, body))
                if self.handler(line.decode().split()[1], headers, body, c, f) == "close":
                    return
        finally:
            c.close()

    def close(self):
        self.s.close()


def reply(c, status="200 OK", body=b"", headers=(), chunked=False, api="1.43"):
    head = f"HTTP/1.1 {status}\r\nApi-Version: {api}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers)
    if chunked:
        data = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in body) + b"0\r\n\r\n"
        c.sendall((head + "Transfer-Encoding: chunked\r\n\r\n").encode() + data)
    else:
        c.sendall((head + f"Content-Length: {len(body)}\r\n\r\n").encode() + body)


@pytest.fixture
def server(tmp_path):
    made = []

    def make(handler):
        s = Server(str(tmp_path / f"s{len(made)}.sock"), handler)
        made.append(s)
        return s
    yield make
    for s in made:
        s.close()


def test_negotiation_keepalive_chunked_and_errors(server):
    def handler(path, headers, body, c, f):
        if path == "/_ping":
            reply(c)
        elif path.endswith("/chunked"):
            reply(c, body=[b'{"a":', b'1}'], chunked=True)
        elif path.endswith("/missing"):
            reply(c, "404 Not Found", b'{"message":"No such container: x"}')
        elif path.endswith("/plain"):
            reply(c, "500 Internal Server Error", b"boom\n")
        elif path.endswith("/empty"):
            reply(c, "404 Not Found")
        else:
            reply(c, body=json.dumps({"path": path, "body": body.decode()}).encode())
    s = server(handler)
    api = Client(parse_host(f"unix://{s.path}"))
    assert api.version == "1.43"  # the daemon's, lower than ours
    assert api.get("/x", {"b": "2 3", "a": ["1", "/"]}) == {"path": "/v1.43/x?a=1&a=%2F&b=2%203", "body": ""}
    assert api.get("/chunked") == {"a": 1}
    assert api.post("/p", json_body={"k": "v"})["body"] == '{"k":"v"}'
    assert s.connections == 1  # HEAD /_ping and the calls shared one kept-alive connection
    with pytest.raises(APIError) as e:
        api.get("/missing")
    assert (e.value.status_code, e.value.message) == (404, "Error response from daemon: No such container: x")
    with pytest.raises(APIError, match="Error response from daemon: boom"):
        api.get("/plain")
    with pytest.raises(APIError, match="request returned Not Found for API route and version /empty"):
        api.get("/empty")
    assert api.request("POST", "/s", body=iter([b"ab", b"cd"])).read()
    assert s.requests[-1][1]["transfer-encoding"] == "chunked" and s.requests[-1][2] == b"abcd"


def test_version_capped_and_env(server, monkeypatch):
    s = server(lambda p, h, b, c, f: reply(c, api="1.99") if p == "/_ping" else reply(c, body=b"{}"))
    assert Client(parse_host(f"unix://{s.path}")).version == "1.47"
    monkeypatch.setenv("DOCKER_API_VERSION", "1.41")
    api = Client(parse_host(f"unix://{s.path}"))
    assert api.version == "1.41" and api.target("/x") == "/v1.41/x"


def test_connect_errors(tmp_path):
    api = Client(parse_host(f"unix://{tmp_path}/none.sock"))
    with pytest.raises(ConnectError) as e:
        api.get("/x")
    assert e.value.message == f"Cannot connect to the dockyard daemon at unix://{tmp_path}/none.sock. Is the daemon running?"


def test_server_closing_kept_alive_connection_is_retried(server):
    def handler(path, headers, body, c, f):
        reply(c, body=b'{"ok":true}')
        return "close"  # answer, then drop the connection without saying so
    s = server(handler)
    api = Client(parse_host(f"unix://{s.path}"), version="1.41")
    assert api.get("/a") == {"ok": True}
    assert api.get("/b") == {"ok": True}
    assert s.connections == 2


def test_hijack_duplex_and_half_close(server):
    got = {}

    def handler(path, headers, body, c, f):
        got["headers"] = headers
        c.sendall(b"HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
                  b"Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n" + b"\x01\x00\x00\x00\x00\x00\x00\x03hi\n")
        data = b""
        while True:
            d = f.read1(65536)
            if not d:
                break
            data += d
        got["stdin"] = data
        # the client half-closed; we can still write
        payload = b"\x02\x00\x00\x00\x00\x00\x00\x04err\n\x01\x00\x00\x00\x00\x00\x00\x05done\n"
        c.sendall(payload)
        return "close"
    s = server(handler)
    api = Client(parse_host(f"unix://{s.path}"), version="1.41")
    sock, leftover, hdrs = api.hijack("/containers/x/attach", {"stream": 1, "stdin": 1})
    r, w = os.pipe()
    os.write(w, b"input data\n")
    os.close(w)
    out, err = [], []
    detached = streams.pump(sock, leftover, tty=False, stdin_fd=r, out=out.append, err=err.append)
    os.close(r)
    assert not detached
    assert got["headers"]["upgrade"] == "tcp" and got["headers"]["connection"] == "Upgrade"
    assert got["stdin"] == b"input data\n"
    assert b"".join(out) == b"hi\ndone\n" and b"".join(err) == b"err\n"


def test_hijack_error_answer(server):
    s = server(lambda p, h, b, c, f: reply(c, "409 Conflict", b'{"message":"container is not running"}'))
    api = Client(parse_host(f"unix://{s.path}"), version="1.41")
    with pytest.raises(APIError, match="container is not running"):
        api.hijack("/exec/x/start", json_body={"Detach": False})


def test_pump_tty_detach_keys():
    a, b = socket.socketpair()
    r, w = os.pipe()
    out, res = [], {}
    b.sendall(b"prompt$ ")

    def run():
        res["detached"] = streams.pump(a, b"", tty=True, stdin_fd=r, out=out.append, detach_keys=b"\x10\x11")
    th = threading.Thread(target=run)
    th.start()
    for k in (b"x", b"\x10", b"y", b"\x10", b"\x11"):  # typed one by one; ctrl-p y is not a detach
        os.write(w, k)
        time.sleep(0.1)
    th.join(5)
    os.close(r)
    os.close(w)
    assert res.get("detached") is True
    assert b"".join(out) == b"prompt$ "
    b.settimeout(2)
    got = b""
    while len(got) < 3:
        got += b.recv(100)
    assert got == b"x\x10y"  # held-back keys are sent once they turn out not to be the sequence
    b.close()


def test_demuxer_frames_in_pieces():
    out, err = [], []
    d = Demuxer(out.append, err.append)
    data = b"\x01\x00\x00\x00\x00\x00\x00\x05hello\x02\x00\x00\x00\x00\x00\x00\x03bad\x00\x00\x00\x00\x00\x00\x00\x01!"
    for i in range(len(data)):
        d.feed(data[i:i + 1])
    assert b"".join(out) == b"hello!" and b"".join(err) == b"bad"
    with pytest.raises(CLIError, match="error from daemon in stream: oops"):
        Demuxer(out.append, err.append).feed(b"\x03\x00\x00\x00\x00\x00\x00\x04oops")
    with pytest.raises(CLIError, match="Unrecognized input header: 9"):
        Demuxer(out.append, err.append).feed(b"\x09\x00\x00\x00\x00\x00\x00\x01x")


def test_urlencode_sorted_and_bools():
    assert urlencode({"z": True, "a": False, "m": None, "q": "a b&c"}) == "a=0&q=a%20b%26c&z=1"
