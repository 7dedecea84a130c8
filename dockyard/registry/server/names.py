"""Repository names, tags and references as the Distribution spec defines them.

A valid name or tag is also a safe relative path: name components start with a letter or digit
(no ``.``, ``..`` or ``_``-prefixed metadata directories), tags have no slash.
"""
from __future__ import annotations

import re

from dockyard.images import digest as dg

from .errors import RegistryError

_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
NAME_RE = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*")
TAG_RE = re.compile(r"[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}")
MAX_NAME = 255


def check_name(name: str) -> str:
    """``name`` if it is a valid repository name, else NAME_INVALID."""
    if len(name) > MAX_NAME:
        raise RegistryError("NAME_INVALID", f"repository name is longer than {MAX_NAME} characters: "
                            f"{name[:40]!r}...", {"name": name[:MAX_NAME]})
    if not NAME_RE.fullmatch(name):
        raise RegistryError("NAME_INVALID", f"invalid repository name: {name!r}", {"name": name})
    return name


def is_name(name: str) -> bool:
    return len(name) <= MAX_NAME and bool(NAME_RE.fullmatch(name))


def is_tag(ref: str) -> bool:
    return bool(TAG_RE.fullmatch(ref))


def check_digest(digest: str) -> str:
    """``digest`` if it is a valid sha256/sha512 digest, else DIGEST_INVALID."""
    try:
        dg.parse(digest)
    except dg.DigestError as e:
        raise RegistryError("DIGEST_INVALID", str(e), {"digest": digest[:200]}) from None
    return digest


def parse_reference(ref: str) -> tuple[str | None, str | None]:
    """A manifest reference: ``(tag, None)`` or ``(None, digest)``; MANIFEST_INVALID otherwise."""
    if ":" in ref:
        return None, check_digest(ref)
    if is_tag(ref):
        return ref, None
    raise RegistryError("MANIFEST_INVALID", f"invalid tag or digest: {ref[:200]!r}", {"reference": ref[:200]})
