"""``GET /v2/<name>/tags/list`` with ``n``/``last`` pagination."""
from __future__ import annotations

from dockyard.daemon.http import Response, encode_json

from ..auth.access import repo_scope
from ..errors import name_unknown
from .app import JSON_UTF8
from .paging import page


async def list_tags(ctx, req) -> Response:
    repos = ctx.storage.repos
    if not repos.exists(ctx.name):
        raise name_unknown(ctx.name)
    tags, headers = page(repos.tags(ctx.name), req, f"/v2/{ctx.name}/tags/list")
    return Response(200, encode_json({"name": ctx.name, "tags": tags}), headers, JSON_UTF8)


def routes(app) -> None:
    app.endpoint("GET", "/v2/{name:path}/tags/list", list_tags,
                 lambda req: [repo_scope(req.params["name"], "pull")])
