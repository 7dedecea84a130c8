"""The daemon's image service: the image store, the content store and the snapshotter behind
the Engine API's image endpoints.

Every method is synchronous and may block (registry I/O, tar, sqlite): the route handlers run
them in the event loop's thread pool. Long operations report Docker-shaped progress messages
(dicts, see ``jsonmessage``) through a ``progress`` callback, called from worker threads, and
stop early when their ``cancel`` event is set while nothing has been changed yet.

``events(type, action, id, attributes)`` is called from worker threads too: give a thread-safe
callable (e.g. one that hands the event to the loop with ``call_soon_threadsafe``).
``in_use(image_id) -> [(container_id, running)]`` is set by the container service; image removal
consults it.
"""
from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import BinaryIO, Callable, Iterable, Mapping

from dockyard.images import archive
from dockyard.images import reference as refs
from dockyard.images import load as loadmod
from dockyard.images.content import ContentStore
from dockyard.images.errors import ImageError, InvalidArgument, InvalidImage
from dockyard.images.model import Image
from dockyard.images.store import ImageStore
from dockyard.registry.client import DEFAULT_INSECURE
from dockyard.snapshots.detect import open_snapshotter
from dockyard.snapshots.snapshotter import Kind, SnapshotError, Snapshotter

from . import auth as authmod
from . import importing, pulling, pushing, search
from . import jsonmessage as jm
from .unpacking import Unpacker

log = logging.getLogger("dockyard.daemon.images")

Progress = Callable[[dict], None]
Events = Callable[[str, str, str, dict], object]
InUse = Callable[[str], Iterable[tuple[str, bool]]]


class ImageService:
    def __init__(self, data_root: str | os.PathLike, insecure_registries: Iterable[str] = (),
                 registry_mirrors: Iterable[str] = (), snapshotter: Snapshotter | None = None,
                 events: Events | None = None, in_use: InUse | None = None, storage_driver: str = "auto"):
        root = Path(data_root)
        self.content = ContentStore(root / "content")
        self.store = ImageStore(root / "images", content=self.content,
                                in_use=lambda image_id: self.in_use(image_id) if self.in_use else (),
                                graph_driver=self._graph_driver)
        self.snapshotter = snapshotter if snapshotter is not None else open_snapshotter(root / "snapshots",
                                                                                        storage_driver)
        self.unpacker = Unpacker(self.snapshotter)
        self.insecure = [*DEFAULT_INSECURE, *insecure_registries]
        self.mirrors = list(registry_mirrors)
        self.events = events
        self.in_use = in_use
        self._pulls = 0
        self._pulls_lock = threading.Lock()

    def close(self) -> None:
        self.store.close()

    def emit_event(self, type_: str, action: str, actor_id: str, attributes: dict | None = None) -> None:
        if self.events is None:
            return
        try:
            self.events(type_, action, actor_id, dict(attributes or {}))
        except Exception:  # an event sink must never fail an image operation
            log.exception("image event %s %s %s", type_, action, actor_id)

    # --- registry ------------------------------------------------------------

    @staticmethod
    def parse_auth(header: str | None) -> authmod.AuthConfig:
        """Decode an ``X-Registry-Auth`` header (undecodable: no credentials)."""
        return authmod.decode_header(header)

    def pull(self, ref: str, platform: str | None = None, auth: authmod.AuthConfig | None = None,
             progress: Progress | None = None, cancel: threading.Event | None = None, tag: str = "",
             all_tags: bool = False) -> list[pulling.PullOutcome]:
        """Pull ``ref`` (``tag`` replaces its tag or digest); ``all_tags`` pulls every tag of the repository."""
        parsed, untagged = pulling.parse_request(ref, tag)
        with self._pulls_lock:
            self._pulls += 1
        try:
            return pulling.pull(self, parsed, platform, auth, progress, cancel, all_tags=all_tags and untagged)
        finally:
            with self._pulls_lock:
                self._pulls -= 1

    def push(self, name: str, tag: str = "", auth: authmod.AuthConfig | None = None,
             progress: Progress | None = None, cancel: threading.Event | None = None) -> list[dict]:
        return pushing.push(self, name, tag, auth, progress, cancel)

    def auth(self, body: Mapping) -> dict:
        """POST /auth: check credentials against the registry (stores nothing)."""
        return authmod.login(authmod.from_dict(dict(body or {})), insecure=self.insecure)

    def search(self, term: str, limit: int | None = None, filters: Mapping | None = None) -> list[dict]:
        return search.search(term, limit, dict(filters or {}), insecure=self.insecure)

    # --- snapshots ---------------------------------------------------------------

    def unpack(self, ref_or_id: str) -> str | None:
        """Unpack an image's layers (each chain once); its top chain ID, None for an image without layers."""
        img = self.store.get(ref_or_id)
        return self.unpacker.unpack(self.store.layer_blobs(img.id))

    def gc_snapshots(self) -> list[str]:
        """Remove layer snapshots no image uses any more (those a container still builds on stay);
        for the container service after it removed a container whose image was force-removed.
        Does nothing while a pull is unpacking (its chains belong to no image yet)."""
        with self._pulls_lock:
            if self._pulls:
                return []
            keep = {ch for img in self.store.images() for ch in img.chain_ids}
            orphans = [i.name for i in self.snapshotter.walk(Kind.COMMITTED)
                       if i.name.startswith("sha256:") and i.name not in keep]
            return self.unpacker.drop(orphans)

    def _graph_driver(self, img: Image) -> dict:
        name = "overlay2" if self.snapshotter.driver == "overlay" else "vfs"
        chains = img.chain_ids
        data: dict[str, str] = {}
        if chains:
            try:
                layers = self.snapshotter.layers(chains[-1])
            except SnapshotError:
                layers = None
            if layers is not None:
                if layers.lowers:
                    data["LowerDir"] = ":".join(layers.lowers)
                data["UpperDir"] = layers.upper
        return {"Data": data, "Name": name}

    # --- archives ------------------------------------------------------------------

    def save(self, names: Iterable[str], out: BinaryIO, format: str = "docker") -> None:
        """Write a docker-archive of the named images to ``out`` (errors come before the first byte)."""
        names = list(names)
        archive.save(self.store, names, out, format=format)
        for n in names:
            try:
                image_id = self.store.resolve(n)
            except ImageError:
                continue
            self.emit_event("image", "save", image_id, {"name": n})

    def load(self, src: BinaryIO, quiet: bool = False, progress: Progress | None = None) -> list[str]:
        """Load a docker-archive or OCI layout tar; returns (and reports as ``stream``) dockerd's lines."""
        lines = loadmod.load(self.store, src)
        for line in lines:
            if progress:
                progress(jm.stream(line + "\n"))
            for prefix in ("Loaded image: ", "Loaded image ID: "):
                if line.startswith(prefix):
                    name = line[len(prefix):]
                    try:
                        self.emit_event("image", "load", self.store.resolve(name), {"name": name})
                    except ImageError:
                        pass
        return lines

    def import_(self, src: BinaryIO | None, repo: str = "", tag: str = "", message: str = "",
                changes: Iterable[str] = (), platform: str | None = None, src_name: str = "-",
                progress: Progress | None = None) -> Image:
        """``docker import`` from a stream (``src_name`` "-") or, with ``src`` None, from the URL ``src_name``."""
        if src is None:
            importing.new_ref(repo, tag)  # fail on a bad name before downloading
            with importing.open_url(src_name) as f:
                img = importing.import_image(self, f, src_name, repo, tag, message, changes, platform)
        else:
            img = importing.import_image(self, src, src_name, repo, tag, message, changes, platform)
        if progress:
            progress(jm.status(img.id))
        return img

    # --- names and queries -------------------------------------------------------------

    def get(self, ref_or_id: str) -> Image:
        return self.store.get(ref_or_id)

    def inspect(self, ref_or_id: str) -> dict:
        return self.store.inspect(ref_or_id)

    def history(self, ref_or_id: str) -> list[dict]:
        return self.store.history(ref_or_id)

    def list(self, all: bool = False, filters: Mapping | None = None, digests: bool = False) -> list[dict]:
        """ImageSummary objects; RepoDigests are always filled (``digests`` is the CLI's business)."""
        return self.store.list(all=all, filters=filters)

    def tag(self, src: str, repo: str, tag: str = "") -> str:
        """Tag ``src`` as ``repo[:tag]`` (latest by default); returns the new reference in familiar form."""
        if not repo:
            raise InvalidArgument("repository name must have at least one component")
        try:
            ref = refs.parse(repo)
            if tag:
                ref = ref.with_tag(tag)
        except refs.ReferenceError as e:
            raise InvalidArgument(str(e)) from None
        image_id = self.store.resolve(src)
        full = self.store.tag(image_id, str(ref))
        familiar = refs.parse_strict(full).familiar()
        self.emit_event("image", "tag", image_id, {"name": familiar})
        return familiar

    def remove(self, name: str, force: bool = False, noprune: bool = False) -> list[dict]:
        """``docker rmi``: ImageDeleteResponseItems; freed layers' snapshots are removed too."""
        image_id = self.store.resolve(name)
        before = {img.id for img in self.store.images()}
        records = self.store.remove(name, force=force, prune=not noprune)
        self._after_delete(records, before, image_id)
        return records

    def prune(self, filters: Mapping | None = None) -> dict:
        """``docker image prune``: dangling images unless the filters say ``dangling=false``."""
        before = {img.id for img in self.store.images()}
        res = self.store.prune(filters=filters)
        self._after_delete(res["ImagesDeleted"], before, None)
        self.emit_event("image", "prune", "", {"reclaimed": str(res["SpaceReclaimed"])})
        return res

    def _after_delete(self, records: list[dict], before: set[str], image_id: str | None) -> None:
        chains = [r["Deleted"] for r in records if "Deleted" in r and r["Deleted"] not in before]
        self.unpacker.drop(chains)
        for r in records:
            if "Untagged" in r and image_id:
                self.emit_event("image", "untag", image_id, {"name": image_id})
            elif "Deleted" in r and r["Deleted"] in before:
                self.emit_event("image", "delete", r["Deleted"], {"name": r["Deleted"]})

    def check(self) -> None:
        """Fail early at daemon start when the stores are unusable."""
        if self.store.db.integrity_check() != "ok":
            raise InvalidImage(f"image store {self.store.root}: sqlite integrity check failed")
