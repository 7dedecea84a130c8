"""Helpers for image store tests: small synthetic layer tars and images."""
from __future__ import annotations

import io
import itertools
import tarfile

from dockyard.images import compose
from dockyard.images.store import ImageStore

_counter = itertools.count()


def layer_tar(files: dict[str, bytes | str], mtime: int = 1_700_000_000) -> bytes:
    """An uncompressed tar with the given regular files (str values become symlinks if they start with '->')."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, data in sorted(files.items()):
            ti = tarfile.TarInfo(name)
            ti.mtime = mtime
            if isinstance(data, str) and data.startswith("->"):
                ti.type, ti.linkname = tarfile.SYMTYPE, data[2:]
                tf.addfile(ti)
            else:
                raw = data.encode() if isinstance(data, str) else data
                ti.size, ti.mode = len(raw), 0o644
                tf.addfile(ti, io.BytesIO(raw))
    return buf.getvalue()


def add_image(store: ImageStore, layers: list[dict] | None = None, tags=(), created="2024-01-02T03:04:05Z",
              labels=None, parent=None, extra_config=None, history=None):
    """Build an image from layer file dicts; every call gives a distinct image unless told otherwise."""
    if layers is None:
        layers = [{f"file{next(_counter)}": "x"}]
    blobs = [compose.store_layer_tar(store.content, io.BytesIO(layer_tar(files)), compression="none")
             for files in layers]
    cfg = {"architecture": "amd64", "os": "linux", "created": created,
           "config": {"Cmd": ["sh"], "Env": ["PATH=/bin"], **({"Labels": labels} if labels else {})}}
    cfg["history"] = history if history is not None else [
        {"created": created, "created_by": f"layer {i}"} for i in range(len(blobs))]
    cfg.update(extra_config or {})
    return compose.write_image(store, cfg, blobs, tags=tags, parent=parent)
