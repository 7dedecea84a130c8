"""The HTTP layer over a real unix socket: routing, Docker's conventions, errors, bodies."""
import json
import logging
import time

import pytest
from http_testlib import (UnixHTTPConnection, header, read_exactly, read_head, read_until_eof,
                          status_of, unix_connect)

from dockyard.daemon.http import ApiError, App, Response, json_response, no_content


def make_app(**kw):
    app = App(server_version="9.9.9", **kw)

    @app.route("GET", "/_ping")
    async def ping(req):
        return Response(200, "OK", {"Cache-Control": "no-cache, no-store, must-revalidate"})

    @app.route("GET", "/containers/{name}/json")
    async def inspect(req):
        return json_response({"name": req.params["name"], "path": req.path,
                              "version": req.api_version, "query": req.query,
                              "all": req.qbool("all"), "limit": req.qint("limit", -1),
                              "ua": req.headers.get("user-agent")})

    @app.route("GET", "/images/{name:path}/json")
    async def image(req):
        return json_response({"name": req.params["name"]})

    @app.route("POST", "/containers/create")
    async def create(req):
        body = req.json()
        if body is None:
            raise ApiError(400, "config cannot be empty in order to create a container")
        return json_response({"got": body}, status=201)

    @app.route("POST", "/echo")
    async def echo(req):
        return Response(200, req.body, content_type="application/octet-stream")

    @app.route("POST", "/upload", stream=True)
    async def upload(req):
        sizes = []
        async for chunk in req.stream_body(1000):
            assert len(chunk) <= 1000
            sizes.append(len(chunk))
        return json_response({"total": sum(sizes), "chunks": len(sizes)})

    @app.route("DELETE", "/containers/{name}")
    async def remove(req):
        return no_content()

    @app.route("GET", "/boom")
    async def boom(req):
        raise RuntimeError("database is on fire")

    @app.route("GET", "/bad-header")
    async def bad_header(req):
        return Response(200, "x", {"X-Injected": "a\r\nSet-Cookie: evil"})

    @app.route("POST", "/hijack")
    async def hijack(req):
        conn = await req.hijack()
        await conn.write(req.body)

    @app.route("GET", "/none")
    async def none(req):
        return None

    return app


def request(path, method="GET", body=None, headers=None, sock_path=None):
    c = UnixHTTPConnection(sock_path)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        c.close()


@pytest.fixture
def srv(serve):
    return serve(make_app())


def get(srv, path, **kw):
    return request(path, sock_path=srv.path, **kw)


def test_routes_params_and_query(srv):
    status, headers, body = get(srv, "/containers/web/json?all=1&limit=5&x=a&x=b",
                                headers={"User-Agent": "Docker-Client/28.2.2 (linux)"})
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    doc = json.loads(body)
    assert doc == {"name": "web", "path": "/containers/web/json", "version": "1.41",
                   "query": {"all": ["1"], "limit": ["5"], "x": ["a", "b"]}, "all": True,
                   "limit": 5, "ua": "Docker-Client/28.2.2 (linux)"}
    assert body.endswith(b"}\n") and b" " not in body.replace(b"Docker-Client/28.2.2 (linux)", b"")


def test_path_param_with_slashes_and_escapes(srv):
    assert json.loads(get(srv, "/v1.41/images/127.0.0.1:5000/lib/busy%20box:1/json")[2]) == {
        "name": "127.0.0.1:5000/lib/busy box:1"}


@pytest.mark.parametrize("value,expected", [("", False), ("0", False), ("false", False),
                                            ("no", False), ("none", False), ("True", True),
                                            ("1", True), ("yes", True)])
def test_qbool(srv, value, expected):
    assert json.loads(get(srv, f"/containers/c/json?all={value}")[2])["all"] is expected


def test_qint_rejects_garbage(srv):
    status, _, body = get(srv, "/containers/c/json?limit=1_0")
    assert status == 400
    assert json.loads(body) == {"message": "invalid value for query parameter limit: '1_0' is not an integer"}


def test_version_prefix_and_standard_headers(srv):
    status, headers, body = get(srv, "/v1.41/containers/x/json")
    assert status == 200 and json.loads(body)["version"] == "1.41"
    assert headers["Api-Version"] == "1.41"
    assert headers["Docker-Experimental"] == "false"
    assert headers["Ostype"] == "linux"
    assert headers["Server"] == "Dockyard/9.9.9 (linux)"
    assert headers["Date"].endswith(" GMT")
    assert json.loads(get(srv, "/containers/x/json")[2])["version"] == "1.41"


def test_versions_out_of_range(srv):
    status, headers, body = get(srv, "/v1.40/containers/x/json")
    assert status == 400 and headers["Api-Version"] == "1.41"
    assert json.loads(body) == {"message": "client version 1.40 is too old. Minimum supported API "
                                "version is 1.41, please upgrade your client to a newer version"}
    status, _, body = get(srv, "/v1.99/containers/x/json")
    assert status == 400
    assert json.loads(body) == {
        "message": "client version 1.99 is too new. Maximum supported API version is 1.41"}


def test_newer_maximum_accepts_request_version(serve):
    srv = serve(make_app(api_version="1.45"))
    status, headers, body = get(srv, "/v1.43/containers/x/json")
    assert status == 200 and json.loads(body)["version"] == "1.43"
    assert headers["Api-Version"] == "1.45"
    assert json.loads(get(srv, "/containers/x/json")[2])["version"] == "1.45"


def test_head_on_get_route(srv):
    status, headers, body = get(srv, "/_ping", method="HEAD")
    assert status == 200 and body == b""
    assert headers["Content-Length"] == "2" and headers["Api-Version"] == "1.41"
    assert get(srv, "/_ping") [2] == b"OK"


def test_unknown_route_and_wrong_method_are_404_like_dockerd(srv):
    for method, path in [("GET", "/nope"), ("DELETE", "/_ping"), ("POST", "/containers/x/json"),
                         ("GET", "/v1.41/nope"), ("GET", "/v1.99/nope")]:
        status, headers, body = get(srv, path, method=method)
        assert (status, body) == (404, b'{"message":"page not found"}\n'), (method, path)
        assert headers["Content-Type"] == "application/json"


def test_no_content(srv):
    status, headers, body = get(srv, "/containers/x", method="DELETE")
    assert status == 204 and body == b"" and "Content-Length" not in headers


def test_json_body_and_errors(srv):
    status, _, body = get(srv, "/containers/create", method="POST", body=b'{"Image": "busybox"}',
                          headers={"Content-Type": "application/json"})
    assert status == 201 and json.loads(body) == {"got": {"Image": "busybox"}}
    status, _, body = get(srv, "/containers/create", method="POST", body=b'{bad',
                          headers={"Content-Type": "application/json"})
    assert status == 400
    assert json.loads(body)["message"].startswith("invalid JSON in request body: ")
    for bad in (b'{"a": NaN}', b'\xff\xfe\x00', b'[1] [2]'):
        assert get(srv, "/containers/create", method="POST", body=bad)[0] == 400, bad
    status, _, body = get(srv, "/containers/create", method="POST", body=b"")
    assert (status, json.loads(body)) == (400, {"message": "config cannot be empty in order to create a container"})


def test_unhandled_exception_is_500_with_message_and_logged(srv, caplog):
    with caplog.at_level(logging.INFO, logger="dockyard.api"):
        status, _, body = get(srv, "/boom")
        assert (status, json.loads(body)) == (500, {"message": "database is on fire"})
        status, _, body = get(srv, "/none")
        assert status == 500 and "returned NoneType, not a Response" in json.loads(body)["message"]
    assert any(r.levelno == logging.ERROR and r.exc_info for r in caplog.records)


def test_every_request_logged(srv, caplog):
    with caplog.at_level(logging.INFO, logger="dockyard.api"):
        get(srv, "/v1.41/containers/x/json?all=1")
        get(srv, "/nope", method="POST")
        deadline = time.monotonic() + 5   # the line is written right after the answer is sent
        while time.monotonic() < deadline:
            lines = [r.getMessage() for r in caplog.records if r.name == "dockyard.api"]
            if len(lines) >= 2:
                break
            time.sleep(0.01)
    assert any(line.startswith("GET /v1.41/containers/x/json?all=1 200 ") and line.endswith("ms")
               for line in lines), lines
    assert any(line.startswith("POST /nope 404 ") for line in lines), lines


def test_keep_alive_several_requests_one_connection(srv):
    c = UnixHTTPConnection(srv.path)
    try:
        c.request("GET", "/_ping")
        r = c.getresponse()
        assert r.read() == b"OK"
        first_sock = c.sock
        for i in range(5):
            c.request("POST", "/echo", body=b"x" * i)
            r = c.getresponse()
            assert r.status == 200 and r.read() == b"x" * i
        c.request("GET", "/nope")
        r = c.getresponse()
        assert r.status == 404 and r.read()
        c.request("GET", "/_ping")
        assert c.getresponse().read() == b"OK"
        assert c.sock is first_sock   # never reconnected
    finally:
        c.close()


def test_connection_close_is_honoured(srv):
    s = unix_connect(srv.path)
    try:
        s.sendall(b"GET /_ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = read_until_eof(s)   # the server closes after the response
        head, _, body = data.partition(b"\r\n\r\n")
        assert status_of(head) == 200 and header(head, "Connection") == "close" and body == b"OK"
    finally:
        s.close()


def test_http10_client(srv):
    s = unix_connect(srv.path)
    try:
        s.sendall(b"GET /_ping HTTP/1.0\r\n\r\n")
        data = read_until_eof(s)
        assert data.startswith(b"HTTP/1.1 200 ") and data.endswith(b"\r\n\r\nOK")
    finally:
        s.close()


def test_pipelined_requests(srv):
    s = unix_connect(srv.path)
    try:
        s.sendall(b"GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
                  b"GET /_ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = read_until_eof(s)
        assert data.count(b"HTTP/1.1 200 OK") == 3
        assert b"\r\n\r\nOK" in data and b"\r\n\r\nabc" in data
    finally:
        s.close()


def test_chunked_request_body(srv):
    s = unix_connect(srv.path)
    try:
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                  b"5\r\nhello\r\n")
        s.sendall(b"7\r\n, world\r\n0\r\n\r\n")
        head, rest = read_head(s)
        assert status_of(head) == 200
        assert read_exactly(s, int(header(head, "Content-Length")), rest) == b"hello, world"
        # the connection is still good for the next request
        s.sendall(b"GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n")
        head, rest = read_head(s)
        assert status_of(head) == 200 and read_exactly(s, 2, rest) == b"OK"
    finally:
        s.close()


def test_streaming_upload_is_not_buffered(srv):
    # a chunked 3 MB body read by a stream route in pieces of at most 1000 bytes
    s = unix_connect(srv.path)
    try:
        s.sendall(b"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        piece = b"z" * 65536
        for _ in range(48):
            s.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
        s.sendall(b"0\r\n\r\n")
        head, rest = read_head(s)
        assert status_of(head) == 200
        doc = json.loads(read_exactly(s, int(header(head, "Content-Length")), rest))
        assert doc["total"] == 48 * 65536 and doc["chunks"] >= 48 * 66
    finally:
        s.close()


def test_malformed_chunked_body_is_400(srv):
    s = unix_connect(srv.path)
    try:
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n")
        data = read_until_eof(s)
        assert data.startswith(b"HTTP/1.1 400 ")
        assert b"malformed request body" in data
    finally:
        s.close()


def test_body_limit(serve):
    srv = serve(make_app(max_body=1000))
    status, _, body = get(srv, "/echo", method="POST", body=b"a" * 1000)
    assert status == 200 and body == b"a" * 1000
    status, headers, body = get(srv, "/echo", method="POST", body=b"a" * 1001)
    assert status == 413
    assert json.loads(body) == {"message": "request body is too large: 1001 bytes (limit 1000 bytes)"}
    # chunked: no length to check up front
    s = unix_connect(srv.path)
    try:
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        s.sendall(b"400\r\n" + b"b" * 1024 + b"\r\n0\r\n\r\n")
        head, rest = read_head(s)
        assert status_of(head) == 413
        assert b"too large (limit 1000 bytes)" in read_exactly(s, int(header(head, "Content-Length")), rest)
    finally:
        s.close()


def test_oversized_headers_431_and_others_unaffected(serve):
    srv = serve(make_app(max_header_size=8192))
    bystander = UnixHTTPConnection(srv.path)
    try:
        bystander.request("GET", "/_ping")
        assert bystander.getresponse().read() == b"OK"
        s = unix_connect(srv.path)
        try:
            s.sendall(b"GET /_ping HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n")
            data = read_until_eof(s)
        finally:
            s.close()
        head, _, body = data.partition(b"\r\n\r\n")
        assert status_of(head) == 431
        assert json.loads(body) == {"message": "request headers too large (limit 8192 bytes)"}
        bystander.request("GET", "/_ping")   # same keep-alive connection as before
        assert bystander.getresponse().read() == b"OK"
    finally:
        bystander.close()


@pytest.mark.parametrize("garbage", [
    b"GARBAGE\r\n\r\n",
    b"GET /_ping HTTP/1.1\r\nno colon here\r\n\r\n",
    b"GET /_ping HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(64) + b"\r\n\r\n",   # a TLS hello
])
def test_garbage_request_400_and_others_unaffected(srv, garbage):
    bystander = UnixHTTPConnection(srv.path)
    try:
        bystander.request("GET", "/_ping")
        assert bystander.getresponse().read() == b"OK"
        s = unix_connect(srv.path)
        try:
            s.sendall(garbage)
            data = read_until_eof(s)
        finally:
            s.close()
        head, _, body = data.partition(b"\r\n\r\n")
        assert status_of(head) == 400, data
        assert json.loads(body)["message"].startswith("malformed HTTP request: ")
        bystander.request("GET", "/_ping")
        assert bystander.getresponse().read() == b"OK"
    finally:
        bystander.close()


def test_unsupported_http_version_505(srv):
    s = unix_connect(srv.path)
    try:
        s.sendall(b"GET /_ping HTTP/2.0\r\nHost: x\r\n\r\n")
        head, _, body = read_until_eof(s).partition(b"\r\n\r\n")
        assert status_of(head) == 505
        assert json.loads(body) == {"message": "malformed HTTP request: unsupported HTTP version 2.0"}
    finally:
        s.close()


def test_client_vanishing_mid_request_does_not_hurt_the_server(srv):
    for partial in (b"GET /_pi", b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab"):
        s = unix_connect(srv.path)
        s.sendall(partial)
        s.close()
    assert get(srv, "/_ping")[2] == b"OK"


def test_expect_100_continue(srv):
    s = unix_connect(srv.path)
    try:
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        head, rest = read_head(s)
        assert status_of(head) == 100 and rest == b""
        s.sendall(b"data")
        head, rest = read_head(s)
        assert status_of(head) == 200 and read_exactly(s, 4, rest) == b"data"
    finally:
        s.close()


def test_unread_body_of_404_is_skipped_on_keep_alive(srv):
    s = unix_connect(srv.path)
    try:
        s.sendall(b"POST /nope HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
                  b"GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n")
        head, rest = read_head(s)
        assert status_of(head) == 404
        n = int(header(head, "Content-Length"))
        rest = read_exactly(s, n, rest)[n:] if len(rest) < n else rest[n:]
        head2 = rest
        while b"\r\n\r\n" not in head2:
            head2 += s.recv(4096)
        assert head2.startswith(b"HTTP/1.1 200 OK")
    finally:
        s.close()


def test_invalid_response_header_is_500_not_injected(srv):
    s = unix_connect(srv.path)
    try:
        s.sendall(b"GET /bad-header HTTP/1.1\r\nHost: x\r\n\r\n")
        data = read_until_eof(s)
        head, _, body = data.partition(b"\r\n\r\n")
        assert status_of(head) == 500 and b"Set-Cookie" not in head
        assert json.loads(body)["message"].startswith("invalid response: ")
    finally:
        s.close()
    assert get(srv, "/_ping")[2] == b"OK"


def test_hijack_reads_body_first_and_checks_its_size(serve):
    srv = serve(make_app(max_body=10))
    status, _, body = get(srv, "/hijack", method="POST", body=b"0123456789")
    assert (status, body) == (200, b"0123456789")
    status, _, body = get(srv, "/hijack", method="POST", body=b"0123456789A")
    assert status == 413 and b"too large" in body
