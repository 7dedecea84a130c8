"""The files a COPY or ADD reads: named sources resolved in a tree (the build context, or an
image's root for ``--from``), wildcards expanded, directories walked.

A named source is resolved inside its tree, following symlinks as if the tree were ``/``
(``securefs``): a context symlink to ``/etc/passwd`` names the context's own ``etc/passwd``, so no
host file can be read through one. A name that cleans to outside the tree (``../x``) is refused.
Below a copied directory nothing is followed: symlinks are copied as symlinks. Wildcards (``*``,
``?``, ``[...]``) match context paths with Go's ``filepath.Match``; a matched directory is copied
whole.
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import posixpath
import stat
from dataclasses import dataclass, field

from ...daemon.containers.securefs import ContainerFS
from ..dockerignore import DockerignoreError, PatternMatcher
from .context import FileInfo
from .errors import CopyError
from .gomatch import PatternError, has_wildcards, match


@dataclass(frozen=True)
class Entry:
    """One file system entry to copy; ``rel`` is its path below the source ("" for the source itself)."""
    rel: str
    host: str
    kind: str          # "file", "dir", "symlink"
    mode: int
    size: int = 0
    mtime_ns: int = 0
    link: str = ""
    info: FileInfo | None = None   # the context's record (content digest), when there is one

    def key(self) -> list:
        base = self.info.key() if self.info is not None else [self.kind, self.mode, 0, 0, self.link, ""]
        return [self.rel] + base


@dataclass
class Source:
    """A resolved source: ``name`` as the Dockerfile (or the wildcard) named it, its host path."""
    name: str
    host: str
    is_dir: bool
    entries: list[Entry] = field(default_factory=list)

    @property
    def basename(self) -> str:
        return posixpath.basename(self.name.rstrip("/")) or posixpath.basename(self.host)


def _kind(mode: int) -> str | None:
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISLNK(mode):
        return "symlink"
    return None


class SourceTree:
    """A tree to copy from: ``root`` on the host; ``files`` the context's index (None for images)."""

    def __init__(self, root: str, files: dict[str, FileInfo] | None = None, what: str = "build context"):
        self.root = os.path.abspath(root)
        self.files = files
        self.what = what

    # -- naming --------------------------------------------------------------------------------------
    def _clean(self, keyword: str, orig: str) -> str:
        if orig.startswith("/"):
            rel = posixpath.normpath(orig).lstrip("/")
        else:
            rel = posixpath.normpath(orig)
            if rel == ".." or rel.startswith("../"):
                raise CopyError(f"{keyword} failed: forbidden path outside the build context: {orig}")
        return "" if rel == "." else rel

    def _missing(self, keyword: str, orig: str) -> CopyError:
        if self.files is not None:
            return CopyError(f"{keyword} failed: file not found in build context or excluded by .dockerignore: "
                             f"stat {orig}: file does not exist")
        return CopyError(f"{keyword} failed: stat {orig}: file does not exist in {self.what}")

    def resolve(self, keyword: str, orig: str, excludes: tuple[str, ...] = ()) -> list[Source]:
        """The sources one COPY/ADD argument names (several for a wildcard)."""
        rel = self._clean(keyword, orig)
        if has_wildcards(rel):
            names = self._glob(keyword, rel)
            if not names:
                raise CopyError(f"{keyword} failed: no source files were specified")
            return [self._source(keyword, n, n, excludes) for n in names]
        return [self._source(keyword, orig, rel, excludes)]

    def _source(self, keyword: str, orig: str, rel: str, excludes: tuple[str, ...]) -> Source:
        with ContainerFS(self.root) as fs:
            try:
                r = fs.resolve("/" + rel, follow_last=True)
            except (FileNotFoundError, NotADirectoryError):
                raise self._missing(keyword, orig) from None
            except OSError as e:
                if e.errno == errno.ELOOP:
                    raise CopyError(f"{keyword} failed: {orig}: too many levels of symbolic links") from None
                raise
            with r:
                resolved = r.path
                st = r.lstat()
        host = os.path.join(self.root, resolved.lstrip("/"))
        kind = _kind(st.st_mode)
        if kind == "dir":
            matcher = _excludes(excludes)
            return Source(orig, host, True, self._walk(host, resolved.lstrip("/"), matcher))
        if kind != "file":
            raise CopyError(f"{keyword} failed: {orig} is not a regular file or directory")
        return Source(orig, host, False, [self._entry("", host, resolved.lstrip("/"), st)])

    # -- walking ---------------------------------------------------------------------------------------
    def _entry(self, rel: str, host: str, tree_rel: str, st: os.stat_result) -> Entry:
        info = self.files.get(tree_rel) if self.files is not None else None
        kind = _kind(st.st_mode) or "other"
        if info is not None and info.kind != kind:
            info = None
        if info is None and self.files is not None and kind == "file":
            info = FileInfo("file", stat.S_IMODE(st.st_mode), 0, 0, st.st_size, digest=_digest(host))
        link = os.readlink(host) if kind == "symlink" else ""
        return Entry(rel, host, kind, stat.S_IMODE(st.st_mode), st.st_size if kind == "file" else 0,
                     st.st_mtime_ns, link, info)

    def _walk(self, top: str, tree_top: str, matcher: PatternMatcher | None) -> list[Entry]:
        """Every entry below ``top`` (not ``top`` itself), parents first, names sorted."""
        out: list[Entry] = []
        stack = [("", top)]
        while stack:
            rel_dir, host_dir = stack.pop()
            try:
                names = os.listdir(host_dir)
            except OSError as e:
                raise CopyError(f"reading {self.what} directory {rel_dir or '.'}: {e.strerror}") from None
            for name in names:
                rel = f"{rel_dir}/{name}" if rel_dir else name
                if matcher is not None and matcher.matches(rel):
                    continue
                host = os.path.join(host_dir, name)
                st = os.lstat(host)
                if _kind(st.st_mode) is None:
                    continue   # devices, FIFOs and sockets are not copied
                e = self._entry(rel, host, f"{tree_top}/{rel}" if tree_top else rel, st)
                out.append(e)
                if e.kind == "dir":
                    stack.append((rel, host))
        return _depth_first(out)

    def _glob(self, keyword: str, pattern: str) -> list[str]:
        """Context paths that match ``pattern`` (a matched directory is not descended into)."""
        try:
            match(pattern, "")
        except PatternError as e:
            raise CopyError(f"{keyword} failed: {e}") from None
        depth = pattern.count("/")
        found: list[str] = []
        stack = [""]
        while stack:
            rel_dir = stack.pop()
            host_dir = os.path.join(self.root, rel_dir)
            try:
                names = sorted(os.listdir(host_dir), key=os.fsencode)
            except OSError:
                continue
            for name in names:
                rel = f"{rel_dir}/{name}" if rel_dir else name
                if match(pattern, rel):
                    found.append(rel)
                    continue
                if rel.count("/") < depth and stat.S_ISDIR(os.lstat(os.path.join(host_dir, name)).st_mode):
                    stack.append(rel)
        return sorted(found, key=os.fsencode)


def _depth_first(entries: list[Entry]) -> list[Entry]:
    """Parents before children, siblings by name (a tar in this order extracts in one pass)."""
    return sorted(entries, key=lambda e: [os.fsencode(c) for c in e.rel.split("/")])


def _excludes(patterns: tuple[str, ...]) -> PatternMatcher | None:
    if not patterns:
        return None
    try:
        return PatternMatcher(list(patterns))
    except DockerignoreError as e:
        raise CopyError(f"invalid --exclude pattern: {e}") from None


def _digest(path: str) -> str:
    h = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        while True:
            b = os.read(fd, 1 << 20)
            if not b:
                break
            h.update(b)
    finally:
        os.close(fd)
    return "sha256:" + h.hexdigest()


def sources_key(sources: list[Source]) -> str:
    """A digest of what the sources hold: names, types, modes, owners, link targets, contents."""
    h = hashlib.sha256()
    for s in sources:
        h.update(json.dumps([s.name, s.is_dir, [e.key() for e in s.entries]], separators=(",", ":")).encode())
    return h.hexdigest()
