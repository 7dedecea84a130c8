"""``GET /v2/<name>/referrers/<digest>``: the manifests whose ``subject`` is ``digest``, as an OCI
index, optionally filtered by ``artifactType`` (``OCI-Filters-Applied``)."""
from __future__ import annotations

from dockyard.daemon.http import Response, encode_json
from dockyard.spec import image as spec

from ..auth.access import repo_scope
from ..names import check_digest


async def referrers(ctx, req) -> Response:
    digest = check_digest(req.params["digest"])
    found = ctx.storage.repos.referrers(ctx.name, digest)
    headers = []
    wanted = req.q("artifactType")
    if wanted:
        found = [d for d in found if d.get("artifactType") == wanted]
        headers.append(("OCI-Filters-Applied", "artifactType"))
    body = {"schemaVersion": 2, "mediaType": spec.OCI_INDEX, "manifests": found}
    return Response(200, encode_json(body), headers, spec.OCI_INDEX)


def routes(app) -> None:
    app.endpoint("GET", "/v2/{name:path}/referrers/{digest}", referrers,
                 lambda req: [repo_scope(req.params["name"], "pull")])
