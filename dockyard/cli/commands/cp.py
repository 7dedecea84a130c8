"""dockyard cp: copy between a container and the host through the archive endpoints.

Follows docker's copy rules (archive.CopyInfo / PrepareArchiveCopy): a directory copied to an
existing directory lands inside it, ``src/.`` copies a directory's contents, a missing
destination takes the source's place, and a directory never overwrites a file.
"""
from __future__ import annotations

import base64
import json
import os
import posixpath
import stat
import sys

from .. import term
from ..api import quote
from ..errors import CLIError
from ..units import human_size

USAGE = "[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tdockyard cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH"
SHORT = "Copy files/folders between a container and the local filesystem"
ARGS = (2, 2)


def flags(fs):
    fs.bool("archive", "a", help="Archive mode (copy all uid/gid information)")
    fs.bool("follow-link", "L", help="Always follow symbol link in SRC_PATH")
    fs.bool("quiet", "q", help="Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached")


def split_cp_arg(arg: str) -> tuple[str, str]:
    """"ctr:/path" → ("ctr", "/path"); a local path (absolute, or starting with ".") has no container."""
    if arg.startswith("/") or arg.startswith("."):
        return "", arg
    ctr, sep, p = arg.partition(":")
    if not sep:
        return "", arg
    return ctr, p


def _split_dir_entry(path: str) -> tuple[str, str]:
    """archive.SplitPathDirEntry."""
    cleaned = posixpath.normpath(path)
    if posixpath.basename(path) == ".":
        cleaned += "/."
    return posixpath.dirname(cleaned), posixpath.basename(cleaned)


def _asserts_dir(path: str) -> bool:
    return path.endswith("/") or posixpath.basename(path) == "."


def _stat_header(resp_headers: dict) -> dict | None:
    raw = resp_headers.get("x-docker-container-path-stat")
    if not raw:
        return None
    try:
        return json.loads(base64.b64decode(raw))
    except ValueError:
        return None


# Go's os.FileMode bits as the daemon reports them
MODE_DIR = 1 << 31
MODE_SYMLINK = 1 << 27
MODE_DEVICE = 1 << 26
MODE_IRREGULAR = 1 << 19


def container_stat(app, ctr: str, path: str) -> dict | None:
    resp = app.api.request("HEAD", f"/containers/{quote(ctr)}/archive", {"path": path}, check=False)
    resp.read()
    if resp.status >= 400:
        return None
    return _stat_header(resp.headers)


def prepare(src_is_dir: bool, src_path: str, rebase_name: str, dst_path: str, dst_exists: bool,
            dst_is_dir: bool) -> tuple[str, tuple[str, str] | None]:
    """PrepareArchiveCopy: (directory to extract into, (old base, new base) to rename entries)."""
    dst_dir, dst_base = _split_dir_entry(dst_path)
    _, src_base = _split_dir_entry(src_path)
    if rebase_name:
        src_base = rebase_name
    if dst_exists and dst_is_dir:
        return dst_path, None
    if dst_exists and src_is_dir:
        raise CLIError("cannot copy directory")
    if dst_exists:
        return dst_dir, (src_base, dst_base)
    if src_is_dir:
        return dst_dir, (src_base, dst_base)
    if _asserts_dir(dst_path):
        raise CLIError("no such directory")
    return dst_dir, (src_base, dst_base)


class _RespReader:
    """A file-like view of a response body for tarfile's stream mode."""

    def __init__(self, resp):
        self.resp, self.buf = resp, b""

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            return self.buf + self.resp.read()
        while len(self.buf) < n:
            d = self.resp.read1(max(n - len(self.buf), 65536))
            if not d:
                break
            self.buf += d
        out, self.buf = self.buf[:n], self.buf[n:]
        return out


def copy_from(app, ctr: str, src: str, dst: str, follow: bool, quiet: bool) -> None:
    rebase = ""
    if follow:
        st = container_stat(app, ctr, src)
        if st and st.get("mode", 0) & MODE_SYMLINK:
            target = st.get("linkTarget") or ""
            if not target.startswith("/"):
                target = posixpath.join(_split_dir_entry(src)[0], target)
            if posixpath.basename(src) != posixpath.basename(target):
                rebase = posixpath.basename(src)
            src = target
    resp = app.api.request("GET", f"/containers/{quote(ctr)}/archive", {"path": src})
    try:
        if dst == "-":
            out = sys.stdout.buffer
            while True:
                d = resp.read1()
                if not d:
                    break
                out.write(d)
            out.flush()
            return
        st = _stat_header(resp.headers) or {}
        src_is_dir = bool(st.get("mode", 0) & MODE_DIR)
        dst_path, dst_exists, dst_is_dir = _local_dest(dst)
        from ..untar import extract
        dst_dir, renames = prepare(src_is_dir, src, rebase, dst_path, dst_exists, dst_is_dir)
        src_base = _split_dir_entry(src)[1]
        final = renames[1] if renames else rebase
        renames = (src_base, final) if final and final != src_base else None
        size = extract(_RespReader(resp), dst_dir or ".", renames)
    finally:
        resp.close()
    if not quiet and term.is_tty(2):
        app.err(f"Successfully copied {human_size(size)} to {dst}")


def _local_dest(path: str) -> tuple[str, bool, bool]:
    """CopyInfoDestinationPath: follow symlinks at the end; the parent directory must exist."""
    original = path
    for _ in range(11):
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            parent = _split_dir_entry(path)[0] or "."
            try:
                pst = os.stat(parent)
            except OSError as e:
                raise CLIError(f"stat {parent}: {(e.strerror or str(e)).lower()}") from None
            if not stat.S_ISDIR(pst.st_mode):
                raise CLIError("not a directory")
            return path, False, False
        if not stat.S_ISLNK(st.st_mode):
            return path, True, stat.S_ISDIR(st.st_mode)
        target = os.readlink(path)
        if not target.startswith("/"):
            target = os.path.join(_split_dir_entry(path)[0], target)
        path = target
    raise CLIError(f"too many symlinks in {original}")


def _source_info(path: str, follow: bool) -> tuple[str, bool, str]:
    """CopyInfoSourcePath: (resolved path, is dir, rebase name)."""
    rebase = ""
    if follow:
        resolved = os.path.realpath(path)
        if posixpath.basename(path) == "." and posixpath.basename(resolved) != ".":
            resolved += "/."
        if path.endswith("/") and not resolved.endswith("/"):
            resolved += "/"
        if posixpath.basename(path.rstrip("/") if not path.endswith("/.") else path) != \
                posixpath.basename(resolved.rstrip("/") if not resolved.endswith("/.") else resolved):
            rebase = posixpath.basename(path.rstrip("/"))
    else:
        d, base = os.path.split(path)
        rd = os.path.realpath(d) if d else os.path.realpath(".")
        resolved = rd + "/" + base
        if path.endswith("/") and posixpath.basename(path.rstrip("/")) != posixpath.basename(resolved.rstrip("/")):
            rebase = posixpath.basename(path.rstrip("/"))
    try:
        st = os.lstat(resolved)
    except OSError as e:
        raise CLIError(f"lstat {os.path.abspath(resolved)}: {(e.strerror or str(e)).lower()}") from None
    return resolved, stat.S_ISDIR(st.st_mode), rebase


def _tar_stream(src: str, base: str, archive: bool, total: list[int]):
    """A tar of ``src`` whose entries are named ``base``/…, produced in chunks (a generator)."""
    import io
    import tarfile

    class Sink(io.RawIOBase):
        def __init__(self):
            self.chunks: list[bytes] = []

        def writable(self):
            return True

        def write(self, b):
            self.chunks.append(bytes(b))
            return len(b)

    sink = Sink()
    tf = tarfile.open(fileobj=sink, mode="w|", format=tarfile.PAX_FORMAT)

    def add(path: str, name: str):
        ti = tf.gettarinfo(path, arcname=name)
        if not archive:
            ti.uid = ti.gid = 0
            ti.uname = ti.gname = ""
        if ti.isreg():
            with open(path, "rb") as f:
                tf.addfile(ti, f)
            total[0] += ti.size
        else:
            tf.addfile(ti)

    def walk():
        src_dir = src[:-2] if src.endswith("/.") else src
        add(src_dir, base)
        yield
        if os.path.isdir(src_dir) and not os.path.islink(src_dir):
            for root, dirs, files in os.walk(src_dir):
                dirs.sort()
                rel_root = os.path.relpath(root, src_dir)
                for name in sorted(dirs) + sorted(files):
                    full = os.path.join(root, name)
                    rel = name if rel_root == "." else f"{rel_root}/{name}"
                    add(full, f"{base}/{rel}")
                    yield
                # symlinked directories are entries, not walked into
                dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(root, d))]

    for _ in walk():
        if sink.chunks:
            data = b"".join(sink.chunks)
            sink.chunks.clear()
            yield data
    tf.close()
    if sink.chunks:
        yield b"".join(sink.chunks)


def copy_to(app, src: str, ctr: str, dst: str, follow: bool, archive: bool, quiet: bool) -> None:
    st = container_stat(app, ctr, dst)
    if st and st.get("mode", 0) & MODE_SYMLINK:
        target = st.get("linkTarget") or ""
        if not target.startswith("/"):
            target = posixpath.join(_split_dir_entry(dst)[0], target)
        dst = target
        st = container_stat(app, ctr, dst)
    dst_exists = st is not None
    dst_is_dir = bool(st and st.get("mode", 0) & MODE_DIR)
    mode = st.get("mode", 0) if st else 0
    if mode & MODE_DEVICE or mode & MODE_IRREGULAR:
        what = "got a device" if mode & MODE_DEVICE else "got an irregular file"
        raise CLIError(f'destination "{ctr}:{dst}" must be a directory or a regular file: {what}')
    q = {"path": None, "noOverwriteDirNonDir": "true"}
    if archive:
        q["copyUIDGID"] = "true"
    if src == "-":
        if not dst_is_dir:
            raise CLIError(f'destination "{ctr}:{dst}" must be a directory')
        q["path"] = dst
        body = sys.stdin.buffer
        counter = None
    else:
        path, is_dir, rebase = _source_info(src, follow)
        dst_dir, renames = prepare(is_dir, path, rebase, dst, dst_exists, dst_is_dir)
        base = renames[1] if renames else (rebase or _split_dir_entry(path)[1])
        q["path"] = dst_dir or "/"
        counter = [0]
        body = _tar_stream(path, base, archive, counter)
    app.api.request("PUT", f"/containers/{quote(ctr)}/archive", q, body=body,
                    headers={"Content-Type": "application/x-tar"}).read()
    if not quiet and term.is_tty(2) and counter is not None:
        app.err(f"Successfully copied {human_size(counter[0])} to {ctr}:{dst}")


def main(app, opts, args):
    src_ctr, src = split_cp_arg(args[0])
    dst_ctr, dst = split_cp_arg(args[1])
    if src_ctr and dst_ctr:
        raise CLIError("copying between containers is not supported")
    if not src_ctr and not dst_ctr:
        raise CLIError("must specify at least one container source")
    if src_ctr:
        if not src:
            raise CLIError("source can not be empty")
        copy_from(app, src_ctr, src, dst, opts.follow_link, opts.quiet)
    else:
        if not dst:
            raise CLIError("destination can not be empty")
        copy_to(app, src, dst_ctr, dst, opts.follow_link, opts.archive, opts.quiet)
    return 0
