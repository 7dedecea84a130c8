"""Pull an image from a registry into a ContentStore.

Flow (as Docker's): GET the manifest with the full Accept list and verify its
digest; for an index, choose the platform's manifest and fetch it by digest;
then fetch the config and layers in parallel (3 at a time), skipping blobs the
store already has. A layer download resumes from the store's partial ingest
(stable writer key per digest, HTTP Range) and retries when the connection
breaks. Manifest and index blobs are stored last, so a stored manifest implies
its blobs are present.
"""
from __future__ import annotations

import concurrent.futures
import os
import threading
import time
from dataclasses import dataclass
from typing import Callable

from dockyard.images import content
from dockyard.images import digest as dg
from dockyard.images import platform as platforms
from dockyard.images import reference as refs
from dockyard.spec import image as spec

from . import errors
from .auth import Credentials, TokenCache, scope_for
from .client import DOCKER_HUB_DOMAIN, RegistryClient
from .growing import Growing, PullObserver
from .progress import Emitter, Progress, short_id

DEFAULT_CONCURRENCY = 3
DEFAULT_RETRIES = 5
READ_SIZE = 1 << 18
CredsArg = Credentials | Callable[[str], Credentials | None] | None

_locks_guard = threading.Lock()
_ingest_locks: dict[tuple[str, str], threading.Lock] = {}


@dataclass
class PullResult:
    reference: refs.Reference
    manifest_digest: str
    manifest: spec.Manifest
    manifest_media_type: str
    config_digest: str
    config: spec.ImageConfig
    index_digest: str | None
    index: spec.Index | None
    layers: list[spec.Descriptor]
    platform: spec.Platform


class _Cancelled(Exception):
    pass


def ingest_key(digest: str) -> str:
    """The ContentStore writer key of a blob download (stable, so a later pull resumes it)."""
    return f"pull-{digest}"


def _ingest_lock(store: content.ContentStore, digest: str) -> threading.Lock:
    with _locks_guard:
        return _ingest_locks.setdefault((str(store.root), digest), threading.Lock())


def _resolve_creds(creds: CredsArg, host: str) -> Credentials | None:
    return creds(host) if callable(creds) else creds


def _verify_manifest(data: bytes, what: str, expected: str | None, header: str | None) -> str:
    algo = dg.parse(expected)[0] if expected else "sha256"
    got = dg.of_bytes(data, algo)
    if expected and got != expected:
        raise errors.VerificationError(f"manifest verification failed for digest {expected}: got {got}")
    if not expected and header:
        try:
            h_algo = dg.parse(header)[0]
        except dg.DigestError:
            raise errors.ProtocolError(f"{what}: invalid Docker-Content-Digest header {header!r}") from None
        if dg.of_bytes(data, h_algo) != header:
            raise errors.VerificationError(
                f"manifest verification failed for digest {header}: content of {what} differs")
    return got


def pull(ref: str | refs.Reference, store: content.ContentStore, platform: spec.Platform | str | None = None,
         creds: CredsArg = None, progress: Progress | None = None, insecure: list[str] | None = None,
         mirrors: list[str] | None = None, certs_dir: str | None = None,
         concurrency: int = DEFAULT_CONCURRENCY, retries: int = DEFAULT_RETRIES,
         token_cache: TokenCache | None = None, timeout: float = 60.0,
         observer: PullObserver | None = None) -> PullResult:
    """Pull ``ref`` into ``store``; see the module doc. Raises RegistryError subclasses.

    ``observer`` hears about the manifest, the layers as they download (to follow them, see
    ``growing``) and the blobs once stored."""
    if isinstance(ref, str):
        ref = refs.parse(ref)
    ref = ref.with_default_tag()
    matcher = platforms.Matcher(platform)
    emit = Emitter(progress)
    clients = []
    if ref.domain == DOCKER_HUB_DOMAIN:  # Docker applies registry mirrors to Docker Hub only
        for m in mirrors or ():
            c = RegistryClient(ref.domain, endpoint=m, insecure=insecure, certs_dir=certs_dir, timeout=timeout,
                               token_cache=token_cache)
            c.auth.creds = _resolve_creds(creds, c.netloc) or Credentials()
            clients.append(c)
    main = RegistryClient(ref.domain, insecure=insecure, certs_dir=certs_dir, timeout=timeout, token_cache=token_cache)
    main.auth.creds = _resolve_creds(creds, ref.domain) or Credentials()
    clients.append(main)
    for i, client in enumerate(clients):
        try:
            return _Puller(client, ref, store, matcher, emit, concurrency, retries, observer).run()
        except errors.RegistryError:
            if i == len(clients) - 1:
                raise
            continue  # a mirror failed: try the next endpoint
    raise AssertionError("unreachable")


def _translate(e: errors.RegistryError, ref: refs.Reference) -> errors.RegistryError:
    """Docker's wording for a failed manifest fetch."""
    from .auth import AuthError
    if isinstance(e, AuthError):
        return e
    if e.code == "MANIFEST_UNKNOWN" or (isinstance(e, errors.NotFound) and e.code == "NOT_FOUND"):
        return e.wrap(f"manifest for {ref.familiar()} not found")
    if e.code == "NAME_UNKNOWN":
        return e.wrap(f"repository {ref.familiar_name()} not found")
    if isinstance(e, (errors.Denied, errors.Unauthorized)):
        return e.wrap(f"pull access denied for {ref.familiar_name()}, repository does not exist "
                      f"or may require 'docker login'")
    return e


class _Puller:
    def __init__(self, client: RegistryClient, ref: refs.Reference, store: content.ContentStore,
                 matcher: platforms.Matcher, emit: Emitter, concurrency: int, retries: int,
                 observer: PullObserver | None = None):
        self.client, self.ref, self.store, self.matcher, self.emit = client, ref, store, matcher, emit
        self.observer = observer or PullObserver()
        self.concurrency, self.retries = max(1, concurrency), retries
        self.name = ref.path
        self.scopes = [scope_for(ref.path, "pull")]
        self.stop = threading.Event()

    def run(self) -> PullResult:
        ref = self.ref
        self.emit(f"Pulling from {ref.path}", id=ref.tag or ref.digest)
        try:
            data, ctype, header = self.client.get_manifest(self.name, ref.reference, self.scopes)
        except errors.RegistryError as e:
            raise _translate(e, ref) from e
        top_digest = _verify_manifest(data, str(ref), ref.digest, header)
        doc = spec.parse_manifest(data, ctype)
        index = index_digest = index_data = None
        if isinstance(doc, spec.Index):
            index, index_digest, index_data = doc, top_digest, data
            desc = platforms.select(index, self.matcher)
            if desc.media_type not in spec.MANIFEST_TYPES:
                raise spec.ManifestInvalid(f"manifest {desc.digest} of {ref.familiar()}: "
                                           f"unsupported media type {desc.media_type!r}")
            data, ctype, _ = self.client.get_manifest(self.name, desc.digest, self.scopes)
            if len(data) != desc.size:
                raise errors.VerificationError(f"manifest verification failed for digest {desc.digest}: "
                                               f"size {len(data)}, expected {desc.size}")
            manifest_digest = _verify_manifest(data, desc.digest, desc.digest, None)
            doc = spec.parse_manifest(data, ctype or desc.media_type)
            if not isinstance(doc, spec.Manifest):
                raise spec.ManifestInvalid(f"manifest {desc.digest} of {ref.familiar()}: nested index is not supported")
        else:
            manifest_digest = top_digest
        manifest: spec.Manifest = doc
        self._check_types(manifest)
        self.observer.manifest(manifest)
        config_digest = manifest.config.digest
        self._fetch_all(manifest)
        config = spec.ImageConfig.from_json(self.store.read(config_digest))
        n_layers = len(manifest.layers)
        if config.rootfs.diff_ids and len(config.rootfs.diff_ids) != n_layers:
            raise spec.ManifestInvalid(f"image {ref.familiar()}: {n_layers} layers in the manifest but "
                                       f"{len(config.rootfs.diff_ids)} in the image configuration")
        self.store.put_bytes(data, manifest_digest)
        if index_data is not None:
            self.store.put_bytes(index_data, index_digest)
        plat = config.platform if config.os else self.matcher.wanted
        return PullResult(reference=ref, manifest_digest=manifest_digest, manifest=manifest,
                          manifest_media_type=manifest.content_type, config_digest=config_digest, config=config,
                          index_digest=index_digest, index=index, layers=list(manifest.layers), platform=plat)

    def _check_types(self, m: spec.Manifest) -> None:
        if m.config.media_type not in spec.CONFIG_TYPES:
            raise spec.ManifestInvalid(f"image {self.ref.familiar()}: unsupported config media type "
                                       f"{m.config.media_type!r} (not a container image)")
        if m.config.size > spec.MAX_CONFIG_SIZE:
            raise spec.ManifestInvalid(f"image {self.ref.familiar()}: config of {m.config.size} bytes is too large")
        for layer in m.layers:
            if not spec.is_layer(layer.media_type):
                raise spec.ManifestInvalid(f"image {self.ref.familiar()}: unsupported layer media type "
                                           f"{layer.media_type!r}")

    def _fetch_all(self, m: spec.Manifest) -> None:
        jobs: list[tuple[spec.Descriptor, bool]] = []
        seen = set()
        for layer in m.layers:
            sid = short_id(layer.digest)
            if layer.digest in seen:
                continue
            seen.add(layer.digest)
            if self.store.has(layer.digest):
                self.emit("Already exists", id=sid)
                self.observer.blob(layer.digest)
            else:
                self.emit("Pulling fs layer", id=sid)
                jobs.append((layer, True))
        if not self.store.has(m.config.digest):
            jobs.insert(0, (m.config, False))
        else:
            self.observer.blob(m.config.digest)
        if not jobs:
            return
        with concurrent.futures.ThreadPoolExecutor(max_workers=self.concurrency,
                                                   thread_name_prefix="pull") as pool:
            futures = [pool.submit(self._fetch_blob, desc, is_layer) for desc, is_layer in jobs]
            try:
                for f in concurrent.futures.as_completed(futures):
                    f.result()
            except BaseException:
                self.stop.set()
                for f in futures:
                    f.cancel()
                raise

    def _fetch_blob(self, desc: spec.Descriptor, is_layer: bool) -> None:
        d, sid = desc.digest, short_id(desc.digest)
        with _ingest_lock(self.store, d):
            if self.store.has(d):
                self.observer.blob(d)
                return
            w = self.store.writer(d, desc.size, key=ingest_key(d))
            growing = None
            if is_layer and w.offset == 0:  # followed from its first byte
                growing = Growing(d, ingest_path(self.store, d))
                self.observer.layer(desc, growing)
            try:
                attempt = 0
                while True:
                    if self.stop.is_set():
                        raise _Cancelled()
                    try:
                        self._download(desc, w, sid if is_layer else None, growing)
                        break
                    except errors.ConnectionFailed as e:
                        attempt += 1
                        if attempt > self.retries:
                            raise e.wrap(f"downloading {d}") from e
                        delay = min(0.2 * 2 ** (attempt - 1), 5.0)
                        if is_layer:
                            secs = max(1, round(delay))
                            self.emit(f"Retrying in {secs} second" + ("s" if secs > 1 else ""), id=sid)
                        time.sleep(delay)
                if is_layer:
                    self.emit("Verifying Checksum", id=sid)
                try:
                    w.commit()
                except (content.DigestMismatch, content.SizeMismatch) as e:
                    what = "filesystem layer" if is_layer else "image config"
                    raise errors.VerificationError(f"{what} verification failed for digest {d}: {e}") from None
                if growing is not None:
                    growing.done()
                self.observer.blob(d)
                if is_layer:
                    self.emit("Download complete", id=sid)
            except content.SizeMismatch as e:  # the server sent more than the descriptor's size
                w.abort()
                raise errors.VerificationError(f"blob {d}: {e}") from None
            except errors.VerificationError:
                w.abort()
                raise
            finally:
                if growing is not None:
                    growing.broken()  # unless it is done
                if w.offset == 0:
                    w.abort()  # nothing worth resuming: leave no empty ingest behind
                else:
                    w.close()  # keeps partial data for a later resume (no-op after commit/abort)

    def _download(self, desc: spec.Descriptor, w: content.Writer, sid: str | None,
                  growing: Growing | None = None) -> None:
        d, size = desc.digest, desc.size
        if w.offset >= size:
            return  # an earlier attempt already has it all; commit verifies it
        resp = self.client.get_blob(self.name, d, self.scopes, w.offset)
        with resp:
            if resp.status == 206:
                start = _range_start(resp.header("Content-Range"))
                if start != w.offset:
                    resp.close()
                    if growing is not None:
                        growing.broken()
                    w.truncate()
                    resp = self.client.get_blob(self.name, d, self.scopes, 0)
            elif w.offset:
                if growing is not None:
                    growing.broken()
                w.truncate()  # the server ignored the Range header: start over
            with resp:
                if resp.status == 200 and resp.length is not None and resp.length != size:
                    raise errors.VerificationError(f"blob {d}: registry sends {resp.length} bytes, "
                                                   f"the manifest says {size}")
                while True:
                    if self.stop.is_set():
                        raise _Cancelled()
                    b = resp.read(READ_SIZE)
                    if not b:
                        break
                    w.write(b)
                    if growing is not None:
                        growing.grew(w.offset)
                    if sid:
                        self.emit.bytes("Downloading", sid, w.offset, size)


def _range_start(value: str | None) -> int | None:
    """Start offset of ``Content-Range: bytes START-END/TOTAL``."""
    if not value:
        return None
    v = value.strip()
    if v.startswith("bytes"):
        v = v[5:].strip()
    head = v.split("-", 1)[0]
    return int(head) if head.isdigit() else None


def ingest_path(store: content.ContentStore, digest: str):
    """The file a download of ``digest`` writes to until it is committed."""
    return store.root / "ingest" / content._safe_key(ingest_key(digest)) / "data"


def ingest_offset(store: content.ContentStore, digest: str) -> int:
    """Bytes already downloaded for ``digest`` by an interrupted pull (0 if none)."""
    p = ingest_path(store, digest)
    try:
        return os.path.getsize(p)
    except OSError:
        return 0
