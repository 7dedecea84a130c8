"""``docker load``: docker-archive tars (Docker 20.10 and 25+ styles) and OCI image layouts.

Everything is verified before any image is registered: config digests, layer
diff IDs, blob digests and sizes. On any error the blobs this load wrote are
removed again (unless another image uses them) and no image or tag changes.
Returns Docker's progress lines (``Loaded image: busybox:latest``).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, BinaryIO

from dockyard.spec import image as spec

from . import compose, gc, layerio, reference, safetar
from .content import ContentError
from .errors import ImageError, InvalidImage
from .safetar import ArchiveError
from .store import parse_ref

if TYPE_CHECKING:
    from .store import ImageStore, Lease

MAX_INDEX_JSON = 4 << 20
MAX_MANIFEST_JSON = 4 << 20
ANNOTATION_IMAGE_NAME = "io.containerd.image.name"
ANNOTATION_REF_NAME = "org.opencontainers.image.ref.name"
_BLOB_PATH = re.compile(r"^blobs/(sha256|sha512)/([0-9a-f]+)$")


@dataclass
class _Planned:
    config_digest: str
    manifest_digest: str = ""
    tags: list[reference.Reference] = field(default_factory=list)
    index_digest: str | None = None


def _json(data: bytes, what: str):
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise ArchiveError(f"invalid {what} in image archive: {e}") from None


def _tag_refs(names, what: str) -> list[reference.Reference]:
    out = []
    for t in names or []:
        if not isinstance(t, str):
            raise ArchiveError(f"invalid {what}: RepoTags must be strings")
        try:
            ref = parse_ref(t)
        except ImageError as e:
            raise ArchiveError(f"invalid {what}: {e}") from None
        if ref.digest:
            raise ArchiveError(f"invalid {what}: {t!r} is a digest reference, not a tag")
        out.append(ref)
    return out


class _Loader:
    def __init__(self, store: "ImageStore", root: str, lease: "Lease"):
        self.store, self.root, self.lease = store, root, lease
        self.written: set[str] = set()
        self._layer_cache: dict[str, compose.LayerBlob] = {}

    def _keep(self, digest: str) -> None:
        self.lease.add(digest)
        self.written.add(digest)

    # -- docker-archive -------------------------------------------------------

    def docker_archive(self) -> list[_Planned]:
        items = _json(safetar.read_inside(self.root, "manifest.json", MAX_MANIFEST_JSON), "manifest.json")
        if not isinstance(items, list):
            raise ArchiveError("invalid manifest.json in image archive: expected a list")
        if len(items) > 10_000:
            raise ArchiveError("invalid manifest.json in image archive: too many images")
        plans = []
        for n, item in enumerate(items):
            what = f"manifest.json entry {n}"
            if not isinstance(item, dict) or not isinstance(item.get("Config"), str) \
                    or not isinstance(item.get("Layers"), list) or not all(isinstance(x, str) for x in item["Layers"]):
                raise ArchiveError(f"invalid {what}: needs Config (string) and Layers (list of strings)")
            tags = _tag_refs(item.get("RepoTags"), what)
            cfg_bytes = safetar.read_inside(self.root, item["Config"], spec.MAX_CONFIG_SIZE)
            cfg_digest = "sha256:" + hashlib.sha256(cfg_bytes).hexdigest()
            self._check_named(item["Config"], cfg_digest, cfg_bytes)
            try:
                cfg = spec.ImageConfig.from_json(cfg_bytes)
            except spec.SpecError as e:
                raise ArchiveError(f"invalid image config {item['Config']!r}: {e}") from None
            diff_ids = cfg.rootfs.diff_ids
            if len(diff_ids) != len(item["Layers"]):
                raise ArchiveError(f"invalid {what}: {len(item['Layers'])} layers but the config lists "
                                   f"{len(diff_ids)} diff_ids")
            layers = []
            for i, (path, diff_id) in enumerate(zip(item["Layers"], diff_ids)):
                blob = self._docker_layer(path, f"layer {i} ({path})")
                if blob.diff_id != diff_id:
                    raise ArchiveError(f"layer {i} ({path}): content digest {blob.diff_id} does not match the "
                                       f"config's diff_id {diff_id}")
                layers.append(blob)
            self.store.content.put_bytes(cfg_bytes)
            self._keep(cfg_digest)
            for x in layers:
                self.store.record_layer(x.digest, x.media_type, x.diff_id, x.unpacked_size)
            man = compose.manifest_for(cfg_digest, len(cfg_bytes), layers).to_json()
            man_digest = self.store.content.put_bytes(man)
            self._keep(man_digest)
            plans.append(_Planned(cfg_digest, man_digest, tags))
        return plans

    def _check_named(self, path: str, digest: str, data: bytes | None = None) -> None:
        """A file named by its digest (``<hex>.json``, ``blobs/sha256/<hex>``) must have that digest."""
        name = safetar.clean_name(path)
        m = _BLOB_PATH.match(name)
        if m:
            algo, hexpart = m.groups()
            if data is not None and algo != "sha256":
                digest = f"{algo}:" + hashlib.new(algo, data).hexdigest()
            if digest != f"{algo}:{hexpart}":
                raise ArchiveError(f"{path!r} in image archive: content digest {digest} does not match its name")
            return
        base = name.rsplit("/", 1)[-1]
        if re.fullmatch(r"[0-9a-f]{64}\.json", base) and digest != "sha256:" + base[:-5]:
            raise ArchiveError(f"{path!r} in image archive: content digest {digest} does not match its name")

    def _docker_layer(self, path: str, what: str) -> compose.LayerBlob:
        real = safetar.resolve_inside(self.root, path)
        if real in self._layer_cache:
            return self._layer_cache[real]
        with safetar.open_inside(self.root, path) as f:
            raw = layerio.HashingReader(f)
            try:
                blob = compose.store_layer_tar(self.store.content, raw, what, lease=self.lease)
            except layerio.LayerError as e:
                raise ArchiveError(str(e)) from None
            raw.drain()
        self.written.add(blob.digest)
        self._check_named(path, raw.digest)
        self._layer_cache[real] = blob
        return blob

    # -- OCI layout -------------------------------------------------------------

    def _blob(self, desc: spec.Descriptor, limit: int | None = None) -> bytes | None:
        """Copy a blob into the content store, verifying digest and size; returns it if ``limit``."""
        algo, hexpart = desc.digest.split(":", 1)
        rel = f"blobs/{algo}/{hexpart}"
        if limit is not None and desc.size > limit:
            raise ArchiveError(f"blob {desc.digest}: {desc.size} bytes exceeds the limit of {limit}")
        if not self.store.content.has(desc.digest):
            with safetar.open_inside(self.root, rel) as f:
                try:
                    self.store.content.put_file(f, expected=desc.digest, size=desc.size)
                except ContentError as e:
                    raise ArchiveError(f"blob {desc.digest} in image archive: {e}") from None
        elif self.store.content.size(desc.digest) != desc.size:
            raise ArchiveError(f"blob {desc.digest}: descriptor size {desc.size} does not match the content")
        self._keep(desc.digest)
        return self.store.content.read(desc.digest) if limit is not None else None

    def oci_layout(self, tag: str | None) -> list[_Planned]:
        try:
            layout = json.loads(safetar.read_inside(self.root, "oci-layout", 4096))
        except ValueError:
            raise ArchiveError("invalid oci-layout file in image archive") from None
        if not isinstance(layout, dict) or "imageLayoutVersion" not in layout:
            raise ArchiveError("invalid oci-layout file in image archive: no imageLayoutVersion")
        try:
            index = spec.Index.from_json(safetar.read_inside(self.root, "index.json", MAX_INDEX_JSON))
        except spec.SpecError as e:
            raise ArchiveError(f"invalid index.json in image archive: {e}") from None
        plans: dict[str, _Planned] = {}
        for desc in index.manifests:
            names = self._oci_names(desc, tag if len(index.manifests) == 1 else None)
            index_digest = None
            if desc.media_type in spec.INDEX_TYPES:
                from . import platform

                nested = self._parse(self._blob(desc, spec.MAX_MANIFEST_SIZE), desc)
                if not isinstance(nested, spec.Index):
                    raise ArchiveError(f"blob {desc.digest} is not an index")
                try:
                    chosen = platform.select(nested)
                except platform.PlatformError as e:
                    raise ArchiveError(f"index {desc.digest}: {e}") from None
                index_digest, desc = desc.digest, chosen
            if desc.media_type not in spec.MANIFEST_TYPES:
                continue  # attestations, artifacts: not images
            m = self._parse(self._blob(desc, spec.MAX_MANIFEST_SIZE), desc)
            if not isinstance(m, spec.Manifest):
                raise ArchiveError(f"blob {desc.digest} is not an image manifest")
            if m.config.media_type not in spec.CONFIG_TYPES:
                continue
            self._blob(m.config, spec.MAX_CONFIG_SIZE)
            for layer in m.layers:
                if not spec.is_layer(layer.media_type):
                    raise ArchiveError(f"manifest {desc.digest}: unsupported layer media type {layer.media_type!r}")
                self._blob(layer)
                st = self.store.layer_stats(layer)  # scans: diff IDs are checked by add below, cached here
                if st is None:
                    raise ArchiveError(f"layer {layer.digest} is missing from the image archive")
                self.store.record_layer(layer.digest, layer.media_type, st.diff_id, st.unpacked_size)
            try:
                cfg = spec.ImageConfig.from_json(self.store.content.read(m.config.digest))
            except spec.SpecError as e:
                raise ArchiveError(f"invalid image config {m.config.digest}: {e}") from None
            if len(cfg.rootfs.diff_ids) != len(m.layers):
                raise ArchiveError(f"manifest {desc.digest}: {len(m.layers)} layers but the config lists "
                                   f"{len(cfg.rootfs.diff_ids)} diff_ids")
            for layer, diff_id in zip(m.layers, cfg.rootfs.diff_ids):
                got = self.store.layer_stats(layer)
                if got and got.diff_id != diff_id:
                    raise ArchiveError(f"layer {layer.digest}: content digest {got.diff_id} does not match the "
                                       f"config's diff_id {diff_id}")
            p = plans.setdefault(desc.digest, _Planned(m.config.digest, desc.digest, [], index_digest))
            p.tags.extend(r for r in names if r not in p.tags)
        if not plans:
            raise ArchiveError("image archive contains no image manifests")
        return list(plans.values())

    @staticmethod
    def _parse(data: bytes, desc: spec.Descriptor):
        try:
            return spec.parse_manifest(data, desc.media_type)
        except spec.SpecError as e:
            raise ArchiveError(f"blob {desc.digest}: {e}") from None

    @staticmethod
    def _oci_names(desc: spec.Descriptor, tag: str | None) -> list[reference.Reference]:
        ann = desc.annotations or {}
        name = ann.get(ANNOTATION_IMAGE_NAME)
        if not name:
            ref_name = ann.get(ANNOTATION_REF_NAME, "")
            if ref_name and (":" in ref_name or "/" in ref_name):  # a bare "latest" names no repository
                name = ref_name
        if not name:
            name = tag
        return _tag_refs([name] if name else [], f"annotation of {desc.digest}")


def _tmp_root(store: "ImageStore") -> str:
    d = store.root / "tmp"
    d.mkdir(exist_ok=True)
    return str(d)


def load(store: "ImageStore", src: BinaryIO | str | os.PathLike, tag: str | None = None) -> list[str]:
    """Load images from an archive stream, an archive file or an OCI layout directory.

    ``tag`` names an OCI layout's single image when its index carries no name.
    """
    if isinstance(src, (str, os.PathLike)):
        if os.path.isdir(src):
            return _load_root(store, os.fspath(src), tag)
        with open(src, "rb") as f:
            return load(store, f, tag)
    with tempfile.TemporaryDirectory(prefix="load-", dir=_tmp_root(store)) as tmp:
        try:
            stream = layerio.auto_decompressed(src)
        except (OSError, ValueError) as e:
            raise ArchiveError(f"invalid image archive: {e}") from None
        try:
            safetar.extract(stream, tmp)
        except (OSError, EOFError, ValueError) as e:
            if isinstance(e, ArchiveError):
                raise
            raise ArchiveError(f"invalid image archive: {e}") from None
        return _load_root(store, tmp, tag)


def _load_root(store: "ImageStore", root: str, tag: str | None) -> list[str]:
    has = lambda name: os.path.lexists(os.path.join(root, name))  # noqa: E731
    written: set[str] = set()
    try:
        with store.lease() as lease:
            loader = _Loader(store, root, lease)
            try:
                if has("manifest.json"):
                    plans = loader.docker_archive()
                elif has("index.json"):
                    plans = loader.oci_layout(tag)
                elif has("repositories"):
                    raise ArchiveError("legacy (Docker < 1.10) image archives without manifest.json are not supported")
                else:
                    raise ArchiveError("invalid image archive: no manifest.json or index.json found")
            finally:
                written = loader.written
            return _register(store, plans)
    except BaseException:
        if written:
            with store.db.write() as c:
                gc._delete_blobs(store, c, written)
        raise


def _register(store: "ImageStore", plans: list[_Planned]) -> list[str]:
    lines = []
    for p in plans:
        for ref in p.tags:
            try:
                old = store.resolve(str(ref))
            except ImageError:
                old = None
            if old and old != p.config_digest and str(ref) in {str(r) for r in store.references(old)}:
                lines.append(f"The image {ref.familiar()} already exists, renaming the old one with ID {old} "
                             f"to empty string")
        try:
            store.add(p.manifest_digest, tags=[str(r) for r in p.tags], index_digest=p.index_digest)
        except InvalidImage as e:
            raise ArchiveError(f"image {p.config_digest}: {e}") from None
        if p.tags:
            lines.extend(f"Loaded image: {r.familiar()}" for r in p.tags)
        else:
            lines.append(f"Loaded image ID: {p.config_digest}")
    return lines
