"""Image references, following Docker's rules (distribution/reference, normalized).

``parse("busybox")`` gives ``docker.io/library/busybox`` (no tag: call
``with_default_tag()`` for ``:latest``); ``familiar()`` gives the short form
that docker prints. Errors use Docker's messages.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

from . import digest as dg

DEFAULT_DOMAIN = "docker.io"
LEGACY_DEFAULT_DOMAIN = "index.docker.io"
OFFICIAL_REPO_PREFIX = "library/"
DEFAULT_TAG = "latest"
NAME_TOTAL_LENGTH_MAX = 255

_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_NAME = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*"
_IPV6 = r"\[(?:[a-fA-F0-9:]+)\]"
_DOMAIN = rf"(?:{_DOMAIN_NAME}|{_IPV6})(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}"
_NAME = rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_REFERENCE_RE = re.compile(rf"^({_NAME})(?::({_TAG}))?(?:@({_DIGEST}))?$", re.ASCII)
_NAME_RE = re.compile(rf"^(?:({_DOMAIN})/)?({_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*)$", re.ASCII)
_TAG_RE = re.compile(rf"^{_TAG}$", re.ASCII)
_ID_RE = re.compile(r"^[a-f0-9]{64}$")


class ReferenceError(ValueError):
    """A string is not a valid image reference."""


@dataclass(frozen=True)
class Reference:
    domain: str
    path: str
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        """Full repository name: domain/path."""
        return f"{self.domain}/{self.path}"

    def familiar_name(self) -> str:
        """The repository name as docker shows it (``busybox``, ``localhost:5000/a``)."""
        if self.domain == DEFAULT_DOMAIN:
            path = self.path
            if path.startswith(OFFICIAL_REPO_PREFIX) and "/" not in path[len(OFFICIAL_REPO_PREFIX):]:
                path = path[len(OFFICIAL_REPO_PREFIX):]
            return path
        return self.name

    def familiar(self) -> str:
        """Short form as docker prints it: ``busybox:latest``, ``localhost:5000/a:tag@sha256:..``."""
        return self.familiar_name() + self._suffix()

    def _suffix(self) -> str:
        s = f":{self.tag}" if self.tag else ""
        return s + (f"@{self.digest}" if self.digest else "")

    def __str__(self) -> str:
        return self.name + self._suffix()

    def with_default_tag(self) -> "Reference":
        """Add ``:latest`` to a reference that has neither tag nor digest."""
        if self.tag is None and self.digest is None:
            return replace(self, tag=DEFAULT_TAG)
        return self

    def with_tag(self, tag: str) -> "Reference":
        if not _TAG_RE.match(tag):
            raise ReferenceError("invalid tag format")
        return replace(self, tag=tag, digest=None)

    def with_digest(self, digest: str) -> "Reference":
        _check_digest(digest)
        return replace(self, digest=digest)

    def name_only(self) -> "Reference":
        return replace(self, tag=None, digest=None)

    @property
    def reference(self) -> str:
        """What goes in /v2/<name>/manifests/<reference>: the digest if any, else the tag."""
        return self.digest or self.tag or DEFAULT_TAG


def _check_digest(d: str) -> None:
    try:
        dg.validate(d)
    except dg.DigestError as e:
        raise ReferenceError(f"invalid reference format: {e}") from None


def split_docker_domain(name: str) -> tuple[str, str]:
    """Split a familiar name into (domain, remainder), adding docker.io and library/."""
    i = name.find("/")
    first = name[:i] if i >= 0 else ""
    if i == -1 or (not any(c in first for c in ".:") and first != "localhost" and first.lower() == first):
        domain, rest = DEFAULT_DOMAIN, name
    else:
        domain, rest = first, name[i + 1:]
    if domain == LEGACY_DEFAULT_DOMAIN:
        domain = DEFAULT_DOMAIN
    if domain == DEFAULT_DOMAIN and "/" not in rest:
        rest = OFFICIAL_REPO_PREFIX + rest
    return domain, rest


def parse_strict(s: str) -> Reference:
    """Parse a fully-qualified reference without normalizing (distribution's ``Parse``)."""
    if not isinstance(s, str):
        raise ReferenceError("invalid reference format")
    m = _REFERENCE_RE.match(s)
    if not m:
        if s == "":
            raise ReferenceError("repository name must have at least one component")
        if _REFERENCE_RE.match(s.lower()):
            raise ReferenceError("repository name must be lowercase")
        raise ReferenceError("invalid reference format")
    name, tag, digest = m.group(1), m.group(2), m.group(3)
    if len(name) > NAME_TOTAL_LENGTH_MAX:
        raise ReferenceError(f"repository name must not be more than {NAME_TOTAL_LENGTH_MAX} characters")
    nm = _NAME_RE.match(name)
    domain, path = nm.group(1) or "", nm.group(2)
    if digest:
        _check_digest(digest)
    return Reference(domain=domain, path=path, tag=tag, digest=digest)


def parse(s: str) -> Reference:
    """Parse a reference the way ``docker pull`` does (ParseNormalizedNamed)."""
    if not isinstance(s, str):
        raise ReferenceError("invalid reference format")
    if _ID_RE.match(s):
        raise ReferenceError(f"invalid repository name ({s}), cannot specify 64-byte hexadecimal strings")
    domain, rest = split_docker_domain(s)
    remote = rest.split(":", 1)[0] if ":" in rest else rest
    remote = remote.split("@", 1)[0]
    if remote.lower() != remote:
        raise ReferenceError(f"invalid reference format: repository name ({remote}) must be lowercase")
    ref = parse_strict(f"{domain}/{rest}")
    if not ref.domain:
        raise ReferenceError("invalid reference format")
    return ref


def parse_docker(s: str) -> Reference:
    """``parse`` then ``with_default_tag``: what ``docker pull NAME`` pulls."""
    return parse(s).with_default_tag()


def is_id(s: str) -> bool:
    """A 64-hex image ID (which is never a repository name)."""
    return bool(_ID_RE.match(s))
