"""Engine API (v1.41) shapes of images: ImageInspect, ImageSummary, history items.

Docker serialises Go's ``container.Config`` with every field, nulls included;
``full_container_config`` reproduces that from an image config's ``config``.
"""
from __future__ import annotations

from typing import Callable

from . import timeutil
from .model import Image

# (json key, zero value, omitempty) in Go's field order
_CONTAINER_CONFIG_FIELDS = (
    ("Hostname", "", False), ("Domainname", "", False), ("User", "", False),
    ("AttachStdin", False, False), ("AttachStdout", False, False), ("AttachStderr", False, False),
    ("ExposedPorts", None, True), ("Tty", False, False), ("OpenStdin", False, False),
    ("StdinOnce", False, False), ("Env", None, False), ("Cmd", None, False),
    ("Healthcheck", None, True), ("ArgsEscaped", False, True), ("Image", "", False),
    ("Volumes", None, False), ("WorkingDir", "", False), ("Entrypoint", None, False),
    ("NetworkDisabled", False, True), ("MacAddress", "", True), ("OnBuild", None, False),
    ("Labels", None, False), ("StopSignal", "", True), ("StopTimeout", None, True),
    ("Shell", None, True),
)


def _strslice(v):
    return [v] if isinstance(v, str) else v


def full_container_config(cfg: dict | None) -> dict:
    """Go's container.Config JSON for ``cfg`` (unknown keys dropped, like Go does)."""
    cfg = cfg or {}
    out = {}
    for key, zero, omitempty in _CONTAINER_CONFIG_FIELDS:
        v = cfg.get(key, zero)
        if key in ("Cmd", "Entrypoint", "Shell"):
            v = _strslice(v)
        if omitempty and (v is None or v == zero or v == {} or v == []):
            continue
        if key in ("ExposedPorts", "Volumes", "Labels") and isinstance(v, dict):
            v = dict(sorted(v.items()))  # Go writes maps with sorted keys
        out[key] = v
    return out


def inspect(img: Image, graph_driver: dict | None = None) -> dict:
    c = img.config
    out = {
        "Id": img.id,
        "RepoTags": list(img.repo_tags),
        "RepoDigests": list(img.repo_digests),
        "Parent": img.parent,
        "Comment": c.get("comment") or "",
        "Created": timeutil.normalize(c.get("created")),
        "Container": c.get("container") or "",
        "ContainerConfig": full_container_config(c.get("container_config")),
        "DockerVersion": c.get("docker_version") or "",
        "Author": c.get("author") or "",
        "Config": full_container_config(c["config"]) if c.get("config") is not None else None,
        "Architecture": c.get("architecture") or "",
    }
    if c.get("variant"):
        out["Variant"] = c["variant"]
    out["Os"] = c.get("os") or ""
    if c.get("os.version"):
        out["OsVersion"] = c["os.version"]
    out["Size"] = img.size
    out["VirtualSize"] = img.size
    out["GraphDriver"] = graph_driver or {"Name": "overlay2", "Data": {}}
    out["RootFS"] = {"Type": "layers", "Layers": img.diff_ids}
    out["Metadata"] = {"LastTagTime": img.last_tag_time or timeutil.ZERO}
    return out


def summary(img: Image, repo_tags: list[str], repo_digests: list[str], containers: int = -1) -> dict:
    return {
        "Containers": containers,
        "Created": img.created_unix,
        "Id": img.id,
        "Labels": dict(sorted(img.labels.items())),  # Go writes maps sorted; {} not null, as the schema says
        "ParentId": img.parent,
        "RepoDigests": repo_digests,
        "RepoTags": repo_tags,
        "SharedSize": -1,
        "Size": img.size,
        "VirtualSize": img.size,
    }


def history(img: Image, parent_of: Callable[[str], Image | None]) -> list[dict]:
    """``docker history``: newest first; IDs of the image and its local parents, else <missing>."""
    c = img.config
    sizes = [layer.unpacked_size for layer in img.layers]
    diff_ids = img.diff_ids
    if len(sizes) != len(diff_ids):  # foreign layers without blobs: sizes unknown
        sizes = (sizes + [0] * len(diff_ids))[: len(diff_ids)]
    items = []
    n = 0
    for h in c.get("history") or []:
        size = 0
        if not h.get("empty_layer"):
            if n >= len(diff_ids):
                raise ValueError(f"image {img.id}: too many non-empty layers in history")
            size = sizes[n]
            n += 1
        items.insert(0, {
            "Id": "<missing>",
            "Created": timeutil.unix(h.get("created")),
            "CreatedBy": h.get("created_by") or "",
            "Tags": None,  # Docker sends null where no tag names the entry
            "Size": size,
            "Comment": h.get("comment") or "",
        })
    cur: Image | None = img
    for item in items:
        if cur is None:
            break
        item["Id"] = cur.id
        item["Tags"] = list(cur.repo_tags) or None
        cur = parent_of(cur.parent) if cur.parent else None
    return items
