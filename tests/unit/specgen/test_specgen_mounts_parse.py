"""mounts.py: -v, --mount, HostConfig.Mounts and --tmpfs into one Mount model, with Docker's checks."""
from __future__ import annotations

import pytest

from dockyard.daemon.containers import mounts as M


@pytest.mark.parametrize("raw, want", [
    ("/h:/c", M.Mount("bind", "/c", "/h", propagation="", create_host_path=True)),
    ("/h:/c:ro", M.Mount("bind", "/c", "/h", True, create_host_path=True)),
    ("/h:/c:rw,rslave", M.Mount("bind", "/c", "/h", propagation="rslave", create_host_path=True)),
    ("/h/../x//:/c/./d/:z", M.Mount("bind", "/c/d", "/x", relabel="z", create_host_path=True)),
    ("vol:/data", M.Mount("volume", "/data", "vol")),
    ("vol:/data:ro,nocopy", M.Mount("volume", "/data", "vol", True, nocopy=True)),
    ("vol:/data:cached", M.Mount("volume", "/data", "vol", consistency="cached")),
    ("/data", M.Mount("volume", "/data", "")),
])
def test_volume_spec(raw, want):
    got = M.parse_volume_spec(raw)
    assert got == want
    assert got.raw == raw


@pytest.mark.parametrize("raw, msg", [
    ("/h:/c:rw:x", "invalid volume specification: '/h:/c:rw:x'"),
    ("/c:ro", "invalid volume specification: '/c:ro'"),
    ("/h:/c:bogus", "invalid mode: bogus"),
    ("/h:/c:ro,rw", "invalid mode: ro,rw"),
    ("/h:/c:shared,slave", "invalid mode: shared,slave"),
    ("/h:/", "invalid volume specification: '/h:/': invalid mount config for type \"bind\": "
             "invalid specification: destination can't be '/'"),
    ("/h:c", "invalid volume specification: '/h:c': invalid mount config for type \"bind\": "
             "invalid mount path: 'c' mount path must be absolute"),
    ("vol:/c:rshared", "invalid volume specification: 'vol:/c:rshared': invalid mount config for type \"volume\": "
                       "field BindOptions must not be specified"),
    ("/h:/c:nocopy", "invalid volume specification: '/h:/c:nocopy': invalid mount config for type \"bind\": "
                     "field VolumeOptions must not be specified"),
    ("a/b:/c", 'create a/b: "a/b" includes invalid characters for a local volume name'),
    ("", "invalid volume specification: ''"),
])
def test_volume_spec_errors(raw, msg):
    with pytest.raises(M.MountError) as e:
        M.parse_volume_spec(raw)
    assert str(e.value).startswith(msg)


def test_mount_flag_bind():
    m = M.parse_mount_flag("type=bind,src=/h/./x,dst=/c/,readonly,bind-propagation=rshared,bind-nonrecursive")
    assert m == M.Mount("bind", "/c", "/h/x", True, propagation="rshared", nonrecursive=True)
    assert not m.create_host_path  # --mount never creates a missing source


def test_mount_flag_volume_and_tmpfs():
    v = M.parse_mount_flag('type=volume,source=v1,target=/v,volume-nocopy,volume-driver=local,'
                           '"volume-opt=o=size=1m,uid=1",volume-opt=type=tmpfs,volume-label=a=b,ro=false')
    assert v == M.Mount("volume", "/v", "v1", nocopy=True, volume_driver="local",
                        volume_options={"o": "size=1m,uid=1", "type": "tmpfs"}, volume_labels={"a": "b"})
    t = M.parse_mount_flag("type=tmpfs,destination=/t,tmpfs-size=10m,tmpfs-mode=1770")
    assert (t.type, t.target, t.tmpfs_size, t.tmpfs_mode) == ("tmpfs", "/t", 10 << 20, 0o1770)
    anon = M.parse_mount_flag("target=/anon")  # Docker's default type is volume
    assert anon.anonymous


@pytest.mark.parametrize("value, msg", [
    ("type=bind,source=/h", "target is required"),
    ("type=bind,target=/c,volume-nocopy", "cannot mix 'volume-*' options with mount type 'bind'"),
    ("type=volume,target=/c,tmpfs-size=1m", "cannot mix 'tmpfs-*' options with mount type 'volume'"),
    ("type=bind,source=/h,target=/c,bogus=1", "unexpected key 'bogus' in 'bogus=1'"),
    ("type=bind,source=/h,target=/c,junk", "invalid field 'junk' must be a key=value pair"),
    ("type=bind,source=/h,target=/c,readonly=maybe", "invalid value for readonly: 'maybe'"),
    ("type=nfs,target=/c", 'invalid mount config for type "nfs": mount type unknown'),
    ("type=tmpfs,target=/t,tmpfs-size=lots", "invalid size: 'lots'"),
    ('type=bind,"source=/h,target=/c', "unterminated quote"),
    ("type=volume,target=/c,readonly", "must not set ReadOnly mode when using anonymous volumes"),
])
def test_mount_flag_errors(value, msg):
    with pytest.raises(M.MountError) as e:
        M.parse_mount_flag(value)
    assert msg in str(e.value)


@pytest.mark.parametrize("flag", [
    "type=bind,source=/h,target=/c,readonly,bind-propagation=rslave,bind-nonrecursive,bind-create-mountpoint",
    "type=volume,source=v1,target=/v,volume-nocopy,volume-label=x=y,volume-opt=type=tmpfs,volume-driver=local",
    "type=volume,target=/anon",
    "type=tmpfs,target=/t,tmpfs-size=1536k,tmpfs-mode=700",
])
def test_api_round_trip(flag):
    m = M.parse_mount_flag(flag)
    assert M.from_api(M.to_api(m)) == m


def test_from_api_matches_what_the_cli_sends():
    # HostConfig.Mounts as Docker CLI 28 sends them (golden "mounts" case)
    sent = [{"BindOptions": {"Propagation": "rslave"}, "ReadOnly": True, "Source": "/h", "Target": "/data",
             "Type": "bind"},
            {"Source": "vol3", "Target": "/v3", "Type": "volume",
             "VolumeOptions": {"DriverConfig": {}, "NoCopy": True}},
            {"Target": "/scratch", "TmpfsOptions": {"Mode": 1016, "SizeBytes": 10485760}, "Type": "tmpfs"},
            {"Target": "/anon", "Type": "volume"}]
    got = [M.from_api(x) for x in sent]
    assert got[0] == M.Mount("bind", "/data", "/h", True, propagation="rslave")
    assert got[1] == M.Mount("volume", "/v3", "vol3", nocopy=True)
    assert M.tmpfs_options(got[2]) == ["noexec", "nosuid", "nodev", "rprivate", "mode=1770", "size=10m"]
    assert got[3].anonymous


@pytest.mark.parametrize("obj, msg", [
    ({"Type": "volume", "Target": "/v", "BindOptions": {}}, "field BindOptions must not be specified"),
    ({"Type": "bind", "Source": "/h", "Target": "/v", "VolumeOptions": {}},
     "field VolumeOptions must not be specified"),
    ({"Type": "bind", "Target": "/v"}, 'invalid mount config for type "bind": field Source must not be empty'),
    ({"Type": "bind", "Source": "/h"}, "field Target must not be empty"),
    ({"Type": "bind", "Source": "/h", "Target": "/v", "BindOptions": {"Propagation": "up"}},
     "invalid propagation mode: up"),
    ({"Type": "tmpfs", "Target": "/t", "TmpfsOptions": {"SizeBytes": "1m"}}, "SizeBytes: expected an integer"),
    ({"Type": "volume", "Target": "/v", "Source": "v", "VolumeOptions": {"Subpath": "../x"}}, "invalid volume subpath"),
    ("bind", "expected an object"),
])
def test_from_api_errors(obj, msg):
    with pytest.raises(M.MountError) as e:
        M.from_api(obj)
    assert msg in str(e.value)


def test_tmpfs_entries():
    m = M.parse_tmpfs_entry("/cache", "rw,size=64k,mode=1777,noexec")
    # later options win over Docker's defaults for the same flag (noexec moves, rw stays)
    assert M.tmpfs_options(m) == ["nosuid", "nodev", "rprivate", "rw", "size=64k", "mode=1777", "noexec"]
    assert M.tmpfs_options(M.parse_tmpfs_entry("/run", "")) == ["noexec", "nosuid", "nodev", "rprivate"]
    assert M.tmpfs_options(M.parse_tmpfs_entry("/x", "exec,size=1m,size=2m")) == \
        ["nosuid", "nodev", "rprivate", "exec", "size=2m"]
    assert M.parse_tmpfs_flag("/run:size=1m,uid=5") == ("/run", "size=1m,uid=5")
    with pytest.raises(M.MountError, match="invalid tmpfs option \"bogus\""):
        M.parse_tmpfs_entry("/x", "bogus")
    with pytest.raises(M.MountError, match="invalid tmpfs option"):
        M.parse_tmpfs_entry("/x", "size=1m\nuid=0")
    with pytest.raises(M.MountError, match="mount path must be absolute"):
        M.parse_tmpfs_entry("x", "")


@pytest.mark.parametrize("text, n", [("512", 512), ("64k", 64 << 10), ("10m", 10 << 20), ("1.5g", 3 << 29),
                                     ("2GiB", 2 << 30), ("1 MB", 1 << 20)])
def test_parse_size(text, n):
    assert M.parse_size(text) == n
