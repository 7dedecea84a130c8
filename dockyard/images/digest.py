"""Content digests: parsing, validation and hashing (sha256, sha512)."""
from __future__ import annotations

import hashlib
import re

ALGORITHMS = {"sha256": 64, "sha512": 128}
_DIGEST_RE = re.compile(r"^([a-z0-9]+(?:[.+_-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$")


class DigestError(ValueError):
    """A digest string is malformed or uses an unsupported algorithm."""


def parse(digest: str) -> tuple[str, str]:
    """Split 'algo:hex' and validate it; returns (algorithm, hex)."""
    if not isinstance(digest, str):
        raise DigestError(f"invalid digest: {digest!r}")
    m = _DIGEST_RE.match(digest)
    if not m:
        raise DigestError(f"invalid digest format: {digest!r}")
    algo, hexpart = m.group(1), m.group(2)
    if algo not in ALGORITHMS:
        raise DigestError(f"unsupported digest algorithm: {algo}")
    if len(hexpart) != ALGORITHMS[algo] or not re.fullmatch(r"[0-9a-f]+", hexpart):
        raise DigestError(f"invalid {algo} digest: {digest!r}")
    return algo, hexpart


def validate(digest: str) -> str:
    parse(digest)
    return digest


def hasher(algorithm: str = "sha256"):
    if algorithm not in ALGORITHMS:
        raise DigestError(f"unsupported digest algorithm: {algorithm}")
    return hashlib.new(algorithm)


def of_bytes(data: bytes, algorithm: str = "sha256") -> str:
    h = hasher(algorithm)
    h.update(data)
    return f"{algorithm}:{h.hexdigest()}"


def of_file(path, algorithm: str = "sha256", chunk: int = 1 << 20) -> str:
    h = hasher(algorithm)
    with open(path, "rb") as f:
        while True:
            b = f.read(chunk)
            if not b:
                break
            h.update(b)
    return f"{algorithm}:{h.hexdigest()}"
