"""``GET /v2/_catalog``: the repositories the requester may pull, paginated like tags."""
from __future__ import annotations

from dockyard.daemon.http import Response, encode_json

from ..auth.access import CATALOG_SCOPE
from .app import JSON_UTF8
from .paging import page

DEFAULT_PAGE = 1000


async def catalog(ctx, req) -> Response:
    names = [n for n in ctx.storage.repos.names() if ctx.may(n, "pull")]
    repos, headers = page(names, req, "/v2/_catalog", DEFAULT_PAGE)
    return Response(200, encode_json({"repositories": repos}), headers, JSON_UTF8)


def routes(app) -> None:
    app.endpoint("GET", "/v2/_catalog", catalog, lambda req: [CATALOG_SCOPE])
