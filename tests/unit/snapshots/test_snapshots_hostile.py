"""Hostile layers: each is refused with a one-line error naming the entry,
nothing is written outside the target, and the target is removed."""
from __future__ import annotations

import gzip
import io
import os
import tarfile

import pytest

from dockyard.snapshots.apply import LayerError, Limits, apply_layer
from snap_tarbuild import d, f, hard, sym, tar


@pytest.fixture
def box(tmp_path):
    """A target dir next to an 'outside' dir holding files an attacker wants."""
    outside = tmp_path / "etc"
    outside.mkdir()
    (outside / "passwd").write_bytes(b"root:x:0:0\n")
    (outside / "shadow").write_bytes(b"root:secret\n")
    target = tmp_path / "layers" / "root"
    target.mkdir(parents=True)
    return tmp_path, target


def snapshot_outside(tmp_path):
    out = {}
    for dirpath, _, files in os.walk(tmp_path):
        if "layers" in dirpath.split(os.sep):
            continue
        for n in files:
            p = os.path.join(dirpath, n)
            st = os.lstat(p)
            out[p] = (st.st_ino, st.st_nlink, st.st_mode, open(p, "rb").read() if os.path.isfile(p) else None)
    return out


def refuse(box, raw: bytes, match: str, **kw):
    tmp_path, target = box
    before = snapshot_outside(tmp_path)
    with pytest.raises(LayerError, match=match) as ei:
        apply_layer(io.BytesIO(raw), target, **kw)
    msg = str(ei.value)
    assert "\n" not in msg
    assert snapshot_outside(tmp_path) == before, "something outside the layer changed"
    assert not target.exists(), "partial extraction left behind"
    assert sorted(os.listdir(tmp_path / "layers")) == []
    return msg


def test_dotdot_name(box):
    msg = refuse(box, tar(f("../etc/passwd", b"pwned")), "path escapes the layer")
    assert msg == "layer entry '../etc/passwd': path escapes the layer"


def test_dotdot_in_the_middle(box):
    refuse(box, tar(d("a"), f("a/../../etc/passwd", b"pwned")), r"layer entry 'a/\.\./\.\./etc/passwd'")


def test_absolute_name_is_normalised_inside(box):
    tmp_path, target = box
    apply_layer(io.BytesIO(tar(f("/etc/passwd", b"inside"))), target)
    assert (target / "etc" / "passwd").read_bytes() == b"inside"
    assert (tmp_path / "etc" / "passwd").read_bytes() == b"root:x:0:0\n"


def test_absolute_symlink_then_write_through_it(box):
    msg = refuse(box, tar(sym("evil", "/etc"), f("evil/passwd", b"pwned")), "goes through symlink")
    assert msg == "layer entry 'evil/passwd': path goes through symlink 'evil'"


def test_relative_symlink_escaping(box):
    refuse(box, tar(d("a"), sym("a/up", "../../../etc")), r"layer entry 'a/up': symlink target .* outside")


def test_symlink_escape_then_use(box):
    refuse(box, tar(sym("up", ".."), f("up/etc/passwd", b"x")), "outside the layer")


def test_path_through_symlinked_directory(box):
    # the symlink stays inside, but writing through it is still refused
    refuse(box, tar(d("real"), sym("link", "real"), f("link/file", b"x")), "goes through symlink 'link'")


def test_whiteout_through_symlink(box):
    refuse(box, tar(sym("evil", "/etc"), f("evil/.wh.passwd")), "goes through symlink")


def test_hardlink_dotdot(box):
    refuse(box, tar(hard("shadow", "../../etc/shadow")), r"hard link target '\.\./\.\./etc/shadow' escapes")


def test_hardlink_absolute_is_looked_up_inside(box):
    # /etc/shadow means <root>/etc/shadow: not in this layer, so refused
    refuse(box, tar(hard("shadow", "/etc/shadow")), "hard link target '/etc/shadow' not found in the layer")


def test_hardlink_through_symlink(box):
    refuse(box, tar(sym("evil", "/etc"), hard("shadow", "evil/shadow")), "goes through symlink 'evil'")


def test_hardlink_to_directory(box):
    refuse(box, tar(d("dir"), hard("l", "dir")), "is a directory")


def test_giant_pax_header(box):
    ti, data = f("a", b"1")
    ti.pax_headers = {"comment": "x" * (2 << 20)}
    refuse(box, tar((ti, data)), "extension header of .* exceeds the limit")


def test_giant_gnu_longname(box):
    refuse(box, tar(f("n" * 5000, b"1"), fmt=tarfile.GNU_FORMAT), "exceeds the limit of 1024",
           limits=Limits(max_header_bytes=1024))


def test_too_many_entries(box):
    refuse(box, tar(*[f(f"f{i}") for i in range(11)]), "more than the limit of 10 entries",
           limits=Limits(max_entries=10))


def test_too_many_bytes(box):
    refuse(box, gzip.compress(tar(f("zeros", bytes(1 << 20)))), "larger than the limit",
           limits=Limits(max_bytes=100_000))


def test_huge_declared_size_refused_before_reading(box):
    ti, _ = f("big", b"")
    ti.size = 0
    raw = bytearray(tar((ti, b"")))
    # patch the size field to 4 GiB and fix the checksum
    raw[124:136] = b"%011o\0" % (4 << 30)
    raw[148:156] = b" " * 8
    raw[148:156] = b"%06o\0 " % sum(raw[:512])
    refuse(box, bytes(raw), r"tar entry 'big': size 4294967296 is larger than the limit", limits=Limits(max_bytes=1 << 20))


def test_truncated_gzip(box):
    blob = gzip.compress(tar(f("a", os.urandom(50000))))
    refuse(box, blob[: len(blob) // 2], "truncated")


def test_truncated_gzip_trailer(box):
    blob = gzip.compress(tar(f("a", b"x")))
    refuse(box, blob[:-4], "truncated|corrupt")


def test_truncated_zstd(box):
    import zstandard
    blob = zstandard.ZstdCompressor().compress(tar(f("a", os.urandom(50000))))
    refuse(box, blob[:-20], "truncated")


def test_truncated_tar_in_data(box):
    raw = tar(f("a", b"x" * 5000))
    refuse(box, raw[:2048], "truncated")


def test_truncated_tar_in_header(box):
    raw = tar(f("a", b"x"), f("b", b"y"))
    refuse(box, raw[:1024 + 100], "truncated inside a header")


def test_corrupt_header_checksum(box):
    raw = bytearray(tar(f("a", b"x")))
    raw[0] = ord("b")
    refuse(box, bytes(raw), "bad checksum")


def test_corrupt_gzip(box):
    blob = bytearray(gzip.compress(tar(f("a", os.urandom(5000)))))
    blob[40] ^= 0xFF
    refuse(box, bytes(blob), "corrupt gzip|truncated")


def test_malformed_pax_record(box):
    raw = bytearray(tar(f("a", b"1", pax_headers={"comment": "hello"})))
    i = raw.index(b"comment=hello")
    raw[i - 3:i - 1] = b"99"  # wrong record length
    raw[148:156] = b" " * 8
    raw[148:156] = b"%06o\0 " % sum(raw[:512])
    refuse(box, bytes(raw), "malformed PAX record")


def test_nul_in_name(box):
    ti, data = f("a", b"1")
    ti.pax_headers = {"path": "a\0b"}
    refuse(box, tar((ti, data)), "NUL")


def test_sparse_refused(box):
    raw = tar(f("s", b"1", pax_headers={"GNU.sparse.major": "1", "GNU.sparse.minor": "0"}))
    refuse(box, raw, "sparse files are not supported")


def test_bad_whiteout(box):
    refuse(box, tar(f(".wh...")), "invalid whiteout")


def test_device_refused_without_privilege_or_applied_as_root(box):
    from snap_tarbuild import entry
    raw = tar(entry("null", tarfile.CHRTYPE, devmajor=1, devminor=3, mode=0o666))
    tmp_path, target = box
    if os.geteuid() == 0:
        apply_layer(io.BytesIO(raw), target)
        assert os.stat(target / "null", follow_symlinks=False).st_rdev == os.makedev(1, 3)
    else:
        refuse(box, raw, "layer entry 'null': Operation not permitted")


def test_setuid_file_is_never_executed(box, tmp_path):
    marker = tmp_path / "ran"
    script = f"#!/bin/sh\ntouch {marker}\n".encode()
    tmp, target = box
    apply_layer(io.BytesIO(tar(f("evil", script, mode=0o6755))), target)
    assert not marker.exists()
