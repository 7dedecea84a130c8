"""Where each COPY/ADD source goes, by Docker's rules.

- A relative destination is relative to the WORKDIR; a destination ending in ``/`` (or ``.``) is a
  directory.
- Several sources (a wildcard that matched several counts) need a directory destination.
- A directory source copies its *contents* into the destination directory.
- A file source becomes ``dest/<name>`` when the destination is a directory (by its trailing ``/``,
  or because it already is one in the image), else the file ``dest``.
- ADD of a local tar archive (plain, gzip, bzip2, xz, zstd) unpacks it into the destination directory.
"""
from __future__ import annotations

import posixpath
from dataclasses import dataclass

from .errors import CopyError
from .sources import Source


@dataclass(frozen=True)
class CopyOp:
    source: Source
    dest: str            # absolute, cleaned container path
    into_dir: bool       # the destination is a directory (the source goes inside it)
    unpack: bool = False  # ADD of a local archive: extract it into ``dest``


def destination(dest: str, workdir: str) -> tuple[str, bool]:
    """The absolute destination and whether it names a directory."""
    dir_like = dest.endswith("/") or dest in (".", "..") or dest.endswith("/.") or dest.endswith("/..")
    if not dest.startswith("/"):
        dest = posixpath.join(workdir or "/", dest)
    if not dest.startswith("/"):
        dest = "/" + dest
    return posixpath.normpath(dest).replace("//", "/"), dir_like


def plan(keyword: str, sources: list[Source], dest: str, workdir: str,
         archives: set[int] = frozenset()) -> list[CopyOp]:
    """The copy operations for ``sources`` (``archives``: indexes of sources ADD unpacks)."""
    target, dir_like = destination(dest, workdir)
    if len(sources) > 1 and not dir_like:
        raise CopyError(f"When using {keyword} with more than one source file, the destination must be a "
                        "directory and end with a /")
    ops = []
    for i, s in enumerate(sources):
        if i in archives:
            ops.append(CopyOp(s, target, True, unpack=True))
        else:
            ops.append(CopyOp(s, target, s.is_dir or dir_like))
    return ops
