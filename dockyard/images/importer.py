"""``docker import``: a root filesystem tar (plain, gzip, bzip2, xz or zstd) as a one-layer image."""
from __future__ import annotations

from typing import TYPE_CHECKING, BinaryIO, Iterable

from . import changes as chg
from . import compose, layerio, timeutil
from .errors import InvalidImage

if TYPE_CHECKING:
    from .model import Image
    from .store import ImageStore


def import_tar(store: "ImageStore", src: BinaryIO, ref: str | None = None, changes: Iterable[str] = (),
               message: str | None = None) -> "Image":
    """Import a rootfs tar as a new image, tagged ``ref`` if given (``docker import``).

    ``changes`` are Dockerfile instructions applied to an empty config; bad
    changes or a bad ref fail before anything is written.
    """
    run_config = chg.apply({}, list(changes))
    if ref is not None:
        store.tag_ref(ref)  # validate the name before the (slow) import
    layer = None
    try:
        with store.lease() as lease:
            try:
                layer = compose.store_layer_tar(store.content, src, "imported tar", lease=lease)
            except layerio.LayerError as e:
                raise InvalidImage(f"import: {e}") from None
            return _write(store, layer, run_config, ref, message)
    except BaseException:
        if layer is not None:  # written but not made into an image: remove unless shared
            from . import gc

            with store.db.write() as c:
                gc._delete_blobs(store, c, {layer.digest})
        raise


def _write(store: "ImageStore", layer: compose.LayerBlob, run_config: dict, ref: str | None,
           message: str | None) -> "Image":
    created = timeutil.now()
    config = {
        **compose.host_platform_fields(),
        "config": run_config,
        "created": created,
        "history": [{"created": created, **({"comment": message} if message else {})}],
    }
    if message:
        config["comment"] = message
    img = compose.write_image(store, config, [layer])
    if ref:  # like docker import: tagging sets LastTagTime
        store.tag(img.id, ref)
        img = store.get(img.id)
    return img
