"""``docker cp`` and ``docker export``: HEAD/GET/PUT /containers/{id}/archive, GET .../export.

Paths are read as dockerd reads them (see ``pathstat``) and resolved with ``securefs`` inside the
container's file system (rootfs plus volumes and binds, see ``rootfs_access``). Archives stream out
(``tarout``) and in (``tarin``) through the thread pool, a chunk at a time.
"""
from __future__ import annotations

import asyncio
import stat

from ..http import ApiError, Response
from . import pathstat, tarin, tarout
from .rootfs_access import container_fs

TAR = "application/x-tar"
BODY_READ_TIMEOUT = 600.0
BODY_BLOCK = 1 << 20


def _parse(path: str) -> pathstat.Request:
    if not path:
        raise ApiError(400, "bad parameter: pathcannot be empty")   # dockerd's words, sic
    try:
        return pathstat.parse_path(path)
    except ValueError as e:
        raise ApiError(400, f"invalid path {path!r}: {e}") from None


def _not_found(path: str, ref: str) -> ApiError:
    return ApiError(404, f"Could not find the file {path} in container {ref}")


def _os_error(path: str, e: OSError) -> ApiError:
    return ApiError(500, f"{path}: {e.strerror or e}")


def _resolve(fs, req: pathstat.Request, ref: str):
    try:
        return pathstat.resolve_request(fs, req)
    except (FileNotFoundError, NotADirectoryError):
        raise _not_found(req.given, ref) from None
    except OSError as e:
        raise _os_error(req.given, e) from None


def _stat(fs, req: pathstat.Request, ref: str) -> pathstat.PathStat:
    with _resolve(fs, req, ref) as r:
        try:
            return pathstat.stat_entry(fs, req, r)
        except FileNotFoundError:
            raise _not_found(req.given, ref) from None
        except OSError as e:
            raise _os_error(req.given, e) from None


async def stat_archive(svc, ref: str, path: str) -> Response:
    req = _parse(path)
    doc = svc.get(ref)
    async with container_fs(svc, doc) as fs:
        st = await asyncio.to_thread(_stat, fs, req, ref)
    return Response(200, headers=[(pathstat.HEADER, st.header_value())])


async def _pump(source: tarout.TarSource, stream) -> None:
    chunks = source.chunks()
    try:
        while True:
            data = await asyncio.to_thread(next, chunks, None)
            if data is None:
                break
            await stream.write(data)
    finally:
        await asyncio.to_thread(chunks.close)
        await asyncio.to_thread(source.close)


def _open_get(fs, req: pathstat.Request, ref: str):
    r = _resolve(fs, req, ref)
    try:
        st = pathstat.stat_entry(fs, req, r)
    except BaseException:
        r.close()
        raise
    return st, tarout.open_source(fs, r, req.rebase)


async def get_archive(svc, req, ref: str, path: str):
    preq = _parse(path)
    doc = svc.get(ref)
    async with container_fs(svc, doc) as fs:
        try:
            st, source = await asyncio.to_thread(_open_get, fs, preq, ref)
        except OSError as e:
            raise _os_error(path, e) from None
        try:
            stream = await req.stream(200, TAR, headers=[(pathstat.HEADER, st.header_value())])
            svc.emit(doc, "archive-path")
        except BaseException:
            source.close()
            raise
        await _pump(source, stream)
    return None


class _BodyReader:
    """The request body as a blocking reader, for the extraction thread (fetched from the event
    loop BODY_BLOCK bytes at a time: one thread hop per block, not per HTTP chunk)."""

    def __init__(self, req, loop):
        self._req, self._loop = req, loop
        self._buf = memoryview(b"")
        self._eof = False

    async def _fetch(self) -> bytes:
        parts, total = [], 0
        while total < BODY_BLOCK:
            chunk = await self._req.read(BODY_BLOCK - total)
            if not chunk:
                break
            parts.append(chunk)
            total += len(chunk)
        return b"".join(parts)

    def read(self, n: int) -> bytes:
        if not self._buf and not self._eof:
            fut = asyncio.run_coroutine_threadsafe(self._fetch(), self._loop)
            try:
                data = fut.result(BODY_READ_TIMEOUT)
            except TimeoutError:
                fut.cancel()
                raise OSError(110, "timed out reading the request body") from None
            self._eof = not data
            self._buf = memoryview(data)
        out, self._buf = self._buf[:n], self._buf[n:]
        return bytes(out)


def _destination(fs, req: pathstat.Request, ref: str) -> str:
    try:
        r = fs.resolve(req.abs_path, follow_last=True)
    except (FileNotFoundError, NotADirectoryError):
        raise _not_found(req.given, ref) from None
    except OSError as e:
        raise _os_error(req.given, e) from None
    with r:
        if not stat.S_ISDIR(r.lstat().st_mode):
            raise ApiError(400, "extraction point is not a directory")
        try:
            tarin.check_writable(r)
        except tarin.ReadOnlyError as e:
            raise ApiError(400, str(e)) from None
        return r.path


def _owner(fs, doc: dict) -> tuple[int, int] | None:
    """copyUIDGID: the container's user (looked up in the container's own passwd and group)."""
    from .userlookup import UserLookupError, exec_user, parse_group, parse_passwd
    spec = (doc.get("Config") or {}).get("User") or ""
    if not spec:
        return None
    try:
        passwd = fs.read_file("/etc/passwd")
        group = fs.read_file("/etc/group")
        u = exec_user(spec, parse_passwd(passwd.decode(errors="replace")) if passwd is not None else None,
                      parse_group(group.decode(errors="replace")) if group is not None else None)
    except (UserLookupError, OSError) as e:
        raise ApiError(400, f"copyUIDGID: {e}") from None
    return u.uid, u.gid


def _extract(fs, dest: str, body, opts: tarin.Options) -> int:
    try:
        return tarin.extract(fs, dest, body, opts)
    except tarin.ExtractError as e:
        raise ApiError(400, str(e)) from None
    except ConnectionError:
        raise
    except OSError as e:
        raise ApiError(500, str(e.strerror or e)) from None


async def put_archive(svc, req, ref: str, path: str, no_overwrite: bool = False, copy_uidgid: bool = False):
    preq = _parse(path)
    doc = svc.get(ref)
    async with container_fs(svc, doc) as fs:
        dest = await asyncio.to_thread(_destination, fs, preq, ref)
        owner = await asyncio.to_thread(_owner, fs, doc) if copy_uidgid else None
        body = _BodyReader(req, asyncio.get_running_loop())
        opts = tarin.Options(no_overwrite_dir_nondir=no_overwrite, chown=owner)
        await asyncio.to_thread(_extract, fs, dest, body, opts)
    svc.emit(doc, "extract-to-dir")
    return Response(200)


def _open_export(fs):
    return tarout.open_source(fs, fs.resolve("/", follow_last=True), None, cross_mounts=False)


async def export_stream(svc, req, ref: str):
    doc = svc.get(ref)
    status = doc["State"].get("Status")
    if status == "removing":
        raise ApiError(409, f"You cannot export container {doc['Id']} which is being removed")
    if status == "dead" or doc["State"].get("Dead"):
        raise ApiError(409, f"You cannot export container {doc['Id']} which is Dead")
    async with container_fs(svc, doc, with_mounts=False) as fs:
        source = await asyncio.to_thread(_open_export, fs)
        try:
            stream = await req.stream(200, TAR)
            svc.emit(doc, "export")
        except BaseException:
            source.close()
            raise
        await _pump(source, stream)
    return None
