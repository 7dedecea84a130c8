"""Helpers shared by the security tests."""
from __future__ import annotations

import json
import socket


def parse_probe(text: str) -> dict[str, str]:
    """probe's "NAME RESULT" lines -> {NAME: RESULT}."""
    out = {}
    for line in text.splitlines():
        name, _, result = line.partition(" ")
        if result:
            out[name] = result
    return out


def raw_request(sock_path: str, data: bytes, timeout: float = 10.0) -> tuple[int, dict, bytes]:
    """Send raw bytes on the daemon's unix socket; (status, headers, body) of the answer."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(sock_path)
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and close before reading everything
        buf = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            buf += chunk
            head, sep, body = buf.partition(b"\r\n\r\n")
            if sep:
                headers = _headers(head)
                n = int(headers.get("content-length", "-1"))
                if n >= 0 and len(body) >= n:
                    break
    finally:
        s.close()
    head, _, body = buf.partition(b"\r\n\r\n")
    if not head:
        raise ConnectionError("no answer")
    status = int(head.split(b" ", 2)[1])
    headers = _headers(head)
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = _dechunk(body)
    return status, headers, body


def _dechunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, sep, rest = data.partition(b"\r\n")
        if not sep:
            break
        n = int(size_line.split(b";")[0] or b"0", 16)
        if n == 0:
            break
        out += rest[:n]
        data = rest[n + 2:]
    return out


def _headers(head: bytes) -> dict:
    out = {}
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        out[k.decode().strip().lower()] = v.decode().strip()
    return out


def request(sock_path: str, method: str, path: str, body: bytes | None = None,
            content_type: str = "application/json", timeout: float = 10.0) -> tuple[int, dict, bytes]:
    head = f"{method} {path} HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n"
    if body is not None:
        head += f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
    return raw_request(sock_path, head.encode() + b"\r\n" + (body or b""), timeout)


def message(body: bytes) -> str:
    doc = json.loads(body)
    assert isinstance(doc, dict) and isinstance(doc.get("message"), str) and doc["message"], doc
    return doc["message"]
