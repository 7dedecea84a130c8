"""``docker rmi`` and ``docker image prune`` with Docker 20.10's rules and messages.

Results are Engine API ImageDeleteResponseItem objects: ``{"Untagged": "busybox:latest"}``
and ``{"Deleted": "sha256:..."}`` (the image, then the layer chain IDs no image uses any more).
Blobs of a deleted image that no other image references are removed from the
content store in the same transaction.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping

from . import filters as flt
from . import gc, reference
from .errors import ImageConflict, ImageNotFound
from .store import parse_ref

if TYPE_CHECKING:
    from .store import ImageStore

DEPENDENT_CHILD = 1
RUNNING_CONTAINER = 2
ACTIVE_REFERENCE = 4
STOPPED_CONTAINER = 8
HARD = DEPENDENT_CHILD | RUNNING_CONTAINER
SOFT = ACTIVE_REFERENCE | STOPPED_CONTAINER


def _short(s: str) -> str:
    return s.split(":", 1)[-1][:12]


@dataclass
class _Conflict:
    image_id: str
    hard: bool
    used: bool
    message: str

    def error(self) -> ImageConflict:
        how = "cannot be forced" if self.hard else "must be forced"
        return ImageConflict(f"conflict: unable to delete {_short(self.image_id)} ({how}) - {self.message}")


def _is_id_prefix(image_id: str, s: str) -> bool:
    return image_id.startswith(s) or image_id.split(":", 1)[-1].startswith(s)


def _is_single_reference(refs: list[reference.Reference]) -> bool:
    """At most one tag, and every reference in that tag's repository."""
    if len(refs) <= 1:
        return len(refs) == 1
    single = None
    canonical = set()
    for r in refs:
        if r.digest:
            canonical.add(r.name)
        elif single is None:
            single = r
        else:
            return False
    if single is None:
        single = refs[0]
    return len(canonical) == 1 and single.name in canonical


def _uses(store: "ImageStore", image_id: str) -> list[tuple[str, bool]]:
    return [(cid, bool(running)) for cid, running in store.in_use(image_id)]


def _check_conflict(store: "ImageStore", image_id: str, mask: int) -> _Conflict | None:
    if mask & DEPENDENT_CHILD and store.children(image_id):
        return _Conflict(image_id, True, False, "image has dependent child images")
    uses = _uses(store, image_id) if mask & (RUNNING_CONTAINER | STOPPED_CONTAINER) else []
    if mask & RUNNING_CONTAINER:
        for cid, running in uses:
            if running:
                return _Conflict(image_id, True, True, f"image is being used by running container {_short(cid)}")
    if mask & ACTIVE_REFERENCE and store.references(image_id):
        return _Conflict(image_id, False, False, "image is referenced in multiple repositories")
    if mask & STOPPED_CONTAINER:
        for cid, running in uses:
            if not running:
                return _Conflict(image_id, False, True, f"image is being used by stopped container {_short(cid)}")
    return None


def _untag(store: "ImageStore", ref: reference.Reference) -> dict:
    store.untag(str(ref))
    return {"Untagged": ref.familiar()}


def remove(store: "ImageStore", ref_or_id: str, force: bool = False, prune: bool = True) -> list[dict]:
    image_id = store.resolve(ref_or_id)
    records: list[dict] = []
    refs = store.references(image_id)
    removed_repository_ref = False
    if not _is_id_prefix(image_id, ref_or_id):
        if not force and _is_single_reference(refs):
            uses = _uses(store, image_id)
            if uses:
                raise ImageConflict(
                    f'conflict: unable to remove repository reference "{ref_or_id}" (must force) - container '
                    f"{_short(uses[0][0])} is using its referenced image {_short(image_id)}")
        parsed = parse_ref(ref_or_id)
        records.append(_untag(store, parsed))
        refs = store.references(image_id)
        if not parsed.digest:
            # the last tag of a repository takes that repository's digest references with it
            if not any(not r.digest and r.name == parsed.name for r in refs):
                remaining = []
                for r in refs:
                    if r.digest and r.name == parsed.name:
                        records.append(_untag(store, r))
                    else:
                        remaining.append(r)
                refs = remaining
        if refs:
            return records
        removed_repository_ref = True
    elif _is_single_reference(refs):
        mask = HARD if force else HARD | (SOFT & ~ACTIVE_REFERENCE)
        conflict = _check_conflict(store, image_id, mask)
        if conflict:
            raise conflict.error()
        for r in refs:
            records.append(_untag(store, r))
    _delete(store, image_id, records, force, prune, quiet=removed_repository_ref)
    return records


def _is_dangling(store: "ImageStore", image_id: str) -> bool:
    return not store.references(image_id) and not store.children(image_id)


def _delete(store: "ImageStore", image_id: str, records: list[dict], force: bool, prune: bool, quiet: bool) -> None:
    mask = HARD if force else HARD | SOFT
    conflict = _check_conflict(store, image_id, mask)
    if conflict:
        if quiet and (not _is_dangling(store, image_id) or conflict.used):
            return
        raise conflict.error()
    img = store.get(image_id)
    for r in store.references(image_id):
        records.append(_untag(store, r))
    removed_chains = gc.delete_image(store, img)
    records.append({"Deleted": image_id})
    records.extend({"Deleted": ch} for ch in removed_chains)
    if prune and img.parent:
        try:
            _delete(store, img.parent, records, False, True, True)
        except ImageNotFound:
            pass


def prune(store: "ImageStore", all: bool = False, filters: Mapping | None = None) -> dict:
    """``docker image prune [-a]``: {"ImagesDeleted": [...], "SpaceReclaimed": bytes}."""
    f = flt.normalize(filters, flt.PRUNE_KEYS)
    d = flt.dangling(f)
    dangling_only = not all and d is not False
    until = min((flt.parse_timestamp(v) for v in f.get("until", [])), default=None)
    imgs = store.images()
    parents = {i.parent for i in imgs if i.parent}
    layer_size = {}
    for img in imgs:
        for ch, layer in zip(img.chain_ids, img.layers):
            layer_size[ch] = layer.unpacked_size
    deleted: list[dict] = []
    for img in imgs:
        if dangling_only and img.id in parents:
            continue
        refs = store.references(img.id) if store.exists(img.id) else None
        if refs is None:  # removed meanwhile as someone's parent
            continue
        if not refs and img.id in parents:
            continue
        if until is not None and img.created_unix + img.created_nanos / 1e9 > until:
            continue
        if "label" in f and not flt.match_labels(f["label"], img.labels):
            continue
        if "label!" in f and flt.match_any_label(f["label!"], img.labels):
            continue
        targets = []
        if refs:
            if not dangling_only or not any(not r.digest for r in refs):
                targets = [str(r) for r in refs]
        else:
            targets = [img.id.split(":", 1)[1]]
        for t in targets:
            try:
                deleted.extend(remove(store, t, force=False, prune=True))
            except (ImageConflict, ImageNotFound):
                continue
    reclaimed = sum(layer_size.get(x["Deleted"], 0) for x in deleted if "Deleted" in x)
    return {"ImagesDeleted": deleted, "SpaceReclaimed": reclaimed}
