"""The registry's HTTP application: the daemon's ``App`` with the Distribution API's conventions.

Differences from the Engine API app: no ``/v1.xx`` version prefix (``/v2/`` is the registry's
path, not an API version), the registry's headers (``Docker-Distribution-Api-Version``), errors
in the spec's ``{"errors": [...]}`` format, and every route checked by the auth gate before its
handler runs. Handlers are ``async def handler(ctx, req)``; every route streams its request body
(the handler reads it, or not, with ``req.read``).
"""
from __future__ import annotations

from dockyard.daemon.http import ApiError, App, Response
from dockyard.daemon.http.response import http_date

from .. import names
from ..errors import RegistryError, unsupported

JSON_UTF8 = "application/json; charset=utf-8"
_METHODS = ("GET", "HEAD", "PUT", "POST", "PATCH", "DELETE")
_API_CODES = {401: "UNAUTHORIZED", 403: "DENIED", 413: "SIZE_INVALID", 429: "TOOMANYREQUESTS"}


class Ctx:
    """What a handler gets besides the request: the server, the repository name, the requester."""

    __slots__ = ("server", "name", "principal")

    def __init__(self, server, name, principal):
        self.server = server
        self.name = name
        self.principal = principal

    @property
    def storage(self):
        return self.server.storage

    def may(self, name: str, action: str) -> bool:
        """Whether the requester may ``action`` (pull, push, delete) on repository ``name``."""
        return self.principal is not None and self.principal.may("repository", name, action)


def error_response(e: RegistryError) -> Response:
    return Response(e.status, e.body(), e.headers, JSON_UTF8)


class RegistryApp(App):
    def __init__(self, server, max_header_size: int = 64 << 10):
        super().__init__(server_version="registry", max_header_size=max_header_size)
        self.server = server

    def base_headers(self) -> list[tuple[bytes, bytes]]:
        return [(b"Docker-Distribution-Api-Version", b"registry/2.0"),
                (b"X-Content-Type-Options", b"nosniff"), (b"Date", http_date())]

    def endpoint(self, method: str, pattern: str, handler, access) -> None:
        """Add a route. ``access(req) -> list[Scope] | None`` is what the gate checks (None:
        any authenticated requester); ``access=False`` means no check (the token endpoint)."""
        server = self.server

        async def run(req):
            name = req.params.get("name")
            if name is not None:
                names.check_name(name)
            if access is False:
                principal = None
            else:
                principal = await server.gate.authenticate(req, access(req))
            return await handler(Ctx(server, name, principal), req)

        self.add_route(method, pattern, run, stream=True)

    async def _call(self, req):
        try:
            found = self.router.match(req.method, req.path)
            if found is None:
                if any(self.router.match(m, req.path) for m in _METHODS if m != req.method):
                    raise unsupported(f"method {req.method} is not allowed on {req.path}")
                raise unsupported(f"no such endpoint: {req.path}", status=404)
            route, params = found
            req.params, req.route = params, route
            return await route.handler(req)
        except RegistryError as e:
            if req._started:
                raise RuntimeError(f"{e} (after the response started)") from None
            return error_response(e)
        except ApiError as e:
            if req._started:
                raise
            return error_response(RegistryError(_API_CODES.get(e.status, "UNSUPPORTED"), e.message,
                                                status=e.status))
