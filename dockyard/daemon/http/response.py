"""Response values handlers return, and the bytes-level pieces every response shares."""
from __future__ import annotations

import json
import time
from http import HTTPStatus

RAW_STREAM = "application/vnd.docker.raw-stream"
MULTIPLEXED_STREAM = "application/vnd.docker.multiplexed-stream"
JSON = "application/json"

_REASONS = {s.value: s.phrase.encode() for s in HTTPStatus}


def reason(status: int) -> bytes:
    return _REASONS.get(status, b"")


class Response:
    """A complete response: status, body (bytes or str) and extra headers (dict or pairs)."""

    __slots__ = ("status", "body", "headers", "content_type")

    def __init__(self, status: int = 200, body: bytes | str = b"", headers=None,
                 content_type: str | None = None):
        if not 200 <= status <= 999:
            raise ValueError(f"response status {status} is not a final status")
        self.status = status
        self.body = body.encode() if isinstance(body, str) else bytes(body)
        self.headers = list(headers.items()) if isinstance(headers, dict) else list(headers or ())
        if content_type is None and self.body:
            content_type = "text/plain; charset=utf-8"
        self.content_type = content_type


def encode_json(obj) -> bytes:
    """Compact JSON with a trailing newline, as Go's json.Encoder writes it."""
    return json.dumps(obj, separators=(",", ":"), allow_nan=False).encode() + b"\n"


def json_response(obj, status: int = 200, headers=None) -> Response:
    return Response(status, encode_json(obj), headers, JSON)


def no_content() -> Response:
    return Response(204)


def error_body(message: str) -> bytes:
    return encode_json({"message": message})


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_date = [0, b""]


def http_date() -> bytes:
    """The Date header value, recomputed at most once a second."""
    now = int(time.time())
    if now != _date[0]:
        t = time.gmtime(now)
        _date[1] = (f"{_DAYS[t.tm_wday]}, {t.tm_mday:02d} {_MONTHS[t.tm_mon - 1]} {t.tm_year} "
                    f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} GMT").encode()
        _date[0] = now
    return _date[1]


def header_pairs(headers) -> list[tuple[bytes, bytes]]:
    """Extra headers as byte pairs for h11."""
    out = []
    for name, value in headers:
        out.append((name.encode("latin-1") if isinstance(name, str) else name,
                    str(value).encode("latin-1") if not isinstance(value, bytes) else value))
    return out


def raw_head(status_line: bytes, headers: list[tuple[bytes, bytes]]) -> bytes:
    """Hand-written response head, for answers outside h11's state machine."""
    lines = [status_line]
    lines.extend(b"%s: %s" % (n, v) for n, v in headers)
    return b"\r\n".join(lines) + b"\r\n\r\n"
