"""Writing an image into an OCI image layout directory (readable by skopeo ``oci:``, umoci).

Docker schema2 manifests are rewritten with OCI media types (the config bytes,
and so the image ID, stay the same). The image is added to ``index.json`` with
``org.opencontainers.image.ref.name`` = its tag, replacing an entry of that name.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from typing import TYPE_CHECKING

from dockyard.spec import image as spec

from . import reference
from .errors import InvalidArgument, InvalidImage

if TYPE_CHECKING:
    from .store import ImageStore

ANNOTATION_REF_NAME = "org.opencontainers.image.ref.name"
ANNOTATION_IMAGE_NAME = "io.containerd.image.name"
_TO_OCI = {
    spec.DOCKER_LAYER: spec.OCI_LAYER, spec.DOCKER_LAYER_GZIP: spec.OCI_LAYER_GZIP,
    spec.DOCKER_LAYER_ZSTD: spec.OCI_LAYER_ZSTD, spec.DOCKER_FOREIGN_LAYER: spec.OCI_LAYER_ND,
    spec.DOCKER_FOREIGN_LAYER_GZIP: spec.OCI_LAYER_ND_GZIP,
}


def _atomic_write(path: str, data: bytes) -> None:
    d = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=d)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def oci_manifest(store: "ImageStore", image_id: str) -> bytes:
    """The image's manifest with OCI media types (as stored when it already is OCI)."""
    img = store.get(image_id)
    raw = store.content.read(img.manifest.digest)
    m = spec.Manifest.from_json(raw)
    if m.media_type in (None, spec.OCI_MANIFEST) and m.config.media_type == spec.OCI_CONFIG:
        return raw
    m.media_type = spec.OCI_MANIFEST
    m.config.media_type = spec.OCI_CONFIG
    for layer in m.layers:
        layer.media_type = _TO_OCI.get(layer.media_type, layer.media_type)
    return m.to_json()


def _copy_blob(store: "ImageStore", digest: str, blobs: str) -> None:
    algo, hexpart = digest.split(":", 1)
    dst_dir = os.path.join(blobs, algo)
    os.makedirs(dst_dir, exist_ok=True)
    dst = os.path.join(dst_dir, hexpart)
    size = store.content.size(digest)
    if os.path.isfile(dst) and not os.path.islink(dst) and os.path.getsize(dst) == size:
        return
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=dst_dir)
    try:
        with os.fdopen(fd, "wb") as out, store.content.open(digest) as src:
            shutil.copyfileobj(src, out, 1 << 20)
        os.chmod(tmp, 0o644)
        os.replace(tmp, dst)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def save_oci_layout(store: "ImageStore", ref: str, dest: str | os.PathLike, name: str | None = None) -> dict:
    """Write image ``ref`` into the OCI layout at ``dest``; returns its index.json descriptor.

    ``name`` is the ``ref.name`` annotation; by default the tag of ``ref`` when it is a tag reference.
    """
    img = store.get(ref)
    full_ref = None
    if name is None:
        try:
            r = reference.parse(ref)
            if not r.digest and r.familiar_name() != "sha256" and str(r.with_default_tag()) in \
                    {str(x) for x in store.references(img.id)}:
                full_ref = r.with_default_tag()
                name = full_ref.tag
        except reference.ReferenceError:
            pass
    dest = os.fspath(dest)
    os.makedirs(os.path.join(dest, "blobs"), exist_ok=True)
    layout_path = os.path.join(dest, "oci-layout")
    index_path = os.path.join(dest, "index.json")
    index = {"schemaVersion": 2, "mediaType": spec.OCI_INDEX, "manifests": []}
    if os.path.exists(index_path):
        try:
            with open(index_path, "rb") as f:
                index = spec.Index.from_json(f.read()).to_dict()
        except (OSError, spec.SpecError) as e:
            raise InvalidArgument(f"{dest} is not a valid OCI layout: {e}") from None
    blobs = os.path.join(dest, "blobs")
    man = oci_manifest(store, img.id)
    m = spec.Manifest.from_json(man)
    for layer in m.layers:
        if not store.content.has(layer.digest):
            raise InvalidImage(f"layer {layer.digest} of {img.id} is not in the content store")
        _copy_blob(store, layer.digest, blobs)
    _copy_blob(store, img.id, blobs)
    man_digest = store.content.put_bytes(man)
    _copy_blob(store, man_digest, blobs)
    desc = {"mediaType": spec.OCI_MANIFEST, "digest": man_digest, "size": len(man)}
    if name:
        desc["annotations"] = {ANNOTATION_REF_NAME: name}
        if full_ref is not None:
            desc["annotations"][ANNOTATION_IMAGE_NAME] = str(full_ref)
        index["manifests"] = [d for d in index.get("manifests", [])
                              if (d.get("annotations") or {}).get(ANNOTATION_REF_NAME) != name]
    index.setdefault("manifests", []).append(desc)
    if not os.path.exists(layout_path):
        _atomic_write(layout_path, b'{"imageLayoutVersion":"1.0.0"}')
    _atomic_write(index_path, json.dumps(index, separators=(",", ":")).encode())
    if man_digest != img.manifest.digest:  # keep the converted manifest only as long as the image lives
        with store.db.write() as c:
            c.execute("INSERT OR IGNORE INTO manifests(digest, image_id, media_type, layers, added) "
                      "SELECT ?, image_id, ?, layers, added - 1 FROM manifests WHERE digest=?",
                      (man_digest, spec.OCI_MANIFEST, img.manifest.digest))
    return desc
