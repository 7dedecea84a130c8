"""Platforms: parsing (``linux/arm64/v8``), the host default, and choosing a manifest.

The rules follow containerd's ``platforms`` package: names are normalized
(``x86_64`` → ``amd64``, ``aarch64`` → ``arm64``, ``arm64/v8`` → ``arm64``),
and a platform also accepts older variants of its architecture, best first
(``arm/v7`` takes ``arm/v6``, ``arm/v5``; ``amd64/v3`` takes ``v2``, ``v1``;
``amd64`` takes ``386``).
"""
from __future__ import annotations

import os
import re

from dockyard.spec.image import Descriptor, Index, Platform

_SPECIFIER_RE = re.compile(r"^[A-Za-z0-9_.-]+$")
_KNOWN_OS = {"aix", "android", "darwin", "dragonfly", "freebsd", "hurd", "illumos", "ios", "js",
             "linux", "nacl", "netbsd", "openbsd", "plan9", "solaris", "wasip1", "windows", "zos"}
_KNOWN_ARCH = {"386", "amd64", "amd64p32", "arm", "armbe", "arm64", "arm64be", "ppc64", "ppc64le",
               "loong64", "mips", "mipsle", "mips64", "mips64le", "mips64p32", "mips64p32le", "ppc",
               "riscv", "riscv64", "s390", "s390x", "sparc", "sparc64", "wasm"}
_UNAME_ARCH = {"x86_64": "amd64", "i686": "386", "i386": "386", "aarch64": "arm64", "armv7l": "arm",
               "armv6l": "arm", "ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64"}


class PlatformError(ValueError):
    """A platform string is malformed or no manifest matches a platform."""


def normalize_os(os_name: str) -> str:
    o = os_name.lower()
    return "darwin" if o == "macos" else o


def normalize_arch(arch: str, variant: str) -> tuple[str, str]:
    arch, variant = arch.lower(), variant.lower()
    if arch == "i386":
        return "386", ""
    if arch in ("x86_64", "x86-64", "amd64"):
        return "amd64", "" if variant == "v1" else variant
    if arch in ("aarch64", "arm64"):
        if variant in ("8", "v8", "v8.0"):
            variant = ""
        elif variant in ("9", "9.0", "v9.0"):
            variant = "v9"
        return "arm64", variant
    if arch == "armhf":
        return "arm", "v7"
    if arch == "armel":
        return "arm", "v6"
    if arch == "arm":
        if variant in ("", "7"):
            variant = "v7"
        elif variant in ("5", "6", "8"):
            variant = "v" + variant
        return "arm", variant
    return arch, variant


def normalize(p: Platform) -> Platform:
    arch, variant = normalize_arch(p.architecture, p.variant or "")
    return Platform(os=normalize_os(p.os), architecture=arch, variant=variant, os_version=p.os_version,
                    os_features=p.os_features)


def host() -> Platform:
    """The platform of this machine (normalized), e.g. linux/amd64."""
    machine = os.uname().machine
    arch = _UNAME_ARCH.get(machine, machine)
    variant = ""
    if arch == "arm":
        variant = "v6" if machine.startswith("armv6") else "v7"
    return normalize(Platform(os="linux", architecture=arch, variant=variant))


def parse(spec: str) -> Platform:
    """Parse ``os``, ``arch``, ``os/arch`` or ``os/arch/variant`` (normalized)."""
    if not isinstance(spec, str) or not spec:
        raise PlatformError(f"invalid platform {spec!r}: empty")
    parts = spec.split("/")
    for part in parts:
        if not _SPECIFIER_RE.match(part):
            raise PlatformError(f"{spec!r}: invalid platform component {part!r}")
    if len(parts) == 1:
        word = parts[0].lower()
        if normalize_os(word) in _KNOWN_OS:
            h = host()
            return Platform(os=normalize_os(word), architecture=h.architecture, variant=h.variant)
        arch, variant = normalize_arch(word, "")
        if arch == "arm" and variant == "v7":
            variant = ""
        if arch in _KNOWN_ARCH:
            return Platform(os="linux", architecture=arch, variant=variant)
        raise PlatformError(f"{spec!r}: unknown operating system or architecture")
    if len(parts) == 2:
        arch, variant = normalize_arch(parts[1], "")
        if arch == "arm" and variant == "v7":
            variant = ""
        return Platform(os=normalize_os(parts[0]), architecture=arch, variant=variant)
    if len(parts) == 3:
        arch, variant = normalize_arch(parts[1], parts[2])
        if arch == "arm64" and variant == "":
            variant = "v8"
        return Platform(os=normalize_os(parts[0]), architecture=arch, variant=variant)
    raise PlatformError(f"{spec!r}: cannot parse platform (too many components)")


def format(p: Platform) -> str:  # noqa: A001 - mirrors containerd's platforms.Format
    return str(p)


def _key(p: Platform) -> tuple[str, str, str]:
    n = normalize(p)
    return n.os, n.architecture, n.variant


def compatible(p: Platform) -> list[tuple[str, str, str]]:
    """Platforms that ``p`` can run, best first, as normalized (os, arch, variant)."""
    n = normalize(p)
    out = [(n.os, n.architecture, n.variant)]
    arch, variant = n.architecture, n.variant
    if arch == "amd64":
        try:
            level = int(variant.lstrip("v")) if variant else 1
        except ValueError:
            level = 1
        out += [(n.os, "amd64", f"v{v}" if v > 1 else "") for v in range(level - 1, 0, -1)]
        out.append((n.os, "386", ""))
    elif arch == "arm":
        try:
            level = int(variant.lstrip("v"))
        except ValueError:
            level = 0
        out += [(n.os, "arm", f"v{v}") for v in range(level - 1, 4, -1)]
    elif arch == "arm64":
        if variant:  # arm64/v9 also runs arm64 (v8)
            out.append((n.os, "arm64", ""))
        out += [(n.os, "arm", f"v{v}") for v in (8, 7, 6, 5)]
    seen, uniq = set(), []
    for k in out:
        if k not in seen:
            seen.add(k)
            uniq.append(k)
    return uniq


class Matcher:
    """Matches platforms that the wanted platform can run, and ranks them."""

    def __init__(self, wanted: Platform | str | None = None):
        if wanted is None:
            wanted = host()
        elif isinstance(wanted, str):
            wanted = parse(wanted)
        self.wanted = wanted
        self._order = {k: i for i, k in enumerate(compatible(wanted))}

    def match(self, p: Platform) -> bool:
        return _key(p) in self._order

    def rank(self, p: Platform) -> int:
        """Lower is better; large for platforms that do not match."""
        return self._order.get(_key(p), 1 << 30)


def select(index: Index, wanted: Platform | str | None = None) -> Descriptor:
    """The best manifest descriptor of ``index`` for a platform (host by default).

    Entries without a platform are accepted after all entries that match one,
    like containerd does; attestation manifests never match.
    """
    m = wanted if isinstance(wanted, Matcher) else Matcher(wanted)
    best: tuple[int, int, Descriptor] | None = None
    for i, desc in enumerate(index.manifests):
        ann = desc.annotations or {}
        if ann.get("vnd.docker.reference.type") == "attestation-manifest":
            continue
        if desc.platform is None:
            score = 1 << 29
        elif m.match(desc.platform):
            score = m.rank(desc.platform)
        else:
            continue
        if best is None or (score, i) < best[:2]:
            best = (score, i, desc)
    if best is None:
        raise PlatformError(f"no matching manifest for {format(normalize(m.wanted))} in the manifest list entries")
    return best[2]
