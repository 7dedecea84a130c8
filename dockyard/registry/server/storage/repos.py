"""What each repository holds: links to blobs and manifests, tags, and referrers.

Layout under ``repositories/<name>/`` (names are valid paths, see ``names``)::

    _layers/<algo>/<hex>                      empty file: the blob is in this repository
    _manifests/<algo>/<hex>                   the manifest's media type
    _tags/<tag>                               the tagged manifest's digest
    _referrers/<algo>/<hex>/<algo>-<hex>      descriptor (JSON) of a manifest whose subject is <algo>:<hex>

Content lives in the shared ``BlobStore``; every metadata file is written atomically.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterator

from dockyard.images import digest as dg

from . import fsutil

LAYERS, MANIFESTS, TAGS, REFERRERS = "_layers", "_manifests", "_tags", "_referrers"
_MARKERS = (LAYERS, MANIFESTS, TAGS)


def _digest_path(base: Path, digest: str) -> Path:
    algo, hexpart = dg.parse(digest)
    return base / algo / hexpart


def _walk_digests(base: Path) -> Iterator[str]:
    for algo in dg.ALGORITHMS:
        d = base / algo
        try:
            names = sorted(os.listdir(d))
        except (FileNotFoundError, NotADirectoryError):
            continue
        for name in names:
            digest = f"{algo}:{name}"
            try:
                dg.parse(digest)
            except dg.DigestError:
                continue
            yield digest


class Repos:
    def __init__(self, root: Path, tmpdir: Path, sync: bool = True):
        self.root = root
        self.tmpdir = tmpdir
        self.sync = sync
        root.mkdir(parents=True, exist_ok=True)

    def dir(self, name: str) -> Path:
        return self.root / name

    def exists(self, name: str) -> bool:
        d = self.dir(name)
        return any((d / m).is_dir() for m in _MARKERS)

    # -- blobs ------------------------------------------------------------------------------

    def link_blob(self, name: str, digest: str) -> None:
        fsutil.touch(_digest_path(self.dir(name) / LAYERS, digest))

    def has_blob(self, name: str, digest: str) -> bool:
        """The blob was uploaded to (or mounted into) this repository, or is one of its manifests."""
        d = self.dir(name)
        return (_digest_path(d / LAYERS, digest).exists() or _digest_path(d / MANIFESTS, digest).exists())

    def unlink_blob(self, name: str, digest: str) -> bool:
        return fsutil.unlink_quiet(_digest_path(self.dir(name) / LAYERS, digest))

    def blobs(self, name: str) -> Iterator[str]:
        return _walk_digests(self.dir(name) / LAYERS)

    # -- manifests --------------------------------------------------------------------------

    def link_manifest(self, name: str, digest: str, media_type: str) -> None:
        path = _digest_path(self.dir(name) / MANIFESTS, digest)
        if fsutil.read_small(path) == media_type.encode():
            return
        fsutil.atomic_write(path, media_type.encode(), self.tmpdir, sync=self.sync)

    def manifest_type(self, name: str, digest: str) -> str | None:
        """The media type the manifest was pushed with, or None if the repository lacks it."""
        data = fsutil.read_small(_digest_path(self.dir(name) / MANIFESTS, digest), 4096)
        return None if data is None else data.decode("utf-8", "replace")

    def unlink_manifest(self, name: str, digest: str) -> bool:
        return fsutil.unlink_quiet(_digest_path(self.dir(name) / MANIFESTS, digest))

    def manifests(self, name: str) -> Iterator[str]:
        return _walk_digests(self.dir(name) / MANIFESTS)

    # -- tags -------------------------------------------------------------------------------

    def set_tag(self, name: str, tag: str, digest: str) -> None:
        fsutil.atomic_write(self.dir(name) / TAGS / tag, digest.encode(), self.tmpdir, sync=self.sync)

    def tag(self, name: str, tag: str) -> str | None:
        data = fsutil.read_small(self.dir(name) / TAGS / tag, 1024)
        if data is None:
            return None
        digest = data.decode("ascii", "replace").strip()
        try:
            dg.parse(digest)
        except dg.DigestError:
            return None
        return digest

    def delete_tag(self, name: str, tag: str) -> bool:
        return fsutil.unlink_quiet(self.dir(name) / TAGS / tag)

    def tags(self, name: str) -> list[str]:
        try:
            return sorted(t for t in os.listdir(self.dir(name) / TAGS) if not t.startswith("."))
        except (FileNotFoundError, NotADirectoryError):
            return []

    def tags_of(self, name: str, digest: str) -> list[str]:
        return [t for t in self.tags(name) if self.tag(name, t) == digest]

    # -- referrers --------------------------------------------------------------------------

    def _referrer_path(self, name: str, subject: str, digest: str) -> Path:
        algo, hexpart = dg.parse(digest)
        return _digest_path(self.dir(name) / REFERRERS, subject) / f"{algo}-{hexpart}"

    def add_referrer(self, name: str, subject: str, descriptor: dict) -> None:
        data = json.dumps(descriptor, sort_keys=True, separators=(",", ":")).encode()
        fsutil.atomic_write(self._referrer_path(name, subject, descriptor["digest"]), data, self.tmpdir,
                            sync=self.sync)

    def remove_referrer(self, name: str, subject: str, digest: str) -> bool:
        path = self._referrer_path(name, subject, digest)
        removed = fsutil.unlink_quiet(path)
        fsutil.prune_empty_dirs(path.parent, self.dir(name) / REFERRERS)
        return removed

    def referrers(self, name: str, subject: str) -> list[dict]:
        """Descriptors of the manifests in ``name`` whose subject is ``subject`` (still present)."""
        d = _digest_path(self.dir(name) / REFERRERS, subject)
        try:
            entries = sorted(os.listdir(d))
        except (FileNotFoundError, NotADirectoryError):
            return []
        out = []
        for entry in entries:
            data = fsutil.read_small(d / entry, 1 << 20)
            try:
                desc = json.loads(data) if data else None
            except ValueError:
                desc = None
            if not isinstance(desc, dict) or not isinstance(desc.get("digest"), str):
                continue
            try:
                present = self.manifest_type(name, desc["digest"]) is not None
            except dg.DigestError:
                continue
            if present:
                out.append(desc)
        return out

    def subjects(self, name: str) -> Iterator[tuple[str, str]]:
        """Every (subject, referrer digest) pair recorded in ``name``."""
        for subject in _walk_digests(self.dir(name) / REFERRERS):
            d = _digest_path(self.dir(name) / REFERRERS, subject)
            for entry in sorted(os.listdir(d)):
                algo, _, hexpart = entry.partition("-")
                yield subject, f"{algo}:{hexpart}"

    # -- listing ----------------------------------------------------------------------------

    def names(self) -> list[str]:
        """Every repository, sorted."""
        out = []
        stack = [(self.root, "")]
        while stack:
            d, prefix = stack.pop()
            try:
                entries = os.listdir(d)
            except (FileNotFoundError, NotADirectoryError):
                continue
            if prefix and any(m in entries for m in _MARKERS):
                out.append(prefix)
            for e in entries:
                if not e.startswith(("_", ".")) and (d / e).is_dir():
                    stack.append((d / e, f"{prefix}/{e}" if prefix else e))
        return sorted(out)
