"""``/v2/<name>/blobs/<digest>``: HEAD, GET (with Range) and DELETE of a repository's blobs."""
from __future__ import annotations

import os

from dockyard.daemon.http import Response

from ..auth.access import repo_scope
from ..errors import blob_unknown, unsupported
from ..names import check_digest
from .send import send_blob


async def get_blob(ctx, req) -> None:
    digest = check_digest(req.params["digest"])
    st = ctx.storage
    if not st.repos.has_blob(ctx.name, digest):
        raise blob_unknown(digest)
    fd = st.blobs.open(digest)
    if fd is None:
        raise blob_unknown(digest)
    size = os.fstat(fd).st_size
    headers = [("Docker-Content-Digest", digest), ("ETag", f'"{digest}"'),
               ("Cache-Control", "max-age=31536000")]
    await send_blob(req, fd, size, headers, sendfile=ctx.server.use_sendfile)


async def delete_blob(ctx, req) -> Response:
    if not ctx.server.config.delete_enabled:
        raise unsupported("deletes are disabled on this registry")
    digest = check_digest(req.params["digest"])
    if not ctx.storage.repos.unlink_blob(ctx.name, digest):
        raise blob_unknown(digest)
    return Response(202, b"", [("Docker-Content-Digest", digest)])


def routes(app) -> None:
    pattern = "/v2/{name:path}/blobs/{digest}"
    app.endpoint("GET", pattern, get_blob, lambda req: [repo_scope(req.params["name"], "pull")])
    app.endpoint("DELETE", pattern, delete_blob, lambda req: [repo_scope(req.params["name"], "delete")])
