"""userlookup.py: --user and --group-add against the container's /etc/passwd and /etc/group.

Expected ids are what dockerd 20.10 put in config.json for the same rootfs files (see specgen_helpers)."""
from __future__ import annotations

import os

import pytest

from dockyard.daemon.containers.userlookup import (UserLookupError, exec_user, parse_group, parse_passwd,
                                                  read_rootfs_file, resolve_user)
from specgen_helpers import make_rootfs

ROOT_GROUPS = [0, 0, 1, 2, 3, 4, 6, 10, 11, 26, 27]


@pytest.mark.parametrize("spec, uid, gid, gids", [
    ("", 0, 0, ROOT_GROUPS),
    ("0", 0, 0, ROOT_GROUPS),
    ("root", 0, 0, ROOT_GROUPS),
    ("bob", 1000, 100, [100, 100]),
    ("1000", 1000, 100, [100, 100]),        # a numeric uid listed in passwd is that user
    ("bob:daemon", 1000, 1, [1]),            # an explicit group: no supplementary groups
    ("1000:1", 1000, 1, [1]),
    ("nobody", 65534, 65534, [65534]),
    ("4242", 4242, 0, [0]),                  # not in passwd: fine, gid 0
    ("4242:4242", 4242, 4242, [4242]),
    ("root:tty", 0, 5, [5]),
])
def test_users(rootfs, spec, uid, gid, gids):
    u = resolve_user(rootfs, spec)
    assert (u.uid, u.gid, u.additional_gids) == (uid, gid, gids)


def test_group_add(rootfs):
    assert resolve_user(rootfs, "bob", ["tape", "777"]).additional_gids == [100, 100, 26, 777]
    assert resolve_user(rootfs, "", ["tape"]).additional_gids == ROOT_GROUPS + [26]
    assert resolve_user(rootfs, "", ["0", "root"]).additional_gids == ROOT_GROUPS + [0]


@pytest.mark.parametrize("spec, group_add, msg", [
    ("nosuch", [], "unable to find user nosuch: no matching entries in passwd file"),
    ("bob:nosuch", [], "unable to find group nosuch: no matching entries in group file"),
    ("", ["nosuch"], "Unable to find group nosuch: no matching entries in group file"),
    ("99999999999", [], "uid 99999999999 is out of range"),
    ("bob\n", [], "invalid user"),
])
def test_errors(rootfs, spec, group_add, msg):
    with pytest.raises(UserLookupError) as e:
        resolve_user(rootfs, spec, group_add)
    assert msg in str(e.value)


def test_missing_files(tmp_path):
    root = str(tmp_path)
    assert (resolve_user(root, "").uid, resolve_user(root, "").additional_gids) == (0, [0])
    assert resolve_user(root, "123:45").additional_gids == [45]
    with pytest.raises(UserLookupError, match="unable to find user bob"):
        resolve_user(root, "bob")


def test_malformed_lines_are_never_uid_0():
    users = parse_passwd("evil:x:notanumber:0::/:/bin/sh\n#comment\n\nshort:x\nok:x:7:8::/home/ok:/bin/sh\n")
    assert [(u.name, u.uid, u.gid, u.home) for u in users] == [("ok", 7, 8, "/home/ok")]
    with pytest.raises(UserLookupError):
        exec_user("evil", users, [])
    groups = parse_group("g:x:5:a,,b\nbad:x:y:\n")
    assert [(g.name, g.gid, g.members) for g in groups] == [("g", 5, ["a", "b"])]


def test_symlinks_stay_in_the_rootfs(tmp_path):
    """/etc/passwd -> /outside/passwd must mean <rootfs>/outside/passwd, never the host's file."""
    root = tmp_path / "rootfs"
    (root / "etc").mkdir(parents=True)
    (root / "inside").mkdir()
    (root / "inside" / "passwd").write_text("alice:x:1234:1234::/:/bin/sh\n")
    (root / "inside" / "group").write_text("staff:x:50:alice\n")
    os.symlink("/inside/passwd", root / "etc" / "passwd")
    os.symlink("../../../../../../inside/group", root / "etc" / "group")  # ".." stops at the rootfs
    assert resolve_user(str(root), "alice").additional_gids == [1234, 50]
    with pytest.raises(UserLookupError, match="unable to find user root"):
        resolve_user(str(root), "root")  # the host's /etc/passwd has root; the rootfs' does not
    os.unlink(root / "etc" / "group")
    os.symlink("group", root / "etc" / "group")
    with pytest.raises(UserLookupError, match="/etc/group in the container is a symbolic link that cannot be resolved"):
        resolve_user(str(root), "alice")


def test_refuses_fifo_and_huge_files(tmp_path):
    root = tmp_path / "rootfs"
    (root / "etc").mkdir(parents=True)
    os.mkfifo(root / "etc" / "passwd")
    with pytest.raises(UserLookupError, match="not a regular file"):
        read_rootfs_file(str(root), "/etc/passwd")
    os.unlink(root / "etc" / "passwd")
    with open(root / "etc" / "passwd", "wb") as f:
        f.truncate((16 << 20) + 1)
    with pytest.raises(UserLookupError, match="larger than"):
        read_rootfs_file(str(root), "/etc/passwd")


def test_reads_the_given_rootfs(tmp_path):
    a = make_rootfs(str(tmp_path / "a"), passwd="app:x:500:500::/srv:/bin/sh\n", group="app:x:500:\nextra:x:9:app\n")
    u = resolve_user(a, "app")
    assert (u.uid, u.gid, u.additional_gids, u.home) == (500, 500, [500, 9], "/srv")
