"""A registry that answers whatever a test wants: crafted manifests and blobs, garbage, resets.

``with CraftedRegistry() as reg: reg.routes["/v2/x/manifests/1"] = (200, headers, body)``; a
route may also be ``"reset"`` (close the connection without answering), ``("truncate", headers,
body, n)`` (send the headers and the first n bytes, then close) or a callable returning one of
these. Unknown paths get 404 with a distribution error body.
"""
from __future__ import annotations

import http.server
import json
import socket
import socketserver
import struct
import threading


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _answer(self):
        reg = self.server.registry
        path = self.path.split("?", 1)[0]
        reg.requests.append((self.command, path))
        route = reg.routes.get(path)
        if callable(route):
            route = route()
        if route is None:
            if path == "/v2/" or path == "/v2":
                route = (200, {"Content-Type": "application/json"}, b"{}")
            else:
                body = json.dumps({"errors": [{"code": "NAME_UNKNOWN", "message": "not here"}]}).encode()
                route = (404, {"Content-Type": "application/json"}, body)
        if route == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            return
        truncate = None
        if route[0] == "truncate":
            _, headers, body, truncate = route
            status = 200
        else:
            status, headers, body = route
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        if "Content-Length" not in headers:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body if truncate is None else body[:truncate])
        if truncate is not None:
            self.wfile.flush()
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True

    do_GET = do_HEAD = _answer


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        pass  # clients that go away (the reset cases) are expected here


class CraftedRegistry:
    def __init__(self):
        self.routes: dict = {}
        self.requests: list = []
        self._srv = _Server(("127.0.0.1", 0), _Handler)
        self._srv.registry = self
        self.host = f"127.0.0.1:{self._srv.server_address[1]}"
        self._thread = threading.Thread(target=self._srv.serve_forever, daemon=True)

    def __enter__(self) -> "CraftedRegistry":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._srv.shutdown()
        self._srv.server_close()
        self._thread.join(10)

    def image(self, repo: str, tag: str, config: bytes, layers: list[bytes], *, manifest: bytes | None = None,
              layer_media_type: str = "application/vnd.oci.image.layer.v1.tar") -> bytes:
        """Serve an OCI image (or the given manifest bytes); returns the manifest served."""
        from secdef_images import sha
        if manifest is None:
            manifest = json.dumps({
                "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha(config),
                           "size": len(config)},
                "layers": [{"mediaType": layer_media_type, "digest": sha(x), "size": len(x)} for x in layers]}).encode()
        mt = "application/vnd.oci.image.manifest.v1+json"
        self.routes[f"/v2/{repo}/manifests/{tag}"] = (200, {"Content-Type": mt, "Docker-Content-Digest": sha(manifest)},
                                                      manifest)
        self.routes[f"/v2/{repo}/manifests/{sha(manifest)}"] = (200, {"Content-Type": mt}, manifest)
        for blob in [config, *layers]:
            self.routes[f"/v2/{repo}/blobs/{sha(blob)}"] = (200, {"Content-Type": "application/octet-stream"}, blob)
        return manifest
