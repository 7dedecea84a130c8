"""``docker pull`` through the daemon: registry pull, unpack, then the image becomes visible.

Order (as dockerd): download the blobs, unpack the layers into the snapshotter ("Extracting",
"Pull complete"), register the image and move the tag, then "Digest: ..." and "Status: ...".
The image is added only after its layers are unpacked, so a failed or cancelled pull leaves
no image or tag behind (downloaded blobs stay for a later resume; chains committed by a
failed pull are removed again).

Progress is reshaped to match dockerd: the "Pulling from" line is held back until the
manifest was found (so a missing image answers a plain 404), and when the image is already
present the layers' "Already exists" lines are dropped, as dockerd never looks at them then.
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from dockyard.images import reference as refs
from dockyard.images.errors import ImageError, InvalidArgument
from dockyard.images.platform import PlatformError
from dockyard.images.platform import parse as parse_platform
from dockyard.registry import errors as regerrors
from dockyard.registry import pull as regpull
from dockyard.registry.auth import Credentials, scope_for
from dockyard.registry.client import RegistryClient
from dockyard.registry.progress import Emitter, short_id

from . import jsonmessage as jm
from .auth import AuthConfig
from .errors import Cancelled
from .streamunpack import StreamUnpack

if TYPE_CHECKING:
    from .service import ImageService

Progress = Callable[[dict], None]
MAX_TAGS = 10_000


class _Shaper:
    """Sits between the registry puller and the client's progress callback (see module doc)."""

    def __init__(self, out: Progress | None, cancel: threading.Event | None):
        self.out = out or (lambda m: None)
        self.cancel = cancel
        self.held: list[dict] = []
        self.holding = True
        self.downloaded: set[str] = set()  # short ids announced with "Pulling fs layer"
        self.cancellable = True
        self._lock = threading.Lock()

    def __call__(self, ev: dict) -> None:
        if self.cancellable and self.cancel is not None and self.cancel.is_set():
            raise Cancelled("pull cancelled: the client went away")
        with self._lock:
            st = ev.get("status", "")
            if st == "Pulling fs layer" and "id" in ev:
                self.downloaded.add(ev["id"])
            if st.startswith("Pulling from "):  # dockerd sends it as a plain message
                ev = {"status": st, "id": ev.get("id")}
            if self.holding and (st.startswith("Pulling from ") or st == "Already exists"):
                self.held.append(ev)
                return
            self._flush(keep_layers=True)
            self.out(ev)

    def _flush(self, keep_layers: bool) -> None:
        if self.holding:
            self.holding = False
            for ev in self.held:
                if keep_layers or ev.get("status") != "Already exists":
                    self.out(ev)
            self.held = []

    def finish(self, image_was_present: bool) -> None:
        with self._lock:
            self._flush(keep_layers=not image_was_present)

    def emit(self, ev: dict) -> None:
        with self._lock:
            self.out(ev)


@dataclass
class PullOutcome:
    image_id: str
    updated: bool  # the reference now points at another image (dockerd: "Downloaded newer image")
    digest: str


def parse_request(from_image: str, tag: str = "") -> tuple[refs.Reference, bool]:
    """(reference, all_tags) from POST /images/create's fromImage and tag."""
    try:
        ref = refs.parse(from_image)
        if tag:
            if tag.startswith("sha256:") or ":" in tag:
                ref = refs.Reference(ref.domain, ref.path, None, None).with_digest(tag)
            else:
                ref = ref.with_tag(tag)
    except refs.ReferenceError as e:
        raise InvalidArgument(str(e)) from None
    return ref, ref.tag is None and ref.digest is None


def _platform(platform: str | None):
    if not platform:
        return None
    try:
        return parse_platform(platform)
    except PlatformError as e:
        raise InvalidArgument(str(e)) from None


def pull(svc: "ImageService", ref: refs.Reference, platform: str | None = None,
         auth: AuthConfig | None = None, progress: Progress | None = None,
         cancel: threading.Event | None = None, all_tags: bool = False) -> list[PullOutcome]:
    """Pull ``ref`` (every tag of its repository with ``all_tags``); see the module doc."""
    plat = _platform(platform)
    auth = auth or AuthConfig(Credentials())
    if all_tags:
        targets = [ref.name_only().with_tag(t) for t in list_tags(svc, ref.name_only(), auth)]
    else:
        targets = [ref.with_default_tag()]
    outcomes = [_pull_one(svc, target, plat, auth, progress, cancel) for target in targets]
    name = ref.name_only() if all_tags else targets[0]
    what = "Downloaded newer image" if any(o.updated for o in outcomes) else "Image is up to date"
    if progress:
        progress(jm.status(f"Status: {what} for {name.familiar()}"))
    return outcomes


def list_tags(svc: "ImageService", repo: refs.Reference, auth: AuthConfig) -> list[str]:
    client = RegistryClient(repo.domain, creds=_creds(auth, repo.domain), insecure=svc.insecure)
    resp = client.request("GET", f"/v2/{repo.path}/tags/list?n={MAX_TAGS}", [scope_for(repo.path, "pull")])
    with resp:
        if resp.status != 200:
            try:
                resp.raise_for_status((200,))
            except regerrors.RegistryError as e:
                if isinstance(e, regerrors.NotFound):
                    raise e.wrap(f"repository {repo.familiar_name()} not found") from None
                raise
        try:
            doc = json.loads(resp.read_all(4 << 20))
        except (ValueError, RecursionError):
            raise regerrors.ProtocolError(f"tags list of {repo.familiar_name()} is not JSON") from None
    tags = doc.get("tags") if isinstance(doc, dict) else None
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise regerrors.ProtocolError(f"tags list of {repo.familiar_name()} is malformed")
    if not tags:
        raise regerrors.NotFound(f"repository {repo.familiar_name()} has no tags", "NAME_UNKNOWN")
    return sorted(tags)


def _creds(auth: AuthConfig | None, domain: str):
    return auth.for_registry(domain) if auth is not None else None


def _pull_one(svc: "ImageService", ref: refs.Reference, plat, auth: AuthConfig | None,
              progress: Progress | None, cancel: threading.Event | None) -> PullOutcome:
    shaper = _Shaper(progress, cancel)
    try:
        old_id = svc.store.resolve(str(ref))
    except ImageError:
        old_id = None
    streamed: list[str] = []  # chains unpacked while downloading
    try:
        return _pull_into_store(svc, ref, plat, auth, shaper, old_id, streamed)
    except BaseException:
        svc.unpacker.drop(streamed)
        raise


def _pull_into_store(svc: "ImageService", ref: refs.Reference, plat, auth: AuthConfig | None, shaper: _Shaper,
                     old_id: str | None, streamed: list[str]) -> PullOutcome:
    store = svc.store
    with store.lease() as lease:
        result = None
        for _attempt in range(3):
            streamer = StreamUnpack(svc)
            ok = False
            try:
                result = regpull.pull(ref, svc.content, platform=plat,
                                      creds=lambda host: _creds(auth, ref.domain) if host == ref.domain else None,
                                      progress=shaper, insecure=svc.insecure, mirrors=svc.mirrors,
                                      observer=streamer)
                ok = True
            finally:
                streamer.finish(ok)
                streamed += streamer.new
            blobs = [result.manifest_digest, result.config_digest, *(d.digest for d in result.layers)]
            if result.index_digest:
                blobs.append(result.index_digest)
            lease.add(*blobs)
            # a concurrent image removal may have collected a shared blob before the lease held it
            if all(svc.content.has(d) for d in blobs):
                break
        else:
            raise regerrors.RegistryError(f"pulling {ref.familiar()}: blobs kept disappearing from the content store")
        shaper.cancellable = False  # downloads are done: finish consistently even if the client left
        present = store.exists(result.config_digest)
        shaper.finish(present)
        new_chains = _unpack_pulled(svc, result, shaper)
        tags = [str(ref)] if ref.tag else []
        digests = [str(ref) if ref.digest else ref.name]
        try:
            img = store.add(result.manifest_digest, tags=tags, repo_digests=digests,
                            index_digest=result.index_digest)
        except BaseException:
            svc.unpacker.drop(new_chains)
            raise
    top = result.index_digest or result.manifest_digest
    shaper.emit(jm.status(f"Digest: {top}"))
    svc.emit_event("image", "pull", ref.familiar(), {"name": ref.familiar_name()})
    return PullOutcome(img.id, old_id != img.id, top)


def _unpack_pulled(svc: "ImageService", result: regpull.PullResult, shaper: _Shaper) -> list[str]:
    """Unpack with dockerd's per-layer messages; returns the chains this call committed."""
    ids = [short_id(d.digest) for d in result.layers]
    emit = Emitter(shaper.emit)
    last: dict[int, int] = {}

    def on_read(i: int, n: int, size: int) -> None:
        if ids[i] in shaper.downloaded:
            last[i] = n
            emit.bytes("Extracting", ids[i], min(n, size), size)

    def on_applied(i: int, applied) -> None:  # saves store.add from reading the layer again
        d = result.layers[i]
        svc.store.record_layer(d.digest, d.media_type, applied.diff_id, applied.unpacked_size)

    layers = [(svc.content.path(d.digest), diff) for d, diff in zip(result.layers, result.config.rootfs.diff_ids)]
    new: list[str] = []
    done: set[str] = set()
    try:
        for i in range(len(layers)):
            svc.unpacker.unpack(layers[: i + 1], on_read=on_read, new=new, on_applied=on_applied)
            if ids[i] in shaper.downloaded and ids[i] not in done:
                size = result.layers[i].size
                if last.get(i) != size:
                    emit("Extracting", id=ids[i], current=size, total=size)
                emit("Pull complete", id=ids[i])
                done.add(ids[i])
    except BaseException:
        svc.unpacker.drop(new)
        raise
    return new
