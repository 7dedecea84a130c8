"""``/v2/<name>/blobs/uploads/``: blob upload sessions.

POST starts one (or mounts a blob from another repository, or takes a whole blob at once with
``?digest=``); PATCH appends a chunk (in order: a ``Content-Range`` that does not start where the
upload stands is answered 416 with the current ``Range``); PUT ``?digest=`` appends the last
chunk if any, verifies and publishes the blob; GET tells where the upload stands; DELETE cancels.
"""
from __future__ import annotations

import asyncio

from dockyard.daemon.http import Response
from dockyard.images import digest as dg

from ..auth.access import repo_scope
from ..errors import RegistryError, digest_invalid, upload_unknown
from ..names import check_digest, is_name
from ..storage.uploads import DigestMismatch, UploadBusy, UploadGone
from .body import declared_length, receive
from .ranges import chunk_range, upload_range


def _location(name: str, uuid: str) -> str:
    return f"/v2/{name}/blobs/uploads/{uuid}"


def _status_headers(name: str, uuid: str, size: int) -> list:
    return [("Location", _location(name, uuid)), ("Range", upload_range(size)), ("Docker-Upload-UUID", uuid)]


def _created(name: str, digest: str) -> Response:
    return Response(201, b"", [("Location", f"/v2/{name}/blobs/{digest}"), ("Docker-Content-Digest", digest)])


def _info(ctx, uuid: str):
    info = ctx.storage.uploads.info(uuid)
    if info is None or info.name != ctx.name:
        raise upload_unknown(uuid)
    return info


def _open(ctx, uuid: str):
    try:
        return ctx.storage.uploads.open(uuid)
    except UploadGone:
        raise upload_unknown(uuid) from None
    except UploadBusy:
        size = ctx.storage.uploads.size(uuid) or 0
        raise RegistryError("BLOB_UPLOAD_INVALID", f"upload {uuid} is in use by another request", status=416,
                            headers=_status_headers(ctx.name, uuid, size)) from None


async def _ready(session, algo: str = "sha256") -> None:
    if not session.hash_ready(algo):
        if session.size == 0:
            session.rehash(algo)
        else:
            await asyncio.to_thread(session.rehash, algo)


def _check_range(ctx, req, session) -> int | None:
    """The chunk length a ``Content-Range`` announces (None without one); 416 when out of order."""
    header = req.headers.get("content-range")
    if not header:
        return None
    rng = chunk_range(header)
    if rng is None:
        raise RegistryError("BLOB_UPLOAD_INVALID", f"malformed Content-Range {header[:60]!r}", status=416,
                            headers=_status_headers(ctx.name, session.uuid, session.size))
    start, end = rng
    if start != session.size:
        raise RegistryError("BLOB_UPLOAD_INVALID", f"chunk out of order: it starts at {start}, the upload "
                            f"has {session.size} bytes", status=416,
                            headers=_status_headers(ctx.name, session.uuid, session.size))
    length = declared_length(req)
    if length is not None and length != end - start + 1:
        raise RegistryError("SIZE_INVALID", f"Content-Length {length} does not match Content-Range "
                            f"{start}-{end}", status=416,
                            headers=_status_headers(ctx.name, session.uuid, session.size))
    return end - start + 1


async def _append(ctx, req, session) -> None:
    expected = _check_range(ctx, req, session)
    start = session.size
    await _ready(session)
    n = await receive(req, session)
    if expected is not None and n != expected:
        session.truncate(start)
        raise RegistryError("SIZE_INVALID", f"chunk has {n} bytes, Content-Range announced {expected}")


async def _commit(ctx, session, digest: str) -> Response:
    st = ctx.storage
    try:
        await asyncio.to_thread(session.commit, digest)
    except DigestMismatch as e:
        session.close(keep_state=False)
        st.uploads.cancel(session.uuid)
        raise digest_invalid(f"digest mismatch: the content is {e.got}, not {e.expected}", digest) from None
    except UploadGone:
        raise upload_unknown(session.uuid) from None
    st.repos.link_blob(ctx.name, digest)
    return _created(ctx.name, digest)


async def start_upload(ctx, req) -> Response:
    st = ctx.storage
    mount, source, digest = req.q("mount"), req.q("from"), req.q("digest")
    if mount is not None:
        check_digest(mount)
        if (source and is_name(source) and ctx.may(source, "pull")
                and st.repos.has_blob(source, mount) and st.blobs.has(mount)):
            st.repos.link_blob(ctx.name, mount)
            return _created(ctx.name, mount)
        # not mountable: start an ordinary upload, as the spec says (202)
    if digest is not None:
        check_digest(digest)
        uuid = st.uploads.create(ctx.name)
        try:
            with _open(ctx, uuid) as session:
                await _ready(session, dg.parse(digest)[0])
                await receive(req, session)
                return await _commit(ctx, session, digest)
        finally:
            st.uploads.cancel(uuid)   # a no-op once committed
    uuid = st.uploads.create(ctx.name)
    return Response(202, b"", _status_headers(ctx.name, uuid, 0))


async def upload_status(ctx, req) -> Response:
    uuid = req.params["uuid"]
    _info(ctx, uuid)
    size = ctx.storage.uploads.size(uuid)
    if size is None:
        raise upload_unknown(uuid)
    return Response(204, b"", _status_headers(ctx.name, uuid, size))


async def patch_upload(ctx, req) -> Response:
    uuid = req.params["uuid"]
    _info(ctx, uuid)
    with _open(ctx, uuid) as session:
        await _append(ctx, req, session)
        size = session.size
    return Response(202, b"", _status_headers(ctx.name, uuid, size))


async def finish_upload(ctx, req) -> Response:
    uuid = req.params["uuid"]
    digest = req.q("digest")
    if not digest:
        raise digest_invalid("the closing PUT of an upload needs ?digest=")
    check_digest(digest)
    _info(ctx, uuid)
    with _open(ctx, uuid) as session:
        await _append(ctx, req, session)
        return await _commit(ctx, session, digest)


async def cancel_upload(ctx, req) -> Response:
    uuid = req.params["uuid"]
    _info(ctx, uuid)
    if not ctx.storage.uploads.cancel(uuid):
        raise upload_unknown(uuid)
    return Response(204)


def _push(req):
    return [repo_scope(req.params["name"], "pull", "push")]


def routes(app) -> None:
    base = "/v2/{name:path}/blobs/uploads/"
    one = base + "{uuid}"
    app.endpoint("POST", base, start_upload, _push)
    app.endpoint("GET", one, upload_status, _push)
    app.endpoint("PATCH", one, patch_upload, _push)
    app.endpoint("PUT", one, finish_upload, _push)
    app.endpoint("DELETE", one, cancel_upload, _push)
