"""The build context the CLI sends with ``POST /build``: a tar of the context directory, streamed.

As the Docker CLI does it: ``.dockerignore`` patterns leave files out (but the Dockerfile and
``.dockerignore`` are always sent; the daemon drops them again if they were excluded); owners are
0:0; symbolic links are archived as links, never followed; hard links inside the context are
archived once. A Dockerfile outside the context (``-f ../x``) or from stdin (``-f -``) is added as
``.dockerfile.<random>`` and listed in ``.dockerignore`` so the daemon leaves it out of the context.
``docker build -`` sends stdin as it is when it is an archive, else takes it as the Dockerfile of an
empty context. Standard library only.
"""
from __future__ import annotations

import io
import os
import stat
import tarfile
import time
from typing import Iterator

from ...build.dockerignore import DockerignoreError, PatternMatcher, keep_build_files, read_dockerignore, walk_context
from ..errors import CLIError

CHUNK = 1 << 20
_COMPRESSED = (b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00", b"\x28\xb5\x2f\xfd")


class _Sink:
    def __init__(self):
        self.parts: list[bytes] = []
        self.size = 0

    def write(self, b) -> int:
        self.parts.append(bytes(b))
        self.size += len(b)
        return len(b)

    def take(self) -> bytes:
        out = b"".join(self.parts)
        self.parts, self.size = [], 0
        return out


def is_archive(head: bytes) -> bool:
    """Whether stdin's first bytes are a tar (plain or compressed)."""
    if any(head.startswith(m) for m in _COMPRESSED):
        return True
    return len(head) >= 262 and head[257:262] == b"ustar"


def _info(name: str, st: os.stat_result) -> tarfile.TarInfo:
    ti = tarfile.TarInfo(name)
    ti.mode = stat.S_IMODE(st.st_mode)
    ti.mtime = int(st.st_mtime)
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = ""
    return ti


def dockerfile_in_context(context: str, dockerfile: str | None) -> tuple[str | None, bytes | None]:
    """(path of the Dockerfile relative to the context, None) when it is inside the context, else
    (None, its contents) to add to the tar. ``-f`` is relative to the working directory, as in docker."""
    if dockerfile == "-":
        return None, None
    path = os.path.abspath(dockerfile) if dockerfile else os.path.join(os.path.abspath(context), "Dockerfile")
    rel = os.path.relpath(path, os.path.abspath(context))
    if rel == ".." or rel.startswith(".." + os.sep):
        try:
            with open(path, "rb") as f:
                return None, f.read()
        except OSError as e:
            raise CLIError(f"unable to prepare context: unable to evaluate symlinks in Dockerfile path: "
                           f"{e.strerror.lower() if e.strerror else e}: {dockerfile}") from None
    if not os.path.exists(path):
        raise CLIError(f"unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat "
                       f"{path}: no such file or directory")
    return rel.replace(os.sep, "/"), None


def stream_dir(context: str, dockerfile_rel: str | None, extra_dockerfile: bytes | None,
               random_name: str = "") -> Iterator[bytes]:
    """The tar stream of the context directory (see the module doc)."""
    if not os.path.isdir(context):
        raise CLIError(f'unable to prepare context: path "{context}" not found')
    ignore_path = os.path.join(context, ".dockerignore")
    patterns: list[str] = []
    ignore_data = b""
    if os.path.isfile(ignore_path):
        with open(ignore_path, "rb") as f:
            ignore_data = f.read()
        patterns = read_dockerignore(ignore_data)
    try:
        matcher = PatternMatcher(keep_build_files(patterns, dockerfile_rel))
    except DockerignoreError as e:
        raise CLIError(f"error checking context: {e}") from None
    return _stream(context, matcher, extra_dockerfile, random_name, ignore_data)


def _stream(context, matcher, extra_dockerfile, random_name, ignore_data) -> Iterator[bytes]:
    try:
        yield from _entries(context, matcher, extra_dockerfile, random_name, ignore_data)
    except OSError as e:
        raise CLIError(f"error checking context: {e.strerror or e}: {e.filename or context}") from None


def _entries(context, matcher, extra_dockerfile, random_name, ignore_data) -> Iterator[bytes]:
    sink = _Sink()
    tf = tarfile.open(fileobj=sink, mode="w|", format=tarfile.PAX_FORMAT)
    links: dict[tuple[int, int], str] = {}
    now = int(time.time())
    for entry in walk_context(context, matcher):
        name, st = entry.path, entry.stat
        if extra_dockerfile is not None and name == ".dockerignore":
            continue   # written below, with the added Dockerfile listed
        full = os.path.join(context, name)
        ti = _info(name, st)
        if stat.S_ISDIR(st.st_mode):
            ti.type = tarfile.DIRTYPE
            tf.addfile(ti)
        elif stat.S_ISLNK(st.st_mode):
            ti.type = tarfile.SYMTYPE
            ti.linkname = os.readlink(full)
            tf.addfile(ti)
        elif stat.S_ISREG(st.st_mode):
            key = (st.st_dev, st.st_ino)
            if st.st_nlink > 1 and key in links:
                ti.type, ti.linkname = tarfile.LNKTYPE, links[key]
                tf.addfile(ti)
            else:
                links[key] = name
                try:
                    f = open(full, "rb")
                except OSError as e:
                    raise CLIError(f"error checking context: can't stat '{full}': {e.strerror}") from None
                with f:
                    ti.size = os.fstat(f.fileno()).st_size
                    tf.addfile(ti, f)
        else:
            continue
        if sink.size >= CHUNK:
            yield sink.take()
    if extra_dockerfile is not None:
        for name, data in ((random_name, extra_dockerfile),
                           (".dockerignore", ignore_data + b"\n" + random_name.encode() + b"\n")):
            ti = tarfile.TarInfo(name)
            ti.mode, ti.mtime, ti.size = 0o600, now, len(data)
            tf.addfile(ti, io.BytesIO(data))
    tf.close()
    yield sink.take()


def stream_dockerfile_only(dockerfile: bytes) -> Iterator[bytes]:
    """A context holding nothing but the Dockerfile (``docker build - < Dockerfile``)."""
    sink = _Sink()
    with tarfile.open(fileobj=sink, mode="w|", format=tarfile.PAX_FORMAT) as tf:
        ti = tarfile.TarInfo("Dockerfile")
        ti.mode, ti.mtime, ti.size = 0o600, int(time.time()), len(dockerfile)
        tf.addfile(ti, io.BytesIO(dockerfile))
    yield sink.take()


def stream_file(f, head: bytes) -> Iterator[bytes]:
    """An archive from stdin, as it is."""
    yield head
    while True:
        b = f.read(CHUNK)
        if not b:
            return
        yield b


class Counted:
    """Passes the chunks on, counting the bytes (for "Sending build context ...")."""

    def __init__(self, chunks: Iterator[bytes]):
        self.chunks = chunks
        self.total = 0

    def __iter__(self):
        for c in self.chunks:
            self.total += len(c)
            yield c
