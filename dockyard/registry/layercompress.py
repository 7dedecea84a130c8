"""Compressing uncompressed layers on their way to a registry.

Locally made layers are stored as plain tars; a push compresses them (zstd by default, gzip for
registries or clients that need it) while it uploads, without a temporary file. ``Compressing``
is a file-like reader of the compressed bytes of a plain blob. ``converted_manifest`` gives the
manifest that names the compressed layers: an OCI manifest for zstd (Docker's schema2 has no
zstd layer type), the same manifest family for gzip.
"""
from __future__ import annotations

import zlib
from typing import BinaryIO, Callable

from dockyard.spec import image as spec

COMPRESSIONS = ("zstd", "gzip")
ZSTD_LEVEL = 3  # containerd's and zstd's default: a fast level with a good ratio
GZIP_LEVEL = 1  # zlib is slow: the fastest level (the ratio is close to level 6 for layers)
READ_SIZE = 1 << 20

_DOCKER_TO_OCI = {
    spec.DOCKER_LAYER: spec.OCI_LAYER, spec.DOCKER_LAYER_GZIP: spec.OCI_LAYER_GZIP,
    spec.DOCKER_LAYER_ZSTD: spec.OCI_LAYER_ZSTD, spec.DOCKER_FOREIGN_LAYER: spec.OCI_LAYER_ND,
    spec.DOCKER_FOREIGN_LAYER_GZIP: spec.OCI_LAYER_ND_GZIP,
}
_COMPRESSED = {
    ("zstd", spec.OCI_LAYER): spec.OCI_LAYER_ZSTD,
    ("gzip", spec.OCI_LAYER): spec.OCI_LAYER_GZIP,
    ("gzip", spec.DOCKER_LAYER): spec.DOCKER_LAYER_GZIP,
}


def check(compression: str | None) -> None:
    if compression is not None and compression not in COMPRESSIONS:
        raise ValueError(f"unsupported layer compression {compression!r} (use one of {', '.join(COMPRESSIONS)})")


def needs_compression(desc: spec.Descriptor) -> bool:
    """An uncompressed, distributable layer."""
    return spec.is_layer(desc.media_type) and not spec.is_foreign_layer(desc.media_type) and \
        spec.layer_compression(desc.media_type) == "none"


def converts(m: spec.Manifest, compression: str | None) -> bool:
    """Whether pushing ``m`` with ``compression`` compresses some of its layers."""
    return compression is not None and any(needs_compression(x) for x in m.layers)


def converted_manifest(m: spec.Manifest, compression: str, compressed: dict[str, spec.Descriptor]) -> spec.Manifest:
    """``m`` with its uncompressed layers replaced by ``compressed[digest]`` (descriptors of the
    compressed blobs, media type set here); an OCI manifest when zstd needs it."""
    to_oci = compression == "zstd" and m.content_type == spec.DOCKER_MANIFEST
    layers = []
    for x in m.layers:
        mt = _DOCKER_TO_OCI.get(x.media_type, x.media_type) if to_oci else x.media_type
        if needs_compression(x):
            c = compressed[x.digest]
            layers.append(spec.Descriptor(media_type=_COMPRESSED[(compression, mt)], digest=c.digest, size=c.size,
                                          annotations=x.annotations))
        else:
            layers.append(spec.Descriptor(media_type=mt, digest=x.digest, size=x.size, urls=x.urls,
                                          annotations=x.annotations, extra=dict(x.extra)))
    config = m.config
    if to_oci:
        config = spec.Descriptor(media_type=spec.OCI_CONFIG, digest=config.digest, size=config.size,
                                 annotations=config.annotations)
    return spec.Manifest(config=config, layers=layers, media_type=spec.OCI_MANIFEST if to_oci else m.media_type,
                         annotations=m.annotations, artifact_type=m.artifact_type, subject=m.subject,
                         extra=dict(m.extra))


class _Counting:
    """The plain source, reporting how many bytes were consumed."""

    def __init__(self, f: BinaryIO, on_read: Callable[[int], None] | None):
        self._f, self._on_read = f, on_read

    def read(self, n: int = -1) -> bytes:
        b = self._f.read(n)
        if b and self._on_read:
            self._on_read(len(b))
        return b


class Compressing:
    """Reads the compressed form of the plain stream ``src``.

    ``on_data(bytes)`` sees every compressed byte returned (to hash or keep it); ``on_read(n)`` is
    told how many plain bytes were consumed (progress). ``size``, when known, goes into the zstd
    frame header.
    """

    def __init__(self, src: BinaryIO, compression: str, size: int | None = None,
                 on_data: Callable[[bytes], None] | None = None, on_read: Callable[[int], None] | None = None,
                 level: int | None = None):
        check(compression)
        self._src = src
        self._on_data = on_data
        self.compression = compression
        self.total = 0  # compressed bytes returned
        counting = _Counting(src, on_read)
        if compression == "zstd":
            import zstandard  # lazy: third-party, not on the CLI's import path

            cctx = zstandard.ZstdCompressor(level=ZSTD_LEVEL if level is None else level)
            self._reader = cctx.stream_reader(counting, size=-1 if size is None else size, read_size=READ_SIZE,
                                              closefd=False)
            self._read = self._reader.read
        else:
            self._plain = counting
            self._z = zlib.compressobj(GZIP_LEVEL if level is None else level, zlib.DEFLATED, 31)
            self._buf = bytearray()
            self._eof = False
            self._read = self._read_gzip

    def _read_gzip(self, n: int) -> bytes:
        while len(self._buf) < n and not self._eof:
            b = self._plain.read(READ_SIZE)
            if b:
                self._buf += self._z.compress(b)
            else:
                self._buf += self._z.flush()
                self._eof = True
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            parts = []
            while True:
                b = self.read(READ_SIZE)
                if not b:
                    return b"".join(parts)
                parts.append(b)
        b = self._read(n)
        if b:
            self.total += len(b)
            if self._on_data:
                self._on_data(b)
        return b

    def close(self) -> None:
        if self.compression == "zstd":
            self._reader.close()
        self._src.close()
