"""Image format types: media types, descriptors, manifests, indexes, image configs.

Covers the Docker v2 schema2 formats and the OCI image-spec 1.1. Every type has
``from_json(bytes | dict)``, which validates types at the boundary and raises a
``SpecError`` subclass naming the offending field, and ``to_json()``, which
writes canonical bytes (sorted keys, no whitespace, UTF-8). Fields this module
does not know are kept in ``extra`` and written back, so documents round-trip.

Hostile input is refused early: documents above a size limit, JSON nested
deeper than ``MAX_DEPTH``, duplicate keys, NaN/Infinity, too many entries.
"""
from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

from dockyard.images import digest as dg

# --- media types -----------------------------------------------------------

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST_V1 = "application/vnd.docker.distribution.manifest.v1+json"
DOCKER_MANIFEST_V1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
DOCKER_LAYER_ZSTD = "application/vnd.docker.image.rootfs.diff.tar.zstd"
DOCKER_FOREIGN_LAYER = "application/vnd.docker.image.rootfs.foreign.diff.tar"
DOCKER_FOREIGN_LAYER_GZIP = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"
OCI_LAYOUT_HEADER = "application/vnd.oci.layout.header.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
OCI_LAYER_ND = "application/vnd.oci.image.layer.nondistributable.v1.tar"
OCI_LAYER_ND_GZIP = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
OCI_LAYER_ND_ZSTD = "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"

MANIFEST_TYPES = (DOCKER_MANIFEST, OCI_MANIFEST)
INDEX_TYPES = (DOCKER_MANIFEST_LIST, OCI_INDEX)
CONFIG_TYPES = (DOCKER_CONFIG, OCI_CONFIG)
# The Accept list Docker sends for manifests (schema1 is not supported here).
MANIFEST_ACCEPT = (DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_MANIFEST, OCI_INDEX)

_LAYER_COMPRESSION = {
    DOCKER_LAYER: "none", DOCKER_LAYER_GZIP: "gzip", DOCKER_LAYER_ZSTD: "zstd",
    DOCKER_FOREIGN_LAYER: "none", DOCKER_FOREIGN_LAYER_GZIP: "gzip",
    OCI_LAYER: "none", OCI_LAYER_GZIP: "gzip", OCI_LAYER_ZSTD: "zstd",
    OCI_LAYER_ND: "none", OCI_LAYER_ND_GZIP: "gzip", OCI_LAYER_ND_ZSTD: "zstd",
}
_FOREIGN = {DOCKER_FOREIGN_LAYER, DOCKER_FOREIGN_LAYER_GZIP, OCI_LAYER_ND, OCI_LAYER_ND_GZIP, OCI_LAYER_ND_ZSTD}

# --- limits ----------------------------------------------------------------

MAX_MANIFEST_SIZE = 4 << 20
MAX_CONFIG_SIZE = 8 << 20
MAX_DEPTH = 64
MAX_LAYERS = 1000
MAX_INDEX_ENTRIES = 10000
MAX_BLOB_SIZE = (1 << 63) - 1


def is_layer(media_type: str) -> bool:
    return media_type in _LAYER_COMPRESSION


def is_foreign_layer(media_type: str) -> bool:
    """Foreign (Docker) or non-distributable (OCI) layers, which are not pushed."""
    return media_type in _FOREIGN


def layer_compression(media_type: str) -> str:
    """'none', 'gzip' or 'zstd' for a layer media type; ValueError otherwise."""
    try:
        return _LAYER_COMPRESSION[media_type]
    except KeyError:
        raise SpecError(f"unsupported layer media type: {media_type!r}") from None


# --- errors ----------------------------------------------------------------


class SpecError(ValueError):
    """A document does not follow the image spec."""


class ManifestInvalid(SpecError):
    """A manifest, manifest list or index is malformed."""


class ConfigInvalid(SpecError):
    """An image configuration is malformed."""


# --- JSON helpers ----------------------------------------------------------


def _reject_constant(name: str):
    raise ValueError(f"invalid JSON number {name}")


def _no_duplicates(pairs):
    out = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate key {k!r}")
        out[k] = v
    return out


def _check_depth(obj: Any, limit: int) -> None:
    stack = [(obj, 1)]
    while stack:
        o, d = stack.pop()
        if d > limit:
            raise ValueError(f"nested deeper than {limit} levels")
        if isinstance(o, dict):
            stack.extend((v, d + 1) for v in o.values())
        elif isinstance(o, list):
            stack.extend((v, d + 1) for v in o)


def load_json(data: bytes | str | dict, what: str, err: type[SpecError], limit: int) -> dict:
    """Decode a JSON object with the hostile-input guards of this module."""
    if isinstance(data, dict):
        obj = data
    else:
        if isinstance(data, str):
            data = data.encode()
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise err(f"{what}: expected bytes or a JSON object, got {type(data).__name__}")
        if len(data) > limit:
            raise err(f"{what}: {len(data)} bytes exceeds the limit of {limit} bytes")
        try:
            obj = json.loads(bytes(data).decode("utf-8"), object_pairs_hook=_no_duplicates,
                             parse_constant=_reject_constant)
        except RecursionError:
            raise err(f"{what}: JSON nested too deeply") from None
        except (UnicodeDecodeError, ValueError) as e:
            raise err(f"{what}: invalid JSON: {e}") from None
    try:
        _check_depth(obj, MAX_DEPTH)
    except ValueError as e:
        raise err(f"{what}: {e}") from None
    if not isinstance(obj, dict):
        raise err(f"{what}: expected a JSON object, got {_tname(obj)}")
    return obj


def dump_json(obj: dict) -> bytes:
    """Canonical bytes: sorted keys, no insignificant whitespace, UTF-8."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _tname(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    if isinstance(v, dict):
        return "object"
    return type(v).__name__


class _Fields:
    """Typed access to the fields of one JSON object; records which were read."""

    def __init__(self, d: Any, where: str, err: type[SpecError]):
        if not isinstance(d, dict):
            raise err(f"{where}: expected an object, got {_tname(d)}")
        self.d, self.where, self.err, self.used = d, where, err, set()

    def fail(self, key: str, msg: str):
        raise self.err(f"{self.where}.{key}: {msg}")

    def get(self, key: str, required: bool = False) -> Any:
        self.used.add(key)
        v = self.d.get(key)
        if v is None and required:
            self.fail(key, "required field is missing")
        return v

    def str(self, key: str, required: bool = False) -> str | None:
        v = self.get(key, required)
        if v is not None and not isinstance(v, str):
            self.fail(key, f"expected a string, got {_tname(v)}")
        return v

    def int(self, key: str, required: bool = False, lo: int = 0, hi: int = MAX_BLOB_SIZE) -> int | None:
        v = self.get(key, required)
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, int):
            self.fail(key, f"expected an integer, got {_tname(v)}")
        if not lo <= v <= hi:
            self.fail(key, f"{v} is out of range [{lo}, {hi}]")
        return v

    def bool(self, key: str) -> bool | None:
        v = self.get(key)
        if v is not None and not isinstance(v, bool):
            self.fail(key, f"expected a boolean, got {_tname(v)}")
        return v

    def strs(self, key: str, str_ok: bool = False) -> list[str] | None:
        v = self.get(key)
        if v is None:
            return None
        if str_ok and isinstance(v, str):  # Docker's strslice accepts a bare string
            return [v]
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            self.fail(key, "expected an array of strings")
        return list(v)

    def str_map(self, key: str) -> dict[str, str] | None:
        v = self.get(key)
        if v is None:
            return None
        if not isinstance(v, dict) or not all(isinstance(x, str) for x in v.values()):
            self.fail(key, "expected an object of strings")
        return dict(v)

    def set_map(self, key: str) -> dict[str, dict] | None:
        """Go's map[string]struct{}: an object whose values are objects (usually {})."""
        v = self.get(key)
        if v is None:
            return None
        if not isinstance(v, dict) or not all(isinstance(x, dict) for x in v.values()):
            self.fail(key, "expected an object of objects")
        return {k: dict(x) for k, x in v.items()}

    def digest(self, key: str, required: bool = False) -> str | None:
        v = self.str(key, required)
        if v is not None:
            try:
                dg.validate(v)
            except dg.DigestError as e:
                self.fail(key, str(e))
        return v

    def list(self, key: str, limit: int, required: bool = False) -> list | None:
        v = self.get(key, required)
        if v is None:
            return None
        if not isinstance(v, list):
            self.fail(key, f"expected an array, got {_tname(v)}")
        if len(v) > limit:
            self.fail(key, f"{len(v)} entries exceed the limit of {limit}")
        return v

    def extra(self) -> dict:
        return {k: v for k, v in self.d.items() if k not in self.used}


def _put(out: dict, key: str, value: Any) -> None:
    if value is not None:
        out[key] = value


# --- types -----------------------------------------------------------------


@dataclass
class Platform:
    os: str
    architecture: str
    variant: str = ""
    os_version: str = ""
    os_features: list[str] | None = None
    features: list[str] | None = None
    extra: dict = field(default_factory=dict)

    @classmethod
    def parse_obj(cls, d: Any, where: str, err: type[SpecError]) -> "Platform":
        f = _Fields(d, where, err)
        p = cls(os=f.str("os", True), architecture=f.str("architecture", True),
                variant=f.str("variant") or "", os_version=f.str("os.version") or "",
                os_features=f.strs("os.features"), features=f.strs("features"))
        p.extra = f.extra()
        return p

    @classmethod
    def from_json(cls, data: bytes | dict) -> "Platform":
        return cls.parse_obj(load_json(data, "platform", ManifestInvalid, MAX_MANIFEST_SIZE), "platform", ManifestInvalid)

    def to_dict(self) -> dict:
        out = dict(self.extra)
        out["architecture"] = self.architecture
        out["os"] = self.os
        _put(out, "os.version", self.os_version or None)
        _put(out, "os.features", self.os_features)
        _put(out, "variant", self.variant or None)
        _put(out, "features", self.features)
        return out

    def to_json(self) -> bytes:
        return dump_json(self.to_dict())

    def __str__(self) -> str:
        return "/".join(x for x in (self.os, self.architecture, self.variant) if x)


@dataclass
class Descriptor:
    media_type: str
    digest: str
    size: int
    urls: list[str] | None = None
    annotations: dict[str, str] | None = None
    platform: Platform | None = None
    artifact_type: str | None = None
    data: str | None = None
    extra: dict = field(default_factory=dict)

    @classmethod
    def parse_obj(cls, d: Any, where: str, err: type[SpecError]) -> "Descriptor":
        f = _Fields(d, where, err)
        desc = cls(media_type=f.str("mediaType", True), digest=f.digest("digest", True),
                   size=f.int("size", True), urls=f.strs("urls"), annotations=f.str_map("annotations"),
                   artifact_type=f.str("artifactType"), data=f.str("data"))
        plat = f.get("platform")
        if plat is not None:
            desc.platform = Platform.parse_obj(plat, f"{where}.platform", err)
        if desc.data is not None:
            try:
                raw = base64.b64decode(desc.data, validate=True)
            except (binascii.Error, ValueError):
                f.fail("data", "invalid base64")
            if len(raw) != desc.size or dg.of_bytes(raw, dg.parse(desc.digest)[0]) != desc.digest:
                f.fail("data", "embedded data does not match the digest and size")
        desc.extra = f.extra()
        return desc

    @classmethod
    def from_json(cls, data: bytes | dict) -> "Descriptor":
        return cls.parse_obj(load_json(data, "descriptor", ManifestInvalid, MAX_MANIFEST_SIZE), "descriptor", ManifestInvalid)

    def to_dict(self) -> dict:
        out = dict(self.extra)
        out["mediaType"] = self.media_type
        out["digest"] = self.digest
        out["size"] = self.size
        _put(out, "urls", self.urls)
        _put(out, "annotations", self.annotations)
        _put(out, "data", self.data)
        _put(out, "platform", self.platform.to_dict() if self.platform else None)
        _put(out, "artifactType", self.artifact_type)
        return out

    def to_json(self) -> bytes:
        return dump_json(self.to_dict())


def _schema_version(f: _Fields) -> int:
    v = f.int("schemaVersion", True, lo=0, hi=1 << 31)
    if v == 1:
        raise f.err(f"{f.where}: Docker Image manifest version 2, schema 1 is not supported")
    if v != 2:
        f.fail("schemaVersion", f"unsupported schema version {v}")
    return v


@dataclass
class Manifest:
    """An image manifest (Docker schema2 or OCI); media_type None means OCI without the field."""

    config: Descriptor
    layers: list[Descriptor]
    media_type: str | None = OCI_MANIFEST
    schema_version: int = 2
    subject: Descriptor | None = None
    annotations: dict[str, str] | None = None
    artifact_type: str | None = None
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: bytes | dict) -> "Manifest":
        d = load_json(data, "manifest", ManifestInvalid, MAX_MANIFEST_SIZE)
        f = _Fields(d, "manifest", ManifestInvalid)
        sv = _schema_version(f)
        mt = f.str("mediaType")
        if mt is not None and mt not in MANIFEST_TYPES:
            f.fail("mediaType", f"not an image manifest: {mt!r}")
        if "manifests" in d:
            raise ManifestInvalid("manifest: has a 'manifests' field, which belongs to an index")
        config = Descriptor.parse_obj(f.get("config", True), "manifest.config", ManifestInvalid)
        layers = [Descriptor.parse_obj(x, f"manifest.layers[{i}]", ManifestInvalid)
                  for i, x in enumerate(f.list("layers", MAX_LAYERS, True))]
        subject = f.get("subject")
        m = cls(config=config, layers=layers, media_type=mt, schema_version=sv,
                subject=Descriptor.parse_obj(subject, "manifest.subject", ManifestInvalid) if subject is not None else None,
                annotations=f.str_map("annotations"), artifact_type=f.str("artifactType"))
        m.extra = f.extra()
        return m

    @property
    def content_type(self) -> str:
        return self.media_type or OCI_MANIFEST

    def to_dict(self) -> dict:
        out = dict(self.extra)
        out["schemaVersion"] = self.schema_version
        _put(out, "mediaType", self.media_type)
        _put(out, "artifactType", self.artifact_type)
        out["config"] = self.config.to_dict()
        out["layers"] = [x.to_dict() for x in self.layers]
        _put(out, "subject", self.subject.to_dict() if self.subject else None)
        _put(out, "annotations", self.annotations)
        return out

    def to_json(self) -> bytes:
        return dump_json(self.to_dict())


@dataclass
class Index:
    """A Docker manifest list or an OCI image index."""

    manifests: list[Descriptor]
    media_type: str | None = OCI_INDEX
    schema_version: int = 2
    subject: Descriptor | None = None
    annotations: dict[str, str] | None = None
    artifact_type: str | None = None
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: bytes | dict) -> "Index":
        d = load_json(data, "index", ManifestInvalid, MAX_MANIFEST_SIZE)
        f = _Fields(d, "index", ManifestInvalid)
        sv = _schema_version(f)
        mt = f.str("mediaType")
        if mt is not None and mt not in INDEX_TYPES:
            f.fail("mediaType", f"not an index: {mt!r}")
        if "layers" in d or "config" in d:
            raise ManifestInvalid("index: has 'config' or 'layers' fields, which belong to a manifest")
        manifests = [Descriptor.parse_obj(x, f"index.manifests[{i}]", ManifestInvalid)
                     for i, x in enumerate(f.list("manifests", MAX_INDEX_ENTRIES, True))]
        subject = f.get("subject")
        ix = cls(manifests=manifests, media_type=mt, schema_version=sv,
                 subject=Descriptor.parse_obj(subject, "index.subject", ManifestInvalid) if subject is not None else None,
                 annotations=f.str_map("annotations"), artifact_type=f.str("artifactType"))
        ix.extra = f.extra()
        return ix

    @property
    def content_type(self) -> str:
        return self.media_type or OCI_INDEX

    def to_dict(self) -> dict:
        out = dict(self.extra)
        out["schemaVersion"] = self.schema_version
        _put(out, "mediaType", self.media_type)
        _put(out, "artifactType", self.artifact_type)
        out["manifests"] = [x.to_dict() for x in self.manifests]
        _put(out, "subject", self.subject.to_dict() if self.subject else None)
        _put(out, "annotations", self.annotations)
        return out

    def to_json(self) -> bytes:
        return dump_json(self.to_dict())


def parse_manifest(data: bytes | dict, content_type: str | None = None) -> Manifest | Index:
    """Parse a manifest or index, choosing the type from mediaType, then Content-Type, then shape."""
    d = load_json(data, "manifest", ManifestInvalid, MAX_MANIFEST_SIZE)
    mt = d.get("mediaType")
    if d.get("schemaVersion") == 1 or content_type in (DOCKER_MANIFEST_V1, DOCKER_MANIFEST_V1_SIGNED):
        raise ManifestInvalid("manifest: Docker Image manifest version 2, schema 1 is not supported")
    kind = mt if isinstance(mt, str) else None
    if kind is None and content_type:
        kind = content_type.split(";")[0].strip()
    if kind in INDEX_TYPES or (kind not in MANIFEST_TYPES and "manifests" in d):
        return Index.from_json(d)
    if kind in MANIFEST_TYPES or "config" in d or "layers" in d:
        return Manifest.from_json(d)
    raise ManifestInvalid(f"manifest: unsupported manifest media type {kind!r}")


@dataclass
class HealthConfig:
    test: list[str] | None = None
    interval: int | None = None
    timeout: int | None = None
    start_period: int | None = None
    start_interval: int | None = None
    retries: int | None = None
    extra: dict = field(default_factory=dict)

    _KEYS = (("interval", "Interval"), ("timeout", "Timeout"), ("start_period", "StartPeriod"),
             ("start_interval", "StartInterval"))

    @classmethod
    def parse_obj(cls, d: Any, where: str) -> "HealthConfig":
        f = _Fields(d, where, ConfigInvalid)
        h = cls(test=f.strs("Test"), retries=f.int("Retries", hi=1 << 31))
        for attr, key in cls._KEYS:  # durations in nanoseconds
            setattr(h, attr, f.int(key))
        h.extra = f.extra()
        return h

    def to_dict(self) -> dict:
        out = dict(self.extra)
        _put(out, "Test", self.test)
        for attr, key in self._KEYS:
            _put(out, key, getattr(self, attr))
        _put(out, "Retries", self.retries)
        return out


@dataclass
class ContainerConfig:
    """The ``config`` part of an image configuration (run defaults)."""

    user: str | None = None
    exposed_ports: dict[str, dict] | None = None
    env: list[str] | None = None
    entrypoint: list[str] | None = None
    cmd: list[str] | None = None
    volumes: dict[str, dict] | None = None
    working_dir: str | None = None
    labels: dict[str, str] | None = None
    stop_signal: str | None = None
    args_escaped: bool | None = None
    healthcheck: HealthConfig | None = None
    on_build: list[str] | None = None
    shell: list[str] | None = None
    extra: dict = field(default_factory=dict)

    @classmethod
    def parse_obj(cls, d: Any, where: str) -> "ContainerConfig":
        f = _Fields(d, where, ConfigInvalid)
        c = cls(user=f.str("User"), exposed_ports=f.set_map("ExposedPorts"), env=f.strs("Env"),
                entrypoint=f.strs("Entrypoint", str_ok=True), cmd=f.strs("Cmd", str_ok=True),
                volumes=f.set_map("Volumes"), working_dir=f.str("WorkingDir"), labels=f.str_map("Labels"),
                stop_signal=f.str("StopSignal"), args_escaped=f.bool("ArgsEscaped"),
                on_build=f.strs("OnBuild"), shell=f.strs("Shell", str_ok=True))
        hc = f.get("Healthcheck")
        if hc is not None:
            c.healthcheck = HealthConfig.parse_obj(hc, f"{where}.Healthcheck")
        for e in c.env or ():
            if not e or e.startswith("="):
                raise ConfigInvalid(f"{where}.Env: invalid entry {e!r} (expected NAME=VALUE)")
        c.extra = f.extra()
        return c

    def to_dict(self) -> dict:
        out = dict(self.extra)
        for key, val in (("User", self.user), ("ExposedPorts", self.exposed_ports), ("Env", self.env),
                         ("Entrypoint", self.entrypoint), ("Cmd", self.cmd), ("Volumes", self.volumes),
                         ("WorkingDir", self.working_dir), ("Labels", self.labels),
                         ("StopSignal", self.stop_signal), ("ArgsEscaped", self.args_escaped),
                         ("OnBuild", self.on_build), ("Shell", self.shell)):
            _put(out, key, val)
        _put(out, "Healthcheck", self.healthcheck.to_dict() if self.healthcheck else None)
        return out


@dataclass
class History:
    created: str | None = None
    created_by: str | None = None
    author: str | None = None
    comment: str | None = None
    empty_layer: bool | None = None
    extra: dict = field(default_factory=dict)

    @classmethod
    def parse_obj(cls, d: Any, where: str) -> "History":
        f = _Fields(d, where, ConfigInvalid)
        h = cls(created=f.str("created"), created_by=f.str("created_by"), author=f.str("author"),
                comment=f.str("comment"), empty_layer=f.bool("empty_layer"))
        h.extra = f.extra()
        return h

    def to_dict(self) -> dict:
        out = dict(self.extra)
        for key in ("created", "created_by", "author", "comment", "empty_layer"):
            _put(out, key, getattr(self, key))
        return out


@dataclass
class RootFS:
    diff_ids: list[str]
    type: str = "layers"
    extra: dict = field(default_factory=dict)

    @classmethod
    def parse_obj(cls, d: Any, where: str) -> "RootFS":
        f = _Fields(d, where, ConfigInvalid)
        typ = f.str("type", True)
        if typ != "layers":
            f.fail("type", f"unsupported rootfs type {typ!r} (expected 'layers')")
        ids = f.list("diff_ids", MAX_LAYERS) or []
        for i, x in enumerate(ids):
            if not isinstance(x, str):
                f.fail(f"diff_ids[{i}]", "expected a digest string")
            try:
                dg.validate(x)
            except dg.DigestError as e:
                f.fail(f"diff_ids[{i}]", str(e))
        r = cls(diff_ids=list(ids), type=typ)
        r.extra = f.extra()
        return r

    def to_dict(self) -> dict:
        out = dict(self.extra)
        out["type"] = self.type
        out["diff_ids"] = list(self.diff_ids)
        return out


@dataclass
class ImageConfig:
    """An image configuration (Docker image JSON v1.2 / OCI config)."""

    architecture: str
    os: str
    rootfs: RootFS
    config: ContainerConfig | None = None
    created: str | None = None
    author: str | None = None
    variant: str | None = None
    os_version: str | None = None
    os_features: list[str] | None = None
    history: list[History] | None = None
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: bytes | dict) -> "ImageConfig":
        d = load_json(data, "image config", ConfigInvalid, MAX_CONFIG_SIZE)
        f = _Fields(d, "config", ConfigInvalid)
        ic = cls(architecture=f.str("architecture") or "", os=f.str("os") or "",
                 rootfs=RootFS.parse_obj(f.get("rootfs", True), "config.rootfs"),
                 created=f.str("created"), author=f.str("author"), variant=f.str("variant"),
                 os_version=f.str("os.version"), os_features=f.strs("os.features"))
        cfg = f.get("config")
        if cfg is not None:
            ic.config = ContainerConfig.parse_obj(cfg, "config.config")
        hist = f.list("history", 10 * MAX_LAYERS)
        if hist is not None:
            ic.history = [History.parse_obj(h, f"config.history[{i}]") for i, h in enumerate(hist)]
            non_empty = sum(1 for h in ic.history if not h.empty_layer)
            if non_empty > len(ic.rootfs.diff_ids) and ic.rootfs.diff_ids:
                raise ConfigInvalid(f"config.history: {non_empty} non-empty entries but "
                                    f"{len(ic.rootfs.diff_ids)} layers in rootfs.diff_ids")
        ic.extra = f.extra()
        return ic

    @property
    def platform(self) -> Platform:
        return Platform(os=self.os, architecture=self.architecture, variant=self.variant or "",
                        os_version=self.os_version or "")

    def to_dict(self) -> dict:
        out = dict(self.extra)
        out["architecture"] = self.architecture
        out["os"] = self.os
        out["rootfs"] = self.rootfs.to_dict()
        _put(out, "config", self.config.to_dict() if self.config else None)
        for key, val in (("created", self.created), ("author", self.author), ("variant", self.variant),
                         ("os.version", self.os_version), ("os.features", self.os_features)):
            _put(out, key, val)
        _put(out, "history", [h.to_dict() for h in self.history] if self.history is not None else None)
        return out

    def to_json(self) -> bytes:
        return dump_json(self.to_dict())
