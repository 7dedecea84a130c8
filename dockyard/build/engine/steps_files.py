"""Steps that write files into the image: COPY, ADD and WORKDIR.

Each works in a snapshot of the stage's image, mounted for the step, and commits what changed as
the step's layer. The cache key of COPY/ADD holds what the sources hold (names, types, modes, owners,
contents — not times, as in Docker), so an unchanged context hits the cache after hashing it, and a
changed file misses from its step on. ``--from`` sources are keyed by the image they come from.
"""
from __future__ import annotations

import hashlib
import os

from .. import commands as c
from ..errors import DockerfileError
from ...daemon.containers.securefs import ContainerFS
from . import copier, imageconfig, layers, steps_config
from .cache import cache_key
from .chown import resolve_chown
from .context import FileInfo
from .copyplan import plan
from .errors import BuildError, CopyError
from .fetch import download, is_url
from .sources import Entry, Source, SourceTree, sources_key


def _single_file(name: str, path: str, mode: int, mtime_ns: int, digest: str) -> Source:
    size = os.path.getsize(path)
    info = FileInfo("file", mode, 0, 0, size, digest=digest)
    return Source(name, path, False, [Entry("", path, "file", mode, size, mtime_ns, info=info)])


def _heredoc(b, content: c.SourceContent) -> Source:
    path = os.path.join(b.scratch, "heredoc-" + os.urandom(6).hex())
    data = content.data.encode("utf-8", "surrogateescape")
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, 0o644)
    mtime = (b.epoch or 0) * 10**9
    os.utime(path, ns=(mtime, mtime))
    return _single_file(content.path, path, 0o644, mtime, "sha256:" + hashlib.sha256(data).hexdigest())


def _sources(b, ins, tree: SourceTree) -> tuple[list[Source], set[int]]:
    """The step's sources and the ones ADD unpacks."""
    keyword = ins.keyword
    sources: list[Source] = []
    local: list[int] = []
    for src in ins.sources:
        if isinstance(ins, c.AddInstruction) and is_url(src):
            dl = download(src, b.scratch, ins.checksum)
            sources.append(_single_file(dl.filename or src, dl.path, 0o600, dl.mtime_ns, dl.digest))
            continue
        if isinstance(ins, c.AddInstruction) and ins.checksum:
            raise CopyError(f"{keyword} failed: --checksum can only be used with a URL source")
        for s in tree.resolve(keyword, src, ins.excludes):
            local.append(len(sources))
            sources.append(s)
    for content in ins.contents:
        sources.append(_heredoc(b, content))
    if not sources:
        raise CopyError(f"{keyword} failed: no source files were specified")
    archives: set[int] = set()
    if isinstance(ins, c.AddInstruction):
        archives = {i for i in local if not sources[i].is_dir and copier.is_archive(sources[i].host)}
    return sources, archives


def _history(state, keyword: str, sources: list[Source], digest: str, dest: str) -> str:
    if len(sources) > 1:
        kind = "multi"
    else:
        kind = "dir" if sources[0].is_dir else "file"
    return imageconfig.nop(state.shell, f"{keyword} {kind}:{digest} in {dest} ").replace("#(nop)  ", "#(nop) ")


def copy(b, state, ins) -> None:
    keyword = ins.keyword
    if getattr(ins, "parents", False):
        raise BuildError(f"{keyword} --parents is not supported by this builder")
    try:
        chmod = ins.chmod_mode()
    except DockerfileError as e:
        raise BuildError(e.message) from None
    workdir = state.run_config.get("WorkingDir") or "/"
    from_ = getattr(ins, "from_", "")
    common = [keyword, ins.dest, workdir, ins.chown, chmod, b.epoch]
    if from_:
        # an image is immutable: its ID and the names are the key, so a hit reads nothing of it
        origin = b.image_id_for(from_)
        key = cache_key(state.image_id, "copy", common + [origin, list(ins.sources), list(ins.excludes),
                                                         [[x.path, x.data] for x in ins.contents]])
        if b.cached(state, key):
            return
        sources, archives = _sources(b, ins, SourceTree(b.view(origin).root, None, what=f"{from_!r}"))
        digest = sources_key(sources)
    else:
        sources, archives = _sources(b, ins, SourceTree(b.ctx.root, b.ctx.files))
        digest = sources_key(sources)
        key = cache_key(state.image_id, "copy", common + ["context", digest, sorted(archives)])
        if b.cached(state, key):
            return
    ops = plan(keyword, sources, ins.dest, workdir, archives)
    created_by = _history(state, keyword, sources, digest, ops[0].dest)
    ws = b.workspace(state)
    try:
        owner = resolve_chown(ws.rootfs, ins.chown) if ins.chown else (0, 0)
        copier.apply(ws.rootfs, ops, owner, chmod)
        ws.unmount()
        blob = layers.diff_to_blob(b.backend.snapshotter, b.backend.images.store.content, ws.key, b.work,
                                   b.epoch, stubs=())
        image_id = state.commit(b.backend.images.store, b.created(), created_by, blob)
        layers.adopt(b.backend.snapshotter, ws.key, state.diff_ids)
    except BaseException:
        ws.discard()
        raise
    b.remember(key, image_id)


def workdir(b, state, ins: c.WorkdirInstruction) -> None:
    """WORKDIR: the config change, and the directory made (root-owned, 0755) when the image lacks it."""
    ch = steps_config.change(state, ins)
    path = ch.run_config["WorkingDir"]
    key = cache_key(state.image_id, "workdir", [steps_config.key_payload(ch), b.epoch])
    if b.cached(state, key):
        return
    state.run_config, state.author = ch.run_config, ch.author
    created_by = imageconfig.nop(state.shell, ch.comment).replace("#(nop)  ", "#(nop) ")
    ws = b.workspace(state)
    try:
        with ContainerFS(ws.rootfs) as fs:
            try:
                with fs.resolve(path, follow_last=True, must_exist=False) as r:
                    exists, is_dir = r.exists, r.name is None
            except NotADirectoryError:
                exists, is_dir = True, False
            if exists and not is_dir:
                raise BuildError(f"WORKDIR {path}: it exists in the image and is not a directory")
            if not exists:
                copier.mkdir_all(fs, path, (0, 0))
        ws.unmount()
        if exists:
            ws.discard()
            image_id = state.commit(b.backend.images.store, b.created(), created_by)
        else:
            blob = layers.diff_to_blob(b.backend.snapshotter, b.backend.images.store.content, ws.key, b.work,
                                       b.epoch, stubs=())
            image_id = state.commit(b.backend.images.store, b.created(), created_by, blob)
            layers.adopt(b.backend.snapshotter, ws.key, state.diff_ids)
    except BaseException:
        ws.discard()
        raise
    b.remember(key, image_id)
