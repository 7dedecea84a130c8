"""cp's extraction of tar streams from a container: hostile archives cannot escape the destination."""
from __future__ import annotations

import io
import os
import tarfile

import pytest

from dockyard.cli.untar import UntarError, extract, rebase_name


def make_tar(entries) -> io.BytesIO:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for e in entries:
            ti = tarfile.TarInfo(e["name"])
            ti.type = e.get("type", tarfile.REGTYPE)
            ti.mode = e.get("mode", 0o644)
            ti.linkname = e.get("link", "")
            ti.mtime = 1000
            data = e.get("data", b"")
            ti.size = len(data) if ti.type == tarfile.REGTYPE else 0
            tf.addfile(ti, io.BytesIO(data) if ti.type == tarfile.REGTYPE else None)
    buf.seek(0)
    return buf


def test_extracts_files_dirs_links_modes(tmp_path):
    t = make_tar([{"name": "d", "type": tarfile.DIRTYPE, "mode": 0o750},
                  {"name": "d/f", "data": b"hello", "mode": 0o640},
                  {"name": "d/l", "type": tarfile.SYMTYPE, "link": "/etc/passwd"},
                  {"name": "d/h", "type": tarfile.LNKTYPE, "link": "d/f", "mode": 0o640},
                  {"name": "d/p", "type": tarfile.FIFOTYPE}])
    assert extract(t, str(tmp_path)) == 5
    d = tmp_path / "d"
    assert (d / "f").read_bytes() == b"hello" and oct((d / "f").stat().st_mode & 0o777) == "0o640"
    assert os.readlink(d / "l") == "/etc/passwd"  # symlinks are kept, never followed
    assert (d / "h").stat().st_ino == (d / "f").stat().st_ino
    assert oct(d.stat().st_mode & 0o777) == "0o750" and int(d.stat().st_mtime) == 1000


@pytest.mark.parametrize("entries,msg", [
    ([{"name": "../evil", "data": b"x"}], "outside of"),
    ([{"name": "/abs", "data": b"x"}], "outside of"),
    ([{"name": "a/../../evil", "data": b"x"}], "outside of"),
    ([{"name": "l", "type": tarfile.SYMTYPE, "link": "/tmp"}, {"name": "l/evil", "data": b"x"}],
     "passes through non-directory"),
    ([{"name": "h", "type": tarfile.LNKTYPE, "link": "../../etc/passwd"}], "outside of"),
])
def test_hostile_entries_are_refused(tmp_path, entries, msg):
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(UntarError, match=msg):
        extract(make_tar(entries), str(dest))
    assert not (tmp_path / "evil").exists() and not os.path.exists("/tmp/evil")


def test_symlink_is_replaced_not_followed(tmp_path):
    outside = tmp_path / "outside"
    outside.write_text("keep")
    dest = tmp_path / "dest"
    dest.mkdir()
    os.symlink(outside, dest / "f")
    extract(make_tar([{"name": "f", "data": b"new"}]), str(dest))
    assert outside.read_text() == "keep" and (dest / "f").read_bytes() == b"new" and not (dest / "f").is_symlink()


def test_no_dir_nondir_overwrite(tmp_path):
    (tmp_path / "d").mkdir()
    with pytest.raises(UntarError, match="cannot overwrite directory"):
        extract(make_tar([{"name": "d", "data": b"x"}]), str(tmp_path))
    (tmp_path / "f").write_text("x")
    with pytest.raises(UntarError, match="cannot overwrite non-directory"):
        extract(make_tar([{"name": "f", "type": tarfile.DIRTYPE}]), str(tmp_path))


def test_rebase():
    assert rebase_name("src/a", "src", "dst") == "dst/a"
    assert rebase_name("src", "src", "dst") == "dst"
    assert rebase_name("srcx/a", "src", "dst") == "srcx/a"
    assert rebase_name("./a", ".", "dst") == "dst/a"
    t = make_tar([{"name": "etc", "type": tarfile.DIRTYPE}, {"name": "etc/x", "data": b"1"}])
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        extract(t, d, ("etc", "copy"))
        assert os.listdir(d) == ["copy"] and open(os.path.join(d, "copy", "x")).read() == "1"
