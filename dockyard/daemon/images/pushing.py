"""``docker push`` through the daemon.

``name`` names a repository (a tag in it is used when ``tag`` is empty); without any tag every
tag of the repository is pushed, as dockerd does. Each tag's image is pushed with its stored
manifest; blobs the registry has are skipped ("Layer already exists"), blobs of the image's other
repositories on the same registry are mounted. Uncompressed layers (images made or loaded
locally) are compressed on the way with ``svc.push_compression`` (default zstd; "gzip" for
registries or clients that need it, None to push them as they are); the compressed blobs and the
manifest naming them are kept as another manifest of the image, so a later push with the same
compression sends those again (and finds them in the registry) instead of compressing anew. After each tag: dockerd's
``<tag>: digest: sha256:... size: N`` line, the ``aux`` message (Tag, Digest, Size), and the
pushed digest is recorded as a repo digest of the image.
"""
from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Callable

from dockyard.images import reference as refs
from dockyard.images.errors import ImageNotFound, InvalidArgument
from dockyard.registry import errors as regerrors
from dockyard.registry import layercompress
from dockyard.registry import push as regpush
from dockyard.spec import image as spec

from . import jsonmessage as jm
from .auth import AuthConfig
from .errors import Cancelled

if TYPE_CHECKING:
    from .service import ImageService

Progress = Callable[[dict], None]
DEFAULT_COMPRESSION = "zstd"
COMPRESSION_ENV = "DOCKYARD_PUSH_COMPRESSION"


def compression_for(svc: "ImageService") -> str | None:
    """How uncompressed layers are pushed: ``svc.push_compression`` if set, else the daemon's
    environment ``DOCKYARD_PUSH_COMPRESSION``, else zstd; "none" pushes them uncompressed."""
    value = getattr(svc, "push_compression", None) or os.environ.get(COMPRESSION_ENV) or DEFAULT_COMPRESSION
    if value == "none":
        return None
    if value not in layercompress.COMPRESSIONS:
        raise InvalidArgument(f"push compression {value!r} is not supported: use zstd, gzip or none")
    return value


def targets(svc: "ImageService", name: str, tag: str = "") -> list[tuple[refs.Reference, str]]:
    """[(tagged reference, image ID)] to push; ImageNotFound (dockerd's message) when there are none."""
    try:
        ref = refs.parse(name)
        if tag:
            ref = ref.with_tag(tag)
    except refs.ReferenceError as e:
        raise InvalidArgument(str(e)) from None
    if ref.digest:
        raise InvalidArgument(f"cannot push a digest reference {ref.familiar()}: push a tag")
    if ref.tag:
        try:
            return [(ref, svc.store.resolve(str(ref)))]
        except ImageNotFound:
            raise ImageNotFound(ref.familiar(), f"An image does not exist locally with the tag: "
                                                f"{ref.familiar_name()}") from None
    out = []
    for img in svc.store.images():
        for r in svc.store.references(img.id):
            if r.tag and r.name == ref.name:
                out.append((r, img.id))
    if not out:
        raise ImageNotFound(ref.familiar(), f"An image does not exist locally with the tag: {ref.familiar_name()}")
    return sorted(out, key=lambda x: x[0].tag)


def push(svc: "ImageService", name: str, tag: str = "", auth: AuthConfig | None = None,
         progress: Progress | None = None, cancel: threading.Event | None = None) -> list[dict]:
    """Push; returns the aux results ({"Tag", "Digest", "Size"}) of the tags pushed."""
    todo = targets(svc, name, tag)
    out = progress or (lambda m: None)
    announced = [False]

    def relay(ev: dict) -> None:
        if cancel is not None and cancel.is_set():
            raise Cancelled("push cancelled: the client went away")
        if ev.get("status", "").startswith("The push refers to repository"):
            if announced[0]:
                return
            announced[0] = True
        out(ev)

    compression = compression_for(svc)
    results = []
    for ref, image_id in todo:
        img = svc.store.get(image_id)
        manifest = _manifest_to_push(svc, img, compression)
        mount_from = sorted({r.name for r in svc.store.references(image_id)
                             if r.domain == ref.domain and r.path != ref.path})
        creds = auth.for_registry(ref.domain) if auth is not None else None
        with svc.store.lease() as lease:
            try:
                digest = regpush.push(ref, svc.content, manifest, creds=creds, progress=relay,
                                      insecure=svc.insecure, mount_from=mount_from, compression=compression,
                                      on_stored=lease.add)
            except regerrors.Unauthorized as e:
                if creds is None or not (creds.username or creds.identity_token or creds.registry_token):
                    # dockerd's words when the registry asks for credentials and none were given
                    raise regerrors.Unauthorized("no basic auth credentials") from e
                raise
            if digest != manifest:
                _record_converted(svc, manifest, digest)
            svc.store.add(digest, repo_digests=[ref.name])
        size = svc.content.size(digest)
        aux = {"Tag": ref.tag, "Digest": digest, "Size": size}
        out(jm.aux(aux))
        results.append(aux)
        svc.emit_event("image", "push", ref.familiar(), {"name": ref.familiar_name()})
    return results


def _layers(svc: "ImageService", digest: str) -> list[spec.Descriptor]:
    m = spec.parse_manifest(svc.content.read(digest))
    return m.layers if isinstance(m, spec.Manifest) else []


def _manifest_to_push(svc: "ImageService", img, compression: str | None) -> str:
    """The image's manifest to push: one whose layers all have ``compression`` (kept by an earlier
    push, or pulled so), else one with uncompressed layers to compress, else the newest."""
    if compression is None:
        return img.manifest.digest
    plain = None
    for m in img.manifests:
        layers = [x for x in m.layers if not spec.is_foreign_layer(x.media_type)]
        if not all(svc.content.has(x.digest) for x in layers):
            continue
        kinds = {spec.layer_compression(x.media_type) for x in layers}
        if kinds <= {compression}:
            return m.digest
        if plain is None and "none" in kinds:
            plain = m.digest
    return plain or img.manifest.digest


def _record_converted(svc: "ImageService", plain: str, converted: str) -> None:
    """Tell the store the diff IDs and sizes of freshly compressed layers (so adding the new
    manifest does not read them again): those of the plain layers they were made from."""
    for old, new in zip(_layers(svc, plain), _layers(svc, converted)):
        if old.digest != new.digest:
            st = svc.store.layer_stats(old)
            if st is not None:
                svc.store.record_layer(new.digest, new.media_type, st.diff_id, st.unpacked_size)
