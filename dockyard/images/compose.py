"""Assembling local images: layer tars into blobs, config + manifest, then the store.

Locally made layers (import, load, base images, commits) are stored as
uncompressed OCI layers, so their blob digest is their diff ID; the manifest is
an OCI image manifest with an OCI config.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO, Iterable

from dockyard.spec import image as spec

from . import layerio

if TYPE_CHECKING:
    from .content import ContentStore
    from .model import Image
    from .store import ImageStore, Lease


def host_platform_fields() -> dict:
    """``architecture``, ``os`` (and ``variant``) of this machine, for an image config."""
    from .platform import host

    p = host()
    out = {"architecture": p.architecture, "os": p.os}
    if p.variant:
        out["variant"] = p.variant
    return out


@dataclass(frozen=True)
class LayerBlob:
    digest: str  # blob digest (== diff_id for uncompressed layers)
    media_type: str
    size: int
    diff_id: str
    unpacked_size: int

    def descriptor(self) -> spec.Descriptor:
        return spec.Descriptor(media_type=self.media_type, digest=self.digest, size=self.size)


class _Tee:
    """Reads from ``src`` and copies every byte into a content writer."""

    def __init__(self, src: BinaryIO, writer):
        self._src, self._w = src, writer

    def read(self, n: int = -1) -> bytes:
        data = self._src.read() if n is None or n < 0 else self._src.read(n)
        if data:
            self._w.write(data)
        return data


def store_layer_tar(content: "ContentStore", src: BinaryIO, name: str = "layer",
                    lease: "Lease | None" = None, compression: str | None = None) -> LayerBlob:
    """Store a (possibly compressed) tar stream as an uncompressed layer blob.

    ``compression`` None sniffs the stream; the tar must be well formed.
    """
    stream = layerio.auto_decompressed(src) if compression is None else layerio.decompressed(src, compression)
    w = content.writer()
    try:
        stats = layerio.scan_tar(_Tee(stream, w), name)
    except BaseException:
        w.abort()
        raise
    digest = w.commit()
    if lease is not None:
        lease.add(digest)
    return LayerBlob(digest, spec.OCI_LAYER, stats.tar_size, stats.diff_id, stats.unpacked_size)


def config_bytes(config: dict) -> bytes:
    return json.dumps(config, separators=(",", ":"), ensure_ascii=False).encode()


def manifest_for(config_digest: str, config_size: int, layers: Iterable[LayerBlob],
                 annotations: dict | None = None) -> spec.Manifest:
    return spec.Manifest(
        config=spec.Descriptor(media_type=spec.OCI_CONFIG, digest=config_digest, size=config_size),
        layers=[x.descriptor() for x in layers], media_type=spec.OCI_MANIFEST, annotations=annotations)


def write_image(store: "ImageStore", config: dict, layers: list[LayerBlob], tags: Iterable[str] = (),
                parent: str | None = None) -> "Image":
    """Write ``config`` (its rootfs set from ``layers``) and an OCI manifest, then add the image."""
    config = dict(config)
    config["rootfs"] = {"type": "layers", "diff_ids": [x.diff_id for x in layers]}
    raw = config_bytes(config)
    with store.lease() as lease:
        lease.add(*(x.digest for x in layers))
        cfg_digest = store.content.put_bytes(raw)
        lease.add(cfg_digest)
        for x in layers:
            store.record_layer(x.digest, x.media_type, x.diff_id, x.unpacked_size)
        man = manifest_for(cfg_digest, len(raw), layers)
        man_digest = store.content.put_bytes(man.to_json())
        lease.add(man_digest)
        return store.add(man_digest, tags=tags, parent=parent)
