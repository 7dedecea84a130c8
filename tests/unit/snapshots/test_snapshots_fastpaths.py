"""The quick paths of layer unpacking give what the plain ones give: the header decoder against
tarfile's, background decompression against reading in place, and the Docker size of a layer."""
from __future__ import annotations

import io
import os
import tarfile
import threading
import time

import pytest

from dockyard.images import layerio
from dockyard.snapshots.apply import apply_layer
from dockyard.snapshots.layerstream import LayerStream, StreamError
from dockyard.snapshots.tarstream import TarReader, parse_header
from snap_tarbuild import compress, d, diff_id, f, hard, sym, tar, tree, wh

FIELDS = ("name", "type", "mode", "uid", "gid", "size", "mtime", "linkname", "devmajor", "devminor")


def headers(raw: bytes):
    """Every header block of a tar, found with tarfile."""
    with tarfile.open(fileobj=io.BytesIO(raw), mode="r:") as tf:
        offsets = [m.offset for m in tf]
    out = []
    for off in offsets:
        blk = raw[off:off + 512]
        out.append(blk)
        info = tarfile.TarInfo.frombuf(blk, "utf-8", "surrogateescape")
        if info.type in (tarfile.XHDTYPE, tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK):
            nxt = off + 512 + -(-info.size // 512) * 512
            out.append(raw[nxt:nxt + 512])
    return out


def same(blk: bytes) -> None:
    want = tarfile.TarInfo.frombuf(blk, "utf-8", "surrogateescape")
    got = parse_header(blk)
    assert {k: getattr(got, k) for k in FIELDS} == {k: getattr(want, k) for k in FIELDS}


@pytest.mark.parametrize("fmt", [tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
def test_header_decoder_matches_tarfile(fmt):
    long = "a/" * 70 + "file"  # ustar splits it into prefix + name
    entries = [d("dir"), f("dir/x", b"data", uid=1000, gid=1000, mode=0o4755), sym("dir/l", "x"),
               hard("dir/h", "dir/x"), f(long, b"1"), f("caf\u00e9", b"u")]
    if fmt != tarfile.USTAR_FORMAT:
        entries += [f("big", b"", uid=1 << 30, gid=(1 << 21) + 5), f("n" * 120, b"long name"),
                    sym("s", "t" * 150)]
    for blk in headers(tar(*entries, fmt=fmt)):
        same(blk)


def test_header_decoder_odd_blocks_match_tarfile():
    ti = tarfile.TarInfo("olddir/")
    ti.type = tarfile.AREGTYPE  # a V7 directory: a regular file whose name ends in /
    blk = ti.tobuf(tarfile.USTAR_FORMAT)
    assert parse_header(blk).type == tarfile.DIRTYPE
    same(blk)
    # a signed checksum (old tars): the fast path hands it to tarfile, which accepts it
    raw = bytearray(tarfile.TarInfo("\xe9t\xe9").tobuf(tarfile.GNU_FORMAT, "latin-1"))
    raw[148:156] = b" " * 8
    signed = 256 + sum(b - 256 if b > 127 else b for b in raw[:148] + raw[156:])
    raw[148:156] = b"%06o\0 " % signed
    same(bytes(raw))
    # base-256 numbers
    ti = tarfile.TarInfo("huge")
    ti.uid = 1 << 40
    same(ti.tobuf(tarfile.GNU_FORMAT))
    # bad blocks fail as tarfile fails
    bad = bytearray(tarfile.TarInfo("x").tobuf(tarfile.USTAR_FORMAT))
    bad[0] = ord("y")
    with pytest.raises(tarfile.HeaderError, match="bad checksum"):
        parse_header(bytes(bad))
    bad = bytearray(tarfile.TarInfo("x").tobuf(tarfile.USTAR_FORMAT))
    bad[124:128] = b"zzzz"
    with pytest.raises(tarfile.HeaderError):
        parse_header(bytes(bad))


def read_all(s, n=7777) -> bytes:
    out = []
    while True:
        b = s.read(n)
        if not b:
            return b"".join(out)
        out.append(b)


@pytest.mark.parametrize("compression", [None, "gzip", "zstd"])
def test_background_stream_gives_the_same_bytes_and_diff_id(compression):
    data = os.urandom(1 << 20) + bytes(3 << 20)
    blob = compress(data, compression)
    a, b = LayerStream(io.BytesIO(blob)), LayerStream(io.BytesIO(blob), background=True)
    assert read_all(a) == read_all(b) == data
    assert a.diff_id == b.diff_id == diff_id(data) and a.total == b.total == len(data)
    b.close()


def test_background_stream_raises_the_decoders_errors():
    s = LayerStream(io.BytesIO(b"\x1f\x8b" + b"garbage" * 100), background=True)
    with pytest.raises(StreamError, match="corrupt gzip stream"):
        read_all(s)
    s.close()
    import zstandard
    bomb = zstandard.ZstdCompressor(level=3).compress(bytes(256 << 20))
    s = LayerStream(io.BytesIO(bomb), max_bytes=1 << 20, background=True)
    with pytest.raises(StreamError, match="larger than the limit of 1048576 bytes"):
        read_all(s)
    s.close()


class Stalling:
    """A source that gives some bytes, then blocks until released."""

    def __init__(self):
        self.release = threading.Event()
        self.sent = False

    def read(self, n):
        if not self.sent:
            self.sent = True
            return b"x" * 100
        self.release.wait(5)
        return b""


def test_closing_a_background_stream_stops_its_thread():
    src = Stalling()
    s = LayerStream(src, compression=None, background=True)
    assert s.read(10) == b"x" * 10
    threading.Timer(0.1, src.release.set).start()
    t = time.monotonic()
    s.close()
    assert not s._thread.is_alive() and time.monotonic() - t < 4
    assert s.read(10) == b""  # closed


def test_applying_reports_dockers_layer_size(tmp_path):
    raw = tar(d("etc"), f("etc/a", b"12345"), f("etc/b", b"x" * 1000), hard("etc/c", "etc/a"),
              sym("etc/l", "a"), sym("etc/\u00e9", "\u00e9\u00e9"), wh("etc/gone"), f("etc/.wh.x", b""),
              f("etc/a", b"replaced"))
    root = tmp_path / "r"
    root.mkdir()
    res = apply_layer(io.BytesIO(raw), root)
    assert res.unpacked_size == layerio.scan_tar(io.BytesIO(raw)).unpacked_size == 5 + 1000 + 1 + 4 + 8


@pytest.mark.parametrize("compression", [None, "gzip", "zstd"])
def test_parallel_and_plain_unpacking_make_the_same_tree(tmp_path, compression):
    raw = tar(d("usr"), d("usr/bin"), *[f(f"usr/bin/f{i}", os.urandom(i * 100)) for i in range(50)],
              sym("usr/bin/sh", "f1"), hard("usr/bin/h", "usr/bin/f2"), d("var", mode=0o700))
    blob = compress(raw, compression)
    trees = []
    for parallel in (True, False):
        root = tmp_path / f"r{parallel}"
        root.mkdir()
        res = apply_layer(io.BytesIO(blob), root, parallel=parallel)
        assert res.diff_id == diff_id(raw)
        trees.append(tree(root))
    assert trees[0] == trees[1]


def test_reader_of_a_stream_in_the_background(tmp_path):
    raw = tar(*[f(f"f{i}", os.urandom(3000)) for i in range(20)])
    s = LayerStream(io.BytesIO(compress(raw, "zstd")), background=True)
    names = [e.name for e in TarReader(s)]
    s.drain()
    assert names == [f"f{i}" for i in range(20)] and s.diff_id == diff_id(raw)
    s.close()


ROOT = os.geteuid() == 0


def modes(root) -> dict:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            p = os.path.join(dirpath, n)
            st = os.lstat(p)
            out[os.path.relpath(p, root)] = (oct(st.st_mode & 0o7777), st.st_uid, st.st_gid)
    return out


LAYER = [d("d", mode=0o2775), f("d/a", b"a", mode=0o644), f("d/b", b"b", mode=0o664), f("d/s", b"s", mode=0o4755),
         f("d/p", b"p", mode=0o600), f("d/w", b"w", mode=0o777), sym("d/l", "a"), f("top", b"t", mode=0o640)]


def test_modes_come_out_exact_whatever_the_umask(tmp_path):
    """Files are created with their final mode when the umask keeps it, else chmod'ed."""
    import subprocess
    import sys
    blob = tmp_path / "l.tar"
    blob.write_bytes(tar(*LAYER))
    got = {}
    for umask in ("0o022", "0o077", "0o000"):
        root = tmp_path / f"r{umask}"
        root.mkdir()
        code = (f"import os; os.umask({umask}); from dockyard.snapshots.apply import apply_layer; "
                f"apply_layer({str(blob)!r}, {str(root)!r})")
        subprocess.run([sys.executable, "-c", code], check=True, cwd=os.getcwd())
        got[umask] = modes(root)
    assert got["0o022"] == got["0o077"] == got["0o000"]
    m = got["0o022"]
    assert [m[k][0] for k in ("d", "d/a", "d/b", "d/s", "d/p", "d/w", "top")] == \
        ["0o2775", "0o644", "0o664", "0o4755", "0o600", "0o777", "0o640"]


@pytest.mark.skipif(not ROOT, reason="owners need root")
def test_new_files_in_a_setgid_directory_get_the_owner_of_the_tar(tmp_path):
    """A new inode takes a setgid directory's group: it is chowned back to what the tar says."""
    root = tmp_path / "r"
    root.mkdir()
    os.chown(root, 0, 50)
    os.chmod(root, 0o2775)
    apply_layer(io.BytesIO(tar(f("a", b"1"), d("sub"), sym("l", "a"), f("u", b"2", uid=7, gid=8))), root)
    m = modes(root)
    assert (m["a"][1:], m["sub"][1:], m["l"][1:], m["u"][1:]) == ((0, 0), (0, 0), (0, 0), (7, 8))


def test_a_default_acl_turns_exact_modes_off(tmp_path):
    import shutil
    import subprocess
    if shutil.which("setfacl") is None:
        pytest.skip("setfacl not installed (Debian package acl)")
    root = tmp_path / "r"
    root.mkdir()
    if subprocess.run(["setfacl", "-d", "-m", "u::rwx,g::---,o::---", str(root)]).returncode != 0:
        pytest.skip("no ACL support here")
    apply_layer(io.BytesIO(tar(*LAYER)), root)
    m = modes(root)
    assert [m[k][0] for k in ("d/a", "d/b", "d/w", "top")] == ["0o644", "0o664", "0o777", "0o640"]


def test_names_written_twice_in_a_fresh_directory_are_replaced(tmp_path):
    raw = tar(f("x", b"1"), f("x", b"2"), d("y"), f("y/z", b"3"), f("y", b"now a file"), sym("l", "x"),
              f("l", b"not a link"), d("q"), d("q", mode=0o700))
    root = tmp_path / "r"
    root.mkdir()
    apply_layer(io.BytesIO(raw), root)
    assert (root / "x").read_bytes() == b"2" and (root / "y").read_bytes() == b"now a file"
    assert not (root / "l").is_symlink() and (root / "l").read_bytes() == b"not a link"
    assert oct((root / "q").stat().st_mode & 0o777) == "0o700"
