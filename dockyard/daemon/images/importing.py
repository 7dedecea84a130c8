"""``docker import`` through the daemon: a rootfs tar (request body or URL) as a one-layer image.

Like dockerd: the history entry and comment say ``Imported from <src>`` unless a message is
given; ``platform`` sets the config's os/architecture/variant (default: this machine's); bad
changes, references or platforms fail before anything is written, and a failed import leaves
no blob behind.
"""
from __future__ import annotations

import urllib.parse
import urllib.request
from typing import TYPE_CHECKING, BinaryIO, Iterable

from dockyard.images import changes as chg
from dockyard.images import compose, gc, layerio, timeutil
from dockyard.images import reference as refs
from dockyard.images.errors import InvalidArgument, InvalidImage
from dockyard.images.platform import PlatformError
from dockyard.images.platform import parse as parse_platform

if TYPE_CHECKING:
    from dockyard.images.model import Image

    from .service import ImageService

URL_TIMEOUT = 60


def new_ref(repo: str, tag: str) -> str | None:
    """The reference an import is tagged with (dockerd: repo, then tag; latest by default)."""
    if not repo:
        if tag:
            raise InvalidArgument("import: a tag needs a repository")
        return None
    try:
        ref = refs.parse(repo)
        if tag:
            ref = ref.with_tag(tag)
    except refs.ReferenceError as e:
        raise InvalidArgument(str(e)) from None
    if ref.digest:
        raise InvalidArgument("import: cannot import with a digest reference")
    return str(ref.with_default_tag())


def platform_fields(platform: str | None) -> dict:
    if not platform:
        return compose.host_platform_fields()
    try:
        p = parse_platform(platform)
    except PlatformError as e:
        raise InvalidArgument(str(e)) from None
    out = {"architecture": p.architecture, "os": p.os}
    if p.variant:
        out["variant"] = p.variant
    return out


def open_url(src: str) -> BinaryIO:
    """dockerd's rule: a source without a scheme is an http host."""
    u = urllib.parse.urlsplit(src)
    if not u.scheme:
        src = f"http://{src}"
    elif u.scheme not in ("http", "https"):
        raise InvalidArgument(f"import: unsupported URL scheme in {src!r} (http or https)")
    try:
        resp = urllib.request.urlopen(src, timeout=URL_TIMEOUT)  # noqa: S310 (scheme checked above)
    except OSError as e:
        raise InvalidArgument(f"import: Get {src!r}: {getattr(e, 'reason', e)}") from None
    return resp


def import_image(svc: "ImageService", src: BinaryIO, src_name: str = "-", repo: str = "", tag: str = "",
                 message: str = "", changes: Iterable[str] = (), platform: str | None = None) -> "Image":
    store = svc.store
    run_config = chg.apply({}, list(changes))
    ref = new_ref(repo, tag)
    fields = platform_fields(platform)
    message = message or f"Imported from {src_name}"
    layer = None
    try:
        with store.lease() as lease:
            try:
                layer = compose.store_layer_tar(store.content, src, "imported tar", lease=lease)
            except layerio.LayerError as e:
                raise InvalidImage(f"import: {e}") from None
            created = timeutil.now()
            config = {**fields, "comment": message, "config": run_config, "created": created,
                      "history": [{"created": created, "comment": message}]}
            img = compose.write_image(store, config, [layer])
            if ref:
                store.tag(img.id, ref)
                img = store.get(img.id)
    except BaseException:
        if layer is not None:
            with store.db.write() as c:
                gc._delete_blobs(store, c, {layer.digest})
        raise
    svc.emit_event("image", "import", img.id, {"name": img.id})
    return img
