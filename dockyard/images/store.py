"""The local image store: images by ID (config digest), their manifests and names.

Blobs (manifests, configs, layers) live in a ``ContentStore``; this store keeps
which of them make up which image, the repository tags and digests pointing at
each image, and cached layer facts, in a sqlite database under ``root``.

Lookup follows Docker: a full or familiar reference (``busybox`` means
``docker.io/library/busybox:latest``), a full ID (``sha256:<64 hex>`` or the
bare 64 hex), or a unique ID prefix of any length (``sha256:`` optional).
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import time
import uuid
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping

from dockyard.spec import image as spec

from . import digest as dg
from . import filters as flt
from . import layerio, reference, timeutil, views
from .content import BlobNotFound, ContentStore
from .errors import AmbiguousImage, ImageNotFound, InvalidArgument, InvalidImage
from .model import Image, LayerRef, ManifestRef
from .storedb import StoreDB

# in_use(image_id) -> [(container_id, running), ...]
InUse = Callable[[str], Iterable[tuple[str, bool]]]

_HEX = re.compile(r"^[0-9a-f]+$")


def parse_ref(s: str) -> reference.Reference:
    """A normalized reference with ``:latest`` when it has neither tag nor digest.

    A reference with both a tag and a digest keeps only the digest (the tag
    would be a claim nothing verifies).
    """
    try:
        ref = reference.parse(s).with_default_tag()
    except reference.ReferenceError as e:
        raise InvalidArgument(f"invalid reference {s!r}: {e}") from None
    if ref.digest and ref.tag:
        ref = reference.Reference(ref.domain, ref.path, None, ref.digest)
    return ref


class Lease:
    """Blobs listed here survive GC until the lease is released or expires."""

    def __init__(self, store: "ImageStore", lease_id: str):
        self.store, self.id = store, lease_id

    def add(self, *digests: str) -> None:
        with self.store.db.write() as c:
            c.executemany("INSERT OR IGNORE INTO lease_blobs(lease_id, digest) VALUES (?, ?)",
                          [(self.id, dg.validate(d)) for d in digests])

    def release(self) -> None:
        with self.store.db.write() as c:
            c.execute("DELETE FROM leases WHERE id=?", (self.id,))


class ImageStore:
    def __init__(
        self,
        root: str | os.PathLike,
        content: ContentStore | None = None,
        in_use: InUse | None = None,
        graph_driver: Callable[[Image], dict] | None = None,
    ):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.content = content if content is not None else ContentStore(self.root / "content")
        self.db = StoreDB(self.root / "images.db")
        self.in_use: InUse = in_use or (lambda image_id: ())
        self.graph_driver = graph_driver

    def close(self) -> None:
        self.db.close()

    # --- leases --------------------------------------------------------------

    @contextlib.contextmanager
    def lease(self, ttl: float = 24 * 3600) -> Iterator[Lease]:
        """Protect blobs from GC while they are being written and assembled."""
        lease_id = uuid.uuid4().hex
        with self.db.write() as c:
            c.execute("INSERT INTO leases(id, pid, expires) VALUES (?, ?, ?)",
                      (lease_id, os.getpid(), time.time() + ttl))
        lease = Lease(self, lease_id)
        try:
            yield lease
        finally:
            lease.release()

    # --- adding --------------------------------------------------------------

    def _read_blob(self, digest: str, what: str, limit: int) -> bytes:
        try:
            size = self.content.size(digest)
        except BlobNotFound:
            raise InvalidImage(f"{what} {digest} is not in the content store") from None
        if size > limit:
            raise InvalidImage(f"{what} {digest}: {size} bytes exceeds the limit of {limit}")
        return self.content.read(digest)

    def layer_stats(self, desc: spec.Descriptor) -> layerio.LayerStats | None:
        """Diff ID and unpacked size of a stored layer blob (cached by blob digest)."""
        with self.db.read() as c:
            row = c.execute("SELECT diff_id, unpacked_size FROM layers WHERE digest=?", (desc.digest,)).fetchone()
        if row:
            return layerio.LayerStats(row["diff_id"], row["unpacked_size"], -1)
        if not self.content.has(desc.digest):
            if spec.is_foreign_layer(desc.media_type):
                return None
            raise InvalidImage(f"layer {desc.digest} is not in the content store")
        if self.content.size(desc.digest) != desc.size:
            raise InvalidImage(f"layer {desc.digest}: blob is {self.content.size(desc.digest)} bytes, "
                               f"manifest says {desc.size}")
        try:
            with self.content.open(desc.digest) as f:
                return layerio.scan_blob(f, desc.media_type, f"layer {desc.digest}")
        except layerio.LayerError as e:
            raise InvalidImage(str(e)) from None

    def record_layer(self, digest: str, media_type: str, diff_id: str, unpacked_size: int) -> None:
        """Let a puller that already measured a layer skip the rescan in ``add`` (the values are trusted)."""
        with self.db.write() as c:
            c.execute("INSERT OR REPLACE INTO layers(digest, media_type, diff_id, unpacked_size) VALUES (?,?,?,?)",
                      (dg.validate(digest), media_type, dg.validate(diff_id), int(unpacked_size)))

    def add(
        self,
        manifest_digest: str,
        tags: Iterable[str] = (),
        repo_digests: Iterable[str] = (),
        index_digest: str | None = None,
        parent: str | None = None,
    ) -> Image:
        """Register the image of a manifest already in the content store.

        Verifies the manifest, the config and every layer (blob present, size,
        diff ID), then records everything in one transaction. ``tags`` move to
        this image (without touching LastTagTime, as for docker pull/load:
        only ``tag`` sets it); ``repo_digests`` are names (``busybox``) or canonical
        references whose digest is ``manifest_digest`` or ``index_digest``.
        """
        dg.validate(manifest_digest)
        tag_refs = [self.tag_ref(t) for t in tags]
        digest_refs = [self._digest_ref(r, manifest_digest, index_digest) for r in repo_digests]
        with self.lease() as lease:
            lease.add(manifest_digest)
            try:
                m = spec.parse_manifest(self._read_blob(manifest_digest, "manifest", spec.MAX_MANIFEST_SIZE))
            except spec.SpecError as e:
                raise InvalidImage(f"manifest {manifest_digest}: {e}") from None
            if isinstance(m, spec.Index):
                raise InvalidImage(f"{manifest_digest} is an image index; add one of its platform manifests")
            if m.config.media_type not in spec.CONFIG_TYPES:
                raise InvalidImage(f"manifest {manifest_digest}: config media type {m.config.media_type!r} "
                                   "is not an image config")
            lease.add(m.config.digest, *(d.digest for d in m.layers))
            raw_cfg = self._read_blob(m.config.digest, "config", spec.MAX_CONFIG_SIZE)
            if len(raw_cfg) != m.config.size:
                raise InvalidImage(f"config {m.config.digest}: blob is {len(raw_cfg)} bytes, "
                                   f"manifest says {m.config.size}")
            try:
                cfg = spec.ImageConfig.from_json(raw_cfg)
            except spec.SpecError as e:
                raise InvalidImage(f"config {m.config.digest}: {e}") from None
            diff_ids = cfg.rootfs.diff_ids
            if len(diff_ids) != len(m.layers):
                raise InvalidImage(f"manifest {manifest_digest}: {len(m.layers)} layers but config has "
                                   f"{len(diff_ids)} diff_ids")
            layers: list[LayerRef] = []
            for desc, diff_id in zip(m.layers, diff_ids):
                if not spec.is_layer(desc.media_type):
                    raise InvalidImage(f"manifest {manifest_digest}: unsupported layer media type {desc.media_type!r}")
                st = self.layer_stats(desc)
                if st is not None and st.diff_id != diff_id:
                    raise InvalidImage(f"layer {desc.digest}: uncompressed digest {st.diff_id} does not match "
                                       f"the config's diff_id {diff_id}")
                layers.append(LayerRef(desc.digest, desc.media_type, desc.size, diff_id,
                                       st.unpacked_size if st else 0))
            index_mt = None
            if index_digest:
                lease.add(index_digest)
                index_mt = self._check_index(index_digest, manifest_digest)
            if parent:
                parent = self.resolve(parent)
            return self._commit_add(cfg, m, manifest_digest, layers, tag_refs, digest_refs,
                                    index_digest, index_mt, parent)

    def _check_index(self, index_digest: str, manifest_digest: str) -> str:
        try:
            ix = spec.parse_manifest(self._read_blob(index_digest, "index", spec.MAX_MANIFEST_SIZE))
        except spec.SpecError as e:
            raise InvalidImage(f"index {index_digest}: {e}") from None
        if not isinstance(ix, spec.Index):
            raise InvalidImage(f"{index_digest} is not an image index")
        if manifest_digest not in {d.digest for d in ix.manifests}:
            raise InvalidImage(f"index {index_digest} does not list manifest {manifest_digest}")
        return ix.content_type

    def _commit_add(self, cfg, m, manifest_digest, layers, tag_refs, digest_refs,
                    index_digest, index_mt, parent) -> Image:
        image_id = m.config.digest
        try:
            secs, nanos = timeutil.parse(cfg.created or "")
        except timeutil.TimeFormatError:
            secs, nanos = 0, 0
        now = time.time()
        with self.db.write() as c:
            needed = [manifest_digest, image_id] + [x.digest for x in layers if not spec.is_foreign_layer(x.media_type)]
            for d in needed:
                if not self.content.has(d):
                    raise InvalidImage(f"blob {d} disappeared from the content store while adding")
            c.execute(
                "INSERT OR IGNORE INTO images(id, created, created_unix, created_nanos, os, architecture, variant,"
                " size, parent, last_tag_time, added) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (image_id, cfg.created or "", secs, nanos, cfg.os, cfg.architecture, cfg.variant or "",
                 sum(x.unpacked_size for x in layers), parent or "", "", now))
            if parent:
                c.execute("UPDATE images SET parent=? WHERE id=?", (parent, image_id))
            c.execute("INSERT INTO manifests(digest, image_id, media_type, layers, added) VALUES (?,?,?,?,?)"
                      " ON CONFLICT(digest) DO NOTHING", (manifest_digest, image_id, m.content_type,
                       json.dumps([[x.digest, x.media_type, x.size] for x in layers]), now))
            for x in layers:
                c.execute("INSERT OR IGNORE INTO layers(digest, media_type, diff_id, unpacked_size) VALUES (?,?,?,?)",
                          (x.digest, x.media_type, x.diff_id, x.unpacked_size))
            if index_digest:
                c.execute("INSERT OR IGNORE INTO indexes(digest, manifest, media_type) VALUES (?,?,?)",
                          (index_digest, manifest_digest, index_mt))
            for ref in tag_refs:
                self._set_ref(c, ref, image_id, "tag")
            for ref in digest_refs:
                self._set_ref(c, ref, image_id, "digest")
        return self.get(image_id)

    # --- names ---------------------------------------------------------------

    @staticmethod
    def tag_ref(s: str) -> reference.Reference:
        """Validate a name for ``tag``: normalized, ``:latest`` by default, no digest."""
        ref = parse_ref(s)
        if ref.digest:
            raise InvalidArgument("refusing to create a tag with a digest reference")
        if ref.familiar_name() == "sha256":
            raise InvalidArgument("refusing to create an ambiguous tag using digest algorithm as name")
        return ref

    @staticmethod
    def _digest_ref(s: str, manifest_digest: str, index_digest: str | None) -> reference.Reference:
        try:
            ref = reference.parse(s)
        except reference.ReferenceError as e:
            raise InvalidArgument(f"invalid reference {s!r}: {e}") from None
        if not ref.digest:
            ref = ref.with_digest(index_digest or manifest_digest)
        if ref.digest not in (manifest_digest, index_digest):
            raise InvalidArgument(f"repo digest {s}: digest is neither the manifest nor the index being added")
        return reference.Reference(ref.domain, ref.path, None, ref.digest)

    @staticmethod
    def _set_ref(c, ref: reference.Reference, image_id: str, kind: str) -> None:
        c.execute("INSERT OR REPLACE INTO refs(ref, image_id, kind, repo, added) VALUES (?,?,?,?,?)",
                  (str(ref), image_id, kind, ref.name, time.time()))

    def tag(self, src: str, new_ref: str) -> str:
        """Point ``new_ref`` (default tag latest) at the image ``src``; returns its full form."""
        image_id = self.resolve(src)
        ref = self.tag_ref(new_ref)
        with self.db.write() as c:
            if c.execute("SELECT 1 FROM images WHERE id=?", (image_id,)).fetchone() is None:
                raise ImageNotFound(src)
            self._set_ref(c, ref, image_id, "tag")
            c.execute("UPDATE images SET last_tag_time=? WHERE id=?", (timeutil.now(), image_id))
        return str(ref)

    def untag(self, ref_str: str) -> str:
        """Remove one tag or digest reference; returns it in familiar form."""
        ref = parse_ref(ref_str)
        with self.db.write() as c:
            cur = c.execute("DELETE FROM refs WHERE ref=?", (str(ref),))
            if cur.rowcount == 0:
                raise ImageNotFound(ref.familiar())
        return ref.familiar()

    def references(self, image_id: str) -> list[reference.Reference]:
        with self.db.read() as c:
            rows = c.execute("SELECT ref FROM refs WHERE image_id=? ORDER BY ref", (image_id,)).fetchall()
        return [reference.parse_strict(r["ref"]) for r in rows]

    # --- lookup --------------------------------------------------------------

    def _exists(self, c, image_id: str) -> bool:
        return c.execute("SELECT 1 FROM images WHERE id=?", (image_id,)).fetchone() is not None

    def resolve(self, ref_or_id: str) -> str:
        """The image ID named by a reference, a full ID or a unique ID prefix."""
        s = ref_or_id
        if not isinstance(s, str) or not s:
            raise InvalidArgument("an image reference or ID is required")
        with self.db.read() as c:
            if reference.is_id(s):
                s = "sha256:" + s
            if s.startswith("sha256:") and len(s) == 71 and _HEX.match(s[7:]):
                if self._exists(c, s):
                    return s
                raise ImageNotFound(s)
            ref = None
            try:
                ref = parse_ref(s)
            except InvalidArgument:
                if not _HEX.match(s.removeprefix("sha256:")):
                    raise
            if ref is not None:
                row = c.execute("SELECT image_id FROM refs WHERE ref=?", (str(ref),)).fetchone()
                if row:
                    return row["image_id"]
            prefix = s.removeprefix("sha256:")
            if prefix and _HEX.match(prefix):
                rows = c.execute("SELECT id FROM images WHERE substr(id, 8, ?) = ? LIMIT 2",
                                 (len(prefix), prefix)).fetchall()
                if len(rows) == 1:
                    return rows[0]["id"]
                if len(rows) > 1:
                    n = c.execute("SELECT count(*) FROM images WHERE substr(id, 8, ?) = ?",
                                  (len(prefix), prefix)).fetchone()[0]
                    raise AmbiguousImage(s, n)
        raise ImageNotFound(ref.familiar() if ref is not None else s)

    def get(self, ref_or_id: str) -> Image:
        image_id = self.resolve(ref_or_id)
        imgs = self._load([image_id])
        if not imgs:
            raise ImageNotFound(ref_or_id)
        return imgs[0]

    def exists(self, ref_or_id: str) -> bool:
        try:
            self.resolve(ref_or_id)
            return True
        except (ImageNotFound, InvalidArgument):
            return False

    def images(self) -> list[Image]:
        return self._load(None)

    def _load(self, ids: list[str] | None) -> list[Image]:
        with self.db.read() as c:
            if ids is None:
                rows = c.execute("SELECT * FROM images").fetchall()
            else:
                rows = [r for i in ids for r in c.execute("SELECT * FROM images WHERE id=?", (i,)).fetchall()]
            out = []
            for r in rows:
                mrows = c.execute("SELECT * FROM manifests WHERE image_id=? ORDER BY added DESC, digest",
                                  (r["id"],)).fetchall()
                manifests = []
                for mr in mrows:
                    lrefs = []
                    for d, mt, size in json.loads(mr["layers"]):
                        lr = c.execute("SELECT diff_id, unpacked_size FROM layers WHERE digest=?", (d,)).fetchone()
                        lrefs.append(LayerRef(d, mt, size, lr["diff_id"] if lr else "", lr["unpacked_size"] if lr else 0))
                    manifests.append(ManifestRef(mr["digest"], mr["media_type"], tuple(lrefs)))
                refs = c.execute("SELECT ref, kind FROM refs WHERE image_id=? ORDER BY added, ref",
                                 (r["id"],)).fetchall()
                img = Image(
                    id=r["id"], config={}, manifests=manifests,
                    repo_tags=[reference.parse_strict(x["ref"]).familiar() for x in refs if x["kind"] == "tag"],
                    repo_digests=[reference.parse_strict(x["ref"]).familiar() for x in refs if x["kind"] == "digest"],
                    created=r["created"], created_unix=r["created_unix"], created_nanos=r["created_nanos"],
                    os=r["os"], architecture=r["architecture"], variant=r["variant"], size=r["size"],
                    parent=r["parent"], last_tag_time=r["last_tag_time"])
                out.append(img)
        for img in out:
            try:
                img.config = json.loads(self.content.read(img.id))
            except BlobNotFound:
                raise InvalidImage(f"image {img.id}: config blob is missing from the content store") from None
            diff_ids = img.diff_ids  # the config is authoritative for diff IDs
            img.manifests = [
                ManifestRef(m.digest, m.media_type, tuple(
                    LayerRef(lr.digest, lr.media_type, lr.size, diff_ids[i] if i < len(diff_ids) else lr.diff_id,
                             lr.unpacked_size) for i, lr in enumerate(m.layers)))
                for m in img.manifests]
        return out

    def layer_blobs(self, ref_or_id: str) -> list[tuple[Path, str]]:
        """[(blob path, diff_id)] bottom first: what snapshots.unpack takes."""
        img = self.get(ref_or_id)
        try:
            return [(self.content.path(x.digest), x.diff_id) for x in img.layers]
        except BlobNotFound as e:
            raise InvalidImage(f"image {img.id}: {e}") from None

    def children(self, image_id: str) -> list[str]:
        with self.db.read() as c:
            return [r["id"] for r in c.execute("SELECT id FROM images WHERE parent=?", (image_id,)).fetchall()]

    # --- views ---------------------------------------------------------------

    def inspect(self, ref_or_id: str) -> dict:
        img = self.get(ref_or_id)
        return views.inspect(img, self.graph_driver(img) if self.graph_driver else None)

    def history(self, ref_or_id: str) -> list[dict]:
        img = self.get(ref_or_id)

        def parent_of(pid: str) -> Image | None:
            try:
                return self.get(pid)
            except ImageNotFound:
                return None

        try:
            return views.history(img, parent_of)
        except ValueError as e:
            raise InvalidImage(str(e)) from None

    def list(self, all: bool = False, filters: Mapping | None = None) -> list[dict]:
        """``docker images``: Engine API ImageSummary objects, newest first."""
        f = flt.normalize(filters, flt.LIST_KEYS)
        dangling_only = flt.dangling(f)
        before = min((self.get(v).created_unix for v in f.get("before", [])), default=None)
        since = max((self.get(v).created_unix for v in f.get("since", [])), default=None)
        imgs = self.images()
        parents = {i.parent for i in imgs if i.parent}
        out = []
        for img in imgs:
            if before is not None and img.created_unix >= before:
                continue
            if since is not None and img.created_unix <= since:
                continue
            if "label" in f and not flt.match_labels(f["label"], img.labels):
                continue
            tags, digests = [], []
            for kind, names in (("tag", img.repo_tags), ("digest", img.repo_digests)):
                for name in names:
                    if "reference" in f:
                        r = reference.parse(name)
                        if not any(flt.reference_match(p, name, r.familiar_name()) for p in f["reference"]):
                            continue
                    (tags if kind == "tag" else digests).append(name)
            if not tags and not digests:
                if "reference" in f or dangling_only is False:
                    continue
                if not all and img.id in parents:
                    continue
                tags, digests = ["<none>:<none>"], ["<none>@<none>"]
            elif dangling_only and tags:
                continue
            out.append(views.summary(img, tags, digests))
        out.sort(key=lambda s: (s["Created"], s["Id"]), reverse=True)
        return out

    # --- removal and cleanup (delete.py, gc.py) -------------------------------

    def remove(self, ref_or_id: str, force: bool = False, prune: bool = True) -> list[dict]:
        from . import delete

        return delete.remove(self, ref_or_id, force=force, prune=prune)

    def prune(self, all: bool = False, filters: Mapping | None = None) -> dict:
        from . import delete

        return delete.prune(self, all=all, filters=filters)

    def gc(self, grace: float = 0.0) -> list[str]:
        from . import gc

        return gc.collect(self, grace=grace)
