"""Garbage collection of content-store blobs that no image references.

A blob is kept when an image uses it (config, manifest, layer, or an index a
manifest came from) or when a live lease lists it (a pull or load in flight).
Blobs still being written are in the content store's ingest area, which GC
never touches. Deletion runs inside the store's write transaction, so ``add``
(which checks its blobs inside its own transaction) cannot race with it.
"""
from __future__ import annotations

import json
import os
import time
from typing import TYPE_CHECKING

from . import layerio

if TYPE_CHECKING:
    from .model import Image
    from .store import ImageStore


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def referenced(c) -> set[str]:
    keep: set[str] = set()
    keep.update(r[0] for r in c.execute("SELECT id FROM images"))
    for digest, layers in c.execute("SELECT digest, layers FROM manifests"):
        keep.add(digest)
        keep.update(x[0] for x in json.loads(layers))
    keep.update(r[0] for r in c.execute("SELECT digest FROM indexes"))
    return keep


def leased(c) -> set[str]:
    """Blobs of live leases; expired leases and those of dead processes are dropped."""
    now = time.time()
    for lease_id, pid, expires in c.execute("SELECT id, pid, expires FROM leases").fetchall():
        if expires < now or not _alive(pid):
            c.execute("DELETE FROM leases WHERE id=?", (lease_id,))
    return {r[0] for r in c.execute("SELECT digest FROM lease_blobs")}


def _delete_blobs(store: "ImageStore", c, candidates: set[str]) -> list[str]:
    keep = referenced(c) | leased(c)
    gone = []
    for d in sorted(candidates - keep):
        if store.content.has(d):
            store.content.delete(d)
            gone.append(d)
        c.execute("DELETE FROM layers WHERE digest=?", (d,))
    return gone


def delete_image(store: "ImageStore", img: "Image") -> list[str]:
    """Forget one image and delete its blobs nobody else uses; returns freed chain IDs."""
    with store.db.write() as c:
        candidates = {img.id}
        for m in img.manifests:
            candidates.add(m.digest)
            candidates.update(layer.digest for layer in m.layers)
            candidates.update(r[0] for r in c.execute("SELECT digest FROM indexes WHERE manifest=?", (m.digest,)))
        c.execute("DELETE FROM refs WHERE image_id=?", (img.id,))
        c.execute("DELETE FROM images WHERE id=?", (img.id,))
        c.execute("UPDATE images SET parent='' WHERE parent=?", (img.id,))
        still_used: set[str] = set()
        for other in store.images():
            still_used.update(other.chain_ids)
        _delete_blobs(store, c, candidates)
    return [ch for ch in img.chain_ids if ch not in still_used]


def referenced_chain_ids(store: "ImageStore") -> set[str]:
    """Chain IDs of every image's layers (what snapshot GC must keep)."""
    out: set[str] = set()
    for img in store.images():
        out.update(layerio.chain_ids(img.diff_ids))
    return out


def collect(store: "ImageStore", grace: float = 0.0) -> list[str]:
    """Delete every unreferenced, unleased blob older than ``grace`` seconds; returns their digests."""
    now = time.time()
    with store.db.write() as c:
        candidates = set()
        for d in store.content.walk():
            if grace:
                try:
                    if now - store.content.path(d).stat().st_mtime < grace:
                        continue
                except OSError:
                    continue
            candidates.add(d)
        return _delete_blobs(store, c, candidates)
