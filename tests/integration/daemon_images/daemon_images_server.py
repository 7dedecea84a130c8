"""A minimal API server for image route tests: the image routes plus /_ping and /version,
served on a unix socket by an asyncio loop in a thread, and an HTTP client over that socket."""
from __future__ import annotations

import asyncio
import http.client
import json
import socket
import threading

from dockyard.daemon.http import App, Response, json_response
from dockyard.daemon.routes import images as image_routes


def make_app(service) -> App:
    app = App()

    @app.route("GET", "/_ping")
    async def ping(req):
        return Response(200, b"OK", {"Cache-Control": "no-cache, no-store, must-revalidate", "Pragma": "no-cache"})

    @app.route("GET", "/version")
    async def version(req):
        return json_response({"Version": "0.1.0", "ApiVersion": app.api_version,
                              "MinAPIVersion": app.min_api_version, "Os": "linux", "Arch": "amd64",
                              "Components": [{"Name": "Engine", "Version": "0.1.0", "Details": {}}]})

    image_routes.register(app, service)
    return app


class Server:
    """``with Server(service, path) as s:`` serves until the block ends (even on failure)."""

    def __init__(self, service, path: str):
        self.service, self.path = service, path
        self.loop = asyncio.new_event_loop()
        self.app = make_app(service)
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> "Server":
        from dockyard.daemon.http import UnixListener

        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.app.start([UnixListener(self.path, group=None)]),
                                         self.loop).result(10)
        return self

    def __exit__(self, *exc) -> None:
        try:
            asyncio.run_coroutine_threadsafe(self.app.close(), self.loop).result(10)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
            self.loop.close()


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float = 60):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


def call(path: str, method: str, target: str, body=None, headers=None):
    """(status, headers, body bytes) of one request."""
    conn = UnixHTTPConnection(path)
    try:
        conn.request(method, target, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def json_lines(data: bytes) -> list[dict]:
    return [json.loads(line) for line in data.split(b"\r\n") if line.strip()]
