"""Engine API client: version negotiation, JSON calls, streams, and the attach/exec hijack."""
from __future__ import annotations

import json
import os

from . import wire
from .errors import APIError, ConnectError

CLIENT_VERSION = "0.1.0"
MAX_API_VERSION = "1.47"
MIN_API_VERSION = "1.41"
USER_AGENT = f"Dockyard-Client/{CLIENT_VERSION} (linux)"


def _vtuple(v: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in v.split("."))
    except ValueError:
        return (0,)


def quote(s: str, safe: str = "") -> str:
    """Percent-encode for a URL path segment or query value (urllib.parse.quote without the import)."""
    out = []
    for b in s.encode():
        c = chr(b)
        if c.isascii() and (c.isalnum() or c in "-._~" or c in safe):
            out.append(c)
        else:
            out.append(f"%{b:02X}")
    return "".join(out)


def urlencode(query: dict | list | None) -> str:
    if not query:
        return ""
    items = query.items() if isinstance(query, dict) else query
    items = sorted(items, key=lambda kv: kv[0])  # Go's url.Values.Encode order
    parts = []
    for k, v in items:
        if v is None:
            continue
        if isinstance(v, bool):
            v = "1" if v else "0"
        if isinstance(v, (list, tuple)):
            for x in v:
                parts.append(f"{quote(k)}={quote(str(x))}")
            continue
        parts.append(f"{quote(k)}={quote(str(v))}")
    return "&".join(parts)


def error_message(status: int, body: bytes, method: str = "", path: str = "", version: str = "") -> str:
    text = body.strip()
    if text:
        try:
            doc = json.loads(text)
        except ValueError:
            doc = None
        if isinstance(doc, dict) and isinstance(doc.get("message"), str):
            return doc["message"]
        return text.decode(errors="replace")
    reason = _REASONS.get(status, str(status))
    return (f"request returned {reason} for API route and version {path or '/'}, "
            f"check if the server supports the requested API version")


_REASONS = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
            409: "Conflict", 500: "Internal Server Error", 501: "Not Implemented", 503: "Service Unavailable"}


class Client:
    def __init__(self, endpoint, version: str | None = None):
        self.endpoint = endpoint
        self.conn = wire.Conn(endpoint)
        env_version = os.environ.get("DOCKYARD_API_VERSION") or os.environ.get("DOCKER_API_VERSION")
        self._version = version or env_version or None
        self.ping_headers: dict[str, str] = {}

    # --- version ---------------------------------------------------------------------------
    def ping(self) -> dict[str, str]:
        resp = self.conn.request("HEAD", "/_ping", [("User-Agent", USER_AGENT)])
        resp.read()
        if resp.status >= 400 and resp.status != 404:
            resp2 = self.conn.request("GET", "/_ping", [("User-Agent", USER_AGENT)])
            body = resp2.read()
            if resp2.status >= 400:
                raise APIError(resp2.status, error_message(resp2.status, body, "GET", "/_ping"))
            resp = resp2
        self.ping_headers = dict(resp.headers)
        return self.ping_headers

    @property
    def version(self) -> str:
        if self._version is None:
            headers = self.ping()
            server = headers.get("api-version", "")
            if not server:
                self._version = MIN_API_VERSION
            elif _vtuple(server) < _vtuple(MAX_API_VERSION):
                self._version = server
            else:
                self._version = MAX_API_VERSION
        return self._version

    def at_least(self, v: str) -> bool:
        return _vtuple(self.version) >= _vtuple(v)

    def target(self, path: str, query=None, versioned: bool = True) -> str:
        qs = urlencode(query)
        prefix = f"/v{self.version}" if versioned else ""
        return prefix + path + ("?" + qs if qs else "")

    # --- calls -----------------------------------------------------------------------------
    def request(self, method: str, path: str, query=None, body=None, json_body=None, headers=None,
                conn: wire.Conn | None = None, check: bool = True) -> wire.Response:
        target = self.target(path, query)
        hdrs = [("User-Agent", USER_AGENT)]
        if json_body is not None:
            body = json.dumps(json_body, separators=(",", ":")).encode()
            hdrs.append(("Content-Type", "application/json"))
        if headers:
            hdrs += list(headers.items()) if isinstance(headers, dict) else list(headers)
        resp = (conn or self.conn).request(method, target, hdrs, body)
        if check and resp.status >= 400:
            data = resp.read()
            raise APIError(resp.status, error_message(resp.status, data, method, path, self.version))
        return resp

    def new_conn(self) -> wire.Conn:
        """A separate connection, for a stream that runs alongside other calls (wait, events)."""
        return wire.Conn(self.endpoint)

    def get(self, path: str, query=None):
        return _json(self.request("GET", path, query))

    def post(self, path: str, query=None, json_body=None, body=None, headers=None):
        resp = self.request("POST", path, query, body=body, json_body=json_body, headers=headers)
        return _json(resp)

    def delete(self, path: str, query=None):
        return _json(self.request("DELETE", path, query))

    def put(self, path: str, query=None, body=None, headers=None):
        return _json(self.request("PUT", path, query, body=body, headers=headers))

    def hijack(self, path: str, query=None, json_body=None):
        """POST with ``Upgrade: tcp``; returns (socket, bytes already read past the headers)."""
        conn = wire.Conn(self.endpoint)
        target = self.target(path, query)
        hdrs = [("User-Agent", USER_AGENT), ("Connection", "Upgrade"), ("Upgrade", "tcp")]
        body = b""
        if json_body is not None:
            body = json.dumps(json_body, separators=(",", ":")).encode()
            hdrs.append(("Content-Type", "application/json"))
        else:
            hdrs.append(("Content-Type", "text/plain"))
        conn.send("POST", target, hdrs, body)
        resp = wire.Response(conn, conn.reader, "POST")
        if resp.status >= 400:
            data = resp.read()
            conn.close()
            raise APIError(resp.status, error_message(resp.status, data, "POST", path))
        if resp.status not in (101, 200):
            conn.close()
            raise ConnectError(f"unexpected answer to the attach request: {resp.status} {resp.reason}")
        sock, leftover = conn.sock, bytes(conn.reader.buf)
        conn.sock = None  # the caller owns the socket now
        return sock, leftover, resp.headers


def _json(resp: wire.Response):
    data = resp.read()
    if not data.strip():
        return None
    try:
        return json.loads(data)
    except ValueError:
        raise ConnectError(f"malformed JSON from the daemon: {data[:120]!r}") from None
