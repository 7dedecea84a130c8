"""Listening sockets: unix socket permissions, stale sockets, TCP, start/close cleanliness."""
import asyncio
import grp
import http.client
import os
import socket
import stat

import pytest
from http_testlib import ServerThread, read_head, read_until_eof, status_of

from dockyard.daemon.http import (App, ListenError, Response, TCPListener, UnixListener,
                                  parse_listener)


def make_app():
    app = App()

    @app.route("GET", "/_ping")
    async def ping(req):
        return Response(200, "OK")

    @app.route("POST", "/attach")
    async def attach(req):
        conn = await req.hijack()
        while await conn.read():
            pass
        await asyncio.sleep(0.05)
        await conn.write(b"written after the client's FIN")

    return app


def unix_ping(path):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    try:
        s.connect(path)
        s.sendall(b"GET /_ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        return read_until_eof(s).endswith(b"\r\n\r\nOK")
    finally:
        s.close()


def test_parse_listener():
    assert parse_listener("unix:///run/d.sock") == UnixListener("/run/d.sock")
    assert parse_listener("/run/d.sock") == UnixListener("/run/d.sock")
    assert parse_listener("tcp://127.0.0.1:2375") == TCPListener("127.0.0.1", 2375)
    assert parse_listener("tcp://[::1]:2376") == TCPListener("::1", 2376)
    assert parse_listener("tcp://:2375") == TCPListener("0.0.0.0", 2375)
    for bad in ("unix://relative.sock", "tcp://host", "tcp://host:99999", "fd://", "http://x:1"):
        with pytest.raises(ValueError, match="invalid listen address"):
            parse_listener(bad)


@pytest.mark.root
def test_unix_socket_mode_owner_group(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("chown needs root")
    group = grp.getgrnam("nogroup")
    path = str(tmp_path / "run" / "api.sock")
    with ServerThread(make_app(), [UnixListener(path, group="nogroup")]) as srv:
        st = os.lstat(path)
        assert stat.S_ISSOCK(st.st_mode)
        assert stat.S_IMODE(st.st_mode) == 0o660
        assert (st.st_uid, st.st_gid) == (0, group.gr_gid)
        assert srv.addresses == [path]
        assert unix_ping(path)
    assert not os.path.exists(path)   # removed at close


def test_unix_socket_missing_group_keeps_default(tmp_path):
    path = str(tmp_path / "api.sock")
    with ServerThread(make_app(), [UnixListener(path, group="no-such-group-dockyard-test")]):
        st = os.lstat(path)
        assert stat.S_IMODE(st.st_mode) == 0o660 and st.st_gid == os.getegid()


def test_stale_socket_is_replaced(tmp_path):
    path = str(tmp_path / "api.sock")
    dead = socket.socket(socket.AF_UNIX)
    dead.bind(path)
    dead.close()            # the file stays, nobody answers
    with ServerThread(make_app(), [UnixListener(path)]):
        assert unix_ping(path)


def test_refuses_socket_someone_answers_on(tmp_path):
    path = str(tmp_path / "api.sock")
    alive = socket.socket(socket.AF_UNIX)
    alive.bind(path)
    alive.listen(1)
    try:
        with pytest.raises(ListenError, match=f"cannot listen on {path}: another process is answering"):
            with ServerThread(make_app(), [UnixListener(path)]):
                pass
        assert os.path.exists(path)
    finally:
        alive.close()


def test_refuses_non_socket_and_undoes_earlier_listeners(tmp_path):
    good = str(tmp_path / "good.sock")
    bad = tmp_path / "file"
    bad.write_text("keep me")
    with pytest.raises(ListenError, match="it exists and is not a socket"):
        with ServerThread(make_app(), [UnixListener(good), UnixListener(str(bad))]):
            pass
    assert bad.read_text() == "keep me"
    assert not os.path.exists(good)   # the first listener was closed and removed again


def test_tcp_listener_and_half_close(tmp_path):
    with ServerThread(make_app(), [TCPListener("127.0.0.1", 0), f"unix://{tmp_path}/s.sock"]) as srv:
        host, port = srv.addresses[0]
        assert srv.addresses[1] == f"{tmp_path}/s.sock"
        c = http.client.HTTPConnection(host, port, timeout=5)
        try:
            for _ in range(3):
                c.request("GET", "/v1.41/_ping")
                r = c.getresponse()
                assert (r.status, r.read(), r.getheader("Api-Version")) == (200, b"OK", "1.41")
        finally:
            c.close()
        s = socket.create_connection((host, port), timeout=5)
        try:
            s.sendall(b"POST /attach HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n")
            head, rest = read_head(s)
            assert status_of(head) == 101
            s.shutdown(socket.SHUT_WR)
            assert rest + read_until_eof(s) == b"written after the client's FIN"
        finally:
            s.close()
        assert unix_ping(f"{tmp_path}/s.sock")


def test_close_ends_open_connections(tmp_path):
    path = str(tmp_path / "api.sock")
    srv = ServerThread(make_app(), [UnixListener(path)]).__enter__()
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    try:
        s.connect(path)
        s.sendall(b"POST /attach HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n")
        read_head(s)
        srv.__exit__(None, None, None)     # app.close() with a hijacked connection open
        assert read_until_eof(s) == b""
        assert not os.path.exists(path)
    finally:
        s.close()
        srv.__exit__(None, None, None)
