"""``GET /v2/``: the API version check, which also tells clients how to authenticate."""
from __future__ import annotations

from dockyard.daemon.http import Response

from .app import JSON_UTF8


async def version_check(ctx, req) -> Response:
    return Response(200, b"{}", None, JSON_UTF8)


def routes(app) -> None:
    for pattern in ("/v2/", "/v2"):
        app.endpoint("GET", pattern, version_check, lambda req: None)
