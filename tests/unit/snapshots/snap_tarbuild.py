"""Build layer tars for the snapshot tests with the standard tarfile module."""
from __future__ import annotations

import gzip
import hashlib
import io
import tarfile

MTIME = 1_600_000_000


def entry(name, type=tarfile.REGTYPE, data=b"", **kw):
    ti = tarfile.TarInfo(name)
    ti.type = type
    ti.mtime = kw.pop("mtime", MTIME)
    ti.mode = kw.pop("mode", 0o755 if type == tarfile.DIRTYPE else 0o644)
    for k, v in kw.items():
        setattr(ti, k, v)
    ti.size = len(data) if type == tarfile.REGTYPE else 0
    return ti, data


def f(name, data=b"", **kw):
    return entry(name, tarfile.REGTYPE, data, **kw)


def d(name, **kw):
    return entry(name, tarfile.DIRTYPE, **kw)


def sym(name, target, **kw):
    return entry(name, tarfile.SYMTYPE, linkname=target, **kw)


def hard(name, target, **kw):
    return entry(name, tarfile.LNKTYPE, linkname=target, **kw)


def wh(path):
    head, _, base = path.rpartition("/")
    return f((head + "/" if head else "") + ".wh." + base)


def opq(dirpath):
    return f(dirpath.rstrip("/") + "/.wh..wh..opq")


def tar(*entries, fmt=tarfile.PAX_FORMAT) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for ti, data in entries:
            t.addfile(ti, io.BytesIO(data) if ti.type == tarfile.REGTYPE else None)
    return buf.getvalue()


def compress(raw: bytes, compression: str | None) -> bytes:
    if compression == "gzip":
        return gzip.compress(raw, mtime=0)
    if compression == "zstd":
        import zstandard

        return zstandard.ZstdCompressor().compress(raw)
    return raw


def diff_id(raw: bytes) -> str:
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def write_blob(path, raw: bytes, compression: str | None = "gzip") -> tuple[str, str]:
    """Write a layer blob; returns (path, diff_id)."""
    with open(path, "wb") as fh:
        fh.write(compress(raw, compression))
    return str(path), diff_id(raw)


def tree(root) -> dict:
    """{relative path: description} of a directory, for comparing trees."""
    import os
    import stat

    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for n in sorted(dirnames + filenames):
            p = os.path.join(dirpath, n)
            st = os.lstat(p)
            rel = os.path.relpath(p, root)
            if stat.S_ISLNK(st.st_mode):
                desc = ("l", os.readlink(p))
            elif stat.S_ISDIR(st.st_mode):
                desc = ("d",)
            elif stat.S_ISREG(st.st_mode):
                with open(p, "rb") as fh:
                    desc = ("f", fh.read())
            else:
                desc = ("o", stat.S_IFMT(st.st_mode), st.st_rdev)
            out[rel] = desc + (stat.S_IMODE(st.st_mode) if not stat.S_ISLNK(st.st_mode) else 0,
                               st.st_uid, st.st_gid)
    return out
