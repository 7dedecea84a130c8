"""Crafting images for the hostile-input tests: layer tars with any entries, and docker-archive
tars (what `docker load` reads) around them, including broken manifests and configs."""
from __future__ import annotations

import hashlib
import io
import json
import tarfile


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def entry(name: str, *, data: bytes = b"", type=tarfile.REGTYPE, mode: int = 0o644, uid: int = 0, gid: int = 0,
          linkname: str = "", devmajor: int = 0, devminor: int = 0, pax: dict | None = None) -> tuple:
    ti = tarfile.TarInfo(name)
    ti.type, ti.mode, ti.uid, ti.gid, ti.linkname = type, mode, uid, gid, linkname
    ti.devmajor, ti.devminor, ti.mtime = devmajor, devminor, 1700000000
    if pax:
        ti.pax_headers = dict(pax)
    ti.size = len(data) if type in (tarfile.REGTYPE, tarfile.AREGTYPE) else 0
    return ti, data


def layer(*entries, fmt=tarfile.PAX_FORMAT) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
        for ti, data in entries:
            tf.addfile(ti, io.BytesIO(data) if ti.size else None)
    return buf.getvalue()


def base_layer(unique: str = "") -> bytes:
    """A directory tree with a shell to run: the host's static busybox as /bin/sh (``unique``:
    a file that makes the layer's digest new, so no daemon has its content yet)."""
    with open("/bin/busybox", "rb") as f:
        bb = f.read()
    extra = [entry("etc/unique", data=unique.encode())] if unique else []
    return layer(*extra, entry("bin/", type=tarfile.DIRTYPE, mode=0o755), entry("bin/busybox", data=bb, mode=0o755),
                 entry("bin/sh", type=tarfile.SYMTYPE, linkname="busybox", mode=0o777),
                 entry("bin/ls", type=tarfile.SYMTYPE, linkname="busybox", mode=0o777),
                 entry("bin/cat", type=tarfile.SYMTYPE, linkname="busybox", mode=0o777),
                 entry("etc/", type=tarfile.DIRTYPE, mode=0o755), entry("tmp/", type=tarfile.DIRTYPE, mode=0o1777))


def config_for(layers: list[bytes], **extra) -> dict:
    cfg = {"architecture": "amd64", "os": "linux", "config": {"Cmd": ["/bin/sh"]},
           "rootfs": {"type": "layers", "diff_ids": [sha(x) for x in layers]}, "history": []}
    cfg.update(extra)
    return cfg


def archive(layers: list[bytes], *, tag: str = "hostile:1", config: dict | bytes | None = None,
            manifest: object = None, extra_members: list[tuple] = ()) -> bytes:
    """A docker-archive; ``config``/``manifest`` replace the generated ones (bytes: verbatim)."""
    cfg = config if config is not None else config_for(layers)
    cfg_bytes = cfg if isinstance(cfg, bytes) else json.dumps(cfg).encode()
    cfg_name = sha(cfg_bytes)[7:] + ".json"
    names = [f"{sha(x)[7:]}/layer.tar" for x in layers]
    if manifest is None:
        manifest = [{"Config": cfg_name, "RepoTags": [tag], "Layers": names}]
    man_bytes = manifest if isinstance(manifest, bytes) else json.dumps(manifest).encode()
    members = [entry(cfg_name, data=cfg_bytes)]
    for n, data in zip(names, layers):
        members.append(entry(n.split("/")[0] + "/", type=tarfile.DIRTYPE, mode=0o755))
        members.append(entry(n, data=data))
    members.append(entry("manifest.json", data=man_bytes))
    members.extend(extra_members)
    return layer(*members)
