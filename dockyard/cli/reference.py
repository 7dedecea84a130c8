"""Image references for the client side: normalize ("busybox" → docker.io/library/busybox:latest),
the familiar form docker prints, and the fromImage/tag pair of ``POST /images/create``.

A light copy of distribution/reference's rules (``dockyard.images.reference`` is the full
one, but costs start-up time the CLI does not have).
"""
from __future__ import annotations

import re

DEFAULT_DOMAIN = "docker.io"
_ALNUM = r"[a-z0-9]+"
_SEP = r"(?:[._]|__|[-]+)"
_COMP = rf"{_ALNUM}(?:{_SEP}{_ALNUM})*"
_DCOMP = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DCOMP}(?:\.{_DCOMP})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_REF = re.compile(rf"^((?:{_DOMAIN}/)?{_COMP}(?:/{_COMP})*)(?::({_TAG}))?(?:@({_DIGEST}))?$", re.ASCII)
_ANYCASE = re.compile(rf"^((?:{_DOMAIN}/)?[a-zA-Z0-9._/-]+)(?::({_TAG}))?(?:@({_DIGEST}))?$", re.ASCII)
_ID = re.compile(r"^[a-f0-9]{64}$")


class RefError(ValueError):
    pass


class Ref:
    __slots__ = ("domain", "path", "tag", "digest")

    def __init__(self, domain: str, path: str, tag: str = "", digest: str = ""):
        self.domain, self.path, self.tag, self.digest = domain, path, tag, digest

    @property
    def name(self) -> str:
        return f"{self.domain}/{self.path}"

    def familiar_name(self) -> str:
        if self.domain == DEFAULT_DOMAIN:
            return self.path[len("library/"):] if self.path.startswith("library/") and self.path.count("/") == 1 \
                else self.path
        return self.name

    def familiar(self) -> str:
        s = self.familiar_name()
        if self.tag:
            s += ":" + self.tag
        if self.digest:
            s += "@" + self.digest
        return s

    def full(self) -> str:
        s = self.name
        if self.tag:
            s += ":" + self.tag
        if self.digest:
            s += "@" + self.digest
        return s

    def with_default_tag(self) -> "Ref":
        if not self.tag and not self.digest:
            return Ref(self.domain, self.path, "latest")
        return self

    def api_tag(self) -> str:
        return self.digest or self.tag


def parse(s: str) -> Ref:
    """ParseNormalizedNamed with docker's error messages."""
    if not s:
        raise RefError("invalid reference format")
    if _ID.match(s):
        raise RefError(f"invalid repository name ({s}), cannot specify 64-byte hexadecimal strings")
    m = _REF.match(s)
    if not m:
        m2 = _ANYCASE.match(s)
        if m2 and m2.group(1) != m2.group(1).lower():
            name = m2.group(1)
            first, slash, rest = name.partition("/")
            if slash and ("." in first or ":" in first or first == "localhost"):
                name = rest
            elif not slash:
                name = "library/" + name
            raise RefError(f"invalid reference format: repository name ({name}) must be lowercase")
        raise RefError("invalid reference format")
    name, tag, digest = m.group(1), m.group(2) or "", m.group(3) or ""
    if len(name) > 255:
        raise RefError("invalid reference format: repository name must not be more than 255 characters")
    first, slash, rest = name.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost" or first != first.lower()):
        domain, path = first, rest
    else:
        domain, path = DEFAULT_DOMAIN, name
    if domain in ("index.docker.io",):
        domain = DEFAULT_DOMAIN
    if domain == DEFAULT_DOMAIN and "/" not in path:
        path = "library/" + path
    if path != path.lower():
        raise RefError(f"invalid reference format: repository name ({path}) must be lowercase")
    return Ref(domain, path, tag, digest)


def is_id_prefix(s: str) -> bool:
    return bool(re.match(r"^(sha256:)?[a-f0-9]{1,64}$", s))
