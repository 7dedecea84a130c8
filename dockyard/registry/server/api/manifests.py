"""``/v2/<name>/manifests/<reference>``: GET/HEAD, PUT and DELETE by tag or digest.

A pushed manifest is kept byte for byte (as a blob, shared by repositories), linked into the
repository with the media type it was pushed with, and tagged. Its blobs and child manifests
must be in the repository already (MANIFEST_BLOB_UNKNOWN otherwise); its ``subject`` need not
be (referrers may come first), and is recorded for the referrers API (``OCI-Subject``).
"""
from __future__ import annotations

import asyncio

from dockyard.daemon.http import Response
from dockyard.images import digest as dg

from .. import manifests as mf
from ..auth.access import repo_scope
from ..errors import RegistryError, digest_invalid, manifest_unknown, name_unknown, unsupported
from ..names import parse_reference
from .body import read_limited


def _resolve(ctx, reference: str) -> tuple[str, str]:
    """(digest, media type) of the manifest a tag or digest names in the repository."""
    repos = ctx.storage.repos
    tag, digest = parse_reference(reference)
    if tag is not None:
        digest = repos.tag(ctx.name, tag)
    media_type = repos.manifest_type(ctx.name, digest) if digest else None
    if media_type is None:
        if not repos.exists(ctx.name):
            raise name_unknown(ctx.name)
        raise manifest_unknown(ctx.name, reference)
    return digest, media_type


async def get_manifest(ctx, req) -> Response:
    reference = req.params["reference"]
    digest, media_type = _resolve(ctx, reference)
    data = ctx.storage.blobs.read(digest, ctx.server.config.max_manifest_size)
    if data is None:
        raise manifest_unknown(ctx.name, reference)
    headers = [("Docker-Content-Digest", digest), ("ETag", f'"{digest}"')]
    match = req.headers.get("if-none-match")
    if match and f'"{digest}"' in match:
        return Response(304, b"", headers)
    return Response(200, data, headers, media_type)


def _missing(ctx, ins: mf.Inspected) -> list[str]:
    st, name = ctx.storage, ctx.name
    missing = []
    for desc in ins.blobs:
        if st.repos.has_blob(name, desc.digest) and st.blobs.has(desc.digest):
            continue
        data = mf.embedded_data(desc)
        if data is not None:          # content carried in the descriptor (e.g. the empty config)
            st.blobs.put_bytes(data, desc.digest)
            st.repos.link_blob(name, desc.digest)
            continue
        missing.append(desc.digest)
    for desc in ins.children:
        if st.repos.manifest_type(name, desc.digest) is None or not st.blobs.has(desc.digest):
            missing.append(desc.digest)
    return missing


async def put_manifest(ctx, req) -> Response:
    reference = req.params["reference"]
    tag, ref_digest = parse_reference(reference)
    data = await read_limited(req, ctx.server.config.max_manifest_size, "manifest")
    digest = dg.of_bytes(data, dg.parse(ref_digest)[0] if ref_digest else "sha256")
    if ref_digest and digest != ref_digest:
        raise digest_invalid(f"manifest digest is {digest}, not {ref_digest}", ref_digest)
    ins = mf.inspect(data, req.headers.get("content-type"))
    st, name = ctx.storage, ctx.name

    def store() -> None:
        missing = _missing(ctx, ins)
        if missing:
            raise RegistryError("MANIFEST_BLOB_UNKNOWN", f"manifest references {missing[0]}, which is not in "
                                f"repository {name}" + (f" (and {len(missing) - 1} more)" if len(missing) > 1
                                                        else ""), {"digest": missing[0]})
        st.blobs.put_bytes(data, digest)
        st.repos.link_manifest(name, digest, ins.media_type)
        if ins.subject is not None:
            st.repos.add_referrer(name, ins.subject.digest, ins.referrer_descriptor(digest, len(data)))
        if tag is not None:
            st.repos.set_tag(name, tag, digest)

    await asyncio.to_thread(store)
    headers = [("Location", f"/v2/{name}/manifests/{digest}"), ("Docker-Content-Digest", digest)]
    if ins.subject is not None:
        headers.append(("OCI-Subject", ins.subject.digest))
    return Response(201, b"", headers)


async def delete_manifest(ctx, req) -> Response:
    if not ctx.server.config.delete_enabled:
        raise unsupported("deletes are disabled on this registry")
    reference = req.params["reference"]
    st, name = ctx.storage, ctx.name
    tag, digest = parse_reference(reference)
    if tag is not None:
        if not st.repos.delete_tag(name, tag):
            raise manifest_unknown(name, reference)
        return Response(202)
    digest, _ = _resolve(ctx, reference)

    def remove() -> None:
        data = st.blobs.read(digest, ctx.server.config.max_manifest_size)
        if data is not None:
            try:
                subject = mf.inspect(data, st.repos.manifest_type(name, digest)).subject
            except RegistryError:
                subject = None
            if subject is not None:
                st.repos.remove_referrer(name, subject.digest, digest)
        st.repos.unlink_manifest(name, digest)
        for t in st.repos.tags_of(name, digest):
            st.repos.delete_tag(name, t)

    await asyncio.to_thread(remove)
    return Response(202)


def routes(app) -> None:
    pattern = "/v2/{name:path}/manifests/{reference}"
    app.endpoint("GET", pattern, get_manifest, lambda req: [repo_scope(req.params["name"], "pull")])
    app.endpoint("PUT", pattern, put_manifest, lambda req: [repo_scope(req.params["name"], "pull", "push")])
    app.endpoint("DELETE", pattern, delete_manifest, lambda req: [repo_scope(req.params["name"], "delete")])
