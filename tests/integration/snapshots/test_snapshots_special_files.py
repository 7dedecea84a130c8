"""Device nodes, xattrs and file capabilities through both snapshotters (root),
and the overlay on-disk form of whiteouts."""
from __future__ import annotations

import io
import os
import stat
import struct
import tarfile

import pytest

from dockyard.snapshots.apply import LayerError, apply_layer
from dockyard.snapshots.diff import write_diff
from dockyard.snapshots.fsops import OVERLAY_OPAQUE, is_whiteout
from dockyard.snapshots.tarstream import TarReader
from dockyard.snapshots.layerstream import LayerStream
from dockyard.snapshots.unpack import unpack
from snap_tarbuild import d, entry, f, opq, sym, tar, wh, write_blob

pytestmark = pytest.mark.root

# struct vfs_cap_data, revision 2, effective: cap_net_bind_service (10) permitted
CAP_NET_BIND = struct.pack("<IIIII", 0x02000001, 1 << 10, 0, 0, 0)


def _pax(ti, **xattrs):
    ti.pax_headers = {f"SCHILY.xattr.{k}": v.decode("utf-8", "surrogateescape") for k, v in xattrs.items()}
    return ti


def special_layer() -> bytes:
    ping, ping_data = f("usr/bin/ping", b"\x7fELF-not-really", mode=0o755)
    _pax(ping, **{"security.capability": CAP_NET_BIND, "user.origin": b"test"})
    su, su_data = f("usr/bin/su", b"su", mode=0o4755, uid=0, gid=0)
    tagged_dir, _ = d("data", mode=0o2775, uid=1000, gid=1000)
    _pax(tagged_dir, **{"user.dir": b"\x00\xff binary"})
    return tar(
        d("dev"),
        entry("dev/null", tarfile.CHRTYPE, devmajor=1, devminor=3, mode=0o666),
        entry("dev/loop7", tarfile.BLKTYPE, devmajor=7, devminor=7, mode=0o660, gid=6),
        entry("dev/initctl", tarfile.FIFOTYPE, mode=0o600),
        d("usr"), d("usr/bin"), (ping, ping_data), (su, su_data),
        entry("usr/bin/ping6", tarfile.LNKTYPE, linkname="usr/bin/ping"),
        (tagged_dir, b""), sym("data/link", "../usr/bin/ping"),
    )


def check_special(root):
    st = os.lstat(root / "dev/null")
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(1, 3) and stat.S_IMODE(st.st_mode) == 0o666
    st = os.lstat(root / "dev/loop7")
    assert stat.S_ISBLK(st.st_mode) and st.st_rdev == os.makedev(7, 7) and st.st_gid == 6
    assert stat.S_ISFIFO(os.lstat(root / "dev/initctl").st_mode)
    ping = root / "usr/bin/ping"
    assert os.getxattr(ping, "security.capability") == CAP_NET_BIND
    assert os.getxattr(ping, "user.origin") == b"test"
    assert os.lstat(root / "usr/bin/ping6").st_ino == os.lstat(ping).st_ino
    assert os.getxattr(root / "usr/bin/ping6", "security.capability") == CAP_NET_BIND  # the link kept it
    assert stat.S_IMODE(os.lstat(root / "usr/bin/su").st_mode) == 0o4755
    st = os.lstat(root / "data")
    assert stat.S_IMODE(st.st_mode) == 0o2775 and (st.st_uid, st.st_gid) == (1000, 1000)
    assert os.getxattr(root / "data", "user.dir") == b"\x00\xff binary"


def test_special_files_survive_unpack_mount_and_copy(sn, tmp_path, mnt):
    blob = write_blob(tmp_path / "special", special_layer(), "zstd")
    base = unpack(sn, [blob])
    check_special(mnt(sn.view("v", base), "view"))
    # the native snapshotter copies the tree here: everything must survive the copy
    ctr = mnt(sn.prepare("ctr", base), "ctr")
    check_special(ctr)


def test_capabilities_travel_through_a_diff(sn, tmp_path, mnt):
    base = unpack(sn, [write_blob(tmp_path / "base", tar(d("bin"), f("bin/tool", b"t", mode=0o755)))])
    ctr = mnt(sn.prepare("ctr", base), "ctr")
    os.setxattr(ctr / "bin/tool", "security.capability", CAP_NET_BIND)
    os.mknod(ctr / "bin/zero", stat.S_IFCHR | 0o644, os.makedev(1, 5))
    mnt.release(ctr)
    out = io.BytesIO()
    write_diff(sn.layers("ctr"), out)
    entries = {e.name: e for e in TarReader(LayerStream(io.BytesIO(out.getvalue()), None))}
    assert entries["bin/tool"].xattrs == {"security.capability": CAP_NET_BIND}
    assert (entries["bin/zero"].devmajor, entries["bin/zero"].devminor) == (1, 5)
    sn.prepare("check", base)
    t = sn.layers("check")
    apply_layer(io.BytesIO(out.getvalue()), t.upper, whiteouts=t.whiteouts, lowers=t.lowers)
    chk = mnt(sn.mounts("check"), "check")
    assert os.getxattr(chk / "bin/tool", "security.capability") == CAP_NET_BIND
    assert os.lstat(chk / "bin/zero").st_rdev == os.makedev(1, 5)


# -- the overlay form of a layer ---------------------------------------------------

@pytest.fixture
def lowers(tmp_path):
    low = tmp_path / "low"
    low.mkdir()
    apply_layer(io.BytesIO(tar(d("etc", mode=0o750, uid=7, gid=8), f("etc/a", b"a"), d("var"),
                               f("var/x", b"x"), sym("evil", "/etc"), sym("up", "etc"))), low,
                whiteouts="overlay")
    up = tmp_path / "up"
    up.mkdir()
    return up, [str(low)]


def test_overlay_whiteouts_are_devices_and_opaque_is_an_xattr(lowers):
    up, low = lowers
    apply_layer(io.BytesIO(tar(wh("etc/a"), d("var"), opq("var"), f("var/y", b"y"))), up,
                whiteouts="overlay", lowers=low)
    assert is_whiteout(os.lstat(up / "etc/a"))
    assert not (up / "etc" / ".wh.a").exists()
    assert os.getxattr(up / "var", OVERLAY_OPAQUE) == b"y"
    assert not (up / "var" / ".wh..wh..opq").exists()
    # etc was created only to hold the whiteout: it looks as it does below
    st = os.lstat(up / "etc")
    assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (0o750, 7, 8)
    assert OVERLAY_OPAQUE not in os.listxattr(up / "etc")


def test_overlay_whiteout_then_recreate_is_opaque(lowers):
    up, low = lowers
    apply_layer(io.BytesIO(tar(wh("var"), f("var/new", b"n"))), up, whiteouts="overlay", lowers=low)
    assert os.getxattr(up / "var", OVERLAY_OPAQUE) == b"y"
    assert os.listdir(up / "var") == ["new"]


def test_overlay_symlink_in_a_lower_layer_is_not_followed(lowers):
    up, low = lowers
    with pytest.raises(LayerError, match="layer entry 'evil/passwd': path goes through symlink 'evil'"):
        apply_layer(io.BytesIO(tar(f("evil/passwd", b"pwned"))), up, whiteouts="overlay", lowers=low)
    assert not up.exists()
    up.mkdir()
    with pytest.raises(LayerError, match="goes through symlink 'up'"):
        apply_layer(io.BytesIO(tar(wh("up/a"))), up, whiteouts="overlay", lowers=low)


def test_overlay_xattrs_in_the_tar_are_ignored(lowers):
    up, low = lowers
    ti, data = d("sneaky")
    ti.pax_headers = {"SCHILY.xattr.trusted.overlay.opaque": "y",
                      "SCHILY.xattr.trusted.overlay.redirect": "/etc"}
    apply_layer(io.BytesIO(tar((ti, data))), up, whiteouts="overlay", lowers=low)
    assert [x for x in os.listxattr(up / "sneaky") if x.startswith("trusted.overlay.")] == []


def test_overlay_base_layer_needs_no_whiteout_devices(tmp_path):
    base = tmp_path / "base"
    base.mkdir()
    apply_layer(io.BytesIO(tar(f("a", b"1"), f("b", b"2"), wh("b"), wh("never-there"), d("x"), opq("x"))),
                base, whiteouts="overlay")
    assert sorted(os.listdir(base)) == ["a", "x"]  # a single-layer view can bind it as it is
    assert OVERLAY_OPAQUE not in os.listxattr(base / "x")
