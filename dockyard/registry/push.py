"""Push an image from a ContentStore to a registry.

For each blob (config, then layers; foreign/non-distributable layers are
skipped as Docker does): HEAD it and skip it if the repository has it; else try
a cross-repository mount from the ``mount_from`` repositories of the same
registry; else upload it, monolithic (POST, then PUT with the body) up to
``chunk_threshold`` bytes, chunked (PATCH with Content-Range per chunk, then
PUT) above. Then PUT the manifest with its media type. An index is pushed after
its manifests, each by digest.

With ``compression`` ("zstd" or "gzip"), the uncompressed layers of a manifest are compressed
while they are uploaded (one streamed, chunk-encoded PATCH, then PUT with the digest): the
compressed bytes are kept in the store as they pass, and the manifest pushed is a new one naming
them (``layercompress.converted_manifest``), written to the store too; ``push`` returns its
digest. ``on_stored(digest)`` is told of each blob written so (a caller leases them against GC).
Indexes are pushed as they are stored.
"""
from __future__ import annotations

import concurrent.futures
import threading
from typing import BinaryIO, Callable

from dockyard.images import content
from dockyard.images import reference as refs
from dockyard.spec import image as spec

from . import errors
from . import layercompress
from .auth import Credentials, TokenCache, scope_for
from .client import RegistryClient
from .progress import Emitter, Progress, short_id

CHUNK_THRESHOLD = 32 << 20
CHUNK_SIZE = 16 << 20
DEFAULT_CONCURRENCY = 3


class _Reader:
    """A window of a file, reporting bytes read (for upload progress)."""

    def __init__(self, f: BinaryIO, start: int, length: int, on_read: Callable[[int], None] | None):
        f.seek(start)
        self._f, self._left, self._on_read = f, length, on_read

    def read(self, n: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        n = self._left if n is None or n < 0 else min(n, self._left)
        b = self._f.read(n)
        self._left -= len(b)
        if self._on_read and b:
            self._on_read(len(b))
        return b

    def close(self) -> None:
        self._f.close()


def push(ref: str | refs.Reference, store: content.ContentStore, manifest_digest: str,
         creds: Credentials | None = None, progress: Progress | None = None, insecure: list[str] | None = None,
         certs_dir: str | None = None, mount_from: list[str] | tuple[str, ...] = (),
         chunk_threshold: int = CHUNK_THRESHOLD, chunk_size: int = CHUNK_SIZE,
         concurrency: int = DEFAULT_CONCURRENCY, token_cache: TokenCache | None = None,
         timeout: float = 60.0, compression: str | None = None,
         on_stored: Callable[[str], None] | None = None) -> str:
    """Push the manifest (or index) ``manifest_digest`` and its blobs as ``ref``; returns its digest."""
    if isinstance(ref, str):
        ref = refs.parse(ref)
    if ref.digest and ref.digest != manifest_digest:
        raise ValueError(f"cannot push {manifest_digest} as {ref}: the reference names another digest")
    if chunk_size <= 0:
        raise ValueError("chunk_size must be positive")
    layercompress.check(compression)
    client = RegistryClient(ref.domain, creds=creds, insecure=insecure, certs_dir=certs_dir, timeout=timeout,
                            token_cache=token_cache)
    return _Pusher(client, ref, store, Emitter(progress), list(mount_from), chunk_threshold, chunk_size,
                   concurrency, compression, on_stored).run(manifest_digest)


class _Pusher:
    def __init__(self, client: RegistryClient, ref: refs.Reference, store: content.ContentStore, emit: Emitter,
                 mount_from: list[str], chunk_threshold: int, chunk_size: int, concurrency: int,
                 compression: str | None = None, on_stored: Callable[[str], None] | None = None):
        self.client, self.ref, self.store, self.emit = client, ref, store, emit
        self.name = ref.path
        self.mount_from = [_repo_path(r, ref) for r in mount_from]
        self.chunk_threshold, self.chunk_size = chunk_threshold, chunk_size
        self.concurrency = max(1, concurrency)
        self.scopes = [scope_for(self.name, "pull,push")]
        self.stop = threading.Event()
        self.compression = compression
        self.on_stored = on_stored or (lambda digest: None)
        self.compressed: dict[str, spec.Descriptor] = {}  # plain layer digest -> compressed blob

    def run(self, manifest_digest: str) -> str:
        self.emit(f"The push refers to repository [{self.ref.name_only().familiar()}]")
        try:
            data = self.store.read(manifest_digest)
        except content.BlobNotFound:
            raise errors.NotFound(f"manifest {manifest_digest} not found in the local store",
                                  "MANIFEST_UNKNOWN") from None
        doc = spec.parse_manifest(data)
        tag = self.ref.tag or manifest_digest
        if isinstance(doc, spec.Index):
            children = []
            for desc in doc.manifests:
                if not self.store.has(desc.digest):
                    raise errors.NotFound(f"manifest {desc.digest} of index {manifest_digest} not found in the "
                                          "local store", "MANIFEST_UNKNOWN")
                child_data = self.store.read(desc.digest)
                child = spec.parse_manifest(child_data, desc.media_type)
                if not isinstance(child, spec.Manifest):
                    raise spec.ManifestInvalid(f"index {manifest_digest}: nested index {desc.digest} is not supported")
                children.append((desc.digest, child_data, child))
            self._push_blobs([b for _, _, m in children for b in self._blobs(m)])
            for d, cdata, child in children:
                self._put_manifest(d, cdata, child.content_type, d)
        else:
            convert = layercompress.converts(doc, self.compression)
            self._push_blobs(self._blobs(doc), convert)
            if convert:
                doc = layercompress.converted_manifest(doc, self.compression, self.compressed)
                data = doc.to_json()
                manifest_digest = self.store.put_bytes(data)
                self.on_stored(manifest_digest)
        self._put_manifest(tag, data, doc.content_type, manifest_digest)
        self.emit(f"{self.ref.tag or 'digest'}: digest: {manifest_digest} size: {len(data)}")
        return manifest_digest

    def _blobs(self, m: spec.Manifest) -> list[tuple[spec.Descriptor, str]]:
        """(descriptor, progress id) of blobs to push; layers are shown by their diff ID like Docker."""
        out = [(m.config, short_id(m.config.digest))]
        diff_ids: list[str] = []
        try:
            if self.store.has(m.config.digest):
                diff_ids = spec.ImageConfig.from_json(self.store.read(m.config.digest)).rootfs.diff_ids
        except spec.SpecError:
            diff_ids = []
        for i, layer in enumerate(m.layers):
            if spec.is_foreign_layer(layer.media_type):
                continue
            sid = short_id(diff_ids[i] if len(diff_ids) == len(m.layers) else layer.digest)
            out.append((layer, sid))
        return out

    def _push_blobs(self, blobs: list[tuple[spec.Descriptor, str]], convert: bool = False) -> None:
        uniq: dict[str, tuple[spec.Descriptor, str]] = {}
        for desc, sid in blobs:
            uniq.setdefault(desc.digest, (desc, sid))
        for desc, sid in uniq.values():
            if not self.store.has(desc.digest):
                raise errors.NotFound(f"blob {desc.digest} not found in the local store", "BLOB_UNKNOWN")
            if desc.media_type not in spec.CONFIG_TYPES:
                self.emit("Preparing", id=sid)
        with concurrent.futures.ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="push") as pool:
            futures = [pool.submit(self._push_compressed if convert and layercompress.needs_compression(desc)
                                   else self._push_blob, desc, sid) for desc, sid in uniq.values()]
            try:
                for f in concurrent.futures.as_completed(futures):
                    f.result()
            except BaseException:
                self.stop.set()
                for f in futures:
                    f.cancel()
                raise

    def _push_blob(self, desc: spec.Descriptor, sid: str) -> None:
        d = desc.digest
        layer = desc.media_type not in spec.CONFIG_TYPES
        size = self.store.size(d)
        if size != desc.size:
            raise errors.VerificationError(f"blob {d}: {size} bytes in the local store, descriptor says {desc.size}")
        if self.client.blob_size(self.name, d, self.scopes) is not None:
            if layer:
                self.emit("Layer already exists", id=sid)
            return
        location = None
        for repo in self.mount_from:
            if repo == self.name:
                continue
            mounted, loc = self.client.start_upload(self.name, self.scopes + [scope_for(repo, "pull")],
                                                    mount=d, from_repo=repo)
            if mounted:
                if layer:
                    self.emit(f"Mounted from {repo}", id=sid)
                return
            if location:
                self.client.cancel_upload(location, self.scopes)
            location = loc
        if location is None:
            _, location = self.client.start_upload(self.name, self.scopes)
        try:
            got = self._upload(location, d, size, sid if layer else None)
        except BaseException:
            self.client.cancel_upload(location, self.scopes)
            raise
        if got and got != d:
            raise errors.VerificationError(f"blob upload of {d}: registry stored it as {got}")
        if layer:
            self.emit("Pushed", id=sid)

    def _push_compressed(self, desc: spec.Descriptor, sid: str) -> None:
        """Upload the compressed form of a plain layer, streamed; keeps it in the store."""
        d = desc.digest
        size = self.store.size(d)
        if size != desc.size:
            raise errors.VerificationError(f"blob {d}: {size} bytes in the local store, descriptor says {desc.size}")
        done = [0]

        def on_read(n: int) -> None:
            if self.stop.is_set():
                raise errors.ConnectionFailed(f"upload of {d} cancelled")
            done[0] += n
            self.emit.bytes("Pushing", sid, done[0], size)

        w = self.store.writer()
        body: list[layercompress.Compressing] = []

        def open_body() -> layercompress.Compressing:  # called again when a request is retried
            w.truncate()
            done[0] = 0
            body[:] = [layercompress.Compressing(self.store.open(d), self.compression, size, w.write, on_read)]
            return body[0]

        _, location = self.client.start_upload(self.name, self.scopes)
        try:
            location = self.client.stream_upload(location, open_body, self.scopes)
            digest = w.commit()
        except BaseException:
            w.abort()
            self.client.cancel_upload(location, self.scopes)
            raise
        self.on_stored(digest)
        try:
            got = self.client.finish_upload(location, digest, self.scopes)
        except BaseException:
            self.client.cancel_upload(location, self.scopes)
            raise
        if got and got != digest:
            raise errors.VerificationError(f"blob upload of {digest}: registry stored it as {got}")
        self.compressed[d] = spec.Descriptor(media_type="", digest=digest, size=body[0].total)
        self.emit("Pushed", id=sid)

    def _upload(self, location: str, d: str, size: int, sid: str | None) -> str | None:
        done = [0]

        def on_read(n: int) -> None:
            if self.stop.is_set():
                raise errors.ConnectionFailed(f"upload of {d} cancelled")
            done[0] += n
            if sid:
                self.emit.bytes("Pushing", sid, done[0], size)

        if size <= self.chunk_threshold:
            return self.client.finish_upload(location, d, self.scopes, size=size,
                                             body=lambda: _Reader(self.store.open(d), 0, size, on_read))
        start = 0
        while start < size:
            n = min(self.chunk_size, size - start)
            location = self.client.patch_upload(
                location, start, n, lambda s=start, k=n: _Reader(self.store.open(d), s, k, on_read), self.scopes)
            start += n
        return self.client.finish_upload(location, d, self.scopes)

    def _put_manifest(self, reference: str, data: bytes, media_type: str, digest: str) -> None:
        got = self.client.put_manifest(self.name, reference, data, media_type, self.scopes)
        if got and got != digest:
            raise errors.VerificationError(f"manifest {reference}: registry computed digest {got}, expected {digest}")


def _repo_path(repo: str, ref: refs.Reference) -> str:
    """A mount source (``a/b`` on the same registry, or a full reference) as a repository path."""
    first = repo.split("/", 1)[0]
    if ref.domain == refs.DEFAULT_DOMAIN or "/" in repo and ("." in first or ":" in first or first == "localhost"):
        r = refs.parse(repo)
    else:
        r = refs.parse_strict(f"{ref.domain}/{repo}")
    if r.domain != ref.domain:
        raise ValueError(f"cannot mount from {repo}: it is on {r.domain}, not {ref.domain}")
    return r.path
