"""Garbage collection: remove the blobs no manifest references (run while no server runs).

Mark: in each repository, the roots are its manifests (with ``delete_untagged``, only tagged
ones, plus the referrers of what is kept); from each root, its child manifests, config and
layers are kept. Sweep: unreferenced manifests (``delete_untagged``) and blob links are removed
from each repository, then every blob that no repository keeps is deleted, along with stale
uploads and temporary files.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from .. import manifests as mf
from ..errors import RegistryError
from . import Storage


@dataclass
class Result:
    blobs: list[tuple[str, int]] = field(default_factory=list)   # removed (digest, size)
    manifests: list[tuple[str, str]] = field(default_factory=list)   # (repository, digest) unlinked
    links: int = 0
    uploads: int = 0

    @property
    def freed(self) -> int:
        return sum(size for _, size in self.blobs)


def _keep_repository(st: Storage, name: str, delete_untagged: bool, max_manifest: int) -> tuple[set, set]:
    """(manifests, blobs) that repository ``name`` keeps."""
    repos = st.repos
    roots = ({repos.tag(name, t) for t in repos.tags(name)} - {None}) if delete_untagged \
        else set(repos.manifests(name))
    kept: set[str] = set()
    blobs: set[str] = set()
    stack = list(roots)
    while True:
        while stack:
            d = stack.pop()
            if d in kept:
                continue
            media_type = repos.manifest_type(name, d)
            if media_type is None:
                continue
            kept.add(d)
            try:
                data = st.blobs.read(d, max_manifest)
                ins = mf.inspect(data, media_type) if data is not None else None
            except (RegistryError, ValueError):
                ins = None
            if ins is None:
                continue
            stack.extend(c.digest for c in ins.children)
            blobs.update(b.digest for b in ins.blobs)
        # referrers (signatures, SBOMs) of kept manifests stay with them
        more = [ref for subject, ref in repos.subjects(name) if subject in kept and ref not in kept
                and repos.manifest_type(name, ref) is not None]
        if not more:
            return kept, blobs
        stack.extend(more)


def collect(st: Storage, delete_untagged: bool = False, dry_run: bool = False,
            upload_max_age: float = 86400.0, max_manifest: int = 4 << 20,
            say: Callable[[str], None] = lambda s: None) -> Result:
    result = Result()
    marked: set[str] = set()
    for name in st.repos.names():
        kept, blobs = _keep_repository(st, name, delete_untagged, max_manifest)
        marked |= kept | blobs
        for d in list(st.repos.manifests(name)):
            if d in kept:
                continue
            result.manifests.append((name, d))
            say(f"{name}: deleting manifest {d}")
            if not dry_run:
                for subject, ref in list(st.repos.subjects(name)):
                    if ref == d:
                        st.repos.remove_referrer(name, subject, d)
                st.repos.unlink_manifest(name, d)
        for d in list(st.repos.blobs(name)):
            if d not in blobs:
                result.links += 1
                if not dry_run:
                    st.repos.unlink_blob(name, d)
    for d, size in list(st.blobs.walk()):
        if d in marked:
            continue
        result.blobs.append((d, size))
        say(f"deleting blob {d} ({size} bytes)")
        if not dry_run:
            st.blobs.remove(d)
    if not dry_run:
        result.uploads = len(st.uploads.purge(upload_max_age))
        st.clean_tmp()
    return result
