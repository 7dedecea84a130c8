"""Layout detection from /proc/self/{cgroup,mountinfo} and cgroupsPath resolution."""
import os

import pytest

from dockyard.cgroups import CgroupError, V1Manager, V2Manager, open_manager
from dockyard.cgroups.paths import detect_layout, parse_mountinfo, resolve_cgroups_path


def _layout(h):
    return detect_layout(os.path.join(h.proc, "self", "cgroup"), os.path.join(h.proc, "self", "mountinfo"), h.root)


def test_hybrid_layout(v1host):
    lay = _layout(v1host)
    assert lay.mode == "hybrid"
    by = {h.name: h for h in lay.hierarchies}
    assert set(by) == {"cpuset", "cpu,cpuacct", "memory", "devices", "freezer", "blkio", "pids", "name=systemd"}
    assert by["cpu,cpuacct"].controllers == ("cpu", "cpuacct")
    assert by["cpu,cpuacct"].mount == v1host.path("cpu,cpuacct")
    assert by["memory"].own == "/process_api/abc"
    assert by["memory"].own_dir == v1host.path("memory", "process_api", "abc")
    assert by["name=systemd"].controllers == () and by["name=systemd"].own == "/user.slice"
    assert by["pids"].own_dir == v1host.path("pids")
    assert lay.unified.mount == v1host.path("unified") and lay.unified.own == "/"


def test_pure_v1_and_pure_v2(make_host):
    assert _layout(make_host("v1")).mode == "v1"
    assert _layout(make_host("v1")).unified is None
    v2 = make_host("v2")
    lay = _layout(v2)
    assert lay.mode == "v2" and lay.hierarchies == ()
    assert lay.unified.mount == v2.root and lay.unified.own == "/user.slice/session-1.scope"


def test_mount_root_inside_hierarchy_is_stripped(tmp_path):
    # inside a container: the hierarchy is mounted from /docker/abc, we sit in /docker/abc/sub
    (tmp_path / "self").mkdir()
    (tmp_path / "self" / "cgroup").write_text("3:memory:/docker/abc/sub\n5:pids:/elsewhere\n0::/\n")
    (tmp_path / "self" / "mountinfo").write_text(
        "40 30 0:40 /docker/abc /sys/fs/cgroup/memory ro,nosuid - cgroup cgroup rw,memory\n"
        "41 30 0:41 /docker/abc /sys/fs/cgroup/pids ro,nosuid - cgroup cgroup rw,pids\n")
    lay = detect_layout(str(tmp_path / "self" / "cgroup"), str(tmp_path / "self" / "mountinfo"))
    assert [(h.name, h.mount, h.own) for h in lay.hierarchies] == [("memory", "/sys/fs/cgroup/memory", "/sub")]
    assert lay.mode == "v1"


def test_mountinfo_escapes_and_optional_fields():
    ms = parse_mountinfo("50 1 0:5 / /mnt/with\\040space rw shared:3 master:1 - cgroup2 none rw\n"
                         "51 1 0:6 / /proc rw - proc proc rw\n")
    assert len(ms) == 1 and ms[0].mountpoint == "/mnt/with space" and ms[0].fstype == "cgroup2"


def test_no_cgroup_mounted(tmp_path):
    (tmp_path / "cgroup").write_text("0::/\n")
    (tmp_path / "mountinfo").write_text("22 1 8:1 / / rw - ext4 /dev/vda rw\n")
    with pytest.raises(CgroupError, match="no cgroup filesystem"):
        detect_layout(str(tmp_path / "cgroup"), str(tmp_path / "mountinfo"))
    with pytest.raises(CgroupError, match="cannot read"):
        detect_layout(str(tmp_path / "nope"), str(tmp_path / "mountinfo"))


@pytest.mark.parametrize("path,expected", [
    ("", "dockyard/c1"),
    ("a/b", "a/b"),
    ("/a/b", "a/b"),          # absolute: still below our own cgroup, never the hierarchy root
    ("/a//./b/", "a/b"),
    ("system.slice:docker:c1", "system.slice/docker-c1.scope"),
    (":docker:c1", "system.slice/docker-c1.scope"),
    ("machine.slice::c1", "machine.slice/c1.scope"),
    ("user.slice:x:sub.slice", "user.slice/sub.slice"),
])
def test_resolve(path, expected):
    assert resolve_cgroups_path(path, "c1") == expected


@pytest.mark.parametrize("path,msg", [
    ("a/../b", r"'\.\.' is not allowed"),
    ("..", r"'\.\.' is not allowed"),
    ("/", "own cgroup"),
    ("a/b\nc", "control characters"),
    ("system.slice:docker:", "unit name is empty"),
    ("notaslice:docker:c1", "not a slice"),
])
def test_resolve_refuses(path, msg):
    with pytest.raises(CgroupError, match=msg):
        resolve_cgroups_path(path, "c1")


@pytest.mark.parametrize("cid", ["", "a/b", "..", ".", "a\nb"])
def test_resolve_refuses_bad_ids(cid):
    with pytest.raises(CgroupError, match="invalid container id"):
        resolve_cgroups_path("", cid)


def test_open_manager_nests_absolute_paths_under_own_cgroup(v1host):
    m = open_manager("/a/b", "c1", root=v1host.root, proc=v1host.proc)
    assert isinstance(m, V1Manager)
    assert m.path("memory") == v1host.path("memory", "process_api", "abc", "a", "b")
    assert m.path("pids") == v1host.path("pids", "a", "b")
    assert m.path("cpuacct") == v1host.path("cpu,cpuacct", "a", "b")


def test_open_manager_v2(v2host):
    m = open_manager("", "c1", root=v2host.root, proc=v2host.proc)
    assert isinstance(m, V2Manager)
    assert m.dir == v2host.path("user.slice", "session-1.scope", "dockyard", "c1")
