"""userns-remap: subordinate id files, the id map, and the spec changes for remapped containers."""
import struct

import pytest

from dockyard.security import remap, subids, userns_spec
from dockyard.security.remap_snapshots import _caps_for_root


def test_subids_parse_and_ranges_for(tmp_path):
    f = tmp_path / "subuid"
    f.write_text("alice:100000:65536\n# comment\n\nbob:165536:1000\n1001:200000:10\nbroken line\nzero:1:0\n"
                 "alice:300000:5\n")
    ranges, problems = subids.parse(f.read_text(), str(f))
    assert [r.owner for r in ranges] == ["alice", "bob", "1001", "alice"]
    assert len(problems) == 2 and "malformed line 'broken line'" in problems[0] and ":7:" in problems[1]
    assert subids.ranges_for(str(f), "alice") == [subids.Range("alice", 100000, 65536),
                                                   subids.Range("alice", 300000, 5)]
    assert subids.ranges_for(str(f), "carol", 1001) == [subids.Range("1001", 200000, 10)]
    assert subids.ranges_for(str(tmp_path / "missing"), "alice") == []


def test_subids_allocate_above_everything_and_remove(tmp_path):
    f = tmp_path / "subuid"
    f.write_text("alice:100000:65536\nbob:500000:65536")  # no final newline
    f.chmod(0o644)
    r = subids.allocate(str(f), "dockyard")
    assert r == subids.Range("dockyard", 565536, 65536)
    assert f.read_text() == "alice:100000:65536\nbob:500000:65536\ndockyard:565536:65536\n"
    assert subids.allocate(str(f), "dockyard") == r  # idempotent
    assert oct(f.stat().st_mode & 0o777) == "0o644"
    subids.remove(str(f), "dockyard")
    assert f.read_text() == "alice:100000:65536\nbob:500000:65536\n"
    empty = tmp_path / "new"
    assert subids.allocate(str(empty), "x") == subids.Range("x", 100000, 65536)
    # nothing else left next to the files: shadow-utils refuses to work while a FILE.lock exists
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new", "subuid"]


def test_parse_values():
    assert remap.parse("alice") == ("alice", "")
    assert remap.parse("alice:staff") == ("alice", "staff")
    assert remap.parse("1000:1000") == ("1000", "1000")
    for bad in ("", "  ", "alice:", ":staff", "a:b:c"):
        with pytest.raises(remap.RemapError, match="userns-remap"):
            remap.parse(bad)


def test_idmap_maps_and_refuses_outside():
    m = remap.IdMap([(0, 100000, 65536), (65536, 300000, 10)], [(0, 200000, 1000)])
    assert m.root() == (100000, 200000) and m.dir_name == "100000.200000"
    assert m.shift(0, 0) == (100000, 200000)
    assert m.shift(65537, 999) == (300001, 200999)
    assert m.container_uid(300005) == 65541 and m.container_uid(5) is None
    with pytest.raises(remap.RemapError, match="container gid 1000 cannot be mapped"):
        m.shift(0, 1000)
    assert m.spec_mappings() == ([{"containerID": 0, "hostID": 100000, "size": 65536},
                                  {"containerID": 65536, "hostID": 300000, "size": 10}],
                                 [{"containerID": 0, "hostID": 200000, "size": 1000}])


def test_idmap_refuses_ranges_overlapping_the_container_ids():
    with pytest.raises(remap.RemapError, match="must lie above the 65536 ids"):
        remap.IdMap([(0, 1000, 65536)], [(0, 100000, 65536)])
    with pytest.raises(remap.RemapError, match="at least one"):
        remap.IdMap([], [(0, 100000, 65536)])


def test_resolve_user_and_group_from_files(tmp_path):
    su, sg = tmp_path / "subuid", tmp_path / "subgid"
    su.write_text("root:100000:65536\n")
    sg.write_text("root:200000:65536\n")
    m = remap.resolve("root", subuid=str(su), subgid=str(sg), create=False)
    assert m.root() == (100000, 200000) and m.user == "root" and m.group == "root"
    m = remap.resolve("0:0", subuid=str(su), subgid=str(sg), create=False)
    assert m.root() == (100000, 200000)
    with pytest.raises(remap.RemapError, match="no subordinate gid range for group 'daemon'"):
        remap.resolve("root:daemon", subuid=str(su), subgid=str(sg), create=False)
    with pytest.raises(remap.RemapError, match="user 'no-such-user-dockyard' not found"):
        remap.resolve("no-such-user-dockyard", subuid=str(su), subgid=str(sg), create=False)
    with pytest.raises(remap.RemapError, match="no subordinate uid range for user 'daemon'"):
        remap.resolve("daemon", subuid=str(su), subgid=str(sg), create=False)


def test_userns_spec_apply():
    m = remap.IdMap([(0, 100000, 65536)], [(0, 100000, 65536)])
    cfg = {"linux": {"namespaces": [{"type": "mount"}, {"type": "network"}, {"type": "pid"}, {"type": "cgroup"}],
                     "sysctl": {"net.ipv4.ping_group_range": "0 2147483647"}}}
    userns_spec.apply(cfg, {}, m)
    assert [n["type"] for n in cfg["linux"]["namespaces"]] == ["mount", "network", "pid", "user", "cgroup"]
    assert cfg["linux"]["uidMappings"] == [{"containerID": 0, "hostID": 100000, "size": 65536}]
    assert cfg["linux"]["sysctl"]["net.ipv4.ping_group_range"] == "0 65535"
    host = {"linux": {"namespaces": [{"type": "mount"}]}}
    userns_spec.apply(host, {"UsernsMode": "host", "Privileged": True, "NetworkMode": "host"}, m)
    assert host == {"linux": {"namespaces": [{"type": "mount"}]}}


@pytest.mark.parametrize("hc,message", [
    ({"Privileged": True}, "privileged mode is incompatible with user namespaces"),
    ({"NetworkMode": "host"}, "cannot share the host's network namespace"),
    ({"PidMode": "host"}, "cannot share the host PID namespace"),
])
def test_userns_spec_refuses_host_modes(hc, message):
    with pytest.raises(userns_spec.UsernsError, match=message):
        userns_spec.check(hc)


def test_file_capabilities_get_the_mapped_root():
    v2 = struct.pack("<IIIII", 0x02000001, 0x400, 0, 0, 0)  # effective flag, CAP_NET_BIND_SERVICE
    v3 = _caps_for_root(v2, 100000)
    assert struct.unpack("<IIIIII", v3) == (0x03000001, 0x400, 0, 0, 0, 100000)
    assert _caps_for_root(v3, 200000)[-4:] == struct.pack("<I", 200000)
    assert _caps_for_root(b"\x01\x00", 5) == b"\x01\x00"
