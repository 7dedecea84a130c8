"""``docker save``: images to a docker-archive tar.

Two layouts, both readable by ``docker load`` and skopeo's ``docker-archive:``:

* ``"docker"`` (Docker 20.10): ``<v1id>/{VERSION,json,layer.tar}`` per layer,
  ``<config hex>.json``, ``manifest.json`` and ``repositories``. A diff ID
  already written for another v1 ID becomes a symlink to that ``layer.tar``.
* ``"oci"`` (Docker 25+): an OCI image layout (``oci-layout``, ``index.json``,
  ``blobs/sha256/...``) plus ``manifest.json`` and ``repositories``.

Layers are written uncompressed; stored gzip/zstd layers are decompressed
(into a temporary file, as the tar header needs the size first) and checked
against their diff IDs.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, BinaryIO, Iterable

from dockyard.spec import image as spec

from . import gojson, layerio, reference, timeutil, views
from .errors import ImageNotFound, InvalidArgument, InvalidImage

if TYPE_CHECKING:
    from .model import Image, LayerRef
    from .store import ImageStore

ANNOTATION_IMAGE_NAME = "io.containerd.image.name"
ANNOTATION_REF_NAME = "org.opencontainers.image.ref.name"
EPOCH = "1970-01-01T00:00:00Z"


@dataclass
class _Selected:
    image: "Image"
    tags: list[reference.Reference] = field(default_factory=list)


def select(store: "ImageStore", names: Iterable[str]) -> list[_Selected]:
    """Images and tags to save, following Docker's rules for each name."""
    chosen: dict[str, _Selected] = {}

    def assoc(image_id: str, ref: reference.Reference | None) -> None:
        if image_id not in chosen:
            chosen[image_id] = _Selected(store.get(image_id))
        if ref is not None and not ref.digest and ref not in chosen[image_id].tags:
            chosen[image_id].tags.append(ref)

    for name in names:
        if not isinstance(name, str) or not name:
            raise InvalidArgument("save: empty image name")
        bare = name.removeprefix("sha256:")
        if reference.is_id(bare):
            assoc(store.resolve(name), None)
            continue
        try:
            ref = reference.parse(name)
        except reference.ReferenceError:
            assoc(store.resolve(name), None)  # an ID prefix, or a clear error
            continue
        if ref.familiar_name() == "sha256":
            assoc(store.resolve(name), None)
            continue
        if ref.tag is None and ref.digest is None:
            found = False
            for img in store.images():
                for r in store.references(img.id):
                    if r.name == ref.name:
                        assoc(img.id, r)
                        found = True
            if not found:
                assoc(store.resolve(name), None)
            continue
        assoc(store.resolve(name), ref)
    return list(chosen.values())


class _LayerFiles:
    """Uncompressed tars of layers, from the content store or decompressed to temp files."""

    def __init__(self, store: "ImageStore", stack: ExitStack):
        self.store, self.stack = store, stack
        self._tmp: dict[str, tuple[str, int]] = {}

    def get(self, layer: "LayerRef") -> tuple[str, int]:
        """(path, size) of the uncompressed tar of ``layer``."""
        if layer.diff_id in self._tmp:
            return self._tmp[layer.diff_id]
        if not self.store.content.has(layer.digest):
            raise InvalidImage(f"layer {layer.digest} is not in the content store (foreign layers cannot be saved)")
        comp = layerio.compression_of(layer.media_type)
        src = self.store.content.path(layer.digest)
        if comp == "none":
            res = (str(src), src.stat().st_size)
        else:
            tmpdir = self.stack.enter_context(tempfile.TemporaryDirectory(prefix="save-", dir=self._tmp_root()))
            dst = os.path.join(tmpdir, "layer.tar")
            h = hashlib.sha256()
            with open(src, "rb") as f, open(dst, "wb") as out:
                r = layerio.decompressed(f, comp)
                while True:
                    b = r.read(1 << 20)
                    if not b:
                        break
                    h.update(b)
                    out.write(b)
            if "sha256:" + h.hexdigest() != layer.diff_id:
                raise InvalidImage(f"layer {layer.digest}: uncompressed content does not match diff ID {layer.diff_id}")
            res = (dst, os.path.getsize(dst))
        self._tmp[layer.diff_id] = res
        return res

    def _tmp_root(self) -> str:
        d = self.store.root / "tmp"
        d.mkdir(exist_ok=True)
        return str(d)


def _v1_image(cfg: dict, top: bool) -> dict:
    """Docker's image.V1Image for one layer, in Go field order (id/parent added later)."""
    if not top:
        return {"created": EPOCH, "container_config": views.full_container_config(None)}
    v: dict = {}
    if cfg.get("comment"):
        v["comment"] = cfg["comment"]
    v["created"] = timeutil.normalize(cfg.get("created"))
    if cfg.get("container"):
        v["container"] = cfg["container"]
    v["container_config"] = views.full_container_config(cfg.get("container_config"))
    if cfg.get("docker_version"):
        v["docker_version"] = cfg["docker_version"]
    if cfg.get("author"):
        v["author"] = cfg["author"]
    if cfg.get("config") is not None:
        v["config"] = views.full_container_config(cfg["config"])
    if cfg.get("architecture"):
        v["architecture"] = cfg["architecture"]
    if cfg.get("variant"):
        v["variant"] = cfg["variant"]
    return v


def v1_layers(cfg: dict) -> list[tuple[str, bytes]]:
    """(v1 ID hex, ``json`` file bytes) for each layer, as Docker's save computes them."""
    diff_ids = (cfg.get("rootfs") or {}).get("diff_ids") or []
    chains = layerio.chain_ids(diff_ids)
    out = []
    parent = ""
    for i, chain in enumerate(chains):
        top = i == len(chains) - 1
        v = _v1_image(cfg, top)
        if top and cfg.get("os"):
            v["os"] = cfg["os"]  # the top layer's V1Image comes from the config, os included
        # v1.CreateID: that JSON (no id) plus layer_id and parent, re-encoded as a Go map (sorted keys)
        idsrc = dict(v, layer_id=chain)
        if parent:
            idsrc["parent"] = "sha256:" + parent
        v1id = hashlib.sha256(gojson.dumps(dict(sorted(idsrc.items())))).hexdigest()  # only the map is sorted
        final = {"id": v1id}
        if parent:
            final["parent"] = parent
        final.update(v)
        if cfg.get("os"):
            final.pop("os", None)
            final["os"] = cfg["os"]
        out.append((v1id, gojson.dumps(final)))
        parent = v1id
    return out


class _TarOut:
    def __init__(self, out: BinaryIO):
        self.tf = tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT)

    def _info(self, name: str, type_: bytes, mode: int, mtime: int, size: int = 0, link: str = "") -> tarfile.TarInfo:
        ti = tarfile.TarInfo(name)
        ti.type, ti.mode, ti.mtime, ti.size, ti.linkname = type_, mode, max(0, mtime), size, link
        ti.uname = ti.gname = ""
        return ti

    def dir(self, name: str, mtime: int) -> None:
        self.tf.addfile(self._info(name, tarfile.DIRTYPE, 0o755, mtime))

    def data(self, name: str, data: bytes, mtime: int) -> None:
        self.tf.addfile(self._info(name, tarfile.REGTYPE, 0o644, mtime, len(data)), io.BytesIO(data))

    def file(self, name: str, path: str, size: int, mtime: int) -> None:
        with open(path, "rb") as f:
            self.tf.addfile(self._info(name, tarfile.REGTYPE, 0o644, mtime, size), f)

    def symlink(self, name: str, target: str, mtime: int) -> None:
        self.tf.addfile(self._info(name, tarfile.SYMTYPE, 0o777, mtime, link=target))

    def close(self) -> None:
        self.tf.close()


def _encode_line(obj) -> bytes:
    """Go's json.Encoder.Encode: compact JSON and a newline."""
    return gojson.dumps(obj) + b"\n"


def save(store: "ImageStore", names: Iterable[str], out: BinaryIO, format: str = "docker") -> None:
    """Write the named images (IDs, references or repositories) as a docker-archive to ``out``."""
    if format not in ("docker", "oci"):
        raise InvalidArgument(f"save: unknown archive format {format!r} (docker or oci)")
    selected = select(store, names)
    if not selected:
        raise ImageNotFound("", "save: no images given")
    with ExitStack() as stack:
        layers = _LayerFiles(store, stack)
        for sel in selected:
            if not sel.image.diff_ids:
                raise InvalidImage(f"image {sel.image.id}: empty export - not implemented")
            for layer in sel.image.layers:
                layers.get(layer)  # fail before writing anything
        t = _TarOut(out)
        if format == "docker":
            _write_docker(store, selected, layers, t)
        else:
            _write_oci(store, selected, layers, t)
        t.close()


def _repositories(selected: list[_Selected], top_of) -> dict:
    repos: dict[str, dict[str, str]] = {}
    for sel in selected:
        for ref in sel.tags:
            repos.setdefault(ref.familiar_name(), {})[ref.tag] = top_of(sel)
    return {k: dict(sorted(v.items())) for k, v in sorted(repos.items())}


def _write_docker(store: "ImageStore", selected: list[_Selected], layers: _LayerFiles, t: _TarOut) -> None:
    entries: dict[str, tuple] = {}
    written_diff: dict[str, str] = {}
    manifest = []
    tops: dict[str, str] = {}
    for sel in selected:
        img = sel.image
        cfg = img.config
        mtime = img.created_unix
        v1 = v1_layers(cfg)
        paths = []
        for (v1id, v1json), layer in zip(v1, img.layers):
            paths.append(f"{v1id}/layer.tar")
            if f"{v1id}/" in entries:
                continue
            entries[f"{v1id}/"] = ("dir", mtime)
            entries[f"{v1id}/VERSION"] = ("data", b"1.0", mtime)
            entries[f"{v1id}/json"] = ("data", v1json, mtime)
            if layer.diff_id in written_diff:
                entries[f"{v1id}/layer.tar"] = ("link", f"../{written_diff[layer.diff_id]}/layer.tar", mtime)
            else:
                path, size = layers.get(layer)
                entries[f"{v1id}/layer.tar"] = ("file", path, size, mtime)
                written_diff[layer.diff_id] = v1id
        tops[img.id] = v1[-1][0]
        hexid = img.id.split(":", 1)[1]
        entries[f"{hexid}.json"] = ("data", store.content.read(img.id), mtime)
        manifest.append({"Config": f"{hexid}.json",
                         "RepoTags": [r.familiar() for r in sel.tags] or None,
                         "Layers": paths})
    repos = _repositories(selected, lambda s: tops[s.image.id])
    entries["manifest.json"] = ("data", _encode_line(manifest), 0)
    if repos:
        entries["repositories"] = ("data", _encode_line(repos), 0)
    for name in sorted(entries):
        _emit(t, name, entries[name])


def _emit(t: _TarOut, name: str, e: tuple) -> None:
    kind = e[0]
    if kind == "dir":
        t.dir(name, e[1])
    elif kind == "data":
        t.data(name, e[1], e[2])
    elif kind == "file":
        t.file(name, e[1], e[2], e[3])
    elif kind == "link":
        t.symlink(name, e[1], e[2])


def oci_manifest_uncompressed(store: "ImageStore", img: "Image", layers: _LayerFiles) -> bytes:
    cfg_size = store.content.size(img.id)
    descs = []
    for layer in img.layers:
        _, size = layers.get(layer)
        descs.append(spec.Descriptor(media_type=spec.OCI_LAYER, digest=layer.diff_id, size=size))
    m = spec.Manifest(config=spec.Descriptor(media_type=spec.OCI_CONFIG, digest=img.id, size=cfg_size),
                      layers=descs, media_type=spec.OCI_MANIFEST)
    return m.to_json()


def _write_oci(store: "ImageStore", selected: list[_Selected], layers: _LayerFiles, t: _TarOut) -> None:
    entries: dict[str, tuple] = {"blobs/": ("dir", 0), "blobs/sha256/": ("dir", 0)}
    manifest = []
    index_entries = []
    for sel in selected:
        img = sel.image
        mtime = img.created_unix
        paths = []
        for layer in img.layers:
            name = "blobs/sha256/" + layer.diff_id.split(":", 1)[1]
            path, size = layers.get(layer)
            entries.setdefault(name, ("file", path, size, mtime))
            paths.append(name)
        cfg_name = "blobs/sha256/" + img.id.split(":", 1)[1]
        entries[cfg_name] = ("data", store.content.read(img.id), mtime)
        mbytes = oci_manifest_uncompressed(store, img, layers)
        mdigest = "sha256:" + hashlib.sha256(mbytes).hexdigest()
        entries["blobs/sha256/" + mdigest.split(":", 1)[1]] = ("data", mbytes, mtime)
        manifest.append({"Config": cfg_name, "RepoTags": [r.familiar() for r in sel.tags] or None, "Layers": paths})
        desc = {"mediaType": spec.OCI_MANIFEST, "digest": mdigest, "size": len(mbytes)}
        if sel.tags:
            for ref in sel.tags:
                index_entries.append({**desc, "annotations": {ANNOTATION_IMAGE_NAME: str(ref),
                                                              ANNOTATION_REF_NAME: ref.tag}})
        else:
            index_entries.append(desc)
    index = {"schemaVersion": 2, "mediaType": spec.OCI_INDEX, "manifests": index_entries}
    entries["index.json"] = ("data", json.dumps(index, separators=(",", ":")).encode(), 0)
    entries["oci-layout"] = ("data", b'{"imageLayoutVersion":"1.0.0"}', 0)
    entries["manifest.json"] = ("data", _encode_line(manifest), 0)
    repos = _repositories(selected, lambda s: s.image.diff_ids[-1].split(":", 1)[1])
    if repos:
        entries["repositories"] = ("data", _encode_line(repos), 0)
    for name in sorted(entries):
        _emit(t, name, entries[name])
