"""The X-Docker-Container-Path-Stat header: Go's FileMode and time encodings, dockerd's path rules."""
import base64
import os
import stat
from datetime import timedelta, timezone

import pytest

from dockyard.daemon.containers import pathstat
from dockyard.daemon.containers.securefs import ContainerFS

UTC = timezone.utc


@pytest.mark.parametrize("st_mode,go", [
    # values taken from dockerd 20.10's headers for the same files
    (stat.S_IFDIR | 0o755, 2147484141),                  # a directory
    (stat.S_IFLNK | 0o777, 134218239),                   # a symlink
    (stat.S_IFREG | 0o644, 420),                         # a file
    (stat.S_IFDIR | 0o1777, 2148532735),                 # /tmp: ModeDir|ModeSticky|0777
    (stat.S_IFREG | 0o4755, (1 << 23) | 0o755),          # setuid
    (stat.S_IFREG | 0o2755, (1 << 22) | 0o755),          # setgid
    (stat.S_IFCHR | 0o666, (1 << 26) | (1 << 21) | 0o666),   # char device: ModeDevice|ModeCharDevice
    (stat.S_IFBLK | 0o660, (1 << 26) | 0o660),
    (stat.S_IFIFO | 0o600, (1 << 25) | 0o600),
    (stat.S_IFSOCK | 0o755, (1 << 24) | 0o755),
])
def test_go_file_mode(st_mode, go):
    assert pathstat.go_file_mode(st_mode) == go


def test_go_time():
    ns = 1795806635776416622   # 2026-11-27T19:10:35.776416622Z
    assert pathstat.go_time(ns, UTC) == "2026-11-27T19:10:35.776416622Z"
    assert pathstat.go_time(1795806635 * 10**9, UTC) == "2026-11-27T19:10:35Z"
    assert pathstat.go_time(1795806635 * 10**9 + 500_000_000, UTC) == "2026-11-27T19:10:35.5Z"
    assert pathstat.go_time(0, timezone(timedelta(hours=2))) == "1970-01-01T02:00:00+02:00"
    assert pathstat.go_time(0, timezone(-timedelta(hours=3, minutes=30))) == "1969-12-31T20:30:00-03:30"
    assert pathstat.go_time(-10**9, UTC) == "1969-12-31T23:59:59Z"
    assert pathstat.go_time(10**30, UTC) == "9999-01-01T00:00:00Z"   # clamped, never an error


def test_header_is_base64_of_go_json():
    st = pathstat.PathStat("passwd", 32, 420, "2026-11-27T19:10:35.776652604Z")
    # byte for byte what dockerd sent for the same stat
    assert st.header_value() == ("eyJuYW1lIjoicGFzc3dkIiwic2l6ZSI6MzIsIm1vZGUiOjQyMCwibXRpbWUiOiIyMDI2LTExLTI3"
                                 "VDE5OjEwOjM1Ljc3NjY1MjYwNFoiLCJsaW5rVGFyZ2V0IjoiIn0=")
    st = pathstat.PathStat("a<b>&\u00e9", 1, 2, "t", "/x")
    raw = base64.b64decode(st.header_value())
    assert raw == '{"name":"a\\u003cb\\u003e\\u0026\u00e9","size":1,"mode":2,"mtime":"t","linkTarget":"/x"}'.encode()
    assert pathstat.decode_header(st.header_value())["name"] == "a<b>&\u00e9"
    bad = pathstat.PathStat(os.fsdecode(b"x\xff"), 0, 0, "t")   # invalid UTF-8 in a file name
    assert pathstat.decode_header(bad.header_value())["name"] == "x\ufffd"


@pytest.mark.parametrize("given,abs_path,follow,base,rebase", [
    ("/", "/", True, "/", ""),
    ("/.", "/.", True, ".", "."),
    (".", "/.", True, ".", "."),
    ("/etc", "/etc", False, "etc", "etc"),
    ("etc", "/etc", False, "etc", "etc"),
    ("/etc/", "/etc/", True, "etc", "etc"),
    ("/etc/.", "/etc/.", True, ".", "."),
    ("/etc/./", "/etc/./", True, ".", "."),
    ("//x//y/../z", "/x/z", False, "z", "z"),
    ("/a/..", "/", True, "/", ""),
])
def test_parse_path_as_dockerd(given, abs_path, follow, base, rebase):
    r = pathstat.parse_path(given)
    assert (r.abs_path, r.follow_last, r.base, r.rebase) == (abs_path, follow, base, rebase)


def test_stat_entry_of_links_files_and_dirs(tmp_path):
    root = tmp_path / "rootfs"
    (root / "bin").mkdir(parents=True)
    (root / "bin" / "busybox").write_text("x")
    os.symlink("busybox", root / "bin" / "sh")
    os.symlink("/", root / "evil")
    os.symlink("../../../../etc", root / "evil2")
    os.symlink("/nonexistent/foo", root / "dangling")
    os.chmod(root / "bin" / "busybox", 0o644)
    os.utime(root / "bin" / "busybox", ns=(0, 1795806635 * 10**9))
    with ContainerFS(str(root)) as fs:
        def st(p):
            req = pathstat.parse_path(p)
            with pathstat.resolve_request(fs, req) as r:
                return pathstat.stat_entry(fs, req, r, UTC)

        assert st("/bin/sh") == pathstat.PathStat("sh", 7, 134218239, st("/bin/sh").mtime, "/bin/busybox")
        assert st("/evil").link_target == "/" and st("/evil").name == "evil"
        assert st("/evil2").link_target == "/etc"
        assert st("/dangling").link_target == "/nonexistent/foo"
        evil_dir = st("/evil/")   # a trailing slash follows the link: the root directory
        assert (evil_dir.name, evil_dir.mode, evil_dir.link_target) == ("evil", pathstat.go_file_mode(
            os.stat(root).st_mode), "")
        assert st("/bin/busybox") == pathstat.PathStat("busybox", 1, 420, "2026-11-27T19:10:35Z")
        assert st("/").name == "/"
        with pytest.raises(NotADirectoryError):
            st("/bin/busybox/")
        with pytest.raises(FileNotFoundError):
            st("/nope")
