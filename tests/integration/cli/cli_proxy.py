"""A recording proxy between a CLI and a daemon socket: every request's method, path and body.

Used to compare the requests our CLI makes with the ones the Docker CLI makes for the same
command line. Each client connection is relayed to the daemon in both directions; request
heads and bodies are parsed from the client's side of the stream (Content-Length or chunked).
"""
from __future__ import annotations

import json
import os
import socket
import threading


class Request:
    def __init__(self, method: str, path: str, headers: dict[str, str], body: bytes):
        self.method, self.path, self.headers, self.body = method, path, headers, body

    def json(self):
        return json.loads(self.body) if self.body.strip() else None

    def __repr__(self) -> str:
        return f"{self.method} {self.path}"


class RecordingProxy:
    def __init__(self, listen: str, upstream: str):
        self.listen, self.upstream = listen, upstream
        self.requests: list[Request] = []
        self.lock = threading.Lock()
        self.srv = socket.socket(socket.AF_UNIX)
        if os.path.exists(listen):
            os.unlink(listen)
        self.srv.bind(listen)
        self.srv.listen(64)
        self.closed = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def clear(self) -> None:
        with self.lock:
            self.requests.clear()

    def find(self, method: str, contains: str) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if r.method == method and contains in r.path]

    def close(self) -> None:
        self.closed = True
        try:
            self.srv.close()
        except OSError:
            pass
        try:
            os.unlink(self.listen)
        except OSError:
            pass

    def _accept(self) -> None:
        while not self.closed:
            try:
                c, _ = self.srv.accept()
            except OSError:
                return
            u = socket.socket(socket.AF_UNIX)
            try:
                u.connect(self.upstream)
            except OSError:
                c.close()
                continue
            threading.Thread(target=self._client_to_daemon, args=(c, u), daemon=True).start()
            threading.Thread(target=self._relay, args=(u, c), daemon=True).start()

    @staticmethod
    def _relay(src, dst) -> None:
        try:
            while True:
                d = src.recv(65536)
                if not d:
                    break
                dst.sendall(d)
        except OSError:
            pass
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def _client_to_daemon(self, c, u) -> None:
        buf = bytearray()
        raw = False
        try:
            while True:
                d = c.recv(65536)
                if not d:
                    break
                u.sendall(d)
                if raw:
                    continue
                buf += d
                while True:
                    parsed = _parse(buf)
                    if parsed is None:
                        break
                    req, used = parsed
                    with self.lock:
                        self.requests.append(req)
                    del buf[:used]
                    if req.headers.get("upgrade"):
                        raw = True
                        break
        except OSError:
            pass
        try:
            u.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def _parse(buf: bytearray):
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = bytes(buf[:end]).decode("latin-1").split("\r\n")
    method, path, _ = head[0].split(" ", 2)
    headers = {}
    for h in head[1:]:
        k, _, v = h.partition(":")
        headers[k.strip().lower()] = v.strip()
    pos = end + 4
    if "chunked" in headers.get("transfer-encoding", ""):
        body = bytearray()
        while True:
            nl = buf.find(b"\r\n", pos)
            if nl < 0:
                return None
            size = int(bytes(buf[pos:nl]).split(b";")[0], 16)
            if len(buf) < nl + 2 + size + 2:
                return None
            body += buf[nl + 2:nl + 2 + size]
            pos = nl + 2 + size + 2
            if size == 0:
                break
        return Request(method, path, headers, bytes(body)), pos
    n = int(headers.get("content-length", "0") or 0)
    if len(buf) < pos + n:
        return None
    return Request(method, path, headers, bytes(buf[pos:pos + n])), pos + n
