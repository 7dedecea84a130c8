"""Docker's API version prefix (``/v1.41/...``) and its bounds."""
from __future__ import annotations

import re

_PREFIX = re.compile(r"/v([0-9.]+)(/.*)", re.DOTALL)


def split_version(path: str) -> tuple[str | None, str]:
    """``/v1.41/containers/json`` -> ``("1.41", "/containers/json")``; no prefix -> ``(None, path)``."""
    if path.startswith("/v"):
        m = _PREFIX.fullmatch(path)
        if m:
            return m.group(1), m.group(2)
    return None, path


def version_key(version: str) -> tuple[int, ...]:
    """Comparable form of a dotted version, as moby compares them (non-numbers count as 0)."""
    parts = [int(p) if p.isascii() and p.isdigit() else 0 for p in version.split(".")]
    while parts and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def version_error(version: str, minimum: str, maximum: str) -> str | None:
    """Docker's message for a version outside [minimum, maximum], else None."""
    key = version_key(version)
    if key < version_key(minimum):
        return (f"client version {version} is too old. Minimum supported API version is "
                f"{minimum}, please upgrade your client to a newer version")
    if key > version_key(maximum):
        return f"client version {version} is too new. Maximum supported API version is {maximum}"
    return None
