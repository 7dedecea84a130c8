"""``GET /v2/_catalog``: the repositories the requester may pull, paginated like tags."""
from __future__ import annotations

from dockyard.daemon.http import Response, encode_json

from ..auth.access import CATALOG_SCOPE
from .app import JSON_UTF8
from .paging import page

DEFAULT_PAGE = 1000


def _pullable(ctx):
    """Whether the requester's account may pull a repository, by the access rules (a token for the
    catalog names no repositories, so its account's rules decide)."""
    p = ctx.principal
    if p.open:
        return lambda name: True
    policy = ctx.server.gate.policy
    return lambda name: "pull" in policy.actions(p.account, "repository", name)


async def catalog(ctx, req) -> Response:
    may = _pullable(ctx)
    names = [n for n in ctx.storage.repos.names() if may(n)]
    repos, headers = page(names, req, "/v2/_catalog", DEFAULT_PAGE)
    return Response(200, encode_json({"repositories": repos}), headers, JSON_UTF8)


def routes(app) -> None:
    app.endpoint("GET", "/v2/_catalog", catalog, lambda req: [CATALOG_SCOPE])
