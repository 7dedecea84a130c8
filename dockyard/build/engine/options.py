"""What a client asks of a build: ``POST /build``'s query parameters, validated once.

The names are the Engine API's (``t`` repeated, ``buildargs`` and ``labels`` as JSON objects,
``networkmode``, ``nocache``…). ``SOURCE_DATE_EPOCH`` comes as a build argument, as BuildKit takes
it: it clamps file times in new layers and fixes every timestamp in the image config.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Mapping

from .errors import BuildError

_FALSE = frozenset(("", "0", "no", "false", "none"))
NETWORK_MODES = ("default", "bridge", "host", "none")


@dataclass
class BuildOptions:
    dockerfile: str = "Dockerfile"
    tags: list[str] = field(default_factory=list)
    build_args: dict[str, str | None] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    target: str = ""
    no_cache: bool = False
    pull: bool = False
    quiet: bool = False
    rm: bool = True
    force_rm: bool = False
    network: str = "default"
    platform: str = ""
    extra_hosts: list[str] = field(default_factory=list)
    registry_auth: dict = field(default_factory=dict)
    source_date_epoch: int | None = None

    def __post_init__(self) -> None:
        raw = self.build_args.get("SOURCE_DATE_EPOCH")
        if raw is not None and self.source_date_epoch is None:
            self.source_date_epoch = parse_epoch(raw)


def parse_epoch(raw: str) -> int:
    text = raw.strip()
    if not text.isdigit():
        raise BuildError(f"invalid SOURCE_DATE_EPOCH {raw!r}: want whole seconds since 1970")
    return int(text)


def _bool(query: Mapping[str, list[str]], name: str, default: bool = False) -> bool:
    values = query.get(name)
    if not values:
        return default
    return values[0].strip().lower() not in _FALSE


def _one(query: Mapping[str, list[str]], name: str, default: str = "") -> str:
    values = query.get(name)
    return values[0] if values else default


def _json_map(query: Mapping[str, list[str]], name: str, allow_null: bool) -> dict:
    raw = _one(query, name)
    if not raw.strip():
        return {}
    try:
        doc = json.loads(raw)
    except ValueError:
        raise BuildError(f"invalid {name}: not a JSON object: {raw[:80]!r}") from None
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise BuildError(f"invalid {name}: not a JSON object")
    for k, v in doc.items():
        if not (isinstance(v, str) or (allow_null and v is None)):
            raise BuildError(f"invalid {name}: the value of {k!r} is not a string")
    return doc


def validate_tag(tag: str) -> str:
    """A ``-t`` value in its canonical ``name:tag`` form; BuildError when it is not one."""
    from dockyard.images import reference as refs
    try:
        ref = refs.parse(tag)
    except refs.ReferenceError:
        raise BuildError(f"invalid reference format: {tag}") from None
    if ref.digest:
        raise BuildError(f"invalid reference format: {tag}: a tag cannot have a digest")
    return ref.with_default_tag().familiar()


def from_query(query: Mapping[str, list[str]], registry_config: str | None = None) -> BuildOptions:
    """The options of a ``POST /build`` request; BuildError (400) names the bad parameter."""
    if _one(query, "version", "1") not in ("", "1"):
        raise BuildError("this daemon has only the classic builder (version=1): build with DOCKER_BUILDKIT=0")
    if _one(query, "remote"):
        raise BuildError("remote build contexts are not supported: send the context in the request body")
    network = _one(query, "networkmode", "default") or "default"
    if network not in NETWORK_MODES:
        raise BuildError(f"network mode {network!r} is not supported for builds: use default, host or none")
    tags = [validate_tag(t) for t in query.get("t", []) if t]
    hosts: list[str] = []
    for h in query.get("extrahosts", []):
        hosts += [x for x in h.replace(",", " ").split() if x]
    return BuildOptions(
        dockerfile=_one(query, "dockerfile", "Dockerfile") or "Dockerfile",
        tags=list(dict.fromkeys(tags)),
        build_args=_json_map(query, "buildargs", allow_null=True),
        labels=_json_map(query, "labels", allow_null=False),
        target=_one(query, "target"),
        no_cache=_bool(query, "nocache"),
        pull=_bool(query, "pull"),
        quiet=_bool(query, "q"),
        rm=_bool(query, "rm", True),
        force_rm=_bool(query, "forcerm"),
        network=network,
        platform=_one(query, "platform"),
        extra_hosts=hosts,
        registry_auth=decode_registry_config(registry_config),
    )


def decode_registry_config(value: str | None) -> dict:
    """``X-Registry-Config``: base64url JSON {registry: AuthConfig}; undecodable means none."""
    if not value:
        return {}
    import base64
    import binascii
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        doc = json.loads(raw)
    except (binascii.Error, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}
